"""The comparable view of a Paper: normalised title, surnames, year, identifiers, pages, venue."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ...models import Paper, normalize_title, strip_diacritics

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

_BRACKETED = re.compile(r"^\s*[\[(](.+)[\])]\s*\.?\s*$")
_NOTES = re.compile(r"\s*\[[^\]]*\]")  # "[Review] [33 refs]" appended by MEDLINE
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
_SPACE = re.compile(r"\s+")
_LETTERS = re.compile(r"[^a-z ]+")
_DIGITS = re.compile(r"\d+")


def title_key(title: str | None) -> str:
    """normalize_title plus what databases add around a title: brackets, quotes, a final period."""
    text = (title or "").strip().strip('"').strip()
    m = _BRACKETED.match(text)  # MEDLINE puts translated titles in [brackets]
    if m:
        text = m.group(1)
    return normalize_title(_NOTES.sub("", text) or text)


def is_generic_title(key: str) -> bool:
    """Titles like 'Editorial', 'Editor's comments' or 'Reply': equal titles prove nothing."""
    tokens = key.split()
    return (
        key in GENERIC_TITLES
        or len(tokens) <= 2
        or (len(tokens) <= 8 and not _EDITORIAL_WORDS.isdisjoint(tokens))
    )


def surname_key(name: str) -> str:
    """Last word of a surname, letters only: 'van Kessel' -> 'kessel', 'Müller' -> 'muller'."""
    text = strip_diacritics(name).lower().replace("-", "").replace("'", "")
    words = [w for w in _LETTERS.sub(" ", text).split() if w not in _SUFFIXES]
    return words[-1] if words else ""


def _creator_surname(creator: dict[str, str]) -> str:
    last = creator.get("lastName")
    if not last:
        name = (creator.get("name") or "").strip()
        if "," in name:
            last = name.partition(",")[0]
        else:  # single-field names: "Ada Lovelace" -> surname last
            parts = name.split()
            last = parts[-1] if parts else ""
    return surname_key(last)


def first_page(pages: object) -> str:
    """Digits of the first page: 'S27' -> '27', '1038-1044' -> '1038', 'e1234' -> '1234'."""
    text = str(pages or "").strip()
    if not text:
        return ""
    first = re.split(r"\s*(?:-|–|—|--|,)\s*", text)[0]
    m = _DIGITS.search(first)
    return m.group(0).lstrip("0") if m else ""


def _plain_number(value: object) -> str:
    text = str(value or "").strip()
    return text.lstrip("0") if text.isdigit() else ""


def venue_key(venue: str) -> str:
    """Venue words without stop words: 'The Journal of X' -> 'journal x'."""
    words = normalize_title(venue).split()
    return " ".join(w for w in words if w not in {"the", "of", "and", "for", "in", "on", "a"})


@dataclass(slots=True)
class Record:
    """What the scorer compares, computed once per paper."""

    paper: Paper
    title: str
    tokens: frozenset[str]
    generic: bool
    surnames: tuple[str, ...]
    year: int | None
    family: str
    is_preprint: bool
    page: str
    volume: str
    venue: str
    vector: np.ndarray | None = None

    @property
    def key(self) -> str:
        return self.paper.key

    @classmethod
    def from_paper(cls, paper: Paper, vector: np.ndarray | None = None) -> Record:
        title = title_key(paper.title)
        tokens = title.split()
        surnames = [_creator_surname(c) for c in paper.creators if isinstance(c, dict)]
        family = _TYPE_FAMILY.get(paper.item_type, paper.item_type or "article")
        is_preprint = family in PREPRINT_FAMILIES or bool(
            paper.arxiv_id and not (paper.doi and not paper.doi.startswith("10.48550/"))
        )
        raw = paper.raw or {}
        return cls(
            paper=paper,
            title=title,
            tokens=frozenset(tokens),
            generic=is_generic_title(title),
            surnames=tuple(s for s in surnames if s),
            year=paper.year,
            family=family,
            is_preprint=is_preprint,
            page=first_page(raw.get("pages") or raw.get("start_page")),
            volume=_plain_number(raw.get("volume")),
            venue=venue_key(paper.venue),
            vector=vector,
        )
