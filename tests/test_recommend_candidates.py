"""Candidate pools: `candidates add FILE`, `candidates fetch arxiv` against a fake arXiv API on
127.0.0.1 (real HTTP, real Atom), the fetch cache, and recommendations that work offline."""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from specter_desk.cli import app
from specter_desk.errors import InputError, SyncError
from specter_desk.services import candidates as cand
from specter_desk.store import Store
from specter_desk.sync import arxiv as arxiv_source

FIXTURE = Path(__file__).parent / "fixtures" / "arxiv" / "cs_CL.atom"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
runner = CliRunner()


class FakeArxiv:
    """Serves the fixture feed, paged by start/max_results; records every request."""

    def __init__(self) -> None:
        text = FIXTURE.read_text(encoding="utf-8")
        self.head = text[: text.index("<entry>")]
        self.entries = re.findall(r"<entry>.*?</entry>", text, flags=re.S)
        self.requests: list[dict[str, str]] = []
        self.mode = "ok"  # ok | fail-once | error-feed | garbage | down
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                fake.requests.append(query)
                status, body = fake.answer(query)
                self.send_response(status)
                self.send_header("Content-Type", "application/atom+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/query"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, query: dict[str, str]) -> tuple[int, bytes]:
        if self.mode == "fail-once":
            self.mode = "ok"
            return 503, b"busy"
        if self.mode == "garbage":
            return 200, b"<html>not a feed"
        if self.mode == "error-feed":
            entry = (
                "<entry><id>http://arxiv.org/api/errors#incorrect_id_format</id>"
                "<title>Error</title><summary>incorrect id format for 1234</summary></entry>"
            )
            return 200, (self.head + entry + "</feed>").encode()
        start, size = int(query.get("start", 0)), int(query.get("max_results", 10))
        page = self.entries[start : start + size]
        return 200, (self.head + "\n".join(page) + "\n</feed>").encode()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def arxiv(monkeypatch):
    fake = FakeArxiv()
    monkeypatch.setenv("SPECTER_DESK_ARXIV_URL", fake.url)
    yield fake
    fake.close()


def fetch(store, **kwargs):
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("retry_wait", 0)
    return cand.fetch_arxiv(store, "cs.CL", 7, **kwargs)


def test_fetch_stores_arxiv_papers_as_candidates(store, arxiv):
    result = fetch(store)
    assert (result.papers, result.cached) == (5, False)
    assert result.import_result.added == 5
    query = arxiv.requests[0]
    assert query["search_query"] == "cat:cs.CL AND submittedDate:[202611181200 TO 202611251200]"
    assert query["sortBy"] == "submittedDate"
    specter = store.get_paper("arxiv:2004.07180")
    assert specter.pool == "candidates" and specter.library == "arxiv"
    assert specter.arxiv_id == "2004.07180"
    assert specter.title == (
        "SPECTER: Document-level Representation Learning using Citation-informed Transformers"
    )
    assert specter.abstract.startswith("Representation learning is a critical ingredient")
    assert [c["name"] for c in specter.creators][:2] == ["Arman Cohan", "Sergey Feldman"]
    assert specter.venue == "ACL 2020" and specter.year == 2020
    assert specter.date_added == "2020-04-15T16:05:51Z"
    assert store.get_paper("arxiv:1706.03762").venue == "arXiv cs.CL"
    assert store.keys_in_pool("library") == set()


def test_fetch_follows_pages(store, arxiv, monkeypatch):
    monkeypatch.setattr(arxiv_source, "PAGE_SIZE", 2)
    result = fetch(store)
    assert result.papers == 5
    assert [q["start"] for q in arxiv.requests] == ["0", "2", "4"]


def test_a_fresh_fetch_is_reused_without_the_network(store, arxiv):
    fetch(store)
    again = fetch(store)
    assert again.cached and again.papers == 5
    assert len(arxiv.requests) == 1
    fetch(store, refresh=True)
    assert len(arxiv.requests) == 2


def test_offline_refresh_keeps_the_papers_fetched_before(store, arxiv):
    fetch(store)
    arxiv.close()
    result = fetch(store, refresh=True)
    assert result.cached and result.papers == 5
    assert "cannot reach the arXiv API" in result.warning
    assert len(store.keys_in_pool("candidates")) == 5


def test_offline_without_a_cache_is_a_clear_error(store, arxiv):
    arxiv.close()
    with pytest.raises(SyncError, match="cannot reach the arXiv API"):
        fetch(store)


def test_a_busy_server_is_retried(store, arxiv):
    arxiv.mode = "fail-once"
    assert fetch(store).papers == 5
    assert len(arxiv.requests) == 2


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("error-feed", "reported an error: incorrect id format"),
        ("garbage", "malformed Atom feed"),
    ],
)
def test_bad_answers_are_sync_errors_and_store_nothing(store, arxiv, mode, message):
    arxiv.mode = mode
    with pytest.raises(SyncError, match=message):
        fetch(store)
    assert store.keys_in_pool("candidates") == set()


def test_bad_category_and_url_are_input_errors(store, monkeypatch):
    with pytest.raises(InputError, match="category"):
        cand.fetch_arxiv(store, "cs.CL; drop", 7)
    monkeypatch.setenv("SPECTER_DESK_ARXIV_URL", "file:///etc/passwd")
    with pytest.raises(InputError, match="http"):
        cand.fetch_arxiv(store, "cs.CL", 7)


# -- the CLI ----------------------------------------------------------------------------------


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_cli_candidates_add_list_and_errors(home, tmp_path):
    feed = write_jsonl(
        tmp_path / "feed.jsonl",
        [
            {"key": "F1", "title": "Neural machine translation by jointly learning to align"},
            {"key": "F2", "title": "Distributed representations of words and phrases"},
        ],
    )
    result = runner.invoke(app, ["candidates", "add", str(feed), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "format": "jsonl",
        "added": 2,
        "updated": 0,
        "unchanged": 0,
        "clashes": [],
        "skipped": [],
    }
    store = Store(home / "library.db")
    assert store.keys_in_pool("candidates") == {"F1", "F2"}
    assert store.keys_in_pool("library") == set()
    store.close()
    listed = json.loads(runner.invoke(app, ["candidates", "list", "--json"]).stdout)
    assert listed["sources"] == [{"library": "file:feed.jsonl", "papers": 2}]

    missing = runner.invoke(app, ["candidates", "add", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    odd = tmp_path / "refs.xyz"
    odd.write_text("?")
    unsupported = runner.invoke(app, ["candidates", "add", str(odd)])
    assert unsupported.exit_code == 2 and "unknown file format" in unsupported.output
    assert len(unsupported.output.strip().splitlines()) == 1


def test_cli_fetch_then_recommend_offline(home, tmp_path, arxiv, tiny_model):
    result = runner.invoke(
        app, ["candidates", "fetch", "arxiv", "--category", "cs.CL", "--days", "7", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["papers"] == 5
    arxiv.close()  # from here on, no network
    library = write_jsonl(
        tmp_path / "lib.jsonl",
        [
            {
                "key": "L1",
                "title": "Transformers for sentence embeddings",
                "date_added": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        ],
    )
    assert runner.invoke(app, ["import", str(library)]).exit_code == 0
    rec = runner.invoke(app, ["recommend", "--model", "tiny", "--json", "-n", "3"])
    assert rec.exit_code == 0, rec.output
    data = json.loads(rec.stdout)
    assert len(data["results"]) == 3
    assert all(r["key"].startswith("arxiv:") for r in data["results"])
    assert all(r["because"][0]["key"] == "L1" for r in data["results"])
    listed = json.loads(runner.invoke(app, ["candidates", "list", "--json"]).stdout)
    assert listed["arxiv_fetches"][0]["papers"] == 5


def test_cli_fetch_errors_are_one_line(home, arxiv):
    arxiv.close()
    down = runner.invoke(app, ["candidates", "fetch", "arxiv", "--category", "cs.CL"])
    assert down.exit_code == 6
    assert "cannot reach the arXiv API" in down.output
    assert len(down.output.strip().splitlines()) == 1
    unknown = runner.invoke(app, ["candidates", "fetch", "pubmed"])
    assert unknown.exit_code == 2 and "unknown candidate source" in unknown.output


def test_cli_candidates_add_bibtex(home, tmp_path):
    bib = tmp_path / "reading.bib"
    bib.write_text(
        "@article{vaswani2017,\n  title = {Attention Is All You Need},\n"
        "  author = {Vaswani, Ashish and Shazeer, Noam},\n  year = {2017},\n"
        "  eprint = {1706.03762},\n  archivePrefix = {arXiv}\n}\n"
        "@inproceedings{cohan2020,\n  title = {{SPECTER}: Document-level Representation "
        "Learning using Citation-informed Transformers},\n  author = {Cohan, Arman},\n"
        "  booktitle = {ACL},\n  year = {2020},\n  doi = {10.18653/v1/2020.acl-main.207}\n}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["candidates", "add", str(bib)])
    assert result.exit_code == 0, result.output
    assert "(bibtex): 2 added" in result.output
    store = Store(home / "library.db")
    papers = list(store.papers(pool="candidates"))
    store.close()
    assert {p.library for p in papers} == {"file:reading.bib"}
    assert {p.year for p in papers} == {2017, 2020}
    assert "10.18653/v1/2020.acl-main.207" in {p.doi for p in papers}


def test_days_out_of_range_is_an_input_error(store):
    with pytest.raises(InputError, match="--days"):
        cand.fetch_arxiv(store, "cs.CL", 0)
