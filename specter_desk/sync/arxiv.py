"""arXiv listings over the arXiv API (Atom): the papers submitted to a category in a window.

Pages of PAGE_SIZE with the pause arXiv asks for between calls, retries on 429/5xx, and a
clear SyncError when the API cannot be reached or answers something that is not a feed.
"""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from typing import Any

from ..errors import InputError, SyncError
from ..models import CANDIDATE_POOL, Paper, parse_year

ARXIV_URL_ENV = "SPECTER_DESK_ARXIV_URL"
ARXIV_URL = "http://export.arxiv.org/api/query"
LIBRARY = "arxiv"
PAGE_SIZE = 200
_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"


def arxiv_url() -> str:
    """The arXiv API base URL ($SPECTER_DESK_ARXIV_URL overrides, for tests and mirrors)."""
    url = os.environ.get(ARXIV_URL_ENV) or ARXIV_URL
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise InputError(f"{ARXIV_URL_ENV}={url!r} must be an http(s) URL")
    return url


def fetch_listing(
    category: str,
    start: datetime,
    end: datetime,
    *,
    max_results: int,
    timeout: float = 30.0,
    retry_wait: float = 3.0,
) -> list[Paper]:
    """Papers submitted to an arXiv category between start and end, newest first."""
    search_query = f"cat:{category} AND submittedDate:[{start:%Y%m%d%H%M} TO {end:%Y%m%d%H%M}]"
    return _fetch_all(arxiv_url(), search_query, category, max_results, timeout, retry_wait)


def _fetch_all(
    base: str,
    search_query: str,
    category: str,
    max_results: int,
    timeout: float,
    retry_wait: float,
) -> list[Paper]:
    papers: list[Paper] = []
    seen: set[str] = set()
    start = 0
    while start < max_results:
        size = min(PAGE_SIZE, max_results - start)
        params = urllib.parse.urlencode(
            {
                "search_query": search_query,
                "start": start,
                "max_results": size,
                "sortBy": "submittedDate",
                "sortOrder": "descending",
            }
        )
        body = _get(f"{base}?{params}", timeout, retry_wait)
        page, total = parse_atom(body, category)
        for paper in page:
            if paper.key not in seen:
                seen.add(paper.key)
                papers.append(paper)
        start += size
        if len(page) < size or start >= total:
            break
        time.sleep(retry_wait)  # arXiv asks for a pause between API calls
    return papers


def _get(url: str, timeout: float, retry_wait: float) -> bytes:
    last: Exception | None = None
    for attempt in range(3):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - scheme checked
                return response.read()
        except urllib.error.HTTPError as exc:
            last = exc
            if exc.code < 500 and exc.code != 429:
                raise SyncError(f"arXiv answered HTTP {exc.code} for {url}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            last = exc
            break
        time.sleep(retry_wait * (attempt + 1))
    reason = getattr(last, "reason", None) or last
    raise SyncError(
        f"cannot reach the arXiv API at {url.split('?')[0]} ({reason}); check the connection "
        "and run the fetch again"
    )


def _primary_category(entry: Any) -> str | None:
    node = entry.find(f"{_ARXIV}primary_category")
    return node.get("term") if node is not None else None


def parse_atom(body: bytes, category: str) -> tuple[list[Paper], int]:
    """Papers from an arXiv API Atom feed, and the total result count it announces."""
    from defusedxml import ElementTree

    try:
        root = ElementTree.fromstring(body)
    except Exception as exc:  # noqa: BLE001 - any parse failure means a malformed answer
        raise SyncError(f"the arXiv API sent a malformed Atom feed ({exc})") from exc
    if root.tag != f"{_ATOM}feed":
        raise SyncError("the arXiv API answer is not an Atom feed")
    total_text = root.findtext(f"{_OPENSEARCH}totalResults")
    papers = []
    for entry in root.findall(f"{_ATOM}entry"):
        ident = (entry.findtext(f"{_ATOM}id") or "").strip()
        title = " ".join((entry.findtext(f"{_ATOM}title") or "").split())
        if "/api/errors" in ident or title == "Error":
            summary = " ".join((entry.findtext(f"{_ATOM}summary") or "").split())
            raise SyncError(f"the arXiv API reported an error: {summary}")
        paper = Paper(
            key="",
            title=title,
            abstract=" ".join((entry.findtext(f"{_ATOM}summary") or "").split()),
            library=LIBRARY,
            pool=CANDIDATE_POOL,
            item_type="preprint",
            arxiv_id=ident,
            doi=entry.findtext(f"{_ARXIV}doi"),
            creators=[
                {
                    "creatorType": "author",
                    "name": " ".join((a.findtext(f"{_ATOM}name") or "").split()),
                }
                for a in entry.findall(f"{_ATOM}author")
            ],
            venue=" ".join((entry.findtext(f"{_ARXIV}journal_ref") or "").split())
            or f"arXiv {_primary_category(entry) or category}",
            url=ident,
            year=parse_year(entry.findtext(f"{_ATOM}published")),
            date_added=(entry.findtext(f"{_ATOM}published") or None),
            date_modified=(entry.findtext(f"{_ATOM}updated") or None),
        )
        if not paper.arxiv_id or not paper.title:
            continue
        paper.key = f"arxiv:{paper.arxiv_id}"
        papers.append(paper)
    try:
        total = int(total_text) if total_text else len(papers)
    except ValueError:
        total = len(papers)
    return papers, total
