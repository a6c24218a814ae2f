"""The Citations section in a real Zotero 10, fed by a real `specter-desk serve` whose store was
filled by `specter-desk citations sync` against the fake OpenAlex/Crossref replaying the real
recorded responses (tests/fake_citations.py): both lists with their counts exactly as the
daemon sends them, a click on a library paper selects it, Add to library by DOI offline, a
paper no source knows, the daemon stopped. It also records the answer and what Zotero drew
as bridge/test/fixtures/citations-zotero10.json, the node tests' check of the fake DOM."""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest
from citation_helpers import CROSSREF_ONLY_DOI, UNKNOWN_DOI, library_papers
from fake_citations import FakeCitations

from .harness import CITATIONS_ID, REPO, wait_until
from .library import connector_item

RECORDED = REPO / "bridge" / "test" / "fixtures" / "citations-zotero10.json"
# An included study of the Donners review that cites nine others of the library and one work
# outside it with a DOI; OpenAlex knows what cites it.
SEED_KEY = "LIB00007"
SHOWN = 50  # rows drawn per list (SDCitationsSection.SHOWN)
ROW_FIELDS = ("list", "work", "key", "pool", "title", "meta", "score", "badge", "button", "link")


def _connector_items() -> list[dict]:
    """The recorded Donners library as the connector saves it (the PMID-only paper left out:
    Zotero keeps a PMID in Extra, which no sync reads)."""
    items = []
    for paper in library_papers():
        if paper.key == "PMIDONLY":
            continue
        item = {
            "title": paper.title,
            "abstract": paper.abstract,
            "DOI": paper.doi,
            "date": str(paper.year) if paper.year else None,
            "creators": paper.creators,
        }
        items.append((paper.key, connector_item(item)))
    return items


@pytest.fixture(scope="module")
def cited(stack):
    """The library in Zotero, synced; citations fetched from the fake sources; the daemon
    running. `cited.keys` maps the fixtures' keys (LIB00007...) to Zotero's."""
    items = _connector_items()
    stack.zotero.save_items(item for _, item in items)
    with FakeCitations() as sources:
        stack.daemon.env.update(sources.env())
        stack.daemon.cli("sync", "--library", "local")
        result = stack.daemon.cli_json("citations", "sync", "--no-embed")
        stack.daemon.start()
        stack.keys = {key: stack.zotero.item_keys(item["title"])[0] for key, item in items}
        stack.citation_sync = result
        yield stack
        stack.daemon.stop()


def _answer(cited, key: str) -> dict:
    return cited.daemon.get(f"/v1/papers/{key}/citations", limit=200).json()


def _expected_rows(answer: dict) -> list[dict]:
    """The rows the section should draw for a daemon answer (at most SHOWN per list)."""
    rows = []
    for name, entries in (("cites", answer["cites"]), ("cited-by", answer["cited_by"])):
        for e in entries[:SHOWN]:
            outside = "no DOI to add it by" if not e["doi"] else "Add to library"
            badge = {"library": "in your library", "candidates": "a candidate"}.get(e["pool"])
            score = None if e["cited_by_count"] is None else str(e["cited_by_count"])
            rows.append(
                {
                    "list": name,
                    "work": e["work"],
                    "key": e["key"] or "",
                    "pool": e["pool"] or "outside",
                    "title": e["title"] or e["work"],
                    "score": score,
                    "badge": badge,
                    "button": None if e["in_library"] else outside,
                    "link": e["in_library"],
                }
            )
    return rows


def _shown(section: dict) -> list[dict]:
    """The section's rows without their meta line (author · year · venue)."""
    return [{k: r[k] for k in ROW_FIELDS if k != "meta"} for r in section["rows"]]


def test_the_sync_matched_the_library_through_zoteros_local_api(cited):
    assert cited.citation_sync["items"] == 16
    # 13 DOIs, one title + year + first author, one DOI only Crossref knows; one unknown DOI
    assert cited.citation_sync["matched"] == 15
    assert cited.citation_sync["by_method"]["title"] == 1
    assert cited.citation_sync["by_method"]["crossref"] == 1


def test_section_shows_both_lists_as_the_daemon_sends_them(cited):
    seed = cited.keys[SEED_KEY]
    section = cited.zotero.show_item(seed, ("citations",), CITATIONS_ID)
    answer = _answer(cited, seed)
    counts = answer["counts"]
    assert section["label"] == "Citations"
    assert section["summary"] == f"cites {counts['cites']} · cited by {counts['cited_by']}"
    cited_by = f"Cited by {counts['cited_by']} ({counts['cited_by_in_library']} in your library"
    if counts["cited_by"] > counts["cited_by_listed"]:
        cited_by += f"; {counts['cited_by_listed']} fetched"
    assert section["headings"] == [
        f"Cites {counts['cites']} ({counts['cites_in_library']} in your library)",
        cited_by + ")",
    ]
    assert _shown(section) == _expected_rows(answer)
    in_library = {r["key"] for r in section["rows"] if r["link"]}
    assert len(in_library) == counts["cites_in_library"] + counts["cited_by_in_library"]
    assert in_library <= set(cited.keys.values())
    assert any(r["button"] == "Add to library" for r in section["rows"])
    _record(cited, answer, section)


def _record(cited, answer: dict, section: dict) -> None:
    """With SPECTER_DESK_RECORD_FIXTURES=1, write the daemon's answer and what Zotero drew
    (keys as the fixtures name them) for bridge/test/citations.test.js; else check that the
    recorded answer has the fields the daemon sends now."""
    names = {zotero: ours for ours, zotero in cited.keys.items()}
    text = json.dumps({"answer": answer, "section": section})
    for zotero, ours in names.items():
        text = text.replace(f'"{zotero}"', f'"{ours}"')
    if os.environ.get("SPECTER_DESK_RECORD_FIXTURES"):
        data = json.loads(text)
        data["section"] = {
            "label": section["label"],
            "summary": section["summary"],
            "headings": section["headings"],
            "rows": [{k: r[k] for k in ROW_FIELDS} for r in data["section"]["rows"]],
        }
        RECORDED.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    recorded = json.loads(RECORDED.read_text())["answer"]
    assert set(recorded) == set(answer)
    assert set(recorded["counts"]) == set(answer["counts"])
    assert {frozenset(e) for e in recorded["cites"] + recorded["cited_by"]} == {
        frozenset(e) for e in answer["cites"] + answer["cited_by"]
    }


def test_screenshot_of_the_section(cited, tmp_path):
    """A real picture (docs/images/citations-pane-zotero.png with SPECTER_DESK_DOCS_IMAGES=1)."""
    cited.zotero.show_item(cited.keys[SEED_KEY], ("citations",), CITATIONS_ID)
    pane = CITATIONS_ID.replace("\\", "\\\\")  # a CSS string: its backslashes escaped
    selector = f'#zotero-item-pane item-pane-custom-section[data-pane="{pane}"]'
    out = cited.zotero.screenshot(tmp_path / "citations.png", selector=selector, pad=4)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000
    if os.environ.get("SPECTER_DESK_DOCS_IMAGES"):
        shutil.copy(out, REPO / "docs" / "images" / "citations-pane-zotero.png")


def test_clicking_a_library_paper_selects_it(cited):
    section = cited.zotero.show_item(cited.keys[SEED_KEY], ("citations",), CITATIONS_ID)
    first = next(r for r in section["rows"] if r["link"])
    cited.zotero.click_in_section("button.sd-title", first["title"], CITATIONS_ID)
    wait_until(
        lambda: cited.zotero.run("selected_keys") == [first["key"]], 20, "the clicked item selected"
    )


def test_add_to_library_by_doi_offline_says_the_lookup_failed(cited):
    items_before = len(cited.zotero.api("items", format="keys").text.split())
    section = cited.zotero.show_item(cited.keys[SEED_KEY], ("citations",), CITATIONS_ID)
    outside = next(r for r in section["rows"] if r["button"] == "Add to library")
    answer = _answer(cited, cited.keys[SEED_KEY])
    doi = next(
        e["doi"] for e in answer["cites"] + answer["cited_by"] if e["work"] == outside["work"]
    )
    row = f'.sd-hit[data-work="{outside["work"]}"]'
    cited.zotero.click_in_section(f"{row} button.sd-add", pane_id=CITATIONS_ID)
    read = "return Zotero.getMainWindow().document.querySelector(args.row)?.textContent;"
    try:
        error = wait_until(
            lambda: cited.zotero.eval(read, {"row": f"{row} .sd-inline-error"}),
            300,
            "the lookup to fail",
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the row: {cited.zotero.eval(read, {'row': row})}") from None
    assert error.startswith(f"Zotero could not look up {doi} (is this computer online?): "), error
    assert len(cited.zotero.api("items", format="keys").text.split()) == items_before


def test_a_paper_no_source_knows_says_which_command_fetches_citations(cited):
    unknown = next(k for k, item in _connector_items() if item.get("DOI") == UNKNOWN_DOI)
    section = cited.zotero.show_item(cited.keys[unknown], ("no-citations",), CITATIONS_ID)
    assert "No citation data for this item yet" in section["text"]
    assert "specter-desk citations sync" in section["text"]
    assert section["summary"] == ""
    assert section["rows"] == []


def test_a_paper_only_crossref_knows_lists_its_references(cited):
    crossref = next(k for k, item in _connector_items() if item.get("DOI") == CROSSREF_ONLY_DOI)
    section = cited.zotero.show_item(cited.keys[crossref], ("citations",), CITATIONS_ID)
    answer = _answer(cited, cited.keys[crossref])
    assert len(answer["cites"]) > SHOWN
    assert _shown(section) == _expected_rows(answer)
    assert (
        f"and {len(answer['cites']) - SHOWN} more (specter-desk citations show)" in section["text"]
    )
    assert any(r["button"] == "Add to library" for r in section["rows"])
    assert {r["list"] for r in section["rows"]} == {"cites"}


def test_daemon_stopped_then_back(cited):
    cited.daemon.stop()
    try:
        section = cited.zotero.show_item(cited.keys[SEED_KEY], ("daemon-down",), CITATIONS_ID)
        assert "specter-desk is not running" in section["text"]
        assert f"No answer at {cited.daemon.url}." in section["text"]
    finally:
        cited.daemon.start()
    cited.zotero.click_in_section("button.sd-button", "Retry", CITATIONS_ID)
    section = cited.zotero.wait_section(("citations",), pane_id=CITATIONS_ID)
    assert section["item"] == cited.keys[SEED_KEY]


def test_the_maps_links_select_the_papers_in_zotero(cited, tmp_path):
    """`graph ITEM` of a paper synced from this Zotero: every library paper's link is a
    zotero://select URL that selects that item when Zotero opens it (as it does for a link
    clicked in a browser)."""
    out = tmp_path / "map.html"
    cited.daemon.cli("graph", cited.keys[SEED_KEY], "--out", str(out), "--similar", "0")
    page = out.read_text(encoding="utf-8")
    data = json.loads(
        re.search(r'id="map-data" type="application/json">(.*?)</script>', page, re.S).group(1)
    )
    library = [n for n in data["nodes"] if n["url"].startswith("zotero://")]
    assert len(library) >= 10 and any(n["focus"] for n in library)
    for node in library:
        key = node["url"].rsplit("/", 1)[1]
        assert key in cited.keys.values()
        cited.zotero.eval(
            "Zotero.getMainWindow().ZoteroPane.loadURI(args.url);", {"url": node["url"]}
        )
        wait_until(lambda k=key: cited.zotero.run("selected_keys") == [k], 20, f"{key} selected")
