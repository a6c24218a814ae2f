"""The update manifest `make xpi` writes (dist/updates.json) widens the declared Zotero versions
of an installed plugin without a new .xpi, as Zotero's own docs say it should: a build that
declares strict_max_version 9.0.* is disabled by the Zotero 10 release build, and becomes
active once Zotero reads an updates.json that lists the same version up to 10.0.*."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .harness import PRODUCT_ID, REPO, ZoteroApp, free_port

CHECK_UPDATES = """const { AddonManager } = ChromeUtils.importESModule(
  "resource://gre/modules/AddonManager.sys.mjs");
const addon = await AddonManager.getAddonByID(args.id);
const seen = [];
await new Promise((resolve) => addon.findUpdates({
  onCompatibilityUpdateAvailable: () => seen.push("compatibility update"),
  onNoCompatibilityUpdateAvailable: () => seen.push("no compatibility update"),
  onUpdateFinished: resolve,
}, AddonManager.UPDATE_WHEN_USER_REQUESTED));
for (let i = 0; i < 100 && !Zotero.SpecterDesk; i++) await Zotero.Promise.delay(100);
return { seen, isCompatible: addon.isCompatible, appDisabled: addon.appDisabled,
  isActive: addon.isActive, plugin: Boolean(Zotero.SpecterDesk) };"""


class _Quiet(SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, *args):
        _Quiet.requests.append(self.path)


@pytest.fixture
def update_server(tmp_path):
    port = free_port()
    handler = functools.partial(_Quiet, directory=str(tmp_path / "site"))
    (tmp_path / "site").mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield port, tmp_path / "site"
    server.shutdown()
    server.server_close()


def test_updates_json_widens_strict_max_version_without_a_new_xpi(
    zotero_app, helper_xpi, update_server, tmp_path
):
    port, site = update_server
    source = tmp_path / "bridge"
    shutil.copytree(REPO / "bridge", source, ignore=shutil.ignore_patterns("node_modules", "test"))
    manifest = json.loads((source / "manifest.json").read_text())
    manifest["applications"]["zotero"]["strict_max_version"] = "9.0.*"
    manifest["applications"]["zotero"]["update_url"] = f"http://127.0.0.1:{port}/updates.json"
    (source / "manifest.json").write_text(json.dumps(manifest, indent=2))
    xpi = site / "specter-desk.xpi"
    subprocess.run(
        [sys.executable, str(REPO / "packaging" / "build-xpi.py"), "--src", str(source),
         "--out", str(xpi), "--max-version", "10.0.*", "--download", f"http://127.0.0.1:{port}/"],
        check=True, capture_output=True,
    )  # fmt: skip
    updates = json.loads((site / "updates.json").read_text())
    entry = updates["addons"][PRODUCT_ID]["updates"][0]
    assert entry["applications"]["zotero"]["strict_max_version"] == "10.0.*"

    zotero = ZoteroApp(
        app=zotero_app,
        root=tmp_path / "zotero",
        port=free_port(),
        xpis=[xpi, helper_xpi],
        # the update check wants https; the test serves updates.json over plain http
        prefs={"extensions.checkUpdateSecurity": False},
    )
    zotero.start()
    try:
        before = zotero.run("addon", id=PRODUCT_ID)
        assert before["appDisabled"] and not before["isCompatible"] and not before["isActive"]
        after = zotero.eval(CHECK_UPDATES, {"id": PRODUCT_ID})
        assert "/updates.json" in _Quiet.requests
        assert after == {
            "seen": ["compatibility update"],
            "isCompatible": True,
            "appDisabled": False,
            "isActive": True,
            "plugin": True,
        }, after
        assert not any(path.endswith(".xpi") for path in _Quiet.requests), "no new .xpi fetched"
    finally:
        zotero.stop()
