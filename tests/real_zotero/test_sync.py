"""`specter-desk sync --library local` and `--library sqlite` against a running Zotero 10:
a first sync, then edits, deletions (to the trash, and emptied) and new items picked up
incrementally, a Zotero restart between syncs, and full text from a .zotero-ft-cache."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from specter_desk.store import Store

from .harness import Daemon
from .library import connector_item, papers

SOURCES = ("local", "sqlite")


@pytest.fixture(scope="module")
def desks(stack, tmp_path_factory):
    """Zotero with 20 papers (one with a note and a tag); one specter-desk home per source, so
    the two readers are compared, not mixed."""
    library = papers()[:20]
    items = [connector_item(p) for p in library]
    items[0]["notes"] = [{"note": "<p>A note on the first paper</p>"}]
    items[0]["tags"] = [{"tag": "first"}]
    stack.zotero.save_items(items)
    made = {
        source: Daemon.create(tmp_path_factory.mktemp(f"home-{source}"), stack.zotero)
        for source in SOURCES
    }
    stack.titles = [p["title"] for p in library]
    stack.desks = made
    return stack


def sync(daemon: Daemon, source: str) -> dict:
    return daemon.cli_json("sync", "--library", source, "--no-embed")


def stored(daemon: Daemon, source: str) -> dict[str, dict]:
    """{key: {title, abstract, deleted, version, text_source}} of a library in a home's store."""
    store = Store(daemon.home / "library.db")
    try:
        keys = store.versions(source, include_deleted=True)
        return {
            key: {
                "title": p.title,
                "abstract": p.abstract,
                "deleted": p.deleted,
                "version": p.version,
                "text_source": p.text_source,
            }
            for key, p in store.get_papers(keys).items()
        }
    finally:
        store.close()


def zotero_papers(stack) -> dict[str, dict]:
    """{key: {title, deleted, version}} of Zotero's regular items, from its local API."""
    items = stack.zotero.api("items", includeTrashed=1).json()
    return {
        i["key"]: {
            "title": i["data"]["title"],
            "deleted": bool(i["data"].get("deleted")),
            "version": i["version"],
        }
        for i in items
        if i["data"]["itemType"] not in ("note", "attachment", "annotation")
    }


@pytest.mark.parametrize("source", SOURCES)
def test_first_sync_while_zotero_runs_stores_every_paper(desks, source):
    daemon = desks.desks[source]
    result = sync(daemon, source)
    assert result["added"] == 20 and result["deleted"] == 0, result
    zotero = zotero_papers(desks)
    mine = stored(daemon, source)
    assert {k: v["title"] for k, v in mine.items()} == {k: v["title"] for k, v in zotero.items()}
    assert sorted(v["title"] for v in mine.values()) == sorted(desks.titles)
    assert all(v["abstract"] for v in mine.values())
    # Zotero 10's local API versions are its local clientVersion: the store keeps them
    if source == "local":
        assert {k: v["version"] for k, v in mine.items()} == {
            k: v["version"] for k, v in zotero.items()
        }
        assert all(v["version"] > 0 for v in mine.values())


def test_zotero_10_local_versions_move_with_every_local_change(desks):
    """What the local sync relies on: the JSON `version` and format=versions are Zotero 10's
    per-library clientVersion (bumped once per transaction), Last-Modified-Version is the
    library's, `since` filters by it, If-Modified-Since-Version answers 304, and the
    Zotero-Server-ID header names the database."""
    zotero = desks.zotero
    first = zotero.api("items", format="versions", includeTrashed=1)
    library_version = int(first.headers["Last-Modified-Version"])
    assert first.headers["Zotero-Server-ID"]
    assert max(first.json().values()) == library_version
    key = next(iter(zotero_papers(desks)))
    after_edit = zotero.run(
        "item_action", key=key, action="edit", fields={"extra": "edited for versions"}
    )
    assert after_edit == library_version + 1
    changed = zotero.api("items", format="versions", since=library_version)
    assert changed.json() == {key: after_edit}
    assert changed.headers["Last-Modified-Version"] == str(after_edit)
    unchanged = zotero.api("items", format="versions")
    assert unchanged.status_code == 200
    not_modified = zotero_get(zotero, "items", {"If-Modified-Since-Version": str(after_edit)})
    assert not_modified.status_code == 304
    assert not_modified.headers["Zotero-Server-ID"] == first.headers["Zotero-Server-ID"]


def test_zotero_10_trash_keeps_versions_and_hides_trashed_items_from_item_key(desks):
    """Two things of Zotero 10.0.0 the local sync works around (zotero_local.py): moving an
    item to the trash changes neither its version nor the library's (so a 304 would hide it),
    and `itemKey=` never returns an item in the trash, even with includeTrashed=1."""
    zotero = desks.zotero
    key = desks.zotero.item_keys(desks.titles[-1])[0]
    before = zotero.api("items", format="versions", includeTrashed=1)
    zotero.run("item_action", key=key, action="trash")
    after = zotero.api("items", format="versions", includeTrashed=1)
    assert after.json()[key] == before.json()[key]
    assert after.headers["Last-Modified-Version"] == before.headers["Last-Modified-Version"]
    assert key not in zotero.api("items", format="versions").json()
    assert zotero.api("items/trash", format="versions").json() == {key: before.json()[key]}
    assert zotero.api("items", itemKey=key, includeTrashed=1).json() == []
    assert zotero.api(f"items/{key}").json()["data"]["deleted"] in (True, 1)
    zotero.run("item_action", key=key, action="restore")  # restoring does bump it
    assert zotero.api("items", format="versions").json()[key] > before.json()[key]


def zotero_get(zotero, path: str, headers: dict[str, str]):
    import httpx

    return httpx.get(f"{zotero.url}/api/users/0/{path}", headers=headers, timeout=30)


@pytest.mark.parametrize("source", SOURCES)
def test_a_sync_with_nothing_changed_changes_nothing(desks, source):
    daemon = desks.desks[source]
    sync(daemon, source)  # catch up with the edit above
    result = sync(daemon, source)
    assert (result["added"], result["updated"], result["deleted"]) == (0, 0, 0), result
    if source == "local":
        # the two listings (outside the trash, the trash), nothing fetched: no 304 short cut,
        # since moving an item to the trash does not change the library's version
        assert result["requests"] == 2, result


def test_edits_trash_erase_and_new_items_are_picked_up_incrementally(desks):
    zotero = desks.zotero
    keys = {p["title"]: k for k, p in zotero_papers(desks).items()}
    edited, trashed, erased = (keys[t] for t in desks.titles[1:4])
    zotero.run("item_action", key=edited, action="edit", fields={"title": "A new title"})
    zotero.run("item_action", key=trashed, action="trash")
    zotero.run("item_action", key=erased, action="erase")
    zotero.save_items([connector_item(papers()[30])])
    new = zotero.item_keys(papers()[30]["title"])[0]
    for source in SOURCES:
        daemon = desks.desks[source]
        result = sync(daemon, source)
        assert (result["added"], result["updated"], result["deleted"]) == (1, 1, 2), (
            source,
            result,
        )
        mine = stored(daemon, source)
        assert mine[edited]["title"] == "A new title"
        assert mine[trashed]["deleted"] and mine[erased]["deleted"]
        assert not mine[new]["deleted"] and mine[new]["title"] == papers()[30]["title"]
        if source == "local":
            assert result["requests"] == 4, result  # 2 listings, 1 page (2 items), the trash


def test_emptying_the_trash_and_restoring_are_picked_up(desks):
    zotero = desks.zotero
    keys = {p["title"]: k for k, p in zotero_papers(desks).items()}
    trashed_again, restored = keys[desks.titles[4]], keys[desks.titles[5]]
    zotero.run("item_action", key=trashed_again, action="trash")
    zotero.run("item_action", key=restored, action="trash")
    for source in SOURCES:
        sync(desks.desks[source], source)
    zotero.run("item_action", key=restored, action="restore")
    assert zotero.run("empty_trash") == 2  # the one trashed in the previous test, and this one
    assert trashed_again not in zotero_papers(desks)
    for source in SOURCES:
        daemon = desks.desks[source]
        result = sync(daemon, source)
        assert (result["added"], result["deleted"]) == (1, 0), (source, result)
        mine = stored(daemon, source)
        assert mine[trashed_again]["deleted"]
        assert not mine[restored]["deleted"]


def test_a_zotero_restart_between_syncs(desks):
    zotero = desks.zotero
    server_id = zotero.api("items", limit=1).headers["Zotero-Server-ID"]
    version = int(zotero.api("items", limit=1).headers["Last-Modified-Version"])
    zotero.restart()
    assert zotero.api("items", limit=1).headers["Zotero-Server-ID"] == server_id
    assert int(zotero.api("items", limit=1).headers["Last-Modified-Version"]) == version
    for source in SOURCES:
        result = sync(desks.desks[source], source)
        assert (result["added"], result["updated"], result["deleted"]) == (0, 0, 0), result
    key = next(k for k, p in zotero_papers(desks).items() if not p["deleted"])
    zotero.run("item_action", key=key, action="edit", fields={"title": "Edited after restart"})
    for source in SOURCES:
        daemon = desks.desks[source]
        result = sync(daemon, source)
        assert result["updated"] == 1, (source, result)
        assert stored(daemon, source)[key]["title"] == "Edited after restart"


def test_full_text_from_a_zotero_ft_cache_for_a_paper_without_abstract(desks, tmp_path):
    """An item without abstract gets a PDF attachment; the test writes the text Zotero would
    have extracted into storage/KEY/.zotero-ft-cache. Written after the attachment was synced
    too: the next sync still finds it."""
    zotero = desks.zotero
    paper = papers()[40]
    zotero.save_items([connector_item({"title": paper["title"]})])
    parent = zotero.item_keys(paper["title"])[0]
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(b"%PDF-1.4\n% not a real PDF: Zotero cannot index it here\n%%EOF\n")
    attachment = zotero.run("add_attachment", parent=parent, path=str(pdf))
    for source in SOURCES:
        sync(desks.desks[source], source)
        assert stored(desks.desks[source], source)[parent]["abstract"] == ""
    body = f"{paper['title']}\n\nAbstract\n{paper['abstract']}\n\n1 Introduction\n" + (
        "More text of the paper. " * 300
    )
    Path(attachment["dir"], ".zotero-ft-cache").write_text(body)
    for source in SOURCES:
        daemon = desks.desks[source]
        sync(daemon, source)
        mine = stored(daemon, source)[parent]
        assert mine["text_source"] == "fulltext", source
        assert mine["abstract"].startswith("Abstract " + paper["abstract"].split()[0]), source
        assert len(mine["abstract"].split()) == 200


def test_the_store_is_a_sound_sqlite_database(desks):
    for source in SOURCES:
        conn = sqlite3.connect(desks.desks[source].home / "library.db")
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()
