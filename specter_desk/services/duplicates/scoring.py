"""Evidence that two records are the same work, combined into a probability-like score.

Each rule adds log-odds (positive: same work, negative: different works) to a prior for a
blocked pair; the score is the logistic of the sum. Weights were chosen on the digital_work and
cytology_screening sets of bib-dedupe and checked on the other sets (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz

from .records import Record

_WORD = re.compile(r"\w+")
PRIOR = -3.0
W = {
    "same_id": 9.0,
    "different_id": -7.0,
    "same_isbn_book": 3.0,
    "different_isbn_book": -2.0,
    "title_exact": 6.0,
    "title_95": 5.0,
    "title_90": 3.0,
    "title_85": 1.0,
    "title_contained": 2.5,
    "title_75": -2.0,
    "title_low": -6.0,
    "generic_title_cap": 1.0,
    "same_year": 1.0,
    "year_1": -0.5,
    "year_2": -2.0,
    "year_far": -5.0,
    "preprint_year_1": 0.0,
    "preprint_year_2": -0.5,
    "preprint_year_3": -2.0,
    "same_first_author": 1.5,
    "similar_first_author": 1.0,
    "first_author_elsewhere": 0.5,
    "different_first_author": -2.5,
    "authors_overlap": 1.0,
    "authors_disjoint": -1.0,
    "same_page": 2.0,
    "different_page": -3.0,
    "same_volume": 0.5,
    "different_volume": -1.5,
    "conference_vs_article": -1.5,
    "book_vs_chapter": -2.0,
    "other_type": -1.0,
    "same_venue": 0.5,
    "different_venue": -0.5,
    "same_abstract": 2.0,
    "similar_abstract": 1.0,
    "different_abstract": -1.0,
    "embedding_97": 1.5,
    "embedding_92": 0.5,
    "embedding_low": -1.5,
}


@dataclass
class PairScore:
    """The score of one pair with the evidence behind it."""

    score: float
    logit: float
    reasons: list[str] = field(default_factory=list)
    conflict: bool = False  # contradicting identifiers: never join these two


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def title_similarity(a: str, b: str) -> tuple[float, bool]:
    """Similarity of two title keys in [0, 1], and whether one contains the other (truncation)."""
    if a == b:
        return 1.0, False
    if not a or not b:
        return 0.0, False
    sim = max(fuzz.ratio(a, b), fuzz.token_sort_ratio(a, b)) / 100.0
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    contained = False
    if sim < 0.9 and len(short) <= 0.9 * len(long_):
        words = len(short.split())
        contained = (words >= 3 and long_.startswith(short + " ")) or (
            words >= 6 and fuzz.partial_ratio(short, long_) >= 97
        )
    return sim, contained


def _identifier_evidence(a: Record, b: Record, add) -> bool:
    """Add identifier evidence; returns True when identifiers contradict each other."""
    conflict = False
    pa, pb = a.paper, b.paper
    doi_a = pa.doi if pa.doi and not pa.doi.startswith("10.48550/") else None
    doi_b = pb.doi if pb.doi and not pb.doi.startswith("10.48550/") else None
    for label, x, y in (
        ("DOI", doi_a, doi_b),
        ("arXiv id", pa.arxiv_id, pb.arxiv_id),
        ("PMID", pa.pmid, pb.pmid),
    ):
        if x and y:
            if x == y:
                add(W["same_id"], f"same {label}")
            else:
                add(W["different_id"], f"different {label}s")
                conflict = True
    if pa.isbn and pb.isbn and a.family == b.family == "book":
        if pa.isbn == pb.isbn:
            add(W["same_isbn_book"], "same ISBN")
        else:
            add(W["different_isbn_book"], "different ISBNs")
    return conflict


def _title_evidence(a: Record, b: Record, add) -> None:
    sim, contained = title_similarity(a.title, b.title)
    if sim >= 1.0:
        weight, reason = W["title_exact"], "same title"
    elif sim >= 0.95:
        weight, reason = W["title_95"], f"title similarity {sim:.2f}"
    elif sim >= 0.90:
        weight, reason = W["title_90"], f"title similarity {sim:.2f}"
    elif contained:
        weight, reason = W["title_contained"], "one title contains the other"
    elif sim >= 0.85:
        weight, reason = W["title_85"], f"title similarity {sim:.2f}"
    elif sim >= 0.75:
        weight, reason = W["title_75"], f"titles differ (similarity {sim:.2f})"
    else:
        weight, reason = W["title_low"], f"titles differ (similarity {sim:.2f})"
    if weight > 0 and (a.generic or b.generic):
        weight, reason = min(weight, W["generic_title_cap"]), reason + " (generic title)"
    add(weight, reason)


def _year_evidence(a: Record, b: Record, add) -> None:
    if a.year is None or b.year is None:
        return
    gap = abs(a.year - b.year)
    preprint = a.is_preprint != b.is_preprint
    if gap == 0:
        add(W["same_year"], "same year")
    elif preprint and gap <= 3:
        key = {1: "preprint_year_1", 2: "preprint_year_2", 3: "preprint_year_3"}[gap]
        add(W[key], f"preprint and published version, years {a.year}/{b.year}")
    elif gap == 1:
        add(W["year_1"], f"years {a.year}/{b.year}")
    elif gap == 2:
        add(W["year_2"], f"years {a.year}/{b.year}")
    else:
        add(W["year_far"], f"years far apart ({a.year}/{b.year})")


def _author_evidence(a: Record, b: Record, add) -> None:
    if not a.surnames or not b.surnames:
        return
    first_a, first_b = a.surnames[0], b.surnames[0]
    set_a, set_b = set(a.surnames), set(b.surnames)
    if first_a == first_b:
        add(W["same_first_author"], f"same first author ({a.paper.first_author or first_a})")
    elif min(len(first_a), len(first_b)) >= 4 and fuzz.ratio(first_a, first_b) >= 80:
        add(W["similar_first_author"], f"similar first authors ({first_a}/{first_b})")
    elif first_a in b.surnames[:3] or first_b in a.surnames[:3]:
        add(W["first_author_elsewhere"], "first author listed in the other's authors")
    else:
        add(W["different_first_author"], f"different first authors ({first_a}/{first_b})")
    if len(set_a) >= 2 and len(set_b) >= 2:
        jaccard = len(set_a & set_b) / len(set_a | set_b)
        if jaccard >= 0.6:
            add(W["authors_overlap"], f"{len(set_a & set_b)} shared authors")
        elif jaccard < 0.2:
            add(W["authors_disjoint"], "authors mostly differ")


def _publication_evidence(a: Record, b: Record, add) -> None:
    if a.page and b.page:
        if a.page == b.page:
            add(W["same_page"], f"same first page ({a.page})")
        else:
            add(W["different_page"], f"different pages ({a.page}/{b.page})")
    if a.volume and b.volume:
        if a.volume == b.volume:
            add(W["same_volume"], "same volume")
        else:
            add(W["different_volume"], f"different volumes ({a.volume}/{b.volume})")
    families = {a.family, b.family}
    if len(families) == 2 and not (a.is_preprint or b.is_preprint):
        if families == {"conference", "article"}:
            add(W["conference_vs_article"], "conference paper vs journal article")
        elif families == {"book", "chapter"}:
            add(W["book_vs_chapter"], "book vs book chapter")
        else:
            add(W["other_type"], f"item types differ ({a.family}/{b.family})")
    if a.venue and b.venue and not (a.is_preprint or b.is_preprint):
        venue_sim = fuzz.token_set_ratio(a.venue, b.venue)
        if venue_sim >= 90 or _abbreviates(a.venue, b.venue):
            add(W["same_venue"], "same venue")
        elif venue_sim < 40:
            add(W["different_venue"], "different venues")


def _abbreviates(x: str, y: str) -> bool:
    """'j clin virol' abbreviates 'journal clinical virology' (word prefixes, in order)."""
    short, long_ = (x.split(), y.split()) if len(x) <= len(y) else (y.split(), x.split())
    i = 0
    for word in long_:
        if i < len(short) and word.startswith(short[i]):
            i += 1
    return i == len(short) and len(short) >= 2


def _content_evidence(a: Record, b: Record, add) -> None:
    abs_a, abs_b = a.paper.abstract, b.paper.abstract
    if len(abs_a) >= 200 and len(abs_b) >= 200:
        head_a, head_b = abs_a[:400].lower(), abs_b[:400].lower()
        words_a = {w for w in _WORD.findall(head_a) if len(w) >= 4}
        words_b = {w for w in _WORD.findall(head_b) if len(w) >= 4}
        overlap = len(words_a & words_b) / max(len(words_a | words_b), 1)
        if fuzz.ratio(head_a, head_b) >= 90:
            add(W["same_abstract"], "same abstract")
        elif overlap >= 0.5:
            add(W["similar_abstract"], "similar abstract")
        elif overlap < 0.1:
            add(W["different_abstract"], "different abstracts")
    # With title-only texts the cosine repeats the title evidence: count it only with abstracts.
    if a.vector is not None and b.vector is not None and min(len(abs_a), len(abs_b)) >= 100:
        cosine = float(np.dot(a.vector, b.vector))
        if cosine >= 0.97:
            add(W["embedding_97"], f"embedding cosine {cosine:.2f}")
        elif cosine >= 0.92:
            add(W["embedding_92"], f"embedding cosine {cosine:.2f}")
        elif cosine < 0.8:
            add(W["embedding_low"], f"embedding cosine {cosine:.2f}")


def score_pair(a: Record, b: Record) -> PairScore:
    """How likely two records are the same work, with the reasons."""
    logit = PRIOR
    reasons: list[str] = []

    def add(weight: float, reason: str) -> None:
        nonlocal logit
        logit += weight
        reasons.append(reason)

    conflict = _identifier_evidence(a, b, add)
    _title_evidence(a, b, add)
    _year_evidence(a, b, add)
    _author_evidence(a, b, add)
    _publication_evidence(a, b, add)
    _content_evidence(a, b, add)
    return PairScore(score=_logistic(logit), logit=logit, reasons=reasons, conflict=conflict)
