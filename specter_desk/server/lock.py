"""One daemon per data dir: an OS file lock plus a small file saying who holds it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from ..clock import now_iso
from ..disk import cannot_write, ensure_dir, write_atomic
from ..errors import DaemonRunningError

LOCK_FILE = "serve.lock"
OWNER_FILE = "serve.json"


class DaemonLock:
    """An exclusive lock on the data dir, released by the OS if the process dies."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self._lock = FileLock(str(data_dir / LOCK_FILE))

    @property
    def owner_path(self) -> Path:
        return self.data_dir / OWNER_FILE

    def acquire(self, **owner: Any) -> None:
        """Take the lock without waiting and record our pid; raises DaemonRunningError."""
        ensure_dir(self.data_dir)
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise DaemonRunningError(self._held_message()) from None
        except OSError as exc:
            raise cannot_write(self.data_dir / LOCK_FILE, exc) from exc
        info = {"pid": os.getpid(), "started_at": now_iso(), **owner}
        write_atomic(self.owner_path, json.dumps(info).encode(), mode=0o600)

    def held_elsewhere(self) -> bool:
        """True when another process holds the lock (probes without keeping it)."""
        if not (self.data_dir / LOCK_FILE).exists():
            return False
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            return True
        self._lock.release()
        return False

    def release(self) -> None:
        """Drop the lock and the owner file."""
        if self._lock.is_locked:
            self.owner_path.unlink(missing_ok=True)
            self._lock.release()

    def _held_message(self) -> str:
        owner = read_owner(self.data_dir)
        who = "another process"
        if owner:
            who = f"pid {owner.get('pid')}"
            if owner.get("port"):
                who += f" (serving http://{owner.get('host')}:{owner.get('port')})"
            if owner.get("started_at"):
                who += f", started {owner['started_at']}"
        return (
            f"specter-desk serve is already running for {self.data_dir}: {who}; "
            "stop it first (kill that pid, or `specter-desk service uninstall` if it runs as a "
            "service) or set SPECTER_DESK_HOME to another data dir"
        )


def read_owner(data_dir: Path) -> dict[str, Any] | None:
    """What the running daemon wrote about itself, if anything."""
    try:
        return json.loads((data_dir / OWNER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
