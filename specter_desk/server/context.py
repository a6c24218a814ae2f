"""What the bridge's routes work on: one Desk, the sync worker, per-thread readers, a worker
process for slow work and the answers it made."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from anyio import CapacityLimiter

from ..desk import Desk
from ..services.works import Works
from .slow_work import ReportCache, SlowWork, WorksCache
from .worker import SyncWorker

QUICK_READERS = 2


@dataclass
class BridgeContext:
    """What the routes work on: one Desk, the sync worker, a reader per request thread, a
    worker process for slow work and a cache of its answers.

    No request waits on another: each request thread reads through its own store
    connection (a sibling of `desk` sharing its encoders and indexes; SQLite in WAL mode
    lets readers run beside each other and beside the worker's writes), an index is
    searched under its own reader-writer lock, and work that takes seconds (duplicates
    over the whole library) runs in a worker process (slow_work.py): in a thread it would
    hold the daemon's GIL, and the other routes would wait for it in turn.
    """

    desk: Desk
    worker: SyncWorker | None = None
    log_file: Path | None = None
    slow: SlowWork = field(default_factory=SlowWork)
    reports: ReportCache | None = None  # made on first use, on the Desk's store
    works_map: WorksCache | None = None  # likewise
    _quick: CapacityLimiter | None = field(default=None, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _readers: list[Desk] = field(default_factory=list, repr=False)
    _readers_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reader(self) -> Desk:
        """This thread's Desk: its own store connection, the shared encoders and indexes."""
        desk = getattr(self._local, "desk", None)
        if desk is None:
            desk = self._local.desk = self.desk.sibling()
            with self._readers_lock:
                self._readers.append(desk)
        return desk

    def report_cache(self) -> ReportCache:
        """The cache of slow reports (GET /v1/duplicates), keyed by the store's version."""
        with self._readers_lock:
            if self.reports is None:
                self.reports = ReportCache(self.desk.paths.store_path)
            return self.reports

    def quick_readers(self) -> CapacityLimiter:
        """How many short pure-Python reads (the item pane's related list, a kept duplicates
        answer) run at once; they take turns in the order they came.

        Threads of one process take turns on its GIL: eight related() requests running at once
        each wait for the other seven, and every hand-over costs more time (measured on the GPU
        host's 16 cores, 8 clients: p50 48.5 -> 31-33 ms, 161 -> 244-256 requests/s with one
        or two at a time). Two let one request's SQLite reads overlap another's Python; the
        others wait for a turn without a thread of their own. Made in the event loop.
        """
        if self._quick is None:
            self._quick = CapacityLimiter(QUICK_READERS)
        return self._quick

    def works(self) -> Works | None:
        """The store's works at its version now (copies collapsed by lookup), or None while
        the worker process makes them."""
        reports = self.report_cache()
        with self._readers_lock:
            if self.works_map is None:
                self.works_map = WorksCache(self.slow, self.desk.paths.store_path, reports.version)
        return self.works_map.current()

    def close(self) -> None:
        """Stop the worker process, close the cache's and the readers' store connections."""
        self.slow.close()
        if self.reports is not None:
            self.reports.close()
        with self._readers_lock:
            readers, self._readers = self._readers, []
        for desk in readers:
            desk.close()
