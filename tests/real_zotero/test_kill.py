"""Zotero killed (SIGKILL, with its X server) in the middle of `sync --library local`: the sync
fails with one clear line, what it committed stays and the store is sound; zotero.sqlite and
the -wal the crash left behind read fine offline; after a restart the sync finishes."""

from __future__ import annotations

import sqlite3
import time

import pytest

from specter_desk.store import Store

from .harness import Daemon, wait_until
from .library import connector_item, papers

COPIES = 20  # 20 x 60 papers = 1200 items: 24 pages of 50 to kill the sync in


@pytest.fixture(scope="module")
def big(stack):
    base = papers()
    for copy in range(COPIES):
        stack.zotero.save_items(
            connector_item({"title": f"{p['title']} ({copy})", "abstract": p["abstract"]})
            for p in base
        )
    stack.total = COPIES * len(base)
    assert len(stack.zotero.api("items", format="keys").text.split()) == stack.total
    return stack


def paper_count(daemon: Daemon) -> int:
    path = daemon.home / "library.db"
    if not path.exists():
        return 0
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM papers").fetchone()[0]
    except sqlite3.OperationalError:  # the store's tables are not created yet
        return 0
    finally:
        conn.close()


def test_killing_zotero_mid_sync_leaves_the_store_intact(big, tmp_path):
    daemon = Daemon.create(tmp_path / "home", big.zotero)
    sync = daemon.popen("sync", "--library", "local", "--no-embed", "--json")
    wait_until(lambda: paper_count(daemon) > 0, 120, "the first committed page")
    big.zotero.kill()
    started = time.monotonic()
    _, stderr = sync.communicate(timeout=120)
    assert sync.returncode != 0, "the sync noticed"
    assert time.monotonic() - started < 60
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Zotero is not running" in lines[0], stderr
    committed = paper_count(daemon)
    assert 0 < committed < big.total and committed % 50 == 0, committed

    store = Store(daemon.home / "library.db")
    try:
        assert store.db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert store.sync_state("local")["version"] == 0, "no version before the last page"
    finally:
        store.close()
    status = daemon.cli_json("status")
    assert status is not None

    # offline, the database and the -wal the crash left: every item is there
    offline = Daemon.create(tmp_path / "offline", big.zotero)
    result = offline.cli_json("sync", "--library", "sqlite", "--no-embed")
    assert result["added"] == big.total, result

    big.zotero.start()
    result = daemon.cli_json("sync", "--library", "local", "--no-embed")
    assert result["added"] == big.total - committed, result
    assert paper_count(daemon) == big.total
