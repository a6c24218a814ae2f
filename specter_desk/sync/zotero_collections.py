"""Zotero collections (names and parents) from the web and local APIs, fetched only when the
store needs them: a paper names a collection key the store does not know, or the library
changed while the store knows its collections. Membership comes with each item."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..models import Collection, Paper

if TYPE_CHECKING:
    from ..store import Store
    from .zotero_web import ZoteroClient

PAGE = 100  # the API's limit per page


def collection_from_json(obj: dict[str, Any], library: str) -> Collection | None:
    """A Collection from the API's collection JSON; None for one in the trash."""
    data = obj.get("data", obj)
    if not isinstance(data, dict) or not data.get("key") or data.get("deleted"):
        return None
    return Collection(
        key=str(data["key"]),
        name=str(data.get("name") or ""),
        parent=str(data["parentCollection"]) if data.get("parentCollection") else None,
        version=int(obj.get("version") or data.get("version") or 0),
        library=library,
    )


def fetch_collections(client: ZoteroClient, library: str) -> list[Collection]:
    """Every collection of the client's library (all pages)."""
    found: list[Collection] = []
    start = 0
    while True:
        page = client.call(client.collections, start=start, limit=PAGE)
        for obj in page or []:
            collection = collection_from_json(obj, library)
            if collection is not None:
                found.append(collection)
        total = _total(client, len(page or []))
        start += PAGE
        if not page or start >= total:
            return found


def _total(client: ZoteroClient, page_size: int) -> int:
    response = client.last_response
    value = response.headers.get("total-results") if response is not None else None
    return int(value) if value and value.isdigit() else page_size


def collections_needed(
    store: Store, library: str, pending: Iterable[Paper], *, library_changed: bool
) -> bool:
    """Whether to list the library's collections now (see the module doc)."""
    known = {c.key for c in store.collections(library)}
    used = store.collection_keys_in_use(library) | {k for p in pending for k in p.collections}
    return bool(used - known) or (library_changed and bool(known))


def sync_collections(
    store: Store,
    client: ZoteroClient,
    library: str,
    pending: Iterable[Paper],
    *,
    library_changed: bool,
) -> list[Collection] | None:
    """The library's collections when they are needed (to replace the stored ones), else None."""
    if not collections_needed(store, library, pending, library_changed=library_changed):
        return None
    return fetch_collections(client, library)
