"""The CLI's side of the bridge: is a daemon running for this data dir, and asking it to sync."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from ..config import Paths
from .lock import DaemonLock, read_owner
from .token import ensure_token


def daemon_url(paths: Paths) -> str | None:
    """http://HOST:PORT of the daemon holding this data dir's lock, if one does."""
    if not DaemonLock(paths.data_dir).held_elsewhere():
        return None
    owner = read_owner(paths.data_dir) or {}
    if not owner.get("port"):
        return None
    host = str(owner.get("host") or "127.0.0.1")
    host = "127.0.0.1" if host in ("0.0.0.0", "localhost") else host  # noqa: S104
    return f"http://{'[' + host + ']' if ':' in host else host}:{owner['port']}"


def call(
    url: str, path: str, *, method: str = "GET", token: str | None = None, timeout: float = 2
) -> dict[str, Any] | None:
    """One JSON request to the bridge; None when it does not answer or refuses."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = b"{}" if method == "POST" else None
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(  # noqa: S310 - http on loopback, to our own daemon
        url + path, data=data, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def health(url: str) -> dict[str, Any] | None:
    return call(url, "/v1/health")


def request_sync(paths: Paths) -> dict[str, Any] | None:
    """Ask the running daemon to sync (and so to carry on a pending model switch) now;
    its sync status, or None when no daemon answers."""
    url = daemon_url(paths)
    if url is None:
        return None
    return call(url, "/v1/sync", method="POST", token=ensure_token(paths.data_dir))
