"""Writing one page of a sync: one transaction, counted, key clashes reported, never silent."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..models import Paper
from ..store import Store

# Sources that see the same Zotero item keys: a key may move between them (last sync wins).
_ZOTERO_LIBRARY = re.compile(r"^(?:user:\d+|group:\d+|local|sqlite)$")


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


def _comparable(paper: Paper) -> dict[str, Any]:
    data = paper.to_dict()
    data.pop("raw", None)
    return data


class PageWriter:
    """Writes pages of papers of one library; each page is one store transaction."""

    def __init__(self, store: Store, library: str):
        self.store = store
        self.library = library
        self.counts = Counts()
        self._takeover = is_zotero_library(library)

    def _owned(self, old: Paper) -> bool:
        if old.library == self.library:
            return True
        return self._takeover and is_zotero_library(old.library)

    def write(
        self,
        papers: Iterable[Paper] = (),
        *,
        deleted_keys: Iterable[str] = (),
        fulltext: dict[str, str] | None = None,
        children: Iterable[tuple[str, int, str, str | None]] = (),
        state: tuple[int, dict[str, Any]] | None = None,
    ) -> None:
        """Upsert papers, remember non-paper items (children: key, version, type, parent), flag
        deleted keys, apply full-text excerpts and (last) the sync state, in one transaction."""
        papers = list(papers)
        deleted_keys = list(deleted_keys)
        children = list(children)
        with self.store.transaction():
            existing = self.store.get_papers([p.key for p in papers])
            to_write: list[Paper] = []
            seen: set[str] = set()
            for paper in papers:
                old = existing.get(paper.key)
                if paper.key in seen or (old is not None and not self._owned(old)):
                    self.counts.clashes.append(paper.key)
                    continue
                seen.add(paper.key)
                if not paper.abstract and old is not None and old.text_source == "fulltext":
                    paper.abstract, paper.text_source = old.abstract, "fulltext"
                if old is None or old.deleted:
                    if not paper.deleted:
                        self.counts.added += 1
                elif paper.deleted:
                    self.counts.deleted += 1
                elif _comparable(old) == _comparable(paper):
                    self.counts.unchanged += 1
                    continue
                else:
                    self.counts.updated += 1
                to_write.append(paper)
            self.store.upsert_papers(to_write)
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
            if state is not None:
                self.store.set_sync_state(self.library, state[0], state[1])

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
