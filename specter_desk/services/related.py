"""Related papers: nearest neighbours of a paper in the embedding index."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..errors import AmbiguousItemError, ItemNotFoundError, NotEmbeddedError
from ..index import PaperIndex
from ..models import Paper, normalize_arxiv_id, normalize_doi, normalize_title
from ..store import Store
from .copies import work_ids
from .works import Works


@dataclass
class RelatedPaper:
    """One neighbour of a paper, with what a person needs to recognise it."""

    key: str
    title: str
    year: int | None
    venue: str
    first_author: str
    doi: str | None
    arxiv_id: str | None
    pool: str
    score: float

    @classmethod
    def from_paper(cls, paper: Paper, score: float) -> RelatedPaper:
        return cls(
            key=paper.key,
            title=paper.title,
            year=paper.year,
            venue=paper.venue,
            first_author=paper.first_author,
            doi=paper.doi,
            arxiv_id=paper.arxiv_id,
            pool=paper.pool,
            score=round(score, 4),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def resolve_item(store: Store, item: str) -> Paper:
    """Find one live paper by key, DOI, arXiv id or a title fragment."""
    item = (item or "").strip()
    if not item:
        raise ItemNotFoundError("no item given; pass a key, DOI, arXiv id or part of a title")
    paper = store.get_paper(item)
    if paper and not paper.deleted:
        return paper
    for column, value in (("doi", normalize_doi(item)), ("arxiv_id", normalize_arxiv_id(item))):
        if value:
            keys = store.find_keys(column, value)
            if keys:
                return store.get_paper(keys[0])
    exact = store.find_keys("title_key", normalize_title(item))
    if exact:  # copies of one work share a title; take the first library copy
        return store.get_paper(exact[0])
    keys = store.search_titles(item)
    if not keys:
        raise ItemNotFoundError(
            f"no paper matches {item!r}; try a key, DOI, arXiv id or another part of the title"
        )
    papers = store.get_papers(keys)
    if len({normalize_title(p.title) for p in papers.values()}) == 1:
        return papers[keys[0]]  # several copies of one work
    if len(keys) > 1:
        listed = "; ".join(f"{k}: {papers[k].title[:60]}" for k in keys[:5] if k in papers)
        raise AmbiguousItemError(
            f"{len(keys)}{'+' if len(keys) >= 20 else ''} papers match {item!r} "
            f"({listed}); use a key or a longer title"
        )
    return store.get_paper(keys[0])


def related(
    store: Store,
    index: PaperIndex,
    paper: Paper,
    k: int = 10,
    *,
    pool: str | None = None,
    works: Works | None = None,
) -> list[RelatedPaper]:
    """The k papers most similar to paper (itself excluded), optionally from one pool; works
    (the store's, when known) collapses copies by lookup."""
    vector = index.vector(paper.key)
    if vector is None:
        raise NotEmbeddedError(
            f"{paper.key} ({paper.title[:60]!r}) has no {index.model} vector yet; "
            "run `specter-desk embed` (or `sync`) first"
        )
    # over-fetch: copies of one work are shown once, and copies of the paper itself are not
    # "related" to it
    want = k + max(5, k // 2)
    if pool is None:
        hits = index.query(vector, want, exclude={paper.key})[0]
        papers = store.get_papers(key for key, _ in hits)
    else:
        hits, papers = _pool_hits(store, index, vector, want, paper.key, pool)
    listed = [(papers[key], score) for key, score in hits if key in papers]
    return [
        RelatedPaper.from_paper(found, score)
        for found, score in one_per_work(store, listed, paper, works)[:k]
    ]


def one_per_work(
    store: Store,
    hits: list[tuple[Paper, float]],
    item: Paper | None = None,
    works: Works | None = None,
) -> list[tuple[Paper, float]]:
    """The hits (best first) with later copies of one work dropped, and copies of item (the
    paper the list is about) too: looked up in works when it knows every paper, else decided
    over the list."""
    papers = ([item] if item is not None else []) + [p for p, _ in hits]
    if works is not None and works.covers(p.key for p in papers):
        seen = {works.work(item.key)} if item is not None else set()
        kept = []
        for hit in hits:
            work = works.work(hit[0].key)
            if work not in seen:
                seen.add(work)
                kept.append(hit)
        return kept
    first = work_ids(papers, store)
    offset = 1 if item is not None else 0
    return [hit for i, hit in enumerate(hits, start=offset) if first[i] == i]


def _pool_hits(
    store: Store, index: PaperIndex, vector, want: int, exclude: str, pool: str
) -> tuple[list[tuple[str, float]], dict[str, Paper]]:
    """The nearest `want` papers of one pool.

    A pool is usually most of the index (the library), so over-fetch 4x without a filter and
    keep the pool's papers: one small lookup, not a scan of every key in the pool per query
    (52 ms at 10k papers). Only when that finds too few (a small pool) does the index search
    with a filter over the pool's keys (exactly, when the pool is small).
    """
    fetch = want * 4
    hits = index.query(vector, fetch, exclude={exclude})[0]
    papers = {
        key: p for key, p in store.get_papers(key for key, _ in hits).items() if p.pool == pool
    }
    if len(papers) < want and len(hits) == fetch:
        keys = store.keys_in_pool(pool)
        keys.discard(exclude)
        hits = index.query(vector, min(want, len(keys)), allow=keys)[0]
        papers = store.get_papers(key for key, _ in hits)
    return [(key, score) for key, score in hits if key in papers], papers
