"""Copies of one work: shown once in related/search/recommend, never recommended as new when a
copy is in the library or is a seed (short generic titles included), and one "how many" flag
(-n/--limit, -k kept) — on a real store, real hnswlib and real models."""

from __future__ import annotations

import json

import pytest
from test_recommend import NOW, index_of, put, unit
from typer.testing import CliRunner

from conftest import make_paper
from specter_desk.cli import app
from specter_desk.services.copies import distinct_works, library_copies, seed_copies
from specter_desk.services.duplicates import mark_distinct
from specter_desk.services.recommend import recommend
from specter_desk.services.search import search

runner = CliRunner()


def smith(year=None, **fields):
    creators = [{"creatorType": "author", "lastName": "Smith", "firstName": "Ann"}]
    return {"creators": creators, "year": year, **fields}


def four_works() -> list:
    """Seven papers, four works: one DOI, one short generic title without identifiers, an
    arXiv preprint and its proceedings version, and one paper alone."""
    return [
        make_paper("A1", "Deep residual learning for image recognition", doi="10.1000/resnet"),
        make_paper("A2", "Deep Residual Learning for Image Recognition.", doi="10.1000/RESNET"),
        make_paper("B1", "Compressed sensing"),  # short, generic, no identifiers
        make_paper("B2", "Compressed Sensing"),
        make_paper("C1", "Attention is all you need", arxiv_id="1706.03762"),
        make_paper("C2", "Attention is all you need", doi="10.5555/nips.2017", year=2017),
        make_paper("D1", "Something else entirely about bees"),
    ]


def test_distinct_works_collapses_identifiers_detector_versions_and_short_titles(store):
    assert distinct_works(four_works(), store) == [0, 2, 4, 6]


def test_equal_short_titles_by_other_authors_or_years_apart_are_other_works(store):
    jones = [{"creatorType": "author", "lastName": "Jones", "firstName": "Bo"}]
    papers = [
        make_paper("S1", "Compressed sensing", **smith(2006)),
        make_paper("S2", "Compressed sensing", creators=jones, year=2006),  # no shared surname
        make_paper("S3", "Compressed sensing", **smith(2015)),  # nine years later
        make_paper("S4", "Compressed sensing", **smith(2007)),  # a year later, one author
    ]
    assert distinct_works(papers, store) == [0, 1, 2]


def test_pairs_marked_not_duplicates_stay_apart(store):
    papers = [make_paper("P1", "Compressed sensing"), make_paper("P2", "Compressed sensing")]
    store.upsert_papers(papers)
    assert distinct_works(papers, store) == [0]
    mark_distinct(store, ["P1", "P2"])
    assert distinct_works(papers, store) == [0, 1]


def test_library_copies_finds_short_titles_the_detector_keeps_apart(store):
    store.upsert_papers(
        [
            make_paper("L1", "Compressed sensing", library="user:1"),
            make_paper("L2", "A survey of graph neural networks", doi="10.2222/gnn"),
        ]
    )
    pool = dict(pool="candidates", library="file:c.jsonl")
    candidates = [
        make_paper("C1", "Compressed Sensing.", **pool),
        make_paper("C2", "Graph neural networks: a survey", doi="10.2222/GNN", **pool),
        make_paper("C3", "Compressed sensing for radar", **pool),
    ]
    store.upsert_papers(candidates)
    assert library_copies(store, candidates) == {"C1": "L1", "C2": "L2"}


def test_seed_copies_include_detector_versions_of_a_seed(store):
    seed = make_paper("S", "Attention is all you need", arxiv_id="1706.03762", year=2017)
    papers = [
        make_paper("V", "Attention Is All You Need", doi="10.5555/3295222", year=2017),
        make_paper("W", "Attention is not explanation", year=2019),
    ]
    assert seed_copies(papers, [seed], store) == {"S", "V"}


# -- recommend ---------------------------------------------------------------------------


def test_a_short_title_copy_of_a_library_paper_is_never_recommended(store):
    """The held-out failure: 'Compressed sensing' in the pool, its copy in the library."""
    put(store, "SEED", "Sparse recovery from few measurements", unit((0, 1)), added=1)
    put(store, "OWN", "Compressed sensing", unit((0, 1), (1, 0.2)), added=300)
    put(store, "CS", "Compressed Sensing", unit((0, 1), (1, 0.05)), pool="candidates")
    put(store, "NEW", "Measurement matrices with RIP", unit((0, 1), (2, 0.5)), pool="candidates")
    answer = recommend(store, index_of(store), since="week", now=NOW, diversity=False)
    assert [r.paper.key for r in answer.results] == ["NEW"]


def test_copies_in_the_candidate_pool_are_recommended_once(store):
    put(store, "SEED", "Seed", unit((0, 1)), added=1)
    for i, fields in enumerate([{"doi": "10.9999/x"}, {"doi": "10.9999/X"}, {}]):
        put(
            store,
            f"X{i}",
            "Learning sparse codes quickly",
            unit((0, 1), (1, 0.1 * (i + 1))),
            pool="candidates",
            **fields,
        )
    put(store, "Y", "Another paper on codes", unit((0, 1), (2, 0.6)), pool="candidates")
    answer = recommend(store, index_of(store), since="week", now=NOW)
    assert [r.paper.key for r in answer.results] == ["X0", "Y"]


def test_rediscover_never_offers_a_copy_of_a_seed(store):
    put(store, "SEED", "Graph attention networks", unit((0, 1)), added=1, doi="10.3333/gat")
    put(store, "COPY", "Graph Attention Networks", unit((0, 1)), added=400, doi="10.3333/GAT")
    put(store, "SHORT", "Graph attention networks", unit((0, 1), (1, 0.01)), added=400)
    put(store, "OTHER", "Graph convolutional networks", unit((0, 1), (1, 0.5)), added=400)
    answer = recommend(store, index_of(store), since="week", now=NOW, source="library")
    assert [r.paper.key for r in answer.results] == ["OTHER"]


def test_ties_are_ranked_in_key_order(store):
    put(store, "SEED", "Seed", unit((0, 1)), added=1)
    for key in ("TB", "TA", "TC"):
        put(store, key, f"Tie {key}", unit((0, 1), (1, 0.3)), pool="candidates")
    answer = recommend(store, index_of(store), since="week", now=NOW, diversity=False)
    assert [r.paper.key for r in answer.results] == ["TA", "TB", "TC"]


# -- search and related (a real model) ---------------------------------------------------


@pytest.fixture
def four_copies(desk):
    from specter_desk.embed.pipeline import embed_missing

    papers = [
        make_paper("W1", "Gene regulatory networks", "Genes regulate genes.", library="user:1"),
        make_paper("W2", "Gene Regulatory Networks.", "Genes regulate genes.", library="user:1"),
        make_paper("W3", "Gene regulatory networks", "Genes regulate genes", library="user:1"),
        make_paper(
            "W4",
            "Gene regulatory networks",
            "Genes regulate genes.",
            pool="candidates",
            library="file:c.jsonl",
        ),
        make_paper("O1", "Protein folding by gradient descent", "Proteins.", library="user:1"),
        make_paper("O2", "Extinction risk from climate change", "Climate.", library="user:1"),
    ]
    desk.store.upsert_papers(papers)
    embed_missing(desk.store, desk.encoder("tiny"))
    return desk


def test_search_lists_a_work_once(four_copies):
    desk = four_copies
    hits = search(desk.store, desk.index("tiny"), desk.encoder("tiny"), "gene regulatory", k=6)
    keys = [h.key for h in hits]
    assert len([k for k in keys if k.startswith("W")]) == 1
    assert set(keys) >= {"O1", "O2"} and len(keys) == 3


def test_hybrid_search_lists_a_work_once(four_copies):
    desk = four_copies
    hits = search(desk.store, desk.index("tiny"), desk.encoder("tiny"), "gene", k=6, hybrid=True)
    assert len([h for h in hits if h.key.startswith("W")]) == 1


@pytest.mark.parametrize("flag", ["-n", "--limit", "-k"])
def test_one_how_many_flag_across_commands(four_copies, flag):
    related = runner.invoke(app, ["related", "O1", flag, "1", "--json", "--model", "tiny"])
    assert related.exit_code == 0, related.output
    assert len(json.loads(related.output)["related"]) == 1
    found = runner.invoke(app, ["search", "gene", flag, "2", "--json", "--model", "tiny"])
    assert found.exit_code == 0, found.output
    assert len(json.loads(found.output)["results"]) == 2
    rec = runner.invoke(app, ["recommend", flag, "1", "--json", "--model", "tiny"])
    assert rec.exit_code == 0, rec.output


def test_the_how_many_flag_rejects_zero(four_copies):
    result = runner.invoke(app, ["search", "gene", "--limit", "0", "--model", "tiny"])
    assert result.exit_code == 2
    assert "--limit" in result.output or "-n" in result.output
