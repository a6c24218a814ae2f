"""recommend(): windows, seeds on two topics, recency, library exclusion, explanations, MMR,
the feedback classifier and the JSON schema — on a real store and a real HNSW index, with
hand-placed vectors so every expectation follows from the geometry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from conftest import make_paper
from specter_desk.errors import InputError, NotEmbeddedError
from specter_desk.index import build_index
from specter_desk.services.feedback import record_feedback
from specter_desk.services.recommend import (
    Ranking,
    diversify,
    mmr,
    parse_since,
    recommend,
    softmax_scores,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
DIM = 12
MODEL = "hand"


def unit(*pairs: tuple[int, float]) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    for axis, value in pairs:
        v[axis] += value
    return v / np.linalg.norm(v)


def iso(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def put(store, key, title, vector, *, pool="library", added=None, **fields):
    library = "user:1" if pool == "library" else "file:feed.jsonl"
    paper = make_paper(
        key,
        title,
        pool=pool,
        library=library,
        date_added=iso(added) if added is not None else iso(400),
        **fields,
    )
    store.upsert_papers([paper])
    store.save_vectors(MODEL, [(key, paper.content_hash, vector)])
    return paper


def index_of(store):
    return build_index(store, MODEL)


@pytest.fixture
def two_topics(store):
    """Three seeds on topic A (axis 0), one on topic B (axis 1); candidates on both."""
    put(store, "SA1", "Seed A one", unit((0, 1)), added=1)
    put(store, "SA2", "Seed A two", unit((0, 1), (2, 0.1)), added=2)
    put(store, "SA3", "Seed A three", unit((0, 1), (3, 0.1)), added=2)
    put(store, "SB1", "Seed B one", unit((1, 1)), added=3)
    put(store, "OLD", "Old library paper", unit((5, 1)), added=200)
    for i in range(8):  # A candidates: loosely related to A (cos ~0.86)
        put(
            store,
            f"CA{i}",
            f"Candidate A {i}",
            unit((0, 1), (4 + i % 4, 0.6), (8 + i % 4, 0.05 * i)),
            pool="candidates",
        )
    for i in range(3):  # B candidates: close to the single B seed (cos ~0.96)
        put(store, f"CB{i}", f"Candidate B {i}", unit((1, 1), (8 + i, 0.3)), pool="candidates")
    put(store, "CZ", "Candidate unrelated", unit((11, 1)), pool="candidates")
    return store


# -- the window -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("day", 1),
        ("week", 7),
        ("month", 30),
        ("10d", 10),
        ("2w", 14),
        ("3 days", 3),
        ("36h", 1.5),
        ("WEEK", 7),
    ],
)
def test_parse_since_relative_windows(text, days):
    assert parse_since(text, NOW) == NOW - timedelta(days=days)


def test_parse_since_iso_date_and_datetime():
    assert parse_since("2026-11-01", NOW) == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_since("2026-11-20T08:30:00Z", NOW) == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize("text", ["fortnight", "", "0d", "10x", "2026-13-01"])
def test_parse_since_rejects_what_it_cannot_read(text):
    with pytest.raises(InputError, match="--since"):
        parse_since(text, NOW)


def test_a_window_ahead_of_now_is_empty_not_an_error(two_topics):
    """The CLI raised here while the bridge answered 200 and a message; both now answer as the
    bridge documents (bridge/API.md): no seeds, a message."""
    assert parse_since("2027-01-01", NOW) == datetime(2027, 1, 1, tzinfo=UTC)
    answer = recommend(two_topics, index_of(two_topics), since="2027-01-01", now=NOW)
    assert answer.seeds == [] and answer.results == []
    assert "2027-01-01T00:00:00Z" in answer.message and "it is ahead" in answer.message


def test_seeds_are_the_papers_added_in_the_window(two_topics):
    week = recommend(two_topics, index_of(two_topics), since="week", now=NOW)
    assert {s["key"] for s in week.seeds} == {"SA1", "SA2", "SA3", "SB1"}
    day = recommend(two_topics, index_of(two_topics), since="2d", now=NOW)
    assert {s["key"] for s in day.seeds} == {"SA1", "SA2", "SA3"}
    assert week.since == "2026-11-18T12:00:00Z"


# -- scoring -----------------------------------------------------------------------------


def test_two_topic_seeds_get_both_topics(two_topics):
    index = index_of(two_topics)
    ours = recommend(two_topics, index, since="week", n=5, now=NOW)
    keys = [r.paper.key for r in ours.results]
    assert any(k.startswith("CB") for k in keys[:3]), keys
    assert any(k.startswith("CA") for k in keys), keys
    assert "CZ" not in keys
    # the mean of the seeds (a large temperature, no diversity) buries topic B under topic A
    centroid = recommend(two_topics, index, since="week", n=5, now=NOW, diversity=False, tau=100)
    assert not any(r.paper.key.startswith("CB") for r in centroid.results)


def test_a_sharp_soft_max_alone_finds_the_second_topic(two_topics):
    index = index_of(two_topics)
    sharp = recommend(two_topics, index, since="week", n=5, now=NOW, diversity=False, tau=0.05)
    assert any(r.paper.key.startswith("CB") for r in sharp.results[:3])


def test_newer_seeds_weigh_more(store):
    put(store, "NEW", "New seed", unit((0, 1)), added=0.5)
    put(store, "OLDS", "Older seed", unit((1, 1)), added=6.5)
    put(store, "XN", "Near the new seed", unit((0, 1), (2, 0.5)), pool="candidates")
    put(store, "XO", "Near the old seed", unit((1, 1), (2, 0.5)), pool="candidates")
    answer = recommend(store, index_of(store), since="week", n=2, now=NOW, diversity=False)
    assert [r.paper.key for r in answer.results] == ["XN", "XO"]
    assert answer.results[0].paper.score > answer.results[1].paper.score


def test_softmax_scores_span_max_to_mean():
    sims = np.array([[0.9, 0.2], [0.1, 0.6]], dtype=np.float32)
    sharp = softmax_scores(sims, tau=0.001)
    assert np.allclose(sharp, [0.9 - 0.001 * np.log(2), 0.6 - 0.001 * np.log(2)], atol=1e-3)
    flat = softmax_scores(sims, tau=1000.0)
    assert np.allclose(flat, sims.mean(axis=0), atol=1e-3)


def test_mmr_skips_near_copies():
    base = unit((0, 1))
    vectors = np.stack([base, unit((0, 1), (1, 0.01)), unit((0, 1), (1, 0.02)), unit((2, 1))])
    relevance = np.array([0.9, 0.89, 0.88, 0.7], dtype=np.float32)
    assert mmr(relevance, vectors, 2) == [0, 3]
    assert mmr(relevance, vectors, 2, lam=1.0) == [0, 1]


def test_diversity_puts_the_second_topic_in_the_top_ten(store):
    put(store, "S1", "Seed one", unit((0, 1)), added=1)
    put(store, "S2", "Seed two", unit((1, 1)), added=1)
    for i in range(12):  # twelve near-copies very close to seed one
        put(store, f"A{i}", f"Copy {i}", unit((0, 1), (2, 0.05 + 0.001 * i)), pool="candidates")
    put(store, "B0", "Other topic", unit((1, 1), (3, 0.6)), pool="candidates")
    for i in range(3):  # the bottom of a real pool: papers unrelated to every seed
        put(store, f"U{i}", f"Unrelated {i}", unit((4 + i, 1)), pool="candidates")
    index = index_of(store)
    plain = recommend(store, index, since="week", n=10, now=NOW, diversity=False)
    assert "B0" not in [r.paper.key for r in plain.results]
    diverse = recommend(store, index, since="week", n=10, now=NOW)
    assert "B0" in [r.paper.key for r in diverse.results][:3]


def test_diversify_reads_relevance_on_the_pools_own_scale():
    """MMR's lambda means the same for cosines, fused scores or probabilities: the picks do
    not change when the relevance is shifted or stretched; read raw, they do."""
    vectors = np.stack([unit((0, 1)), unit((0, 1), (1, 0.3)), unit((2, 1)), unit((3, 1))])
    relevance = np.array([0.80, 0.78, 0.70, 0.10])
    picks = diversify(relevance, vectors, 3)
    assert picks == [0, 2, 1]  # the near-copy of 0 waits behind the other topic
    for a, b in ((10.0, 0.0), (0.1, 0.5), (1.0, -0.5)):
        assert diversify(a * relevance + b, vectors, 3) == picks
    raw = Ranking(mmr_scale="raw")
    assert diversify(relevance, vectors, 3, raw) == mmr(relevance, vectors, 3)
    assert diversify(relevance * 0.2, vectors, 3, raw) != diversify(relevance, vectors, 3, raw)
    with pytest.raises(ValueError):
        diversify(relevance, vectors, 3, Ranking(mmr_scale="vibes"))


def test_explanations_name_the_real_closest_seeds(two_topics):
    answer = recommend(two_topics, index_of(two_topics), since="week", n=8, now=NOW)
    seeds = {s["key"]: s["title"] for s in answer.seeds}
    keys, _, matrix = two_topics.vectors(MODEL, list(seeds))
    for rec in answer.results:
        assert rec.because, rec.paper.key
        vec = two_topics.vectors(MODEL, [rec.paper.key])[2][0]
        sims = matrix @ vec
        assert rec.because[0]["key"] == keys[int(np.argmax(sims))]
        for b in rec.because:
            assert b["title"] == seeds[b["key"]]
            assert b["score"] == pytest.approx(float(sims[keys.index(b["key"])]), abs=1e-3)
        assert [b["score"] for b in rec.because] == sorted(
            (b["score"] for b in rec.because), reverse=True
        )


# -- what may be recommended --------------------------------------------------------------


def _library_and_twins(store):
    put(store, "S1", "Seed", unit((0, 1)), added=1)
    put(
        store,
        "LIB",
        "Graph neural networks for molecular property prediction",
        unit((4, 1)),
        doi="10.1000/xyz",
        year=2020,
    )
    put(
        store,
        "LIB2",
        "Contrastive learning of sentence embeddings from inference data",
        unit((4, 1), (5, 1)),
        arxiv_id="2101.00001",
        year=2021,
    )
    put(
        store,
        "LIB3",
        "A survey of citation recommendation systems and their evaluation",
        unit((5, 1)),
        year=2019,
    )
    put(
        store,
        "C_DOI",
        "Graph Neural Networks for Molecular Property Prediction.",
        unit((0, 1), (2, 0.1)),
        pool="candidates",
        doi="https://doi.org/10.1000/XYZ",
        year=2020,
    )
    put(
        store,
        "C_ARX",
        "Contrastive Learning of Sentence Embeddings from Inference Data",
        unit((0, 1), (2, 0.2)),
        pool="candidates",
        arxiv_id="arXiv:2101.00001v2",
        year=2021,
    )
    put(
        store,
        "C_TITLE",
        "A Survey of Citation Recommendation Systems and their Evaluation",
        unit((0, 1), (2, 0.15)),
        pool="candidates",
        year=2019,
    )
    put(
        store,
        "C_OK",
        "A genuinely new paper on protein folding",
        unit((0, 1), (2, 0.5)),
        pool="candidates",
        year=2024,
    )


def test_library_papers_are_never_recommended_as_candidates(store):
    _library_and_twins(store)
    answer = recommend(store, index_of(store), since="week", n=10, now=NOW)
    assert [r.paper.key for r in answer.results] == ["C_OK"]
    assert all(r.paper.pool == "candidates" for r in answer.results)


def test_only_library_twins_left_says_so(store):
    put(store, "S1", "Attention is all you need", unit((0, 1)), added=1, arxiv_id="1706.03762")
    put(
        store,
        "C1",
        "Attention Is All You Need",
        unit((0, 1)),
        pool="candidates",
        arxiv_id="1706.03762v5",
    )
    answer = recommend(store, index_of(store), since="week", now=NOW)
    assert answer.results == []
    assert "already in your library" in answer.message


def test_rediscover_recommends_untouched_library_papers(store):
    put(store, "S1", "Seed", unit((0, 1)), added=1)
    put(store, "L_OLD", "Old and close", unit((0, 1), (2, 0.3)), date_modified=iso(400))
    put(
        store,
        "L_RECENT",
        "Touched last week",
        unit((0, 1), (2, 0.2)),
        date_modified=iso(7),
        added=300,
    )
    put(store, "C1", "A candidate", unit((0, 1)), pool="candidates")
    answer = recommend(store, index_of(store), since="week", now=NOW, source="library")
    assert [r.paper.key for r in answer.results] == ["L_OLD"]
    assert answer.source == "library"


def test_no_seeds_gives_a_message_that_suggests_a_longer_window(two_topics):
    answer = recommend(two_topics, index_of(two_topics), since="day", now=NOW + timedelta(days=30))
    assert answer.seeds == [] and answer.results == []
    assert "no papers were added" in answer.message and "--since month" in answer.message
    assert answer.to_dict()["message"] == answer.message


def test_no_candidates_gives_a_message_naming_the_commands(store):
    put(store, "S1", "Seed", unit((0, 1)), added=1)
    answer = recommend(store, index_of(store), since="week", now=NOW)
    assert answer.results == []
    assert "candidates add" in answer.message and "candidates fetch arxiv" in answer.message


def test_seeds_without_vectors_raise_not_embedded(store):
    store.upsert_papers([make_paper("S1", "Seed", date_added=iso(1))])
    put(store, "C1", "A candidate", unit((0, 1)), pool="candidates")
    with pytest.raises(NotEmbeddedError, match="specter-desk embed"):
        recommend(store, index_of(store), since="week", now=NOW)


def test_bad_source_is_an_input_error(two_topics):
    with pytest.raises(InputError, match="source"):
        recommend(two_topics, index_of(two_topics), source="zotero", now=NOW)


# -- feedback -------------------------------------------------------------------------------


@pytest.fixture
def labelled_world(store):
    """Seeds on A and B; B's seed is newer, so similarity ranks B candidates first."""
    put(store, "SA", "Seed A", unit((0, 1)), added=5)
    put(store, "SB", "Seed B", unit((1, 1)), added=0.5)
    for i in range(8):
        put(store, f"A{i}", f"A paper {i}", unit((0, 1), (2 + i, 0.4)), pool="candidates")
        put(store, f"B{i}", f"B paper {i}", unit((1, 1), (2 + i, 0.4)), pool="candidates")
    return store


def test_feedback_adjusts_the_ranking_after_five_labels_each_way(labelled_world):
    store = labelled_world
    index = index_of(store)

    def scores(**options):
        answer = recommend(store, index, since="week", n=16, now=NOW, diversity=False, **options)
        return answer, {r.paper.key: r.paper.score for r in answer.results}

    before, plain = scores()
    assert before.ranker == "similarity"
    assert all(r.paper.key.startswith("B") for r in before.results[:4])
    for i in range(4):
        record_feedback(store, f"A{i}", "up")
        record_feedback(store, f"B{i}", "down")
    assert scores()[0].ranker == "similarity"
    record_feedback(store, "A4", "up")
    record_feedback(store, "B4", "down")
    after, adjusted = scores()
    assert after.ranker == "classifier"
    assert after.labels == {"up": 5, "down": 5}
    keys = [r.paper.key for r in after.results]
    assert not {"B0", "B1", "B2", "B3", "B4"} & set(keys)  # voted down: never shown again
    # the seeds' score plus 0.1 x P(up): papers like the ones voted up gain, the others barely
    gain = {k: adjusted[k] - plain[k] for k in ("A5", "A6", "A7", "B5", "B6", "B7")}
    assert all(0 < g <= 0.1 for g in gain.values()), gain
    assert min(gain["A5"], gain["A6"], gain["A7"]) > max(gain["B5"], gain["B6"], gain["B7"]) + 0.03
    # votes adjust, they do not override: B's newer seed still leads by more than 0.1
    assert keys[:3] == ["B5", "B6", "B7"] or set(keys[:3]) == {"B5", "B6", "B7"}
    # before issue 19 the classifier ranked alone, in place of the seeds
    alone, _ = scores(ranking=Ranking(feedback_weight=None))
    assert all(r.paper.key.startswith("A") for r in alone.results[:8])


def test_votes_decide_between_equally_close_papers(labelled_world):
    store = labelled_world
    put(store, "SB", "Seed B", unit((1, 1)), added=5)  # as old as seed A: A and B papers tie
    for i in range(5):
        record_feedback(store, f"B{i}", "up")
        record_feedback(store, f"A{i}", "down")
    answer = recommend(store, index_of(store), since="week", n=3, now=NOW, diversity=False)
    assert answer.ranker == "classifier"
    assert {r.paper.key for r in answer.results} <= {f"B{i}" for i in range(8)}


def test_record_feedback_counts_changes_and_clears(labelled_world):
    store = labelled_world
    assert record_feedback(store, "A0", "up") == {
        "key": "A0",
        "vote": "up",
        "labels": {"up": 1, "down": 0},
    }
    assert record_feedback(store, "A0", "down")["labels"] == {"up": 0, "down": 1}
    assert record_feedback(store, "A0", "clear")["labels"] == {"up": 0, "down": 0}


def test_record_feedback_rejects_unknown_keys_and_votes(labelled_world):
    from specter_desk.errors import ItemNotFoundError

    with pytest.raises(ItemNotFoundError):
        record_feedback(labelled_world, "NOPE", "up")
    with pytest.raises(InputError, match="up"):
        record_feedback(labelled_world, "A0", "sideways")


# -- the JSON contract -----------------------------------------------------------------------

PAPER_HIT = {"key", "title", "year", "venue", "first_author", "doi", "arxiv_id", "pool", "score"}


def test_to_dict_matches_the_bridge_contract(two_topics):
    data = recommend(two_topics, index_of(two_topics), since="week", n=3, now=NOW).to_dict()
    assert {"since", "seeds", "ranker", "results"} <= set(data)
    assert "message" not in data
    assert data["ranker"] in ("similarity", "classifier")
    assert all(set(s) == {"key", "title"} for s in data["seeds"])
    assert len(data["results"]) == 3
    for hit in data["results"]:
        assert set(hit) == PAPER_HIT | {"because", "reasons"}
        assert hit["reasons"] == []  # ranked by meaning: no citation reasons
        assert isinstance(hit["score"], float)
        assert all(set(b) == {"key", "title", "score"} for b in hit["because"])


def test_n_below_one_is_an_input_error(two_topics):
    with pytest.raises(InputError, match="at least 1"):
        recommend(two_topics, index_of(two_topics), n=0, now=NOW)


def test_citation_links_lift_candidates_by_their_strength(store):
    """Citation data stored as `citations sync` stores it: `auto` fuses it with meaning. A
    paper both seeds cite is lifted; one weak co-citation only nudges a paper (before, by
    reciprocal rank fusion, it jumped over every closer paper)."""
    put(store, "S1", "Seed one", unit((0, 1)), added=1)
    put(store, "S2", "Seed two", unit((0, 1)), added=2)
    for i, t in enumerate((0.3, 0.4, 0.5)):  # close in meaning, no citation links
        put(store, f"M{i}", f"Close {i}", unit((0, 1), (1, t)), pool="candidates")
    put(store, "STRONG", "Cited by both seeds", unit((0, 1), (1, 1.0)), pool="candidates")
    put(store, "WEAK", "Co-cited once", unit((0, 1), (1, 1.2)), pool="candidates")
    stamp = "2026-11-20T00:00:00Z"
    keys = ("S1", "S2", "M0", "M1", "M2", "STRONG", "WEAK")
    store.set_matches([(k, f"W{k}", "openalex", "doi") for k in keys], stamp)
    store.set_references("WS1", ["WSTRONG"], "openalex", stamp)
    store.set_references("WS2", ["WSTRONG"], "openalex", stamp)
    store.set_references("WX", ["WS1", "WWEAK"], "openalex", stamp)  # one co-citation
    for other in ("WY1", "WY2", "WY3"):  # WEAK is cited more widely: a weak cosine
        store.set_references(other, ["WWEAK"], "openalex", stamp)
    index = index_of(store)

    def order(**options):
        answer = recommend(store, index, since="week", now=NOW, diversity=False, **options)
        return answer.by, [r.paper.key for r in answer.results]

    assert order(by="meaning") == ("meaning", ["M0", "M1", "M2", "STRONG", "WEAK"])
    by, fused = order()
    assert by == "both"
    assert fused.index("STRONG") < fused.index("M2") and fused[-1] == "WEAK"
    _, before = order(ranking=Ranking(citation_weight=None))
    assert before.index("WEAK") < before.index("M0")
