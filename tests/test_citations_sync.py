"""`citations sync` against the fake server: matching and its rate, references, citing works,
the Crossref / Semantic Scholar fallbacks, the citing pool, the TTL, offline use afterwards,
and bad answers that lose nothing already stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from citation_helpers import (
    CROSSREF_ONLY_DOI,
    NOW,
    donners_works,
    library_papers,
    paper_of,
    settings_for,
    sources_for,
)
from fake_citations import FIXTURES, FakeCitations, load_json

from specter_desk.errors import CitationSourceError
from specter_desk.models import CANDIDATE_POOL, Paper
from specter_desk.services.citations.fetch import sync_citations
from specter_desk.services.citations.lists import citation_lists
from specter_desk.services.citations.pool import CITING_LIBRARY, citing_papers


@pytest.fixture
def server():
    with FakeCitations() as fake:
        yield fake


def run(store, server, **kwargs):
    kwargs.setdefault("now", NOW)
    return sync_citations(
        store,
        settings_for(server),
        sources=sources_for(server, s2=kwargs.pop("s2", False)),
        **kwargs,
    )


@pytest.fixture
def synced(store, server):
    store.upsert_papers(library_papers())
    result = run(store, server)
    return store, result


def test_papers_are_matched_by_doi_pmid_title_and_crossref_and_the_rate_is_reported(synced):
    store, result = synced
    assert result.items == 17 and result.matched == 16
    assert result.match_rate == round(16 / 17, 4)
    assert result.by_method == {
        "doi": 13,
        "arxiv": 0,
        "pmid": 1,
        "title": 1,
        "crossref": 1,
        "semanticscholar": 0,
    }
    works = {w.title: w.id for w in donners_works()}
    matches = store.work_matches()
    assert matches["PMIDONLY"]["matched_by"] == "pmid"
    assert matches["TITLEONL"]["matched_by"] == "title"
    assert matches["TITLEONL"]["work"] == works[store.get_paper("TITLEONL").title]
    assert matches["UNKNOWN1"]["work"] is None and matches["UNKNOWN1"]["matched_by"] == "none"


def test_a_wrong_year_or_author_is_not_a_title_match(store, server):
    work = donners_works()[3]
    wrong_year = paper_of(work, "WRONGYR1", doi=None, year=work.year - 5)
    wrong_author = paper_of(
        work,
        "WRONGAU1",
        doi=None,
        creators=[{"creatorType": "author", "lastName": "Nobody", "firstName": "A"}],
    )
    store.upsert_papers([wrong_year, wrong_author])
    result = run(store, server)
    assert result.matched == 0


def test_an_arxiv_id_is_looked_up_by_its_datacite_doi(store, server):
    store.upsert_papers([Paper(key="ARXIV001", title="A preprint", arxiv_id="2101.00001")])
    result = run(store, server)
    assert result.matched == 0  # the fake does not know it; the question is what was asked
    asked = [r["query"].get("filter", "") for r in server.requests("/openalex/works")]
    assert "doi:10.48550/arxiv.2101.00001" in asked


def test_references_are_stored_as_edges_of_the_matched_work(synced):
    store, _ = synced
    work = donners_works()[0]
    edges = store.citation_edges([work.id])
    assert {cited for citing, cited in edges if citing == work.id} == set(work.references)
    fetched = store.citation_fetches([work.id], "references")[work.id]["openalex"]
    assert fetched["count"] == len(work.references)


def test_links_between_library_papers_are_all_there(synced):
    store, _ = synced
    library = {w.id for w in donners_works()[:15]}
    expected = {(w.id, r) for w in donners_works()[:15] for r in w.references if r in library}
    stored = {(a, b) for a, b in store.citation_edges(library) if a in library and b in library}
    assert stored == expected and len(expected) >= 50


def test_citing_works_come_from_the_cites_filter_with_counts(synced):
    store, _ = synced
    target = donners_works()[0]
    citing = {w.id for w in donners_works() if target.id in w.references}
    edges = store.citation_edges([target.id])
    assert citing <= {a for a, b in edges if b == target.id}
    fetched = store.citation_fetches([target.id], "cited_by")[target.id]["openalex"]
    assert fetched["count"] == len(citing) and fetched["total"] == target.cited_by_count


def test_outside_works_keep_only_edges_into_the_library_neighbourhood(synced):
    store, _ = synced
    library = set(store.matched_works("library").values())
    neighbourhood = library | {b for a, b in store.citation_edges(library) if a in library}
    outside = {a for a, b in store.citation_edges(library) if b in library} - library
    assert outside
    for citing, cited in store.citation_edges(outside):
        if citing in outside:
            assert cited in neighbourhood


def test_details_of_cited_works_are_fetched_in_batches(synced, server):
    store, _ = synced
    listed = store.get_works(r for w in donners_works()[:15] for r in w.references)
    known = {w.id for w in donners_works()}
    assert {i for i, w in listed.items() if w.title} == known & set(listed)
    batches = [
        r for r in server.requests("/openalex/works") if "openalex:" in r["query"].get("filter", "")
    ]
    assert batches and all(len(r["query"]["filter"].split("|")) <= 50 for r in batches)


def test_crossref_fills_in_for_a_paper_openalex_does_not_know(synced):
    store, _ = synced
    match = store.work_matches(["CROSSREF"])["CROSSREF"]
    assert match == {**match, "work": f"doi:{CROSSREF_ONLY_DOI}", "matched_by": "crossref"}
    raw = load_json(FIXTURES / "crossref" / "works_10.1371-journal.pone.0033693.json")["message"]
    with_doi = {r["DOI"].lower() for r in raw["reference"] if r.get("DOI")}
    refs = [b for a, b in store.citation_edges([match["work"]]) if a == match["work"]]
    assert len(refs) == len(with_doi)
    lists = citation_lists(store, store.get_paper("CROSSREF"))
    assert lists.counts["cites"] == len(with_doi)


def test_semantic_scholar_is_the_last_fallback_when_enabled(store, server):
    store.upsert_papers(
        [Paper(key="MIRACLE1", title="The Miracle of Microfinance?", doi="10.2139/ssrn.2250500")]
    )
    result = run(store, server, s2=True)
    assert result.by_method["semanticscholar"] == 1
    refs = store.citation_edges(["doi:10.2139/ssrn.2250500"])
    assert len(refs) > 30 and all(a == "doi:10.2139/ssrn.2250500" for a, b in refs)


def test_the_citing_pool_holds_recent_citers_as_candidates(synced):
    store, result = synced
    pool = store.keys_in_library(CITING_LIBRARY)
    assert result.citing_candidates == len(pool) > 0
    since = (NOW - timedelta(days=365)).date().isoformat()
    library_works = set(store.matched_works("library").values())
    for key, paper in store.get_papers(pool).items():
        assert paper.pool == CANDIDATE_POOL and paper.abstract
        work = store.work_matches([key])[key]["work"]
        assert work not in library_works
        assert store.works_published_since(since, [work]) == {work}
        assert any(b in library_works for a, b in store.citation_edges([work]) if a == work)
    rows = citing_papers(store, since=since)
    assert {r.key for r in rows} == pool
    assert [len(r.cites) for r in rows] == sorted((len(r.cites) for r in rows), reverse=True)


def test_a_second_sync_within_the_ttl_asks_nothing(synced, server):
    store, _ = synced
    server.log.clear()
    result = run(store, server)
    assert server.log == [] and result.requests == {"openalex": 0, "crossref": 0}
    assert result.matched == 16


def test_after_the_ttl_the_lists_are_fetched_again(synced, server):
    store, _ = synced
    server.log.clear()
    run(store, server, now=datetime.now(UTC) + timedelta(days=31))
    assert server.requests("/openalex/works")


def test_a_changed_doi_means_a_new_lookup(synced, server):
    store, _ = synced
    paper = store.get_paper("LIB00000")
    paper.doi = donners_works()[20].doi
    store.upsert_papers([paper])
    server.log.clear()
    run(store, server)
    assert store.work_matches(["LIB00000"])["LIB00000"]["work"] == donners_works()[20].id


def test_citations_work_offline_after_the_sync(store):
    with FakeCitations() as server:
        store.upsert_papers(library_papers())
        run(store, server)
    lists = citation_lists(store, store.get_paper("LIB00002"))  # the server is gone
    assert lists.counts["cites"] == len(donners_works()[2].references)
    assert lists.counts["cites_in_library"] >= 5
    cited = citation_lists(store, store.get_paper("LIB00000"))
    assert cited.counts["cited_by_in_library"] >= 5
    assert all(e.key for e in cited.cited_by if e.in_library)


# -- bad answers lose nothing ----------------------------------------------------------------


def counts(store):
    return (
        store.citation_counts()["works"],
        sum(store.citation_counts()["edges"].values()),
        len(store.matched_works()),
    )


def test_rate_limiting_that_never_ends_fails_in_one_line_and_keeps_the_cache(synced, server):
    store, _ = synced
    before = counts(store)
    server.fail("/openalex/works", status=429, headers={"Retry-After": "0"}, times=100)
    with pytest.raises(CitationSourceError, match="keeps rate-limiting"):
        run(store, server, refresh=True)
    assert counts(store) == before


def test_garbage_mid_sync_keeps_what_was_committed_and_the_next_sync_resumes(store, server):
    store.upsert_papers(library_papers())
    server.fail("filter=cites", mode="garbage", times=100)
    with pytest.raises(CitationSourceError, match="malformed"):
        run(store, server)
    assert len(store.matched_works()) == 16  # matching was committed before the failure
    server.faults.clear()
    server.log.clear()
    result = run(store, server)
    asked = [r["query"].get("filter", "") for r in server.requests("/openalex/works")]
    assert not any(f.startswith("doi:") for f in asked)  # nothing matched again
    assert any(f.startswith("cites:") for f in asked) and result.cited_by_fetched == 15


def test_a_dropped_connection_mid_sync_is_retried(store, server):
    store.upsert_papers(library_papers())
    server.fail("filter=cites", mode="drop", times=2)
    result = run(store, server)
    assert result.cited_by_fetched == 15 and not result.warnings


def test_a_truncated_body_mid_sync_is_retried(store, server):
    store.upsert_papers(library_papers())
    server.fail("filter=doi", mode="truncate")
    assert run(store, server).matched == 16


def test_crossref_failing_is_a_warning_not_a_failed_sync(store, server):
    store.upsert_papers(library_papers())
    server.fail("/crossref/", status=503, times=100)
    result = run(store, server)
    assert result.matched == 15  # everything OpenAlex knows
    assert any("Crossref answered HTTP 503" in w for w in result.warnings)
    server.faults.clear()
    assert run(store, server).matched == 16  # the failure was not recorded as a miss
