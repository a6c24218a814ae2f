"""Zotero web API v3 sync through pyzotero: incremental by library version, crash-safe.

The loop follows Zotero's sync recommendations (see ZOTERO.md): one cheap
`items?since=V&format=versions` request with `If-Modified-Since-Version: V` (304 = nothing to
do), then the changed items in `itemKey` batches of 50, each committed as one transaction,
then `deleted?since=V`, then full-text excerpts for items without an abstract. The last page,
the deletions, the excerpts and the new library version are committed in one final
transaction, so a crash at any point resumes from the last completed sync and refetches only
what it had not committed yet (keys already stored at their version are skipped).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx2
from pyzotero import errors as ze
from pyzotero import zotero

from ..errors import LocalApiDisabledError, SyncError, ZoteroAuthError, ZoteroUnreachableError
from ..models import Paper
from ..store import Store
from .context import SyncContext
from .fulltext import excerpt
from .writer import pause
from .zotero_collections import sync_collections
from .zotero_items import paper_from_item

BATCH = 50  # the API's itemKey limit
NOT_MODIFIED = object()
MAX_ATTEMPTS = 6
MAX_WAIT_S = 120.0


class ZoteroClient(zotero.Zotero):
    """pyzotero with a visible wait on Backoff/Retry-After, If-Modified-Since-Version, retries
    on 429/5xx with capped exponential backoff, and a request counter."""

    def __init__(
        self,
        library_id: str,
        library_type: str,
        api_key: str | None,
        *,
        endpoint: str,
        local: bool = False,
        on_wait: Callable[[float, str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ):
        super().__init__(library_id, library_type, api_key, local=local)
        self.endpoint = endpoint.rstrip("/")
        self.extra_headers: dict[str, str] = {}
        self.on_wait = on_wait or (lambda seconds, why: None)
        self.should_stop = should_stop or (lambda: False)
        self.requests = 0
        self.last_response: httpx2.Response | None = None

    def default_headers(self) -> dict[str, str]:
        return {**super().default_headers(), **self.extra_headers}

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx2.Response:
        self.requests += 1
        response = super()._send(method, url, **kwargs)
        self.last_response = response
        return response

    def _check_backoff(self) -> None:
        remainder = self.backoff_until - time.time()
        if remainder > 0:
            self.wait(remainder, "Zotero asked to back off")

    def wait(self, seconds: float, why: str) -> None:
        """Sleep (visibly, and stoppable) before the next request."""
        seconds = min(float(seconds), MAX_WAIT_S)
        self.on_wait(seconds, why)
        pause(seconds, self.should_stop)
        self.backoff_until = 0.0

    def current_key(self) -> Any:
        """GET /keys/current: who owns the API key (sent in a header, never in the URL)."""
        return self._retrieve_data("/keys/current").json()

    @property
    def last_version(self) -> int:
        """Last-Modified-Version of the latest response (0 when absent, as on the local API)."""
        if self.last_response is None:
            return 0
        return int(self.last_response.headers.get("last-modified-version") or 0)

    def call(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one pyzotero call; map its failures to SyncError and retry recoverable ones."""
        for attempt in range(MAX_ATTEMPTS):
            self.url_params = None  # pyzotero keeps a failed call's parameters otherwise
            try:
                return func(*args, **kwargs)
            except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:
                raise self._unreachable(exc) from exc
            except (
                httpx2.TimeoutException,
                httpx2.NetworkError,
                httpx2.RemoteProtocolError,
            ) as exc:
                if attempt == MAX_ATTEMPTS - 1:
                    raise self._unreachable(exc) from exc
                self.wait(min(2.0**attempt, 30.0), f"network error ({type(exc).__name__})")
            except httpx2.HTTPError as exc:  # redirects, bad URLs, other transport trouble
                raise self._unreachable(exc) from exc
            except ValueError as exc:  # a body that is not the JSON it should be
                if attempt == 0:
                    # or one cut short: a server that died mid-answer (Zotero quit or was
                    # killed); asking again tells the two apart
                    continue
                raise SyncError(
                    f"Zotero at {self.endpoint} sent a malformed response ({exc}); "
                    "is SPECTER_DESK_ZOTERO_URL / SPECTER_DESK_ZOTERO_LOCAL_URL right?"
                ) from exc
            except ze.TooManyRetriesError as exc:
                if attempt == MAX_ATTEMPTS - 1:
                    raise SyncError(
                        f"Zotero at {self.endpoint} keeps rate-limiting; try again later"
                    ) from exc
                self.wait(self._retry_after(2.0**attempt), "rate-limited (429)")
            except ze.PyZoteroError as exc:
                response = self.last_response
                status = response.status_code if response is not None else 0
                body = response.text if response is not None else ""
                if status == 304:
                    return NOT_MODIFIED
                if status in (401, 403):
                    raise self._refused(body) from exc
                if status in (429, 500, 502, 503, 504) and attempt < MAX_ATTEMPTS - 1:
                    self.wait(self._retry_after(2.0**attempt), f"server answered {status}")
                    continue
                if status == 404 and self.local:
                    raise SyncError(
                        f"{self.endpoint} has no Zotero local API; it needs Zotero 7 or later"
                    ) from exc
                raise SyncError(
                    f"Zotero at {self.endpoint} answered {status}: "
                    f"{' '.join(body.split())[:160] or type(exc).__name__}"
                ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _retry_after(self, default: float) -> float:
        headers = self.last_response.headers if self.last_response is not None else {}
        value = headers.get("retry-after") or headers.get("backoff")
        try:
            return float(value) if value else default
        except ValueError:
            return default

    def _unreachable(self, exc: Exception) -> SyncError:
        if self.local:
            return ZoteroUnreachableError(
                f"Zotero is not running (nothing answers at {self.endpoint}); start Zotero, "
                "or sync offline with --library sqlite"
            )
        return ZoteroUnreachableError(
            f"cannot reach the Zotero web API at {self.endpoint} ({type(exc).__name__}); "
            "check the network or SPECTER_DESK_ZOTERO_URL"
        )

    def _refused(self, body: str) -> SyncError:
        if self.local and "not enabled" in body.lower():
            return LocalApiDisabledError(
                "Zotero's local API is switched off: in Zotero open Settings -> Advanced and "
                'tick "Allow other applications on this computer to communicate with Zotero" '
                "(extensions.zotero.httpServer.localAPI.enabled)"
            )
        return ZoteroAuthError(
            f"Zotero refused the API key for {self.library_type}/{self.library_id} "
            f"({' '.join(body.split())[:80] or 'forbidden'}); run `specter-desk login` or set "
            "ZOTERO_API_KEY to a key with read access to this library"
        )


KEYS_URL = "https://www.zotero.org/settings/keys"


def check_api_key(endpoint: str, api_key: str, user_id: str | None = None) -> dict[str, Any]:
    """{userID, username, access} of a web API key (/keys/current); ZoteroAuthError when
    Zotero refuses the key, or when it belongs to another user than user_id."""
    client = ZoteroClient("0", "user", api_key.strip(), endpoint=endpoint)
    try:
        info = client.call(client.current_key)
    except ZoteroAuthError as exc:
        raise ZoteroAuthError(
            f"Zotero at {endpoint} did not accept this API key; create one with read access "
            f"at {KEYS_URL}"
        ) from exc
    if not isinstance(info, dict) or not info.get("userID"):
        raise ZoteroAuthError(f"Zotero did not accept this API key; create one at {KEYS_URL}")
    if user_id and str(user_id).strip() != str(info["userID"]):
        raise ZoteroAuthError(
            f"this API key belongs to user {info['userID']} ({info.get('username') or '?'}), "
            f"not to user {user_id}; use that user's key, or leave the user id out"
        )
    return info


def split_items(
    items: list[dict[str, Any]], library: str
) -> tuple[list[Paper], list[tuple[str, int, str, str | None]]]:
    """Papers, and (key, version, type, parent) rows for the items that are not papers."""
    papers, children = [], []
    for item in items:
        paper = paper_from_item(item, library=library)
        if paper is not None:
            papers.append(paper)
            continue
        data = item.get("data", {})
        version = int(item.get("version") or data.get("version") or 0)
        children.append((data["key"], version, str(data.get("itemType")), data.get("parentItem")))
    return papers, children


def known_versions(store: Store, library: str) -> tuple[dict[str, int], dict[str, str]]:
    """{key: version} of every item of a library the store has (papers, trashed papers,
    attachments, notes) and {attachment key: parent key}."""
    known = store.versions(library, include_deleted=True)
    parents = {}
    for key, (version, parent) in store.child_items(library).items():
        known[key] = version
        if parent:
            parents[key] = parent
    return known, parents


def fetch_items(client: ZoteroClient, keys: list[str]) -> list[dict[str, Any]]:
    """Items by key (at most 50), trashed ones included."""
    return client.call(client.items, itemKey=",".join(keys), includeTrashed=1, limit=len(keys))


def sync_web(
    ctx: SyncContext, *, library_type: str, library_id: str, api_key: str | None, endpoint: str
) -> None:
    """Sync a user or group library from the web API into ctx.writer (see module doc)."""
    client = ZoteroClient(
        library_id,
        library_type,
        api_key,
        endpoint=endpoint,
        on_wait=ctx.on_wait,
        should_stop=ctx.should_stop,
    )
    ctx.client = client
    writer = ctx.writer
    store = ctx.store
    state = store.sync_state(writer.library)
    since = 0 if ctx.full else int(state["version"])
    ft_since = 0 if ctx.full else int(state["details"].get("fulltext_version", since))
    for _round in range(3):  # again if the library changed while we synced
        client.extra_headers = {"If-Modified-Since-Version": str(since)} if since else {}
        ctx.report("checking for changes", 0, 0)
        versions = client.call(client.item_versions, since=since, includeTrashed=1)
        client.extra_headers = {}
        if versions is NOT_MODIFIED:
            writer.write(state=(since, {**state["details"], "fulltext_version": ft_since}))
            return
        library_version = client.last_version
        stored, parents = known_versions(store, writer.library)
        known = {} if ctx.full and _round == 0 else stored  # --full fetches every item again
        changed = sorted(k for k, v in versions.items() if known.get(k) != v)
        gone = set(stored) - set(versions) if since == 0 else set()
        pending: tuple[list, list] = ([], [])  # the last page, committed with the version
        for start in range(0, len(changed), BATCH):
            ctx.check_stop()
            papers, children = split_items(
                fetch_items(client, changed[start : start + BATCH]), writer.library
            )
            parents.update((k, p) for k, _, _, p in children if p)
            if start + BATCH >= len(changed):
                pending = (papers, children)
                break
            writer.write(papers, children=children)
            ctx.report("fetching items", start + BATCH, len(changed))
        if since:
            deleted = client.call(client.deleted, since=since)
            gone |= set(deleted.get("items", []))
        texts = _fulltext_excerpts(ctx, client, ft_since, parents, pending[0])
        collections = sync_collections(
            store, client, writer.library, pending[0], library_changed=True
        )
        newest = max(library_version, client.last_version)
        writer.write(
            pending[0],
            children=pending[1],
            deleted_keys=gone,
            fulltext=texts,
            collections=collections,
            state=(library_version, {"fulltext_version": library_version}),
        )
        ctx.report("fetching items", len(changed), len(changed))
        if newest <= library_version:
            return
        since = ft_since = library_version
        state = store.sync_state(writer.library)


def _fulltext_excerpts(
    ctx: SyncContext,
    client: ZoteroClient,
    since: int,
    parents: dict[str, str],
    pending: list[Paper],
) -> dict[str, str]:
    """{parent key: excerpt} from attachments whose full text changed since `since`, for
    papers (stored, or in the pending last page) that have no abstract."""
    changed = client.call(client.new_fulltext, since=since)
    if not changed:
        return {}
    unknown = [k for k in changed if k not in parents]
    for start in range(0, len(unknown), BATCH):
        for item in fetch_items(client, unknown[start : start + BATCH]):
            data = item.get("data", {})
            if data.get("parentItem"):
                parents[data["key"]] = data["parentItem"]
    wanted = {parents[k]: k for k in sorted(changed) if k in parents}
    papers = ctx.store.get_papers(wanted)
    papers.update((p.key, p) for p in pending if p.key in wanted)
    texts: dict[str, str] = {}
    todo = [
        (key, att)
        for key, att in wanted.items()
        if key in papers
        and not papers[key].deleted
        and (not papers[key].abstract or papers[key].text_source == "fulltext")
    ]
    for done, (key, attachment) in enumerate(todo, start=1):
        ctx.check_stop()
        result = client.call(_fulltext_or_none, client, attachment)
        if result and result.get("content"):
            texts[key] = excerpt(papers[key].title, str(result["content"]))
        ctx.report("reading full text", done, len(todo))
    return texts


def _fulltext_or_none(client: ZoteroClient, attachment: str) -> dict[str, Any] | None:
    try:
        return client.fulltext_item(attachment)
    except ze.ResourceNotFoundError:
        return None
