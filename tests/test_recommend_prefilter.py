"""recommend() through the index prefilter (services/prefilter.py): the same answers as scoring
every candidate — on a clustered pool, with the tiny BERT, with feedback, with citations — and
the seeds found in SQL. Real store, real usearch index; the prefilter is forced on for pools
smaller than it would be used for (EXACT_BELOW) and compared with the whole-pool path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from conftest import make_paper
from specter_desk.index import build_index
from specter_desk.models import Work
from specter_desk.services import prefilter
from specter_desk.services.feedback import record_feedback
from specter_desk.services.recommend import recommend
from specter_desk.services.seeds import find_seeds, parse_datetime

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MODEL = "hand"
DIM = 32


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def words(rng: np.random.Generator, count: int) -> str:
    syllables = [a + b for a in "bdfgklmnprstvz" for b in "aeiou"]
    return " ".join(
        "".join(rng.choice(syllables) for _ in range(int(rng.integers(2, 4)))) for _ in range(count)
    )


def clustered(rng: np.random.Generator, centres: np.ndarray, n: int) -> np.ndarray:
    """n unit vectors, each a random centre plus noise (cosine ~0.5 within a centre)."""
    block = centres[rng.integers(0, len(centres), n)] + rng.standard_normal((n, DIM))
    return (block / np.linalg.norm(block, axis=1, keepdims=True)).astype(np.float32)


def fill(store, keys, vectors, *, pool, added, rng):
    library = "user:1" if pool == "library" else "file:pool.jsonl"
    papers = [
        make_paper(key, words(rng, 7).capitalize(), pool=pool, library=library, date_added=when)
        for key, when in zip(keys, added, strict=True)
    ]
    store.upsert_papers(papers)
    store.save_vectors(
        MODEL, [(p.key, p.content_hash, v) for p, v in zip(papers, vectors, strict=True)]
    )


@pytest.fixture
def world(store):
    """A library from 4 of 40 topics (20 papers added in each of 6 weeks) and 3,000
    candidates from every topic."""
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((40, DIM)) * 1.1
    lib = [f"L{i:04d}" for i in range(120)]
    added = [
        iso(NOW - timedelta(days=7 * (i // 20) + float(rng.uniform(0.1, 6.8))))
        for i in range(len(lib))
    ]
    fill(store, lib, clustered(rng, centres[:4], 120), pool="library", added=added, rng=rng)
    cands = [f"C{i:05d}" for i in range(3000)]
    fill(
        store, cands, clustered(rng, centres, 3000), pool="candidates", added=[None] * 3000, rng=rng
    )
    return store


def both_paths(store, index, monkeypatch, **kwargs):
    """(results of the whole pool, results through the prefilter) as key lists."""
    monkeypatch.setattr(prefilter, "EXACT_BELOW", 10**12)
    exact = recommend(store, index, **kwargs)
    monkeypatch.setattr(prefilter, "EXACT_BELOW", 0)
    fast = recommend(store, index, **kwargs)
    return [r.paper.key for r in exact.results], [r.paper.key for r in fast.results]


def test_the_prefilter_finds_the_exact_top_n_on_a_clustered_pool(world, monkeypatch):
    index = build_index(world, MODEL)
    overlaps = []
    for week in range(6):
        exact, fast = both_paths(
            world, index, monkeypatch, since="week", n=10, now=NOW - timedelta(days=7 * week)
        )
        assert len(exact) == len(fast) == 10
        overlaps.append(len(set(exact) & set(fast)) / 10)
    assert np.mean(overlaps) >= 0.95, overlaps


def test_the_prefilter_only_reads_the_nearest_candidates(world, monkeypatch):
    index = build_index(world, MODEL)
    read = []
    original = prefilter.candidates_to_score

    def spy(*args, **kwargs):
        found = original(*args, **kwargs)
        read.append((found.nearest, len(found.keys)))
        return found

    monkeypatch.setattr("specter_desk.services.recommend.candidates_to_score", spy)
    monkeypatch.setattr(prefilter, "EXACT_BELOW", 0)
    recommend(world, index, since="week", n=10, now=NOW)
    monkeypatch.setattr(prefilter, "EXACT_BELOW", 10**12)
    recommend(world, index, since="week", n=10, now=NOW)
    (nearest, some), (whole, everything) = read
    assert nearest and not whole
    assert everything == 3000
    assert some <= prefilter.PER_QUERY * 20 + 3 * 50 and some < everything


def test_a_candidate_the_index_still_holds_after_its_deletion_is_never_recommended(
    world, monkeypatch
):
    """The hits are checked in memory against the rest of the store, so a paper deleted since
    the index was built is dropped when the shortlist reads it."""
    index = build_index(world, MODEL)
    exact, fast = both_paths(world, index, monkeypatch, since="week", n=10, now=NOW)
    world.mark_deleted(fast[:3])  # the index is not told
    assert all(key in index for key in fast[:3])
    again_exact, again_fast = both_paths(world, index, monkeypatch, since="week", n=10, now=NOW)
    assert not set(again_fast) & set(fast[:3]) and not set(again_exact) & set(fast[:3])
    assert len(again_fast) == 10 and len(set(again_fast) & set(again_exact)) >= 9


def test_a_small_pool_gives_equal_lists(store, monkeypatch):
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((6, DIM))
    seeds = [f"S{i}" for i in range(8)]
    fill(store, seeds, clustered(rng, centres[:2], 8), pool="library", rng=rng,
         added=[iso(NOW - timedelta(days=i % 7)) for i in range(8)])  # fmt: skip
    cands = [f"C{i:03d}" for i in range(300)]
    fill(store, cands, clustered(rng, centres, 300), pool="candidates", added=[None] * 300, rng=rng)
    index = build_index(store, MODEL)
    for n in (5, 20):
        exact, fast = both_paths(store, index, monkeypatch, since="week", n=n, now=NOW)
        assert exact == fast and len(exact) == n


def test_a_pool_too_thin_to_search_is_scored_whole(store, monkeypatch):
    """Candidates are 1 in 50 of the index: searching cannot fill the queries, so the whole
    pool is scored and the answer is the exact one."""
    rng = np.random.default_rng(4)
    centres = rng.standard_normal((3, DIM))
    lib = [f"L{i:04d}" for i in range(1500)]
    added = [iso(NOW - timedelta(days=1 if i < 5 else 300)) for i in range(1500)]
    fill(store, lib, clustered(rng, centres, 1500), pool="library", added=added, rng=rng)
    cands = [f"C{i:02d}" for i in range(30)]
    fill(store, cands, clustered(rng, centres, 30), pool="candidates", added=[None] * 30, rng=rng)
    index = build_index(store, MODEL)
    monkeypatch.setattr(prefilter, "MAX_FETCH", 200)
    exact, fast = both_paths(store, index, monkeypatch, since="week", n=10, now=NOW)
    assert exact == fast and len(exact) == 10


def test_with_the_tiny_bert(desk, monkeypatch):
    """Embedded by the tiny random BERT, stored, indexed and read back by the Desk: the
    prefilter's list scores as the exact one. (Random weights put every paper at cosine
    ~0.99999 from every other, so the order among them is float rounding: the scores are
    compared, not the keys.)"""
    rng = np.random.default_rng(5)
    seeds = [
        make_paper(f"S{i}", words(rng, 8), abstract=words(rng, 30), date_added=iso(NOW))
        for i in range(6)
    ]
    cands = [
        make_paper(f"C{i:03d}", words(rng, 8), abstract=words(rng, 30), pool="candidates")
        for i in range(240)
    ]
    desk.store.upsert_papers([*seeds, *cands])
    desk.embed_missing()
    index = desk.index()
    answers = []
    for below in (10**12, 0):
        monkeypatch.setattr(prefilter, "EXACT_BELOW", below)
        answer = recommend(desk.store, index, since="week", n=10, now=NOW, diversity=False)
        answers.append([r.paper.score for r in answer.results])
    exact, fast = answers
    assert len(fast) == 10 and fast == pytest.approx(exact, abs=1e-4)


def test_feedback_ranks_through_the_prefilter(world, monkeypatch):
    """The classifier's own direction is searched: with labels the prefilter still returns
    the classifier's top, and down-voted papers are never read."""
    index = build_index(world, MODEL)
    monkeypatch.setattr(prefilter, "EXACT_BELOW", 10**12)
    first = recommend(world, index, since="week", n=10, now=NOW, diversity=False)
    liked = [r.paper.key for r in first.results[:5]]
    for key in liked:
        record_feedback(world, key, "up")
    for key in [r.paper.key for r in first.results[5:10]]:
        record_feedback(world, key, "down")
    exact, fast = both_paths(
        world, index, monkeypatch, since="week", n=10, now=NOW, diversity=False
    )
    assert len(set(exact) & set(fast)) >= 9, (exact, fast)
    assert not {r.paper.key for r in first.results[5:10]} & set(fast)  # voted down
    monkeypatch.setattr(prefilter, "EXACT_BELOW", 0)
    answer = recommend(world, index, since="week", n=10, now=NOW, diversity=False)
    assert answer.ranker == "classifier"


def test_citation_links_reach_candidates_far_in_meaning(world, monkeypatch):
    """A candidate that cites a seed but lies in another topic is not near any query; the
    citation graph still brings it in, ranked as on the whole-pool path."""
    store = world
    seeds = find_seeds(store, NOW - timedelta(days=7), NOW)
    seed = seeds[0][0]
    far = "C02999"
    _, _, vectors = store.vectors(MODEL, [p.key for p, _ in seeds])
    away = -vectors.sum(axis=0)  # opposite every seed: no query comes near it
    store.save_vectors(
        MODEL, [(far, store.get_paper(far).content_hash, away / np.linalg.norm(away))]
    )
    works = [
        Work(id="W1", title=seed.title, references=[]),
        Work(id="W2", title="far", references=["W1"]),
    ]
    store.upsert_works(works, iso(NOW))
    store.set_matches([(seed.key, "W1", "title", "test"), (far, "W2", "title", "test")], iso(NOW))
    store.add_citations([("W2", "W1")], "openalex", iso(NOW))
    index = build_index(store, MODEL)
    for by in ("citations", "both"):
        exact, fast = both_paths(store, index, monkeypatch, since="week", n=10, now=NOW, by=by)
        assert (far in fast) == (far in exact)
        if by == "citations":  # cited first, then by meaning: the same list
            assert far in fast and exact == fast


def test_copies_of_library_papers_stay_out(world, monkeypatch):
    """A candidate that is a library paper again (same title) is the nearest candidate of a
    seed, and is still never recommended."""
    store = world
    seed = find_seeds(store, NOW - timedelta(days=7), NOW)[0][0]
    twin = make_paper("TWIN", seed.title.upper() + ".", pool="candidates", library="file:x")
    store.upsert_papers([twin])
    store.save_vectors(MODEL, [("TWIN", twin.content_hash, store.vectors(MODEL, [seed.key])[2][0])])
    index = build_index(store, MODEL)
    exact, fast = both_paths(store, index, monkeypatch, since="week", n=10, now=NOW)
    assert "TWIN" not in fast and "TWIN" not in exact
    assert len(fast) == 10


# -- seeds in SQL -------------------------------------------------------------------------


def test_seeds_are_read_in_sql_whatever_the_date_format(store):
    """The window is filtered in SQL on the text; every ISO form Zotero and the importers
    write is still read in full (UTC offsets, a space for the T, a date alone, a leading
    space), and undated or unreadable dates are never seeds."""
    dates = {
        "Z": "2026-11-24T10:00:00Z",
        "SPACE": "2026-11-24 10:00:00",
        "DATE": "2026-11-20",
        "OFFSET_IN": "2026-11-18T08:00:00-05:00",  # 13:00 UTC: inside a window from 12:00
        "OFFSET_OUT": "2026-11-18T14:00:00+03:00",  # 11:00 UTC: just before it
        "LEADING": " 2026-11-23T09:00:00Z",
        "OLD": "2026-10-01T00:00:00Z",
        "FUTURE": "2026-12-24T00:00:00Z",
        "UNDATED": None,
        "GARBAGE": "last tuesday",
    }
    store.upsert_papers(
        [make_paper(k, f"Paper {k}", date_added=d) for k, d in dates.items()]
        + [make_paper("CAND", "A candidate", pool="candidates", date_added=dates["Z"])]
    )
    start = NOW - timedelta(days=7)
    found = find_seeds(store, start, NOW)
    expected = []
    for key, text in dates.items():
        try:
            when = parse_datetime(text)
        except ValueError:
            when = None
        if when is not None and start <= when <= NOW + timedelta(minutes=5):
            expected.append(key)
    assert sorted(p.key for p, _ in found) == sorted(expected)
    assert {p.key for p, _ in found} == {"Z", "SPACE", "DATE", "OFFSET_IN", "LEADING"}
    assert [a for _, a in found] == sorted((a for _, a in found), reverse=True)  # newest first


def test_scoped_seeds_keep_every_paper_of_the_scope_newest_first(store):
    store.upsert_papers(
        [
            make_paper("A", "A", date_added="2026-11-24T10:00:00Z", collections=["COL1"]),
            make_paper("B", "B", date_added="2020-01-01", collections=["COL1"]),
            make_paper("U", "U", date_added=None, collections=["COL1"]),
            make_paper("X", "X", date_added="2026-11-24T10:00:00Z"),
        ]
    )
    from specter_desk.services.seeds import SeedScope

    scope = SeedScope("collection", "COL1", "collection 'c'", frozenset({"A", "B", "U"}))
    found = find_seeds(store, NOW - timedelta(days=7), NOW, scope)
    assert [p.key for p, _ in found] == ["A", "B", "U"]
    assert found[2][1] == datetime(1970, 1, 1, tzinfo=UTC)
