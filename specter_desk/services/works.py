"""Works of the whole store: which live papers are copies of one work, decided once for every
paper (services/copies.py's rules), so that a list is collapsed to one paper per work by
looking its keys up instead of running the duplicate detector over it.

The daemon keeps one such map per store version (server/slow_work.py's WorksCache): related() and
search() answer many short lists between two changes of the store, and each list would run
the detector again. Decided over the whole store, two papers joined through a third one
that is not in the list are still one work. A list with a key the map does not know (a paper
added since) is collapsed the old way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..store import Store
from .copies import work_ids

# Larger stores collapse each list on its own: the map of 102,000 papers took 31 s and 1 GB in
# one process (2-core dev box, under load), after every change of the store.
MAX_PAPERS = 50_000


@dataclass(frozen=True)
class Works:
    """{paper key: its work's first key (the smallest key of its copies)} for live papers."""

    first: dict[str, str]

    def covers(self, keys: Iterable[str]) -> bool:
        """Whether every key is a paper the map knows."""
        first = self.first
        return all(key in first for key in keys)

    def work(self, key: str) -> str:
        """The work of a paper the map covers."""
        return self.first[key]


def store_works(store: Store, *, limit: int = MAX_PAPERS) -> Works | None:
    """The works of every live paper of every pool; None when there are more than limit."""
    if store.count_papers(pool=None) > limit:
        return None
    papers = list(store.papers(pool=None))
    roots = work_ids(papers, store)
    smallest: dict[int, str] = {}
    for paper, root in zip(papers, roots, strict=True):
        if root not in smallest or paper.key < smallest[root]:
            smallest[root] = paper.key
    return Works({paper.key: smallest[root] for paper, root in zip(papers, roots, strict=True)})
