"""The comparable view of a Paper: title keys, authors, year, identifiers, locators, venue."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ...models import Paper, normalize_title, strip_diacritics
from .venues import venue_forms, venue_kind

# Titles that name a kind of text rather than a work: equal titles prove nothing.
GENERIC_TITLES = frozenset(
    {
        "introduction",
        "editorial",
        "editorials",
        "preface",
        "foreword",
        "editor s note",
        "editors note",
        "letter",
        "letters",
        "letter to the editor",
        "letters to the editor",
        "reply",
        "in reply",
        "author reply",
        "authors reply",
        "response",
        "author response",
        "correspondence",
        "erratum",
        "errata",
        "corrigendum",
        "correction",
        "corrections",
        "comment",
        "comments",
        "commentary",
        "book review",
        "book reviews",
        "review",
        "news",
        "abstracts",
        "abstract",
        "index",
        "contents",
        "table of contents",
        "announcement",
        "announcements",
        "obituary",
        "conclusion",
        "conclusions",
        "discussion",
        "untitled",
        "editorial board",
        "guest editorial",
        "in this issue",
        "acknowledgments",
        "acknowledgements",
        "overview",
        "summary",
        "notes",
        "note",
        "front matter",
        "back matter",
        "retraction",
        "retraction notice",
        "expression of concern",
        "reviewers",
        "call for papers",
        "keynote",
    }
)

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

_BRACKETED = re.compile(r"^\s*[\[(](.+)[\])]\s*\.?\s*$")
# "[Review] [33 refs]" appended by MEDLINE, or a note cut off by the export: "[Erratum appears"
_NOTES = re.compile(r"\s*\[[^\]]*(?:\]|$)")
_CITED_IN = re.compile(
    r" in (?:the )?(?:proc|proceedings|conf|conference|symp|symposium|workshop|journal|j|trans|"
    r"transactions|intl|international|lecture notes)\b.*$"
)
_THOUSANDS = re.compile(r"(?<=\d) (?=\d{3}(?!\d))")
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "nd", "rd", "th"})
# Words of recurring columns and notes: with a short title they name a kind of text, not a work.
_EDITORIAL_WORDS = frozenset(
    {
        "editor",
        "editors",
        "editorial",
        "editorials",
        "erratum",
        "errata",
        "corrigendum",
        "preface",
        "foreword",
        "reviewers",
        "retraction",
        "obituary",
        "announcement",
        "issue",
        "minitrack",
        "comments",
        "reply",
    }
)
# Titles made only of these words (and stop words) are columns that recur in every issue:
# "Chair's Message", "Book Review Column", "Calls for Papers", "Letter from the Editors".
_COLUMN_WORDS = _EDITORIAL_WORDS | frozenset(
    {
        "message",
        "messages",
        "column",
        "columns",
        "chair",
        "chairs",
        "chairman",
        "president",
        "presidents",
        "call",
        "calls",
        "papers",
        "paper",
        "book",
        "books",
        "review",
        "reviews",
        "report",
        "reports",
        "news",
        "notes",
        "note",
        "letter",
        "letters",
        "corner",
        "welcome",
        "remarks",
        "opening",
        "closing",
        "address",
        "minutes",
        "meeting",
        "business",
        "correspondence",
        "update",
        "updates",
        "calendar",
        "events",
        "event",
        "forthcoming",
        "upcoming",
        "information",
        "authors",
        "contributors",
        "guest",
        "introduction",
        "abstracts",
        "briefs",
        "brief",
        "highlights",
        "digest",
        "bulletin",
        "board",
        "committee",
        "program",
        "programme",
        "conference",
        "workshop",
        "panel",
        "keynote",
        "invited",
        "talk",
        "talks",
        "award",
        "awards",
        "memoriam",
        "obituaries",
        "society",
        "acm",
        "ieee",
        "sigmod",
        "record",
        "s",
    }
)
_STOP = frozenset({"a", "an", "the", "of", "and", "for", "in", "on", "to", "from", "with", "at"})
# Markers of a companion text: different from the paper it names, though its title contains it.
COMPANION_MARKERS = (
    "addendum",
    "addenda",
    "erratum",
    "errata",
    "corrigendum",
    "corrigenda",
    "correction",
    "corrections",
    "retraction",
    "retracted",
    "comment",
    "comments",
    "commentary",
    "reply",
    "response",
    "rejoinder",
    "discussion",
    "supplement",
    "supplementary",
    "appendix",
    "review of",
    "expression of concern",
)
# Markers of another form of the same work: a version, not the same publication.
FORM_MARKERS = (
    "demo",
    "demonstration",
    "abstract",
    "extended abstract",
    "poster",
    "tutorial",
    "keynote",
    "invited talk",
    "panel",
    "short paper",
    "summary",
    "position paper",
    "technical report",
    "full version",
    "extended version",
    "preprint",
    "thesis",
    "dissertation",
    "slides",
)
_NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "first": "1",
    "second": "2",
    "third": "3",
    "fourth": "4",
    "fifth": "5",
    "ii": "2",
    "iii": "3",
    "iv": "4",
    "vi": "6",
    "vii": "7",
    "viii": "8",
    "ix": "9",
}
_SPACE = re.compile(r"\s+")
_LETTERS = re.compile(r"[^a-z ]+")
_DIGITS = re.compile(r"\d+")
_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")
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


def title_key(title: str | None) -> str:
    """normalize_title plus what databases add around a title: brackets, quotes, a final period.

    A bracketed note ("[Review] [33 refs]") is dropped, but a bracketed title followed by a
    note ("[Translated title] LA: Chi") keeps the title and drops what follows.
    """
    text = (title or "").strip().strip('"').strip()
    m = _BRACKETED.match(text)  # MEDLINE puts translated titles in [brackets]
    if m:
        text = m.group(1)
    if text.startswith("["):
        end = text.find("]")
        inner = text[1:end] if end > 0 else text[1:]
        if len(inner.split()) >= 3:
            text = inner
    stripped = _NOTES.sub("", text)
    key = normalize_title(stripped if len(stripped.split()) >= 2 else text)
    tail = _CITED_IN.search(key)  # "Title. In Proc. of the Intl. Conf." from a citation string
    return key[: tail.start()] if tail and len(key[: tail.start()].split()) >= 4 else key


def is_generic_title(key: str) -> bool:
    """Titles like 'Editorial', "Chair's Message" or 'Reply': equal titles prove nothing."""
    tokens = key.split()
    if key in GENERIC_TITLES or len(tokens) <= 2:
        return True
    if len(tokens) <= 8 and not _EDITORIAL_WORDS.isdisjoint(tokens):
        return True
    content = [t for t in tokens if t not in _STOP and not t.isdigit()]
    return bool(content) and all(t in _COLUMN_WORDS for t in content)


def title_numbers(key: str) -> frozenset[str]:
    """Numbers a title names ('Part II', 'FOCUS 2', 'three doses'): other numbers, other works."""
    tokens = key.split()
    found = {_NUMBER_WORDS[t] for t in _NUMBER_WORDS.keys() & set(tokens)}
    if _DIGITS.search(key):
        for token in _THOUSANDS.sub("", key).split():
            m = _ORDINAL.match(token)
            if token.isdigit():
                found.add(token.lstrip("0") or "0")
            elif m:
                found.add(m.group(1))
    return frozenset(found)


def _marker_pattern(markers: tuple[str, ...]) -> re.Pattern[str]:
    longest_first = sorted(markers, key=len, reverse=True)
    return re.compile(r"(?<!\S)(?:" + "|".join(map(re.escape, longest_first)) + r")(?!\S)")


_COMPANION = _marker_pattern(COMPANION_MARKERS)
_FORM = _marker_pattern(FORM_MARKERS)
_MARKER_WORDS = frozenset(w for m in COMPANION_MARKERS + FORM_MARKERS for w in m.split())
_NONE: frozenset[str] = frozenset()


def _markers(key: str, pattern: re.Pattern[str]) -> frozenset[str]:
    """The markers a title key names, as whole words ('demo abstract' -> demo, abstract)."""
    found = set()
    at = 0
    while (m := pattern.search(key, at)) is not None:
        found.add(m.group(0))
        at = m.start() + 1  # overlapping: 'extended abstract' also names 'abstract'
    return frozenset(found)


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
        marked = not _MARKER_WORDS.isdisjoint(tokens)
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
            companion=_markers(title, _COMPANION) if marked else _NONE,
            forms=_markers(title, _FORM) if marked else _NONE,
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
