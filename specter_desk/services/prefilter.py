"""Which candidates recommend() scores: every one of a small pool, the index's nearest of a
large one.

Scoring every candidate reads every candidate vector from SQLite on every call (0.5 s at 17k
candidates, seconds at 1M). A candidate can only reach the top of the ranking by being close
to what the ranking rewards: to a seed (the soft maximum over seeds never exceeds the best
seed's similarity), to the seeds together (their weighted centre), or to the feedback
classifier's direction. So in a large index the candidates scored are the union of the
PER_QUERY nearest eligible candidates of each seed (the heaviest MAX_SEEDS when there are
more) and a wider `want` along the centre and the direction, plus every candidate the citation
graph links to the seeds when the ranking uses citations; their vectors come from the index
(as stored, when it keeps float32) and recommend() scores them exactly as it scores a whole
pool. Small pools, the library (`--from library`) and a pool too thin near the seeds to
yield `want` by searching are scored whole: benchmarks/recommend_speed.py measures both
paths and how often they agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from ..index import PaperIndex
from ..models import CANDIDATE_POOL, LIBRARY_POOL
from ..store import Store
from .citations.graph import CitationGraph, evidence
from .citations.pool import CITING_LIBRARY, CITING_POOL

# Fewer candidates in the index than this (what is not library) are scored whole: reading
# them is cheaper than searching (measured: benchmarks/RESULTS.md, "Recommendation speed").
EXACT_BELOW = 20_000
PER_QUERY = 50  # nearest eligible candidates kept per query
MAX_SEEDS = 32  # seeds searched when there are more: the heaviest (most recent) ones
MAX_FETCH = 1024  # hits read per query at most (a pool this thin near a seed: what was found)


@dataclass
class CandidateSet:
    """The candidates to score, sorted by key, with their vectors; `nearest` when they are
    the index's nearest to the queries rather than the whole pool."""

    keys: list[str]
    vectors: np.ndarray
    pool_size: int
    nearest: bool = False


@dataclass
class Queries:
    """Where to search: around each (heavy) seed, and along what ranks the whole list."""

    seeds: np.ndarray  # the heaviest MAX_SEEDS seeds: PER_QUERY nearest candidates each
    ranking: np.ndarray  # the seeds' centre, the classifier's direction: `want` nearest each


def search_queries(
    seed_vectors: np.ndarray, weights: np.ndarray, direction: np.ndarray | None = None
) -> Queries:
    """Unit rows to search around: the heaviest MAX_SEEDS seeds (ties: the earlier row), and
    their weighted centre (the soft maximum tends to the weighted mean when a candidate is
    about as close to every seed) and the classifier's direction when there is one (its
    score grows with the cosine to it)."""
    heaviest = np.argsort(-weights, kind="stable")[:MAX_SEEDS]
    ranking = [(weights[:, None] * seed_vectors).sum(axis=0)] if len(seed_vectors) > 1 else []
    if direction is not None:
        ranking.append(direction)
    dim = seed_vectors.shape[1]
    return Queries(_unit(seed_vectors[heaviest]), _unit(np.reshape(ranking, (len(ranking), dim))))


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def candidates_to_score(
    store: Store,
    index: PaperIndex,
    source: str,
    *,
    votes: dict[str, int],
    queries: Queries,
    want: int,
    whole_pool: Callable[[], list[str]],
    seed_keys: list[str] | None = None,
) -> CandidateSet:
    """The candidates of source worth scoring for these queries: the index's nearest (plus
    those citing or cited near seed_keys, when given) in a large index, else the whole pool
    (whole_pool() lists its keys). want: how many the ranking may walk past (copies, library
    papers) before it has enough."""
    # the candidates' share of the index (its library count is one indexed count)
    if source != LIBRARY_POOL and len(index) - store.count_papers() >= EXACT_BELOW:
        found = _nearest(index, Eligible(store, source, votes), queries, want, seed_keys)
        if found is not None and len(found.keys) >= want:
            return found
    keys = whole_pool()
    found_keys, _, vectors = store.vectors(index.model, sorted(keys))
    return CandidateSet(found_keys, vectors, len(keys))


@dataclass
class Eligible:
    """What source recommends from: live papers of its pool, not voted down (each key is
    looked up once per call)."""

    store: Store
    source: str
    votes: dict[str, int]
    checked: dict[str, bool] = field(default_factory=dict)

    def among(self, keys: Iterable[str]) -> set[str]:
        """Those of keys that may be recommended."""
        keys = list(keys)
        unknown = sorted({k for k in keys if k not in self.checked})
        if self.source == CITING_POOL:
            live = self.store.keys_among(unknown, library=CITING_LIBRARY)
        else:
            live = self.store.keys_among(unknown, pool=CANDIDATE_POOL)
        self.checked.update((k, k in live and self.votes.get(k, 0) >= 0) for k in unknown)
        return {k for k in keys if self.checked[k]}


def _nearest(
    index: PaperIndex,
    eligible: Eligible,
    queries: Queries,
    want: int,
    seed_keys: list[str] | None,
) -> CandidateSet | None:
    """The union of the queries' nearest eligible candidates (and the linked ones); None when
    there are none (the caller scores the whole pool when too few were found)."""
    chosen: set[str] = set()
    for rows, per_query in ((queries.seeds, PER_QUERY), (queries.ranking, max(PER_QUERY, want))):
        if len(rows):
            chosen |= _search(index, eligible, rows, per_query)
    if seed_keys:
        chosen |= eligible.among(linked_candidates(eligible.store, seed_keys))
    if not chosen:
        return None
    keys = sorted(chosen)
    if index.params.dtype == "f32":  # the graph keeps the stored vectors as they are
        keys, vectors = index.vectors(keys)
    else:
        keys, _, vectors = eligible.store.vectors(index.model, keys)
    return CandidateSet(keys, vectors, len(keys), nearest=True)


def _search(index: PaperIndex, eligible: Eligible, queries: np.ndarray, per_query: int) -> set[str]:
    """Each query's per_query nearest eligible candidates, fetching more while the library or
    other pools crowd them out, up to MAX_FETCH hits per query (then what was found)."""
    fetch = min(2 * per_query, len(index))
    while True:
        rows = index.query(queries, fetch, threads=0)  # the rows are searched on every core
        allowed = eligible.among(key for row in rows for key, _ in row)
        kept = [[key for key, _ in row if key in allowed][:per_query] for row in rows]
        if all(len(k) >= per_query or len(row) < fetch for k, row in zip(kept, rows, strict=True)):
            return {key for picked in kept for key in picked}
        if fetch >= min(MAX_FETCH, len(index)):
            return {key for picked in kept for key in picked}
        fetch = min(4 * fetch, MAX_FETCH, len(index))


def linked_candidates(store: Store, seed_keys: list[str]) -> set[str]:
    """Keys of live non-library papers whose work the citation graph links to a seed's work
    (what citation_links() scores among candidates)."""
    matches = store.work_matches(seed_keys)
    seed_works = {m["work"] for m in matches.values() if m.get("work")}
    if not seed_works:
        return set()
    graph = CitationGraph.around(store, seed_works)
    linked = [work for work, found in evidence(graph, seed_works).items() if found.score > 0]
    return {
        key
        for rows in store.keys_for_works(linked).values()
        for key, pool in rows
        if pool != LIBRARY_POOL
    }
