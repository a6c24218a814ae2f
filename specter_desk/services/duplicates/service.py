"""Duplicates over the store: within a pool, and incoming or candidate papers vs the library."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ...embed.protocol import PaperEncoder
from ...errors import InputError, ItemNotFoundError
from ...index import PaperIndex
from ...models import LIBRARY_POOL, Paper, normalize_title
from ...store import Store, title_tail
from .clustering import DuplicateReport
from .detector import (
    DEFAULT_MIN_SCORE,
    NEIGHBOUR_MIN_COSINE,
    NEIGHBOURS,
    _unit,
    detect_duplicates,
)
from .records import Record, mark_recurring
from .scoring import DUPLICATE, score_pair
from .titles import title_key

_PREFIX = 20  # characters of the normalised title used for indexed prefix lookups


@dataclass
class Match:
    """An incoming paper (by position) that is already in the library as `key`.

    kind is "duplicate" (the same publication) or "version" (another version of the work:
    the preprint of a library article, the journal version of a library conference paper).
    """

    index: int
    key: str
    title: str
    score: float
    reasons: list[str]
    kind: str = DUPLICATE

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = round(self.score, 4)
        return data


def check_min_score(min_score: float) -> float:
    """min_score itself, or InputError when it is not a probability."""
    if not 0.0 <= min_score <= 1.0:
        raise InputError(f"min score must be between 0 and 1, not {min_score}")
    return min_score


def find_duplicates(
    store: Store,
    index: PaperIndex | None = None,
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    pool: str | None = LIBRARY_POOL,
    progress: Callable[[int, int], None] | None = None,
) -> DuplicateReport:
    """Duplicate clusters and version groups in a pool (None: all pools), best first; pairs
    the user marked "not duplicates" are kept apart."""
    check_min_score(min_score)
    papers = list(store.papers(pool=pool))
    distinct = [(a, b) for a, b, _, _ in store.distinct_pairs()]
    return detect_duplicates(
        papers, index, min_score=min_score, distinct=distinct, progress=progress
    )


def mark_distinct(store: Store, keys: Sequence[str], *, distinct: bool = True) -> dict[str, Any]:
    """Remember (or, with distinct=False, forget) that these papers are not duplicates."""
    unique = sorted(set(keys))
    if len(unique) < 2:
        raise InputError("give at least two different paper keys")
    found = store.get_papers(unique)
    missing = [k for k in unique if k not in found]
    if missing:
        raise ItemNotFoundError(f"no paper with key {missing[0]!r} in the store; sync first")
    changed = store.mark_distinct(unique) if distinct else store.unmark_distinct(unique)
    return {
        "keys": unique,
        "distinct": distinct,
        "pairs": len(unique) * (len(unique) - 1) // 2,
        "changed": changed,
    }


def distinct_pairs(store: Store) -> list[dict[str, str]]:
    """Every pair marked "not duplicates", with when and by what."""
    return [
        {"a": a, "b": b, "marked_at": at, "source": source}
        for a, b, at, source in store.distinct_pairs()
    ]


_IDENTIFIERS = ("doi", "arxiv_id", "pmid", "isbn", "key")


def _lookup_keys(store: Store, papers: Sequence[Paper]) -> list[set[str]]:
    """For each paper, the keys of live papers sharing an identifier, the title key, or its
    first or last characters: a few statements for all of them (one per column, IN lists)."""
    titles = [{t for t in (normalize_title(p.title), title_key(p.title)) if t} for p in papers]
    every_title = set().union(*titles)
    by_value = {
        column: store.keys_by(column, {v for p in papers if (v := getattr(p, column))})
        for column in _IDENTIFIERS
    }
    by_title = store.keys_by("title_key", every_title)
    long_titles = [t for t in every_title if len(t) >= _PREFIX]
    by_prefix = store.keys_with_title_prefixes(t[:_PREFIX] for t in long_titles)
    by_tail = store.keys_with_title_tails(long_titles)
    found = []
    for paper, tkeys in zip(papers, titles, strict=True):
        keys: set[str] = set()
        for column in _IDENTIFIERS:
            if value := getattr(paper, column):
                keys.update(by_value[column].get(value, ()))
        for tkey in tkeys:
            keys.update(by_title.get(tkey, ()))
            if len(tkey) >= _PREFIX:
                keys.update(by_prefix.get(tkey[:_PREFIX], ()))
                keys.update(by_tail.get(title_tail(tkey), ()))
        found.append(keys)
    return found


def _best_matches(
    store: Store,
    incoming: Sequence[Paper],
    candidates: list[set[str]],
    *,
    min_score: float,
    index: PaperIndex | None = None,
    vectors: np.ndarray | None = None,
    own_keys: Sequence[str | None] = (),
) -> list[Match]:
    wanted = set().union(*candidates) if candidates else set()
    library = {
        k: p
        for k, p in store.get_papers(wanted).items()
        if p.pool == LIBRARY_POOL and not p.deleted
    }
    lib_records = {
        k: Record.from_paper(p, _unit(index.vector(k)) if index is not None else None)
        for k, p in library.items()
    }
    mark_recurring(lib_records.values())  # the candidates hold every record of a title
    own = list(own_keys) + [None] * (len(incoming) - len(own_keys))
    # an incoming paper is known by its own key when it has one (a Zotero item being added)
    incoming_keys = [own[i] or p.key for i, p in enumerate(incoming)]
    apart = {(a, b) for a, b, _, _ in store.distinct_pairs(incoming_keys)} if library else set()
    matches = []
    for i, paper in enumerate(incoming):
        if lib_records.keys().isdisjoint(candidates[i]):
            continue  # nothing in the library to score it against
        vector = _unit(vectors[i]) if vectors is not None else None
        record = Record.from_paper(paper, vector)
        best: tuple[tuple[bool, float], str, list[str], str] | None = None
        me = incoming_keys[i]
        for key in sorted(candidates[i]):
            other = lib_records.get(key)
            if other is None or key == own[i] or (min(key, me), max(key, me)) in apart:
                continue
            result = score_pair(record, other)
            # a duplicate beats a version; a version with its own DOI is still the same work
            rank = (result.kind == DUPLICATE and not result.conflict, result.score)
            if result.score >= min_score and (best is None or rank > best[0]):
                best = (rank, key, result.reasons, DUPLICATE if rank[0] else "version")
        if best:
            score = best[0][1]
            matches.append(Match(i, best[1], library[best[1]].title, score, best[2], best[3]))
    return matches


def check_papers(
    store: Store,
    incoming: list[Paper],
    index: PaperIndex | None = None,
    encoder: PaperEncoder | None = None,
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    own_keys: Sequence[str | None] = (),
) -> list[Match]:
    """The incoming papers that are already in the library, with the library paper they match.

    Lookups are indexed (identifiers, title key, title prefix); with an index and an encoder the
    incoming papers are also embedded and their nearest library neighbours are scored.
    own_keys[i], when given, is the library key the incoming paper i already has (a Zotero item
    just added, which a sync may have stored already): it is never its own match, and pairs
    marked "not duplicates" with it are respected.
    """
    check_min_score(min_score)
    candidates = _lookup_keys(store, incoming)
    vectors = None
    if index is not None and encoder is not None and len(index) and incoming:
        vectors = encoder.encode_papers(incoming)
        library_keys = store.keys_in_pool(LIBRARY_POOL)
        hits = index.query(vectors, NEIGHBOURS, allow=library_keys)
        for i, row in enumerate(hits):
            candidates[i].update(k for k, cos in row if cos >= NEIGHBOUR_MIN_COSINE)
    return _best_matches(
        store,
        incoming,
        candidates,
        min_score=min_score,
        index=index,
        vectors=vectors,
        own_keys=own_keys,
    )


def library_matches(
    store: Store, papers: Sequence[Paper], *, min_score: float = DEFAULT_MIN_SCORE
) -> dict[str, str]:
    """{paper key: library key} for the papers that are the same work as a library paper:
    a duplicate or another version of it (a preprint of a library article counts: the user
    has the work). Pairs marked "not duplicates" never match."""
    candidates = _lookup_keys(store, papers)
    for paper, keys in zip(papers, candidates, strict=True):
        keys.discard(paper.key)
    found = _best_matches(store, papers, candidates, min_score=min_score)
    return {papers[m.index].key: m.key for m in found}


def library_match(store: Store, paper: Paper) -> str | None:
    """The key of a library paper that is the same work as paper, or None (indexed lookups)."""
    if paper.pool == LIBRARY_POOL and not paper.deleted:
        stored = store.get_paper(paper.key)
        if stored is not None and stored.pool == LIBRARY_POOL and not stored.deleted:
            return paper.key
    return library_matches(store, [paper]).get(paper.key)
