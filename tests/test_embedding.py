"""Incremental embedding: only papers whose (model, content hash) has no vector are embedded."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from conftest import make_paper
from specter_desk.embed.pipeline import embed_missing
from specter_desk.embed.protocol import PaperEncoder
from specter_desk.embed.registry import ModelSpec, register_model
from specter_desk.errors import ModelNotFoundError


def _papers(n=12):
    return [
        make_paper(f"E{i}", f"Paper number {i} on topic {i % 3}", f"Abstract text {i}.")
        for i in range(n)
    ]


def test_second_run_embeds_nothing_and_an_edited_abstract_exactly_one(desk):
    desk.store.upsert_papers(_papers())
    encoder = desk.encoder()
    first = embed_missing(desk.store, encoder)
    assert (first.embedded, first.skipped) == (12, 0)
    assert desk.store.vector_counts() == {"tiny": 12}

    second = embed_missing(desk.store, encoder)
    assert (second.embedded, second.skipped) == (0, 12)

    edited = desk.store.get_paper("E5")
    edited.abstract = "A rewritten abstract about something else."
    desk.store.upsert_papers([edited])
    seen = []
    third = embed_missing(desk.store, encoder, on_progress=lambda d, t: seen.append((d, t)))
    assert third.embedded == 1
    assert seen[-1] == (1, 1)


def test_title_only_change_re_embeds_and_deleted_papers_are_skipped(desk):
    desk.store.upsert_papers(_papers(4))
    encoder = desk.encoder()
    embed_missing(desk.store, encoder)
    desk.store.mark_deleted(["E0"])
    renamed = desk.store.get_paper("E1")
    renamed.title = "A new title"
    desk.store.upsert_papers([renamed, make_paper("E9", "Brand new")])
    result = embed_missing(desk.store, encoder)
    assert result.embedded == 2  # E1 (changed) and E9 (new); E0 is deleted


def test_vectors_do_not_depend_on_batch_composition(desk):
    desk.store.upsert_papers(_papers(6))
    encoder = desk.encoder()
    embed_missing(desk.store, encoder)
    keys, _, stored = desk.store.vectors("tiny")
    alone = encoder.encode_papers([desk.store.get_paper(keys[2])])[0]
    assert abs(float(alone @ stored[2]) - 1.0) < 1e-4


def test_index_refresh_picks_up_new_vectors(desk):
    desk.store.upsert_papers(_papers(5))
    embed_missing(desk.store, desk.encoder())
    assert len(desk.index()) == 5
    desk.store.upsert_papers([make_paper("E7", "Late arrival")])
    embed_missing(desk.store, desk.encoder())
    assert len(desk.index(refresh=True)) == 6
    assert "E7" in desk.index()


class WordHashEncoder:
    """A PaperEncoder without a model: a paper's vector is its words hashed into 16 buckets."""

    spec = ModelSpec(name="words", hub_id="none", description="words hashed, for tests")
    chunk_size = 3
    sync_each_batch = False  # like a GPU: the pipeline commits in steps of chunk_size or more

    def __init__(self) -> None:
        self.calls: list[int] = []

    def encode(self, texts, on_progress=None) -> np.ndarray:
        rows = np.zeros((len(texts), 16), dtype=np.float32)
        for row, text in zip(rows, texts, strict=True):
            for word in text.lower().split():
                row[zlib.crc32(word.encode()) % 16] += 1.0
            row /= max(float(np.linalg.norm(row)), 1e-9)
        if on_progress:
            on_progress(len(texts), len(texts))
        return rows

    def encode_papers(self, papers, on_progress=None) -> np.ndarray:
        self.calls.append(len(papers))
        return self.encode([f"{p.title} {p.abstract}" for p in papers], on_progress)


def test_the_pipeline_takes_any_paper_encoder(desk):
    desk.store.upsert_papers(_papers(5))
    fake: PaperEncoder = WordHashEncoder()
    result = embed_missing(desk.store, fake)
    assert (result.model, result.embedded, result.skipped) == ("words", 5, 0)
    assert fake.calls == [5]  # one step: sync_each_batch False lets it take CHUNK at once
    keys, _, vectors = desk.store.vectors("words")
    assert len(keys) == 5 and vectors.shape == (5, 16)
    assert np.allclose(vectors[0], fake.encode_papers([desk.store.get_paper(keys[0])])[0])
    assert embed_missing(desk.store, fake).embedded == 0


def test_the_desk_embeds_what_is_missing_and_keeps_the_index_in_step(desk):
    desk.store.upsert_papers(_papers(4))
    assert desk.embed_missing().embedded == 4
    assert len(desk.index()) == 4
    desk.store.mark_deleted(["E0"])
    again = desk.embed_missing()  # nothing to embed; the index still drops the deleted paper
    assert (again.embedded, len(desk.index()), "E0" in desk.index()) == (0, 3, False)


def test_the_desk_loads_no_model_when_nothing_is_missing(desk, tmp_path):
    register_model(
        ModelSpec(
            name="absent",
            hub_id="example/absent",
            description="weights that are nowhere",
            local_path=lambda: str(tmp_path / "absent"),
        )
    )
    papers = _papers(3)
    desk.store.upsert_papers(papers)
    desk.store.save_vectors(
        "absent",
        [(p.key, p.content_hash, np.eye(8, dtype=np.float32)[i]) for i, p in enumerate(papers)],
    )
    assert desk.embed_missing("absent").embedded == 0  # would fail if it loaded the model
    desk.store.upsert_papers([make_paper("E9", "One more")])
    with pytest.raises(ModelNotFoundError):
        desk.embed_missing("absent")
