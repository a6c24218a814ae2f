"""Duplicate detection on plain Paper objects: records -> blocking -> scoring -> clusters."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...index import PaperIndex
from ...models import Paper
from .blocking import candidate_pairs
from .clustering import DuplicateCluster, cluster_pairs
from .records import Record
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
    """One Record per paper, with its (unit) vector from the index when it has one."""
    return [
        Record.from_paper(p, _unit(index.vector(p.key)) if index is not None else None)
        for p in papers
    ]


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
    records: list[Record], pairs: set[tuple[int, int]]
) -> dict[tuple[int, int], PairScore]:
    """Score every candidate pair."""
    return {(i, j): score_pair(records[i], records[j]) for i, j in pairs}


def detect_duplicates(
    papers: Sequence[Paper],
    index: PaperIndex | None = None,
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    records: list[Record] | None = None,
) -> list[DuplicateCluster]:
    """Clusters of duplicate papers among papers (no store needed)."""
    records = records if records is not None else build_records(papers, index)
    extra = neighbour_pairs(records, index) if index is not None else set()
    scored = score_pairs(records, candidate_pairs(records, extra=extra))
    return cluster_pairs(records, scored, min_score)
