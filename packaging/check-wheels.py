#!/usr/bin/env python3
"""Check that `pip install specter-desk` needs no compiler where Zotero users are.

For every platform (Windows x64, macOS arm64 and x86_64, Linux x86_64) and Python (3.11-3.13)
pip resolves the package's dependencies (pyproject.toml, plus --extras) with
`--only-binary=:all: --platform P --python-version V`: a dependency that has no wheel for a
platform, or whose dependencies have none, fails that cell. Only the package index is needed.

By default pip runs `install --dry-run --report` (the same resolver and flags as `pip download`,
but it reads each wheel's metadata instead of fetching the wheel: torch alone is several GB
per cell); `--download` runs the literal `pip download` into a temporary folder.

pip evaluates environment markers (`platform_system == "Linux"`, ...) for the machine it runs
on even with --platform, so torch would ask for Linux's CUDA libraries on every platform: pip
runs here with its marker environment set to the target's (the packaging module pip vendors),
the rest is pip as it ships. Config files and PIP_* variables are ignored: PyPI as a user sees
it.

A dependency published only as an sdist is no problem when it is pure Python (pip builds it
anywhere, no compiler): such an sdist is built here once, the result must be a
`py3-none-any` wheel, and the cell is resolved again with it (`--find-links`). An sdist that
builds into a platform wheel fails the cell.

    python packaging/check-wheels.py                 # the whole matrix; exit 1 if a cell fails
    python packaging/check-wheels.py --platforms win_amd64 --pythons 3.13 --json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import tomllib
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# pip widens a macOS tag to older macOS versions itself, but not a manylinux_2_28 tag to older
# glibc versions: TAGS lists those (wheels built for glibc 2.17 run on 2.28)
PLATFORMS = {
    "win_amd64": "Windows x64",
    "macosx_14_0_arm64": "macOS arm64",
    "macosx_14_0_x86_64": "macOS x86_64",
    "manylinux_2_28_x86_64": "Linux x86_64",
}
TAGS = {
    "manylinux_2_28_x86_64": [
        *(f"manylinux_2_{minor}_x86_64" for minor in range(28, 16, -1)),
        "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64",
    ],
}  # fmt: skip
# the marker environment of each platform (PEP 508)
MARKERS = {
    "win_amd64": {"os_name": "nt", "sys_platform": "win32", "platform_system": "Windows",
                  "platform_machine": "AMD64"},
    "macosx_14_0_arm64": {"os_name": "posix", "sys_platform": "darwin",
                          "platform_system": "Darwin", "platform_machine": "arm64"},
    "macosx_14_0_x86_64": {"os_name": "posix", "sys_platform": "darwin",
                           "platform_system": "Darwin", "platform_machine": "x86_64"},
    "manylinux_2_28_x86_64": {"os_name": "posix", "sys_platform": "linux",
                              "platform_system": "Linux", "platform_machine": "x86_64"},
}  # fmt: skip
# pip, with the markers of the target: argv[1] is the environment, the rest pip's arguments
PIP_FOR_TARGET = """
import json, sys
from pip._vendor.packaging import markers
target = json.loads(sys.argv[1])
here = markers.default_environment()
markers.default_environment = lambda: {**here, **target}
from pip._internal.cli.main import main
sys.exit(main(sys.argv[2:]))
"""
PYTHONS = ("3.11", "3.12", "3.13")
# Gaps no packaging of ours can close, reported (and the rest of the cell still checked)
# without failing the check; a gap that closes is reported too.
KNOWN_GAPS = {
    ("macosx_14_0_x86_64", "torch"): (
        "PyTorch publishes no Intel-Mac wheel after 2.2.2, and transformers 4.57 reads .bin "
        "weights (SPECTER2's) only with torch >= 2.6 (CVE-2025-32434)"
    ),
}
BUILD_LOCK = threading.Lock()
PIP_ARGS: list[str] = []  # more pip arguments for every cell (--pip-arg), e.g. a mirror
MISSING = re.compile(r"No matching distribution found for (\S+)")


def requirements(extras: list[str]) -> list[str]:
    """The package's dependencies and those of the named extras, from pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found = list(project["dependencies"])
    for extra in extras:
        found += project.get("optional-dependencies", {}).get(extra, [])
    return found


def pip_command(mode: str, platform: str, python: str, target: Path, wheels: Path) -> list[str]:
    """pip download (or install --dry-run --report) for one cell, markers set for it."""
    environment = {
        **MARKERS[platform],
        "python_version": python,
        "python_full_version": f"{python}.0",
        "implementation_name": "cpython",
        "implementation_version": f"{python}.0",
        "platform_python_implementation": "CPython",
    }
    tags = [arg for tag in TAGS.get(platform, [platform]) for arg in ("--platform", tag)]
    common = [
        "--only-binary=:all:",
        *tags,
        "--python-version", python,
        "--implementation", "cp",
        "--find-links", str(wheels),
        "--disable-pip-version-check",
        "--quiet",
        *PIP_ARGS,
    ]  # fmt: skip
    if mode == "download":
        args = ["download", *common, "-d", str(target)]
    else:
        args = ["install", "--dry-run", "--ignore-installed", "--target", str(target),
                "--report", str(target / "report.json"), *common]  # fmt: skip
    return [sys.executable, "-c", PIP_FOR_TARGET, json.dumps(environment), *args]


def pip_env() -> dict[str, str]:
    """This environment without pip's config files and PIP_* variables (PyPI as users see it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def pure_python_wheel(requirement: str, wheels: Path) -> str | None:
    """Build an sdist-only requirement here; its wheel's name when it is py3-none-any."""
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-binary=:all:", "--quiet",
             "--disable-pip-version-check", "-w", tmp, requirement],
            capture_output=True, text=True, check=False, timeout=900, env=pip_env(),
        )  # fmt: skip
        built = sorted(Path(tmp).glob("*.whl"))
        if result.returncode != 0 or not built:
            return None
        if not all(w.name.endswith("-none-any.whl") for w in built):
            return None  # it compiles something: a compiler would be needed
        for wheel in built:  # another cell may have built it already: same bytes, same name
            shutil.copyfile(wheel, wheels / wheel.name)
        return built[0].name


def stub_wheel(name: str, folder: Path) -> None:
    """An empty wheel standing in for a known gap, so what depends on it still resolves."""
    dist = f"{name.replace('-', '_')}-999.0"
    with zipfile.ZipFile(folder / f"{dist}-py3-none-any.whl", "w") as whl:
        whl.writestr(f"{dist}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\n"
                     "Version: 999.0\n")  # fmt: skip
        whl.writestr(f"{dist}.dist-info/WHEEL", "Wheel-Version: 1.0\nTag: py3-none-any\n")
        whl.writestr(f"{dist}.dist-info/RECORD", "")


def requirement_name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower()


def check(mode: str, platform: str, python: str, reqs: list[str], wheels: Path) -> dict:
    """One cell: ok with the resolved packages (and any pure-Python sdists built), or the
    requirement that has no wheel; a known gap is left out and the rest checked."""
    gaps = {name: why for (where, name), why in KNOWN_GAPS.items() if where == platform}
    cell = resolve(mode, platform, python, reqs, wheels)
    if cell["ok"] or not gaps:
        cell["gap"] = None
        return cell
    # the gap's package (asked for directly or by a dependency) is stood in for by a stub
    rest = [r for r in reqs if requirement_name(r) not in gaps]
    with tempfile.TemporaryDirectory() as stubs:
        for name in gaps:
            stub_wheel(name, Path(stubs))
        cell = resolve(mode, platform, python, rest, wheels, extra=["--find-links", stubs])
    for name in gaps:
        cell.get("packages", {}).pop(name, None)
    cell["gap"] = "; ".join(f"{name}: {why}" for name, why in gaps.items())
    return cell


def resolve(
    mode: str, platform: str, python: str, reqs: list[str], wheels: Path, extra: list[str] = ()
) -> dict:
    """pip's resolution of reqs for one cell, building pure-Python sdists as needed."""
    cell: dict = {"platform": platform, "python": python, "built_here": []}
    tried: set[str] = set()
    while True:
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp)
            cmd = [*pip_command(mode, platform, python, target, wheels), *extra, *reqs]
            result = subprocess.run(
                cmd, capture_output=True, text=True, check=False, timeout=1800, env=pip_env()
            )
            if result.returncode == 0:
                cell["ok"] = True
                report = target / "report.json"
                if report.exists():
                    installs = json.loads(report.read_text())["install"]
                    cell["packages"] = {
                        i["metadata"]["name"].lower(): i["metadata"]["version"] for i in installs
                    }
                return cell
        missing = MISSING.findall(result.stderr)
        requirement = missing[0] if missing else None
        if requirement and requirement not in tried:
            tried.add(requirement)
            with BUILD_LOCK:  # one build per requirement, shared by every cell
                wheel = pure_python_wheel(requirement, wheels)
            if wheel:
                cell["built_here"].append(wheel)
                continue
        cell["ok"] = False
        cell["missing"] = missing or None
        lines = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
        cell["error"] = " ".join(lines)[-400:] or result.stderr.strip()[-400:]
        return cell


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platforms", default=",".join(PLATFORMS))
    parser.add_argument("--pythons", default=",".join(PYTHONS))
    parser.add_argument("--extras", default="minilm", help="extras to include (comma list)")
    parser.add_argument("--download", action="store_true", help="run `pip download` itself")
    parser.add_argument("--jobs", type=int, default=4, help="cells resolved at once")
    parser.add_argument("--json", action="store_true", help="print the cells as JSON")
    parser.add_argument(
        "--pip-arg", action="append", default=[], help="pass to pip (repeat): --index-url=URL"
    )
    args = parser.parse_args(argv)
    PIP_ARGS[:] = args.pip_arg
    reqs = requirements([e for e in args.extras.split(",") if e])
    cells = [(p, v) for p in args.platforms.split(",") for v in args.pythons.split(",")]
    mode = "download" if args.download else "dry-run"
    with tempfile.TemporaryDirectory() as wheels, ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda c: check(mode, c[0], c[1], reqs, Path(wheels)), cells))
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        print(f"{len(reqs)} requirements ({mode}, --only-binary=:all:)")
        for cell in results:
            name = PLATFORMS.get(cell["platform"], cell["platform"])
            where = f"{name:<13} Python {cell['python']}"
            if not cell["ok"]:
                what = ", ".join(cell["missing"] or []) or cell["error"]
                print(f"  FAIL  {where}  no wheel: {what}")
                continue
            built = ", ".join(cell["built_here"])
            note = f"; pure-Python sdists built here: {built}" if built else ""
            if cell["gap"]:
                print(f"  gap   {where}  everything else has wheels{note}; {cell['gap']}")
            else:
                torch = cell.get("packages", {}).get("torch", "?")
                print(f"  ok    {where}  (torch {torch}{note})")
    return 0 if all(c["ok"] for c in results) else 1


if __name__ == "__main__":
    sys.exit(main())
