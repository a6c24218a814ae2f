"""Embed what changed: only papers whose (model, content hash) has no stored vector."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..store import Store
from .protocol import PaperEncoder

# Vectors are committed every CHUNK papers, so an interrupted run keeps its work.
CHUNK = 256


@dataclass
class EmbedResult:
    """What an embedding run did."""

    model: str
    embedded: int
    skipped: int


def embed_missing(
    store: Store,
    encoder: PaperEncoder,
    *,
    pool: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> EmbedResult:
    """Embed the live papers that lack a current vector for encoder's model.

    should_stop is checked between chunks (each chunk is committed): the daemon stops early.
    """
    model = encoder.spec.name
    todo = store.missing_vectors(model, pool=pool)
    total_live = store.count_papers(pool=pool)
    done = 0
    if on_progress:
        on_progress(0, len(todo))
    # a GPU wants bigger steps: the encoder overlaps tokenising and collects once per step
    step = CHUNK if encoder.sync_each_batch else max(CHUNK, encoder.chunk_size)
    for start in range(0, len(todo), step):
        if should_stop is not None and should_stop():
            break
        chunk = todo[start : start + step]

        def report(n: int, _total: int, base: int = done) -> None:
            if on_progress:
                on_progress(base + n, len(todo))

        vectors = encoder.encode_papers(chunk, report)
        store.save_vectors(
            model, ((p.key, p.content_hash, v) for p, v in zip(chunk, vectors, strict=True))
        )
        done += len(chunk)
    return EmbedResult(model=model, embedded=done, skipped=total_live - len(todo))
