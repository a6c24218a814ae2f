"""OpenAlex works: single and batch lookups, works citing a work (cursor paging), and a parser
for both schema generations (early 2023 with `host_venue`, late 2025 with `primary_location`
sources, `topics` and `referenced_works_count`).

API: https://docs.openalex.org (CC0 data). The polite pool wants a `mailto`; an `api_key` is
sent when configured. One-value lookups use the free singleton endpoint (`/works/doi:...`);
batches use one `filter=doi:a|b|...` call per 50 identifiers.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Iterator
from typing import Any

from ..errors import CitationSourceError
from ..models import Work, find_arxiv_id, normalize_doi, normalize_pmid, parse_year, plain_text
from .webapi import JsonApi

OPENALEX_URL = "https://api.openalex.org"
URL_ENV = "SPECTER_DESK_OPENALEX_URL"
BATCH = 50  # values OR-ed in one filter
PER_PAGE = 100  # OpenAlex's page cap (it was 200 until 2025)
# fields of list answers (singletons come whole): what a Work needs, in both schema generations
LIST_FIELDS = (
    "id,doi,title,display_name,publication_year,publication_date,ids,authorships,type,"
    "primary_location,cited_by_count,referenced_works,abstract_inverted_index"
)
_ID = re.compile(r"(?:https?://openalex\.org/)?(W\d+)$", re.I)
# a DOI that would break the filter syntax (values are split on | and filters on ,)
_FILTER_UNSAFE = re.compile(r"[|,]")


def work_id(value: str | None) -> str | None:
    """'W123' from an OpenAlex id or URL; None when it is not a work id."""
    m = _ID.match((value or "").strip())
    return m.group(1).upper() if m else None


def abstract_text(inverted: dict[str, list[int]] | None) -> str:
    """The abstract from OpenAlex's inverted index {word: [positions]}."""
    if not isinstance(inverted, dict) or not inverted:
        return ""
    slots: dict[int, str] = {}
    for word, positions in inverted.items():
        for position in positions or []:
            if isinstance(position, int) and position >= 0:
                slots[position] = word
    return " ".join(slots[i] for i in sorted(slots))


def _venue(data: dict[str, Any]) -> str:
    location = data.get("primary_location") or {}
    source = location.get("source") if isinstance(location, dict) else None
    if isinstance(source, dict) and source.get("display_name"):
        return str(source["display_name"])
    host = data.get("host_venue")  # the 2023 schema
    if isinstance(host, dict) and host.get("display_name"):
        return str(host["display_name"])
    return ""


def parse_work(data: Any) -> Work | None:
    """A Work from one OpenAlex work object (either schema generation); None if it has no id."""
    if not isinstance(data, dict):
        return None
    ident = work_id(data.get("id"))
    if ident is None:
        return None
    ids = data.get("ids") if isinstance(data.get("ids"), dict) else {}
    pmid = str(ids.get("pmid") or "").rstrip("/").rsplit("/", 1)[-1] or None
    urls = [str(data.get("doi") or "")]
    for location in data.get("locations") or [data.get("primary_location") or {}]:
        if isinstance(location, dict):
            urls.append(str(location.get("landing_page_url") or ""))
    authors = []
    for authorship in data.get("authorships") or []:
        if not isinstance(authorship, dict):
            continue
        author = authorship.get("author") if isinstance(authorship.get("author"), dict) else {}
        name = author.get("display_name") or authorship.get("raw_author_name")
        if name:
            authors.append(" ".join(str(name).split()))
    refs = data.get("referenced_works")
    count = data.get("cited_by_count")
    return Work(
        id=ident,
        title=plain_text(data.get("title") or data.get("display_name")),
        abstract=plain_text(abstract_text(data.get("abstract_inverted_index"))),
        doi=data.get("doi") or ids.get("doi"),
        pmid=normalize_pmid(pmid),
        arxiv_id=find_arxiv_id(*urls),
        year=parse_year(data.get("publication_year")),
        publication_date=str(data.get("publication_date") or "") or None,
        authors=authors,
        venue=_venue(data),
        type=str(data.get("type") or ""),
        cited_by_count=int(count)
        if isinstance(count, int | str) and str(count).isdigit()
        else None,
        references=(
            [w for w in (work_id(r) for r in refs if isinstance(r, str)) if w]
            if isinstance(refs, list)
            else None
        ),
        source="openalex",
    )


class OpenAlex:
    """The OpenAlex calls specter-desk makes, each returning parsed Works."""

    def __init__(self, api: JsonApi):
        self.api = api

    @classmethod
    def connect(cls, base_url: str, *, mailto: str = "", api_key: str = "", **kwargs) -> OpenAlex:
        """A client for base_url in the polite pool (mailto) and with an API key if given."""
        kwargs.setdefault("min_interval", 0.1)  # OpenAlex allows 10 requests a second
        return cls(
            JsonApi(
                "OpenAlex",
                base_url,
                params={"mailto": mailto, "api_key": api_key},
                setting=f"citations.openalex_url in config.toml or ${URL_ENV}",
                **kwargs,
            )
        )

    def work(self, ident: str) -> Work | None:
        """One work by OpenAlex id, 'doi:...', 'pmid:...'; None when OpenAlex does not know it."""
        kind, _, value = ident.partition(":")
        if kind in ("doi", "pmid") and value:
            path = f"/works/{kind}:{urllib.parse.quote(value, safe='')}"
        else:
            path = f"/works/{urllib.parse.quote(ident, safe='')}"
        data = self.api.get(path, missing_ok=True)
        if data is None:
            return None
        work = parse_work(data)
        if work is None:
            raise CitationSourceError(f"OpenAlex answered {path} without a work id")
        return work

    def works(self, kind: str, values: Iterable[str]) -> list[Work]:
        """Works whose `kind` (doi, openalex, pmid) is one of values: one call per 50 values."""
        values = [v for v in dict.fromkeys(values) if v]
        found: list[Work] = []
        single = [v for v in values if _FILTER_UNSAFE.search(v)]
        batched = [v for v in values if v not in single]
        for start in range(0, len(batched), BATCH):
            chunk = batched[start : start + BATCH]
            try:
                page = self._list({"filter": f"{kind}:{'|'.join(chunk)}", "per_page": BATCH})
            except CitationSourceError as exc:
                if getattr(exc, "status", None) != 400:
                    raise
                single.extend(chunk)  # the API refused the OR filter: ask one by one
                continue
            found.extend(page[0])
        prefix = {"doi": "doi:", "pmid": "pmid:", "openalex": ""}[kind]
        for value in single:
            work = self.work(prefix + value)
            if work is not None:
                found.append(work)
        return found

    def search_title(self, title: str, year: int | None = None) -> list[Work]:
        """Works whose title matches the words of title (and published within a year of year)."""
        words = re.sub(r"[^\w\s]", " ", title).split()
        if not words:
            return []
        filters = [f"title.search:{' '.join(words)}"]
        if year:
            filters.append(f"publication_year:{year - 1}-{year + 1}")
        return self._list({"filter": ",".join(filters), "per_page": 10})[0]

    def citing(self, ids: list[str], *, limit: int, since: str | None = None) -> Iterator[Work]:
        """Works citing any of ids, newest first, up to limit (cursor paging)."""
        filters = [f"cites:{'|'.join(ids)}"]
        if since:
            filters.append(f"from_publication_date:{since}")
        cursor: str | None = "*"
        seen = 0
        while cursor and seen < limit:
            works, meta = self._list(
                {
                    "filter": ",".join(filters),
                    "sort": "publication_date:desc",
                    "per_page": min(PER_PAGE, max(limit - seen, 1)),
                    "cursor": cursor,
                }
            )
            for work in works[: limit - seen]:
                seen += 1
                yield work
            next_cursor = meta.get("next_cursor")
            cursor = next_cursor if works and next_cursor != cursor else None

    def _list(self, params: dict[str, Any]) -> tuple[list[Work], dict[str, Any]]:
        params = {"select": LIST_FIELDS, **params}
        data = self.api.get("/works", params)
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list):
            raise CitationSourceError(
                "OpenAlex answered /works without a results list; try again later"
            )
        meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
        return [w for w in (parse_work(r) for r in results) if w is not None], meta


def doi_of_arxiv(arxiv_id: str) -> str:
    """The DataCite DOI arXiv registers for a preprint (how OpenAlex knows it)."""
    return f"10.48550/arxiv.{arxiv_id}"


def same_doi(a: str | None, b: str | None) -> bool:
    """Two DOIs name the same work (after normalisation)."""
    return bool(a) and normalize_doi(a) == normalize_doi(b)
