"""Registering a finished corpus as the candidate pool: papers and their vectors into the store.

``recommend`` ranks the store's pool="candidates" papers with their stored vectors, so once a
corpus is imported (papers + vectors for its model) it is used as is, without re-embedding.
Papers that left the corpus since the last import of the same library are marked deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..store import Store
from ..sync.writer import import_papers
from .shards import finished_manifest, iter_shards


@dataclass
class CorpusImport:
    """What `corpus import` did."""

    library: str
    model: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    vectors: int = 0
    removed: int = 0
    clashes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return vars(self).copy()


def import_corpus(
    store: Store,
    out: Path | str,
    *,
    library: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> CorpusImport:
    """Load every shard's papers (pool=candidates) and vectors into the store, shard by shard."""
    out = Path(out)
    manifest = finished_manifest(out)
    library = library or manifest["library"]
    model = manifest["model"]
    result = CorpusImport(library=library, model=model)
    previous = set(store.versions(library))
    seen: set[str] = set()
    done = 0
    for shard in iter_shards(out):
        papers = shard.papers(library)
        with store.transaction():  # a shard's papers and vectors land together or not at all
            outcome = import_papers(store, papers)
            clashes = set(outcome.clashes)
            result.vectors += store.save_vectors(
                model,
                (
                    (p.key, h, v)
                    for p, h, v in zip(papers, shard.hashes, shard.vectors, strict=True)
                    if p.key not in clashes
                ),
            )
        result.added += outcome.added
        result.updated += outcome.updated
        result.unchanged += outcome.unchanged
        result.clashes += outcome.clashes
        seen.update(p.key for p in papers)
        done += len(papers)
        if on_progress:
            on_progress(done, int(manifest["papers"]))
    gone = sorted(previous - seen)
    if gone:
        result.removed = store.mark_deleted(gone)
    return result
