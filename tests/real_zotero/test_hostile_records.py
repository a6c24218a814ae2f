"""Hostile records from a real Zotero 10 (issue 16, item 1): titles and names that look like rich
markup or HTML, or carry terminal escapes, synced through the local API and zotero.sqlite, are
stored as Zotero keeps them, printed as text by `related` and `search` (no control character
reaches the terminal), and shown as text in the plugin's Related papers section."""

from __future__ import annotations

import json

import pytest

from specter_desk.store import Store

from .harness import SECTION_ID, Daemon
from .library import connector_item, papers

# What each hostile item's title becomes (the abstracts stay real, so the papers relate).
HOSTILE = {
    0: lambda title: f"{title} [/bold]",
    1: lambda title: f"[bridge] {title} <img src=x onerror=window.sdOwned=1> :thumbs_up:",
    2: lambda title: f"{title} \x1b[2J\x1b]0;owned\x07 end",
}
NAME = {"firstName": "Ann [/]", "lastName": "[red]Smith", "creatorType": "author"}


def control_free(text: str) -> str:
    """What a terminal may be shown of text: control characters dropped (tabs kept)."""
    return "".join(c for c in text if c == "\t" or not (ord(c) < 32 or 127 <= ord(c) < 160))


@pytest.fixture(scope="module")
def hostile(stack):
    """Eight real papers in Zotero, three with hostile titles (one with a hostile name too);
    synced with `sync --library local` into the daemon's home (embedded with minilm)."""
    items = [connector_item(p) for p in papers()[:8]]
    for number, make in HOSTILE.items():
        items[number]["title"] = make(items[number]["title"])
    items[0]["creators"] = [NAME]
    stack.zotero.save_items(items)
    stack.daemon.env["COLUMNS"] = "400"  # whole titles on one line of the related table
    stack.daemon.cli("sync", "--library", "local")
    in_zotero = {
        i["key"]: i["data"]
        for i in stack.zotero.api("items").json()
        if i["data"]["itemType"] == "journalArticle"
    }
    bases = [papers()[number]["title"] for number in HOSTILE]
    stack.hostile = {
        key: data["title"]
        for key, data in in_zotero.items()
        if any(base in data["title"] and base != data["title"] for base in bases)
    }
    stack.named = next(k for k, data in in_zotero.items() if bases[0] in data["title"])
    stack.plain = sorted(set(in_zotero) - set(stack.hostile))
    stack.in_zotero = in_zotero
    return stack


def stored_titles(daemon: Daemon, library: str) -> dict[str, tuple[str, list]]:
    store = Store(daemon.home / "library.db")
    try:
        keys = store.versions(library)
        return {k: (p.title, p.creators) for k, p in store.get_papers(keys).items()}
    finally:
        store.close()


def test_zotero_keeps_the_hostile_titles_and_the_store_takes_them_as_they_are(hostile):
    assert len(hostile.hostile) == len(HOSTILE), hostile.hostile
    stored = stored_titles(hostile.daemon, "local")
    assert {k: t for k, (t, _) in stored.items()} == {
        k: d["title"] for k, d in hostile.in_zotero.items()
    }
    assert stored[hostile.named][1] == [
        {"creatorType": "author", "firstName": "Ann [/]", "lastName": "[red]Smith"}
    ]


def test_the_sqlite_reader_stores_the_same_records(hostile, tmp_path):
    other = Daemon.create(tmp_path / "home-sqlite", hostile.zotero)
    result = other.cli_json("sync", "--library", "sqlite", "--no-embed")
    assert result["added"] == 8, result
    assert stored_titles(other, "sqlite") == stored_titles(hostile.daemon, "local")


def test_related_and_search_print_hostile_records_as_text(hostile):
    shown = control_free
    for key, title in hostile.hostile.items():
        result = hostile.daemon.cli("related", key, "-k", "7")
        assert not any(ord(c) < 32 and c != "\n" for c in result.stdout), repr(result.stdout)
        for other_key, other in hostile.hostile.items():  # the others' titles, as text, in rows
            assert other_key == key or shown(other) in result.stdout, (key, result.stdout)
        if key != hostile.named:  # its first author, in the others' answers
            assert "[red]Smith" in result.stdout, result.stdout
        data = json.loads(hostile.daemon.cli("related", key, "--json").stdout)
        assert data["item"]["title"] == title  # JSON keeps the record as Zotero has it
    result = hostile.daemon.cli("search", "[/bold] <img onerror> thumbs_up", "-k", "8")
    assert not any(ord(c) < 32 and c != "\n" for c in result.stdout), repr(result.stdout)
    assert all(shown(title) in result.stdout for title in hostile.hostile.values())


def test_the_plugin_shows_hostile_titles_as_text(hostile):
    hostile.daemon.start()
    section = hostile.zotero.show_related(hostile.plain[0])
    expected = {
        r["key"]: r["title"]
        for r in hostile.daemon.get(f"/v1/papers/{hostile.plain[0]}/related", k=10).json()[
            "related"
        ]
    }
    assert {r["key"]: r["title"] for r in section["rows"]} == expected
    assert set(hostile.hostile) <= set(expected)
    for key, title in hostile.hostile.items():
        assert expected[key] == title
    injected = hostile.zotero.eval(
        "const doc = Zotero.getMainWindow().document;"
        "const box = [...doc.querySelectorAll('item-pane-custom-section')]"
        ".find((el) => el.dataset.pane === args.pane);"
        "return {img: box.querySelectorAll('img').length,"
        " owned: Zotero.getMainWindow().sdOwned ?? null};",
        {"pane": SECTION_ID},
    )
    assert injected == {"img": 0, "owned": None}
