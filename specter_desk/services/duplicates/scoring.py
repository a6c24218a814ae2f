"""Evidence that two records are the same work, combined into a probability-like score.

Each rule adds log-odds (positive: same work, negative: different works) to a prior for a
blocked pair; the score is the logistic of the sum. A second, separate question is whether
the two are the same *publication* (a duplicate, to merge) or two versions of one work
(a preprint and its article, a conference paper and its journal version, one study in two
venues): version evidence never lowers the score, it decides the pair's kind. Weights were
chosen on the digital_work and cytology_screening sets of bib-dedupe and checked on the
other sets (benchmarks/RESULTS.md); the rules added later (versions, recurring titles,
companions, author order) are rules, not fitted weights.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz

from .records import Author, Record
from .venues import same_venues

DUPLICATE = "duplicate"
VERSION = "version"

_WORD = re.compile(r"\w+")
PRIOR = -3.0
W = {
    "same_id": 9.0,
    "different_id": -7.0,
    "different_doi": -1.0,
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
    "generic_without_locator": -6.0,
    "companion": -8.0,
    "different_numbers": -6.0,
    "substituted_word": -3.0,
    "same_year": 1.0,
    "year_1": -0.5,
    "year_2": -2.0,
    "year_far": -5.0,
    "version_year_1": 0.0,
    "version_year_2": -0.5,
    "version_year_3": -2.0,
    "authors_all": 2.5,
    "author_single": 1.5,
    "authors_most": 1.0,
    "authors_few": -0.5,
    "authors_none": -2.5,
    "same_page": 2.0,
    "different_page": -3.0,
    "same_volume": 0.5,
    "different_volume": -1.5,
    "same_issue": 0.5,
    "different_issue": -1.5,
    "same_venue": 0.5,
    "same_abstract": 2.0,
    "similar_abstract": 1.0,
    "different_abstract": -1.0,
    "embedding_97": 1.5,
    "embedding_92": 0.5,
    "embedding_low": -1.5,
}

Add = Callable[[float, str], None]


@dataclass
class PairScore:
    """The score of one pair with the evidence behind it, and whether it is a duplicate."""

    score: float
    logit: float
    reasons: list[str] = field(default_factory=list)
    conflict: bool = False  # contradicting identifiers: never one publication
    kind: str = DUPLICATE  # DUPLICATE (same publication) or VERSION (versions of one work)
    version_reasons: list[str] = field(default_factory=list)


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@lru_cache(maxsize=1 << 16)
def _word_match(x: str, y: str) -> bool:
    """Equal words, one abbreviating the other ('assoc'/'association'), or a typo of it."""
    if x == y:
        return True
    short, long_ = (x, y) if len(x) <= len(y) else (y, x)
    if len(short) >= 3 and long_.startswith(short):
        return True
    return (
        len(short) >= 5 and len(long_) - len(short) <= 2 and x[0] == y[0] and fuzz.ratio(x, y) >= 80
    )


def aligned_words(a: str, b: str) -> int:
    """How many words of two titles match in order (longest common subsequence of words)."""
    ta, tb = a.split(), b.split()
    if not ta or not tb or len(ta) * len(tb) > 2500:
        return 0
    previous = [0] * (len(tb) + 1)
    for x in ta:
        current = [0]
        for j, y in enumerate(tb):
            if x == y or _word_match(x, y):
                current.append(previous[j] + 1)
            else:
                current.append(max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def abbreviation_similarity(a: str, b: str) -> float:
    """Share of words matched in order when abbreviated or misspelt words match their long form."""
    words = len(a.split()) + len(b.split())
    return 2 * aligned_words(a, b) / words if words else 0.0


def title_similarity(a: str, b: str) -> tuple[float, bool]:
    """Similarity of two title keys in [0, 1], and whether one contains the other (truncation).

    A title cut short, with words abbreviated ('Inf.') or misspelt, still counts as contained
    when nine in ten of its words (at least four) match the longer title in order.
    """
    if a == b:
        return 1.0, False
    if not a or not b:
        return 0.0, False
    sim = max(fuzz.ratio(a, b), fuzz.token_sort_ratio(a, b)) / 100.0
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    aligned = aligned_words(a, b) if 0.5 <= sim < 0.9 else 0
    if aligned:
        sim = max(sim, 2 * aligned / (len(a.split()) + len(b.split())))
    contained = False
    if sim < 0.9 and len(short) <= 0.9 * len(long_):
        words = len(short.split())
        contained = (
            (words >= 3 and long_.startswith(short + " "))
            or (words >= 6 and fuzz.partial_ratio(short, long_) >= 97)
            or (words >= 4 and aligned >= 0.9 * words)
        )
    return sim, contained


def _identifier_evidence(a: Record, b: Record, add: Add, versions: list[str]) -> tuple[bool, bool]:
    """Add identifier evidence; returns (conflict, same publication identifier)."""
    conflict = same = False
    pa, pb = a.paper, b.paper
    doi_a = pa.doi if pa.doi and not pa.doi.startswith("10.48550/") else None
    doi_b = pb.doi if pb.doi and not pb.doi.startswith("10.48550/") else None
    if doi_a and doi_b:
        if doi_a != doi_b:
            add(W["different_doi"], "different DOIs")
            versions.append("different DOIs")
            conflict = True
        elif a.page and b.page and a.page != b.page:
            # abstracts of one supplement, papers of one proceedings volume: a container DOI
            add(0.0, "same DOI but different first pages (a shared supplement or volume DOI)")
        else:
            add(W["same_id"], "same DOI")
            same = True
    for label, x, y in (("arXiv id", pa.arxiv_id, pb.arxiv_id), ("PMID", pa.pmid, pb.pmid)):
        if x and y:
            if x == y:
                add(W["same_id"], f"same {label}")
                same = same or label == "PMID"
            else:
                add(W["different_id"], f"different {label}s")
                conflict = True
    if pa.isbn and pb.isbn and a.family == b.family == "book":
        if pa.isbn == pb.isbn:
            add(W["same_isbn_book"], "same ISBN")
        else:
            add(W["different_isbn_book"], "different ISBNs")
    return conflict, same


def substituted_words(a: Record, b: Record) -> tuple[str, str] | None:
    """A content word of each title with no look-alike in the other ('pediatric'/'adult')."""
    only_a = [t for t in a.tokens - b.tokens if len(t) >= 4 and not t.isdigit()]
    only_b = [t for t in b.tokens - a.tokens if len(t) >= 4 and not t.isdigit()]

    def alone(word: str, others: list[str]) -> bool:
        """No other word is a spelling, abbreviation or form of it ('measuring'/'measurement')."""
        return not any(
            _word_match(word, o) or fuzz.ratio(word, o) >= 75 or word[:5] == o[:5] for o in others
        )

    lone_a = [t for t in only_a if alone(t, only_b)]
    lone_b = [t for t in only_b if alone(t, only_a)]
    return (lone_a[0], lone_b[0]) if lone_a and lone_b else None


def _title_evidence(
    a: Record, b: Record, add: Add, versions: list[str], positioned: bool, same_authors: bool
) -> float:
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
    if weight > 0 and (a.generic_or_recurring or b.generic_or_recurring):
        label = "recurring title" if (a.recurring or b.recurring) else "generic title"
        weight, reason = min(weight, W["generic_title_cap"]), f"{reason} ({label})"
    if weight < 0 and sim >= 0.75 and positioned and same_authors:
        weight, reason = 0.0, reason + ", but same authors at the same place (reworded)"
    add(weight, reason)
    if weight > 0 and sim < 1.0 and not positioned:
        swapped = substituted_words(a, b)
        if swapped:
            add(W["substituted_word"], f"titles differ in a word ({swapped[0]}/{swapped[1]})")
    if weight > 0 and not positioned:  # at one place in one volume, notes in a title do not count
        companions = sorted(a.companion ^ b.companion)
        if companions:
            add(W["companion"], f"one is a companion text ({', '.join(companions)})")
        if a.numbers and b.numbers and (a.numbers - b.numbers) and (b.numbers - a.numbers):
            add(W["different_numbers"], "titles name different numbers")
        forms = sorted(a.forms ^ b.forms)
        if forms:
            versions.append(f"one is a {forms[0]}")
    return sim


def _version_evidence(a: Record, b: Record, versions: list[str]) -> bool | None:
    """Collect what says 'two publications of one work'; returns the venue comparison."""
    if a.is_preprint != b.is_preprint:
        versions.append("a preprint and a published version")
    elif a.family and b.family and a.family != b.family:
        versions.append(f"item types differ ({a.family}/{b.family})")
    kinds = {a.venue_kind, b.venue_kind} - {""}
    if len(kinds) == 2:
        versions.append(f"a {a.venue_kind or 'venue'} and a {b.venue_kind or 'venue'}")
    venue = same_venues(a.venues, b.venues)
    # at the same volume and page, two venue names are one venue written two ways
    preprint = a.is_preprint or b.is_preprint
    if venue is False and not preprint and len(kinds) < 2 and not same_position(a, b):
        versions.append("different venues")
    return venue


def same_position(a: Record, b: Record) -> bool:
    """Same year, volume and first page or issue: the same place in one publication."""
    if not (a.volume and a.volume == b.volume) or a.year != b.year:
        return False
    if a.issue and b.issue and a.issue != b.issue:
        return False
    return bool((a.page and a.page == b.page) or (a.issue and a.issue == b.issue))


def _year_evidence(a: Record, b: Record, add: Add, version: bool) -> None:
    if a.year is None or b.year is None:
        return
    gap = abs(a.year - b.year)
    if gap == 0:
        add(W["same_year"], "same year")
    elif version and gap <= 3:
        key = {1: "version_year_1", 2: "version_year_2", 3: "version_year_3"}[gap]
        add(W[key], f"versions, years {a.year}/{b.year}")
    elif gap == 1:
        add(W["year_1"], f"years {a.year}/{b.year}")
    elif gap == 2:
        add(W["year_2"], f"years {a.year}/{b.year}")
    else:
        add(W["year_far"], f"years far apart ({a.year}/{b.year})")


def _same_person(x: Author, y: Author) -> bool:
    if x.surname == y.surname:
        return not (x.initial and y.initial) or x.initial == y.initial or len(x.surname) >= 4
    if min(len(x.surname), len(y.surname)) >= 5 and fuzz.ratio(x.surname, y.surname) >= 85:
        return True
    # name parts swapped ("Andrea Carignani" exported as surname "Andrea")
    return (len(x.given) >= 3 and x.given == y.surname) or (
        len(y.given) >= 3 and y.given == x.surname
    )


def shared_authors(a: Record, b: Record) -> tuple[int, int]:
    """(authors of the shorter list found in the longer, length of the shorter), in any order."""
    short, long_ = (a.authors, b.authors)
    if len(short) > len(long_):
        short, long_ = long_, short
    unused = list(long_)
    matched = 0
    for person in short:
        for i, other in enumerate(unused):
            if _same_person(person, other):
                matched += 1
                del unused[i]
                break
    return matched, len(short)


def _author_evidence(a: Record, b: Record, add: Add, counts: tuple[int, int]) -> None:
    """Authors compared as sets: order, initials and truncated lists do not count against."""
    if not a.authors or not b.authors:
        return
    matched, size = counts
    share = matched / size
    first_a, first_b = a.authors[0].surname, b.authors[0].surname
    if share == 1.0:
        if size == 1:
            add(W["author_single"], f"same author ({a.paper.first_author or first_a})")
        else:
            add(W["authors_all"], f"{matched} shared authors")
    elif share >= 0.5:
        add(W["authors_most"], f"{matched} of {size} authors shared")
    elif matched:
        add(W["authors_few"], f"only {matched} of {size} authors shared")
    else:
        add(W["authors_none"], f"different authors ({first_a}/{first_b})")


def _locator_evidence(a: Record, b: Record, add: Add, version: bool) -> bool:
    """Pages, volume and issue; returns True when a locator matches."""
    matched = False
    for label, x, y, same_w, diff_w in (
        ("first page", a.page, b.page, "same_page", "different_page"),
        ("volume", a.volume, b.volume, "same_volume", "different_volume"),
        ("issue", a.issue, b.issue, "same_issue", "different_issue"),
    ):
        if not (x and y):
            continue
        if label == "issue" and a.page and b.page:
            # pages that differ already tell; one full page range in one volume is one article
            same_range = a.page == b.page and a.last_page and a.last_page == b.last_page
            if a.page != b.page or (same_range and a.volume and a.volume == b.volume):
                continue
        if x == y:
            add(W[same_w], f"same {label} ({x})" if label == "first page" else f"same {label}")
            matched = matched or label == "first page"
        elif label == "first page" and a.last_page and a.last_page == b.last_page:
            add(0.0, f"first pages differ, last pages agree ({x}/{y}-{a.last_page})")
        elif not version:
            add(W[diff_w], f"different {label}s ({x}/{y})")
    if a.volume and a.volume == b.volume and a.issue and a.issue == b.issue:
        matched = True
    return matched


def _content_evidence(a: Record, b: Record, add: Add) -> None:
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
    """How likely two records are the same work, the reasons, and duplicate or version."""
    logit = PRIOR
    reasons: list[str] = []
    versions: list[str] = []

    def add(weight: float, reason: str) -> None:
        nonlocal logit
        logit += weight
        reasons.append(reason)

    conflict, same_id = _identifier_evidence(a, b, add, versions)
    authors = shared_authors(a, b) if a.authors and b.authors else (0, 0)
    positioned = same_position(a, b)
    _title_evidence(a, b, add, versions, positioned, authors[1] > 0 and authors[0] == authors[1])
    venue = _version_evidence(a, b, versions)
    version = bool(versions) and not same_id
    _year_evidence(a, b, add, version)
    _author_evidence(a, b, add, authors)
    located = _locator_evidence(a, b, add, version)
    if venue:
        add(W["same_venue"], "same venue")
    if (a.generic_or_recurring or b.generic_or_recurring) and not (same_id or located):
        add(
            W["generic_without_locator"],
            "a recurring or generic title without matching pages, "
            "volume and issue, or an identifier",
        )
    _content_evidence(a, b, add)
    return PairScore(
        score=_logistic(logit),
        logit=logit,
        reasons=reasons,
        conflict=conflict,
        kind=VERSION if version or conflict else DUPLICATE,
        version_reasons=versions,
    )
