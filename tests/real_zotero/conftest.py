"""Fixtures of the real-Zotero suite (marker `zotero`, `make test-zotero`; README.md here).

When ZOTERO_APP is unset (CI has no Zotero) only test_app.py is collected, and it skips as a
whole: `pytest -ra` reports the suite's skip as one line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

if not os.environ.get("ZOTERO_APP"):
    collect_ignore_glob = [
        p.name for p in Path(__file__).parent.glob("test_*.py") if p.name != "test_app.py"
    ]

from .harness import (  # noqa: E402
    Daemon,
    ZoteroApp,
    build_helper_xpi,
    build_product_xpi,
    free_port,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.zotero)


@pytest.fixture(scope="session")
def zotero_app() -> Path:
    """ZOTERO_APP: the folder of a Zotero 10 build (the one with the `zotero` launcher)."""
    app = Path(os.environ["ZOTERO_APP"])
    if not (app / "zotero").is_file():
        pytest.fail(f"ZOTERO_APP={app} has no `zotero` launcher; point it at a Zotero 10 folder")
    return app


@pytest.fixture(scope="session")
def product_xpi() -> Path:
    """dist/specter-desk.xpi, built by `make xpi` once per session."""
    return build_product_xpi()


@pytest.fixture(scope="session")
def helper_xpi(tmp_path_factory) -> Path:
    return build_helper_xpi(tmp_path_factory.mktemp("helper") / "helper.xpi")


class Stack:
    """A real Zotero with the product and helper plugins, and a daemon wired to it: Zotero is
    started with SPECTER_DESK_HOME (the plugin reads the daemon's token file there) and the
    bridge URL pref; the daemon's config points at Zotero's local API and zotero.sqlite."""

    def __init__(self, root: Path, app: Path, xpis: list[Path]):
        port = free_port()
        self.zotero = ZoteroApp(app=app, root=root / "zotero", port=port, xpis=xpis)
        self.daemon = Daemon.create(root / "specter-desk-home", self.zotero)
        self.zotero.env["SPECTER_DESK_HOME"] = str(self.daemon.home)
        self.zotero.prefs["extensions.specter-desk.bridgeURL"] = self.daemon.url
        # a quarter of the default quiet time before the plugin's sync request (keeps tests quick)
        self.zotero.prefs["extensions.specter-desk.syncDelayMs"] = "500"

    def stop(self) -> None:
        self.daemon.stop()
        self.zotero.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, zotero_app, product_xpi, helper_xpi) -> Iterator[Stack]:
    """Zotero started (plugins loaded), the daemon created but not started: a module fills the
    library, syncs and starts the daemon as its scenarios need."""
    made = Stack(tmp_path_factory.mktemp("stack"), zotero_app, [product_xpi, helper_xpi])
    made.zotero.start()
    yield made
    made.stop()
