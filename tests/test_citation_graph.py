"""Citation evidence: direct links, co-citation and coupling on hand-made graphs, the same
numbers from the store as from the whole graph in memory, the fusion, and the reasons."""

from __future__ import annotations

import math

import numpy as np
import pytest
from citation_helpers import NOW, library_papers, settings_for, sources_for
from fake_citations import FakeCitations

from specter_desk.services.citations.fetch import sync_citations
from specter_desk.services.citations.fusion import fused_scores
from specter_desk.services.citations.graph import CitationGraph, Evidence, evidence, ranked
from specter_desk.services.citations.related import reasons_for

# S cites R1, R2, R3; A cites R1, R2 (coupled with S); C1 and C2 cite S and B (B co-cited
# with S); S cites D and E cites S (direct links); X is unlinked.
EDGES = [
    ("S", "R1"),
    ("S", "R2"),
    ("S", "R3"),
    ("S", "D"),
    ("A", "R1"),
    ("A", "R2"),
    ("C1", "S"),
    ("C1", "B"),
    ("C2", "S"),
    ("C2", "B"),
    ("E", "S"),
    ("X", "R9"),
]


def test_each_kind_of_link_scores_as_its_formula_says():
    found = evidence(CitationGraph.from_edges(EDGES), ["S"])
    # coupling of A: 2 shared references / sqrt(4 refs of S * 2 refs of A)
    assert found["A"].coupled == {"S": 2}
    assert found["A"].score == pytest.approx(2 / math.sqrt(4 * 2))
    # co-citation of B: cited together by C1 and C2 / sqrt(3 citers of S * 2 citers of B)
    assert found["B"].co_cited == {"S": 2}
    assert found["B"].score == pytest.approx(2 / math.sqrt(3 * 2))
    assert found["D"].cited_by == ["S"] and found["D"].parts["direct"] == 1
    assert found["E"].cites == ["S"] and found["E"].parts["direct"] == 1
    assert "X" not in found and "S" not in found


def test_targets_limit_what_is_scored_without_changing_the_scores():
    graph = CitationGraph.from_edges(EDGES)
    everything = evidence(graph, ["S"])
    only = evidence(graph, ["S"], targets={"A", "B"})
    assert set(only) == {"A", "B"}
    assert {w: e.score for w, e in only.items()} == {w: everything[w].score for w in ("A", "B")}


def test_ranked_orders_by_score_then_id_and_by_one_part():
    found = evidence(CitationGraph.from_edges(EDGES), ["S"])
    order = ranked(found)
    # direct links (1.0 each, ties by id) before partial co-citation (0.82) and coupling (0.71)
    assert order == ["C1", "C2", "D", "E", "R1", "R2", "R3", "B", "A"]
    assert ranked(found, "coupling")[0] == "A"
    assert ranked(found, "co_citation")[0] == "B"


def test_the_store_gives_the_same_evidence_as_the_whole_graph(store):
    store.upsert_papers(library_papers())
    with FakeCitations() as server:
        sync_citations(store, settings_for(server), sources=sources_for(server), now=NOW)
    rows = store.db.execute("SELECT DISTINCT citing, cited FROM citations").fetchall()
    everything = CitationGraph.from_edges(rows)
    targets = set(store.matched_works().values())
    for key in ("LIB00000", "LIB00003", "PMIDONLY"):
        seed = store.work_matches([key])[key]["work"]
        from_store = evidence(CitationGraph.around(store, [seed], targets), [seed], targets=targets)
        in_memory = evidence(everything, [seed], targets=targets)
        assert from_store and set(from_store) == set(in_memory)
        for work, ev in in_memory.items():
            assert from_store[work].score == pytest.approx(ev.score), work


def test_fusion_modes():
    meaning = np.array([0.9, 0.8, 0.1, 0.5])
    citation = np.array([0.0, 0.0, 2.0, 1.0])
    assert list(fused_scores(meaning, citation, "meaning")) == list(meaning)
    by_citations = fused_scores(meaning, citation, "citations")
    assert list(np.argsort(-by_citations)) == [2, 3, 0, 1]  # meaning breaks the 0-0 tie
    both = fused_scores(meaning, citation, "both")
    # meaning + 0.2 x citation / its maximum: strong links lift a paper, weak ones nudge it
    assert both == pytest.approx([0.9, 0.8, 0.1 + 0.2, 0.5 + 0.1])
    assert list(np.argsort(-both)) == [0, 1, 3, 2]
    assert list(fused_scores(meaning, citation, "both", weight=1.0).argsort()[::-1]) == [2, 3, 0, 1]
    assert list(fused_scores(meaning, np.zeros(4), "both")) == list(meaning)  # no links at all
    both = fused_scores(meaning, citation, "both", weight=None)
    # reciprocal rank fusion: ranks in both lists beat the top of one list, 1/(60 + rank) summed
    assert both[2] == pytest.approx(1 / 64 + 1 / 61) and both[3] == pytest.approx(1 / 63 + 1 / 62)
    assert both[0] == pytest.approx(1 / 61) and both[1] == pytest.approx(1 / 62)
    assert list(np.argsort(-both)) == [2, 3, 0, 1]
    with pytest.raises(ValueError):
        fused_scores(meaning, citation, "vibes")


def test_reasons_read_like_sentences():
    ev = Evidence(cites=["S"], co_cited={"S": 1}, coupled={"S": 7})
    assert reasons_for(ev) == [
        "cites this paper",
        "cited together with it by 1 paper",
        "shares 7 references with it",
    ]
    many = Evidence(cites=["S", "T", "U"], cited_by=["T"], co_cited={"S": 4, "T": 2})
    assert reasons_for(many, {"S": "Seed one", "T": "Seed two"}) == [
        "cites 3 of your papers",
        "cited by your paper 'Seed two'",
        "cited together with 'Seed one' by 4 papers",
    ]
