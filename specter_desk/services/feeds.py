"""Feeds: standing recommendations for a collection, a tag or the whole library, kept fresh
by the daemon after each sync and served as they were last computed.

A feed is what `recommend --collection NAME` answers, remembered: its seeds are the scope's
papers (recent additions weighted most), its window (`since`) and length (`limit`) are its
own, and what it served is stored (`feed_entries`) so a reader sees a stable list between
refreshes. Each feed has its own random read-only token, for a per-feed URL.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..clock import now_iso
from ..errors import InputError, ItemNotFoundError, SpecterDeskError
from ..index import PaperIndex
from ..models import CANDIDATE_POOL
from ..store import Store
from .copies import library_copies
from .recommend import Recommendation, Recommendations, recommend
from .related import RelatedPaper
from .seeds import (
    COLLECTION,
    LIBRARY,
    TAG,
    collection_paths,
    parse_since,
    resolve_collection,
    seed_scope,
)

MAX_LIMIT = 100
DEFAULT_SINCE = "month"
DEFAULT_LIMIT = 20
_ID = re.compile(r"[^a-z0-9]+")


@dataclass
class Feed:
    """One configured feed."""

    id: str
    kind: str
    target: str
    name: str
    since: str = DEFAULT_SINCE
    limit: int = DEFAULT_LIMIT
    token: str = field(default="", repr=False)
    created_at: str = ""
    refreshed_at: str | None = None
    message: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Feed:
        return cls(
            id=row["id"],
            kind=row["kind"],
            target=row["target"],
            name=row["name"],
            since=row["since"],
            limit=row["n"],
            token=row["token"],
            created_at=row["created_at"],
            refreshed_at=row["refreshed_at"],
            message=row["message"],
        )

    def scope_args(self) -> dict[str, str | None]:
        """recommend()'s collection/tag arguments for this feed."""
        return {
            "collection": self.target if self.kind == COLLECTION else None,
            "tag": self.target if self.kind == TAG else None,
        }

    def to_dict(self) -> dict[str, Any]:
        """The feed without its token (listings never show it)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "target": self.target,
            "name": self.name,
            "since": self.since,
            "limit": self.limit,
            "created_at": self.created_at,
            "refreshed_at": self.refreshed_at,
            "message": self.message,
        }


def list_feeds(store: Store) -> list[Feed]:
    """Every feed, by name."""
    return [Feed.from_row(row) for row in store.feeds()]


def get_feed(store: Store, feed_id: str) -> Feed:
    """A feed by id; ItemNotFoundError naming the known ones."""
    row = store.feed(feed_id)
    if row is None:
        known = ", ".join(f.id for f in list_feeds(store)) or "none yet"
        raise ItemNotFoundError(
            f"no feed {feed_id!r} (feeds: {known}); `specter-desk feeds add --collection NAME`"
        )
    return Feed.from_row(row)


def _check(since: str, limit: int) -> None:
    parse_since(since)  # InputError for a window it cannot read
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"a feed lists 1 to {MAX_LIMIT} papers, not {limit}")


def add_feed(
    store: Store,
    *,
    collection: str | None = None,
    tag: str | None = None,
    whole_library: bool = False,
    since: str = DEFAULT_SINCE,
    limit: int = DEFAULT_LIMIT,
    name: str | None = None,
) -> Feed:
    """Configure a feed for one collection (name, path or key), one tag, or the library."""
    if sum(bool(x) for x in (collection, tag, whole_library)) != 1:
        raise InputError("a feed is for one of: --collection NAME, --tag TAG or --library")
    _check(since, limit)
    if whole_library:
        kind, target, label = LIBRARY, "", "My Library"
    else:
        scope = seed_scope(store, collection=collection, tag=tag)
        kind, target = scope.kind, scope.target
        label = _collection_label(store, target) if kind == COLLECTION else f"#{target}"
    if any(f.kind == kind and f.target == target for f in list_feeds(store)):
        raise InputError(f"there is a feed for {label} already (`specter-desk feeds list`)")
    feed_id = _new_id(store, label)
    store.add_feed(
        {
            "id": feed_id,
            "kind": kind,
            "target": target,
            "name": name or label,
            "since": since,
            "n": limit,
            "token": secrets.token_urlsafe(24),
        }
    )
    return get_feed(store, feed_id)


@dataclass
class Subscription:
    """A collection's feed as the plugin subscribes Zotero to it: the feed, whether this call
    made it, and why it serves nothing yet (when it does not)."""

    feed: Feed
    created: bool
    entries: int
    message: str | None = None


_subscribing = threading.Lock()  # two clicks at once still make one feed


def subscribe_collection(
    store: Store, index: Callable[[], PaperIndex], collection: str
) -> Subscription:
    """The feed for a collection (key, name or path): the one there is, else a new one with
    the defaults; refreshed now when it never was, so a reader has entries at once.
    ItemNotFoundError when the collection has not been synced."""
    found = resolve_collection(store, collection)
    with _subscribing:
        feed = next(
            (f for f in list_feeds(store) if f.kind == COLLECTION and f.target == found.key),
            None,
        )
        created = feed is None
        if feed is None:
            feed = add_feed(store, collection=found.key)
    message = None
    if feed.refreshed_at is None:
        try:
            message = refresh_feed(store, index(), feed).message
        except SpecterDeskError as exc:  # e.g. no model yet: served empty until a sync
            message = str(exc)
            store.update_feed(feed.id, message=message)  # `feeds list` says why too
        feed = get_feed(store, feed.id)
    return Subscription(feed, created, len(store.feed_entries(feed.id)), message or feed.message)


def _collection_label(store: Store, key: str) -> str:
    collections = store.collections()
    found = next((c for c in collections if c.key == key), None)
    return collection_paths(collections)[(found.library, key)] if found else key


def _new_id(store: Store, label: str) -> str:
    base = _ID.sub("-", label.lower()).strip("-")[:40] or "feed"
    taken = {f.id for f in list_feeds(store)}
    feed_id, number = base, 2
    while feed_id in taken:
        feed_id, number = f"{base}-{number}", number + 1
    return feed_id


def configure_feed(
    store: Store,
    feed_id: str,
    *,
    since: str | None = None,
    limit: int | None = None,
    name: str | None = None,
    new_token: bool = False,
) -> Feed:
    """Change a feed's window, length or name, or give it a new token (the old one stops
    working at once)."""
    feed = get_feed(store, feed_id)
    _check(since or feed.since, limit or feed.limit)
    changes: dict[str, Any] = {}
    if since:
        changes["since"] = since
    if limit:
        changes["n"] = limit
    if name is not None:
        if not name.strip():
            raise InputError("a feed's name cannot be empty")
        changes["name"] = name.strip()
    if new_token:
        changes["token"] = secrets.token_urlsafe(24)
    if not changes:
        raise InputError("nothing to change; pass --since, --limit, --name or --new-token")
    store.update_feed(feed_id, **changes)
    return get_feed(store, feed_id)


def remove_feed(store: Store, feed_id: str) -> Feed:
    """Delete a feed, its entries and its token."""
    feed = get_feed(store, feed_id)
    store.remove_feed(feed_id)
    return feed


def feed_recommendations(
    store: Store, index: PaperIndex, feed: Feed, *, now: datetime | None = None
) -> Recommendations:
    """What the feed recommends now (nothing is stored)."""
    return recommend(store, index, since=feed.since, n=feed.limit, now=now, **feed.scope_args())


def refresh_feed(
    store: Store, index: PaperIndex, feed: Feed, *, now: datetime | None = None
) -> Recommendations:
    """Recompute a feed and store what it serves (or, when it cannot, why, as its message)."""
    try:
        answer = feed_recommendations(store, index, feed, now=now)
    except SpecterDeskError as exc:  # e.g. its collection was deleted in Zotero
        store.update_feed(feed.id, message=str(exc))
        raise
    store.save_feed_entries(
        feed.id,
        [
            {"key": r.paper.key, "score": r.paper.score, "because": r.because}
            for r in answer.results
        ],
    )
    if answer.message:
        store.update_feed(feed.id, message=answer.message)
    return answer


@dataclass
class RefreshReport:
    """What refresh_feeds did: entries per refreshed feed, and the feeds that failed."""

    refreshed: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)  # served papers now in the library: "up"

    def to_dict(self) -> dict[str, Any]:
        return {"refreshed": self.refreshed, "failed": self.failed, "added": self.added}


def refresh_feeds(
    store: Store,
    index: PaperIndex,
    *,
    now: datetime | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> RefreshReport:
    """Refresh every feed (the daemon's step after a sync); one failing feed does not stop
    the others."""
    report = RefreshReport()
    report.added = count_added(store, now_iso())
    for feed in list_feeds(store):
        if should_stop is not None and should_stop():
            break
        try:
            answer = refresh_feed(store, index, feed, now=now)
            report.refreshed[feed.id] = len(answer.results)
        except SpecterDeskError as exc:
            report.failed[feed.id] = str(exc)
    return report


ATOM_PATH = "/feeds/{feed_id}/{token}.atom"  # the capability URL: the token is in the path


def feed_url(feed: Feed, host: str, port: int) -> str:
    """The feed's Atom URL on the bridge (what the user subscribes to in Zotero)."""
    return f"http://{host}:{port}" + ATOM_PATH.format(feed_id=feed.id, token=feed.token)


def feed_for_token(store: Store, feed_id: str, token: str) -> Feed:
    """The feed this capability URL names; the same ItemNotFoundError for an unknown feed and
    a wrong (or revoked) token, so a URL reveals nothing about other feeds."""
    row = store.feed(feed_id)
    if row is None or not token or not secrets.compare_digest(row["token"], token):
        raise ItemNotFoundError("no such feed (removed, or its token was replaced)")
    return Feed.from_row(row)


def served_recommendations(store: Store, feed: Feed) -> Recommendations:
    """What the feed served at its last refresh, as an answer the digests can render."""
    entries = store.feed_entries(feed.id)
    papers = store.get_papers(e["key"] for e in entries)
    answer = Recommendations(
        since=feed.refreshed_at or "",
        seeds=[],
        ranker="similarity",
        scope={"kind": feed.kind, "target": feed.target, "label": feed.name},
        message=None if feed.refreshed_at else "not refreshed yet; it fills after the next sync",
    )
    for entry in entries:
        paper = papers.get(entry["key"])
        if paper is not None and not paper.deleted:
            answer.results.append(
                Recommendation(RelatedPaper.from_paper(paper, entry["score"]), entry["because"])
            )
    return answer


def count_added(store: Store, now: str) -> list[str]:
    """Served candidates that are now in the library (added from the feed, or otherwise):
    each counts as an "up" vote (source "feed"), once. Returns their keys."""
    pending = [e for e in store.served_entries() if not e["added_at"]]
    papers = store.get_papers({e["key"] for e in pending})
    candidates = [p for p in papers.values() if p.pool == CANDIDATE_POOL and not p.deleted]
    owned = library_copies(store, candidates)
    votes = store.votes()
    for entry in pending:
        if entry["key"] in owned:
            store.mark_feed_entry(entry["feed_id"], entry["key"], added_at=now)
            if entry["key"] not in votes:  # the user's own vote stays
                store.set_vote(entry["key"], 1, source="feed")
    return sorted({e["key"] for e in pending if e["key"] in owned})
