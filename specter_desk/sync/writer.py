"""Writing papers into the store, for a sync page and an import alike: one transaction per page,
counted, unchanged papers not rewritten, key clashes reported, never silent."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from ..models import Collection, Paper
from ..store import Store

# Sources that see the same Zotero item keys: a key may move between them (last sync wins).
_ZOTERO_LIBRARY = re.compile(r"^(?:user:\d+|group:\d+|local|sqlite)$")
PAGE = 500  # papers per transaction when a whole library is written at once


def is_zotero_library(library: str) -> bool:
    """True for libraries synced from Zotero (web user/group, local API, zotero.sqlite)."""
    return bool(_ZOTERO_LIBRARY.match(library))


class Stopped(Exception):  # noqa: N818 - control flow, not an error
    """should_stop() said to stop between pages (what is committed stays committed)."""


def pause(seconds: float, should_stop: Callable[[], bool]) -> None:
    """Sleep in short steps, raising Stopped as soon as should_stop() says so (a backoff a
    stop request can cut short)."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if should_stop():
            raise Stopped
        time.sleep(min(left, 0.2))


@dataclass
class Counts:
    """What the pages written so far did."""

    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    fulltext: int = 0
    clashes: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    """What an import did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    clashes: list[str] = field(default_factory=list)  # keys owned by another library

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _comparable(paper: Paper) -> dict[str, Any]:
    data = paper.to_dict()
    data.pop("raw", None)
    return data


def _owned_by(paper: Paper, old: Paper) -> bool:
    """May paper replace old? Its own library's, or a Zotero key moving between Zotero sources."""
    if old.library == paper.library:
        return True
    return is_zotero_library(paper.library) and is_zotero_library(old.library)


def write_papers(store: Store, papers: list[Paper], counts: Counts) -> None:
    """Upsert papers by the rules every writer follows (call inside a store transaction).

    A key held by another library (or repeated in papers) is a clash, not replaced; an
    unchanged paper is not rewritten; a paper without an abstract keeps the full-text excerpt
    it had.
    """
    existing = store.get_papers([p.key for p in papers])
    to_write: list[Paper] = []
    seen: set[str] = set()
    for paper in papers:
        old = existing.get(paper.key)
        if paper.key in seen or (old is not None and not _owned_by(paper, old)):
            counts.clashes.append(paper.key)
            continue
        seen.add(paper.key)
        if not paper.abstract and old is not None and old.text_source == "fulltext":
            paper.abstract, paper.text_source = old.abstract, "fulltext"
        if old is None or old.deleted:
            if not paper.deleted:
                counts.added += 1
        elif paper.deleted:
            counts.deleted += 1
        elif _comparable(old) == _comparable(paper):
            counts.unchanged += 1
            continue
        else:
            counts.updated += 1
        to_write.append(paper)
    store.upsert_papers(to_write)


def import_papers(store: Store, papers: list[Paper]) -> ImportResult:
    """Write papers (of any library) in one transaction, by the rules of write_papers."""
    counts = Counts()
    with store.transaction():
        write_papers(store, papers, counts)
    return ImportResult(counts.added, counts.updated, counts.unchanged, counts.clashes)


class PageWriter:
    """Writes pages of papers of one library; each page is one store transaction."""

    def __init__(self, store: Store, library: str):
        self.store = store
        self.library = library
        self.counts = Counts()

    def write(
        self,
        papers: Iterable[Paper] = (),
        *,
        deleted_keys: Iterable[str] = (),
        fulltext: dict[str, str] | None = None,
        children: Iterable[tuple[str, int, str, str | None]] = (),
        collections: Iterable[Collection] | None = None,
        state: tuple[int, dict[str, Any]] | None = None,
    ) -> None:
        """Upsert papers, remember non-paper items (children: key, version, type, parent), flag
        deleted keys, apply full-text excerpts, replace the library's collections (when given)
        and (last) the sync state, in one transaction."""
        papers = list(papers)
        deleted_keys = list(deleted_keys)
        children = list(children)
        with self.store.transaction():
            write_papers(self.store, papers, self.counts)
            if children:
                self.store.save_child_items(self.library, children)
            if deleted_keys:
                self.store.forget_child_items(self.library, deleted_keys)
                mine = [
                    key
                    for key, p in self.store.get_papers(deleted_keys).items()
                    if p.library == self.library and not p.deleted
                ]
                self.counts.deleted += self.store.mark_deleted(mine)
            if fulltext:
                self._apply_fulltext(fulltext)
            if collections is not None:
                self.store.replace_collections(self.library, collections)
            if state is not None:
                self.store.set_sync_state(self.library, state[0], state[1])

    def write_library(
        self,
        papers: list[Paper],
        details: dict[str, Any],
        *,
        check_stop: Callable[[], None],
        report: Callable[[str, int, int], None],
        stage: str,
        collections: list[Collection] | None = None,
    ) -> None:
        """Write a library read whole (a file, zotero.sqlite) in pages of PAGE: keys it no
        longer has are flagged deleted, and the last page goes in with the collections (when
        the source has them) and the sync state."""
        stored = self.store.versions(self.library, include_deleted=True)
        gone = set(stored) - {p.key for p in papers}
        last = max(0, (len(papers) - 1) // PAGE * PAGE)
        for start in range(0, last, PAGE):
            check_stop()
            self.write(papers[start : start + PAGE])
            report(stage, start + PAGE, len(papers))
        self.write(papers[last:], deleted_keys=gone, collections=collections, state=(0, details))
        report(stage, len(papers), len(papers))

    def _apply_fulltext(self, texts: dict[str, str]) -> None:
        updated = []
        for key, paper in self.store.get_papers(texts).items():
            text = texts[key]
            if paper.library != self.library or not text:
                continue
            if paper.abstract and paper.text_source != "fulltext":
                continue  # a real abstract always wins
            if paper.abstract == text:
                continue
            paper.abstract, paper.text_source = text, "fulltext"
            updated.append(paper)
        self.store.upsert_papers(updated)
        self.counts.fulltext += len(updated)
