"""What a paper cites and what cites it, from the stored graph (the item pane and `citations
show`): each entry marked when it is in the library (or the candidates), counts beside."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ...models import LIBRARY_POOL, Paper, Work
from ...store import Store

NOT_MATCHED = (
    "no citation data for this paper yet: run `specter-desk citations sync` while online "
    "(it needs a DOI, arXiv id, PMID, or a title with year and first author)"
)


@dataclass
class CitationEntry:
    """One work in a Cites or Cited-by list."""

    work: str
    title: str
    year: int | None
    first_author: str
    authors: list[str]
    venue: str
    doi: str | None
    url: str
    cited_by_count: int | None
    key: str | None = None  # the store paper that is this work, if any
    pool: str | None = None
    in_library: bool = False

    @classmethod
    def of(cls, work: Work, keys: list[tuple[str, str]]) -> CitationEntry:
        key, pool = keys[0] if keys else (None, None)
        return cls(
            work=work.id,
            title=work.title,
            year=work.year,
            first_author=work.first_author,
            authors=work.authors,
            venue=work.venue,
            doi=work.doi,
            url=work.url,
            cited_by_count=work.cited_by_count,
            key=key,
            pool=pool,
            in_library=pool == LIBRARY_POOL,
        )


@dataclass
class CitationLists:
    """A paper's references and citing works, with counts and when they were fetched."""

    key: str
    title: str
    work: str | None = None
    matched_by: str | None = None
    cites: list[CitationEntry] = field(default_factory=list)
    cited_by: list[CitationEntry] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    fetched_at: dict[str, str | None] = field(default_factory=dict)
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.message is None:
            data.pop("message")
        return data


def citation_lists(store: Store, paper: Paper, *, limit: int | None = None) -> CitationLists:
    """The Cites and Cited-by lists of a paper (each newest first, library papers marked)."""
    answer = CitationLists(paper.key, paper.title)
    match = store.work_matches([paper.key]).get(paper.key)
    if not match or not match["work"]:
        answer.message = NOT_MATCHED
        answer.counts = dict.fromkeys(
            ("cites", "cited_by", "cited_by_listed", "cites_in_library", "cited_by_in_library"), 0
        )
        return answer
    work_id = match["work"]
    answer.work, answer.matched_by = work_id, match["matched_by"]
    edges = store.citation_edges([work_id])
    refs = sorted({cited for citing, cited in edges if citing == work_id})
    citers = sorted({citing for citing, cited in edges if cited == work_id})
    works = store.get_works([work_id, *refs, *citers])
    keys = store.keys_for_works([*refs, *citers])

    def entries(ids: list[str]) -> list[CitationEntry]:
        rows = [CitationEntry.of(works.get(i) or Work(id=i), keys.get(i, [])) for i in ids]
        rows.sort(key=lambda e: (-(e.year or 0), e.title.lower(), e.work))
        return rows

    answer.cites, answer.cited_by = entries(refs), entries(citers)
    own = works.get(work_id)
    answer.counts = {
        "cites": len(refs),
        "cited_by": max(len(citers), (own.cited_by_count or 0) if own else 0),
        "cited_by_listed": len(citers),
        "cites_in_library": sum(e.in_library for e in answer.cites),
        "cited_by_in_library": sum(e.in_library for e in answer.cited_by),
    }
    fetches = {
        direction: store.citation_fetches([work_id], direction).get(work_id, {})
        for direction in ("references", "cited_by")
    }
    answer.fetched_at = {
        direction: max((f["fetched_at"] for f in rows.values()), default=None)
        for direction, rows in fetches.items()
    }
    if limit is not None:
        answer.cites, answer.cited_by = answer.cites[:limit], answer.cited_by[:limit]
    if not refs and not citers:
        answer.message = "OpenAlex and Crossref list no references or citing works for this paper"
    return answer
