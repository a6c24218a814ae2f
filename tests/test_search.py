"""search(): the query encoder, BM25, reciprocal rank fusion, errors, and the `search` command."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import make_paper
from specter_desk.cli import app
from specter_desk.errors import InputError, NotEmbeddedError
from specter_desk.services.search import BM25, reciprocal_rank_fusion, search, tokenize

runner = CliRunner()

TITLES = [
    "Gene regulatory network growth by duplication",
    "Trust-aware collaborative filtering for recommender systems",
    "Extinction risk from climate change",
    "Evaluating collaborative filtering recommender systems",
    "Zymurgy: the chemistry of fermentation in brewing",
    "Probabilistic Boolean networks for gene regulatory networks",
]


def test_tokenize_drops_stop_words_and_punctuation():
    assert tokenize("The Trust-aware filtering, of THE web!") == ["trust-aware", "filtering", "web"]


def test_bm25_ranks_term_matches_and_weighs_rare_terms_more():
    bm25 = BM25(TITLES)
    scores = bm25.scores(["collaborative filtering", "zymurgy gene"])
    top = np.argsort(-scores[0])[:2]
    assert set(top) == {1, 3}
    assert scores[0][0] == 0.0 and scores[0][2] == 0.0
    vocab = bm25.vectorizer.vocabulary_
    assert bm25.idf[vocab["zymurgy"]] > bm25.idf[vocab["gene"]] > 0  # in one title vs two
    assert set(np.flatnonzero(scores[1])) == {0, 4, 5}


def test_bm25_prefers_shorter_documents_for_the_same_match():
    bm25 = BM25(["graph networks", "graph networks and a great many other words here"])
    s = bm25.scores(["graph"])[0]
    assert s[0] > s[1] > 0


def test_bm25_on_documents_without_tokens():
    bm25 = BM25(["", "the of"])
    assert bm25.scores(["anything"]).shape == (1, 2)


def test_reciprocal_rank_fusion():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "a"]], k=60)
    assert [key for key, _ in fused] == ["a", "c", "b"]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[2][1] == pytest.approx(1 / 62)


@pytest.fixture
def embedded(desk):
    """The six titles as library papers, embedded with the tiny model."""
    from specter_desk.embed.pipeline import embed_missing

    desk.store.upsert_papers(
        [make_paper(f"T{i}", t, library="user:1") for i, t in enumerate(TITLES)]
    )
    embed_missing(desk.store, desk.encoder("tiny"))
    return desk


def test_dense_search_ranks_by_cosine_to_the_encoded_query(embedded):
    desk = embedded
    encoder = desk.encoder("tiny")
    hits = search(desk.store, desk.index("tiny"), encoder, "gene networks", k=6)
    keys, _, matrix = desk.store.vectors("tiny")
    query = encoder.encode(["gene networks"])[0]
    expected = [keys[i] for i in np.argsort(-(matrix @ query))]
    assert [h.key for h in hits] == expected
    assert hits[0].score == pytest.approx(float(np.max(matrix @ query)), abs=1e-3)


def test_hybrid_search_brings_in_the_exact_term_match(embedded):
    desk = embedded
    encoder = desk.encoder("tiny")
    dense = search(desk.store, desk.index("tiny"), encoder, "zymurgy", k=6)
    dense_rank = [h.key for h in dense].index("T4")
    hybrid = search(desk.store, desk.index("tiny"), encoder, "zymurgy", k=2, hybrid=True)
    assert "T4" in [h.key for h in hybrid]
    # RRF: T4 is first in BM25, so its fused score is 1/61 + 1/(61 + its dense rank)
    t4 = next(h for h in hybrid if h.key == "T4")
    assert t4.score == pytest.approx(1 / 61 + 1 / (61 + dense_rank), abs=1e-4)


def test_search_errors(embedded, desk):
    encoder = desk.encoder("tiny")
    index = desk.index("tiny")
    with pytest.raises(InputError, match="empty"):
        search(desk.store, index, encoder, "   ")
    with pytest.raises(InputError, match="at most 2000"):
        search(desk.store, index, encoder, "word " * 500)


def test_a_query_encoder_of_another_dimension_is_refused(embedded):
    from specter_desk.embed.encoder import Encoder
    from specter_desk.embed.registry import get_model

    desk = embedded
    with pytest.raises(InputError, match="384-d vectors but the tiny index is 32-d"):
        search(desk.store, desk.index("tiny"), Encoder(get_model("minilm"), device="cpu"), "gene")


def test_search_on_an_empty_index_says_to_embed(desk):
    from specter_desk.index import build_index

    with pytest.raises(NotEmbeddedError, match="specter-desk embed"):
        search(desk.store, build_index(desk.store, "tiny"), desk.encoder("tiny"), "gene")


@pytest.fixture
def tiny_pair(tmp_path_factory, tiny_specter2_dir):
    """'tiny2' (proximity adapter) whose queries use 'tiny2-query' (adhoc_query adapter)."""
    from adapters import AutoAdapterModel

    from specter_desk.embed.registry import ModelSpec, register_model

    directory = tmp_path_factory.mktemp("tiny2") / "model"
    shutil.copytree(tiny_specter2_dir, directory)
    model = AutoAdapterModel.from_pretrained(str(directory))
    model.add_adapter("adhoc_query", config="seq_bn")
    # a non-zero adapter, so query vectors really differ from paper vectors
    for name, param in model.named_parameters():
        if "adhoc_query" in name:
            param.data.normal_(0, 0.5)
    model.save_adapter(str(directory / "adhoc_query"), "adhoc_query")
    path = str(directory)
    base = dict(hub_id="example/tiny2", local_path=lambda: path)
    register_model(
        ModelSpec(
            name="tiny2",
            adapter="example/proximity",
            adapter_name="proximity",
            query_model="tiny2-query",
            description="tiny SPECTER2-style",
            **base,
        )
    )
    register_model(
        ModelSpec(
            name="tiny2-query",
            adapter="example/adhoc",
            adapter_name="adhoc_query",
            description="tiny query adapter",
            **base,
        )
    )
    yield directory
    from specter_desk.embed.registry import MODELS

    MODELS.pop("tiny2", None)
    MODELS.pop("tiny2-query", None)


@pytest.mark.slow
def test_cli_search_uses_the_query_adapter(home, tmp_path, tiny_pair):
    lib = tmp_path / "lib.jsonl"
    lib.write_text(
        "".join(json.dumps({"key": f"T{i}", "title": t}) + "\n" for i, t in enumerate(TITLES))
    )
    assert runner.invoke(app, ["import", str(lib)]).exit_code == 0
    result = runner.invoke(
        app, ["search", "gene networks", "--model", "tiny2", "--json", "-k", "6"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["model"], data["query_model"]) == ("tiny2", "tiny2-query")
    assert len(data["results"]) == 6

    from specter_desk.desk import Desk

    desk = Desk(notice=lambda m: None)
    query_vec = desk.encoder("tiny2-query").encode(["gene networks"])[0]
    paper_vec = desk.encoder("tiny2").encode(["gene networks"])[0]
    assert not np.allclose(query_vec, paper_vec, atol=1e-3)
    keys, _, matrix = desk.store.vectors("tiny2")
    expected = [keys[i] for i in np.argsort(-(matrix @ query_vec))]
    assert [r["key"] for r in data["results"]] == expected
    desk.close()

    hybrid = runner.invoke(app, ["search", "zymurgy", "--model", "tiny2", "--hybrid", "--json"])
    assert hybrid.exit_code == 0, hybrid.output
    assert "T4" in [r["key"] for r in json.loads(hybrid.stdout)["results"]][:2]


def test_cli_search_rejects_an_empty_query(home):
    result = runner.invoke(app, ["search", " ", "--model", "minilm"])
    assert result.exit_code == 2 and "query is empty" in result.output
