"""Model downloads from the Hugging Face hub: which files, a resumable download, verification.

`huggingface_hub` does the HTTP (HF_ENDPOINT is honoured, so a mirror or a test server can
stand in for huggingface.co): each file goes to a staging folder through `hf_hub_download`,
which keeps a partial file as `.incomplete` and resumes it with a Range request, both after a
dropped connection (retried here) and on the next run after an interrupted one. Every file is
then checked against the hub's listing: sha256 for LFS files (the weights), the git blob id
for the rest. Nothing is installed until every file of every repository checks out.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ModelDownloadError

DEFAULT_ENDPOINT = "https://huggingface.co"
ATTEMPTS = 4  # per file; each attempt resumes where the last one stopped
RETRY_WAIT = 1.0  # seconds before the 2nd attempt, doubling (tests set 0)
# What a model folder needs: config, tokenizer, one weights format. Hub repos also hold
# README files, other frameworks' weights (TF, Flax, ONNX, ...) and sentence-transformers
# extras that we never load.
SKIPPED_SUFFIXES = (".md", ".h5", ".msgpack", ".ot", ".onnx", ".tflite", ".mlmodel", ".gguf")
SKIPPED_NAMES = {".gitattributes", "LICENSE", "LICENSE.txt", "NOTICE"}
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RemoteFile:
    """One file of a hub repository and where it goes in the installed folder."""

    repo: str
    name: str  # path in the repository
    folder: str  # "" for the base model, the adapter's name for an adapter
    size: int
    sha256: str | None = None  # LFS files
    blob_id: str | None = None  # git blob sha1 (every file)

    @property
    def dest(self) -> str:
        return f"{self.folder}/{self.name}" if self.folder else self.name


@dataclass
class RepoPlan:
    """What to fetch from one repository at one commit."""

    repo: str
    folder: str
    revision: str
    files: list[RemoteFile] = field(default_factory=list)


def endpoint() -> str:
    """The hub to download from: $HF_ENDPOINT (a mirror, a test server) or huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def hub_offline() -> bool:
    """Whether HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE, as huggingface_hub reads it) forbids
    talking to the hub, read now: not only when huggingface_hub was imported."""
    return any(
        os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
        for name in OFFLINE_VARIABLES
    )


def wanted_files(names: Iterable[str]) -> list[str]:
    """The top-level files a model folder needs: one weights format (safetensors over .bin)."""
    names = [n for n in names if "/" not in n]
    safetensors = any(n.startswith("model") and n.endswith(".safetensors") for n in names)
    keep = []
    for name in names:
        if name in SKIPPED_NAMES or name.lower().endswith(SKIPPED_SUFFIXES):
            continue
        if safetensors and name.startswith("pytorch_model") and name.endswith((".bin", ".json")):
            continue  # the same weights twice
        keep.append(name)
    return sorted(keep)


def git_blob_id(path: Path) -> str:
    """The git object id of a file (sha1 of 'blob SIZE\\0' + content), as the hub lists it."""
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode(), usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def check_file(path: Path, size: int, sha256: str | None, blob_id: str | None) -> str | None:
    """None when the file matches the expected size and hash, else what differs."""
    if not path.is_file():
        return "missing"
    actual = path.stat().st_size
    if actual != size:
        return f"{actual} bytes, expected {size}"
    if sha256:
        found = sha256_of(path)
        return None if found == sha256 else f"sha256 {found[:12]}..., expected {sha256[:12]}..."
    if blob_id:
        found = git_blob_id(path)
        return None if found == blob_id else f"git id {found[:12]}..., expected {blob_id[:12]}..."
    return None


def plan_repo(repo: str, folder: str, revision: str = "main") -> RepoPlan:
    """List a repository (sizes and hashes) and pick the files a model folder needs."""
    from huggingface_hub import HfApi

    try:
        info = HfApi(endpoint=endpoint()).model_info(repo, revision=revision, files_metadata=True)
    except Exception as exc:  # noqa: BLE001 - every hub failure becomes one message
        raise _hub_error(repo, exc) from exc
    siblings = {s.rfilename: s for s in info.siblings or []}
    files = []
    for name in wanted_files(siblings):
        sibling = siblings[name]
        files.append(
            RemoteFile(
                repo=repo,
                name=name,
                folder=folder,
                size=int(sibling.lfs.size if sibling.lfs else sibling.size or 0),
                sha256=sibling.lfs.sha256 if sibling.lfs else None,
                blob_id=sibling.blob_id,
            )
        )
    if not any(f.name in ("config.json", "adapter_config.json") for f in files):
        raise ModelDownloadError(f"{repo} on {endpoint()} has no config.json: not a model")
    return RepoPlan(repo, folder, str(info.sha or revision), files)


def download_repos(
    plans: list[RepoPlan], staging: Path, on_progress: Progress | None = None
) -> None:
    """Fetch every planned file into staging (resuming partial files), then verify each."""
    total = sum(f.size for p in plans for f in p.files)
    done = 0
    watcher = _PartialWatcher(staging, total, on_progress)
    with watcher, _quiet_hub():
        for plan in plans:
            local_dir = staging / plan.folder if plan.folder else staging
            for file in plan.files:
                watcher.base = done
                _fetch(plan, file, local_dir)
                problem = check_file(local_dir / file.name, file.size, file.sha256, file.blob_id)
                if problem:
                    _forget(local_dir, file.name)
                    raise ModelDownloadError(
                        f"{file.name} from {file.repo} failed verification ({problem}); it was "
                        "deleted: run the command again to download it again"
                    )
                done += file.size
                watcher.base = done
    if on_progress:
        on_progress(total, total)


def _fetch(plan: RepoPlan, file: RemoteFile, local_dir: Path) -> None:
    """One file through hf_hub_download, retried (and so resumed) after a dropped connection."""
    import requests
    from huggingface_hub import hf_hub_download

    for attempt in range(ATTEMPTS):
        try:
            hf_hub_download(
                plan.repo,
                file.name,
                revision=plan.revision,
                local_dir=local_dir,
                endpoint=endpoint(),
            )
            return
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            if attempt == ATTEMPTS - 1:
                have = _partial_bytes(local_dir)
                raise ModelDownloadError(
                    f"the download of {file.name} from {file.repo} keeps breaking off "
                    f"({type(exc).__name__}; {have / 2**20:.0f} of {file.size / 2**20:.0f} MB "
                    "kept): run the command again to resume where it stopped"
                ) from exc
            time.sleep(min(RETRY_WAIT * 2.0**attempt, 8.0))
        except Exception as exc:  # noqa: BLE001 - every hub failure becomes one message
            raise _hub_error(file.repo, exc) from exc


def _hub_error(repo: str, exc: Exception) -> ModelDownloadError:
    from huggingface_hub import errors

    where = endpoint()
    if isinstance(exc, errors.OfflineModeIsEnabled):
        return ModelDownloadError(
            "HF_HUB_OFFLINE is set, so nothing can be downloaded: unset it, or install from a "
            "copy with `specter-desk model download NAME --from DIR`"
        )
    if isinstance(exc, errors.RepositoryNotFoundError):
        return ModelDownloadError(f"{where} has no repository {repo} (or it is private)")
    if isinstance(exc, errors.RevisionNotFoundError | errors.EntryNotFoundError):
        return ModelDownloadError(f"{repo} on {where}: {str(exc).splitlines()[0]}")
    if isinstance(exc, ModelDownloadError):
        return exc
    return ModelDownloadError(
        f"cannot download {repo} from {where} ({type(exc).__name__}); check the network "
        "(or HF_ENDPOINT), or install from a copy with `specter-desk model download NAME "
        "--from DIR`"
    )


def _forget(local_dir: Path, name: str) -> None:
    """Delete a downloaded file and huggingface_hub's note of it, so it is fetched again."""
    (local_dir / name).unlink(missing_ok=True)
    for meta in (local_dir / ".cache" / "huggingface" / "download").glob(f"{name}.*"):
        meta.unlink(missing_ok=True)


def _partial_bytes(local_dir: Path) -> int:
    """Bytes held in partial (.incomplete) files under a download folder."""
    total = 0
    for path in local_dir.rglob("*.incomplete"):
        try:
            total += path.stat().st_size
        except OSError:
            continue
    return total


class _PartialWatcher:
    """Reports bytes done (finished files + partial files) a few times a second."""

    def __init__(self, staging: Path, total: int, on_progress: Progress | None):
        self.staging = staging
        self.total = total
        self.on_progress = on_progress
        self.base = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _PartialWatcher:
        if self.on_progress is not None:
            self._thread = threading.Thread(target=self._run, daemon=True, name="download-watch")
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            partial = _partial_bytes(self.staging) if self.staging.exists() else 0
            self.on_progress(min(self.total, self.base + partial), self.total)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


class _quiet_hub:
    """huggingface_hub's own tqdm bars off (ours is the progress bar), restored after."""

    def __enter__(self) -> None:
        from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars

        self.was_disabled = are_progress_bars_disabled()
        disable_progress_bars()

    def __exit__(self, *exc: object) -> None:
        from huggingface_hub.utils import enable_progress_bars

        if not self.was_disabled:
            enable_progress_bars()
