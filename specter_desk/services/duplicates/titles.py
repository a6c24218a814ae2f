"""Title keys and what a title says: generic or column titles, markers, numbers."""

from __future__ import annotations

import re

from ...models import normalize_title

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

_BRACKETED = re.compile(r"^\s*[\[(](.+)[\])]\s*\.?\s*$")
# "[Review] [33 refs]" appended by MEDLINE, or a note cut off by the export: "[Erratum appears"
_NOTES = re.compile(r"\s*\[[^\]]*(?:\]|$)")
_CITED_IN = re.compile(
    r" in (?:the )?(?:proc|proceedings|conf|conference|symp|symposium|workshop|journal|j|trans|"
    r"transactions|intl|international|lecture notes)\b.*$"
)
_THOUSANDS = re.compile(r"(?<=\d) (?=\d{3}(?!\d))")

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
_DIGITS = re.compile(r"\d+")
_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")


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


def title_markers(key: str) -> tuple[frozenset[str], frozenset[str]]:
    """(companion markers, form markers) a title key names: 'addendum', 'demo', 'abstract'."""
    if _MARKER_WORDS.isdisjoint(key.split()):
        return _NONE, _NONE
    return _markers(key, _COMPANION), _markers(key, _FORM)
