"""Semantic Scholar's Graph API (optional, `[citations] semantic_scholar = true`): a paper's
references with offset paging, the last fallback when neither OpenAlex nor Crossref lists
what a paper cites. The API repeats rows across pages, so rows are deduplicated.

Attribution: data from Semantic Scholar (https://www.semanticscholar.org), under its API terms.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from ..errors import CitationSourceError
from ..models import Work, normalize_doi, parse_year
from .webapi import JsonApi

S2_URL = "https://api.semanticscholar.org"
URL_ENV = "SPECTER_DESK_SEMANTICSCHOLAR_URL"
PAGE = 100
FIELDS = "externalIds,title,year,authors,venue,publicationDate"


def parse_paper(data: Any) -> Work | None:
    """A Work from an S2 paper object: id "doi:<doi>" when it has a DOI, else "s2:<paperId>"."""
    if not isinstance(data, dict):
        return None
    external = data.get("externalIds") if isinstance(data.get("externalIds"), dict) else {}
    doi = normalize_doi(external.get("DOI"))
    paper_id = data.get("paperId")
    if doi:
        ident = f"doi:{doi}"
    elif paper_id:
        ident = f"s2:{paper_id}"
    else:
        return None
    authors = [
        " ".join(str(a.get("name") or "").split())
        for a in data.get("authors") or []
        if isinstance(a, dict) and a.get("name")
    ]
    return Work(
        id=ident,
        title=" ".join(str(data.get("title") or "").split()),
        doi=doi,
        pmid=external.get("PubMed"),
        arxiv_id=external.get("ArXiv"),
        year=parse_year(data.get("year")),
        publication_date=data.get("publicationDate") or None,
        authors=authors,
        venue=str(data.get("venue") or ""),
        source="semanticscholar",
    )


class SemanticScholar:
    """The Semantic Scholar call specter-desk makes: what a paper cites."""

    def __init__(self, api: JsonApi):
        self.api = api

    @classmethod
    def connect(cls, base_url: str, *, api_key: str = "", **kwargs) -> SemanticScholar:
        """A client for base_url (1 request a second without a key, as S2 asks)."""
        kwargs.setdefault("min_interval", 1.0)
        headers = {"x-api-key": api_key} if api_key else {}
        return cls(
            JsonApi(
                "Semantic Scholar",
                base_url,
                headers=headers,
                setting=f"citations.semanticscholar_url in config.toml or ${URL_ENV}",
                **kwargs,
            )
        )

    def references(self, doi: str, *, limit: int = 1000) -> list[Work] | None:
        """What the paper with this DOI cites (deduplicated); None when S2 does not know it."""
        path = f"/graph/v1/paper/DOI:{urllib.parse.quote(doi, safe='/')}/references"
        found: dict[str, Work] = {}
        offset = 0
        while offset < limit:
            page = self.api.get(
                path, {"fields": FIELDS, "offset": offset, "limit": PAGE}, missing_ok=True
            )
            if page is None:
                return None if offset == 0 else list(found.values())
            rows = page.get("data") if isinstance(page, dict) else None
            if not isinstance(rows, list):
                raise CitationSourceError(
                    f"Semantic Scholar answered {path} without a data list; try again later"
                )
            for row in rows:
                work = parse_paper(row.get("citedPaper") if isinstance(row, dict) else None)
                if work is not None:
                    found.setdefault(work.id, work)
            following = page.get("next")
            if not isinstance(following, int) or following <= offset or not rows:
                break
            offset = following
        return list(found.values())
