"""Candidate pools: papers to recommend from, kept apart from the library (pool="candidates").

Sources: bibliography files (`candidates add FILE`, library "file:NAME") and arXiv listings
(sync/arxiv.py, library "arxiv"). Fetched papers are stored, so recommendations work offline
afterwards; each fetch is recorded in the store and reused while it is fresh.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..errors import InputError, SyncError
from ..models import CANDIDATE_POOL
from ..store import Store
from ..sync.arxiv import fetch_listing
from ..sync.files import read_file
from ..sync.writer import ImportResult, import_papers

MAX_RESULTS = 1000
FRESH_HOURS = 6  # a fetch younger than this is reused unless refresh=True
_CATEGORY = re.compile(r"^[a-z\-]+(\.[A-Za-z\-]+)?$")


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
    cached = store.arxiv_fetch(query_id)
    if cached and not refresh:
        age = now - datetime.fromisoformat(cached["fetched_at"].replace("Z", "+00:00"))
        if age < timedelta(hours=FRESH_HOURS):
            return FetchResult(
                category, days, cached["fetched_at"], cached["count"], True, keys=cached["keys"]
            )
    try:
        papers = fetch_listing(
            category,
            now - timedelta(days=days),
            now,
            max_results=max_results,
            timeout=timeout,
            retry_wait=retry_wait,
        )
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
    keys = [p.key for p in papers]
    fetched_at = store.save_arxiv_fetch(query_id, category, days, keys)
    return FetchResult(category, days, fetched_at, len(papers), False, result, keys=keys)


def candidate_sources(store: Store) -> list[dict[str, Any]]:
    """Candidate pools by source library with their paper counts."""
    return [
        {"library": lib["library"], "papers": lib["papers"]}
        for lib in store.libraries()
        if lib["pool"] == CANDIDATE_POOL
    ]
