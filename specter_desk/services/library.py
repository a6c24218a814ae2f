"""Adding papers to the store from an import, reporting key clashes instead of overwriting."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models import Paper
from ..store import Store


@dataclass
class ImportResult:
    """What an import did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    clashes: list[str] = field(default_factory=list)  # keys owned by another library

    def to_dict(self) -> dict:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "clashes": self.clashes,
        }


def import_papers(store: Store, papers: list[Paper]) -> ImportResult:
    """Upsert papers in one transaction; a key held by another library is reported, not replaced."""
    result = ImportResult()
    existing = store.get_papers(p.key for p in papers)
    seen: set[str] = set()
    to_write: list[Paper] = []
    for paper in papers:
        old = existing.get(paper.key)
        if paper.key in seen or (old is not None and old.library != paper.library):
            result.clashes.append(paper.key)
            continue
        seen.add(paper.key)
        if old is None:
            result.added += 1
        elif _same(old, paper):
            result.unchanged += 1
            continue
        else:
            result.updated += 1
        to_write.append(paper)
    store.upsert_papers(to_write)
    return result


def _same(a: Paper, b: Paper) -> bool:
    da, db = a.to_dict(), b.to_dict()
    for d in (da, db):
        d.pop("raw", None)
    return da == db
