"""related(): resolve an item by key, DOI, arXiv id or title, then its nearest neighbours."""

from __future__ import annotations

import pytest

from conftest import make_paper
from specter_desk.embed.pipeline import embed_missing
from specter_desk.errors import AmbiguousItemError, ItemNotFoundError, NotEmbeddedError
from specter_desk.models import CANDIDATE_POOL
from specter_desk.services.related import related, resolve_item

PAPERS = [
    make_paper(
        "GNN1",
        "Graph neural networks for molecules",
        "Message passing on graphs.",
        doi="10.1000/gnn.1",
        year=2020,
    ),
    make_paper(
        "GNN2",
        "Graph attention networks",
        "Attention over graph neighbourhoods.",
        arxiv_id="1710.10903",
        year=2018,
    ),
    make_paper("TAX1", "Tax policy in medieval Venice", "Archival study of taxes.", year=1999),
    make_paper("TAX2", "Tax policy in early modern Genoa", "Fiscal history.", year=2001),
    make_paper("CAND", "Graph networks for chemistry", "Candidate paper.", pool=CANDIDATE_POOL),
]


@pytest.fixture
def filled(desk):
    desk.store.upsert_papers(PAPERS)
    embed_missing(desk.store, desk.encoder())
    return desk


@pytest.mark.parametrize(
    ("item", "key"),
    [
        ("GNN1", "GNN1"),
        ("https://doi.org/10.1000/GNN.1", "GNN1"),
        ("arXiv:1710.10903v2", "GNN2"),
        ("graph attention", "GNN2"),
        ("Tax policy in medieval Venice", "TAX1"),
    ],
)
def test_resolve_item_by_key_doi_arxiv_and_title(filled, item, key):
    assert resolve_item(filled.store, item).key == key


def test_ambiguous_title_fragment_lists_candidates(filled):
    with pytest.raises(AmbiguousItemError) as info:
        resolve_item(filled.store, "tax policy")
    assert "TAX1" in str(info.value) and "TAX2" in str(info.value)


def test_unknown_item(filled):
    with pytest.raises(ItemNotFoundError, match="no paper matches"):
        resolve_item(filled.store, "quantum gravity")


def test_deleted_paper_is_not_found(filled):
    filled.store.mark_deleted(["TAX2"])
    with pytest.raises(ItemNotFoundError):
        resolve_item(filled.store, "TAX2")


def test_related_excludes_itself_and_scores_descend(filled):
    paper = resolve_item(filled.store, "GNN1")
    rows = related(filled.store, filled.index(), paper, k=4)
    assert [r.key for r in rows if r.key == "GNN1"] == []
    assert len(rows) == 4
    scores = [r.score for r in rows]
    assert scores == sorted(scores, reverse=True)


def test_related_restricted_to_a_pool(filled):
    paper = resolve_item(filled.store, "GNN1")
    rows = related(filled.store, filled.index(), paper, k=10, pool=CANDIDATE_POOL)
    assert [r.key for r in rows] == ["CAND"]


def test_not_embedded_paper(filled):
    filled.store.upsert_papers([make_paper("LATE", "A paper without a vector")])
    paper = resolve_item(filled.store, "LATE")
    with pytest.raises(NotEmbeddedError, match="embed"):
        related(filled.store, filled.index(refresh=True), paper)


def test_related_on_real_text_with_minilm(home):
    """With real weights, the neighbours of a graph paper are the graph papers."""
    from specter_desk.config import Config
    from specter_desk.desk import Desk

    desk = Desk(Config.load())
    desk.store.upsert_papers(PAPERS)
    embed_missing(desk.store, desk.encoder("minilm"))
    rows = related(desk.store, desk.index("minilm"), resolve_item(desk.store, "TAX1"), k=1)
    assert rows[0].key == "TAX2"
    rows = related(desk.store, desk.index("minilm"), resolve_item(desk.store, "GNN2"), k=2)
    assert {r.key for r in rows} == {"GNN1", "CAND"}
    desk.close()


def test_copies_of_one_work_are_shown_once_and_never_as_related_to_themselves(desk):
    copies = [
        make_paper("D1", "Crowd work on digital platforms", "Gig workers and platforms."),
        make_paper("D2", "Crowd work on digital platforms", "Gig workers and platforms."),
        make_paper("D3", "Crowd Work on Digital Platforms.", "Gig workers and platforms!"),
        make_paper("X1", "Platform labour and algorithmic control", "Gig workers again."),
        make_paper("X2", "Platform labour and algorithmic control", "Gig workers again."),
        make_paper("Y1", "Medieval tax policy", "Archives."),
    ]
    desk.store.upsert_papers(copies)
    embed_missing(desk.store, desk.encoder())
    paper = resolve_item(desk.store, "Crowd work on digital platforms")  # exact title, 3 copies
    assert paper.key == "D1"
    rows = related(desk.store, desk.index(), paper, k=5)
    assert [r.key for r in rows if r.key.startswith("D")] == []
    assert len([r for r in rows if r.key.startswith("X")]) == 1
    assert len(rows) == 2


def test_related_by_meaning_checks_only_its_top_k_for_copies(filled, monkeypatch):
    """Without citation data, related_by answers by meaning: it fetched the top 100 and ran
    copy detection over 150 papers per request (a tenth of that is needed at k=10)."""
    from specter_desk.services import related as related_module
    from specter_desk.services.citations.related import related_by

    checked = []
    work_ids = related_module.work_ids

    def counted(papers, store=None):
        checked.append(len(papers))
        return work_ids(papers, store)

    more = [make_paper(f"M{i}", f"Study number {i} of graph models", "Graphs.") for i in range(30)]
    filled.store.upsert_papers(more)
    embed_missing(filled.store, filled.encoder())
    index = filled.index(refresh=True)
    monkeypatch.setattr(related_module, "work_ids", counted)
    paper = filled.store.get_paper("GNN1")
    answer = related_by(filled.store, index, paper, 2)
    assert answer.by == "meaning"
    alone = related(filled.store, index, paper, 2)
    assert [r.paper.key for r in answer.rows] == [r.key for r in alone]
    assert checked and max(checked) <= 1 + 2 + 5  # the paper, k, the over-fetch for copies
