"""Subscribe in Zotero, in a real Zotero 10 with a real daemon: the plugin's collection menu
entry makes the daemon's feed for the collection and a Zotero feed for its Atom URL; Zotero
reads it from the bridge on 127.0.0.1 into feed items (title, creators, abstract, DOI, URL);
"Add to My Library" on one works offline and the item lands in the library; after a sync the
next feed refresh counts it "up". Subscribing again makes no second feed; a collection the
daemon has not synced, a stopped daemon and a wrong token each get their own message.

With SPECTER_DESK_RECORD_FIXTURES=1 it writes tests/fixtures/zotero10/feed.json (the Atom the
bridge served and what Zotero made of it), which tests/test_feed_zotero.py compares against."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .harness import REPO, wait_until
from .library import connector_item, doi_candidates, papers, write_jsonl

COLLECTION = "Reading group"
LATE = "Added after the sync"
SUBSCRIBE = "specter-desk: Subscribe in Zotero"
FIXTURE = REPO / "tests" / "fixtures" / "zotero10" / "feed.json"


@pytest.fixture(scope="module")
def reading(stack, tmp_path_factory):
    """8 papers in Zotero, 6 of them in the collection "Reading group"; candidates: 4 real
    abstracts (SPECTER's sample) and 4 real records with authors and DOIs (bib-dedupe); synced
    through the local API, the daemon running."""
    zotero, daemon = stack.zotero, stack.daemon
    library = papers()[:8]
    zotero.save_items(connector_item(p) for p in library)
    made = zotero.run("make_collection", collection=COLLECTION, titles=[p["title"] for p in library[:6]])
    assert made["items"] == 6
    stack.collection = made["key"]
    with_abstracts = [
        {"key": f"ABST{number:04d}", "title": p["title"], "abstract": p["abstract"]}
        for number, p in enumerate(papers()[20:24])
    ]
    stack.candidates = with_abstracts + doi_candidates(4)
    jsonl = write_jsonl(stack.candidates, tmp_path_factory.mktemp("cand") / "c.jsonl")
    daemon.cli("import", str(jsonl), "--as", "candidates")
    daemon.cli("sync", "--library", "local")
    daemon.start()
    return stack


def _feeds(zotero) -> list[dict[str, Any]]:
    return zotero.run("feeds_state")


def _daemon_feeds(daemon) -> list[dict[str, Any]]:
    return daemon.cli_json("feeds", "list")["feeds"]


def _progress(zotero) -> list[str]:
    """The lines of the progress windows Zotero shows now (the plugin's notices)."""
    return zotero.run("progress_windows")


def test_subscribe_in_zotero_makes_one_feed_that_zotero_reads_from_the_bridge(reading):
    zotero, daemon = reading.zotero, reading.daemon
    labels = zotero.run("collection_menu", key=reading.collection)
    assert SUBSCRIBE in labels
    zotero.run("collection_menu", key=reading.collection, label=SUBSCRIBE)
    feeds = wait_until(
        lambda: [f for f in _feeds(zotero) if f["items"] and not f["updating"]],
        120,
        "Zotero to read the subscribed feed",
    )
    print(json.dumps(feeds, indent=1)[:6000])
    print(_progress(zotero))

