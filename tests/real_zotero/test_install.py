"""The product .xpi in a real Zotero: installed from `make xpi`, started (not appDisabled), the
sandbox it runs in, its Fluent strings, and a disable/uninstall that leaves nothing behind."""

from __future__ import annotations

import json
import re
import time
import zipfile
from pathlib import Path

from .harness import (
    CITATIONS_ID,
    HELPER_ID,
    PRODUCT_ID,
    PRODUCT_XPI,
    SECTION_ID,
    sha256,
    wait_until,
)

BRIDGE = Path(__file__).resolve().parents[2] / "bridge"
SANDBOX_GLOBALS = BRIDGE / "test" / "fixtures" / "zotero-sandbox-globals.json"


def live_observers(log: str) -> set[str]:
    """Notifier observers of the plugin registered and not unregistered, from Zotero's log
    (the Notifier keeps its list private)."""
    registered = set(re.findall(r"Registering notifier observer '(specter-desk_\w+)'", log))
    gone = set(
        re.findall(r"Unregistering notifier observer in notifier with id '(specter-desk_\w+)'", log)
    )
    return registered - gone


def test_the_installed_xpi_is_the_one_make_xpi_built(stack, product_xpi):
    installed = stack.zotero.profile / "extensions" / f"{PRODUCT_ID}.xpi"
    assert product_xpi == PRODUCT_XPI
    assert sha256(installed) == sha256(product_xpi)


def test_the_product_xpi_does_not_contain_the_test_helper(product_xpi, helper_xpi):
    with zipfile.ZipFile(product_xpi) as archive:
        names = archive.namelist()
        texts = [archive.read(n).decode("utf-8", "replace") for n in names]
    assert not any("helper" in name or "real_zotero" in name for name in names), names
    for marker in ("specter-desk-test", "/specter-desk-test/eval", HELPER_ID):
        assert not any(marker in text for text in texts), marker
    with zipfile.ZipFile(helper_xpi) as archive:
        assert "/specter-desk-test/eval" in archive.read("bootstrap.js").decode()


def test_plugin_is_active_in_the_release_build_not_app_disabled(stack):
    app = stack.zotero.run("app_version")
    assert app["zotero"] == "10.0.0"
    assert app["release"], (
        f"{app['app']} ignores strict_max_version; this test needs a release build"
    )
    addon = stack.zotero.run("addon", id=PRODUCT_ID)
    assert addon == {
        "version": "0.1.0",
        "isActive": True,
        "appDisabled": False,
        "userDisabled": False,
        "isCompatible": True,
    }
    assert f"Calling bootstrap method 'startup' for plugin {PRODUCT_ID}" in stack.zotero.log()
    assert "Error running bootstrap method" not in stack.zotero.log()


def test_section_menu_observer_and_pane_are_registered(stack):
    footprint = stack.zotero.run("footprint", id=PRODUCT_ID)
    assert footprint["plugin"] is True
    assert footprint["sections"] == [SECTION_ID, CITATIONS_ID]
    assert footprint["menus"] == [
        "specter-desk\\@specter-desk\\.org-specter-desk-tools",
        "specter-desk\\@specter-desk\\.org-specter-desk-collection",  # Subscribe in Zotero
    ]
    assert footprint["toolsEntries"] == [
        "specter-desk: Recommended this week…",
        "specter-desk: Duplicates…",
        "specter-desk: Sync now",
    ]
    assert len(live_observers(stack.zotero.log())) == 1
    assert footprint["prefPanes"] == ["specter-desk-prefpane"]
    assert footprint["chrome"] is True


def test_sandbox_globals_match_the_recorded_list(stack):
    """The node fake exposes exactly bridge/test/fixtures/zotero-sandbox-globals.json: it must
    be what Zotero really gives a plugin (names the helper itself defines are left out)."""
    names = stack.zotero.run("sandbox_globals")
    recorded = json.loads(SANDBOX_GLOBALS.read_text())
    assert recorded["zotero"] == "10.0.0"
    assert names == sorted(recorded["globals"])
    assert "AbortController" not in names


def test_every_fluent_id_resolves_in_zotero(stack):
    """The plugin's ids through Zotero's own Localization (10 merges plugin .ftl files)."""
    ids = [
        "specter-desk-related-header",
        "specter-desk-related-sidenav",
        "specter-desk-citations-header",
        "specter-desk-citations-sidenav",
        "specter-desk-menu-recommended",
        "specter-desk-menu-duplicates",
        "specter-desk-menu-sync",
        "specter-desk-menu-subscribe",
        "specter-desk-prefs-test",
        "specter-desk-prefs-sync",
        "specter-desk-prefs-local-api-title",
    ]
    values = stack.zotero.run("fluent", ids=ids)
    assert all(values[i] for i in ids), [i for i in ids if not values[i]]
    assert values["specter-desk-related-header"]["attributes"] == {"label": "Related papers"}
    assert values["specter-desk-related-sidenav"]["attributes"]["tooltiptext"]
    assert values["specter-desk-citations-header"]["attributes"] == {"label": "Citations"}
    assert values["specter-desk-citations-sidenav"]["attributes"]["tooltiptext"]
    assert values["specter-desk-menu-sync"]["attributes"] == {"label": "specter-desk: Sync now"}
    assert values["specter-desk-menu-subscribe"]["attributes"] == {
        "label": "specter-desk: Subscribe in Zotero"
    }
    assert values["specter-desk-prefs-test"]["attributes"] == {"label": "Test connection"}
    assert values["specter-desk-prefs-local-api-title"]["value"] == "Zotero's local API is off"


def _footprint(stack) -> dict:
    footprint = stack.zotero.run("footprint", id=PRODUCT_ID)
    footprint["observers"] = sorted(live_observers(stack.zotero.log()))
    return footprint


EMPTY = {
    "plugin": False,
    "sections": [],
    "sectionElements": 0,
    "menus": [],
    "toolsEntries": [],
    "prefPanes": [],
    "windowElements": [],
    "chrome": False,
    "observers": [],
}


def _sync_attempts(stack) -> int:
    """How often the plugin's observer tried to reach the (stopped) daemon."""
    return stack.zotero.log().count("specter-desk: sync request failed")


def _change_an_item(stack, title: str) -> str:
    stack.zotero.save_items([{"itemType": "journalArticle", "title": title}])
    return stack.zotero.item_keys(title)[0]


def test_disable_and_uninstall_leave_no_section_observer_or_menu_behind(stack):
    # With the plugin on, an item change reaches its observer (no daemon runs: it logs why).
    before = _sync_attempts(stack)
    stack.zotero.select_item(_change_an_item(stack, "Seen by the observer"))
    wait = 'return Zotero.Prefs.get("extensions.specter-desk.syncDelayMs", true);'
    assert stack.zotero.eval(wait) == "500"
    wait_until(lambda: _sync_attempts(stack) > before, 20, "the observer's sync attempt")
    running = _footprint(stack)
    assert running["sectionElements"] == 2 and running["windowElements"]

    assert stack.zotero.run("addon_action", id=PRODUCT_ID, action="disable") is False
    assert _footprint(stack) == EMPTY
    attempts = _sync_attempts(stack)
    _change_an_item(stack, "Not seen: the plugin is disabled")
    time.sleep(2)  # four times the quiet period
    assert _sync_attempts(stack) == attempts

    assert stack.zotero.run("addon_action", id=PRODUCT_ID, action="enable") is True
    again = _footprint(stack)
    assert (
        again["sections"] == [SECTION_ID, CITATIONS_ID]
        and again["plugin"]
        and len(again["observers"]) == 1
    )
    assert again["toolsEntries"] == running["toolsEntries"]

    stack.zotero.run("addon_action", id=PRODUCT_ID, action="uninstall")
    assert _footprint(stack) == EMPTY
    assert not (stack.zotero.profile / "extensions" / f"{PRODUCT_ID}.xpi").exists()
