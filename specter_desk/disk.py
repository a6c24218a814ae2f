"""Files and folders specter-desk owns (index, config, token, shards): folders created with a
one-line error when they cannot be, files written atomically and durably."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from .errors import StoreError

HOME_ENV = "SPECTER_DESK_HOME"
TEMP_MARK = ".tmp-"  # .{name}.tmp-{pid}: a file being written
PRIVATE = 0o600  # the user's library, index, token, logs: nobody else reads them
SHARED = 0o644  # a corpus embedding (public papers) others on the machine may read
PRIVATE_DIR = 0o700


def make_private(*paths: Path) -> None:
    """Take group and other permissions off files we own (ones an older version made
    world-readable); missing files are skipped."""
    for path in paths:
        try:
            if path.stat().st_mode & 0o077:
                path.chmod(PRIVATE)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise cannot_write(path, exc) from exc


def ensure_dir(directory: Path, mode: int = PRIVATE_DIR) -> Path:
    """Create a folder we keep files in (only its owner may enter it, unless mode says
    otherwise); StoreError (one line, exit 5) when it cannot be."""
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=mode)
    except OSError as exc:
        raise StoreError(
            f"cannot use {directory} as a folder ({exc.strerror or exc}); point "
            f"{HOME_ENV} (or the path in your config) at a folder you can write to"
        ) from exc
    return directory


def write_atomic(path: Path, data: bytes, mode: int = PRIVATE) -> None:
    """Write a file we own: temp file, fsync, os.replace, fsync the directory. A file that
    cannot be written (full disk, read-only folder) is a StoreError and the old one stays."""
    tmp = write_temp(path, data, mode)
    try:
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise cannot_write(path, exc) from exc
    fsync_dir(path.parent)


def write_temp(path: Path, data: bytes, mode: int = PRIVATE) -> Path:
    """Write data, fsynced, to the temp file that will replace path; returns the temp file.
    StoreError (and no temp file left) when it cannot be written."""
    ensure_dir(path.parent)
    tmp = temp_path(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise cannot_write(path, exc) from exc
        raise
    return tmp


def temp_path(path: Path) -> Path:
    """Where a file of ours is written before it replaces path (named by this process)."""
    return path.with_name(f".{path.name}{TEMP_MARK}{os.getpid()}")


def cannot_write(path: Path, exc: OSError) -> StoreError:
    """The one-line error for a file of ours that could not be written."""
    why = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        why += "; free some space"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why += f"; point {HOME_ENV} (or the path in your config) at a folder you can write to"
    return StoreError(f"cannot write {path} ({why}); what was there before is kept")


def remove_stale_temps(directory: Path) -> list[Path]:
    """Delete the temp files (.NAME.tmp-PID) that a process which no longer runs left behind
    when it was killed mid-save; a running process's are left to it. Returns what went."""
    import psutil

    removed = []
    try:
        names = [p for p in directory.iterdir() if p.name.startswith(".") and TEMP_MARK in p.name]
    except OSError:
        return removed
    for path in names:
        pid = path.name.rsplit(TEMP_MARK, 1)[1]
        if not pid.isdigit() or int(pid) == os.getpid() or psutil.pid_exists(int(pid)):
            continue
        try:
            path.unlink()
            removed.append(path)
        except OSError:
            continue
    return removed


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
