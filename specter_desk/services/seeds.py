"""Seeds: the library papers a recommendation starts from, and how much each one counts.

Without a scope, the seeds are the papers added in the window (`--since`), newer ones counting
more. With a scope (a collection with its subcollections, or a tag) every paper in it is a
seed: one added now counts 1, one added half a window ago 0.5, and one older than the window
0.25, so a collection that has not grown lately still has a feed, led by what came last.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from ..errors import AmbiguousItemError, InputError, ItemNotFoundError
from ..models import Collection, Paper
from ..store import Store

_UNITS = {"day": 1, "week": 7, "month": 30, "year": 365}
_RELATIVE = re.compile(r"^(\d+)\s*(h|d|w|m|y|hours?|days?|weeks?|months?|years?)$")
MAX_SCOPED_SEEDS = 1000  # a scope's most recent papers (scoring cost grows with the seeds)
LIBRARY, COLLECTION, TAG = "library", "collection", "tag"


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """The start of a window: day, week, month, year, Nh/Nd/Nw/Nm/Ny or an ISO date (UTC; a
    date ahead of now is a window with nothing in it, not an error)."""
    now = now or datetime.now(UTC)
    value = (text or "").strip().lower()
    if value in _UNITS:
        return now - timedelta(days=_UNITS[value])
    m = _RELATIVE.match(value)
    if m:
        number, unit = int(m.group(1)), m.group(2)[0]
        days = number * {"h": 1 / 24, "d": 1, "w": 7, "m": 30, "y": 365}[unit]
        if days <= 0:
            raise InputError(f"--since {text!r} is an empty window; use e.g. 7d")
        return now - timedelta(days=days)
    try:
        start = parse_datetime(value)
    except ValueError:
        start = None
    if start is None:
        raise InputError(
            f"cannot read --since {text!r}; use day, week, month, a number of days like 10d, "
            "or an ISO date like 2024-05-01"
        )
    return start


def parse_datetime(value: str | None) -> datetime | None:
    """An aware UTC datetime from an ISO date or date-time (Zotero's dateAdded); None if empty."""
    if not value:
        return None
    text = value.strip().replace(" ", "T", 1) if "T" not in value else value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def seed_weights(ages_days: np.ndarray, window_days: float, *, scoped: bool = False) -> np.ndarray:
    """Recency weights: a seed half a window old weighs half as much as one added now; in a
    scope, a seed older than the window weighs what one at the window's start does (0.25)."""
    half_life = max(window_days / 2.0, 1.0)
    ages = np.clip(ages_days, 0, None)
    if scoped:
        ages = np.minimum(ages, max(window_days, 1.0))
    return np.power(0.5, ages / half_life).astype(np.float32)


@dataclass
class SeedScope:
    """Where the seeds come from: the whole library (the window's papers), or every paper of
    a collection (subcollections included) or of a tag."""

    kind: str = LIBRARY
    target: str = ""  # collection key or tag
    label: str = "the library"
    keys: frozenset[str] | None = None  # library keys in the scope (None: the whole library)

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "target": self.target, "label": self.label}


def resolve_collection(store: Store, text: str) -> Collection:
    """A collection by key, by name (case-insensitive) or by path ("Parent/Child")."""
    wanted = (text or "").strip()
    if not wanted:
        raise InputError("no collection given; pass a collection name or key")
    collections = store.collections()
    by_key = [c for c in collections if c.key == wanted]
    if by_key:
        return by_key[0]
    paths = collection_paths(collections)
    folded = wanted.casefold()
    found = [c for c in collections if c.name.casefold() == folded]
    found = found or [c for c in collections if paths[(c.library, c.key)].casefold() == folded]
    if len(found) == 1:
        return found[0]
    if found:
        listed = "; ".join(f"{c.key}: {paths[(c.library, c.key)]}" for c in found[:5])
        raise AmbiguousItemError(
            f"{len(found)} collections are called {wanted!r} ({listed}); pass a key or a path"
        )
    known = ", ".join(sorted({c.name for c in collections})[:8])
    raise ItemNotFoundError(
        f"no collection {wanted!r}"
        + (f"; known: {known}" if known else "; sync a Zotero library first")
        + " (`specter-desk feeds collections` lists them)"
    )


def collection_paths(collections: list[Collection]) -> dict[tuple[str, str], str]:
    """{(library, key): "Parent/Child"} for every collection."""
    by_key = {(c.library, c.key): c for c in collections}
    paths: dict[tuple[str, str], str] = {}
    for (library, key), collection in by_key.items():
        names, seen, current = [], set(), collection
        while current is not None and (library, current.key) not in seen:
            seen.add((library, current.key))
            names.append(current.name)
            current = by_key.get((library, current.parent)) if current.parent else None
        paths[(library, key)] = "/".join(reversed(names))
    return paths


def with_subcollections(collections: list[Collection], root: Collection) -> set[str]:
    """The keys of a collection and every collection under it (one library)."""
    children: dict[str, list[str]] = {}
    for c in collections:
        if c.library == root.library and c.parent:
            children.setdefault(c.parent, []).append(c.key)
    keys, todo = set(), [root.key]
    while todo:
        key = todo.pop()
        if key not in keys:
            keys.add(key)
            todo.extend(children.get(key, []))
    return keys


def seed_scope(store: Store, *, collection: str | None = None, tag: str | None = None) -> SeedScope:
    """The scope for --collection and/or --tag (both: the collection's papers with that tag),
    else the whole library."""
    scope = SeedScope()
    if collection:
        found = resolve_collection(store, collection)
        keys = with_subcollections(store.collections(found.library), found)
        scope = SeedScope(
            COLLECTION,
            found.key,
            f"collection {found.name!r}",
            frozenset(store.keys_in_collections(keys)),
        )
    if tag is not None:
        wanted = tag.strip()
        if not wanted:
            raise InputError("--tag is empty; pass a tag name")
        tagged = frozenset(store.keys_with_tag(wanted))
        if scope.keys is None:
            return SeedScope(TAG, wanted, f"tag {wanted!r}", tagged)
        scope.label += f" with tag {wanted!r}"
        scope.keys = scope.keys & tagged
    return scope


def find_seeds(
    store: Store, start: datetime, now: datetime, scope: SeedScope | None = None
) -> list[tuple[Paper, datetime]]:
    """Live library papers added in [start, now] (or, in a scope, every paper of it up to now),
    newest first."""
    scope = scope or SeedScope()
    latest = now + timedelta(minutes=5)
    if scope.keys is None:
        # the window in SQL, on the date alone; two days either side cover any UTC offset
        rows = store.dates_added(
            since=(start - timedelta(days=2)).date().isoformat(),
            before=(latest + timedelta(days=3)).date().isoformat(),
        )
    else:
        rows = store.dates_added(keys=scope.keys)
    dated = []
    for key, text in rows:
        try:
            added = parse_datetime(text)
        except ValueError:
            added = None
        if scope.keys is not None:
            added = added or datetime(1970, 1, 1, tzinfo=UTC)  # undated: counts, weighs least
            if added <= latest:
                dated.append((key, added))
        elif added is not None and start <= added <= latest:
            dated.append((key, added))
    dated.sort(key=lambda ka: (ka[1], ka[0]), reverse=True)
    if scope.keys is not None:
        dated = dated[:MAX_SCOPED_SEEDS]
    papers = store.get_papers(key for key, _ in dated)
    return [(papers[key], added) for key, added in dated if key in papers]
