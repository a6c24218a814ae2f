"""The plugin's flows in a real Zotero 10 with a real daemon: a save through the connector
reaches the daemon (Notifier -> POST /v1/sync) and shows up in Related papers; Test connection
in the settings pane and its local-API note; the Duplicates dialog merging a real cluster with
Zotero's own merge; the plugin's requests carry no Origin."""

from __future__ import annotations

import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .harness import REPO, wait_until
from .library import connector_item, duplicate_group, papers

DIALOG = "chrome://specter-desk/content/dialog.xhtml"
PREFS = "chrome://zotero/content/preferences/preferences.xhtml"
SEED = "On the Semantics of Gringo"
NEWCOMER = "A Tutorial Introduction to the Lambda Calculus"


@pytest.fixture(scope="module")
def flows(stack):
    """12 papers (not the newcomer) and a real duplicate group of 3 records, synced through the
    local API; the daemon running."""
    library = [p for p in papers() if p["title"] not in (NEWCOMER, SEED)][:11]
    library.append(next(p for p in papers() if p["title"] == SEED))
    stack.zotero.save_items(connector_item(p) for p in library)
    stack.zotero.save_items(connector_item(p) for p in duplicate_group())
    stack.group_title = duplicate_group()[0]["title"][:20]
    stack.daemon.cli("sync", "--library", "local")
    stack.daemon.start()
    return stack


def test_a_connector_save_reaches_the_daemon_and_shows_up_in_related(flows):
    zotero, daemon = flows.zotero, flows.daemon
    seed = zotero.item_keys(SEED)[0]
    before = {r["key"] for r in zotero.show_related(seed)["rows"]}
    syncs = len(daemon.requests("POST /v1/sync"))
    newcomer = next(p for p in papers() if p["title"] == NEWCOMER)
    zotero.save_items([connector_item(newcomer)])  # as the browser connector does
    key = zotero.item_keys(NEWCOMER)[0]
    assert key not in before
    # the plugin's Notifier observer asks the daemon to sync (nobody else does here)
    wait_until(lambda: len(daemon.requests("POST /v1/sync")) > syncs, 30, "the plugin's sync")
    wait_until(
        lambda: daemon.get(f"/v1/papers/{key}/related").status_code == 200,
        180,
        "the daemon to sync and embed the new paper",
    )
    section = zotero.show_related(seed)
    assert key in {r["key"] for r in section["rows"]}
    row = next(r for r in section["rows"] if r["key"] == key)
    assert row["title"] == NEWCOMER and row["pool"] == "library" and row["link"]


def test_test_connection_in_the_settings_pane(flows, tmp_path):
    zotero, daemon = flows.zotero, flows.daemon
    answer = zotero.run("settings", test=True)
    assert answer["button"] == "Test connection"
    assert answer["result"] == (
        f"Connected to specter-desk 0.1.0 at {daemon.url}; the token works."
    ), answer
    assert not answer["noteShown"], "the local API is on: no note"
    shot = zotero.screenshot(tmp_path / "settings.png", href=PREFS)
    if os.environ.get("SPECTER_DESK_DOCS_IMAGES"):
        shutil.copy(shot, REPO / "docs" / "images" / "settings-pane-zotero.png")


def test_the_settings_pane_says_when_zotero_s_local_api_is_off(flows):
    zotero = flows.zotero
    zotero.set_prefs({"extensions.zotero.httpServer.localAPI.enabled": False})
    try:
        answer = zotero.run("settings")
        assert answer["noteShown"]
        assert "Zotero's local API is off" in answer["note"]
        assert (
            "Allow other applications on this computer to communicate with Zotero"
            in (answer["note"])
        )
    finally:
        zotero.set_prefs({"extensions.zotero.httpServer.localAPI.enabled": True})
    assert not zotero.run("settings")["noteShown"]


def test_the_duplicates_dialog_merges_a_real_cluster_with_zoteros_merge(flows, tmp_path):
    zotero, daemon = flows.zotero, flows.daemon
    records = zotero.run("items_state", prefix=flows.group_title)
    assert len(records) == 3 and not any(r["deleted"] for r in records)
    cluster = daemon.get("/v1/duplicates").json()["clusters"]
    assert [sorted(p["key"] for p in c["papers"]) for c in cluster] == [
        sorted(r["key"] for r in records)
    ]
    master = cluster[0]["master"]
    # one of the records to be merged away gets a note, a tag and a PDF
    other = next(r["key"] for r in records if r["key"] != master)
    zotero.run("item_action", key=other, action="note", note="<p>A note on a duplicate</p>")
    zotero.run("item_action", key=other, action="tag", tag="from-a-duplicate")
    pdf = tmp_path / "record.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    zotero.run("add_attachment", parent=other, path=str(pdf))
    records = zotero.run("items_state", prefix=flows.group_title)
    others = [r for r in records if r["key"] != master]

    zotero.run("tools_menu", label="specter-desk: Duplicates…")
    shown = wait_until(
        lambda: (w := zotero.run("window_text", href=DIALOG)) and w["state"] == "clusters" and w,
        60,
        "the Duplicates dialog",
    )
    assert shown["title"] == "Duplicates" and "kept (master)" in shown["text"]
    zotero.run("click_in_window", href=DIALOG, selector=".sd-merge")
    prompt = wait_until(lambda: zotero.run("prompt", accept=True), 30, "the confirmation")
    assert prompt["title"] == "Merge duplicates"
    assert f"({master}, Journal Article)" in prompt["text"] and "Why: same DOI" in prompt["text"]
    wait_until(
        lambda: "Merged 2 item(s)" in zotero.run("window_text", href=DIALOG)["text"],
        60,
        "the merge",
    )

    after = {r["key"]: r for r in zotero.run("items_state", prefix=flows.group_title)}
    kept = after[master]
    assert not kept["deleted"]
    assert all(after[o["key"]]["deleted"] for o in others), "the others are in the trash"
    moved_notes = [n for o in others for n in o["notes"]]
    moved_attachments = [a for o in others for a in o["attachments"]]
    assert moved_notes and set(moved_notes) <= set(kept["notes"])
    assert moved_attachments and set(moved_attachments) <= set(kept["attachments"])
    assert "from-a-duplicate" in kept["tags"]
    assert sorted(kept["relations"]["dc:replaces"]) == sorted(o["uri"] for o in others)
    log = zotero.log()
    assert "Merging items" in log, "mergeItems.mjs did the merge"
    assert "Zotero.Items.merge() is deprecated" not in log


def test_the_plugins_requests_carry_no_origin(flows):
    """The bridge refuses any Origin but a privileged one (docs/bridge.md): the plugin's own
    client, run in Zotero 10, sends none."""
    seen: list[dict[str, str]] = []

    class Echo(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            seen.append({k.lower(): v for k, v in self.headers.items()})
            body = b'{"status": "ok", "version": "echo"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    echo = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{echo.server_address[1]}"
    flows.zotero.set_prefs({"extensions.specter-desk.bridgeURL": url})
    try:
        answer = flows.zotero.eval("return await Zotero.SpecterDesk.client().health();")
    finally:
        flows.zotero.set_prefs({"extensions.specter-desk.bridgeURL": flows.daemon.url})
        echo.shutdown()
        echo.server_close()
    assert answer == {"status": "ok", "version": "echo"}
    assert len(seen) == 1 and "origin" not in seen[0], seen
    assert seen[0]["user-agent"].endswith("Zotero/10.0.0")
