"""The failure modes measured on held-out labelled sets, as hand-written records (issue 20).

None of these records is copied from a labelled set: they are written to have the shape of
each failure (recurring columns, conference vs journal versions, companion texts, dirty
citation strings, shuffled co-authors, encoded DOIs, CSL-JSON pages, venue aliases).
"""

from __future__ import annotations

import json

import pytest

from specter_desk.models import Paper
from specter_desk.services.duplicates import (
    DEFAULT_MIN_SCORE,
    DUPLICATE,
    VERSION,
    Record,
    build_records,
    detect_duplicates,
    score_pair,
)
from specter_desk.services.duplicates.blocking import (
    blocking_keys,
    candidate_pairs,
    minhash_pairs,
    rare_tokens,
)
from specter_desk.services.duplicates.venues import same_venues, venue_forms
from specter_desk.sync.demo import demo_papers
from specter_desk.sync.files import read_file


def person(name: str) -> dict[str, str]:
    last, _, first = name.partition(", ")
    return {"creatorType": "author", "lastName": last, "firstName": first}


def record(key: str, title: str, *names: str, **fields) -> Paper:
    return Paper(key=key, title=title, creators=[person(n) for n in names], **fields)


def pairs_of(report) -> set[frozenset[str]]:
    return {
        frozenset((a, b))
        for cluster in report.clusters
        for i, a in enumerate(cluster.keys)
        for b in cluster.keys[i + 1 :]
    }


def score(a: Paper, b: Paper):
    return score_pair(Record.from_paper(a), Record.from_paper(b))


# -- recurring editorial titles ----------------------------------------------------------------


@pytest.mark.parametrize("title", ["Chair's Message", "Book Review Column", "Calls for Papers"])
def test_a_recurring_column_in_other_issues_is_never_a_duplicate(title):
    issues = [
        record(
            f"{title[:4]}{year}-{issue}",
            title,
            "Winslett, Marianne",
            year=year,
            venue="SIGMOD Record",
            raw={
                "volume": str(year - 1971),
                "issue": str(issue),
                "pages": f"{issue * 5}-{issue * 5 + 1}",
            },
        )
        for year in (2001, 2002)
        for issue in (1, 2)
    ]
    # the same column recorded twice by a second bibliography: same volume, issue and pages
    again = record(
        "copy",
        title.upper(),
        "Winslett, M.",
        year=2001,
        venue="ACM SIGMOD Record",
        raw={"volume": "30", "issue": "2", "pages": "10-11"},
    )
    report = detect_duplicates([*issues, again])
    assert pairs_of(report) == {frozenset((issues[1].key, "copy"))}
    assert report.versions == []


def test_a_recurring_title_without_any_locator_is_not_a_duplicate():
    # A column title that recurs across years in the pool: two records of it that carry
    # nothing but title, year and venue cannot be told apart from two different columns.
    columns = [
        record(f"R{year}", "Reminiscences on influential papers", year=year, venue="SIGMOD Record")
        for year in (1999, 2000, 2001)
    ]
    second = record(
        "R2001b", "Reminiscences on Influential Papers", year=2001, venue="SIGMOD Record"
    )
    records = build_records([*columns, second])
    assert all(r.recurring for r in records)
    result = score_pair(records[2], records[3])
    assert result.score < DEFAULT_MIN_SCORE
    assert any("recurring or generic title" in r for r in result.reasons)
    assert detect_duplicates([*columns, second]).clusters == []


# -- conference paper vs journal version ---------------------------------------------------------


def test_a_conference_paper_and_its_journal_version_are_versions_not_duplicates():
    authors = ("Garcia, Hector", "Ullman, Jeffrey", "Widom, Jennifer")
    conference = record(
        "C",
        "Integrating heterogeneous sources of data",
        *authors,
        year=1999,
        venue="VLDB",
        item_type="document",
    )
    journal = record(
        "J",
        "Integrating Heterogeneous Sources of Data",
        *authors,
        year=2001,
        venue="VLDB J.",
        item_type="document",
    )
    result = score(conference, journal)
    assert result.kind == VERSION and result.score >= DEFAULT_MIN_SCORE
    report = detect_duplicates([conference, journal])
    assert report.clusters == []
    [group] = report.versions
    assert set(group.keys) == {"C", "J"} and group.master == "J"  # the journal article


def test_the_same_conference_paper_under_a_venue_alias_is_a_duplicate():
    authors = ("Chaudhuri, Surajit", "Narasayya, Vivek")
    dblp = record(
        "D", "An efficient cost-driven index selection tool", *authors, year=1997, venue="VLDB"
    )
    acm = record(
        "A",
        "An efficient, cost-driven index selection tool for Microsoft SQL Server",
        *reversed(authors),
        year=1997,
        venue="Proceedings of the 23rd International Conference on Very Large Data Bases",
    )
    assert same_venues(venue_forms("VLDB"), venue_forms(acm.venue))
    result = score(dblp, acm)
    assert result.kind == DUPLICATE and result.score >= DEFAULT_MIN_SCORE
    assert "same venue" in result.reasons
    sigmod = record("S", "Query optimization by example", "Li, Wen", venue="SIGMOD Conference")
    acm_sigmod = record(
        "T",
        "Query optimization by example",
        "Li, Wen",
        venue="International Conference on Management of Data",
    )
    assert score(sigmod, acm_sigmod).kind == DUPLICATE


def test_a_tutorial_and_the_paper_are_versions():
    paper = record("P", "Data integration under uncertainty", "Halevy, Alon", year=2008)
    tutorial = record(
        "T", "Data integration under uncertainty: a tutorial", "Halevy, Alon", year=2008
    )
    result = score(paper, tutorial)
    assert result.kind == VERSION and "one is a tutorial" in result.version_reasons
    assert detect_duplicates([paper, tutorial]).clusters == []


# -- companion texts ----------------------------------------------------------------------------


def test_an_addendum_is_not_a_duplicate_of_the_paper_it_names():
    paper = record(
        "P", "Materialized view selection in a data warehouse", "Gupta, Himanshu", year=1999
    )
    addendum = record(
        "A",
        "Addendum to Materialized view selection in a data warehouse",
        "Gupta, Himanshu",
        year=1999,
    )
    result = score(paper, addendum)
    assert result.score < 0.5 and any("companion text (addendum)" in r for r in result.reasons)
    report = detect_duplicates([paper, addendum])
    assert report.clusters == [] and report.versions == []


def test_a_demo_abstract_next_to_the_paper_is_a_version_not_a_duplicate():
    paper = record("P", "Keyword search over relational databases", "Hristidis, Vagelis", year=2002)
    demo = record(
        "D",
        "Keyword search over relational databases (demo abstract)",
        "Hristidis, Vagelis",
        year=2002,
    )
    result = score(paper, demo)
    assert result.kind == VERSION
    assert detect_duplicates([paper, demo]).clusters == []


# -- dirty citation strings -------------------------------------------------------------------


def test_abbreviated_garbled_citations_are_paired_by_minhash_and_matched():
    clean = [
        record(
            "clean",
            "Efficient evaluation of continuous range queries on moving objects",
            "Kalashnikov, Dmitri",
            "Prabhakar, Sunil",
            year=2002,
            venue="Database and Expert Systems Applications",
        ),
        *[
            record(f"other{i}", f"{topic} for sensor networks and streams", "Other, Ann", year=2002)
            for i, topic in enumerate(["Aggregation", "Routing", "Sampling", "Compression"])
        ],
    ]
    # a typo in the first word, the last one cut, a misspelt author: no exact key holds both
    dirty = record(
        "dirty",
        "Eficient evaluation of continuous range queries on moving obj. In Proc. DEXA",
        "Kalasnikov, D",
        "Prabhakar, S",
        year=2002,
    )
    records = build_records([*clean, dirty])
    exact: dict[str, set[int]] = {}
    for i, (rec, rare) in enumerate(zip(records, rare_tokens(records), strict=True)):
        for key in blocking_keys(rec, rare):
            exact.setdefault(key, set()).add(i)
    together = any({0, len(records) - 1} <= members for members in exact.values())
    assert not together  # no exact key holds both
    assert (0, len(records) - 1) in minhash_pairs(records)
    assert (0, len(records) - 1) in candidate_pairs(records)
    result = score_pair(records[0], records[-1])
    assert result.kind == DUPLICATE and result.score >= DEFAULT_MIN_SCORE
    assert pairs_of(detect_duplicates([*clean, dirty])) == {frozenset(("clean", "dirty"))}


def test_a_title_cut_short_with_abbreviated_words_still_contains_the_other():
    full = record(
        "F",
        "Managing uncertainty in information technology outsourcing relationships: ten firms",
        "Lacity, Mary",
        "Willcocks, Leslie",
        year=2004,
    )
    cut = record(
        "C",
        "Manag. uncertainty in inf. techn. outsourcing relationships",
        "Lacity, M",
        "Willcocks, L",
        year=2004,
    )
    result = score(full, cut)
    assert "one title contains the other" in result.reasons
    assert result.score >= DEFAULT_MIN_SCORE


# -- authors in another order -------------------------------------------------------------------


def test_co_authors_in_shuffled_order_are_the_same_paper():
    names = ["Halevy, Alon", "Rajaraman, Anand", "Ordille, Joann"]
    a = record(
        "A",
        "Querying heterogeneous information sources using source descriptions",
        *names,
        year=1996,
    )
    b = record(
        "B",
        "Querying Heterogeneous Information Sources Using Source Descriptions",
        names[2],
        names[0],
        names[1],
        year=1996,
    )
    result = score(a, b)
    assert "3 shared authors" in result.reasons
    assert not any("different" in r for r in result.reasons)
    assert result.score >= 0.99
    truncated = record("C", a.title, names[1], year=1996)  # "Rajaraman et al."
    assert score(a, truncated).score >= DEFAULT_MIN_SCORE


# -- identifiers and locators -------------------------------------------------------------------


def test_percent_encoded_and_plain_doi_are_one_doi():
    a = record(
        "A", "Global burden of disease study", "Vos, Theo", doi="10.1016/S0140-6736%2817%2932154-2"
    )
    b = record(
        "B",
        "Global burden of disease study",
        "Vos, Theo",
        doi="https://doi.org/10.1016/S0140-6736(17)32154-2",
    )
    assert a.doi == b.doi == "10.1016/s0140-6736(17)32154-2"
    result = score(a, b)
    assert "same DOI" in result.reasons and not result.conflict
    assert pairs_of(detect_duplicates([a, b])) == {frozenset(("A", "B"))}


def test_csl_json_pages_keep_two_abstracts_of_one_supplement_apart(tmp_path):
    supplement = "10.1093/example/supplement.1"
    items = [
        {
            "id": "abs51",
            "type": "article-journal",
            "title": "Outcomes of early mobilisation after hip fracture surgery",
            "author": [{"family": "Berg", "given": "Lena"}],
            "issued": {"date-parts": [[2019]]},
            "container-title": "Age and Ageing",
            "volume": "48",
            "issue": "Suppl 1",
            "page": "51",
            "DOI": supplement,
        },
        {
            "id": "abs52",
            "type": "article-journal",
            "title": "Outcomes of early mobilisation after knee replacement surgery",
            "author": [{"family": "Berg", "given": "Lena"}],
            "issued": {"date-parts": [[2019]]},
            "container-title": "Age and Ageing",
            "volume": "48",
            "issue": "Suppl 1",
            "page": "52",
            "DOI": supplement,
        },
    ]
    path = tmp_path / "abstracts.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    papers = read_file(path, library="csl").papers
    records = build_records(papers)
    assert [r.page for r in records] == ["51", "52"]
    result = score_pair(*records)
    assert not any(r == "same DOI" for r in result.reasons)
    assert "different first pages (51/52)" in result.reasons
    assert detect_duplicates(papers).clusters == []


def test_titles_naming_other_numbers_or_another_population_are_other_works():
    base = "a randomised trial of inhaled antibiotics in {} patients with bronchiectasis"
    one = record("F1", "FOCUS 1: " + base.format("adult"), "Low, Donald", year=2011)
    two = record("F2", "FOCUS 2: " + base.format("adult"), "Low, Donald", year=2011)
    children = record("K", "FOCUS 1: " + base.format("paediatric"), "Low, Donald", year=2011)
    assert "titles name different numbers" in score(one, two).reasons
    assert any("titles differ in a word" in r for r in score(one, children).reasons)
    assert detect_duplicates([one, two, children]).clusters == []


def test_one_article_under_two_venue_names_at_the_same_place_is_a_duplicate():
    # MEDLINE's long name vs the short one, same volume, issue and pages
    a = record(
        "A",
        "Cervical screening intervals in older women",
        "Kerr, Jan",
        year=2009,
        venue="Clinical cancer research : an official journal of the American Association",
        raw={"volume": "15", "issue": "3", "pages": "411-418"},
    )
    b = record(
        "B",
        "Cervical screening intervals in older women",
        "Kerr, Jan",
        year=2009,
        venue="Clinical Cancer Research",
        raw={"volume": "15", "issue": "3", "pages": "411-8"},
    )
    result = score(a, b)
    assert result.kind == DUPLICATE and result.score >= DEFAULT_MIN_SCORE


def test_the_same_study_in_two_journals_is_a_version():
    a = record(
        "A",
        "Pleurodesis with talc slurry in malignant effusion",
        "Rossi, Anna",
        year=2010,
        venue="Chest",
        raw={"volume": "138", "pages": "811"},
    )
    b = record(
        "B",
        "Pleurodesis with talc slurry in malignant effusion",
        "Rossi, Anna",
        year=2010,
        venue="Respiratory Medicine",
        raw={"volume": "104", "pages": "S12"},
    )
    result = score(a, b)
    assert result.kind == VERSION and "different venues" in result.version_reasons
    assert detect_duplicates([a, b]).clusters == []


def test_a_bracketed_medline_title_with_a_language_note_keeps_its_title():
    a = record("A", "Fast track surgery in lung cancer", "Zhao, Lei", year=2010)
    b = record("B", "[Fast track surgery in lung cancer] LA: Chi", "Zhao, Lei", year=2010)
    assert Record.from_paper(b).title == "fast track surgery in lung cancer"
    assert pairs_of(detect_duplicates([a, b])) == {frozenset(("A", "B"))}


def test_an_author_list_in_one_name_field_is_one_author_per_person(tmp_path):
    names = "M. Kearns, Y. Mansour, and A. Ng"
    assert Record.from_paper(record("A", "t")).surnames == ()
    single = Paper(key="S", title="t", creators=[{"name": names}])
    assert Record.from_paper(single).surnames == ("kearns", "mansour", "ng")
    path = tmp_path / "citations.jsonl"
    path.write_text(json.dumps({"key": "B", "title": "t", "authors": "Kearns, M. and Ng, A."}))
    [paper] = read_file(path, library="x").papers
    assert Record.from_paper(paper).surnames == ("kearns", "ng")


def test_minhash_small_sets_hash_at_once_exactly_like_the_chunked_loop(monkeypatch):
    """Copy detection runs on every related list (16 titles): those hash every function at
    once; large pools go through the chunked loop. Both give the same signatures."""
    from specter_desk.services.duplicates import minhash

    texts = [p.title.lower() for p in demo_papers()[:40]] + ["", "x"]
    at_once = minhash.signatures(texts, 64, common=0.05)
    monkeypatch.setattr(minhash, "_CHUNK", 97)  # forces the loop, in chunks of 97 n-grams
    chunked = minhash.signatures(texts, 64, common=0.05)
    assert at_once.shape == (len(texts), 64) and (at_once == chunked).all()
    assert len({tuple(row) for row in at_once}) > 30
