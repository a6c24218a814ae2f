"""Zotero web API and local API sync against the fake Zotero server (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import json
import socket
import time

import pytest
from fake_zotero import FakeZotero, load_fixture_items, synthetic_library
from pyzotero import zotero
from typer.testing import CliRunner

from specter_desk.cli import app
from specter_desk.config import Config
from specter_desk.desk import Desk
from specter_desk.errors import (
    LocalApiDisabledError,
    SyncError,
    ZoteroAuthError,
    ZoteroUnreachableError,
)
from specter_desk.sync import run_sync
from specter_desk.sync.fulltext import excerpt

USER = "user:475425"


@pytest.fixture
def fake():
    with FakeZotero(api_key="good-key") as server:
        yield server


@pytest.fixture
def web_env(home, fake, monkeypatch):
    monkeypatch.setenv("SPECTER_DESK_ZOTERO_URL", fake.url)
    monkeypatch.setenv("ZOTERO_API_KEY", "good-key")
    monkeypatch.setenv("SPECTER_DESK_NO_KEYRING", "1")
    (home).mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(f'[zotero]\nlibrary_id = "{fake.user_id}"\n')
    return fake


def make_desk(model: str | None = None) -> Desk:
    config = Config.load()
    if model:
        config.values["model"]["name"] = model
    return Desk(config, notice=lambda m: None)


def store_rows(desk: Desk) -> list[tuple]:
    return desk.store.db.execute(
        "SELECT key, library, pool, version, title, abstract, text_source, deleted, "
        "content_hash, creators, tags, collections FROM papers ORDER BY key"
    ).fetchall()


# -- the fake server itself --------------------------------------------------------------


def test_fake_server_speaks_to_unmodified_pyzotero(fake):
    fake.add_items(load_fixture_items())
    zot = zotero.Zotero(fake.user_id, "user", "good-key")
    zot.endpoint = fake.url
    first = zot.top(limit=7)
    assert len(first) == 7
    everything = zot.everything(zot.top(limit=7))  # follows Link rel="next"
    assert len(everything) == 20
    assert {i["key"] for i in everything} == {i["key"] for i in load_fixture_items()}
    assert zot.last_modified_version() == 1
    assert zot.item_versions() == {i["key"]: 1 for i in load_fixture_items()}
    key = everything[0]["key"]
    fake.delete_item(key)
    assert zot.deleted(since=1)["items"] == [key]
    bad = zotero.Zotero(fake.user_id, "user", "wrong")
    bad.endpoint = fake.url
    with pytest.raises(Exception, match="403"):
        bad.items()


# -- web API -----------------------------------------------------------------------------


def test_full_sync_maps_real_zotero_items(web_env):
    fake = web_env
    fake.add_items(load_fixture_items())
    fake.add_item(
        key="ATTACH01",
        itemType="attachment",
        parentItem="NM66T6EF",
        contentType="application/pdf",
        title="PDF",
    )
    fake.add_item(key="NOTE0001", itemType="note", note="<p>a note</p>")
    desk = make_desk()
    result = run_sync(desk, "user", embed=False)
    assert (result.library, result.added, result.updated, result.deleted) == (USER, 20, 0, 0)
    assert desk.store.get_paper("ATTACH01") is None and desk.store.get_paper("NOTE0001") is None
    real = {i["key"]: i["data"] for i in load_fixture_items()}
    for key, data in real.items():
        paper = desk.store.get_paper(key)
        assert paper.title == data["title"]
        assert paper.item_type == data["itemType"]
        assert paper.collections == data["collections"]
        assert paper.tags == [t["tag"] for t in data["tags"]]
        assert paper.text_source == ("abstract" if data.get("abstractNote") else "title")
    assert desk.store.sync_state(USER)["version"] == fake.library().version
    title_only = sum(1 for d in real.values() if not d.get("abstractNote"))
    assert title_only == 17  # the real fixture: 17 of 20 items lack an abstract
    assert desk.store.count_papers(title_only=True) == title_only


def test_no_change_sync_makes_one_request_and_embeds_nothing(web_env, tiny_model):
    fake = web_env
    synthetic_library(fake, 60)
    desk = make_desk("tiny")
    first = run_sync(desk, "user")
    assert first.added == 60 and first.embedded == 60
    before = len(fake.log)
    second = run_sync(desk, "user")
    new = fake.log[before:]
    assert len(new) == 1 and new[0]["status"] == 304
    assert new[0]["headers"]["If-Modified-Since-Version"] == str(fake.library().version)
    assert (second.added, second.updated, second.deleted, second.embedded) == (0, 0, 0, 0)
    assert second.requests == 1
    desk.close()


def test_incremental_sync_fetches_only_changes_and_embeds_only_them(web_env, tiny_model):
    fake = web_env
    keys = synthetic_library(fake, 120)
    desk = make_desk("tiny")
    run_sync(desk, "user")
    version = fake.library().version
    fake.update_item(keys[0], title="A new title about graph neural networks")
    fake.update_item(keys[1], tags=[{"tag": "only-a-tag-changed"}])
    fake.delete_item(keys[2])
    fake.trash_item(keys[3])
    new_key = fake.add_item(title="Brand new paper", abstractNote="Fresh text.")
    before = len(fake.log)
    result = run_sync(desk, "user")
    calls = fake.log[before:]
    assert [c["path"].rsplit("/", 1)[-1] for c in calls] == [
        "items",
        "items",
        "deleted",
        "fulltext",
    ]
    assert calls[0]["query"]["since"] == str(version)
    assert sorted(calls[1]["query"]["itemKey"].split(",")) == sorted(
        [keys[0], keys[1], keys[3], new_key]
    )
    assert (result.added, result.updated, result.deleted) == (1, 2, 2)
    assert result.embedded == 2  # new paper + changed title; a tag change keeps the vector
    assert desk.store.get_paper(keys[2]).deleted and desk.store.get_paper(keys[3]).deleted
    assert desk.store.get_paper(keys[0]).title.startswith("A new title")
    index = desk.index("tiny")
    assert new_key in index and keys[2] not in index and keys[3] not in index
    desk.close()


def test_restoring_from_trash_brings_the_paper_back(web_env):
    fake = web_env
    keys = synthetic_library(fake, 5)
    desk = make_desk()
    run_sync(desk, "user", embed=False)
    fake.trash_item(keys[0])
    assert run_sync(desk, "user", embed=False).deleted == 1
    fake.update_item(keys[0], deleted=0)
    assert run_sync(desk, "user", embed=False).added == 1
    assert not desk.store.get_paper(keys[0]).deleted


def test_wrong_api_key_is_one_line_error_and_store_intact(web_env, monkeypatch):
    fake = web_env
    synthetic_library(fake, 10)
    desk = make_desk()
    run_sync(desk, "user", embed=False)
    rows = store_rows(desk)
    desk.close()
    fake.update_item(next(iter(fake.library().items)), title="changed")
    monkeypatch.setenv("ZOTERO_API_KEY", "wrong-key")
    with pytest.raises(ZoteroAuthError, match="login"):
        run_sync(make_desk(), "user", embed=False)
    out = CliRunner().invoke(app, ["sync", "--no-embed"])
    assert out.exit_code == 6
    lines = out.output.strip().splitlines()
    assert len(lines) == 1 and "refused the API key" in lines[0]
    assert store_rows(make_desk()) == rows


def test_unreachable_server_is_one_line_error(home, monkeypatch):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    monkeypatch.setenv("SPECTER_DESK_ZOTERO_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("ZOTERO_API_KEY", "k")
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text('[zotero]\nlibrary_id = "1"\n')
    with pytest.raises(ZoteroUnreachableError, match="cannot reach"):
        run_sync(make_desk(), "user", embed=False)
    out = CliRunner().invoke(app, ["sync", "--no-embed"])
    assert out.exit_code == 6 and "cannot reach the Zotero web API" in out.output


def test_missing_api_key_says_how_to_log_in(home, monkeypatch):
    monkeypatch.setenv("SPECTER_DESK_NO_KEYRING", "1")
    with pytest.raises(SyncError, match="specter-desk login"):
        run_sync(make_desk(), "user", embed=False)


def test_429_and_503_with_retry_after_and_backoff_are_waited_out_visibly(web_env):
    fake = web_env
    synthetic_library(fake, 30)
    fake.inject(429, headers={"Retry-After": "1"}, path_contains="/items")
    fake.inject(503, headers={"Retry-After": "1"}, path_contains="/items")
    fake.inject(
        200,
        headers={
            "Backoff": "1",
            "Content-Type": "application/json",
            "Last-Modified-Version": str(fake.library().version),
        },
        path_contains="/fulltext",
        body="{}",
    )
    messages: list[str] = []
    started = time.monotonic()
    result = run_sync(
        make_desk(), "user", embed=False, on_progress=lambda m, d, t: messages.append(m)
    )
    assert result.added == 30
    assert time.monotonic() - started >= 2.0
    waits = [m for m in messages if "waiting" in m]
    assert any("rate-limited" in m or "back off" in m for m in waits), messages
    assert any("503" in m for m in waits), messages
    statuses = [r["status"] for r in fake.log]
    assert 429 in statuses and 503 in statuses


def test_fulltext_fills_in_papers_without_abstract(web_env, tiny_model):
    fake = web_env
    paper = fake.add_item(title="Deep learning for proteins", abstractNote="")
    other = fake.add_item(title="Has its own abstract", abstractNote="Real abstract here.")
    fake.add_item(
        key="PDFATT01",
        itemType="attachment",
        parentItem=paper,
        contentType="application/pdf",
        title="PDF",
    )
    fake.add_item(
        key="PDFATT02",
        itemType="attachment",
        parentItem=other,
        contentType="application/pdf",
        title="PDF",
    )
    body = "Deep learning for proteins " + " ".join(f"word{i}" for i in range(500))
    fake.set_fulltext("PDFATT01", body)
    fake.set_fulltext("PDFATT02", "Has its own abstract and a long body " * 20)
    desk = make_desk("tiny")
    result = run_sync(desk, "user")
    stored = desk.store.get_paper(paper)
    assert stored.text_source == "fulltext"
    assert stored.abstract == excerpt("Deep learning for proteins", body)
    assert stored.abstract.split()[0] == "word0" and len(stored.abstract.split()) == 200
    assert desk.store.get_paper(other).abstract == "Real abstract here."
    assert result.fulltext == 1 and result.embedded == 2
    # A metadata edit without an abstract keeps the full-text excerpt (and its vector).
    fake.update_item(paper, tags=[{"tag": "proteins"}])
    again = run_sync(desk, "user")
    assert desk.store.get_paper(paper).text_source == "fulltext" and again.embedded == 0
    out = CliRunner().invoke(app, ["status", "--json"])
    assert json.loads(out.output)["title_only"] == 0
    desk.close()


def test_group_library_sync(web_env):
    fake = web_env
    group = fake.library("groups", 9)
    key = fake.add_item(library=group, title="A group paper", abstractNote="x")
    result = run_sync(make_desk(), "group:9", embed=False)
    assert result.library == "group:9" and result.added == 1
    assert make_desk().store.get_paper(key).library == "group:9"
    with pytest.raises(SyncError, match="group:ID"):
        run_sync(make_desk(), "group:abc", embed=False)


def test_key_clash_with_an_imported_file_is_reported_not_overwritten(web_env, tmp_path):
    fake = web_env
    key = fake.add_item(title="From Zotero", abstractNote="z")
    jsonl = tmp_path / "mine.jsonl"
    jsonl.write_text(json.dumps({"key": key, "title": "From my file"}) + "\n")
    desk = make_desk()
    run_sync(desk, str(jsonl), embed=False)
    result = run_sync(desk, "user", embed=False)
    assert result.clashes == [key]
    assert desk.store.get_paper(key).title == "From my file"


def test_should_stop_stops_between_pages_and_the_next_sync_finishes(web_env):
    fake = web_env
    keys = synthetic_library(fake, 200)
    desk = make_desk()
    pages = []

    def progress(message, done, total):
        if message == "fetching items":
            pages.append(done)

    result = run_sync(
        desk, "user", embed=False, on_progress=progress, should_stop=lambda: len(pages) >= 2
    )
    assert result.stopped and result.added == 100
    assert desk.store.sync_state(USER)["version"] == 0  # not advanced
    before = len(fake.log)
    rest = run_sync(desk, "user", embed=False)
    fetched = sum(
        len(r["query"]["itemKey"].split(",")) for r in fake.log[before:] if "itemKey" in r["query"]
    )
    assert rest.added == 100 and fetched == 100  # committed pages are not fetched again
    assert desk.store.count_papers() == len(keys)


def test_login_checks_the_key_and_saves_it_in_a_0600_file(web_env, home, monkeypatch):
    fake = web_env
    (home / "config.toml").unlink()
    monkeypatch.delenv("ZOTERO_API_KEY")
    out = CliRunner().invoke(app, ["login", "--api-key", "wrong"])
    assert out.exit_code == 6 and "did not accept this API key" in out.output
    out = CliRunner().invoke(app, ["login", "--api-key", "good-key", "--json"])
    assert out.exit_code == 0, out.output
    saved = home / "zotero-credentials.json"
    assert json.loads(out.output)["stored_in"] == str(saved)
    assert saved.stat().st_mode & 0o777 == 0o600
    fake.add_item(title="After login", abstractNote="x")
    assert run_sync(make_desk(), "user", embed=False).library == USER
    assert CliRunner().invoke(app, ["logout"]).exit_code == 0 and not saved.exists()


def test_sync_cli_prints_a_summary(web_env, tiny_model, monkeypatch):
    monkeypatch.setenv("SPECTER_DESK_MODEL", "tiny")
    synthetic_library(web_env, 12)
    out = CliRunner().invoke(app, ["sync"])
    assert out.exit_code == 0, out.output
    assert f"synced {USER}: 12 added, 0 updated, 0 deleted, 12 embedded in" in out.output
    out = CliRunner().invoke(app, ["sync", "--json"])
    data = json.loads(out.output)
    assert data["added"] == 0 and data["requests"] == 1 and data["embedded"] == 0


# -- the local API ----------------------------------------------------------------------


@pytest.fixture
def local_fake():
    with FakeZotero(local=True, api_key=None) as server:
        yield server


@pytest.fixture
def local_env(home, local_fake, monkeypatch, tmp_path):
    monkeypatch.setenv("SPECTER_DESK_ZOTERO_LOCAL_URL", local_fake.base)
    zotero_dir = tmp_path / "Zotero"
    (zotero_dir / "storage").mkdir(parents=True)
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(f'[zotero]\nsqlite_path = "{zotero_dir / "zotero.sqlite"}"\n')
    return local_fake, zotero_dir


def test_local_sync_diffs_versions_and_flags_missing_keys(local_env):
    fake, _ = local_env
    keys = synthetic_library(fake, 80, attachment_every=4)  # 20 PDFs: items but not papers
    fake.add_item(key="NOTE0001", itemType="note", note="<p>standalone note</p>")
    desk = make_desk()
    first = run_sync(desk, "local", embed=False)
    assert first.library == "local" and first.added == 80
    assert "/api/users/0/items" in {r["path"] for r in fake.log}
    before = len(fake.log)
    # nothing changed: the two listings (outside the trash, the trash), nothing fetched
    assert run_sync(desk, "local", embed=False).requests == 2
    assert [r["path"] for r in fake.log[before:]] == [
        "/api/users/0/items",
        "/api/users/0/items/trash",
    ]
    fake.delete_item(keys[5])
    fake.update_item(keys[6], title="Edited locally")
    before = len(fake.log)
    result = run_sync(desk, "local", embed=False)
    assert (result.added, result.updated, result.deleted) == (0, 1, 1)
    assert fake.log[before + 2]["query"]["itemKey"] == keys[6]
    assert "/deleted" not in str([r["path"] for r in fake.log])
    assert desk.store.get_paper(keys[5]).deleted


def test_local_sync_sees_the_trash_although_zotero_10_keeps_the_versions(local_env):
    """Zotero 10.0 moves an item to the trash without changing its version or the library's,
    and itemKey= never returns it: the trash listing is what shows it."""
    fake, _ = local_env
    keys = synthetic_library(fake, 10)
    desk = make_desk()
    run_sync(desk, "local", embed=False)
    version = fake.library().version
    fake.trash_item(keys[2])
    assert fake.library().version == version
    result = run_sync(desk, "local", embed=False)
    assert (result.added, result.updated, result.deleted) == (0, 0, 1)
    assert desk.store.get_paper(keys[2]).deleted
    fake.update_item(keys[2], deleted=0)  # restored: Zotero bumps the version then
    result = run_sync(desk, "local", embed=False)
    assert (result.added, result.deleted) == (1, 0)
    assert not desk.store.get_paper(keys[2]).deleted


def test_a_restored_backup_of_the_same_database_is_compared_in_full(local_env):
    fake, _ = local_env
    keys = synthetic_library(fake, 12)
    desk = make_desk()
    run_sync(desk, "local", embed=False)
    assert desk.store.sync_state("local")["version"] == fake.library().version
    fake.library().version -= 1  # the same Zotero-Server-ID, an older library version
    before = len(fake.log)
    result = run_sync(desk, "local", embed=False)
    fetched = sum(
        len(r["query"]["itemKey"].split(",")) for r in fake.log[before:] if "itemKey" in r["query"]
    )
    assert fetched == len(keys) and result.unchanged == len(keys)


def test_zotero_7_to_9_local_versions_do_not_move_so_everything_is_compared(home, monkeypatch):
    """Without Zotero-Server-ID (Zotero 7-9) the local API's versions are synced versions,
    which a local edit leaves alone: every sync compares every item."""
    with FakeZotero(local=True, api_key=None, server_id=None) as fake:
        monkeypatch.setenv("SPECTER_DESK_ZOTERO_LOCAL_URL", fake.base)
        keys = synthetic_library(fake, 8)
        desk = make_desk()
        run_sync(desk, "local", embed=False)
        item = fake.library().items[keys[3]]
        item["data"]["title"] = "Edited in Zotero 8, version unchanged"
        result = run_sync(desk, "local", embed=False)
        assert (result.updated, result.unchanged) == (1, 7)
        assert desk.store.get_paper(keys[3]).title == "Edited in Zotero 8, version unchanged"


def test_zotero_dying_mid_answer_is_zotero_not_running_not_a_malformed_reply(local_env):
    """Killed while it answers, Zotero leaves a JSON body cut short: asked again, nothing
    answers, and the error says Zotero is not running (as the real-Zotero kill test saw)."""
    fake, _ = local_env
    synthetic_library(fake, 5)
    fake.inject(200, headers={"Content-Type": "application/json"}, body='{"ABCD2345": 1, "EF')

    def die(_request):
        fake.on_request = None
        fake.refuse_connections()

    fake.on_request = die
    with pytest.raises(ZoteroUnreachableError, match="Zotero is not running"):
        run_sync(make_desk(), "local", embed=False)


def test_local_api_switched_off_names_the_setting(local_env):
    fake, _ = local_env
    fake.local_api_enabled = False
    with pytest.raises(LocalApiDisabledError, match="Allow other applications"):
        run_sync(make_desk(), "local", embed=False)
    out = CliRunner().invoke(app, ["sync", "--library", "local"])
    assert out.exit_code == 6 and "localAPI.enabled" in out.output.replace("\n", "")


def test_zotero_not_running_is_a_clear_error(home, monkeypatch):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    monkeypatch.setenv("SPECTER_DESK_ZOTERO_LOCAL_URL", f"http://127.0.0.1:{port}")
    with pytest.raises(ZoteroUnreachableError, match="Zotero is not running"):
        run_sync(make_desk(), "local", embed=False)


def test_local_server_id_change_compares_everything_again(local_env):
    fake, _ = local_env
    keys = synthetic_library(fake, 20)
    desk = make_desk()
    run_sync(desk, "local", embed=False)
    assert desk.store.sync_state("local")["details"]["server_id"] == "fakeserver1"
    fake.server_id = "restored-db"  # another database answers now
    before = len(fake.log)
    result = run_sync(desk, "local", embed=False)
    assert fake.log[before]["status"] == 412
    fetched = sum(
        len(r["query"]["itemKey"].split(",")) for r in fake.log[before:] if "itemKey" in r["query"]
    )
    assert fetched == len(keys) and result.unchanged == len(keys)
    assert desk.store.sync_state("local")["details"]["server_id"] == "restored-db"


def test_local_fulltext_comes_from_the_ft_cache_file(local_env):
    fake, zotero_dir = local_env
    paper = fake.add_item(title="Title only paper", abstractNote="")
    fake.add_item(
        key="LOCALPDF",
        itemType="attachment",
        parentItem=paper,
        contentType="application/pdf",
        title="PDF",
    )
    cache = zotero_dir / "storage" / "LOCALPDF"
    cache.mkdir()
    (cache / ".zotero-ft-cache").write_text("Title only paper\nIntroduction We study things.")
    desk = make_desk()
    run_sync(desk, "local", embed=False)
    stored = desk.store.get_paper(paper)
    assert stored.text_source == "fulltext" and stored.abstract == "Introduction We study things."


def test_local_fulltext_written_after_the_attachment_was_synced_is_found(local_env):
    """Zotero indexes a PDF whenever it gets to it: the next sync looks again."""
    fake, zotero_dir = local_env
    paper = fake.add_item(title="Indexed later", abstractNote="")
    fake.add_item(
        key="LATERPDF", itemType="attachment", parentItem=paper, contentType="application/pdf"
    )
    desk = make_desk()
    run_sync(desk, "local", embed=False)
    assert desk.store.get_paper(paper).abstract == ""
    (zotero_dir / "storage" / "LATERPDF").mkdir()
    (zotero_dir / "storage" / "LATERPDF" / ".zotero-ft-cache").write_text("Indexed later\nBody.")
    result = run_sync(desk, "local", embed=False)
    assert result.fulltext == 1
    assert desk.store.get_paper(paper).abstract == "Body."


def test_a_library_change_during_the_sync_is_picked_up_in_the_same_run(web_env):
    fake = web_env
    keys = synthetic_library(fake, 120)
    edited: list[str] = []

    def edit_once(request):
        if "itemKey" in request["query"] and not edited:
            edited.append(keys[-1])
            fake.update_item(keys[-1], title="Edited while the sync ran")

    fake.on_request = edit_once
    desk = make_desk()
    result = run_sync(desk, "user", embed=False)
    fake.on_request = None
    assert edited and result.added == 120
    assert desk.store.get_paper(keys[-1]).title == "Edited while the sync ran"
    assert desk.store.sync_state(USER)["version"] == fake.library().version
    before = len(fake.log)
    assert run_sync(desk, "user", embed=False).requests == 1 and len(fake.log) == before + 1


def test_full_sync_fetches_everything_again_and_drops_what_zotero_lost(web_env):
    fake = web_env
    keys = synthetic_library(fake, 60)
    desk = make_desk()
    run_sync(desk, "user", embed=False)
    with fake.lock:  # gone without a /deleted entry (e.g. the log was purged)
        fake.library().items.pop(keys[0])
    assert run_sync(desk, "user", embed=False).requests == 1  # the version did not move
    before = len(fake.log)
    result = run_sync(desk, "user", full=True, embed=False)
    fetched = sum(
        len(r["query"]["itemKey"].split(",")) for r in fake.log[before:] if "itemKey" in r["query"]
    )
    assert fetched == 59 and (result.unchanged, result.deleted) == (59, 1)


def test_a_server_that_is_not_zotero_gets_a_clear_error(web_env, local_fake, monkeypatch):
    fake = web_env
    synthetic_library(fake, 3)
    fake.inject(
        200,
        headers={"Content-Type": "application/json"},
        body="<html>proxy</html>",
        path_contains="/items",
        times=2,  # a bad body is asked for again once (it may have been cut short)
    )
    with pytest.raises(SyncError, match="malformed response"):
        run_sync(make_desk(), "user", embed=False)
    monkeypatch.setenv("SPECTER_DESK_ZOTERO_LOCAL_URL", fake.base)  # a web server, no /api
    with pytest.raises(SyncError, match="needs Zotero 7"):
        run_sync(make_desk(), "local", embed=False)
    out = CliRunner().invoke(app, ["sync", "--as", "candidates"])
    assert out.exit_code == 2 and "--as candidates is for files" in out.output


def test_cli_shows_the_rate_limit_wait(web_env):
    synthetic_library(web_env, 5)
    web_env.inject(429, headers={"Retry-After": "1"}, path_contains="/items")
    out = CliRunner().invoke(app, ["sync", "--no-embed"])
    assert out.exit_code == 0, out.output
    assert "notice: Zotero asked to back off: waiting 1 s" in out.output
    assert "5 added" in out.output
