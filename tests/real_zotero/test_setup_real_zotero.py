"""`specter-desk setup --non-interactive` against a real Zotero 10 with its local API on: the
local API found, the first sync and embedding, and the plugin put into Zotero's profile by
setup itself (Zotero starts with the test helper plugin only).

Zotero (Firefox's add-on manager, XPIProvider `scanForChanges`) looks for new files in a
profile's extensions folder only when it knows of no add-on yet, at the first start of a new
Zotero build, or when `extensions.startupScanScopes` includes the profile (default 0). A
profile that already has a plugin (here the helper) therefore ignores the file setup copies:
setup says so and gives the manual way, and this test follows that way."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .harness import HELPER_ID, PRODUCT_ID, Daemon, ZoteroApp, free_port, sha256, wait_until
from .library import connector_item, papers

PAPERS = 3


@pytest.fixture(scope="module")
def zotero(tmp_path_factory, zotero_app, helper_xpi) -> Iterator[ZoteroApp]:
    """A real Zotero with the helper plugin only: the product plugin is setup's to install."""
    root = tmp_path_factory.mktemp("setup") / "zotero"
    app = ZoteroApp(app=zotero_app, root=root, port=free_port(), xpis=[helper_xpi])
    app.start()
    yield app
    app.stop()


def plugin_check(cli: Daemon) -> dict:
    """doctor's plugin check (what Zotero recorded in the profile)."""
    checks = cli.cli_json("doctor", "--offline")["checks"]
    return next(c for c in checks if c["check"] == "plugin")


def test_setup_non_interactive_against_a_real_zotero(zotero, tmp_path, product_xpi):
    zotero.save_items(connector_item(p) for p in papers()[:PAPERS])
    assert zotero.run("addon", id=PRODUCT_ID) is None  # not installed yet
    # a new user: empty data dir and HOME, no keyring, no model chosen by the environment
    cli = Daemon.create(tmp_path / "home", HOME=str(tmp_path / "user"), SPECTER_DESK_NO_KEYRING="1")
    del cli.env["SPECTER_DESK_MODEL"]
    steps = cli.cli_json(
        "setup", "--non-interactive", "--zotero-url", zotero.url, "--model", "minilm",
        "--no-service", "--zotero-profile", str(zotero.profile),
    )["steps"]  # fmt: skip
    steps = {s["name"]: s for s in steps}
    assert steps["Zotero"]["detail"].startswith(f"Zotero 10.0.0 answers at {zotero.url}")
    assert steps["first sync"]["detail"].startswith(
        f"{PAPERS} papers from local; {PAPERS} embedded with minilm"
    )
    related = cli.cli_json("related", papers()[0]["title"], "-k", "2")["related"]
    assert len(related) == 2  # the library is synced and embedded

    xpi = zotero.profile / "extensions" / f"{PRODUCT_ID}.xpi"
    assert sha256(xpi) == sha256(product_xpi)  # setup copied the plugin `make xpi` builds
    plugin = steps["plugin"]  # the helper is registered there, so setup says what to do
    assert plugin["state"] == "warn" and plugin["detail"].startswith(f"copied to {xpi}")
    assert HELPER_ID in plugin["detail"]
    assert plugin["fix"].endswith(f"Install Plugin From File... -> {xpi}")

    zotero.restart()
    assert zotero.run("addon", id=PRODUCT_ID) is None  # ignored, as setup said
    check = plugin_check(cli)
    assert check["state"] == "warn" and "has not registered it" in check["detail"], check
    assert "Install Plugin From File" in check["fix"]

    addon = zotero.run("install_from_file", path=str(xpi))  # the fix setup printed
    assert addon["isActive"] and not addon["appDisabled"], addon
    check = wait_until(  # Zotero writes extensions.json shortly after
        lambda: (c := plugin_check(cli))["state"] == "ok" and c, 60, "plugin active", every=1
    )
    assert check["detail"] == f"active in the Zotero profile {zotero.profile}"
    zotero.restart()
    addon = zotero.run("addon", id=PRODUCT_ID)
    assert addon is not None and addon["isActive"], addon  # stays installed
    assert f"Calling bootstrap method 'startup' for plugin {PRODUCT_ID}" in zotero.log()
