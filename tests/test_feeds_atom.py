"""A feed's Atom capability URL on a real bridge (uvicorn on 127.0.0.1): served without the
bridge token, only with the feed's own token, which no other endpoint accepts and which a new
token or removing the feed revokes; served papers that reach the library count as "up"."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import httpx
import pytest
from server_helpers import LiveServer, free_port
from test_mcp import _ago

from specter_desk.embed.pipeline import embed_missing
from specter_desk.models import Collection
from specter_desk.server.app import BridgeContext, create_app
from specter_desk.server.token import ensure_token
from specter_desk.services.feeds import (
    add_feed,
    configure_feed,
    feed_url,
    get_feed,
    refresh_feeds,
    remove_feed,
)

A = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"


@pytest.fixture
def feeds_bridge(desk):
    from conftest import make_paper

    desk.store.replace_collections("user:1", [Collection("GENEKEY", "Genes", library="user:1")])
    lib = dict(library="user:1", tags=["genes"], collections=["GENEKEY"])
    pool = dict(pool="candidates", library="file:c.jsonl")
    desk.store.upsert_papers(
        [
            make_paper("G1", "Gene regulatory networks", "Genes.", date_added=_ago(1), **lib),
            make_paper("G2", "Transcription factors", "TFs.", date_added=_ago(2), **lib),
            make_paper(
                "C1",
                "Evolution of gene networks",
                "Genes evolve.",
                doi="10.1234/evo",
                creators=[{"creatorType": "author", "firstName": "Ann", "lastName": "Lee"}],
                **pool,
            ),
            make_paper("C2", "Network motifs in gene regulation", "Motifs.", **pool),
            make_paper("C3", "Sparse coding", "Codes.", **pool),
        ]
    )
    embed_missing(desk.store, desk.encoder("tiny"))
    add_feed(desk.store, tag="genes", since="week", limit=3)  # every candidate
    report = refresh_feeds(desk.store, desk.index("tiny"))
    assert report.refreshed == {"genes": 3}
    ctx = BridgeContext(desk)
    token = ensure_token(desk.paths.data_dir)
    port = free_port()
    with LiveServer(create_app(ctx, token=lambda: token, port=port), port) as server:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            yield desk, client, token, port
    ctx.close()


def test_the_feed_url_serves_atom_without_the_bridge_token(feeds_bridge):
    desk, client, _, port = feeds_bridge
    feed = get_feed(desk.store, "genes")
    url = feed_url(feed, "127.0.0.1", port)
    answer = client.get(url)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(answer.text)
    assert root.findtext(f"{A}title") == "specter-desk: #genes"
    entries = root.findall(f"{A}entry")
    served = [e["key"] for e in desk.store.feed_entries("genes")]
    assert [e.findtext(f"{A}id").rsplit(":", 1)[1] for e in entries] == served
    assert sorted(served) == ["C1", "C2", "C3"]  # in the ranking's order
    evo = next(e for e in entries if e.findtext(f"{A}title") == "Evolution of gene networks")
    assert evo.find(f"{A}link[@rel='alternate']").get("href") == "https://doi.org/10.1234/evo"
    assert evo.findtext(f"{A}author/{A}name") == "Ann Lee"
    # shaped for Zotero's reader: the abstract as text, then why; DOI and year in Dublin Core;
    # no HTML content and no feed-level author (Zotero would make them the item's abstract
    # and every author-less paper's author)
    assert evo.findtext(f"{A}summary").startswith("Genes evolve.\n\nRecommended by specter-desk: ")
    assert "because of: " in evo.findtext(f"{A}summary")
    assert evo.find(f"{A}content") is None and root.find(f"{A}author") is None
    assert evo.findtext(f"{DC}identifier") == "doi:10.1234/evo"
    assert root.find(f"{A}link[@rel='self']").get("href") == url


def test_the_feed_token_opens_nothing_else_and_is_revocable(feeds_bridge):
    desk, client, bridge_token, port = feeds_bridge
    feed = get_feed(desk.store, "genes")
    url = feed_url(feed, "127.0.0.1", port)
    wrong = url.replace(feed.token, "x" * len(feed.token))
    assert client.get(wrong).status_code == 404
    assert client.get(url.replace(feed.token, bridge_token)).status_code == 404
    status = client.get("/v1/status", headers={"Authorization": f"Bearer {feed.token}"})
    assert status.status_code == 401
    web = client.get(url, headers={"Origin": "https://evil.example"})
    assert web.status_code == 403  # a web page cannot read it either
    assert client.post(url).status_code in (401, 405)  # only GET goes without the bridge token
    renewed = configure_feed(desk.store, "genes", new_token=True)
    assert client.get(url).status_code == 404
    assert client.get(feed_url(renewed, "127.0.0.1", port)).status_code == 200
    remove_feed(desk.store, "genes")
    answer = client.get(feed_url(renewed, "127.0.0.1", port))
    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == "no such feed (removed, or its token was replaced)"


def test_a_served_paper_added_to_the_library_counts_as_up_once(feeds_bridge):
    from conftest import make_paper

    desk, *_ = feeds_bridge
    # Zotero's "Add to My Library" on the feed item: after the next sync the library has it
    desk.store.upsert_papers(
        [make_paper("NEW1", "Evolution of Gene Networks", doi="10.1234/EVO", library="user:1")]
    )
    desk.store.set_vote("C2", -1)  # the user's own vote is never replaced
    desk.store.upsert_papers(
        [make_paper("NEW2", "Network motifs in gene regulation", library="user:1")]
    )
    report = refresh_feeds(desk.store, desk.index("tiny"))
    assert report.added == ["C1", "C2"]
    assert desk.store.vote_details()["C1"] == (1, 1.0, "feed")
    assert desk.store.votes()["C2"] == -1
    assert refresh_feeds(desk.store, desk.index("tiny")).added == []  # counted once


def test_subscribing_a_collection_makes_its_feed_once_and_answers_its_url(feeds_bridge):
    desk, client, token, port = feeds_bridge
    auth = {"Authorization": f"Bearer {token}"}
    first = client.post("/v1/feeds", json={"collection": "GENEKEY"}, headers=auth)
    assert first.status_code == 200, first.text
    made = first.json()
    assert made["created"] is True and made["feed"]["kind"] == "collection"
    assert made["feed"]["target"] == "GENEKEY" and made["feed"]["name"] == "Genes"
    assert made["entries"] == 3 and made["feed"]["refreshed_at"]  # refreshed at once
    feed = get_feed(desk.store, made["feed"]["id"])
    assert made["url"] == feed_url(feed, "127.0.0.1", port)
    atom = ET.fromstring(client.get(made["url"]).text)
    assert len(atom.findall(f"{A}entry")) == 3
    again = client.post("/v1/feeds", json={"collection": "GENEKEY"}, headers=auth).json()
    assert again["created"] is False and again["url"] == made["url"]
    assert [f["kind"] for f in desk.store.feeds()].count("collection") == 1


def test_subscribing_an_unknown_collection_or_without_the_token_is_refused(feeds_bridge):
    desk, client, token, _ = feeds_bridge
    auth = {"Authorization": f"Bearer {token}"}
    unknown = client.post("/v1/feeds", json={"collection": "ZZZZ2345"}, headers=auth)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    assert "no collection 'ZZZZ2345'" in unknown.json()["error"]["message"]
    feed = get_feed(desk.store, "genes")
    wrong = {"Authorization": f"Bearer {feed.token}"}  # a feed token is no bridge token
    refused = client.post("/v1/feeds", json={"collection": "GENEKEY"}, headers=wrong)
    assert refused.status_code == 401
    assert client.post("/v1/feeds", json={"collection": " "}, headers=auth).status_code == 422
    assert [f["id"] for f in desk.store.feeds()] == ["genes"]  # nothing made
