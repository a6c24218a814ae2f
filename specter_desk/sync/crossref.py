"""Crossref `/works/{doi}`: a work's metadata and its `reference` list, the fallback when
OpenAlex has no references for a work (or does not know it).

A reference entry may carry a DOI, a title, an author, a year, a journal or only an
unstructured string; only entries with a DOI become citation edges (to "doi:<doi>" works,
folded into OpenAlex works once their DOI is looked up there).
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from ..errors import CitationSourceError
from ..models import Work, normalize_doi, parse_year, plain_text
from .webapi import JsonApi

CROSSREF_URL = "https://api.crossref.org"
URL_ENV = "SPECTER_DESK_CROSSREF_URL"


@dataclass
class CrossrefWork:
    """A Crossref work and what its reference list cites."""

    work: Work
    references: list[Work] = field(default_factory=list)
    without_doi: int = 0  # reference entries with no DOI (not linkable)


def placeholder_id(doi: str) -> str:
    """The work id of a work known only by its DOI."""
    return f"doi:{doi}"


def _first(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return plain_text(value)


def _year(message: dict[str, Any]) -> int | None:
    for name in ("issued", "published", "published-print", "published-online", "created"):
        parts = (message.get(name) or {}).get("date-parts") or []
        if parts and parts[0] and parts[0][0]:
            return parse_year(parts[0][0])
    return None


def parse_reference(entry: Any) -> Work | None:
    """A Work ("doi:<doi>") from one `reference` entry, or None when it has no DOI."""
    if not isinstance(entry, dict):
        return None
    doi = normalize_doi(entry.get("DOI"))
    if not doi:
        return None
    title = entry.get("article-title") or entry.get("volume-title") or entry.get("series-title")
    author = str(entry.get("author") or "").strip()
    return Work(
        id=placeholder_id(doi),
        title=plain_text(title),
        doi=doi,
        year=parse_year(entry.get("year")),
        authors=[author] if author else [],
        venue=_first(entry.get("journal-title")),
        source="crossref",
    )


def parse_message(message: Any) -> CrossrefWork | None:
    """The work and its references from a Crossref `message`; None without a DOI."""
    if not isinstance(message, dict):
        return None
    doi = normalize_doi(message.get("DOI"))
    if not doi:
        return None
    authors = []
    for person in message.get("author") or []:
        if isinstance(person, dict):
            name = " ".join(
                p for p in (person.get("given"), person.get("family") or person.get("name")) if p
            )
            if name:
                authors.append(name)
    refs = message.get("reference")
    entries = refs if isinstance(refs, list) else []
    references = [w for w in (parse_reference(e) for e in entries) if w is not None]
    count = message.get("is-referenced-by-count")
    work = Work(
        id=placeholder_id(doi),
        title=_first(message.get("title")),
        abstract=plain_text(message.get("abstract")),
        doi=doi,
        year=_year(message),
        authors=authors,
        venue=_first(message.get("container-title")),
        type=str(message.get("type") or ""),
        cited_by_count=count if isinstance(count, int) else None,
        references=[w.id for w in references] if isinstance(refs, list) else None,
        source="crossref",
    )
    return CrossrefWork(work, references, len(entries) - len(references))


class Crossref:
    """The Crossref call specter-desk makes: one work with its reference list."""

    def __init__(self, api: JsonApi):
        self.api = api

    @classmethod
    def connect(cls, base_url: str, *, mailto: str = "", **kwargs) -> Crossref:
        """A client for base_url; mailto puts it in Crossref's polite pool."""
        kwargs.setdefault("min_interval", 0.2)  # the public pool allows 5 requests a second
        return cls(
            JsonApi(
                "Crossref",
                base_url,
                params={"mailto": mailto},
                setting=f"citations.crossref_url in config.toml or ${URL_ENV}",
                **kwargs,
            )
        )

    def work(self, doi: str) -> CrossrefWork | None:
        """A work and its references by DOI; None when Crossref does not know the DOI."""
        path = f"/works/{urllib.parse.quote(doi, safe='')}"
        data = self.api.get(path, missing_ok=True)
        if data is None:
            return None
        parsed = parse_message(data.get("message") if isinstance(data, dict) else None)
        if parsed is None:
            raise CitationSourceError(f"Crossref answered {path} without a work; try again later")
        return parsed
