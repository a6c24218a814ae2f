"""Find a model's files in a local copy (a USB stick, another machine's folders), no network.

Three kinds of copy are understood, with the hashes each one carries:
- a folder made by `specter-desk model download` (its manifest has every file's sha256);
- a Hugging Face cache (``models--ORG--NAME/snapshots/COMMIT/``, where each file links to a
  blob named by its sha256 or git id);
- plain model folders (`huggingface-cli download REPO --local-dir DIR`): the base model in DIR
  (or DIR/<repo name>), adapters in DIR/<adapter name> or DIR/<repo name>; hashes come from the
  `.cache/huggingface/download/*.metadata` notes that the hub client leaves there, if any.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from .hub import wanted_files

MANIFEST = "specter-desk-model.json"  # in every installed model folder (see installed.py)
SHA256 = re.compile(r"^[0-9a-f]{64}$")
GIT_ID = re.compile(r"^[0-9a-f]{40}$")


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """A model folder's manifest, or None when it has no readable one."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("files"), dict) else None


@dataclass
class LocalFile:
    path: Path
    dest: str
    size: int
    sha256: str | None = None
    blob_id: str | None = None


@dataclass
class LocalCopy:
    files: list[LocalFile] = field(default_factory=list)
    revisions: dict[str, str] = field(default_factory=dict)
    checked_with: str = "sha256 from the copy's manifest"


def find_copy(source: Path, install_name: str, repos: list[tuple[str, str]]) -> LocalCopy:
    """The files to install for install_name from source, with what to check them against."""
    for folder in (source, source / install_name):
        manifest = read_manifest(folder)
        if manifest is not None and manifest.get("model") == install_name:
            return _from_manifest(folder, manifest)
    copy = LocalCopy(checked_with="hub checksums kept in the copy")
    unhashed = 0
    for repo, folder in repos:
        where, revision, hashes = _find_repo(source, repo, folder)
        names = wanted_files(p.name for p in where.iterdir() if p.is_file())
        if not any(n in ("config.json", "adapter_config.json") for n in names):
            raise InputError(f"--from {source}: {where} has no config.json; not a model folder")
        for name in names:
            path = where / name
            expected = hashes.get(name) or _blob_name(path)
            copy.files.append(
                LocalFile(
                    path=path,
                    dest=f"{folder}/{name}" if folder else name,
                    size=path.stat().st_size,
                    sha256=expected if expected and SHA256.match(expected) else None,
                    blob_id=expected if expected and GIT_ID.match(expected) else None,
                )
            )
            unhashed += expected is None
        copy.revisions[repo] = revision
    if unhashed:
        copy.checked_with = (
            f"nothing: {unhashed} of {len(copy.files)} files came without a checksum "
            "(their sha256 is recorded now)"
        )
    return copy


def _from_manifest(folder: Path, manifest: dict) -> LocalCopy:
    copy = LocalCopy(revisions=dict(manifest.get("revisions") or {}))
    for rel, meta in sorted(manifest["files"].items()):
        path = folder / rel
        if not path.is_file():
            raise InputError(f"--from {folder}: {rel} is listed in {MANIFEST} but missing")
        copy.files.append(LocalFile(path, rel, int(meta["size"]), sha256=meta.get("sha256")))
    return copy


def _find_repo(source: Path, repo: str, folder: str) -> tuple[Path, str, dict[str, str]]:
    """(folder holding repo's files, commit or 'unknown', {file: expected hash})."""
    cached = _hf_cache_snapshot(source, repo)
    if cached is not None:
        return cached, cached.name, {}
    short = repo.split("/")[-1]
    candidates = [source / folder] if folder else [source]
    candidates += [source / short, source / repo.replace("/", "--"), source / repo]
    for where in candidates:
        config = "adapter_config.json" if folder else "config.json"
        if (where / config).is_file():
            return where, *_local_dir_notes(where)
    looked = ", ".join(str(c) for c in candidates)
    raise InputError(
        f"--from {source}: no copy of {repo} found (looked in {looked} and for a Hugging Face "
        f"cache folder models--{repo.replace('/', '--')})"
    )


def _hf_cache_snapshot(source: Path, repo: str) -> Path | None:
    name = "models--" + repo.replace("/", "--")
    for root in (source, source / "hub", source / "huggingface" / "hub"):
        base = root / name
        if not (base / "snapshots").is_dir():
            continue
        ref = base / "refs" / "main"
        if ref.is_file():
            snapshot = base / "snapshots" / ref.read_text(encoding="utf-8").strip()
            if snapshot.is_dir():
                return snapshot
        snapshots = [p for p in (base / "snapshots").iterdir() if p.is_dir()]
        if len(snapshots) == 1:
            return snapshots[0]
    return None


def _blob_name(path: Path) -> str | None:
    """In a Hugging Face cache a file links to blobs/<its hash>."""
    if path.is_symlink():
        target = path.resolve().name
        if SHA256.match(target) or GIT_ID.match(target):
            return target
    return None


def _local_dir_notes(where: Path) -> tuple[str, dict[str, str]]:
    """(commit, {file: etag}) from the notes `huggingface-cli download --local-dir` leaves."""
    notes = where / ".cache" / "huggingface" / "download"
    hashes: dict[str, str] = {}
    revision = "unknown"
    for meta in notes.glob("*.metadata") if notes.is_dir() else ():
        lines = meta.read_text(encoding="utf-8", errors="replace").splitlines()
        if len(lines) >= 2:
            hashes[meta.name.removesuffix(".metadata")] = lines[1].strip().strip('"')
            revision = lines[0].strip() or revision
    return revision, hashes
