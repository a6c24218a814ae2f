"""What the bridge's routes work on: one Desk, the sync worker, per-thread readers and an
executor for slow work."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..desk import Desk
from .worker import SyncWorker


@dataclass
class BridgeContext:
    """What the routes work on: one Desk, the sync worker, a reader per request thread and
    an executor for slow work.

    No request waits on another: each request thread reads through its own store
    connection (a sibling of `desk` sharing its encoders and indexes; SQLite in WAL mode
    lets readers run beside each other and beside the worker's writes), an index is
    searched under its own reader-writer lock, and work that takes seconds (duplicates
    over the whole library) queues in its own executor instead of holding anything
    the other routes need.
    """

    desk: Desk
    worker: SyncWorker | None = None
    log_file: Path | None = None
    slow: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="bridge-slow")
    )
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

    def close(self) -> None:
        """Stop the slow-work executor and close the readers' store connections."""
        self.slow.shutdown(wait=True, cancel_futures=True)
        with self._readers_lock:
            readers, self._readers = self._readers, []
        for desk in readers:
            desk.close()
