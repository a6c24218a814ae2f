"""The bridge's front door: Host, Origin, bearer token and body size, checked before any route.

Every web page the user visits can send requests to 127.0.0.1, so:
- Host must name the loopback interface with our port (a DNS-rebinding page sends its own name);
- a request with an Origin header comes from a web page or extension: refused unless the origin
  is privileged Gecko code (Zotero's own chrome:// or resource:// origins; a page cannot forge
  these). Zotero 7-10 plugin code runs with the system principal and sends no Origin at all;
- every path except /v1/health needs `Authorization: Bearer <token>` (constant-time compare),
  except a feed's Atom URL (GET /feeds/ID/TOKEN.atom), which carries its own read-only token
  that the route checks and no other path accepts;
- bodies are capped before they are read into memory, and must arrive within BODY_TIMEOUT (a
  client that sends headers and then dribbles or stalls its body would hold its connection).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from .schemas import MAX_BODY_BYTES
from .token import token_matches

log = logging.getLogger("specter_desk.server")

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
ALLOWED_ORIGIN_SCHEMES = ("chrome://", "resource://")
PUBLIC_PATHS = frozenset({"/v1/health"})
FEED_PREFIX = "/feeds/"  # capability URLs: the feed's own token is checked by the route
BODY_TIMEOUT = 10.0  # seconds for a whole request body once its headers are in


def allowed_hosts(port: int, extra_names: Iterable[str] = ()) -> frozenset[str]:
    """Host header values we answer: loopback names (and any extra names) with our port."""
    names = [*LOOPBACK_NAMES, *extra_names]
    return frozenset(f"{name.lower()}:{port}" for name in names)


def origin_allowed(origin: str) -> bool:
    """Zotero's own privileged origins; never web (http/https), extension or `null` origins."""
    return origin.lower().startswith(ALLOWED_ORIGIN_SCHEMES)


async def send_error(
    send: Send, status: int, code: str, message: str, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    """Answer {"error": {code, message}} without touching the app."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BridgeGuard:
    """ASGI middleware in front of the whole app."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: Callable[[], str],
        port: int,
        any_host: bool = False,
        max_body: int = MAX_BODY_BYTES,
        body_timeout: float = BODY_TIMEOUT,
    ):
        self.app = app
        self.token = token
        self.hosts = allowed_hosts(port)
        self.port = port
        self.any_host = any_host
        self.max_body = max_body
        self.body_timeout = body_timeout

    def host_ok(self, host: str) -> bool:
        host = host.strip().lower()
        if host in self.hosts:
            return True
        # --allow-remote: any name, but still our port (the token is then the only barrier).
        return self.any_host and host.rsplit(":", 1)[-1] == str(self.port)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, list[bytes]] = {}
        for name, value in scope.get("headers", []):
            headers.setdefault(name.lower(), []).append(value)

        def header(name: bytes) -> str | None:
            values = headers.get(name)
            return values[0].decode("latin-1") if values else None

        hosts = headers.get(b"host", [])
        host = hosts[0].decode("latin-1") if len(hosts) == 1 else ""
        if not self.host_ok(host):
            log.warning("refused Host %r on %s", host[:100], scope.get("path"))
            await send_error(
                send,
                403,
                "forbidden_host",
                f"Host must be 127.0.0.1:{self.port} or localhost:{self.port}",
            )
            return
        origin = header(b"origin")
        if origin is not None and not origin_allowed(origin):
            log.warning("refused Origin %r on %s", origin[:100], scope.get("path"))
            await send_error(
                send,
                403,
                "forbidden_origin",
                "requests from web pages are not allowed; use the Zotero plugin",
            )
            return
        path = scope.get("path") or ""
        is_feed = path.startswith(FEED_PREFIX) and scope.get("method") in ("GET", "HEAD")
        if path not in PUBLIC_PATHS and not is_feed:
            auth = header(b"authorization") or ""
            scheme, _, given = auth.partition(" ")
            if (
                scheme.lower() != "bearer"
                or not given.strip()
                or not token_matches(self.token(), given.strip())
            ):
                await send_error(
                    send,
                    401,
                    "unauthorized",
                    "missing or wrong bearer token; get it with `specter-desk bridge token`",
                    headers=[(b"www-authenticate", b'Bearer realm="specter-desk"')],
                )
                return
        length = header(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await send_error(send, 400, "bad_request", "invalid Content-Length")
                return
            if declared > self.max_body:
                await send_error(send, 413, "too_large", f"request body over {self.max_body} bytes")
                return
        if scope.get("method") in ("POST", "PUT", "PATCH"):
            try:
                async with asyncio.timeout(self.body_timeout):
                    body = await self._read_body(receive)
            except TimeoutError:
                log.warning("request body on %s not complete in time", scope.get("path"))
                await send_error(
                    send,
                    408,
                    "timeout",
                    f"request body not complete within {self.body_timeout:g} s",
                    headers=[(b"connection", b"close")],
                )
                return
            if body is None:
                await send_error(send, 413, "too_large", f"request body over {self.max_body} bytes")
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it passes the cap."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
