"""Slow and idle clients: a header timeout and a connection cap in front of uvicorn's protocol.

uvicorn closes a keep-alive connection that stays idle after a response, but nothing closes
one that never sends a complete request (a half-open or slowloris client), and it accepts
connections until the process runs out of file descriptors: with an open-file limit of 1024,
~1,100 idle connections made `/v1/health` time out for as long as they were held. The guard
closes a connection that has waited for its request headers longer than `header_timeout`,
and keeps at most `limit` connections open: a new one over the cap closes the one that has
waited longest without a request (a client that sends its request at once is never the one).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from uvicorn.config import HTTP_PROTOCOLS
from uvicorn.importer import import_from_string

log = logging.getLogger("specter_desk.server")

HEADER_TIMEOUT = 10.0  # seconds from connect (or the last response) to complete headers
MAX_CONNECTIONS = 256  # the plugin uses a handful; a browser tab at most six
FD_RESERVE = 128  # file descriptors kept for the store, the index, logs and the model


def connection_limit(wanted: int = MAX_CONNECTIONS) -> int:
    """At most `wanted` connections, and never so many that the process runs out of file
    descriptors (the soft RLIMIT_NOFILE less a reserve)."""
    try:
        import resource
    except ImportError:  # Windows: no RLIMIT_NOFILE
        return wanted
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(8, min(wanted, soft - FD_RESERVE))


def _waits(protocol: Any) -> bool:
    """Whether a connection waits for a request (none yet, or the last one answered)."""
    cycle = getattr(protocol, "cycle", None)
    return cycle is None or cycle.response_complete


class ConnectionGuard:
    """The open connections of one server, each with when it began to wait for a request."""

    def __init__(self, *, header_timeout: float = HEADER_TIMEOUT, limit: int | None = None):
        self.header_timeout = header_timeout
        self.limit = limit or connection_limit()
        self.waiting: dict[Any, float | None] = {}  # protocol -> waiting since (None: busy)
        self.closed_slow = 0
        self.closed_over_cap = 0
        self._sweeping = False

    def opened(self, protocol: Any) -> None:
        self.waiting[protocol] = time.monotonic()
        if not self._sweeping:
            self._sweeping = True
            asyncio.get_running_loop().call_later(1.0, self._sweep)
        if len(self.waiting) > self.limit:
            idle = [
                (since, id(p), p)
                for p, since in self.waiting.items()
                if since is not None and _waits(p)
            ]
            victim = min(idle)[2] if idle else protocol
            self.closed_over_cap += 1
            log.warning("more than %s connections: closed the one idle longest", self.limit)
            self._close(victim)

    def lost(self, protocol: Any) -> None:
        self.waiting.pop(protocol, None)

    def _sweep(self) -> None:
        now = time.monotonic()
        for protocol in list(self.waiting):
            since = self.waiting[protocol]
            if not _waits(protocol):
                self.waiting[protocol] = None
            elif since is None:
                self.waiting[protocol] = now
            elif now - since > self.header_timeout:
                self.closed_slow += 1
                self._close(protocol)
        if self.waiting:
            asyncio.get_running_loop().call_later(1.0, self._sweep)
        else:
            self._sweeping = False

    def _close(self, protocol: Any) -> None:
        self.waiting.pop(protocol, None)
        transport = getattr(protocol, "transport", None)
        if transport is not None and not transport.is_closing():
            transport.abort()  # no FIN-wait dance with a client that is not reading


def guarded_protocol(guard: ConnectionGuard, http: str = "auto") -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol class (`http`, as uvicorn.Config names it) under the guard."""
    base: type = import_from_string(HTTP_PROTOCOLS[http])

    class Guarded(base):  # type: ignore[misc, valid-type]
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            guard.opened(self)

        def connection_lost(self, exc: Exception | None) -> None:
            guard.lost(self)
            super().connection_lost(exc)

    Guarded.__name__ = f"Guarded{base.__name__}"
    return Guarded
