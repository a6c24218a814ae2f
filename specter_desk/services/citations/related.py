"""`related --by citations|meaning|both`: papers linked to one paper by citations, by meaning
(embedding similarity), or both fused by reciprocal rank fusion (RRF, k = 60: no weight to
tune). Every citation-linked result says why ("cites this paper", "cited together with it
by 4 papers", "shares 7 references").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...errors import InputError, NoCitationDataError
from ...index import PaperIndex
from ...models import Paper, normalize_title
from ...store import Store
from ..related import RelatedPaper, one_per_work, related
from ..search import reciprocal_rank_fusion
from ..works import Works
from .fusion import BY, resolve_by
from .graph import CitationGraph, Evidence, evidence
from .lists import NOT_MATCHED

MEANING_DEPTH = 100  # how far down the meaning ranking fusion looks


@dataclass
class LinkedPaper:
    """A related paper with the reasons the citation graph gives."""

    paper: RelatedPaper
    reasons: list[str] = field(default_factory=list)
    scores: dict[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**self.paper.to_dict(), "reasons": self.reasons, "scores": self.scores}


@dataclass
class RelatedAnswer:
    """related_by()'s answer: what it was asked, the rows, and a note when it fell back."""

    by: str
    rows: list[LinkedPaper]
    message: str | None = None


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def reasons_for(ev: Evidence, names: dict[str, str] | None = None) -> list[str]:
    """Plain-language reasons. names maps seed works to titles when there are several seeds
    (recommend: "cites 3 of your papers"); None for the one paper of `related`."""
    top_co = max(ev.co_cited.items(), key=lambda i: (i[1], i[0])) if ev.co_cited else None
    top_bc = max(ev.coupled.items(), key=lambda i: (i[1], i[0])) if ev.coupled else None
    if names is None:
        reasons = ["cites this paper"] if ev.cites else []
        reasons += ["cited by this paper"] if ev.cited_by else []
        if top_co:
            reasons.append(f"cited together with it by {_count(top_co[1], 'paper')}")
        if top_bc:
            reasons.append(f"shares {_count(top_bc[1], 'reference')} with it")
        return reasons

    def title(work: str) -> str:
        return repr(names.get(work, "a paper of yours")[:70])

    reasons = []
    if len(ev.cites) == 1:
        reasons.append(f"cites your paper {title(ev.cites[0])}")
    elif ev.cites:
        reasons.append(f"cites {len(ev.cites)} of your papers")
    if len(ev.cited_by) == 1:
        reasons.append(f"cited by your paper {title(ev.cited_by[0])}")
    elif ev.cited_by:
        reasons.append(f"cited by {len(ev.cited_by)} of your papers")
    if top_co:
        reasons.append(f"cited together with {title(top_co[0])} by {_count(top_co[1], 'paper')}")
    if top_bc:
        reasons.append(f"shares {_count(top_bc[1], 'reference')} with {title(top_bc[0])}")
    return reasons


def paper_work(store: Store, paper: Paper) -> str | None:
    """The work id a paper is matched to, or None."""
    match = store.work_matches([paper.key]).get(paper.key)
    return match["work"] if match else None


def related_by(
    store: Store,
    index: PaperIndex | None,
    paper: Paper,
    k: int = 10,
    *,
    by: str = "auto",
    pool: str | None = None,
    works: Works | None = None,
) -> RelatedAnswer:
    """The k papers related to paper by citations, meaning or both (auto: both when the paper
    has citation data, else meaning; see the module doc); works: the store's, when known."""
    if by not in BY:
        raise InputError(f"--by must be one of {', '.join(BY)}, not {by!r}")
    by = resolve_by(store, [paper.key], by)
    meaning: list[RelatedPaper] = []
    if by != "citations":
        if index is None:
            raise InputError("related by meaning needs an index")
        # fusion looks MEANING_DEPTH down the meaning ranking; meaning alone needs its top k
        # (a tenth of the papers to fetch and to check for copies at k=10)
        depth = k if by == "meaning" else max(MEANING_DEPTH, k)
        meaning = related(store, index, paper, depth, pool=pool, works=works)
    if by == "meaning":
        return RelatedAnswer(by, [LinkedPaper(r, scores={"meaning": r.score}) for r in meaning[:k]])
    work = paper_work(store, paper)
    if work is None:
        if by == "citations":
            raise NoCitationDataError(f"{paper.key}: {NOT_MATCHED}")
        return RelatedAnswer(
            by,
            [LinkedPaper(r, scores={"meaning": r.score, "citations": None}) for r in meaning[:k]],
            f"meaning only: {NOT_MATCHED}",
        )
    targets = set(store.matched_works().values())  # works that are papers in the store
    found = evidence(CitationGraph.around(store, [work], targets), [work], targets=targets)
    linked = _linked_papers(store, found, paper, pool)
    if by == "citations" and not linked:
        raise NoCitationDataError(
            f"{paper.key}: no paper in your library or candidates shares citations with it "
            "(run `specter-desk citations sync` to fetch more)"
        )
    citation_order = sorted(linked, key=lambda key: (-found[linked[key]].score, key))
    papers = store.get_papers(citation_order)
    by_meaning = {r.key: r for r in meaning}
    if by == "citations":
        order = citation_order
        scores = {key: found[linked[key]].score for key in citation_order}
    else:
        fused = reciprocal_rank_fusion([[r.key for r in meaning], citation_order])
        order = [key for key, _ in fused]
        scores = dict(fused)
    listed = store.get_papers(order)  # copies of one work once, never copies of paper
    rows_in_order = [(listed[k], 0.0) for k in order if k in listed]
    order = [p.key for p, _ in one_per_work(store, rows_in_order, paper, works)]
    rows = []
    for key in order[:k]:
        base = by_meaning.get(key) or RelatedPaper.from_paper(papers[key], 0.0)
        base = RelatedPaper(**{**base.to_dict(), "score": round(scores[key], 4)})
        ev = found.get(linked.get(key, ""))
        rows.append(
            LinkedPaper(
                base,
                reasons_for(ev) if ev else [],
                {
                    "meaning": by_meaning[key].score if key in by_meaning else None,
                    "citations": round(ev.score, 4) if ev else None,
                },
            )
        )
    return RelatedAnswer(by, rows)


def _linked_papers(
    store: Store, found: dict[str, Evidence], paper: Paper, pool: str | None
) -> dict[str, str]:
    """{store key: work} of live papers (of one pool) that are linked works, one per title."""
    own = normalize_title(paper.title)
    keys = store.keys_for_works(found)
    candidates = {key: work for work, rows in keys.items() for key, p in rows if pool in (None, p)}
    papers = store.get_papers(candidates)
    linked: dict[str, str] = {}
    seen = {own}
    for key in sorted(candidates, key=lambda k: (-found[candidates[k]].score, k)):
        title = normalize_title(papers[key].title) if key in papers else ""
        if key == paper.key or key not in papers or title in seen:
            continue
        seen.add(title)
        linked[key] = candidates[key]
    return linked
