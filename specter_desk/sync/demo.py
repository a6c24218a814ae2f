"""The demo library and its candidate pool, shipped in the package (data/DEMO_SOURCE.md):
1,606 real records with abstracts, and 600 other real records of the same literature review
to recommend from."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources

from ..models import CANDIDATE_POOL, LIBRARY_POOL, Paper
from .files import read_jsonl

LIBRARY = "demo"
CANDIDATES = "demo:candidates"
# Titles of demo papers whose related papers `specter-desk demo` shows.
EXAMPLES = (
    "Can Reputation Discipline the Gig Economy",
    "co-living spaces in digital nomads",
    "No teleworker is an island",
)


def _shipped(name: str, library: str, pool: str = LIBRARY_POOL) -> list[Paper]:
    source = resources.files("specter_desk") / "data" / name
    with resources.as_file(source) as path:
        return read_jsonl(path, library=library, pool=pool).papers


def demo_candidates() -> list[Paper]:
    """The demo's candidate pool: real records not in the demo library (titles, no abstracts)."""
    return _shipped("demo_candidates.jsonl.gz", CANDIDATES, CANDIDATE_POOL)


def demo_papers() -> list[Paper]:
    """The demo library with dateAdded shifted so the newest paper was added today."""
    papers = _shipped("demo_library.jsonl.gz", LIBRARY)
    added = [datetime.fromisoformat(p.date_added) for p in papers]
    shift = datetime.now(UTC) - max(added)
    for paper, when in zip(papers, added, strict=True):
        paper.date_added = paper.raw["date_added"] = (when + shift).strftime("%Y-%m-%dT%H:%M:%SZ")
    return papers
