"""The comparable view of a Paper: title keys, authors, year, identifiers, locators, venue."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ...models import Paper, strip_diacritics
from .titles import is_generic_title, title_key, title_markers, title_numbers
from .venues import venue_forms, venue_kind

# Zotero item types (and BibTeX entry types) folded into families that can be the same work.
_TYPE_FAMILY = {
    "journalArticle": "article",
    "article": "article",
    "magazineArticle": "article",
    "newspaperArticle": "article",
    "conferencePaper": "conference",
    "inproceedings": "conference",
    "proceedings": "conference",
    "conference": "conference",
    "book": "book",
    "mvbook": "book",
    "bookSection": "chapter",
    "incollection": "chapter",
    "inbook": "chapter",
    "preprint": "preprint",
    "unpublished": "preprint",
    "manuscript": "preprint",
    "report": "report",
    "techreport": "report",
    "thesis": "thesis",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
}
# Families that a preprint-like record can be an earlier version of.
PREPRINT_FAMILIES = frozenset({"preprint", "report"})
# Types that say nothing about the kind of publication (a file without types, a bare record).
UNTYPED = frozenset({"", "document", "misc", "generic"})

_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "nd", "rd", "th"})
_LETTERS = re.compile(r"[^a-z ]+")
_DIGITS = re.compile(r"\d+")
_INITIALS = re.compile(r"^[A-Z]{1,3}$")

# Where exports keep the locators of a record, first match wins (Zotero, BibTeX, CSL-JSON, RIS).
PAGE_FIELDS = ("pages", "page", "start_page", "page-first", "first_page", "SP")
VOLUME_FIELDS = ("volume", "VL")
ISSUE_FIELDS = ("issue", "number", "IS")
VENUE_FIELDS = (
    "container-title",
    "publicationTitle",
    "proceedingsTitle",
    "conferenceName",
    "journal",
    "booktitle",
    "journal_name",
    "secondary_title",
    "venue",
)


def surname_key(name: str) -> str:
    """Last word of a surname, letters only: 'van Kessel' -> 'kessel', 'Müller' -> 'muller'."""
    text = strip_diacritics(name).lower().replace("-", "").replace("'", "")
    words = [w for w in _LETTERS.sub(" ", text).split() if w not in _SUFFIXES]
    return words[-1] if words else ""


def _split_single_name(name: str) -> tuple[str, str]:
    """'Ada Lovelace' -> ('Lovelace', 'Ada'); 'Lovelace A' / 'Lovelace, A.' -> ('Lovelace', 'A')."""
    name = name.strip()
    if "," in name:
        last, _, first = name.partition(",")
        return last, first
    parts = name.replace(".", ". ").split()
    if len(parts) >= 2 and _INITIALS.match(parts[-1].rstrip(".")) and not _INITIALS.match(parts[0]):
        return " ".join(parts[:-1]), parts[-1]  # MEDLINE style "Smith JA"
    return (parts[-1] if parts else ""), " ".join(parts[:-1])


@dataclass(frozen=True, slots=True)
class Author:
    """A creator as compared: surname key, given-name key and initial."""

    surname: str
    given: str
    initial: str


_NAME_LIST = re.compile(r"\s*;\s*|\s+and\s+|\s*&\s*")


def _one_per_person(creator: dict[str, str]) -> list[dict[str, str]]:
    """A single-field creator that holds a list ('M. Kearns, Y. Mansour and A. Ng') as one
    creator per person; any other creator as it is."""
    name = creator.get("name") or ""
    if creator.get("lastName") or not _NAME_LIST.search(name) and name.count(",") < 2:
        return [creator]
    parts = [p for p in _NAME_LIST.split(name) if p.strip()]
    if len(parts) == 1 or all("," in p for p in parts):  # "Last, F." entries stay whole
        return [{"name": p} for p in parts] if len(parts) > 1 else [creator]
    return [{"name": q.strip()} for p in parts for q in p.split(",") if q.strip()]


def author_of(creator: dict[str, str]) -> Author:
    """The comparable parts of a Zotero-style creator dict."""
    return _author(
        creator.get("lastName") or "", creator.get("firstName") or "", creator.get("name") or ""
    )


@lru_cache(maxsize=1 << 16)
def _author(last: str, first: str, name: str) -> Author:
    if not last:
        last, first = _split_single_name(name)
    given = strip_diacritics(first.strip())
    words = _LETTERS.sub(" ", given.lower()).split()
    return Author(surname_key(last), max(words, key=len) if words else "", given[:1].lower())


def first_page(pages: object) -> str:
    """Digits of the first page: 'S27' -> '27', '1038-1044' -> '1038', 'e1234' -> '1234'."""
    text = str(pages or "").strip()
    if not text:
        return ""
    first = re.split(r"\s*(?:-|–|—|--|,)\s*", text)[0]
    m = _DIGITS.search(first)
    return m.group(0).lstrip("0") if m else ""


def last_page(pages: object) -> str:
    """Digits of the last page of a range, '' without one: '1038-1044' -> '1044'."""
    parts = re.split(r"\s*(?:-|–|—|--)\s*", str(pages or "").strip())
    if len(parts) != 2:
        return ""
    first, last = (m.group(0).lstrip("0") if m else "" for m in map(_DIGITS.search, parts))
    if first and last and len(last) < len(first):  # '1038-44' -> '1044'
        last = first[: len(first) - len(last)] + last
    return last


def _plain_number(value: object) -> str:
    text = str(value or "").strip()
    return text.lstrip("0") if text.isdigit() else ""


def _issue_number(value: object) -> str:
    """An issue number; values past 60 are more often accession or sequence numbers: dropped."""
    text = _plain_number(value)
    return text if text and int(text) <= 60 else ""


def _raw_field(raw: dict, names: tuple[str, ...]) -> object:
    for name in names:
        value = raw.get(name)
        if isinstance(value, list):
            value = value[0] if value else None
        if value not in (None, ""):
            return value
    return None


@dataclass(slots=True)
class Record:
    """What the scorer compares, computed once per paper."""

    paper: Paper
    title: str
    tokens: frozenset[str]
    generic: bool
    authors: tuple[Author, ...]
    surnames: tuple[str, ...]
    year: int | None
    family: str
    is_preprint: bool
    page: str
    last_page: str
    volume: str
    issue: str
    venues: tuple[str, ...]
    venue_kind: str
    numbers: frozenset[str]
    companion: frozenset[str]
    forms: frozenset[str]
    vector: np.ndarray | None = None
    recurring: bool = field(default=False)

    @property
    def key(self) -> str:
        return self.paper.key

    @property
    def generic_or_recurring(self) -> bool:
        return self.generic or self.recurring

    @classmethod
    def from_paper(cls, paper: Paper, vector: np.ndarray | None = None) -> Record:
        title = title_key(paper.title)
        tokens = title.split()
        authors = tuple(
            a
            for c in paper.creators
            if isinstance(c, dict)
            for a in (author_of(c) for c in _one_per_person(c))
            if a.surname
        )
        family = _TYPE_FAMILY.get(paper.item_type, paper.item_type or "")
        is_preprint = family in PREPRINT_FAMILIES or bool(
            paper.arxiv_id and not (paper.doi and not paper.doi.startswith("10.48550/"))
        )
        raw = paper.raw or {}
        venue = paper.venue or str(_raw_field(raw, VENUE_FIELDS) or "")
        pages = _raw_field(raw, PAGE_FIELDS)
        companion, forms = title_markers(title)
        return cls(
            paper=paper,
            title=title,
            tokens=frozenset(tokens),
            generic=is_generic_title(title),
            authors=authors,
            surnames=tuple(a.surname for a in authors),
            year=paper.year,
            family="" if family in UNTYPED else family,
            is_preprint=is_preprint,
            page=first_page(pages),
            last_page=last_page(pages),
            volume=_plain_number(_raw_field(raw, VOLUME_FIELDS)),
            issue=_issue_number(_raw_field(raw, ISSUE_FIELDS)),
            venues=venue_forms(venue),
            venue_kind=venue_kind(venue),
            numbers=title_numbers(title),
            companion=companion,
            forms=forms,
            vector=vector,
        )


def mark_recurring(records: Iterable[Record], min_years: int = 3) -> None:
    """Flag titles that recur across the years of the pool (columns, not works), or short
    titles that recur in several issues ("Chair's Message" in every issue of a volume)."""
    seen: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        if record.title:
            seen[record.title].append(record)
    for group in seen.values():
        if len(group) < min_years:
            continue
        years = {r.year for r in group if r.year}
        issues = {(r.volume, r.issue) for r in group if r.volume or r.issue}
        short = len(group[0].title.split()) <= 6
        if len(years) >= min_years or (short and len(issues) >= min_years):
            for record in group:
                record.recurring = True
