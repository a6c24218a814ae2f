"""The bridge against a real uvicorn server on a free 127.0.0.1 port, with a demo library of a few
dozen papers embedded by the tiny model, and a real sync worker reading a JSONL file."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from server_helpers import Bridge, LiveServer, demo_subset, free_port, wait_for, write_jsonl

from specter_desk.embed.pipeline import embed_missing
from specter_desk.server.app import BridgeContext, create_api, create_app
from specter_desk.server.daemon import _refresh_indexes
from specter_desk.server.schemas import MAX_BODY_BYTES
from specter_desk.server.token import ensure_token, read_token, token_path
from specter_desk.server.worker import SyncWorker
from specter_desk.sync.writer import import_papers

OPENAPI = Path(__file__).resolve().parents[1] / "bridge" / "openapi.json"


class Gate:
    """Holds a sync in the middle of its embedding step until the test opens it."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.open = threading.Event()
        self.open.set()

    def close(self) -> None:
        self.open.clear()
        self.reached.clear()

    def progress(self, stage: str, done: int, total: int) -> None:
        if stage.startswith("embedding") and done > 0 and not self.open.is_set():
            self.reached.set()
            assert self.open.wait(60), "the test never opened the gate"


@contextmanager
def running_bridge(desk, papers, tmp_path, *, runner=None) -> Iterator[tuple[Bridge, Gate]]:
    """A bridge on 40 library papers + 30 candidates; its sync worker reads 40 more from a file."""
    library = demo_subset(papers, 0, 40, recent=8)
    candidates = demo_subset(papers, 40, 70, pool="candidates", library="file:feed.jsonl")
    import_papers(desk.store, library + candidates)
    embed_missing(desk.store, desk.encoder())
    desk.index(refresh=True)
    incoming = write_jsonl(tmp_path / "more.jsonl", demo_subset(papers, 70, 110))
    gate = Gate()
    worker_desk = desk.sibling()

    def file_runner(library, on_progress, should_stop):
        from specter_desk.sync import run_sync

        def progress(stage, done, total):
            on_progress(stage, done, total)
            gate.progress(stage, done, total)

        return run_sync(
            worker_desk, str(incoming), on_progress=progress, should_stop=should_stop
        ).to_dict()

    worker = SyncWorker(
        runner or file_runner, nice=0, on_committed=lambda: _refresh_indexes(worker_desk)
    )
    ctx = BridgeContext(desk, worker)
    token = ensure_token(desk.paths.data_dir)
    port = free_port()
    server = LiveServer(create_app(ctx, token=lambda: token, port=port), port)
    client = httpx.Client(
        base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {token}"}
    )
    worker.start()
    try:
        with server:
            yield Bridge(server.url, token, port, ctx, client), gate
    finally:
        gate.open.set()
        worker.stop(10)
        client.close()
        ctx.close()
        worker_desk.close()


_PAPERS: list = []


def demo_papers_once() -> list:
    """The first 120 demo papers (parsed once)."""
    if not _PAPERS:
        from specter_desk.sync.demo import demo_papers

        _PAPERS.extend(demo_papers()[:120])
    return _PAPERS


@pytest.fixture
def papers() -> list:
    return demo_papers_once()


@pytest.fixture(scope="module")
def shared_bridge(tmp_path_factory, tiny_model) -> Iterator[Bridge]:
    """One bridge for the tests that only read (or undo what they write)."""
    from specter_desk.config import Config
    from specter_desk.desk import Desk

    root = tmp_path_factory.mktemp("bridge")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SPECTER_DESK_HOME", str(root / "home"))
        config = Config.load()
        config.values["model"]["name"] = "tiny"
        desk = Desk(config, notice=lambda message: None)
        with running_bridge(desk, demo_papers_once(), root) as (bridge, _):
            yield bridge
        desk.close()


@pytest.fixture
def bridge(shared_bridge) -> Bridge:
    return shared_bridge


@pytest.fixture
def bridge_and_gate(desk, papers, tmp_path) -> Iterator[tuple[Bridge, Gate]]:
    """A bridge of its own (for tests that sync)."""
    with running_bridge(desk, papers, tmp_path) as pair:
        yield pair


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert "Traceback" not in body["error"]["message"]
    return body["error"]["code"]


def wait_sync_done(bridge: Bridge, timeout: float = 60) -> dict:
    def done():
        status = bridge.client.get("/v1/sync").json()
        return status if status["state"] in ("idle", "failed") else None

    return wait_for(done, timeout=timeout, step=0.1)


# -- every endpoint on the demo library -------------------------------------------------


def test_health_needs_no_token_and_tells_nothing(bridge):
    with bridge.anonymous() as anon:
        response = anon.get("/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": "0.1.0"}


def test_status_counts_the_library_and_vectors(bridge):
    data = bridge.client.get("/v1/status").json()
    assert data["papers"] == 40 and data["candidates"] == 30
    assert data["vectors"] == {"tiny": 70}
    assert data["model"] == "tiny"
    assert data["sync"]["state"] == "idle"


def test_related_returns_neighbours_of_a_library_paper(bridge, papers):
    key = papers[3].key
    response = bridge.client.get(f"/v1/papers/{key}/related", params={"k": 5})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["item"]["key"] == key and data["model"] == "tiny"
    assert data["item"]["has_abstract"] == bool(papers[3].abstract)
    assert len(data["related"]) == 5
    assert key not in [hit["key"] for hit in data["related"]]
    scores = [hit["score"] for hit in data["related"]]
    assert scores == sorted(scores, reverse=True)
    assert {hit["pool"] for hit in data["related"]} <= {"library", "candidates"}


def test_related_unknown_key_is_404(bridge):
    response = bridge.client.get("/v1/papers/NOSUCHKEY/related")
    assert response.status_code == 404 and error_code(response) == "not_found"


def test_related_paper_without_vector_is_409_not_embedded(bridge):
    from specter_desk.models import Paper

    store = bridge.ctx.desk.store
    store.upsert_papers([Paper(key="FRESH001", title="A paper just added", library="demo")])
    try:
        response = bridge.client.get("/v1/papers/FRESH001/related")
        assert response.status_code == 409 and error_code(response) == "not_embedded"
    finally:
        store.mark_deleted(["FRESH001"])


def test_related_unknown_model_is_a_clean_404(bridge, papers):
    response = bridge.client.get(f"/v1/papers/{papers[0].key}/related", params={"model": "nope"})
    assert response.status_code == 404 and error_code(response) == "not_found"
    assert "known models" in response.json()["error"]["message"]


def test_search_ranks_papers_and_hybrid_finds_one_by_its_title(bridge, papers):
    paper = papers[5]
    response = bridge.client.post("/v1/search", json={"query": paper.title, "k": 4})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["query"] == paper.title and data["model"] == "tiny"
    assert len(data["results"]) == 4
    scores = [hit["score"] for hit in data["results"]]
    assert scores == sorted(scores, reverse=True)
    # the tiny model's weights are random, so only the lexical half can find the title
    hybrid = bridge.client.post(
        "/v1/search", json={"query": paper.title, "k": 10, "hybrid": True}
    ).json()
    assert paper.key in [hit["key"] for hit in hybrid["results"]]


def test_recommendations_come_from_the_candidate_pool_with_reasons(bridge):
    response = bridge.client.get("/v1/recommendations", params={"since": "week", "n": 5})
    assert response.status_code == 200, response.text
    data = response.json()
    since = datetime.fromisoformat(data["since"].replace("Z", "+00:00"))
    assert abs((datetime.now(UTC) - since).days - 7) <= 1  # "week" resolved to a date
    assert data["ranker"] == "similarity"
    assert len(data["seeds"]) == 8
    assert 1 <= len(data["results"]) <= 5
    assert all(hit["pool"] == "candidates" and hit["because"] for hit in data["results"])


def test_recommendations_since_is_validated(bridge):
    response = bridge.client.get("/v1/recommendations", params={"since": "fortnight"})
    assert response.status_code == 422 and error_code(response) == "bad_request"
    bad_date = bridge.client.get("/v1/recommendations", params={"since": "2024-02-31"})
    assert bad_date.status_code == 422
    ahead = bridge.client.get("/v1/recommendations", params={"since": "2999-01-01"})
    assert ahead.status_code == 200
    assert ahead.json()["seeds"] == [] and "ahead" in ahead.json()["message"]
    assert bridge.client.get("/v1/recommendations", params={"since": "14d"}).status_code == 200
    old = bridge.client.get("/v1/recommendations", params={"since": "2001-01-01"})
    assert old.status_code == 200 and len(old.json()["seeds"]) == 40


def test_unknown_query_parameters_are_refused(bridge):
    response = bridge.client.get("/v1/recommendations", params={"N": 5})
    assert response.status_code == 400 and error_code(response) == "bad_request"
    assert "'N'" in response.json()["error"]["message"]


def test_request_bodies_are_strict_json(bridge):
    for body in ({"query": "x", "k": "3"}, {"query": "x", "hybrid": 1}, {"query": "x", "z": 1}):
        response = bridge.client.post("/v1/search", json=body)
        assert response.status_code == 422, body


def test_405_names_every_method_of_the_path(bridge):
    response = bridge.client.request("PUT", "/v1/sync")
    assert response.status_code == 405 and error_code(response) == "method_not_allowed"
    assert response.headers["allow"] == "GET, POST"


def test_duplicates_and_duplicate_check_on_the_library(bridge, papers):
    from dataclasses import replace

    original = papers[7]
    store = bridge.ctx.desk.store
    store.upsert_papers([replace(original, key="DUPCOPY1", library="demo")])
    try:
        clusters = bridge.client.get("/v1/duplicates").json()["clusters"]
    finally:
        store.mark_deleted(["DUPCOPY1"])
    keys = [sorted(p["key"] for p in c["papers"]) for c in clusters]
    assert sorted([original.key, "DUPCOPY1"]) in keys
    item = {
        "itemType": "journalArticle",
        "title": original.title,
        "DOI": original.doi,
        "creators": original.creators,
        "date": str(original.year),
    }
    unrelated = {"title": "Completely unrelated note about gardening tomatoes"}
    response = bridge.client.post(
        "/v1/duplicates/check", json={"items": [unrelated, {"data": item}]}
    )
    assert response.status_code == 200, response.text
    matches = response.json()["matches"]
    assert [m["index"] for m in matches] == [1]
    assert matches[0]["key"] == original.key and matches[0]["reasons"]


def test_check_of_an_item_already_synced_finds_the_other_copy_not_itself(bridge, papers):
    """The plugin checks an item Zotero just added; the daemon may have synced it already. Its
    own record is never its match (the copy it duplicates is), and a "not duplicates" mark
    between the two is respected."""
    from dataclasses import replace

    original = papers[7]
    store = bridge.ctx.desk.store
    store.upsert_papers([replace(original, key="NEWCOPY3", library="demo")])
    item = {
        "key": "NEWCOPY3",
        "itemType": "journalArticle",
        "title": original.title,
        "DOI": original.doi,
        "creators": original.creators,
        "date": str(original.year),
    }
    try:
        matches = bridge.client.post("/v1/duplicates/check", json={"items": [item]}).json()
        assert [m["key"] for m in matches["matches"]] == [original.key]
        marked = bridge.client.post(
            "/v1/duplicates/distinct", json={"keys": ["NEWCOPY3", original.key]}
        )
        assert marked.status_code == 200, marked.text
        matches = bridge.client.post("/v1/duplicates/check", json={"items": [item]}).json()
        assert matches["matches"] == []
        # without its key (a file being imported) the same record still matches
        unkeyed = {k: v for k, v in item.items() if k != "key"}
        matches = bridge.client.post("/v1/duplicates/check", json={"items": [unkeyed]}).json()
        assert {m["key"] for m in matches["matches"]} <= {original.key, "NEWCOPY3"}
        assert matches["matches"]
    finally:
        bridge.client.post(
            "/v1/duplicates/distinct", json={"keys": ["NEWCOPY3", original.key], "distinct": False}
        )
        store.mark_deleted(["NEWCOPY3"])


def test_duplicates_lists_versions_apart_and_remembers_not_duplicates(bridge, papers):
    from dataclasses import replace

    original = papers[7]
    store = bridge.ctx.desk.store
    copy = replace(original, key="DUPCOPY2", library="demo")
    preprint = replace(
        original, key="PREPRINT2", library="demo", item_type="preprint", doi=None, venue=""
    )
    store.upsert_papers([copy, preprint])
    try:
        body = bridge.client.get("/v1/duplicates").json()
        [cluster] = [c for c in body["clusters"] if "DUPCOPY2" in {p["key"] for p in c["papers"]}]
        assert cluster["kind"] == "duplicates"
        [group] = [v for v in body["versions"] if "PREPRINT2" in {p["key"] for p in v["papers"]}]
        assert group["kind"] == "versions" and group["master"] != "PREPRINT2"
        assert group["mixed_types"] is True
        marked = bridge.client.post(
            "/v1/duplicates/distinct", json={"keys": [original.key, "DUPCOPY2"]}
        )
        assert marked.status_code == 200, marked.text
        assert marked.json() == {
            "keys": sorted([original.key, "DUPCOPY2"]),
            "distinct": True,
            "pairs": 1,
            "changed": 1,
        }
        listed = bridge.client.get("/v1/duplicates/distinct").json()["pairs"]
        assert [(p["a"], p["b"]) for p in listed] == [tuple(sorted([original.key, "DUPCOPY2"]))]
        body = bridge.client.get("/v1/duplicates").json()
        assert not any(
            {original.key, "DUPCOPY2"} <= {p["key"] for p in c["papers"]} for c in body["clusters"]
        )
        undo = bridge.client.post(
            "/v1/duplicates/distinct",
            json={"keys": [original.key, "DUPCOPY2"], "distinct": False},
        )
        assert undo.json()["changed"] == 1
        assert bridge.client.get("/v1/duplicates/distinct").json() == {"pairs": []}
    finally:
        store.mark_deleted(["DUPCOPY2", "PREPRINT2"])
    for keys in (["X"], ["X", "X"]):
        refused = bridge.client.post("/v1/duplicates/distinct", json={"keys": keys})
        assert refused.status_code == 422 and error_code(refused) == "bad_request"
    unknown = bridge.client.post("/v1/duplicates/distinct", json={"keys": [original.key, "NOPE"]})
    assert unknown.status_code == 404 and "NOPE" in unknown.json()["error"]["message"]


def test_feedback_records_votes_and_counts_labels(bridge, papers):
    key = papers[2].key
    response = bridge.client.post("/v1/feedback", json={"key": key, "vote": "up"})
    assert response.status_code == 200, response.text
    assert response.json() == {"key": key, "vote": "up", "labels": {"up": 1, "down": 0}}
    down = bridge.client.post("/v1/feedback", json={"key": key, "vote": "down"}).json()
    assert down["labels"] == {"up": 0, "down": 1}
    clear = bridge.client.post("/v1/feedback", json={"key": key, "vote": "clear"}).json()
    assert clear["labels"] == {"up": 0, "down": 0}
    missing = bridge.client.post("/v1/feedback", json={"key": "NOPE", "vote": "up"})
    assert missing.status_code == 404 and error_code(missing) == "not_found"


def test_sync_runs_in_the_background_and_new_papers_become_related(bridge, papers):
    response = bridge.client.post("/v1/sync", json={})
    assert response.status_code == 202
    assert response.json()["state"] in ("queued", "running")
    status = wait_sync_done(bridge)
    assert status["state"] == "idle", status
    assert status["last_result"]["added"] == 40 and status["last_result"]["embedded"] == 40
    assert status["last_error"] is None and status["finished_at"]
    new_key = papers[75].key
    related = bridge.client.get(f"/v1/papers/{new_key}/related", params={"k": 3})
    assert related.status_code == 200, related.text
    assert bridge.client.get("/v1/status").json()["papers"] == 80


def test_requests_are_answered_while_a_sync_is_running(bridge_and_gate, papers):
    bridge, gate = bridge_and_gate
    gate.close()
    assert bridge.client.post("/v1/sync").status_code == 202
    assert gate.reached.wait(60), "the sync never reached its embedding step"
    running = bridge.client.get("/v1/sync").json()
    assert running["state"] == "running" and running["stage"].startswith("embedding")
    assert running["progress"]["done"] > 0
    # a second request while running is queued, not refused
    assert bridge.client.post("/v1/sync").json()["state"] == "running"
    key = papers[1].key

    def ask(i: int) -> tuple[int, float]:
        started = time.perf_counter()
        if i % 3 == 0:
            r = bridge.client.get(f"/v1/papers/{key}/related", params={"k": 3})
        elif i % 3 == 1:
            r = bridge.client.post("/v1/search", json={"query": "mobile phones", "k": 3})
        else:
            r = bridge.client.get("/v1/status")
        return r.status_code, time.perf_counter() - started

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(ask, range(12)))
    assert [code for code, _ in answers] == [200] * 12
    assert max(seconds for _, seconds in answers) < 10
    # reads see the last committed state: the papers were written, their vectors not yet
    status = bridge.client.get("/v1/status").json()
    assert status["papers"] == 80 and status["sync"]["state"] == "running"
    assert status["vectors"] == {"tiny": 70}
    gate.open.set()
    assert wait_sync_done(bridge)["state"] == "idle"


def test_a_failing_sync_is_reported_and_the_bridge_keeps_serving(
    desk, papers, tmp_path, monkeypatch
):
    from specter_desk.server.daemon import default_sync_runner

    monkeypatch.setenv("SPECTER_DESK_NO_KEYRING", "1")
    desk.config.values["zotero"].update(
        url=f"http://127.0.0.1:{free_port()}", api_key="k", library_id="42"
    )
    runner = default_sync_runner(desk.sibling())
    with running_bridge(desk, papers, tmp_path, runner=runner) as (bridge, _):
        assert bridge.client.post("/v1/sync", json={"library": "user"}).status_code == 202
        status = wait_sync_done(bridge)
        assert status["state"] == "failed"
        assert status["last_error"]["code"] == "zotero_unreachable", status
        assert bridge.client.get("/v1/status").json()["sync"]["state"] == "failed"
        assert bridge.client.get("/v1/health").status_code == 200
        key = papers[0].key
        assert bridge.client.get(f"/v1/papers/{key}/related").status_code == 200


# -- refused requests -------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
    ],
)
def test_missing_or_wrong_token_is_401(bridge, headers):
    with bridge.anonymous(headers=headers) as anon:
        for method, path in (
            ("GET", "/v1/status"),
            ("POST", "/v1/sync"),
            ("GET", "/v1/no/such/route"),
        ):
            response = anon.request(method, path)
            assert response.status_code == 401, (path, response.text)
            assert error_code(response) == "unauthorized"
            assert response.headers["www-authenticate"].startswith("Bearer")


def test_dns_rebinding_host_is_403(bridge):
    for host in (
        "evil.example",
        f"evil.example:{bridge.port}",
        "127.0.0.1:1",
        "127.0.0.1",
        f"localhost.evil.example:{bridge.port}",
    ):
        response = bridge.client.get("/v1/status", headers={"Host": host})
        assert response.status_code == 403, host
        assert error_code(response) == "forbidden_host"
    for host in (f"localhost:{bridge.port}", f"[::1]:{bridge.port}"):
        assert bridge.client.get("/v1/status", headers={"Host": host}).status_code == 200


def test_web_page_origins_are_403_and_no_cors_is_offered(bridge):
    for origin in (
        "https://evil.example",
        "null",
        f"http://127.0.0.1:{bridge.port}",
        "moz-extension://1234",
    ):
        response = bridge.client.get("/v1/status", headers={"Origin": origin})
        assert response.status_code == 403, origin
        assert error_code(response) == "forbidden_origin"
        assert "access-control-allow-origin" not in response.headers
    preflight = bridge.client.options(
        "/v1/search",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 403
    assert not any(h.startswith("access-control-") for h in preflight.headers)
    ok = bridge.client.get("/v1/status", headers={"Origin": "chrome://zotero"})
    assert ok.status_code == 200 and "access-control-allow-origin" not in ok.headers


def test_a_body_over_the_cap_is_413(bridge):
    big = json.dumps({"query": "x" * (MAX_BODY_BYTES + 10)})
    response = bridge.client.post(
        "/v1/search", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413 and error_code(response) == "too_large"

    def chunks():  # no Content-Length: the cap holds for chunked bodies too
        for _ in range(20):
            yield b"x" * (MAX_BODY_BYTES // 10)

    chunked = bridge.client.post(
        "/v1/search", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert chunked.status_code == 413 and error_code(chunked) == "too_large"


@pytest.mark.parametrize("params", [{"k": 10**9}, {"k": 0}, {"k": "ten"}])
def test_k_out_of_range_is_422(bridge, papers, params):
    response = bridge.client.get(f"/v1/papers/{papers[0].key}/related", params=params)
    assert response.status_code == 422 and error_code(response) == "bad_request"
    assert "k" in response.json()["error"]["message"]


def test_n_and_search_k_are_capped_too(bridge):
    assert bridge.client.get("/v1/recommendations", params={"n": 10**9}).status_code == 422
    response = bridge.client.post("/v1/search", json={"query": "x", "k": 10**9})
    assert response.status_code == 422 and error_code(response) == "bad_request"


def test_every_error_is_json_with_a_stable_code(bridge):
    cases = [
        (bridge.client.get("/v1/nope"), 404, "not_found"),
        (bridge.client.get("/"), 404, "not_found"),
        (bridge.client.delete("/v1/status"), 405, "method_not_allowed"),
        (
            bridge.client.post(
                "/v1/search", content=b"{not json", headers={"Content-Type": "application/json"}
            ),
            422,
            "bad_request",
        ),
        (bridge.client.post("/v1/search", json={"k": 3}), 422, "bad_request"),
        (bridge.client.post("/v1/search", json={"query": "   "}), 422, "bad_request"),
        (
            bridge.client.post("/v1/feedback", json={"key": "A", "vote": "maybe"}),
            422,
            "bad_request",
        ),
        (bridge.client.post("/v1/sync", json={"library": "/etc/passwd"}), 422, "bad_request"),
        (bridge.client.post("/v1/duplicates/check", json={"items": []}), 422, "bad_request"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, (response.request.url, response.text)
        assert response.headers["content-type"] == "application/json"
        assert error_code(response) == code


def test_a_malformed_content_length_is_400(bridge):
    import socket

    request = (
        f"POST /v1/search HTTP/1.1\r\nHost: 127.0.0.1:{bridge.port}\r\n"
        f"Authorization: Bearer {bridge.token}\r\nContent-Length: zz\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", bridge.port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"Traceback" not in answer


def test_an_unexpected_exception_is_500_internal_without_traceback(bridge, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("secret internals /home/user/.local")

    from specter_desk.store import Store

    monkeypatch.setattr(Store, "vector_counts", boom)  # every request thread's connection
    response = bridge.client.get("/v1/status")
    assert response.status_code == 500 and error_code(response) == "internal"
    assert "secret internals" not in response.text
    monkeypatch.undo()
    # the keep-alive connection survives the error
    assert bridge.client.get("/v1/status").status_code == 200


# -- the token file and the schema --------------------------------------------------------


def test_token_file_is_created_once_with_mode_0600(home):
    data_dir = home
    token = ensure_token(data_dir)
    assert len(token) >= 40
    assert ensure_token(data_dir) == token == read_token(data_dir)
    if os.name == "posix":
        assert stat.S_IMODE(token_path(data_dir).stat().st_mode) == 0o600
        token_path(data_dir).chmod(0o644)
        from specter_desk.errors import ConfigError

        with pytest.raises(ConfigError, match="chmod 600"):
            read_token(data_dir)


def test_openapi_json_is_up_to_date():
    """bridge/openapi.json is generated from the app: run `make openapi` after changing it."""
    current = json.dumps(create_api().openapi(), indent=2, sort_keys=True) + "\n"
    assert OPENAPI.read_text(encoding="utf-8") == current, "stale: run `make openapi`"


def test_openapi_documents_auth_and_error_bodies():
    schema = create_api().openapi()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            secured = operation.get("security") == [{"bearer": []}]
            # a feed's Atom URL carries its own token in the path (test_feeds_atom.py)
            public = path == "/v1/health" or path.startswith("/feeds/")
            assert secured == (not public), (method, path)
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/ErrorBody"), (path, status)


def test_an_empty_library_answers_every_endpoint_without_a_500(desk, tmp_path):
    """A fresh install: no papers, no vectors, no model loaded yet."""
    worker = SyncWorker(lambda *a: {}, nice=0)
    token = ensure_token(desk.paths.data_dir)
    port = free_port()
    server = LiveServer(
        create_app(BridgeContext(desk, worker), token=lambda: token, port=port), port
    )
    headers = {"Authorization": f"Bearer {token}"}
    with server, httpx.Client(base_url=server.url, headers=headers, timeout=30) as api:
        answers = {
            "status": api.get("/v1/status"),
            "related": api.get("/v1/papers/ABC/related"),
            "search": api.post("/v1/search", json={"query": "anything"}),
            "recommendations": api.get("/v1/recommendations"),
            "duplicates": api.get("/v1/duplicates"),
            "check": api.post("/v1/duplicates/check", json={"items": [{"title": "A paper"}]}),
            "distinct": api.post("/v1/duplicates/distinct", json={"keys": ["ABC", "DEF"]}),
            "feedback": api.post("/v1/feedback", json={"key": "ABC", "vote": "up"}),
            "sync": api.get("/v1/sync"),
        }
    codes = {name: r.status_code for name, r in answers.items()}
    assert codes == {
        "status": 200,
        "related": 404,
        "search": 409,
        "recommendations": 200,
        "duplicates": 200,
        "check": 200,
        "distinct": 404,
        "feedback": 404,
        "sync": 200,
    }
    assert answers["status"].json()["papers"] == 0
    assert error_code(answers["search"]) == "not_embedded"
    assert answers["recommendations"].json()["seeds"] == []
    assert answers["recommendations"].json()["message"]
    assert answers["duplicates"].json() == {"clusters": [], "versions": []}
    assert error_code(answers["distinct"]) == "not_found"
    assert answers["check"].json() == {"matches": []}
