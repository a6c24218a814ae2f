"""The Paper record and identifier normalisation (DOI, arXiv id, ISBN, PMID, title key)."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import unquote

LIBRARY_POOL = "library"
CANDIDATE_POOL = "candidates"

# Zotero item types that are not papers.
SKIPPED_ITEM_TYPES = frozenset({"note", "attachment", "annotation"})


@dataclass
class Paper:
    """One bibliographic record, normalised from any source."""

    key: str
    title: str = ""
    abstract: str = ""
    library: str = "local"
    pool: str = LIBRARY_POOL
    version: int = 0
    item_type: str = "journalArticle"
    doi: str | None = None
    arxiv_id: str | None = None
    isbn: str | None = None
    pmid: str | None = None
    year: int | None = None
    creators: list[dict[str, str]] = field(default_factory=list)
    venue: str = ""
    url: str = ""
    date_added: str | None = None
    date_modified: str | None = None
    deleted: bool = False
    collections: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    text_source: str = "abstract"
    raw: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.doi = normalize_doi(self.doi)
        self.arxiv_id = normalize_arxiv_id(self.arxiv_id)
        self.isbn = normalize_isbn(self.isbn)
        self.pmid = normalize_pmid(self.pmid)
        # a record from an older store (or a reader's slip) must not break a service: keep only
        # well-formed creators, tags and collections (readers check them with creators_from)
        self.creators = creators_from(self.creators, strict=False)
        self.tags = text_list(self.tags)
        self.collections = text_list(self.collections)
        if self.arxiv_id is None and self.doi and self.doi.startswith("10.48550/arxiv."):
            self.arxiv_id = normalize_arxiv_id(self.doi.removeprefix("10.48550/arxiv."))
        if not self.abstract:
            self.text_source = "title" if self.text_source == "abstract" else self.text_source

    @property
    def content_hash(self) -> str:
        """Hash of the text that gets embedded; a change means a new vector."""
        return content_hash(self.title, self.abstract)

    @property
    def first_author(self) -> str:
        """Surname of the first creator, or an empty string."""
        if not self.creators:
            return ""
        first = self.creators[0]
        return first.get("lastName") or first.get("name") or ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass
class Collection:
    """A Zotero collection: its key, name and parent collection's key, in one library."""

    key: str
    name: str
    parent: str | None = None
    version: int = 0
    library: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def creator_from_name(name: str) -> dict[str, str]:
    """A creator from one name: "Curie, Marie" -> last and first name, "Bohr" -> name."""
    name = " ".join(name.split())
    if "," in name:
        last, first = (part.strip() for part in name.split(",", 1))
        return {"creatorType": "author", "lastName": last, "firstName": first}
    return {"creatorType": "author", "name": name}


def _creator(value: Any) -> dict[str, str] | None:
    """One creator as a dict of text, or None when value cannot be one."""
    if isinstance(value, str):
        return creator_from_name(value) if value.strip() else {}
    if not isinstance(value, dict):
        return None
    creator = {}
    for name, part in value.items():
        if isinstance(part, bool) or not isinstance(part, str | int | float | None):
            return None
        if part is not None and str(part).strip():
            creator[str(name)] = str(part)
    return creator


def _plain_creators(value: Any) -> bool:
    return isinstance(value, list) and all(
        type(c) is dict and all(type(v) is str for v in c.values()) for c in value
    )


def creators_from(value: Any, *, strict: bool = True) -> list[dict[str, str]]:
    """Creators as Zotero-style dicts of text ({creatorType, lastName, firstName} or {name}).

    Takes a list of such objects or of names, or one string of names separated by ";".
    Anything else raises ValueError saying what is wrong (strict), or is dropped.
    """
    if _plain_creators(value):
        return value
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(";")
    if not isinstance(value, list):
        if strict:
            raise ValueError(
                f"creators must be a list of names or objects, not {type(value).__name__}"
            )
        return []
    creators = []
    for number, item in enumerate(value):
        creator = _creator(item)
        if creator is None and strict:
            raise ValueError(
                f"creators[{number}] is {json_preview(item)}, not a name or an object of names"
            )
        if creator:
            creators.append(creator)
    return creators


def text_list(value: Any) -> list[str]:
    """Tags or collections as a list of text (a Zotero tag object gives its tag; others are
    dropped)."""
    if not isinstance(value, list):
        return []
    texts = []
    for item in value:
        if isinstance(item, dict):
            item = item.get("tag")
        if isinstance(item, str | int | float) and not isinstance(item, bool) and str(item):
            texts.append(str(item))
    return texts


def json_preview(value: Any, limit: int = 40) -> str:
    """A short repr of a value from a file, for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def content_hash(title: str, abstract: str) -> str:
    """A stable hash of title + abstract after whitespace normalisation."""
    text = " ".join((title or "").split()) + "\x1f" + " ".join((abstract or "").split())
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


_DOI_PREFIX = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/|(?:dx\.)?doi\.org/)", re.I)
_DOI_SHAPE = re.compile(r"^10\.\d{4,9}/\S+$")
_OPENING = {")": "(", "]": "[", "}": "{"}


def normalize_doi(value: str | None) -> str | None:
    """Lower-case DOI without resolver prefix or trailing punctuation; None if not a DOI."""
    if not value:
        return None
    doi = str(value).strip()
    for _ in range(3):  # percent-encoding, even twice over ('%252F'): '%28' is '(', '%2F' '/'
        decoded = unquote(doi)
        if decoded == doi:
            break
        doi = decoded
    for _ in range(2):
        doi = _DOI_PREFIX.sub("", doi).strip()
    doi = doi.rstrip(".,;").lower()
    while doi and doi[-1] in ")]}" and doi.count(doi[-1]) > doi.count(_OPENING[doi[-1]]):
        doi = doi[:-1].rstrip(".,;")  # a bracket closing the sentence around the DOI
    return doi if _DOI_SHAPE.match(doi) else None


_ARXIV_NEW = re.compile(r"(\d{4}\.\d{4,5})(?:v\d+)?", re.I)
_ARXIV_OLD = re.compile(r"([a-z\-]+(?:\.[a-z]{2})?/\d{7})(?:v\d+)?", re.I)


def normalize_arxiv_id(value: str | None) -> str | None:
    """arXiv id without 'arXiv:' prefix, URL or version (2101.00001, hep-th/9901001)."""
    if not value:
        return None
    text = str(value).strip()
    text = re.sub(r"^(?:arxiv:|https?://(?:www\.)?arxiv\.org/(?:abs|pdf)/)", "", text, flags=re.I)
    text = re.sub(r"\.pdf$", "", text, flags=re.I)
    m = _ARXIV_NEW.fullmatch(text) or _ARXIV_OLD.fullmatch(text)
    return m.group(1).lower() if m else None


_ARXIV_IN_TEXT = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf)/|arxiv:\s*|10\.48550/arxiv\.)"
    r"(\d{4}\.\d{4,5}(?:v\d+)?|[a-z\-]+(?:\.[a-z]{2})?/\d{7}(?:v\d+)?)",
    re.I,
)


def find_arxiv_id(*texts: str | None) -> str | None:
    """The first arXiv id mentioned in URLs, DOIs or Zotero's 'extra' field."""
    for text in texts:
        if text:
            m = _ARXIV_IN_TEXT.search(text)
            if m:
                return normalize_arxiv_id(m.group(1))
    return None


def _isbn10_to_13(digits: str) -> str:
    core = "978" + digits[:9]
    total = sum((1 if i % 2 == 0 else 3) * int(c) for i, c in enumerate(core))
    return core + str((10 - total % 10) % 10)


def _isbn13_valid(digits: str) -> bool:
    total = sum((1 if i % 2 == 0 else 3) * int(c) for i, c in enumerate(digits))
    return total % 10 == 0


def _isbn10_valid(digits: str) -> bool:
    total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(digits))
    return total % 11 == 0


def normalize_isbn(value: str | None) -> str | None:
    """ISBN-13 digits (ISBN-10 converted); None when no valid ISBN is present.

    Takes the first valid ISBN of a field that may list several ("978... ; 0-19-...").
    """
    if not value:
        return None
    for chunk in re.split(r"[;,/]|\s(?=\d{9,})", str(value)):
        digits = re.sub(r"[^0-9Xx]", "", chunk).upper()
        if len(digits) == 13 and digits.isdigit() and _isbn13_valid(digits):
            return digits
        if len(digits) == 10 and digits[:9].isdigit() and _isbn10_valid(digits):
            return _isbn10_to_13(digits)
    return None


def normalize_pmid(value: str | None) -> str | None:
    """PubMed id as plain digits without 'PMID:' prefix; None when not numeric."""
    if value is None:
        return None
    text = re.sub(r"^\s*(?:pmid:?\s*)", "", str(value).strip(), flags=re.I)
    text = text.lstrip("0")
    return text if text.isdigit() and len(text) <= 9 else None


def strip_diacritics(text: str) -> str:
    """Remove combining marks: 'Müller' -> 'Muller'."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalize_title(title: str | None) -> str:
    """Zotero-style title key: diacritics removed, punctuation runs to one space, lower-case."""
    if not title:
        return ""
    text = strip_diacritics(title)
    text = re.sub(r"<[^>]+>", "", text)  # <i>…</i> rich-text markup in Zotero titles
    return _NON_WORD.sub(" ", text).strip().lower()


_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d|21\d\d)(?!\d)")


def parse_year(value: Any) -> int | None:
    """The first plausible four-digit year in a date string, or None."""
    if value is None:
        return None
    if isinstance(value, int):
        return value if 1500 <= value <= 2199 else None
    m = _YEAR.search(str(value))
    return int(m.group(1)) if m else None


@dataclass
class Work:
    """A work known to a citation source (OpenAlex, Crossref): a node of the citation graph.

    `id` is the OpenAlex id (W123...) or "doi:<doi>" for a work known only by its DOI.
    `references` is None when the source did not say what the work cites.
    """

    id: str
    title: str = ""
    abstract: str = ""
    doi: str | None = None
    pmid: str | None = None
    arxiv_id: str | None = None
    year: int | None = None
    publication_date: str | None = None
    authors: list[str] = field(default_factory=list)
    venue: str = ""
    type: str = ""
    cited_by_count: int | None = None
    references: list[str] | None = None
    source: str = "openalex"

    def __post_init__(self) -> None:
        self.doi = normalize_doi(self.doi)
        self.pmid = normalize_pmid(self.pmid)
        self.arxiv_id = normalize_arxiv_id(self.arxiv_id)
        if self.arxiv_id is None and self.doi and self.doi.startswith("10.48550/arxiv."):
            self.arxiv_id = normalize_arxiv_id(self.doi.removeprefix("10.48550/arxiv."))

    @property
    def first_author(self) -> str:
        """Surname of the first author ("Ada Lovelace" -> "Lovelace"), or an empty string."""
        return author_surname(self.authors[0]) if self.authors else ""

    @property
    def url(self) -> str:
        """Where a person can read about the work: its DOI, else its OpenAlex page."""
        if self.doi:
            return f"https://doi.org/{self.doi}"
        if self.id.startswith("W"):
            return f"https://openalex.org/{self.id}"
        return ""

    def to_paper(self, key: str, *, library: str, pool: str) -> Paper:
        """The work as a store Paper (for the candidate pool)."""
        return Paper(
            key=key,
            title=self.title,
            abstract=self.abstract,
            library=library,
            pool=pool,
            item_type=_WORK_ITEM_TYPES.get(self.type, "journalArticle"),
            doi=self.doi,
            arxiv_id=self.arxiv_id,
            pmid=self.pmid,
            year=self.year,
            creators=[split_author(name) for name in self.authors],
            venue=self.venue,
            url=self.url,
            date_added=self.publication_date,
            date_modified=self.publication_date,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


# OpenAlex / Crossref work types -> Zotero item types
_WORK_ITEM_TYPES = {
    "article": "journalArticle",
    "journal-article": "journalArticle",
    "preprint": "preprint",
    "posted-content": "preprint",
    "book": "book",
    "book-chapter": "bookSection",
    "dissertation": "thesis",
    "proceedings-article": "conferencePaper",
    "report": "report",
    "dataset": "dataset",
}


# markup seen in OpenAlex / Crossref titles and abstracts (HTML, JATS, MathML); a bare "<" or
# ">" in the text (p < 0.05) is not a tag and stays
_TAG = re.compile(
    r"</?(?:jats:|mml:)?(?:p|i|b|em|strong|sub|sup|sc|scp|span|div|br|u|a|title|italic|bold|"
    r"sec|list|list-item|label|inline-formula|tex-math|math|mi|mo|mn|mrow|msub|msup)"
    r"""(?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))*\s*/?>""",
    re.I,
)


def plain_text(value: Any) -> str:
    """Text without markup: HTML entities decoded, tags (<i>, <p>, JATS) dropped, spaces
    collapsed ("&lt;p&gt;Clinical Evidence&lt;/p&gt;" -> "Clinical Evidence")."""
    text = html.unescape(str(value or ""))
    return " ".join(_TAG.sub(" ", text).split())


def author_surname(name: str) -> str:
    """The surname of a display name ("Ada Lovelace" or "Lovelace, Ada" -> "Lovelace")."""
    name = (name or "").strip()
    if "," in name:
        return name.split(",", 1)[0].strip()
    parts = name.split()
    return parts[-1] if parts else ""


def split_author(name: str) -> dict[str, str]:
    """A Zotero creator from a display name: {"creatorType", "lastName", "firstName"}."""
    name = " ".join((name or "").split())
    if "," in name:
        last, first = (part.strip() for part in name.split(",", 1))
    else:
        first, _, last = name.rpartition(" ")
    return {"creatorType": "author", "lastName": last, "firstName": first}


def surname_key(name: str) -> str:
    """A surname for comparison: diacritics, case and punctuation removed."""
    return _NON_WORD.sub("", strip_diacritics(name or "")).lower()
