"""Duplicate detection on plain Paper objects: records -> blocking -> scoring -> clusters."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from ...index import PaperIndex
from ...models import Paper
from .blocking import candidate_pairs
from .clustering import DuplicateReport, cluster_pairs, version_groups
from .records import Record, mark_recurring
from .scoring import PairScore, score_pair

DEFAULT_MIN_SCORE = 0.9
NEIGHBOURS = 5  # embedding neighbours looked at per paper
NEIGHBOUR_MIN_COSINE = 0.9  # below this an embedding neighbour is not worth scoring


def _unit(vector: np.ndarray | None) -> np.ndarray | None:
    if vector is None:
        return None
    vector = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else None


def build_records(papers: Sequence[Paper], index: PaperIndex | None = None) -> list[Record]:
    """One Record per paper, with its (unit) vector from the index when it has one; titles that
    recur across years or volumes of these papers are marked (columns, not works)."""
    records = [
        Record.from_paper(p, _unit(index.vector(p.key)) if index is not None else None)
        for p in papers
    ]
    mark_recurring(records)
    return records


def neighbour_pairs(
    records: list[Record],
    index: PaperIndex,
    *,
    k: int = NEIGHBOURS,
    min_cosine: float = NEIGHBOUR_MIN_COSINE,
    split: int | None = None,
) -> set[tuple[int, int]]:
    """Pairs of records that are close embedding neighbours in the index."""
    position = {r.key: i for i, r in enumerate(records)}
    if split is not None:  # only neighbours among records[split:] are of interest
        allowed = {r.key for r in records[split:]}
        queries = [i for i in range(split) if records[i].vector is not None]
    else:
        allowed = set(position)
        queries = [i for i, r in enumerate(records) if r.vector is not None]
    if not queries or not len(index):
        return set()
    matrix = np.stack([records[i].vector for i in queries])
    # a filtered index query costs more than filtering afterwards here, unless most of the
    # index lies outside the records of interest.
    use_filter = len(index) > 2 * len(allowed)
    want = k if use_filter else k + 1 + (len(index) - len(allowed) > 0) * k
    pairs: set[tuple[int, int]] = set()
    for start in range(0, len(queries), 2048):
        chunk = queries[start : start + 2048]
        hits = index.query(
            matrix[start : start + 2048], want, allow=allowed if use_filter else None
        )
        for i, row in zip(chunk, hits, strict=True):
            for key, cosine in row:
                j = position.get(key)
                if j is not None and j != i and cosine >= min_cosine and key in allowed:
                    pairs.add((i, j) if i < j else (j, i))
    return pairs


def score_pairs(
    records: list[Record],
    pairs: set[tuple[int, int]],
    progress: Callable[[int, int], None] | None = None,
) -> dict[tuple[int, int], PairScore]:
    """Score every candidate pair; progress(done, total) is called now and then."""
    scored = {}
    for done, (i, j) in enumerate(sorted(pairs), start=1):
        scored[(i, j)] = score_pair(records[i], records[j])
        if progress is not None and (done % 2000 == 0 or done == len(pairs)):
            progress(done, len(pairs))
    return scored


def key_pairs(records: list[Record], pairs: Iterable[tuple[str, str]]) -> set[tuple[int, int]]:
    """Index pairs for (key, key) pairs; keys not among the records are ignored."""
    position = {r.key: i for i, r in enumerate(records)}
    found = set()
    for a, b in pairs:
        i, j = position.get(a), position.get(b)
        if i is not None and j is not None and i != j:
            found.add((min(i, j), max(i, j)))
    return found


def report(
    records: list[Record],
    scored: dict[tuple[int, int], PairScore],
    min_score: float,
    distinct: Iterable[tuple[str, str]] = (),
) -> DuplicateReport:
    """Duplicate clusters, then version groups, from scored pairs; pairs marked distinct apart."""
    apart = key_pairs(records, distinct)
    clusters = cluster_pairs(records, scored, min_score, distinct=apart)
    versions = version_groups(records, scored, min_score, clusters, distinct=apart)
    return DuplicateReport(clusters, versions)


def detect_duplicates(
    papers: Sequence[Paper],
    index: PaperIndex | None = None,
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    records: list[Record] | None = None,
    distinct: Iterable[tuple[str, str]] = (),
    progress: Callable[[int, int], None] | None = None,
) -> DuplicateReport:
    """Duplicate clusters and version groups among papers (no store needed)."""
    records = records if records is not None else build_records(papers, index)
    extra = neighbour_pairs(records, index) if index is not None else set()
    scored = score_pairs(records, candidate_pairs(records, extra=extra), progress)
    return report(records, scored, min_score, distinct)
