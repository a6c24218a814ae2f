"""Files and folders specter-desk owns (index, config, token, shards): folders created with a
one-line error when they cannot be, files written atomically and durably."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import StoreError


def ensure_dir(directory: Path) -> Path:
    """Create a folder we keep files in; StoreError (one line, exit 5) when it cannot be."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot use {directory} as a folder ({exc.strerror or exc}); point "
            "SPECTER_DESK_HOME (or the path in your config) at a folder you can write to"
        ) from exc
    return directory


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write a file we own: temp file, fsync, os.replace, fsync the directory."""
    ensure_dir(path.parent)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """fsync a directory so a rename in it is durable (no-op where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
