"""Slow pure-Python work of the bridge in a process of its own, and the duplicates report made
there (kept until the store changes).

A thread of the daemon would hold the daemon's GIL for most of a duplicates scan, and every
related() request would wait for it in turn. The worker process is started on first use
(spawn: the daemon runs threads, so forking it is unsafe), at lower priority, reads the store
read-only and keeps its own copy of the index in step with the store's vectors. A worker that
dies (killed, out of memory) is replaced; the request it was answering is tried once more on
the new one.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import astuple
from pathlib import Path
from typing import Any, TypeVar

from ..errors import SpecterDeskError
from ..index import IndexParams, PaperIndex, open_index, sync_index
from ..services.works import Works, store_works
from ..store import Store

log = logging.getLogger("specter_desk.server")

T = TypeVar("T")
STOP_SECONDS = 5.0  # how long close() waits for a scan in progress before ending it


class WorkerDiedError(SpecterDeskError):
    """The bridge's worker process stopped in the middle of a request, twice."""

    code = "worker_died"
    http_status = 503


def _lower_priority(nice: int) -> None:
    if nice > 0 and hasattr(os, "nice"):
        try:
            os.nice(nice)
        except OSError as exc:
            log.warning("could not lower the worker process's priority: %s", exc)


class SlowWork:
    """One worker process for slow work: started on first use, replaced when it dies."""

    def __init__(self, *, nice: int = 10):
        self._nice = nice
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False

    def run(self, function: Callable[..., T], *args: Any) -> T:
        """function(*args) in the worker process (both picklable); its exceptions re-raised."""
        for attempt in (1, 2):
            pool = self._current()
            try:
                future = pool.submit(function, *args)
            except BrokenProcessPool:
                self._replace(pool)
                continue
            except RuntimeError:  # another request replaced (shut down) this pool meanwhile
                continue
            try:
                return future.result()
            except BrokenProcessPool:
                self._replace(pool)
                log.warning("the bridge's worker process died (attempt %s); replaced", attempt)
        raise WorkerDiedError(
            "the bridge's worker process stopped twice while answering this request (killed, "
            "or out of memory?); the next request starts a new one: try again"
        )

    @property
    def pids(self) -> list[int]:
        """Process ids of the running worker (none before first use or after close)."""
        with self._lock:
            processes = getattr(self._pool, "_processes", None) or {}
            return [p.pid for p in processes.values() if p.is_alive()]

    def _current(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise WorkerDiedError("the bridge is shutting down")
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_lower_priority,
                    initargs=(self._nice,),
                )
            return self._pool

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken:
                self._pool = None
        broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the worker process: a scan in progress is ended after STOP_SECONDS."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is None:
            return
        # Python 3.11's executor cannot end a busy worker itself (3.14 adds terminate_workers)
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.join(STOP_SECONDS)
            if process.is_alive():
                process.terminate()
                process.join(STOP_SECONDS)


# -- the duplicates report, made in the worker process ----------------------------------------

# the worker's indexes, kept between calls and brought in step with the store at each one
_indexes: dict[tuple, PaperIndex] = {}


def _worker_index(store: Store, index_dir: Path, model: str, params: IndexParams) -> PaperIndex:
    """The worker's copy of a model's index, in step with the store's vectors now."""
    key = (str(index_dir), model, astuple(params))
    index = _indexes.get(key)
    if index is not None:
        try:
            sync_index(index, store)
            return index
        except ValueError:  # the model's vectors changed dimension: load it afresh
            _indexes.pop(key, None)
    index = open_index(store, model, index_dir, params=params, save=False)
    _indexes[key] = index
    return index


def duplicates_json(
    store_path: str, index_dir: str, model: str, params: IndexParams, min_score: float
) -> bytes:
    """GET /v1/duplicates's answer as JSON bytes (validated against its schema here, so the
    daemon only sends them)."""
    from ..services.duplicates import find_duplicates
    from .schemas import Duplicates

    store = Store(store_path, read_only=True)
    try:
        index = _worker_index(store, Path(index_dir), model, params)
        report = find_duplicates(store, index, min_score=min_score).to_dict()
    finally:
        store.close()
    answer = Duplicates.model_validate(report).model_dump(mode="json", by_alias=True)
    return json.dumps(answer, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


class ReportCache:
    """Answers of slow reports, kept until the store changes.

    The key is the store's data version, read through a connection of the cache's own that
    never writes (so it changes with every commit of any other connection or process: a sync,
    an embedding run, a merge synced from Zotero, a "not duplicates" mark), plus whatever the
    caller says the answer depends on. The version is read before the answer is made, so an
    answer made while a change commits is filed under the older version and never served
    after it.
    """

    def __init__(self, store_path: Path, *, size: int = 16):
        self.store_path = store_path
        self.enabled = True
        self._size = size
        self._store: Store | None = None
        self._lock = threading.Lock()
        self._version: int | None = None
        self._answers: OrderedDict[tuple, bytes] = OrderedDict()

    def version(self) -> int:
        """The store's data version now."""
        with self._lock:
            if self._store is None:
                self._store = Store(self.store_path, read_only=True)
            return self._store.data_version()

    def kept(self, key: tuple) -> bytes | None:
        """The answer kept for key at the store's current version, or None."""
        version = self.version()
        with self._lock:
            return self._kept(version, key)

    def get(self, key: tuple, make: Callable[[], bytes]) -> bytes:
        """The kept answer for key at the store's current version, else make() (and keep it)."""
        version = self.version()
        with self._lock:
            kept = self._kept(version, key)
        if kept is not None:
            return kept
        answer = make()
        with self._lock:
            if self.enabled and self._version == version:
                self._answers[key] = answer
                while len(self._answers) > self._size:
                    self._answers.popitem(last=False)
        return answer

    def _kept(self, version: int, key: tuple) -> bytes | None:
        """(Holding the lock.) The answer kept for key at version; answers of another version
        are dropped."""
        if version != self._version:
            self._answers.clear()
            self._version = version
        answer = self._answers.get(key) if self.enabled else None
        if answer is not None:
            self._answers.move_to_end(key)
        return answer

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None


# -- the works of the store, decided in the worker process -------------------------------------


def works_map(store_path: str) -> Works | None:
    """The store's works (services/works.py), or None for a store too large to map."""
    store = Store(store_path, read_only=True)
    try:
        return store_works(store)
    finally:
        store.close()


class WorksCache:
    """The store's works at its current data version, made in the worker process.

    current() never waits: when the store has changed since the map was made (or none was
    made yet) it starts making one and answers None, and the caller collapses its list the
    old way. A map is filed under the version read before it was started, so one made while
    a change commits is never used after it.
    """

    def __init__(self, slow: SlowWork, store_path: Path, version: Callable[[], int]):
        self.enabled = True
        self._slow = slow
        self._store_path = store_path
        self._version = version
        self._lock = threading.Lock()
        self._works: Works | None = None
        self._made_at: int | None = None
        self._making = False

    def current(self) -> Works | None:
        """The map at the store's version now, or None (while one is being made)."""
        if not self.enabled:
            return None
        version = self._version()
        with self._lock:
            if self._made_at == version:
                return self._works
            if self._making:
                return None
            self._making = True
        threading.Thread(target=self._make, args=(version,), daemon=True).start()
        return None

    def wait(self, timeout: float = 60.0) -> Works | None:
        """The current map, waiting until it is made (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            works = self.current()
            if works is not None or (self._made_at == self._version() and not self._making):
                return works
            time.sleep(0.02)
        return None

    def _make(self, version: int) -> None:
        works = None
        try:
            works = self._slow.run(works_map, str(self._store_path))
        except (SpecterDeskError, sqlite3.Error, OSError) as exc:  # costs speed, not answers
            log.warning("could not group the store's copies into works: %s", exc)
        finally:  # None (failed, too large) is not tried again until the store changes
            with self._lock:
                self._works, self._made_at, self._making = works, version, False
