"""Duplicates over a real store: pools, deleted papers, library matches, index neighbours."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import make_paper
from specter_desk.errors import InputError
from specter_desk.index import PaperIndex
from specter_desk.models import CANDIDATE_POOL
from specter_desk.services.duplicates import (
    check_papers,
    find_duplicates,
    library_match,
    library_matches,
)

TITLE = "Measuring the quality of crowdsourced annotations for clinical text mining"
# Reworded so that no title blocking key (exact, prefix, suffix, rare words) is shared.
ABSTRACT = (
    "We had crowd workers label clinical notes and measured their agreement with experts. " * 2
)
REWORDED = "Measurement of the quality of crowd-sourced annotation for clinical text-mining"


def author(last, first="A."):
    return {"creatorType": "author", "lastName": last, "firstName": first}


AUTHORS = [author("Nguyen", "Mai"), author("Okafor", "Chidi"), author("Larsen", "Eva")]


def lib(key, title=TITLE, **fields):
    fields.setdefault("year", 2019)
    fields.setdefault("creators", AUTHORS)
    return make_paper(key, title, **fields)


@pytest.fixture
def filled(store):
    store.upsert_papers(
        [
            lib(
                "L1",
                doi="10.5555/crowd.2019.1",
                venue="Journal of Biomedical Informatics",
                raw={"pages": "101-112", "volume": "93"},
            ),
            lib("L2", title=TITLE.upper() + "."),
            lib(
                "L3",
                title="Transfer learning for protein structure prediction",
                creators=[author("Kim")],
                year=2021,
            ),
            lib("L4", title="Editorial", creators=[author("Weber", "Ron")], year=2020),
            lib("GONE", title=TITLE, deleted=True),
            lib(
                "C1",
                title=TITLE.replace("quality", "qualty"),
                pool=CANDIDATE_POOL,
                library="feed:arxiv",
            ),
            lib(
                "C2",
                title="Sparse attention for long documents",
                pool=CANDIDATE_POOL,
                creators=[author("Zhou")],
                library="feed:arxiv",
            ),
        ]
    )
    return store


def test_find_duplicates_in_the_library_pool_only(filled):
    clusters = find_duplicates(filled).clusters
    assert [sorted(c.keys) for c in clusters] == [["L1", "L2"]]
    assert clusters[0].master == "L1"  # DOI, venue, pages: the most complete record
    everywhere = find_duplicates(filled, pool=None).clusters
    assert [sorted(c.keys) for c in everywhere] == [["C1", "L1", "L2"]]


def test_deleted_papers_are_never_reported(filled):
    report = find_duplicates(filled, pool=None)
    keys = {k for c in report.clusters + report.versions for k in c.keys}
    assert "GONE" not in keys


def test_min_score_out_of_range_is_a_user_error(filled):
    with pytest.raises(InputError, match="between 0 and 1"):
        find_duplicates(filled, min_score=1.5)
    with pytest.raises(InputError):
        check_papers(filled, [], min_score=-0.1)


def test_library_match_for_candidates(filled):
    candidates = {p.key: p for p in filled.papers(pool=CANDIDATE_POOL)}
    assert library_match(filled, candidates["C1"]) in {"L1", "L2"}
    assert library_match(filled, candidates["C2"]) is None
    assert library_match(filled, filled.get_paper("L3")) == "L3"
    by_doi = make_paper(
        "X",
        "Quality of crowdsourced annotations for clinical text mining",
        doi="https://doi.org/10.5555/CROWD.2019.1",
        pool=CANDIDATE_POOL,
    )
    assert library_match(filled, by_doi) == "L1"
    editorial = make_paper(
        "E", "Editorial", year=2020, creators=[author("Smith")], pool=CANDIDATE_POOL
    )
    assert library_match(filled, editorial) is None
    assert library_matches(filled, list(candidates.values())) == {
        "C1": library_match(filled, candidates["C1"])
    }


def test_library_match_finds_a_typo_after_the_title_prefix(filled):
    typo = make_paper(
        "T", TITLE.replace("mining", "minning"), year=2019, creators=AUTHORS, pool=CANDIDATE_POOL
    )
    assert library_match(filled, typo) in {"L1", "L2"}


def test_check_papers_flags_incoming_entries_by_position(filled):
    incoming = [
        make_paper("new1", "Graph kernels for chemistry", year=2018),
        make_paper("new2", TITLE + " ", year=2019, creators=[author("Nguyen", "M.")]),
        # a chapter carrying its book's DOI: same DOI, another title -> not flagged
        make_paper("new3", "Something else entirely", doi="10.5555/crowd.2019.1"),
        make_paper(
            "new4", "Measuring the quality of crowdsourced annotations", doi="10.5555/crowd.2019.1"
        ),
    ]
    matches = check_papers(filled, incoming)
    assert [m.index for m in matches] == [1, 3]
    assert matches[1].key == "L1" and "same DOI" in matches[1].reasons
    data = matches[0].to_dict()
    assert set(data) == {"index", "key", "title", "score", "reasons", "kind"}
    assert data["kind"] == "duplicate"
    assert data["key"] in {"L1", "L2"} and 0.9 <= data["score"] <= 1


def _index_with(vectors: dict[str, np.ndarray]) -> PaperIndex:
    index = PaperIndex("test", dim=8)
    keys = list(vectors)
    index.add(keys, ["h"] * len(keys), np.stack([vectors[k] for k in keys]))
    return index


def test_embedding_neighbours_are_candidates_and_their_cosine_is_evidence(store):
    from specter_desk.services.duplicates.detector import build_records, neighbour_pairs

    store.upsert_papers(
        [
            lib("A", year=2019, abstract=ABSTRACT),
            lib("B", title=REWORDED, year=2019, abstract=ABSTRACT.replace("We", "Here we")),
            lib(
                "Z",
                title="Transfer learning for protein structure prediction",
                creators=[author("Kim")],
            ),
        ]
    )
    without = find_duplicates(store).clusters  # character n-gram blocks pair the titles
    assert [sorted(c.keys) for c in without] == [["A", "B"]]
    assert not any("embedding cosine" in r for r in without[0].pairs[0].reasons)
    rng = np.random.default_rng(0)
    same = rng.normal(size=8).astype(np.float32)
    index = _index_with({"A": same, "B": same + 0.01, "Z": rng.normal(size=8).astype(np.float32)})
    records = build_records(list(store.papers()), index)
    keys = [r.key for r in records]
    assert {(keys[i], keys[j]) for i, j in neighbour_pairs(records, index)} == {("A", "B")}
    clusters = find_duplicates(store, index).clusters
    assert [sorted(c.keys) for c in clusters] == [["A", "B"]]
    assert any("embedding cosine" in r for r in clusters[0].pairs[0].reasons)
    assert clusters[0].pairs[0].score > without[0].pairs[0].score


@pytest.mark.slow
def test_check_papers_uses_the_encoder_and_index_for_incoming_papers(store):
    from specter_desk.embed.encoder import Encoder
    from specter_desk.embed.registry import get_model
    from specter_desk.index import build_index

    store.upsert_papers(
        [
            lib("A", abstract="Crowd workers labelled clinical notes; we measure agreement."),
            lib(
                "Z",
                title="Transfer learning for protein structure prediction",
                creators=[author("Kim")],
                abstract="Proteins fold.",
            ),
        ]
    )
    encoder = Encoder(get_model("minilm"))
    papers = list(store.papers())
    store.save_vectors(
        "minilm",
        zip(
            [p.key for p in papers],
            [p.content_hash for p in papers],
            encoder.encode_papers(papers),
            strict=True,
        ),
    )
    index = build_index(store, "minilm")
    incoming = [
        lib(
            "in1",
            title=REWORDED,
            abstract="Crowd workers labelled clinical notes; we measure agreement.",
        )
    ]
    assert check_papers(store, incoming) == []
    [match] = check_papers(store, incoming, index, encoder)
    assert match.key == "A" and match.index == 0


def test_library_matches_counts_versions_as_copies_and_respects_not_duplicates(filled):
    preprint = lib(
        "ARX",
        title=TITLE,
        item_type="preprint",
        arxiv_id="1901.00001",
        year=2018,
        pool=CANDIDATE_POOL,
        library="feed:arxiv",
    )
    filled.upsert_papers([preprint])
    # the preprint of a library article: the user has the work, recommendations hide it
    assert library_matches(filled, [preprint])["ARX"] in {"L1", "L2"}
    [match] = check_papers(filled, [preprint])
    assert match.kind == "version"
    filled.mark_distinct(["ARX", "L1"])
    filled.mark_distinct(["ARX", "L2"])
    assert library_matches(filled, [preprint]) == {}
