"""Duplicate scoring, blocking and clustering on plain Paper objects (no store)."""

from __future__ import annotations

import pytest

from conftest import make_paper
from specter_desk.services.duplicates import (
    DEFAULT_MIN_SCORE,
    DUPLICATE,
    VERSION,
    Record,
    detect_duplicates,
    score_pair,
    title_similarity,
)
from specter_desk.services.duplicates.blocking import candidate_pairs
from specter_desk.services.duplicates.records import first_page, surname_key
from specter_desk.services.duplicates.titles import title_key

TITLE = "Deep contextual embeddings for scientific document similarity"


def author(last: str, first: str = "A.") -> dict[str, str]:
    return {"creatorType": "author", "lastName": last, "firstName": first}


def paper(key: str, title: str = TITLE, **fields):
    fields.setdefault("year", 2020)
    fields.setdefault("creators", [author("Cohan", "Arman"), author("Feldman", "Sergey")])
    return make_paper(key, title, **fields)


def score(a, b):
    return score_pair(Record.from_paper(a), Record.from_paper(b))


def clusters_of(papers, **kwargs):
    return [sorted(c.keys) for c in detect_duplicates(papers, **kwargs).clusters]


# -- each evidence rule -------------------------------------------------------------------------


def test_same_doi_is_strong_evidence_even_with_a_changed_title():
    a = paper("A", doi="10.1000/xyz")
    b = paper("B", title="Contextual embeddings of documents", doi="10.1000/XYZ")
    result = score(a, b)
    assert "same DOI" in result.reasons
    assert result.score >= DEFAULT_MIN_SCORE


def test_two_different_dois_are_two_publications_never_one_duplicate_cluster():
    a = paper("A", doi="10.24251/hicss.2021.510")
    b = paper("B", doi="10.24251/hicss.2022.544", year=2020)
    result = score(a, b)
    assert result.conflict and "different DOIs" in result.reasons
    assert result.kind == VERSION and "different DOIs" in result.version_reasons
    assert clusters_of([a, b], min_score=0.0) == []
    [group] = detect_duplicates([a, b]).versions
    assert sorted(group.keys) == ["A", "B"] and group.kind == "versions"


def test_an_arxiv_doi_does_not_conflict_with_the_journal_doi():
    preprint = paper("P", doi="10.48550/arXiv.2004.07180", item_type="preprint", year=2020)
    published = paper("J", doi="10.18653/v1/2020.acl-main.207", year=2020)
    result = score(preprint, published)
    assert not result.conflict
    assert preprint.arxiv_id == "2004.07180"
    assert result.score >= DEFAULT_MIN_SCORE


@pytest.mark.parametrize(
    "doi",
    [
        "https://doi.org/10.1000/ABC.def",
        "doi:10.1000/abc.DEF",
        "10.1000/abc.def.",
        "http://dx.doi.org/10.1000/abc.def",
        "10.1000%2Fabc.def",
    ],
)
def test_doi_spellings_normalise_to_the_same_doi_and_match(doi):
    a = paper("A", doi="10.1000/abc.def")
    b = paper("B", title=TITLE.upper(), doi=doi)
    assert b.doi == "10.1000/abc.def"
    assert "same DOI" in score(a, b).reasons


def test_preprint_and_published_version_a_year_apart_are_versions_of_one_work():
    preprint = paper(
        "P",
        title=TITLE + ".",
        item_type="preprint",
        arxiv_id="2004.07180",
        year=2019,
        url="https://arxiv.org/abs/2004.07180",
    )
    published = paper(
        "J",
        title=TITLE.replace("for", "For"),
        doi="10.18653/v1/x",
        year=2020,
        venue="Proceedings of ACL",
        raw={"pages": "2270-2282"},
    )
    result = score(preprint, published)
    assert "a preprint and a published version" in result.version_reasons
    assert any("versions, years 2019/2020" in r for r in result.reasons)
    assert result.score >= DEFAULT_MIN_SCORE and result.kind == VERSION
    report = detect_duplicates([preprint, published])
    assert report.clusters == []  # versions are not offered as duplicates
    [group] = report.versions
    assert group.master == "J"  # keep the published version
    assert group.mixed_types
    assert group.merged["arxiv_id"] == "2004.07180"
    assert group.merged["doi"] == "10.18653/v1/x"


def test_same_title_years_apart_is_not_a_duplicate():
    assert score(paper("A", year=2005), paper("B", year=2015)).score < DEFAULT_MIN_SCORE


def test_title_typo_and_punctuation_still_match_without_identifiers():
    a = paper("A", title="Deep contextual embeddings for scientific document similarity.")
    b = paper("B", title="Deep contextual embedings for scientific-document similarity")
    sim, _ = title_similarity(title_key(a.title), title_key(b.title))
    assert 0.9 <= sim < 1.0
    assert score(a, b).score >= DEFAULT_MIN_SCORE
    assert clusters_of([a, b]) == [["A", "B"]]


def test_different_authors_lower_the_score_but_their_order_does_not():
    same = score(paper("A"), paper("B"))
    other = score(paper("A"), paper("B", creators=[author("Smith"), author("Jones")]))
    shuffled = score(
        paper("A"), paper("B", creators=[author("Feldman", "Sergey"), author("Cohan", "Arman")])
    )
    assert other.logit < same.logit - 2
    assert any("different authors" in r for r in other.reasons)
    assert shuffled.logit == same.logit and "2 shared authors" in shuffled.reasons


def test_different_first_pages_are_evidence_against():
    a = paper("A", raw={"pages": "100-110", "volume": "12"})
    b = paper("B", raw={"pages": "300-310", "volume": "12"})
    c = paper("C", raw={"pages": "100--110", "volume": "12"})
    assert "different first pages (100/300)" in score(a, b).reasons
    assert score(a, b).logit < score(a, c).logit - 4
    assert "same first page (100)" in score(a, c).reasons


def test_conference_paper_and_journal_article_are_versions_not_duplicates():
    conf = paper("C", item_type="conferencePaper")
    journal = paper("J", item_type="journalArticle")
    result = score(conf, journal)
    assert result.kind == VERSION and result.score >= DEFAULT_MIN_SCORE
    assert "item types differ (conference/article)" in result.version_reasons
    assert score(paper("A"), journal).kind == DUPLICATE


def test_embedding_cosine_is_evidence_only_when_both_texts_have_abstracts():
    import numpy as np

    text = "We study how contextual embeddings capture the similarity of scientific papers. " * 3
    a = paper("A", abstract=text)
    b = paper("B", title="Scientific document similarity with contextual embeddings", abstract=text)
    base = score_pair(Record.from_paper(a), Record.from_paper(b))
    v = np.ones(4, dtype=np.float32) / 2
    close = score_pair(Record.from_paper(a, v), Record.from_paper(b, v))
    assert close.logit > base.logit
    assert any("embedding cosine" in r for r in close.reasons)
    # title-only texts: the cosine would count the title twice
    a.abstract = b.abstract = ""
    titles_only = score_pair(Record.from_paper(a, v), Record.from_paper(b, v))
    assert not any("embedding cosine" in r for r in titles_only.reasons)


def test_venue_abbreviation_is_the_same_venue_and_another_venue_makes_a_version():
    a = paper("A", venue="Journal of Clinical Virology")
    b = paper("B", venue="J Clin Virol")
    c = paper("C", venue="Annals of Botany")
    assert "same venue" in score(a, b).reasons and score(a, b).kind == DUPLICATE
    assert "different venues" in score(a, c).version_reasons and score(a, c).kind == VERSION
    assert score(a, c).logit < score(a, b).logit


def test_abstracts_agree_or_disagree():
    text = "We measure how often reviewers disagree about the same manuscript. " * 5
    other = "Soil bacteria fix nitrogen in the root nodules of legumes under drought stress. " * 5
    assert "same abstract" in score(paper("A", abstract=text), paper("B", abstract=text)).reasons
    assert (
        "different abstracts"
        in score(paper("A", abstract=text), paper("B", abstract=other)).reasons
    )


def test_pmid_and_isbn_evidence():
    same = score(paper("A", pmid="PMID: 123456"), paper("B", pmid="123456"))
    assert "same PMID" in same.reasons
    differ = score(paper("A", pmid="123456"), paper("B", pmid="654321"))
    assert differ.conflict and differ.score < 0.5
    book_a = paper("A", item_type="book", isbn="978-0-262-03384-8")
    book_b = paper("B", item_type="book", isbn="0262033844")  # the same book as ISBN-10
    assert "same ISBN" in score(book_a, book_b).reasons
    other_book = paper("C", item_type="book", isbn="978-0-13-110362-7")
    assert "different ISBNs" in score(book_a, other_book).reasons
    chapter = paper("D", item_type="bookSection", isbn="978-0-262-03384-8")
    assert "same ISBN" not in score(book_a, chapter).reasons  # chapters share the book's ISBN


def test_different_volumes_count_against():
    a = paper("A", raw={"volume": "12"})
    b = paper("B", raw={"volume": "13"})
    assert "different volumes (12/13)" in score(a, b).reasons
    assert "same volume" in score(a, paper("C", raw={"volume": "012"})).reasons


# -- generic titles, clusters, unicode ----------------------------------------------------------


@pytest.mark.parametrize("title", ["Introduction", "Editorial", "Editor's Comments", "Reply"])
def test_different_papers_with_the_same_generic_title_are_not_merged(title):
    a = paper(
        "A",
        title=title,
        creators=[author("Weber", "Ron")],
        venue="MIS Quarterly",
        raw={"volume": "26"},
    )
    b = paper(
        "B",
        title=title,
        creators=[author("Weber", "Ron")],
        venue="MIS Quarterly",
        raw={"volume": "26"},
    )
    c = paper("C", title=title, creators=[author("Lee", "Allen")], year=2021)
    result = score(a, b)
    assert any("generic title" in r for r in result.reasons)
    assert clusters_of([a, b, c]) == []


def test_generic_title_with_the_same_doi_is_merged():
    a = paper("A", title="Editorial", doi="10.1000/ed.1")
    b = paper("B", title="Editorial", doi="10.1000/ED.1")
    assert clusters_of([a, b]) == [["A", "B"]]


def test_a_cluster_of_three_from_chained_pairs_with_the_most_complete_master():
    a = paper(
        "A",
        title=TITLE,
        doi="10.1000/x",
        abstract="We embed documents. " * 20,
        venue="ACL",
        raw={"pages": "1-10", "volume": "3"},
        tags=["nlp"],
    )
    b = paper("B", title=TITLE.upper(), tags=["to-read"])
    c = paper("C", title=TITLE.replace("similarity", "similarty"), doi="10.1000/X", year=2021)
    unrelated = paper("D", title="A survey of graph neural networks for chemistry")
    clusters = detect_duplicates([a, b, c, unrelated]).clusters
    assert len(clusters) == 1
    cluster = clusters[0]
    assert sorted(cluster.keys) == ["A", "B", "C"]
    assert cluster.master == "A"
    assert cluster.papers[0].key == "A"
    assert cluster.merged["tags"] == ["nlp", "to-read"]
    assert len(cluster.pairs) >= 2
    data = cluster.to_dict()
    assert set(data) == {
        "id",
        "kind",
        "score",
        "master",
        "mixed_types",
        "papers",
        "pairs",
        "merged",
    }
    assert data["kind"] == "duplicates" and data["mixed_types"] is False
    assert set(data["papers"][0]) == {
        "key",
        "title",
        "year",
        "first_author",
        "doi",
        "item_type",
        "venue",
    }
    assert set(data["pairs"][0]) == {"a", "b", "score", "reasons", "versions"}
    assert 0 < data["score"] <= 1


def test_conflicting_dois_split_a_chain():
    a = paper("A", doi="10.1000/a")
    b = paper("B")  # no DOI, same title: would chain A and C together
    c = paper("C", doi="10.1000/c")
    clusters = clusters_of([a, b, c])
    assert len(clusters) == 1 and clusters[0] in (["A", "B"], ["B", "C"])


def test_diacritics_in_titles_and_names_do_not_hide_a_duplicate():
    a = paper(
        "A",
        title="Über die Stabilität elastischer Gitter in der Näherung",
        creators=[author("Müller", "Jürgen"), author("Ørsted", "Åsa")],
    )
    b = paper(
        "B",
        title="Uber die Stabilitat elastischer Gitter in der Naherung",
        creators=[author("Muller", "J."), author("Orsted", "A.")],
    )
    result = score(a, b)
    assert "same title" in result.reasons
    assert "2 shared authors" in result.reasons
    assert clusters_of([a, b]) == [["A", "B"]]


def test_non_latin_titles_are_compared_not_dropped():
    a = paper(
        "A",
        title="Занятость и мотивация труда в информационной экономике",
        creators=[author("Азьмук", "Н.")],
    )
    b = paper(
        "B",
        title="Занятость и мотивация труда в информационной экономике.",
        creators=[author("Азьмук", "Н.")],
    )
    assert title_key(a.title) and title_key(a.title) == title_key(b.title)
    assert clusters_of([a, b]) == [["A", "B"]]


def test_record_normalisation_helpers():
    assert surname_key("van Kessel") == "kessel"
    assert surname_key("Wright Jr.") == "wright"
    assert surname_key("Urbano-Ispizua") == "urbanoispizua"
    assert first_page("S27") == "27" and first_page("1038-1044") == "1038"
    assert first_page("e0123") == "123" and first_page("") == ""
    assert title_key("[Stroke rehabilitation in Germany]. ") == "stroke rehabilitation in germany"
    assert title_key("Human papillomavirus and cervical cancer. [Review] [133 refs]") == (
        "human papillomavirus and cervical cancer"
    )


def test_blocking_scores_far_fewer_pairs_than_all_pairs():
    import random

    rng = random.Random(3)
    words = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "theta", "kappa", "lambda"]
    papers = [
        paper(
            f"K{i}",
            title=" ".join(rng.choices(words, k=8)) + f" {i}",
            creators=[author(f"Name{i % 50}")],
        )
        for i in range(600)
    ]
    records = [Record.from_paper(p) for p in papers]
    pairs = candidate_pairs(records)
    assert len(pairs) < 600 * 599 / 2 / 20


def test_master_tie_goes_to_the_oldest_added_record():
    a = paper("A", date_added="2024-05-01T10:00:00Z")
    b = paper("B", date_added="2021-01-01T10:00:00Z")
    c = paper("C")
    [cluster] = detect_duplicates([a, b, c]).clusters
    assert cluster.master == "B"
