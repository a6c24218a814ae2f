"""The Related papers section in a real Zotero 10, fed by a real `specter-desk serve`: results
as the daemon sends them, a click that selects the item, Add to library offline, and the empty,
daemon-offline, missing-token and wrong-token states."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from .harness import REPO, Daemon, wait_until
from .library import connector_item, doi_candidates, papers, write_jsonl

SEED = "On the Semantics of Gringo"
# Kept out of Zotero and imported as candidates: near the seed's topic, without DOI.
CANDIDATES = ["What is wrong with SLASH", "A Tutorial Introduction to the Lambda Calculus"]
RESULTS_PREF = "extensions.specter-desk.results"
TOKEN_PREF = "extensions.specter-desk.token"
URL_PREF = "extensions.specter-desk.bridgeURL"


@pytest.fixture(scope="module")
def pane(stack, tmp_path_factory):
    """The 60-paper library minus two candidates in Zotero, synced through the local API; the
    two plus three records with DOIs as candidates; the daemon running."""
    library = [p for p in papers() if p["title"] not in CANDIDATES]
    stack.zotero.save_items(connector_item(p) for p in library)
    near = [
        {"key": f"NEAR{n:04d}", "title": p["title"], "abstract": p["abstract"]}
        for n, p in enumerate(p for p in papers() if p["title"] in CANDIDATES)
    ]
    jsonl = write_jsonl(near + doi_candidates(), tmp_path_factory.mktemp("cand") / "c.jsonl")
    stack.daemon.cli("import", str(jsonl), "--as", "candidates")
    stack.daemon.cli("sync", "--library", "local")  # embeds the candidates too
    stack.daemon.start()
    stack.seed = stack.zotero.item_keys(SEED)[0]
    return stack


def _rows_from_daemon(daemon: Daemon, key: str, k: int) -> list[tuple]:
    related = daemon.get(f"/v1/papers/{key}/related", k=k).json()["related"]
    return [(r["key"], r["title"], f"{r['score']:.2f}", r["pool"]) for r in related]


def test_section_shows_the_daemons_results_with_scores_and_library_state(pane):
    section = pane.zotero.show_related(pane.seed)
    expected = _rows_from_daemon(pane.daemon, pane.seed, 10)
    assert [(r["key"], r["title"], r["score"], r["pool"]) for r in section["rows"]] == expected
    assert section["label"] == "Related papers"
    assert section["summary"] == "10 related"
    pools = {r["pool"] for r in section["rows"]}
    assert pools == {"library", "candidates"}, "the seed's neighbours include both pools"
    for row in section["rows"]:
        if row["pool"] == "library":
            assert row["link"] and row["badge"] is None
        else:
            assert not row["link"] and row["badge"] == "not in your library"
            assert row["button"] == "no DOI or arXiv id to add it by"
    # the token came from the daemon's token file ($SPECTER_DESK_HOME), not the preferences
    assert pane.zotero.eval(f'return Zotero.Prefs.get("{TOKEN_PREF}", true);') == ""


def test_screenshot_of_the_section(pane, tmp_path):
    """A real picture of the section (docs/images/related-pane-zotero.png with
    SPECTER_DESK_DOCS_IMAGES=1)."""
    pane.zotero.show_related(pane.seed)
    pane.zotero.set_prefs({})
    out = pane.zotero.screenshot(
        tmp_path / "related.png", selector="#zotero-item-pane item-pane-custom-section", pad=4
    )
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000
    window = pane.zotero.screenshot(tmp_path / "window.png")
    if os.environ.get("SPECTER_DESK_DOCS_IMAGES"):
        shutil.copy(out, REPO / "docs" / "images" / "related-pane-zotero.png")
        shutil.copy(window, REPO / "docs" / "images" / "zotero-window.png")


def test_clicking_a_library_result_selects_that_item(pane):
    section = pane.zotero.show_related(pane.seed)
    first = next(r for r in section["rows"] if r["pool"] == "library")
    pane.zotero.click_in_section("button.sd-title", first["title"])
    wait_until(
        lambda: pane.zotero.run("selected_keys") == [first["key"]], 20, "the clicked item selected"
    )


def test_add_to_library_by_doi_offline_says_the_lookup_failed(pane):
    items_before = len(pane.zotero.api("items", format="keys").text.split())
    pane.zotero.set_prefs({RESULTS_PREF: "100"})
    try:
        section = pane.zotero.show_related(pane.seed)
        candidate = next(r for r in section["rows"] if r["key"] == "CAND0000")
        assert candidate["button"] == "Add to library"
        pane.zotero.click_in_section('.sd-hit[data-key="CAND0000"] button.sd-add')
        error = wait_until(
            lambda: pane.zotero.eval(
                """return Zotero.getMainWindow().document
                  .querySelector('.sd-hit[data-key="CAND0000"] .sd-inline-error')?.textContent;"""
            ),
            90,
            "the lookup to fail",
        )
    finally:
        pane.zotero.set_prefs({RESULTS_PREF: None})
    doi = next(c["doi"] for c in doi_candidates() if c["key"] == "CAND0000")
    assert error.startswith(f"Zotero could not look up {doi} (is this computer online?): "), error
    assert len(pane.zotero.api("items", format="keys").text.split()) == items_before


def test_empty_state_when_the_daemon_has_no_other_paper(pane, tmp_path):
    """A second daemon whose store holds only the seed (same key): nothing to relate it to."""
    seed = next(p for p in papers() if p["title"] == SEED)
    lonely = Daemon.create(tmp_path / "lonely")
    rows = [{"key": pane.seed, "title": seed["title"], "abstract": seed["abstract"]}]
    lonely.cli("import", str(write_jsonl(rows, tmp_path / "seed.jsonl")))
    lonely.cli("embed")
    lonely.start()
    try:
        pane.zotero.set_prefs({URL_PREF: lonely.url, TOKEN_PREF: lonely.token})
        section = pane.zotero.show_related(pane.seed, states=("empty",))
        assert section["rows"] == []
        assert "No related papers yet." in section["text"]
        assert section["summary"] == ""
    finally:
        pane.zotero.set_prefs({URL_PREF: pane.daemon.url, TOKEN_PREF: None})
        lonely.stop()


def test_wrong_token_in_settings_says_how_to_fix_it(pane):
    pane.zotero.set_prefs({TOKEN_PREF: "not-the-token"})
    try:
        section = pane.zotero.show_related(pane.seed, states=("unauthorized",))
        assert "specter-desk refused the token" in section["text"]
        assert "specter-desk bridge token" in section["text"]
    finally:
        pane.zotero.set_prefs({TOKEN_PREF: None})


def test_daemon_offline_then_missing_token_then_a_new_token(pane, tmp_path):
    """The daemon stops: "not running" with the command. It comes back with a new token while
    Zotero cannot see the token file: "token not found" with where it looked. Once the file is
    visible again, Retry reads the new token by itself."""
    pane.daemon.stop()
    section = pane.zotero.show_related(pane.seed, states=("daemon-down",))
    assert "specter-desk is not running" in section["text"]
    assert "specter-desk serve" in section["text"]
    assert f"No answer at {pane.daemon.url}." in section["text"]

    pane.daemon.cli("bridge", "token", "--new")
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    before = pane.zotero.run("set_env", env={"SPECTER_DESK_HOME": str(empty)})
    pane.daemon.start()
    try:
        pane.zotero.click_in_section("button.sd-button", "Retry")
        section = pane.zotero.wait_section(("no-token",))
        assert "specter-desk's token was not found" in section["text"]
        assert f"Looked in: {Path(empty, 'bridge-token')}" in section["text"]
    finally:
        pane.zotero.run("set_env", env=before)
    pane.zotero.click_in_section("button.sd-button", "Retry")
    section = pane.zotero.wait_section(("results",))
    assert len(section["rows"]) == 10
    statuses = [line.split('" ')[-1].split()[0] for line in pane.daemon.requests("/related")]
    assert statuses[-2:] == ["401", "200"], "the stale token was refused, the re-read one taken"
