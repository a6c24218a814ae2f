"""Scored pairs grouped into duplicate clusters and version groups, with a suggested master."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ...models import Paper
from .records import Record
from .scoring import DUPLICATE, VERSION, PairScore

DUPLICATES = "duplicates"
VERSIONS = "versions"


@dataclass
class DuplicatePair:
    """Two records judged to be the same work, and why they are versions if they are."""

    a: str
    b: str
    score: float
    reasons: list[str]
    versions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = {"a": self.a, "b": self.b, "score": round(self.score, 4), "reasons": self.reasons}
        data["versions"] = self.versions
        return data


@dataclass
class DuplicateCluster:
    """Records of one work: the suggested master, the evidence and what a merge would keep.

    kind is "duplicates" (one publication recorded twice: merge) or "versions" (a preprint
    and its article, a conference paper and its journal version: merge keeping the master,
    or link as related).
    """

    id: str
    score: float
    master: str
    papers: list[Paper]
    pairs: list[DuplicatePair]
    merged: dict[str, Any] = field(default_factory=dict)
    kind: str = DUPLICATES

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.papers]

    @property
    def mixed_types(self) -> bool:
        """True when the papers have more than one Zotero item type (a cross-type merge)."""
        return len({p.item_type for p in self.papers}) > 1

    def to_dict(self) -> dict[str, Any]:
        """The shape of one entry of `/v1/duplicates` (bridge/API.md)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "score": round(self.score, 4),
            "master": self.master,
            "mixed_types": self.mixed_types,
            "papers": [
                {
                    "key": p.key,
                    "title": p.title,
                    "year": p.year,
                    "first_author": p.first_author,
                    "doi": p.doi,
                    "item_type": p.item_type,
                    "venue": p.venue,
                }
                for p in self.papers
            ],
            "pairs": [pair.to_dict() for pair in self.pairs],
            "merged": self.merged,
        }


@dataclass
class DuplicateReport:
    """Duplicate clusters (merge) and version groups (merge or relate), each best first."""

    clusters: list[DuplicateCluster]
    versions: list[DuplicateCluster]

    def to_dict(self) -> dict[str, Any]:
        """The body of `/v1/duplicates` and of `duplicates --json`."""
        return {
            "clusters": [c.to_dict() for c in self.clusters],
            "versions": [v.to_dict() for v in self.versions],
        }


class _Clusters:
    """Union-find that refuses joins across contradicting identifiers or pairs marked distinct."""

    def __init__(self, records: list[Record], distinct: Iterable[tuple[int, int]] = ()):
        self.records = records
        self.parent = list(range(len(records)))
        self.members: dict[int, list[int]] = {}  # roots of groups of two or more
        self.ids: dict[int, dict[str, set[str]]] = {}  # by root, filled when first joined
        self.apart: dict[int, set[int]] = {}
        for i, j in distinct:
            self.apart.setdefault(i, set()).add(j)
            self.apart.setdefault(j, set()).add(i)

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def _members(self, root: int) -> list[int]:
        return self.members.get(root, [root])

    def _ids(self, root: int) -> dict[str, set[str]]:
        if root not in self.ids:
            self.ids[root] = _identifiers(self.records[root].paper)
        return self.ids[root]

    def union(self, i: int, j: int, *, check_ids: bool = True) -> bool:
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return True
        a, b = self._ids(ri), self._ids(rj)
        if check_ids:
            for name in ("doi", "arxiv", "pmid"):
                if a[name] and b[name] and not (a[name] & b[name]):
                    return False
        if self.apart:
            small, large = sorted((ri, rj), key=lambda r: len(self._members(r)))
            if any(
                self.find(x) == large for m in self._members(small) for x in self.apart.get(m, ())
            ):
                return False
        self.parent[rj] = ri
        self.members[ri] = self._members(ri) + self._members(rj)
        self.members.pop(rj, None)
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


def merged_fields(records: list[Record], rank=master_rank) -> dict[str, Any]:
    """The field values a merge would keep: the master's, gaps filled from the others."""
    ordered = sorted(records, key=rank)
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


def _pair(records: list[Record], scored: dict[tuple[int, int], PairScore], i: int, j: int):
    result = scored[(i, j)]
    return DuplicatePair(
        records[i].key, records[j].key, result.score, result.reasons, result.version_reasons
    )


def _groups(uf: _Clusters, kept: list[tuple[int, int]]) -> dict[int, list[int]]:
    """Members of every component of two or more records that a kept pair touches, by root."""
    roots = {uf.find(i) for i, j in kept if i != j}
    return {root: sorted(uf.members[root]) for root in roots if root in uf.members}


def cluster_pairs(
    records: list[Record],
    scored: dict[tuple[int, int], PairScore],
    min_score: float,
    *,
    distinct: Iterable[tuple[int, int]] = (),
) -> list[DuplicateCluster]:
    """Clusters of duplicates: records joined by duplicate pairs scoring at least min_score.

    Pairs are joined best first; a join that would put two different DOIs, arXiv ids or PMIDs
    in one cluster, or two records marked distinct, is refused. Version pairs never join.
    """
    uf = _Clusters(records, distinct)
    kept: list[tuple[int, int]] = []
    for (i, j), result in sorted(scored.items(), key=lambda kv: (-kv[1].score, kv[0])):
        if result.score < min_score or result.conflict or result.kind != DUPLICATE:
            continue
        if uf.union(i, j):
            kept.append((i, j))
    spanning: dict[int, list[tuple[int, int]]] = {}
    for i, j in kept:
        spanning.setdefault(uf.find(i), []).append((i, j))
    by_root: dict[int, list[tuple[int, int]]] = {}
    for (i, j), result in scored.items():
        if (
            result.score >= min_score
            and result.kind == DUPLICATE
            and not result.conflict
            and uf.find(i) == uf.find(j)
        ):
            by_root.setdefault(uf.find(i), []).append((i, j))
    clusters = []
    for root, members in _groups(uf, kept).items():
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
                    _pair(records, scored, i, j)
                    for i, j in sorted(by_root[root], key=lambda p: (-scored[p].score, p))
                ],
                merged=merged_fields(group),
            )
        )
    clusters.sort(key=lambda c: (-c.score, c.id))
    return clusters


# Which version to keep when versions are merged: the published article first.
_FAMILY_RANK = {"article": 0, "conference": 1, "chapter": 2, "book": 3, "": 4, "report": 5}


_KIND_FAMILY = {"journal": "article", "conference": "conference"}


def version_rank(record: Record) -> tuple:
    """Smallest first: a journal article over a conference paper over a report or preprint
    (an untyped record is ranked by its venue's kind: 'VLDB J.' is a journal)."""
    family = record.family or _KIND_FAMILY.get(record.venue_kind, "")
    return (record.is_preprint, _FAMILY_RANK.get(family, 6), master_rank(record))


def version_groups(
    records: list[Record],
    scored: dict[tuple[int, int], PairScore],
    min_score: float,
    clusters: list[DuplicateCluster],
    *,
    distinct: Iterable[tuple[int, int]] = (),
) -> list[DuplicateCluster]:
    """Groups of versions of one work: duplicate clusters and single records joined by version
    pairs scoring at least min_score (different DOIs allowed: versions have their own)."""
    position = {r.key: i for i, r in enumerate(records)}
    uf = _Clusters(records, distinct)
    for cluster in clusters:
        first = position[cluster.papers[0].key]
        for paper in cluster.papers[1:]:
            uf.union(first, position[paper.key], check_ids=False)
    kept: list[tuple[int, int]] = []
    for (i, j), result in sorted(scored.items(), key=lambda kv: (-kv[1].score, kv[0])):
        if result.score < min_score or result.kind != VERSION:
            continue
        if uf.find(i) != uf.find(j) and uf.union(i, j, check_ids=False):
            kept.append((i, j))
    spanning: dict[int, list[tuple[int, int]]] = {}
    for i, j in kept:
        spanning.setdefault(uf.find(i), []).append((i, j))
    groups = []
    for root, members in _groups(uf, kept).items():
        group = [records[i] for i in members]
        keep = min(group, key=version_rank)
        ordered = [keep] + sorted((r for r in group if r is not keep), key=version_rank)
        links = sorted(spanning[root], key=lambda p: (-scored[p].score, p))
        groups.append(
            DuplicateCluster(
                id="ver-" + min(r.key for r in group),
                score=min(scored[p].score for p in links),
                master=keep.key,
                papers=[r.paper for r in ordered],
                pairs=[_pair(records, scored, i, j) for i, j in links],
                merged=merged_fields(group, rank=version_rank),
                kind=VERSIONS,
            )
        )
    groups.sort(key=lambda c: (-c.score, c.id))
    return groups
