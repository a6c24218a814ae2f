"""The Zotero readers on what a real Zotero 10.0.0 wrote and answered (tests/fixtures/zotero10,
recorded by tests/real_zotero/record_fixtures.py): the local API exchanges of two syncs
replayed byte for byte, zotero.sqlite with the -wal Zotero left beside it, and the fake local
API (tests/fake_zotero.py) checked against the recorded answers."""

from __future__ import annotations

import gzip
import hashlib
import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from fake_zotero import FakeZotero

from specter_desk.config import Config
from specter_desk.desk import Desk
from specter_desk.sync import run_sync

FIXTURES = Path(__file__).parent / "fixtures" / "zotero10"
RECORDED = json.loads((FIXTURES / "local_sync.json").read_text(encoding="utf-8"))
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))


class Replay:
    """An HTTP server that answers recorded exchanges in their order, and notes any request
    that is not the next one recorded."""

    def __init__(self) -> None:
        self.exchanges: list[dict] = []
        self.wrong: list[str] = []
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - http.server's name
                expected = replay.exchanges.pop(0) if replay.exchanges else None
                if expected is None or expected["path"] != self.path:
                    replay.wrong.append(self.path)
                    body, status, headers = b"not recorded", 599, {}
                else:
                    body = expected["body"].encode()
                    status, headers = expected["status"], expected["headers"]
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def replay():
    server = Replay()
    yield server
    server.close()


def make_desk() -> Desk:
    return Desk(Config.load())


def stored_papers(desk: Desk, library: str) -> list[dict]:
    keys = desk.store.versions(library, include_deleted=True)
    papers = desk.store.get_papers(keys)
    return sorted(
        ({"key": k, "title": p.title, "deleted": p.deleted} for k, p in papers.items()),
        key=lambda p: p["key"],
    )


def test_the_recording_is_zotero_10_with_its_local_versions():
    assert RECORDED["zotero"] == "10.0.0"
    first = RECORDED["first_sync"]["exchanges"][0]
    assert first["headers"]["Zotero-Server-ID"] == RECORDED["server_id"]
    assert int(first["headers"]["Last-Modified-Version"]) > 0
    versions = json.loads(first["body"])
    assert max(versions.values()) <= int(first["headers"]["Last-Modified-Version"])


def test_local_sync_on_zotero_10s_recorded_answers(home, replay, monkeypatch):
    monkeypatch.setenv("SPECTER_DESK_ZOTERO_LOCAL_URL", replay.url)
    desk = make_desk()
    for part in ("first_sync", "second_sync"):
        replay.exchanges = list(RECORDED[part]["exchanges"])
        result = run_sync(desk, "local", embed=False)
        assert replay.wrong == [], f"{part}: requests the recording does not have"
        assert replay.exchanges == [], f"{part}: recorded requests the sync did not make"
        got = {k: getattr(result, k) for k in ("added", "updated", "deleted", "requests")}
        assert got == RECORDED[part]["result"], part
    stored = stored_papers(desk, "local")
    kept = {p["key"] for p in EXPECTED}
    assert [p for p in stored if p["key"] in kept] == EXPECTED
    erased = [p for p in stored if p["key"] not in kept]
    assert erased and all(p["deleted"] for p in erased), "erased in Zotero: flagged deleted"
    state = desk.store.sync_state("local")
    assert state["details"]["server_id"] == RECORDED["server_id"]
    last = RECORDED["second_sync"]["exchanges"][0]["headers"]["Last-Modified-Version"]
    assert state["version"] == int(last)


def _unpack(tmp_path: Path, with_wal: bool = True) -> Path:
    data = tmp_path / "Zotero"
    data.mkdir()
    names = ("zotero.sqlite", "zotero.sqlite-wal") if with_wal else ("zotero.sqlite",)
    for name in names:
        (data / name).write_bytes(gzip.decompress((FIXTURES / f"{name}.gz").read_bytes()))
    return data / "zotero.sqlite"


def test_sqlite_sync_reads_zotero_10s_database_and_its_wal(home, tmp_path):
    path = _unpack(tmp_path)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in path.parent.iterdir()}
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(f'[zotero]\nsqlite_path = "{path}"\n')
    desk = make_desk()
    run_sync(desk, "sqlite", embed=False)
    assert stored_papers(desk, "sqlite") == EXPECTED
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in path.parent.iterdir()}
    assert after == before, "Zotero's files are only read"


def test_the_recorded_database_is_schema_129_and_the_wal_holds_the_latest_changes(tmp_path):
    path = _unpack(tmp_path, with_wal=False)
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        schema = dict(conn.execute("SELECT schema, version FROM version"))
        titles = {r[0] for r in conn.execute("SELECT value FROM itemDataValues")}
    finally:
        conn.close()
    assert schema["userdata"] == 129
    edited = {p["title"] for p in EXPECTED} - titles
    assert edited, "some of the last changes are in the -wal only (why the reader copies it)"


def _fake_answer(fake: FakeZotero, path: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(fake.base + path, headers=headers, timeout=10)


@pytest.mark.parametrize(
    "name",
    ["listing", "trash_listing", "not_modified", "another_database", "local_api_off"],
)
def test_the_fake_local_api_answers_as_zotero_10_did(name):
    first = RECORDED["first_sync"]["exchanges"]
    recorded = {
        "listing": first[0],
        "trash_listing": first[1],
        **RECORDED["other_answers"],
    }[name]
    with FakeZotero(local=True, api_key=None, server_id=RECORDED["server_id"]) as fake:
        for entry in EXPECTED:
            fake.add_item(key=entry["key"], title=entry["title"])
        fake.local_api_enabled = name != "local_api_off"
        headers = dict(recorded["request_headers"])
        if "If-Modified-Since-Version" in headers:
            headers["If-Modified-Since-Version"] = str(fake.library().version)
        answer = _fake_answer(fake, recorded["path"], headers)
    assert answer.status_code == recorded["status"]
    wanted = {"last-modified-version", "zotero-server-id", "total-results", "content-type"}
    real = {h.lower() for h in recorded["headers"]} & wanted
    assert {h.lower() for h in answer.headers} & wanted == real
    if recorded["headers"].get("Content-Type") == "text/plain":
        assert answer.text == recorded["body"]
    elif recorded["status"] == 200:
        assert isinstance(answer.json(), type(json.loads(recorded["body"])))
