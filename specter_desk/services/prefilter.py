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
from ..models import CANDIDATE_POOL, LIBRARY_POOL, Paper
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
    eligible: Eligible | None = None  # nearest: what checks each paper as read


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


# Outside a pool with at most this many live papers (the library, mostly) is read whole once
# per call and hits are checked in memory; a larger one is looked up per hit in SQL.
OUTSIDE_AT_MOST = 10_000


@dataclass
class Eligible:
    """What source recommends from: live papers of its pool, not voted down. For the
    candidates, the index's hits are checked against the (small) rest of the store in memory;
    otherwise each key is looked up once per call. admits() checks a paper as read, for what
    the index holds but the store no longer does (a paper deleted since the index was saved)."""

    store: Store
    source: str
    votes: dict[str, int]
    checked: dict[str, bool] = field(default_factory=dict)
    outside: set[str] | None = None  # live keys of other pools, and the voted down

    def __post_init__(self) -> None:
        if self.source == CANDIDATE_POOL:
            keys = self.store.keys_outside_pool(CANDIDATE_POOL, limit=OUTSIDE_AT_MOST + 1)
            if len(keys) <= OUTSIDE_AT_MOST:
                self.outside = keys | {k for k, vote in self.votes.items() if vote < 0}

    def among(self, keys: Iterable[str]) -> set[str]:
        """Those of keys (the index's) that may be recommended."""
        if self.outside is not None:
            return set(keys) - self.outside
        keys = list(keys)
        unknown = sorted({k for k in keys if k not in self.checked})
        if self.source == CITING_POOL:
            live = self.store.keys_among(unknown, library=CITING_LIBRARY)
        else:
            live = self.store.keys_among(unknown, pool=CANDIDATE_POOL)
        self.checked.update((k, k in live and self.votes.get(k, 0) >= 0) for k in unknown)
        return {k for k in keys if self.checked[k]}

    def admits(self, paper: Paper) -> bool:
        """Whether this stored paper may be recommended."""
        if paper.deleted or self.votes.get(paper.key, 0) < 0:
            return False
        if self.source == CITING_POOL:
            return paper.library == CITING_LIBRARY
        return paper.pool == CANDIDATE_POOL


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
    return CandidateSet(keys, vectors, len(keys), nearest=True, eligible=eligible)


def _search(index: PaperIndex, eligible: Eligible, queries: np.ndarray, per_query: int) -> set[str]:
    """Each query's per_query nearest eligible candidates. A row that the library or other
    pools crowd is searched again, alone, for more (in proportion to what was dropped), up to
    MAX_FETCH hits (then what was found)."""
    cap = min(MAX_FETCH, len(index))
    fetch = min(2 * per_query, cap)
    todo = list(range(len(queries)))
    kept: dict[int, list[str]] = {}
    while todo:
        rows = index.nearest_keys(queries[todo], fetch, threads=0)  # rows on every core
        allowed = eligible.among(key for row in rows for key in row)
        short = []
        for i, row in zip(todo, rows, strict=True):
            kept[i] = [key for key in row if key in allowed][:per_query]
            if len(kept[i]) < per_query and len(row) >= fetch and fetch < cap:
                short.append((i, len(kept[i])))
        todo = [i for i, _ in short]
        if short:  # the share kept in the most crowded row, with a margin
            least = max(1, min(found for _, found in short))
            fetch = min(cap, max(fetch + 1, -(-fetch * per_query * 5 // (4 * least))))
    return {key for picked in kept.values() for key in picked}


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
