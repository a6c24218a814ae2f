"""Incremental embedding: only papers whose (model, content hash) has no vector are embedded."""

from __future__ import annotations

from conftest import make_paper
from specter_desk.embed.pipeline import embed_missing


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
