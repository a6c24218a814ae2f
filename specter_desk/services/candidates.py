"""Candidate pools: papers to recommend from, kept apart from the library (pool="candidates").

Sources: bibliography files (`candidates add FILE`, library "file:NAME") and arXiv listings
fetched over the arXiv API (Atom, library "arxiv"). Fetched papers are stored, so
recommendations work offline afterwards; each fetch is recorded in the arxiv_fetches table
and reused while it is fresh.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..errors import InputError, SyncError
from ..models import CANDIDATE_POOL, Paper, parse_year
from ..store import Store, now_iso
from .library import ImportResult, import_papers

ARXIV_URL_ENV = "SPECTER_DESK_ARXIV_URL"
ARXIV_URL = "http://export.arxiv.org/api/query"
PAGE_SIZE = 200
MAX_RESULTS = 1000
FRESH_HOURS = 6  # a fetch younger than this is reused unless refresh=True
_CATEGORY = re.compile(r"^[a-z\-]+(\.[A-Za-z\-]+)?$")
_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"


@dataclass
class AddResult:
    """What `candidates add FILE` did: the file's format, the import, and skipped records."""

    format: str
    import_result: ImportResult
    skipped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, **self.import_result.to_dict(), "skipped": self.skipped}


def add_candidates(store: Store, path: Path, *, library: str | None = None) -> AddResult:
    """Import a BibTeX, RIS, CSL-JSON or JSONL file into the candidate pool ("file:NAME")."""
    from ..sync.files import read_file

    path = Path(path)
    read = read_file(path, library=library or f"file:{path.name}", pool=CANDIDATE_POOL)
    for paper in read.papers:
        paper.pool = CANDIDATE_POOL
    return AddResult(read.format, import_papers(store, read.papers), list(read.skipped))


@dataclass
class FetchResult:
    """What an arXiv fetch did."""

    category: str
    days: int
    fetched_at: str
    papers: int
    cached: bool
    import_result: ImportResult | None = None
    warning: str | None = None
    keys: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "source": "arxiv",
            "category": self.category,
            "days": self.days,
            "fetched_at": self.fetched_at,
            "papers": self.papers,
            "cached": self.cached,
        }
        if self.import_result is not None:
            data.update(self.import_result.to_dict())
        if self.warning:
            data["warning"] = self.warning
        return data


def arxiv_url() -> str:
    """The arXiv API base URL ($SPECTER_DESK_ARXIV_URL overrides, for tests and mirrors)."""
    url = os.environ.get(ARXIV_URL_ENV) or ARXIV_URL
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise InputError(f"{ARXIV_URL_ENV}={url!r} must be an http(s) URL")
    return url


def fetch_arxiv(
    store: Store,
    category: str,
    days: int = 7,
    *,
    max_results: int = MAX_RESULTS,
    refresh: bool = False,
    now: datetime | None = None,
    timeout: float = 30.0,
    retry_wait: float = 3.0,
) -> FetchResult:
    """Fetch the papers submitted to an arXiv category in the last `days` into the candidates.

    A fetch of the same category and window younger than FRESH_HOURS is reused without the
    network; when arXiv cannot be reached, the papers fetched before stay usable.
    """
    if not _CATEGORY.match(category or ""):
        raise InputError(f"{category!r} is not an arXiv category; use e.g. cs.CL or stat.ML")
    if not 1 <= days <= 365:
        raise InputError("--days must be between 1 and 365")
    now = now or datetime.now(UTC)
    query_id = f"{category}|{days}"
    cached = _cached_fetch(store, query_id)
    if cached and not refresh:
        age = now - datetime.fromisoformat(cached["fetched_at"].replace("Z", "+00:00"))
        if age < timedelta(hours=FRESH_HOURS):
            return FetchResult(
                category, days, cached["fetched_at"], cached["count"], True, keys=cached["keys"]
            )
    start = now - timedelta(days=days)
    search_query = f"cat:{category} AND submittedDate:[{start:%Y%m%d%H%M} TO {now:%Y%m%d%H%M}]"
    try:
        papers = _fetch_all(arxiv_url(), search_query, category, max_results, timeout, retry_wait)
    except SyncError as exc:
        if cached:
            return FetchResult(
                category,
                days,
                cached["fetched_at"],
                cached["count"],
                True,
                keys=cached["keys"],
                warning=f"{exc}; using the {cached['count']} papers fetched at "
                f"{cached['fetched_at']}",
            )
        raise
    result = import_papers(store, papers)
    fetched_at = now_iso()
    keys = [p.key for p in papers]
    with store.transaction():
        store.db.execute(
            "INSERT INTO arxiv_fetches (query, category, days, fetched_at, count, keys) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(query) DO UPDATE SET "
            "fetched_at = excluded.fetched_at, count = excluded.count, keys = excluded.keys",
            [query_id, category, days, fetched_at, len(papers), json.dumps(keys)],
        )
    return FetchResult(category, days, fetched_at, len(papers), False, result, keys=keys)


def _cached_fetch(store: Store, query_id: str) -> dict[str, Any] | None:
    row = store.db.execute(
        "SELECT fetched_at, count, keys FROM arxiv_fetches WHERE query = ?", [query_id]
    ).fetchone()
    if not row:
        return None
    return {"fetched_at": row[0], "count": row[1], "keys": json.loads(row[2])}


def fetches(store: Store) -> list[dict[str, Any]]:
    """Every recorded arXiv fetch, newest first."""
    cur = store.db.execute(
        "SELECT category, days, fetched_at, count FROM arxiv_fetches ORDER BY fetched_at DESC"
    )
    return [{"category": r[0], "days": r[1], "fetched_at": r[2], "papers": r[3]} for r in cur]


def candidate_sources(store: Store) -> list[dict[str, Any]]:
    """Candidate pools by source library with their paper counts."""
    return [
        {"library": lib["library"], "papers": lib["papers"]}
        for lib in store.libraries()
        if lib["pool"] == CANDIDATE_POOL
    ]


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
            library="arxiv",
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
