"""OpenAlex, Crossref and Semantic Scholar clients against a fake server replaying real
recorded responses: both OpenAlex schema generations, batches, cursor paging, and every bad
answer (404, 429, 5xx, garbage JSON, a dropped connection, a truncated body)."""

from __future__ import annotations

import json
import socket
import time
from email.utils import formatdate

import pytest
from citation_helpers import CROSSREF_ONLY_DOI, donners_works
from fake_citations import FIXTURES, FakeCitations, load_json

from specter_desk.errors import CitationSourceError
from specter_desk.models import plain_text
from specter_desk.sync.crossref import Crossref, parse_message
from specter_desk.sync.openalex import OpenAlex, abstract_text, parse_work
from specter_desk.sync.semanticscholar import SemanticScholar
from specter_desk.sync.webapi import JsonApi
from specter_desk.sync.writer import Stopped


@pytest.fixture
def server():
    with FakeCitations() as fake:
        yield fake


def openalex(server, **kwargs) -> OpenAlex:
    kwargs = {"min_interval": 0.0, "backoff": 0.01, **kwargs}
    return OpenAlex.connect(server.base + "/openalex", mailto="me@example.org", **kwargs)


# -- parsing both OpenAlex schema generations ------------------------------------------------


def test_parse_work_reads_the_2023_schema_with_host_venue():
    raw = load_json(FIXTURES / "openalex" / "donners_works.json.gz")[0]
    assert "host_venue" in raw and "topics" not in raw  # the early-2023 generation
    work = parse_work(raw)
    assert work.id == "W2400928773"
    assert work.doi == "10.1056/nejmoa1511769"
    assert work.pmid == "27223146"
    assert work.year == 2016
    assert work.venue == raw["host_venue"]["display_name"]
    assert work.references == [r.rsplit("/", 1)[-1] for r in raw["referenced_works"]]
    assert work.cited_by_count == raw["cited_by_count"]
    assert work.authors[0] == raw["authorships"][0]["author"]["display_name"]
    assert work.abstract.split()[:3] == abstract_text(raw["abstract_inverted_index"]).split()[:3]


def test_parse_work_reads_the_2025_schema_without_host_venue():
    raw = load_json(FIXTURES / "openalex" / "works_W2741809807.json")
    assert "host_venue" not in raw and "topics" in raw  # the late-2025 generation
    work = parse_work(raw)
    assert work.title.startswith("The state of OA")
    assert work.venue == "PeerJ"  # from primary_location.source
    assert len(work.references) == raw["referenced_works_count"] == 45
    assert work.cited_by_count == 1016
    assert work.abstract.startswith("Despite growing interest in Open Access")
    assert work.first_author == "Piwowar"


def test_a_work_without_references_or_abstract_parses():
    work = parse_work(load_json(FIXTURES / "openalex" / "works_W3209445140.json"))
    assert work.references == [] and work.abstract == ""


def test_abstract_from_the_inverted_index_puts_words_in_order():
    assert abstract_text({"world": [1], "hello": [0, 2]}) == "hello world hello"
    assert abstract_text(None) == "" and abstract_text({}) == ""


def test_parse_work_refuses_what_is_not_a_work():
    assert parse_work({"id": "https://openalex.org/A123"}) is None
    assert parse_work(["not", "a", "dict"]) is None


# -- OpenAlex calls -------------------------------------------------------------------------


def test_single_lookup_replays_the_recorded_work_and_sends_mailto(server):
    work = openalex(server).work("W2741809807")
    assert work.doi == "10.7717/peerj.4375"
    assert server.log[-1]["query"]["mailto"] == "me@example.org"


def test_lookup_by_doi_uses_the_singleton_endpoint(server):
    work = openalex(server).work("doi:10.1023/a:1007154515475")
    assert work.id == "W1554322594" and len(work.references) == 36
    assert server.log[-1]["path"].startswith("/openalex/works/doi:10.1023")


def test_an_unknown_doi_is_none_not_an_error(server):
    # the fake answers with OpenAlex's real 404 page (HTML, not JSON)
    assert openalex(server).work("doi:10.9999/not-in-openalex") is None


def test_batch_lookup_is_one_request_per_50_dois(server):
    works = donners_works()
    client = openalex(server)
    found = client.works("doi", [w.doi for w in works] + ["10.9999/unknown"])
    assert {w.id for w in found} == {w.id for w in works}
    lists = server.requests("/openalex/works")
    assert len(lists) == 1 and lists[0]["query"]["filter"].startswith("doi:")
    assert lists[0]["query"]["select"].startswith("id,doi,title")


def test_a_refused_or_filter_falls_back_to_single_lookups(server):
    server.fail("filter=pmid", status=400, body=b'{"error": "Invalid"}')
    work = donners_works()[0]
    found = openalex(server).works("pmid", [work.pmid])
    assert [w.id for w in found] == [work.id]
    assert server.log[-1]["path"] == f"/openalex/works/pmid:{work.pmid}"


def test_citing_works_are_paged_with_a_cursor_newest_first(server, monkeypatch):
    import specter_desk.sync.openalex as module

    client = openalex(server)
    target = "W2400928773"  # cited by most of the set
    everything = list(client.citing([target], limit=1000))
    server.log.clear()
    monkeypatch.setattr(module, "PER_PAGE", 4)
    paged = list(client.citing([target], limit=1000))
    assert [w.id for w in paged] == [w.id for w in everything]
    assert len(everything) > 8
    cursors = [r["query"]["cursor"] for r in server.requests("/openalex/works")]
    assert cursors[0] == "*" and len(set(cursors)) == len(cursors)
    assert len(cursors) == -(-len(everything) // 4)
    dates = [w.publication_date for w in paged]
    assert dates == sorted(dates, reverse=True)
    assert all(target in w.references for w in paged)


def test_citing_stops_at_the_limit(server):
    found = list(openalex(server).citing(["W2400928773"], limit=3))
    assert len(found) == 3


def test_the_recorded_empty_cites_page_parses_to_nothing(server):
    api = JsonApi("OpenAlex", server.base + "/openalex")
    page = api.get("/works", {"filter": "cites:W3209445140", "page": 1, "per_page": 50})
    assert page["meta"]["count"] == 0 and page["results"] == []
    assert list(openalex(server).citing(["W3209445140"], limit=50)) == []


def test_title_search_narrows_by_year(server):
    work = donners_works()[3]
    found = openalex(server).search_title(work.title, work.year)
    assert work.id in {w.id for w in found}
    assert f"publication_year:{work.year - 1}-{work.year + 1}" in server.log[-1]["query"]["filter"]


# -- Crossref and Semantic Scholar --------------------------------------------------------------


def test_crossref_reference_list_keeps_entries_with_a_doi(server):
    found = Crossref.connect(server.base + "/crossref", min_interval=0).work(CROSSREF_ONLY_DOI)
    raw = load_json(FIXTURES / "crossref" / "works_10.1371-journal.pone.0033693.json")["message"]
    with_doi = [r for r in raw["reference"] if r.get("DOI")]
    assert len(found.references) == len(with_doi) and found.without_doi == len(
        raw["reference"]
    ) - len(with_doi)
    assert found.references[0].id == f"doi:{with_doi[0]['DOI'].lower()}"
    assert found.work.doi == CROSSREF_ONLY_DOI and found.work.year == 2012


def test_crossref_unknown_doi_is_none(server):
    # the recorded 404 is plain text "Resource not found."
    assert Crossref.connect(server.base + "/crossref", min_interval=0).work("10.1371/nope") is None


def test_crossref_and_openalex_agree_on_the_cross_source_work():
    base = FIXTURES / "cross_source"
    name = "10.1023-a-1007154515475"
    crossref = parse_message(load_json(base / f"{name}.crossref.json")["message"])
    work = parse_work(load_json(base / f"{name}.openalex.json"))
    assert crossref.work.doi == work.doi == "10.1023/a:1007154515475"
    assert len(crossref.references) >= 30 and len(work.references) == 36


def test_semantic_scholar_references_follow_next_and_dedupe(server):
    client = SemanticScholar.connect(server.base + "/s2", min_interval=0)
    refs = client.references("10.2139/ssrn.2250500")
    pages = [
        json.loads((FIXTURES / "semanticscholar" / f"references_title_offset{o}.json").read_text())
        for o in (0, 50)
    ]
    ids = {
        r["citedPaper"]["paperId"] for p in pages for r in p["data"] if r["citedPaper"]["paperId"]
    }
    assert {w.id for w in refs} == {f"s2:{i}" for i in ids}
    assert [r["query"]["offset"] for r in server.requests("/s2/")] == ["0", "50"]
    assert client.references("10.1/not-there") is None


# -- bad answers: one clear line each, retries where they can help ------------------------------


def test_429_with_retry_after_waits_then_succeeds(server):
    waits = []
    server.fail("/works/W2741809807", status=429, headers={"Retry-After": "0"}, times=2)
    work = openalex(server, on_wait=lambda s, why: waits.append((s, why))).work("W2741809807")
    assert work is not None
    assert waits == [(0.0, "OpenAlex rate-limited (429)")] * 2


def test_retry_after_as_an_http_date_is_honoured(server):
    waits = []
    when = formatdate(time.time() + 1, usegmt=True)
    server.fail("/works/W2741809807", status=429, headers={"Retry-After": when})
    openalex(server, on_wait=lambda s, why: waits.append(s)).work("W2741809807")
    assert len(waits) == 1 and 0 <= waits[0] <= 1.5


def test_429_that_never_ends_is_one_line_after_capped_retries(server):
    server.fail("/works/W2741809807", status=429, headers={"Retry-After": "0"}, times=50)
    with pytest.raises(CitationSourceError, match=r"^OpenAlex keeps rate-limiting \(HTTP 429"):
        openalex(server).work("W2741809807")
    assert len(server.requests("/works/W2741809807")) == 5  # MAX_ATTEMPTS, not forever


def test_a_503_is_retried(server):
    server.fail("/works/W2741809807", status=503)
    assert openalex(server).work("W2741809807") is not None


def test_a_400_is_one_line_with_the_answer(server):
    server.fail("/works/W2741809807", status=400, body=b'{"error": "Invalid query parameters"}')
    with pytest.raises(CitationSourceError, match=r"^OpenAlex answered HTTP 400 .*Invalid query"):
        openalex(server).work("W2741809807")


def test_garbage_json_is_one_line(server):
    server.fail("/works/W2741809807", mode="garbage")
    with pytest.raises(CitationSourceError, match=r"^OpenAlex sent a malformed answer .*not JSON"):
        openalex(server).work("W2741809807")


def test_a_list_without_results_is_one_line(server):
    server.fail("/openalex/works?", status=200, body=b'{"meta": {}}')
    with pytest.raises(CitationSourceError, match="without a results list"):
        openalex(server).works("doi", ["10.1056/nejmoa1511769"])


def test_a_dropped_connection_is_retried(server):
    server.fail("/works/W2741809807", mode="drop")
    assert openalex(server).work("W2741809807") is not None


def test_a_truncated_body_is_retried(server):
    server.fail("/works/W2741809807", mode="truncate")
    assert openalex(server).work("W2741809807") is not None


def test_a_connection_that_keeps_dropping_is_one_line(server):
    server.fail("/works/W2741809807", mode="truncate", times=10)
    with pytest.raises(CitationSourceError, match=r"^the connection to OpenAlex failed 5 times"):
        openalex(server).work("W2741809807")


def test_nothing_listening_is_one_line_naming_the_setting():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    client = OpenAlex.connect(f"http://127.0.0.1:{port}", min_interval=0)
    with pytest.raises(CitationSourceError, match=r"^cannot reach OpenAlex at .*openalex_url"):
        client.work("W1")


def test_a_stop_request_ends_a_wait(server):
    server.fail("/works/W2741809807", status=429, headers={"Retry-After": "60"})
    client = openalex(server, should_stop=lambda: len(server.log) >= 1)
    started = time.monotonic()
    with pytest.raises(Stopped):
        client.work("W2741809807")
    assert time.monotonic() - started < 5


def test_titles_lose_their_markup_but_not_their_symbols():
    raw = next(
        w
        for w in load_json(FIXTURES / "openalex" / "donners_works.json.gz")
        if w["id"].endswith("W3003302859")
    )
    assert raw["title"].startswith("&lt;p&gt;")  # as OpenAlex recorded it
    work = parse_work(raw)
    assert work.title.startswith("Clinical Evidence and Safety Profile of Emicizumab")
    assert "&lt;" not in work.title and "</p>" not in work.title
    assert plain_text("effect (p < 0.05) when a<b and c>d") == "effect (p < 0.05) when a<b and c>d"
    assert plain_text('<jats:p xml:lang="en">A <i>B</i></jats:p>') == "A B"


def test_a_404_where_a_list_was_expected_is_one_line_with_the_page_title(server):
    page = (FIXTURES / "openalex" / "works_doi_not_in_openalex_404.html").read_bytes()
    server.fail("/openalex/works?", status=404, body=page, headers={"Content-Type": "text/html"})
    with pytest.raises(CitationSourceError) as caught:
        openalex(server).works("doi", ["10.1056/nejmoa1511769"])
    assert str(caught.value) == "OpenAlex answered HTTP 404 for /works: 404 Not Found"
