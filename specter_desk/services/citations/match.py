"""Which work is each paper: by DOI, arXiv id (its DataCite DOI), PMID, else normalised title +
year + first author. Lookups are batched (one OpenAlex call per 50 DOIs or PMIDs); a title
costs one search each and is accepted only when title, year (within one) and first author
agree, so a wrong match is rarer than a missed one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...models import Paper, Work, normalize_title, surname_key
from ...sync.openalex import OpenAlex, doi_of_arxiv

METHODS = ("doi", "arxiv", "pmid", "title", "crossref", "semanticscholar")


def match_basis(paper: Paper) -> str:
    """What a lookup of this paper is based on (a change means the paper is looked up again)."""
    if paper.doi:
        return f"doi:{paper.doi}"
    if paper.arxiv_id:
        return f"arxiv:{paper.arxiv_id}"
    if paper.pmid:
        return f"pmid:{paper.pmid}"
    title = normalize_title(paper.title)
    return f"title:{title}|{paper.year or ''}|{surname_key(paper.first_author)}" if title else ""


def same_work(paper: Paper, work: Work) -> bool:
    """Title, year and first author agree (what a title match needs)."""
    if not work.title or normalize_title(paper.title) != normalize_title(work.title):
        return False
    if paper.year and work.year and abs(paper.year - work.year) > 1:
        return False
    mine, theirs = surname_key(paper.first_author), surname_key(work.first_author)
    if mine and work.authors:
        full = surname_key(work.authors[0])
        return mine == theirs or mine in full or (bool(theirs) and theirs in mine)
    return True


@dataclass
class Matches:
    """The outcome of looking up a batch of papers."""

    works: dict[str, tuple[Work, str]] = field(default_factory=dict)  # key -> (work, method)
    unmatched: list[str] = field(default_factory=list)


def match_papers(client: OpenAlex, papers: list[Paper]) -> Matches:
    """Look papers up in OpenAlex: DOI, arXiv id, PMID, then title + year + first author."""
    result = Matches()
    todo = list(papers)

    def take(method: str, found: dict[str, Work], ident) -> None:
        nonlocal todo
        rest = []
        for paper in todo:
            value = ident(paper)
            if value and value in found:
                result.works[paper.key] = (found[value], method)
            else:
                rest.append(paper)
        todo = rest

    dois = [p.doi for p in todo if p.doi]
    take("doi", {w.doi: w for w in client.works("doi", dois) if w.doi}, lambda p: p.doi)
    arxiv = {doi_of_arxiv(p.arxiv_id): p.arxiv_id for p in todo if p.arxiv_id}
    by_arxiv = {arxiv[w.doi]: w for w in client.works("doi", arxiv) if w.doi in arxiv}
    take("arxiv", by_arxiv, lambda p: p.arxiv_id)
    pmids = [p.pmid for p in todo if p.pmid]
    take("pmid", {w.pmid: w for w in client.works("pmid", pmids) if w.pmid}, lambda p: p.pmid)
    for paper in todo:
        hit = None
        if normalize_title(paper.title):
            hit = next(
                (w for w in client.search_title(paper.title, paper.year) if same_work(paper, w)),
                None,
            )
        if hit is None:
            result.unmatched.append(paper.key)
        else:
            result.works[paper.key] = (hit, "title")
    return result
