"""A polite JSON client for scholarly web APIs (OpenAlex, Crossref, Semantic Scholar).

It follows the Zotero client's manners: 429 and 5xx answers are retried with capped
exponential backoff, honouring Retry-After (seconds or an HTTP date); a dropped connection or a
truncated body is retried too; requests are paced to stay inside the service's published rate;
and whatever still fails becomes one CitationSourceError line saying what to do. Callers
commit what they fetched batch by batch, so a failure loses nothing already stored.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

from .. import __version__
from ..errors import CitationSourceError, InputError
from .writer import Stopped, pause

MAX_ATTEMPTS = 5
MAX_WAIT_S = 120.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# a dropped connection or a body cut short: worth another try
TRANSIENT = (
    http.client.IncompleteRead,
    http.client.RemoteDisconnected,
    http.client.BadStatusLine,
    ConnectionResetError,
    ConnectionAbortedError,
    BrokenPipeError,
    TimeoutError,
    socket.timeout,
)


def check_base_url(url: str, setting: str) -> str:
    """An http(s) base URL without a trailing slash, or an InputError naming the setting."""
    url = (url or "").strip().rstrip("/")
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise InputError(f"{setting} = {url!r} must be an http(s) URL")
    return url


class JsonApi:
    """GET JSON from one web API with retries, pacing and one-line errors."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        setting: str = "",
        timeout: float = 30.0,
        min_interval: float = 0.0,
        backoff: float = 1.0,
        max_attempts: int = MAX_ATTEMPTS,
        on_wait: Callable[[float, str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ):
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.params = {k: v for k, v in (params or {}).items() if v}
        self.headers = {
            "User-Agent": f"specter-desk/{__version__} (+https://github.com/specter-desk)",
            "Accept": "application/json",
            **(headers or {}),
        }
        self.setting = setting
        self.timeout = timeout
        self.min_interval = min_interval
        self.backoff = backoff
        self.max_attempts = max_attempts
        self.on_wait = on_wait or (lambda seconds, why: None)
        self.should_stop = should_stop or (lambda: False)
        self.requests = 0
        self._last_request = 0.0

    def url(self, path: str, params: dict[str, Any] | None = None) -> str:
        """The full URL of a request (the client's own parameters, like mailto, included)."""
        query = {**(params or {}), **self.params}
        url = self.base_url + path
        return f"{url}?{urllib.parse.urlencode(query)}" if query else url

    def get(self, path: str, params: dict[str, Any] | None = None, *, missing_ok: bool = False):
        """The decoded JSON of GET path; None for a 404 when missing_ok."""
        url = self.url(path, params)
        where = path.split("?")[0]
        for attempt in range(1, self.max_attempts + 1):
            self._pace()
            self.requests += 1
            try:
                request = urllib.request.Request(url, headers=self.headers)  # noqa: S310
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - scheme checked
                    body = response.read()
            except urllib.error.HTTPError as exc:
                status = exc.code
                if status == 404 and missing_ok:
                    return None
                if status in RETRY_STATUSES and attempt < self.max_attempts:
                    why = "rate-limited (429)" if status == 429 else f"server answered {status}"
                    self.wait(self._retry_after(exc.headers, attempt), f"{self.name} {why}")
                    continue
                raise self._http_error(status, where, _snippet(exc), attempt) from exc
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, TRANSIENT) and attempt < self.max_attempts:
                    self.wait(self.backoff * 2 ** (attempt - 1), f"{self.name}: {exc.reason}")
                    continue
                raise self._unreachable(exc.reason) from exc
            except TRANSIENT as exc:
                if attempt < self.max_attempts:
                    why = _dropped(exc)
                    self.wait(self.backoff * 2 ** (attempt - 1), f"{self.name}: {why}")
                    continue
                raise CitationSourceError(
                    f"the connection to {self.name} failed {attempt} times ({_dropped(exc)}) "
                    f"while fetching {where}; try again later (what was fetched so far is kept)"
                ) from exc
            except OSError as exc:
                raise self._unreachable(exc) from exc
            try:
                return json.loads(body)
            except (ValueError, UnicodeDecodeError) as exc:
                preview = " ".join(body[:60].decode("utf-8", "replace").split())
                raise CitationSourceError(
                    f"{self.name} sent a malformed answer for {where} (not JSON: {preview!r}); "
                    "try again later (what was fetched so far is kept)"
                ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def wait(self, seconds: float, why: str) -> None:
        """Sleep (visibly, and stoppable) before the next request."""
        seconds = max(0.0, min(float(seconds), MAX_WAIT_S))
        self.on_wait(seconds, why)
        pause(seconds, self.should_stop)

    def _pace(self) -> None:
        if self.should_stop():
            raise Stopped
        gap = self.min_interval - (time.monotonic() - self._last_request)
        if gap > 0:
            time.sleep(gap)
        self._last_request = time.monotonic()

    def _retry_after(self, headers: Any, attempt: int) -> float:
        default = self.backoff * 2 ** (attempt - 1)
        value = (headers.get("Retry-After") if headers else None) or ""
        value = value.strip()
        if not value:
            return default
        try:
            return float(value)
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return default
        return max(0.0, when.timestamp() - time.time())

    def _http_error(self, status: int, where: str, snippet: str, attempt: int) -> Exception:
        if status == 429:
            message = (
                f"{self.name} keeps rate-limiting (HTTP 429 after {attempt} tries); try again "
                "later (what was fetched so far is kept)"
            )
        elif status in RETRY_STATUSES:
            message = (
                f"{self.name} answered HTTP {status} {attempt} times for {where}; try again "
                "later (what was fetched so far is kept)"
            )
        else:
            message = f"{self.name} answered HTTP {status} for {where}" + (
                f": {snippet}" if snippet else ""
            )
        error = CitationSourceError(message)
        error.status = status  # type: ignore[attr-defined]
        return error

    def _unreachable(self, reason: Any) -> CitationSourceError:
        hint = f"; check the network or {self.setting}" if self.setting else "; check the network"
        return CitationSourceError(f"cannot reach {self.name} at {self.base_url} ({reason}){hint}")


def _snippet(exc: urllib.error.HTTPError) -> str:
    """The start of an error body as one line (HTML tags dropped)."""
    try:
        raw = exc.read()
    except (OSError, http.client.HTTPException):
        return ""
    text = raw[:400].decode("utf-8", "replace")
    if "<" in text:
        import re

        title = re.search(r"<title>(.*?)</title>", text, re.I | re.S)
        text = title.group(1) if title else re.sub(r"<[^>]+>", " ", text)
    return " ".join(text.split())[:120]


def _dropped(exc: BaseException) -> str:
    if isinstance(exc, http.client.IncompleteRead):
        return f"the answer was cut short after {len(exc.partial)} bytes"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "no answer in time"
    return f"the connection dropped ({type(exc).__name__})"
