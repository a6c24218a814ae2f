"""Scored pairs grouped into clusters (union-find), with a suggested master and merged fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...models import Paper
from .records import Record
from .scoring import PairScore


@dataclass
class DuplicatePair:
    """Two records judged to be the same work."""

    a: str
    b: str
    score: float
    reasons: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "score": round(self.score, 4), "reasons": self.reasons}


@dataclass
class DuplicateCluster:
    """Records of one work: the suggested master, the evidence and what a merge would keep."""

    id: str
    score: float
    master: str
    papers: list[Paper]
    pairs: list[DuplicatePair]
    merged: dict[str, Any] = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.papers]

    def to_dict(self) -> dict[str, Any]:
        """The shape of one entry of `/v1/duplicates` (bridge/API.md)."""
        return {
            "id": self.id,
            "score": round(self.score, 4),
            "master": self.master,
            "papers": [
                {
                    "key": p.key,
                    "title": p.title,
                    "year": p.year,
                    "first_author": p.first_author,
                    "doi": p.doi,
                    "item_type": p.item_type,
                }
                for p in self.papers
            ],
            "pairs": [pair.to_dict() for pair in self.pairs],
            "merged": self.merged,
        }


class _Clusters:
    """Union-find that refuses to join groups holding contradicting identifiers."""

    def __init__(self, records: list[Record]):
        self.parent = list(range(len(records)))
        self.ids: list[dict[str, set[str]]] = [_identifiers(r.paper) for r in records]

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> bool:
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return True
        a, b = self.ids[ri], self.ids[rj]
        for name in ("doi", "arxiv", "pmid"):
            if a[name] and b[name] and not (a[name] & b[name]):
                return False
        self.parent[rj] = ri
        for name in ("doi", "arxiv", "pmid"):
            a[name] |= b[name]
        return True


def _identifiers(paper: Paper) -> dict[str, set[str]]:
    doi = paper.doi if paper.doi and not paper.doi.startswith("10.48550/") else None
    return {
        "doi": {doi} if doi else set(),
        "arxiv": {paper.arxiv_id} if paper.arxiv_id else set(),
        "pmid": {paper.pmid} if paper.pmid else set(),
    }


def master_rank(record: Record) -> tuple:
    """Smallest first: published over preprint, the most filled-in record, then the oldest."""
    p = record.paper
    filled = sum(
        bool(x)
        for x in (
            p.abstract,
            p.doi,
            p.venue,
            p.year,
            p.creators,
            record.page,
            record.volume,
            p.url,
            p.isbn,
            p.pmid,
        )
    )
    return (
        record.is_preprint,
        -filled,
        -len(p.creators),
        -len(p.abstract),
        p.date_added or "~",  # ISO dates sort before "~": the oldest added item wins a tie
        p.key,
    )


_MERGE_FIELDS = (
    "title",
    "abstract",
    "doi",
    "arxiv_id",
    "isbn",
    "pmid",
    "year",
    "venue",
    "url",
    "item_type",
)


def merged_fields(records: list[Record]) -> dict[str, Any]:
    """The field values a merge would keep: the master's, gaps filled from the others."""
    ordered = sorted(records, key=master_rank)
    master = ordered[0].paper
    merged: dict[str, Any] = {}
    for name in _MERGE_FIELDS:
        value = getattr(master, name)
        if not value:
            value = next((getattr(r.paper, name) for r in ordered if getattr(r.paper, name)), value)
        merged[name] = value
    longest = max(ordered, key=lambda r: len(r.paper.abstract)).paper.abstract
    if len(longest) > len(merged["abstract"] or ""):
        merged["abstract"] = longest
    merged["creators"] = max((r.paper.creators for r in ordered), key=len)
    merged["tags"] = sorted({t for r in ordered for t in r.paper.tags})
    merged["collections"] = sorted({c for r in ordered for c in r.paper.collections})
    return merged


def cluster_pairs(
    records: list[Record],
    scored: dict[tuple[int, int], PairScore],
    min_score: float,
) -> list[DuplicateCluster]:
    """Clusters of records joined by pairs scoring at least min_score, best pairs first."""
    uf = _Clusters(records)
    kept: list[tuple[int, int]] = []
    for (i, j), result in sorted(scored.items(), key=lambda kv: -kv[1].score):
        if result.score < min_score or result.conflict:
            continue
        if uf.union(i, j):
            kept.append((i, j))
    groups: dict[int, list[int]] = {}
    for i in range(len(records)):
        groups.setdefault(uf.find(i), []).append(i)
    by_root: dict[int, list[tuple[int, int]]] = {}
    for (i, j), result in scored.items():
        if result.score >= min_score and not result.conflict and uf.find(i) == uf.find(j):
            by_root.setdefault(uf.find(i), []).append((i, j))
    spanning = {uf.find(i): [] for i, _ in kept}
    for i, j in kept:
        spanning[uf.find(i)].append((i, j))
    clusters = []
    for root, members in groups.items():
        if len(members) < 2:
            continue
        pairs = by_root[root]
        group = [records[i] for i in members]
        master = min(group, key=master_rank)
        ordered = [master] + sorted((r for r in group if r is not master), key=lambda r: r.key)
        clusters.append(
            DuplicateCluster(
                id="dup-" + min(r.key for r in group),
                score=min(scored[p].score for p in spanning[root]),
                master=master.key,
                papers=[r.paper for r in ordered],
                pairs=[
                    DuplicatePair(
                        records[i].key, records[j].key, scored[(i, j)].score, scored[(i, j)].reasons
                    )
                    for i, j in sorted(pairs, key=lambda p: -scored[p].score)
                ],
                merged=merged_fields(group),
            )
        )
    clusters.sort(key=lambda c: (-c.score, c.id))
    return clusters
