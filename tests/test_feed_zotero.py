"""The Atom a feed serves, against what a real Zotero 10 made of it (tests/fixtures/zotero10/
feed.json, recorded by tests/real_zotero/test_feeds.py): which element became which field of
the feed item, and of the library item "Add to My Library" made from it; and that the Atom
served today has the shape Zotero parsed (else: re-record the fixture)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from test_digest import answer  # noqa: F401 (a fixture)

from specter_desk.services.digest import to_atom

A = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
FIXTURE = Path(__file__).parent / "fixtures" / "zotero10" / "feed.json"
RERECORD = "to_atom(zotero=True) changed: re-record the fixture (tests/real_zotero/test_feeds.py)"


@pytest.fixture(scope="module")
def recorded():
    data = json.loads(FIXTURE.read_text())
    feed = ET.fromstring(data["atom"])
    entries = {e.findtext(f"{A}id"): e for e in feed.findall(f"{A}entry")}
    return data, feed, entries


def test_zotero_made_one_feed_item_per_entry_with_these_fields(recorded):
    data, feed, entries = recorded
    items = data["feed_items"]
    assert sorted(i["guid"] for i in items) == sorted(entries)
    assert feed.find(f"{A}author") is None  # else Zotero makes it every author-less item's author
    with_doi = 0
    for item in items:
        entry = entries[item["guid"]]
        assert item["itemType"] == "journalArticle"
        assert item["title"] == entry.findtext(f"{A}title")
        # the summary as text, XML-escaped by Zotero's serializer
        assert html.unescape(item["abstractNote"]) == entry.findtext(f"{A}summary")
        assert "\n\nRecommended by specter-desk: score " in entry.findtext(f"{A}summary") or (
            entry.findtext(f"{A}summary").startswith("Recommended by specter-desk: score ")
        )
        authors = [a.findtext(f"{A}name") for a in entry.findall(f"{A}author")]
        assert [(c["lastName"], c["firstName"]) for c in item["creators"]] == [
            _last_first(name) for name in authors
        ]
        assert {c["creatorType"] for c in item["creators"]} <= {"author"}
        link = entry.find(f"{A}link[@rel='alternate']")
        assert item.get("url") == (link.get("href") if link is not None else None)
        identifier = entry.findtext(f"{DC}identifier")
        assert item.get("DOI") == (identifier.removeprefix("doi:") if identifier else None)
        assert item.get("publicationTitle") == entry.findtext(f"{DC}source")
        updated = entry.findtext(f"{A}updated")  # the paper's year, or none
        assert item.get("date") == (f"{updated[:10]} 00:00:00" if updated else None)
        with_doi += bool(identifier)
    assert 0 < with_doi < len(items)  # both kinds were recorded


def _last_first(name: str) -> tuple[str, str]:
    """How Zotero's feed reader splits an author's name: "Last, First", else at the last space."""
    if "," in name:
        last, first = name.split(",", 1)
        return last.strip(), first.strip()
    first, _, last = name.rpartition(" ")
    return last, first


def test_add_to_my_library_copied_the_feed_item(recorded):
    data, _, _ = recorded
    library = data["library_item"]
    item = next(i for i in data["feed_items"] if i["title"] == library["title"])
    fields = ("itemType", "title", "DOI", "url", "publicationTitle", "date", "abstractNote")
    assert {f: library[f] for f in fields} == {f: item[f] for f in fields}
    assert library["creators"] == item["creators"]
    assert library["collections"] == [] and library["tags"] == []


def _shape(entry: ET.Element) -> list[str]:
    return sorted(
        child.tag + (f"[{child.get('rel')}]" if child.get("rel") else "") for child in entry
    )


def test_the_atom_served_today_has_the_shape_zotero_parsed(recorded, answer):  # noqa: F811
    _, _, entries = recorded
    store, found = answer
    served = ET.fromstring(to_atom(store, found, feed_id="urn:test", zotero=True))
    today = {e.findtext(f"{A}title"): _shape(e) for e in served.findall(f"{A}entry")}
    shapes = [_shape(e) for e in entries.values()]
    # the recorded DOI entries have every element a full record gets (no arXiv id there)
    full = today["Dictionary learning & *fast* codes"]
    assert full in shapes, (
        "to_atom(zotero=True) changed: re-record tests/fixtures/zotero10/feed.json"
    )
    bare = today["Codes without a link"]  # no link, DOI, venue, year or author
    assert bare in shapes, (
        "to_atom(zotero=True) changed: re-record tests/fixtures/zotero10/feed.json"
    )
    assert served.find(f"{A}author") is None
