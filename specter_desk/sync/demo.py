"""The demo library shipped in the package (data/DEMO_SOURCE.md): 1,606 real records."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources

from ..models import Paper
from .files import read_jsonl

LIBRARY = "demo"
# Titles of demo papers whose related papers `specter-desk demo` shows.
EXAMPLES = (
    "Can Reputation Discipline the Gig Economy",
    "co-living spaces in digital nomads",
    "No teleworker is an island",
)


def demo_papers() -> list[Paper]:
    """The demo library with dateAdded shifted so the newest paper was added today."""
    source = resources.files("specter_desk") / "data" / "demo_library.jsonl.gz"
    with resources.as_file(source) as path:
        papers = read_jsonl(path, library=LIBRARY).papers
    added = [datetime.fromisoformat(p.date_added) for p in papers]
    shift = datetime.now(UTC) - max(added)
    for paper, when in zip(papers, added, strict=True):
        paper.date_added = paper.raw["date_added"] = (when + shift).strftime("%Y-%m-%dT%H:%M:%SZ")
    return papers
