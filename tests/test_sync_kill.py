"""Crash safety for real: SIGKILL a sync subprocess mid-sync, re-run, compare with a clean sync."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_zotero import FakeZotero, synthetic_library

SYNC = (
    "import sys; from specter_desk.desk import Desk; from specter_desk.sync import run_sync; "
    "r = run_sync(Desk(), 'user', embed=False); print(r.to_dict())"
)


def _env(home: Path, fake: FakeZotero) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(f'[zotero]\nlibrary_id = "{fake.user_id}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECTER_DESK")}
    env.update(
        SPECTER_DESK_HOME=str(home),
        SPECTER_DESK_ZOTERO_URL=fake.url,
        ZOTERO_API_KEY="good-key",
        SPECTER_DESK_NO_KEYRING="1",
    )
    return env


def _sync(home: Path, fake: FakeZotero) -> None:
    subprocess.run(
        [sys.executable, "-c", SYNC],
        env=_env(home, fake),
        check=True,
        capture_output=True,
        timeout=120,
    )


def _committed(db: Path) -> int:
    if not db.exists():
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute("SELECT count(*) FROM papers").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def _snapshot(db: Path) -> tuple[list[tuple], list[tuple]]:
    conn = sqlite3.connect(str(db))
    papers = conn.execute(
        "SELECT key, library, pool, version, item_type, title, abstract, doi, year, creators, "
        "tags, collections, deleted, text_source, content_hash FROM papers ORDER BY key"
    ).fetchall()
    state = conn.execute("SELECT library, version, details FROM sync_state").fetchall()
    conn.close()
    return papers, state


@pytest.mark.slow
@pytest.mark.parametrize("kill_after_pages", [1, 4])
def test_sync_converges_after_sigkill_mid_sync(tmp_path, kill_after_pages):
    with FakeZotero(api_key="good-key", page_delay=0.2) as fake:
        keys = synthetic_library(fake, 300, attachment_every=4)  # 8 pages of 50
        killed_home = tmp_path / "killed"
        env = _env(killed_home, fake)
        proc = subprocess.Popen(
            [sys.executable, "-c", SYNC], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        db = killed_home / "library.db"
        deadline = time.monotonic() + 60
        while _committed(db) < 50 * kill_after_pages:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "sync made no progress"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        papers, state = _snapshot(db)
        assert 0 < len(papers) < len(keys)
        assert state == []  # the library version never advanced past committed pages
        # The library changes while the sync is dead.
        fake.update_item(keys[0], title="Edited while the sync was dead")
        fake.delete_item(keys[-1])
        fake.add_item(title="Added while the sync was dead", abstractNote="new")
        fake.page_delay = 0.0
        _sync(killed_home, fake)
        clean_home = tmp_path / "clean"
        _sync(clean_home, fake)
        resumed, clean = _snapshot(db), _snapshot(clean_home / "library.db")
        live = [row for row in resumed[0] if row[12] == 0]
        assert live == clean[0]  # the clean sync never saw the item deleted meanwhile
        assert {row[0] for row in resumed[0] if row[12] == 1} <= {keys[-1]}
        assert [(lib, v) for lib, v, _ in resumed[1]] == [(lib, v) for lib, v, _ in clean[1]]
        assert resumed[1][0][1] == fake.library().version
        conn = sqlite3.connect(str(db))
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
