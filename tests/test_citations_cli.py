"""The citation commands end to end (Typer runner, the fake server): citations sync|show|status,
related --by, recommend --from citing --by, graph, and their one-line errors."""

from __future__ import annotations

import json
import re
import socket

import pytest
from citation_helpers import library_papers
from fake_citations import FakeCitations
from typer.testing import CliRunner

from specter_desk.cli import app
from specter_desk.store import Store

runner = CliRunner()


@pytest.fixture
def server(home, monkeypatch):
    with FakeCitations() as fake:
        for name, value in fake.env().items():
            monkeypatch.setenv(name, value)
        yield fake


@pytest.fixture
def library(home):
    store = Store(home / "library.db")
    papers = library_papers()
    for i, paper in enumerate(papers):
        paper.collections = ["EMICIZ01"] if i < 8 else ["OTHERS01"]
    store.upsert_papers(papers)
    store.close()
    return papers


def invoke(*args: str):
    return runner.invoke(app, list(args))


def synced(server, library):
    result = invoke("citations", "sync", "--no-embed", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_sync_reports_the_match_rate_as_json(server, library):
    data = synced(server, library)
    assert (data["items"], data["matched"], data["match_rate"]) == (17, 16, 0.9412)
    assert data["by_method"]["doi"] == 13 and data["by_method"]["crossref"] == 1
    assert data["requests"]["openalex"] > 0 and data["cited_by_fetched"] == 15
    assert server.requests()[0]["query"].get("mailto") is None  # none configured


def test_sync_sends_the_configured_mailto(server, library, monkeypatch):
    monkeypatch.setenv("SPECTER_DESK_MAILTO", "me@example.org")
    synced(server, library)
    assert all(r["query"].get("mailto") == "me@example.org" for r in server.requests("/openalex"))


def test_sync_prints_the_match_rate(server, library):
    result = invoke("citations", "sync", "--no-embed")
    assert result.exit_code == 0, result.output
    assert "matched 16 of 17 papers to citation data (94.1%): 13 by DOI" in result.stdout
    assert "1 not found" in result.stdout


def test_status_after_sync(server, library):
    synced(server, library)
    data = json.loads(invoke("citations", "status", "--json").stdout)
    assert data["items"] == 17 and data["matched"] == 16 and data["edges"]["openalex"] > 100
    assert json.loads(invoke("status", "--json").stdout)["citations"] == data
    assert "citations     16 of 17 library papers matched (94.1%)" in invoke("status").stdout


def test_show_lists_cites_and_cited_by_with_library_marks(server, library):
    synced(server, library)
    result = invoke("citations", "show", "LIB00000", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["work"] == "W2400928773"
    assert data["counts"]["cited_by_in_library"] >= 5
    marked = [e for e in data["cited_by"] if e["in_library"]]
    assert marked and all(e["key"].startswith(("LIB", "PMID", "TITLE")) for e in marked)
    human = invoke("citations", "show", "LIB00000")
    assert human.exit_code == 0 and "cited by" in human.stdout


def test_show_of_an_unmatched_paper_says_what_to_do(server, library):
    synced(server, library)
    result = invoke("citations", "show", "UNKNOWN1")
    assert result.exit_code == 0
    assert "specter-desk citations sync" in result.output


def test_related_by_citations_explains_itself(server, library):
    synced(server, library)
    result = invoke("related", "LIB00000", "--by", "citations", "--json", "-k", "5")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["by"] == "citations" and len(data["related"]) == 5
    reasons = [r for row in data["related"] for r in row["reasons"]]
    assert any(r == "cites this paper" for r in reasons)
    assert any(re.match(r"cited together with it by \d+ papers?", r) for r in reasons)
    scores = [row["score"] for row in data["related"]]
    assert scores == sorted(scores, reverse=True)


def test_related_by_citations_without_data_is_one_line(server, library):
    synced(server, library)
    result = invoke("related", "UNKNOWN1", "--by", "citations")
    assert result.exit_code == 3
    assert result.output.count("\n") == 1 and "citations sync" in result.output


def test_related_by_an_unknown_mode_is_refused(library):
    result = invoke("related", "LIB00002", "--by", "vibes")
    assert result.exit_code == 2
    assert "--by must be one of auto, meaning, citations, both" in result.output


def test_related_by_both_fuses_meaning_and_citations(server, library, desk, monkeypatch):
    monkeypatch.setenv("SPECTER_DESK_MODEL", "tiny")
    synced(server, library)
    result = invoke("related", "LIB00002", "--by", "both", "--json", "-k", "8")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["related"]
    assert len(rows) == 8
    assert all(set(r["scores"]) == {"meaning", "citations"} for r in rows)
    assert any(r["scores"]["citations"] for r in rows) and any(r["scores"]["meaning"] for r in rows)


def test_recommend_from_the_citing_pool(server, library, desk, monkeypatch, home):
    monkeypatch.setenv("SPECTER_DESK_MODEL", "tiny")
    # the recorded works are from 2021 and before: widen "recent" to reach them
    (home / "config.toml").write_text("[citations]\nrecent_days = 5000\n")
    result = invoke("citations", "sync", "--json")  # embeds the new citing papers
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["embedded"] > 0
    result = invoke("recommend", "--from", "citing", "--by", "both", "--since", "5000d", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["results"] and all(r["key"].startswith("openalex:W") for r in data["results"])
    assert all(
        re.search(r"cites (\d+ of your papers|your paper)", " ".join(r["reasons"]))
        for r in data["results"]
    )


def test_recommend_from_citing_before_any_sync_says_what_to_do(library, desk, monkeypatch):
    monkeypatch.setenv("SPECTER_DESK_MODEL", "tiny")
    result = invoke("recommend", "--from", "citing", "--since", "5000d")
    assert result.exit_code == 0, result.output
    assert "citations sync" in result.output


def test_sync_with_nothing_listening_is_one_line(home, library, monkeypatch):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    monkeypatch.setenv("SPECTER_DESK_OPENALEX_URL", f"http://127.0.0.1:{port}")
    result = invoke("citations", "sync", "--no-embed")
    assert result.exit_code == 6
    line = result.output.strip()  # (a transient progress bar may leave a blank line)
    assert line.startswith("error: cannot reach OpenAlex at http://127.0.0.1:")
    assert "\n" not in line and "citations.openalex_url in config.toml" in line


def test_a_bad_base_url_is_refused(home, library, monkeypatch):
    monkeypatch.setenv("SPECTER_DESK_OPENALEX_URL", "ftp://example.org")
    result = invoke("citations", "sync")
    assert result.exit_code == 2 and "must be an http(s) URL" in result.output


def test_graph_of_an_item_writes_a_self_contained_page(server, library, tmp_path):
    synced(server, library)
    out = tmp_path / "map.html"
    result = invoke("graph", "LIB00000", "--out", str(out), "--similar", "0", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["nodes"] > 20 and summary["citation_edges"] > 20
    page = out.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)  # nothing to fetch
    assert "default-src 'none'" in page
    data = json.loads(
        re.search(r'id="map-data" type="application/json">(.*?)</script>', page, re.S).group(1)
    )
    assert len(data["nodes"]) == summary["nodes"]
    focus = [n for n in data["nodes"] if n["focus"]]
    assert focus[0]["url"] == "zotero://select/library/items/LIB00000"


def test_graph_of_a_collection(server, library, tmp_path):
    synced(server, library)
    out = tmp_path / "coll.html"
    result = invoke("graph", "--collection", "EMICIZ01", "--out", str(out), "--color", "collection")
    assert result.exit_code == 0, result.output
    assert "8 in your library" not in result.output  # the page says it, the CLI a summary
    assert out.exists() and "papers" in result.output


def test_graph_of_a_collection_by_its_name_includes_its_subcollections(
    server, library, home, tmp_path
):
    from specter_desk.models import Collection
    from specter_desk.services.citations.view import collection_papers

    synced(server, library)
    lib = library[0].library
    home_store = Store(home / "library.db")
    home_store.save_collections(
        lib, [Collection("EMICIZ01", "Digital work", library=lib),
              Collection("OTHERS01", "Platforms", parent="EMICIZ01", library=lib)],
    )  # fmt: skip
    assert len(collection_papers(home_store, "digital work")) == len(library)
    assert len(collection_papers(home_store, "Digital work/Platforms")) == len(library) - 8
    home_store.close()
    out = tmp_path / "named.html"
    result = invoke("graph", "--collection", "Digital work", "--out", str(out))
    assert result.exit_code == 0 and out.exists(), result.output
    unknown = invoke("graph", "--collection", "Nope", "--out", str(tmp_path / "x.html"))
    assert unknown.exit_code == 3, unknown.output
    assert "no collection 'Nope'; known: Digital work, Platforms" in unknown.output


def test_graph_needs_an_item_or_a_collection(home, tmp_path):
    result = invoke("graph", "--out", str(tmp_path / "x.html"))
    assert result.exit_code == 2 and "pass one ITEM or --collection NAME" in result.output


def test_graph_of_an_unknown_collection_is_one_line(library, tmp_path):
    result = invoke("graph", "--collection", "NOPE", "--out", str(tmp_path / "x.html"))
    assert result.exit_code == 3 and "no library paper is in a collection 'NOPE'" in result.output
