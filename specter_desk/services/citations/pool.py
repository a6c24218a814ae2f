"""The candidate pool "new papers citing your library": recent works that cite library papers.

`citations sync` keeps them as candidates (library "openalex:citing", keys "openalex:W..."),
so `recommend` ranks them with everything else and `recommend --from citing` ranks only them.
`citing_papers()` is the lever other services use (which candidates cite which seeds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ...clock import now_iso
from ...models import CANDIDATE_POOL, LIBRARY_POOL, Work
from ...store import Store
from ...sync.writer import import_papers

CITING_POOL = "citing"  # recommend's source name for this pool
CITING_LIBRARY = "openalex:citing"
KEY_PREFIX = "openalex:"


@dataclass
class CitingPaper:
    """A work citing library papers: which ones, and its candidate key once it is in the pool."""

    work: Work
    cites: list[str] = field(default_factory=list)  # library keys it cites
    key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "work": self.work.id,
            "title": self.work.title,
            "year": self.work.year,
            "publication_date": self.work.publication_date,
            "doi": self.work.doi,
            "cites": self.cites,
        }


def pool_key(work_id: str) -> str:
    """The candidate key of a citing work."""
    return KEY_PREFIX + work_id


def citing_papers(
    store: Store, *, seeds: list[str] | None = None, since: str | None = None
) -> list[CitingPaper]:
    """Outside works citing library papers (or only the seeds, by key), published on or after
    since (YYYY-MM-DD); the ones citing most library papers first, then the newest."""
    library = store.matched_works(LIBRARY_POOL)
    if seeds is not None:
        wanted = set(seeds)
        library = {k: w for k, w in library.items() if k in wanted}
    keys_of: dict[str, list[str]] = {}
    for key, work in library.items():
        keys_of.setdefault(work, []).append(key)
    in_library = set(store.matched_works(LIBRARY_POOL).values())
    cites: dict[str, set[str]] = {}
    for citing, cited in store.citation_edges(keys_of):
        if cited in keys_of and citing not in in_library:
            cites.setdefault(citing, set()).update(keys_of[cited])
    ids = list(cites)
    if since:
        recent = store.works_published_since(since, ids)
        ids = [w for w in ids if w in recent]
    works = store.get_works(ids)
    pooled = {
        work: [key for key, pool in rows if pool == CANDIDATE_POOL]
        for work, rows in store.keys_for_works(ids).items()
    }
    found = [
        CitingPaper(works[w], sorted(cites[w]), (pooled.get(w) or [None])[0])
        for w in ids
        if w in works and works[w].title
    ]
    found.sort(key=lambda c: (c.work.publication_date or "", c.work.id), reverse=True)
    found.sort(key=lambda c: -len(c.cites))  # stable: the newest first within a count
    return found


def refresh_citing_pool(store: Store, now: datetime, recent_days: int) -> int:
    """Put recent citing works into the candidate pool and retire the ones no longer recent."""
    since = (now - timedelta(days=recent_days)).date().isoformat()
    rows = citing_papers(store, since=since)
    papers = [
        c.work.to_paper(pool_key(c.work.id), library=CITING_LIBRARY, pool=CANDIDATE_POOL)
        for c in rows
    ]
    import_papers(store, papers)
    stamp = now_iso()
    store.set_matches(
        [(p.key, c.work.id, "openalex", "openalex") for p, c in zip(papers, rows, strict=True)],
        stamp,
    )
    current = {p.key for p in papers}
    store.mark_deleted(k for k in store.keys_in_library(CITING_LIBRARY) if k not in current)
    return len(papers)
