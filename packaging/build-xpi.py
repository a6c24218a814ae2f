#!/usr/bin/env python3
"""Build dist/specter-desk.xpi from bridge/, reproducibly: same sources -> same bytes.

Files go in sorted order with a fixed timestamp (SOURCE_DATE_EPOCH, default 1980-01-01),
fixed permissions and fixed compression. Before writing, the build checks that every file
it packs is referenced by another packed file (or is a Zotero entry point) and that every
file the plugin references is packed; a problem fails the build.

Next to the .xpi it writes updates.json, the update manifest Zotero reads from the
manifest's update_url: this version, its download link and sha256, and the Zotero versions it
declares. Publishing it again with a wider --max-version (once a Zotero release is
feature-frozen) makes installed copies compatible without a new .xpi.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BRIDGE = ROOT / "bridge"
ENTRY_POINTS = {"manifest.json", "bootstrap.js", "prefs.js"}  # Zotero loads these by name
TOP_FILES = ["manifest.json", "bootstrap.js", "prefs.js", "prefs.xhtml"]
TREES = ["content", "locale"]
TEXT_SUFFIXES = {".js", ".json", ".xhtml", ".css", ".ftl", ".svg"}


def plugin_files(src: Path) -> list[str]:
    """The plugin's files, relative to src, sorted."""
    files = [name for name in TOP_FILES if (src / name).is_file()]
    for tree in TREES:
        files += [
            p.relative_to(src).as_posix()
            for p in (src / tree).rglob("*")
            if p.is_file() and not p.name.startswith(".")
        ]
    return sorted(files)


def reference_problems(src: Path, files: list[str]) -> list[str]:
    """Packed files nothing refers to, and referenced files that are not packed."""
    texts = {
        name: (src / name).read_text(encoding="utf-8")
        for name in files
        if Path(name).suffix in TEXT_SUFFIXES
    }
    problems = []
    for name in files:
        if name in ENTRY_POINTS:
            continue
        path = Path(name)
        needles = {name, path.name}
        if name.startswith("content/"):
            needles.add(name.removeprefix("content/"))
        if not any(
            other != name and any(n in text for n in needles) for other, text in texts.items()
        ):
            problems.append(f"{name} is packed but nothing refers to it")
    packed = set(files)
    wanted: set[str] = set()
    for text in texts.values():
        wanted.update(re.findall(r"(?<![\w/])(content/[\w./-]+\.\w+)", text))
        wanted.update(
            "content/" + m for m in re.findall(r"chrome://specter-desk/content/([\w./-]+)", text)
        )
        wanted.update("locale/en-US/" + m for m in re.findall(r"""["']([\w-]+\.ftl)["']""", text))
    bootstrap = texts.get("bootstrap.js", "")
    scripts = re.search(r"SD_SCRIPTS\s*=\s*\[(.*?)\]", bootstrap, re.S)
    if scripts:
        wanted.update("content/" + m for m in re.findall(r'"([\w.-]+\.js)"', scripts.group(1)))
    problems += [f"{name} is referenced but not packed" for name in sorted(wanted - packed)]
    return problems


def build(src: Path, out: Path, epoch: int) -> Path:
    """Write the xpi and return its path."""
    files = plugin_files(src)
    problems = reference_problems(src, files)
    if problems:
        raise SystemExit("build-xpi: " + "; ".join(problems))
    json.loads((src / "manifest.json").read_text(encoding="utf-8"))  # must parse
    stamp = time.gmtime(max(epoch, 315532800))[:6]  # zip cannot go before 1980
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w") as archive:
        for name in files:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            archive.writestr(info, (src / name).read_bytes(), compresslevel=9)
    os.replace(tmp, out)
    return out


DOWNLOADS = "https://github.com/specter-desk/specter-desk/releases/download/v{version}/"


def update_manifest(xpi: Path, link: str, max_version: str | None = None) -> dict:
    """The update manifest (updates.json) entry for this build of the plugin."""
    with zipfile.ZipFile(xpi) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    zotero = manifest["applications"]["zotero"]
    return {
        "addons": {
            zotero["id"]: {
                "updates": [
                    {
                        "version": manifest["version"],
                        "update_link": link,
                        "update_hash": "sha256:" + hashlib.sha256(xpi.read_bytes()).hexdigest(),
                        "applications": {
                            "zotero": {
                                "strict_min_version": zotero["strict_min_version"],
                                "strict_max_version": max_version or zotero["strict_max_version"],
                            }
                        },
                    }
                ]
            }
        }
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=BRIDGE, help="plugin folder (bridge/)")
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "specter-desk.xpi")
    parser.add_argument(
        "--max-version",
        help="strict_max_version for updates.json (default: the manifest's), e.g. 11.0.* once "
        "Zotero 11 is feature-frozen",
    )
    parser.add_argument(
        "--download", default=DOWNLOADS, help="where the .xpi is published ({version} expands)"
    )
    args = parser.parse_args(argv)
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))
    path = build(args.src, args.out, epoch)
    with zipfile.ZipFile(path) as archive:
        count = len(archive.namelist())
        version = json.loads(archive.read("manifest.json"))["version"]
    link = args.download.format(version=version).rstrip("/")
    if args.download.endswith("/"):
        link += "/" + path.name
    updates = path.with_name("updates.json")
    manifest = update_manifest(path, link, args.max_version)
    updates.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"{path} ({count} files, {path.stat().st_size} bytes); {updates}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
