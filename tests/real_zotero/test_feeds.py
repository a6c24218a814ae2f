"""Subscribe in Zotero, in a real Zotero 10 with a real daemon: the plugin's collection menu
entry makes the daemon's feed for the collection and a Zotero feed for its Atom URL; Zotero
reads it from the bridge on 127.0.0.1 into feed items (title, creators, abstract, DOI, URL,
publication, date); subscribing again makes no second feed; a collection the daemon has not
synced, a wrong token and a stopped daemon each get their own message; "Add to My Library" on a
feed item works offline (Zotero finds no translator for the page it cannot load and copies the
feed item) and the item lands in the library; the plugin's sync and the daemon's feed refresh
after it count it "up". (A Zotero build without zotero/translate's nested `modules/utilities`
cannot translate at all: there the test fails and names tests/real_zotero/complete-build.sh.)

With SPECTER_DESK_RECORD_FIXTURES=1 it writes tests/fixtures/zotero10/feed.json (the Atom the
bridge served and what Zotero made of it), which tests/test_feed_zotero.py checks against."""

from __future__ import annotations

import html
import json
import os
import sqlite3
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from .harness import REPO, wait_until
from .library import connector_item, doi_candidates, papers, write_jsonl

COLLECTION = "Reading group"
LATE = "Made after the sync"
SUBSCRIBE = "specter-desk: Subscribe in Zotero"
FIXTURE = REPO / "tests" / "fixtures" / "zotero10" / "feed.json"
FEED_PATH = "/feeds/reading-group/FEED-TOKEN.atom"
MISSING_MODULE = "translate/modules/utilities/openurl.js"
VOLATILE = ("key", "dateAdded", "dateModified", "version")  # differ from run to run


@pytest.fixture(scope="module")
def reading(stack, tmp_path_factory):
    """8 papers in Zotero, 6 of them in the collection "Reading group"; candidates: 4 real
    abstracts (SPECTER's sample, no authors or year) and 4 real records with authors, year,
    venue and DOI (bib-dedupe); synced through the local API; the daemon running."""
    zotero, daemon = stack.zotero, stack.daemon
    library = papers()[:8]
    zotero.save_items(connector_item(p) for p in library)
    titles = [p["title"] for p in library[:6]]
    made = zotero.run("make_collection", collection=COLLECTION, titles=titles)
    assert made["items"] == 6
    stack.collection = made["key"]
    with_abstracts = [
        {"key": f"ABST{number:04d}", "title": p["title"], "abstract": p["abstract"]}
        for number, p in enumerate(papers()[20:24])
    ]
    stack.candidates = {c["key"]: c for c in with_abstracts + doi_candidates(4)}
    jsonl = write_jsonl(list(stack.candidates.values()), tmp_path_factory.mktemp("c") / "c.jsonl")
    daemon.cli("import", str(jsonl), "--as", "candidates")
    daemon.cli("sync", "--library", "local")
    daemon.start()
    stack.recorded = {}
    return stack


def _feeds(zotero) -> list[dict[str, Any]]:
    return zotero.run("feeds_state")


def _daemon_feeds(daemon) -> list[dict[str, Any]]:
    return daemon.cli_json("feeds", "list")["feeds"]


def _subscribe(zotero, collection: str, expect: str) -> str:
    """Choose Subscribe in Zotero on a collection; the plugin's notice containing `expect`."""
    zotero.eval("Zotero.ProgressWindowSet.closeAll();")
    zotero.run("collection_menu", key=collection, label=SUBSCRIBE)

    def notice() -> str | None:
        return next((t for t in zotero.run("progress_windows") if expect in t), None)

    return wait_until(notice, 120, f"the plugin's notice {expect!r}")


def _entry_key(guid: str) -> str:
    return guid.rsplit(":", 1)[1]


def test_subscribe_in_zotero_makes_a_feed_zotero_reads_from_the_bridge(reading):
    zotero, daemon = reading.zotero, reading.daemon
    assert SUBSCRIBE in zotero.run("collection_menu", key=reading.collection)
    text = _subscribe(zotero, reading.collection, "Zotero now has the feed")
    assert "Subscribed in Zotero" in text and "8 recommended paper(s)" in text, text

    [made] = _daemon_feeds(daemon)
    assert (made["kind"], made["target"], made["name"]) == (
        "collection",
        reading.collection,
        COLLECTION,
    )
    # `feeds url` names the configured port; this daemon serves on its own (serve --port)
    path = urlsplit(daemon.cli_json("feeds", "url", made["id"])["url"]).path
    url = daemon.url + path
    [feed] = wait_until(
        lambda: [f for f in _feeds(zotero) if len(f["items"]) == 8 and not f["updating"]],
        60,
        "Zotero's feed items",
    )
    assert feed["url"] == url and feed["name"] == f"specter-desk: {COLLECTION}"
    assert feed["lastCheckError"] is None and feed["lastCheck"]
    # recorded with the capability URL's port and token (a throwaway one) blanked out
    atom = httpx.get(url, timeout=30).text.replace(url, f"http://127.0.0.1:PORT{FEED_PATH}")
    reading.recorded.update(atom=atom, feed_items=[_stable(i) for i in feed["items"]])

    for item in feed["items"]:
        paper = reading.candidates[_entry_key(item["guid"])]
        assert item["itemType"] == "journalArticle" and not item["isTranslated"]
        assert item["title"] == paper["title"]
        abstract = html.unescape(item["abstractNote"])  # Zotero keeps the text XML-escaped
        assert abstract.startswith(paper.get("abstract", "Recommended by specter-desk: score"))
        assert "Recommended by specter-desk: score " in abstract and "because of: " in abstract
        if "doi" in paper:
            doi = paper["doi"].lower()  # the store keeps DOIs lower-case (case-insensitive)
            assert item["DOI"] == doi and item["url"] == f"https://doi.org/{doi}"
            assert item["publicationTitle"] == paper["venue"]
            assert item["date"] == f"{paper['year']}-01-01 00:00:00"  # Zotero's feed dates
            names = [f"{c['lastName']}, {c['firstName']}" for c in item["creators"]]
            assert names == paper["authors"].split("; ")  # "Last, First" in the record
            assert {c["creatorType"] for c in item["creators"]} == {"author"}
        else:  # no authors, year, DOI or link: Zotero leaves them empty (no invented author)
            assert item["creators"] == []
            assert not {"DOI", "url", "date", "publicationTitle"} & item.keys()


def test_subscribing_again_reuses_both_feeds(reading):
    zotero, daemon = reading.zotero, reading.daemon
    text = _subscribe(zotero, reading.collection, "Zotero already had the feed")
    assert "8 recommended paper(s)" in text
    assert len(_daemon_feeds(daemon)) == 1
    assert [f["name"] for f in _feeds(zotero)] == [f"specter-desk: {COLLECTION}"]


def test_a_collection_the_daemon_has_not_synced_says_so(reading):
    zotero, daemon = reading.zotero, reading.daemon
    late = zotero.run("make_collection", collection=LATE, titles=[])["key"]
    # each notice waited for by its own words: "not subscribed" alone could still find the
    # previous notice while Zotero closes it
    text = _subscribe(zotero, late, "does not know the collection")
    assert f"specter-desk does not know the collection “{LATE}” yet" in text
    assert "Sync now" in text
    assert len(_daemon_feeds(daemon)) == 1 and len(_feeds(zotero)) == 1


def test_a_wrong_token_and_a_stopped_daemon_say_so(reading):
    zotero, daemon = reading.zotero, reading.daemon
    zotero.set_prefs({"extensions.specter-desk.token": "not-the-token"})
    try:
        text = _subscribe(zotero, reading.collection, "refused the plugin's token")
        assert "specter-desk refused the plugin's token" in text
        assert "Settings → specter-desk" in text
    finally:
        zotero.set_prefs({"extensions.specter-desk.token": None})
    daemon.stop()
    try:
        text = _subscribe(zotero, reading.collection, "is not running at")
        assert f"specter-desk is not running at {daemon.url}" in text
        assert "Start it with: specter-desk serve" in text
    finally:
        daemon.start()
    assert len(_feeds(zotero)) == 1


def _votes(daemon) -> dict[str, tuple[int, str]]:
    conn = sqlite3.connect(f"{(daemon.home / 'library.db').as_uri()}?mode=ro", uri=True)
    try:
        return {k: (v, s) for k, v, s in conn.execute("SELECT key, vote, source FROM feedback")}
    finally:
        conn.close()


def test_add_to_my_library_works_offline_and_counts_up_after_a_sync(reading):
    zotero, daemon = reading.zotero, reading.daemon
    [feed] = _feeds(zotero)
    chosen = next(i for i in feed["items"] if i.get("DOI"))
    key = _entry_key(chosen["guid"])
    syncs = len(daemon.requests("POST /v1/sync"))
    button = zotero.run("feed_add_to_library", url=feed["url"], title=chosen["title"])
    assert button == "Add to “My Library”"  # Zotero 10's label
    if not zotero.run("translate_modules"):
        # a build without zotero/translate's nested utilities submodule cannot translate at
        # all: the click adds nothing (Zotero logs the unreadable module). Not the product's
        # fault, but the feature is untested there: fail and name the fix.
        wait_until(lambda: MISSING_MODULE in zotero.log(), 60, "Zotero's translation error")
        assert zotero.item_keys(chosen["title"]) == []
        pytest.fail(
            f"{zotero.app} has no {MISSING_MODULE}, so Add to My Library cannot run: "
            "complete the build with `bash tests/real_zotero/complete-build.sh $ZOTERO_APP`"
        )
    [added] = wait_until(lambda: zotero.item_keys(chosen["title"]), 120, "the item in My Library")
    item = zotero.api(f"items/{added}").json()["data"]
    # offline, Zotero loads the DOI page in vain, its DOI translator does not apply to the
    # error page, and it copies the feed item: every field as the feed item had it
    for field in ("title", "DOI", "url", "publicationTitle", "date", "abstractNote", "creators"):
        assert item[field] == chosen[field], field
    assert item["itemType"] == "journalArticle"
    reading.recorded["library_item"] = _stable(item)

    # the plugin asks the daemon to sync (a library item was added); after that sync the daemon
    # refreshes its feeds, and a served paper now in the library counts as "up", once
    wait_until(lambda: len(daemon.requests("POST /v1/sync")) > syncs, 30, "the plugin's sync")
    wait_until(lambda: key in _votes(daemon), 180, "the daemon to count the added paper")
    assert _votes(daemon)[key] == (1, "feed")
    assert [k for k, (_, source) in _votes(daemon).items() if source == "feed"] == [key]
    # Zotero then starts a snapshot of the page it could not load (HiddenBrowser.snapshot());
    # here it never finishes, so no attachment is asserted either way
    if os.environ.get("SPECTER_DESK_RECORD_FIXTURES"):
        FIXTURE.write_text(json.dumps(reading.recorded, indent=1, ensure_ascii=False) + "\n")


def _stable(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in VOLATILE}
