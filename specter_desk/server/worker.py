"""The sync worker: one thread, at low priority, running syncs one at a time from a small queue.

Requests never wait for it: the worker writes through its own SQLite connection (readers keep
seeing the last committed state) and the shared index is updated under its reader-writer lock.
A failing sync is recorded in the status and the worker carries on.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from ..clock import now_iso
from ..errors import SpecterDeskError

log = logging.getLogger("specter_desk.server.sync")

# run(library, on_progress, should_stop) -> dict with added/updated/deleted/embedded/seconds
SyncRunner = Callable[[str | None, Callable[[str, int, int], None], Callable[[], bool]], dict]

RESULT_FIELDS = ("added", "updated", "deleted", "embedded", "seconds")
INDEX_REFRESH_SECONDS = 10.0


def lower_thread_priority(nice: int) -> bool:
    """Lower the calling thread's CPU priority (Linux: per thread; elsewhere not attempted)."""
    if nice <= 0 or not sys.platform.startswith("linux"):
        return False
    try:
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, current + nice))
        return True
    except OSError as exc:
        log.warning("could not lower the sync worker's priority: %s", exc)
        return False


class SyncWorker:
    """Runs syncs in a background thread; `request()` queues one and returns at once."""

    def __init__(
        self,
        run: SyncRunner,
        *,
        nice: int = 10,
        on_committed: Callable[[], None] | None = None,
        on_synced: Callable[[], None] | None = None,
    ):
        self._run = run
        self._nice = nice
        self._on_committed = on_committed
        self._on_synced = on_synced  # after a sync that finished without error (feeds)
        self._cond = threading.Condition()
        self._pending: list[str | None] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._running = False
        self._library: str | None = None
        self._stage: str | None = None
        self._progress: dict[str, int] | None = None
        self._started_at: str | None = None
        self._finished_at: str | None = None
        self._last_result: dict[str, Any] | None = None
        self._last_error: dict[str, str] | None = None
        self._last_refresh = 0.0

    # -- control ----------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="specter-desk-sync", daemon=True)
        self._thread.start()

    def stop_soon(self) -> None:
        """Ask a running sync to stop at its next transaction boundary."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop and wait; False if the sync did not finish its transaction in time."""
        self.stop_soon()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def request(self, library: str | None = None) -> dict[str, Any]:
        """Queue a sync (None = every configured library); a duplicate request is merged."""
        with self._cond:
            if library not in self._pending and None not in self._pending:
                self._pending.append(library)
            self._cond.notify_all()
            return self._status_locked()

    @property
    def busy(self) -> bool:
        with self._cond:
            return self._running or bool(self._pending)

    def status(self) -> dict[str, Any]:
        with self._cond:
            return self._status_locked()

    def _status_locked(self) -> dict[str, Any]:
        if self._running:
            state = "running"
        elif self._pending:
            state = "queued"
        elif self._last_error:
            state = "failed"
        else:
            state = "idle"
        library = (
            self._library
            if self._running
            else (self._pending[0] if self._pending else self._library)
        )
        return {
            "state": state,
            "library": library,
            "stage": self._stage if self._running else None,
            "progress": dict(self._progress) if self._progress else None,
            "started_at": self._started_at,
            "finished_at": self._finished_at,
            "last_result": self._last_result,
            "last_error": self._last_error,
        }

    # -- the thread -------------------------------------------------------------------

    def _loop(self) -> None:
        lower_thread_priority(self._nice)
        while not self._stop.is_set():
            with self._cond:
                while not self._pending and not self._stop.is_set():
                    self._cond.wait()
                if self._stop.is_set():
                    return
                library = self._pending.pop(0)
                self._running = True
                self._library = library
                self._stage = "starting"
                self._progress = None
                self._started_at = now_iso()
                self._finished_at = None
            self._run_one(library)

    def _run_one(self, library: str | None) -> None:
        started = time.perf_counter()
        result: dict[str, Any] | None = None
        error: dict[str, str] | None = None
        log.info("sync started (%s)", library or "all libraries")
        try:
            raw = self._run(library, self._progress_cb, self._stop.is_set)
            if raw.get("stopped"):
                log.info("sync stopped early (shutting down); the next sync resumes")
            result = {k: raw.get(k, 0) for k in RESULT_FIELDS}
            result["seconds"] = float(raw.get("seconds") or round(time.perf_counter() - started, 2))
            log.info("sync finished: %s", result)
        except SpecterDeskError as exc:
            error = {"code": exc.code, "message": _one_line(str(exc))}
            log.warning("sync failed: %s", error["message"])
        except Exception as exc:  # noqa: BLE001 - the daemon must outlive any sync bug
            log.exception("sync crashed")
            error = {"code": "internal", "message": _one_line(f"{type(exc).__name__}: {exc}")}
        self._refresh_index()
        if error is None and self._on_synced is not None:
            try:
                self._on_synced()
            except Exception:  # noqa: BLE001 - a failed step after sync is retried next time
                log.exception("refreshing after sync failed")
        with self._cond:
            self._running = False
            self._stage = None
            self._finished_at = now_iso()
            if error is None:
                self._last_result = result
                self._last_error = None
            else:
                self._last_error = error

    def _progress_cb(self, stage: str, done: int, total: int) -> None:
        with self._cond:
            self._stage = stage
            self._progress = {"done": int(done), "total": int(total)}
        # New vectors become searchable while a long embedding run goes on.
        due = time.monotonic() - self._last_refresh > INDEX_REFRESH_SECONDS
        if stage.startswith("embed") and due:
            self._refresh_index()

    def _refresh_index(self) -> None:
        self._last_refresh = time.monotonic()
        if self._on_committed is None:
            return
        try:
            self._on_committed()
        except Exception:  # noqa: BLE001 - a failed refresh is retried after the next sync
            log.exception("index refresh after sync failed")


def _one_line(text: str) -> str:
    return " ".join(text.split())[:500]
