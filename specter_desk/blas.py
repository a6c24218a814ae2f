"""BLAS threads for small products: recommend()'s matrices are a few hundred rows.

numpy's BLAS (OpenBLAS) splits even a small product over every core, then its worker threads
spin for a while before they sleep; the next index search (usearch, on every core) then
shares the cores with them. recommend() scores at most a few thousand candidates per call
after the index prefilter, so one thread is enough, and calls in a row (the daemon refreshing
every feed) stay as fast as the first (benchmarks/RESULTS.md, "Recommendation speed").
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class _OneThread:
    """The BLAS thread limit, set while any caller (of any Python thread) is inside; over the
    BLAS libraries loaded when it was first set (numpy's always is)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.inside = 0
        self.controller: Any = None  # threadpoolctl's, made on first use
        self.limiter: Any = None

    def enter(self) -> None:
        with self.lock:
            if self.inside == 0:
                if self.controller is None:
                    from threadpoolctl import ThreadpoolController

                    self.controller = ThreadpoolController()
                self.limiter = self.controller.limit(limits=1, user_api="blas")
            self.inside += 1

    def leave(self) -> None:
        with self.lock:
            self.inside -= 1
            if self.inside == 0:
                self.limiter.restore_original_limits()
                self.limiter = None


_ONE_THREAD = _OneThread()


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS products on the calling thread only until the block ends (the last one to end,
    when several threads are inside, puts the library's own thread count back)."""
    _ONE_THREAD.enter()
    try:
        yield
    finally:
        _ONE_THREAD.leave()
