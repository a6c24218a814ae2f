"""The real daemon: `specter-desk serve` in a subprocess on a free 127.0.0.1 port, syncing from the
fake Zotero server, with the tiny BERT configured as the model's local path ([model.paths])."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from fake_zotero import FakeZotero, synthetic_library
from server_helpers import free_port, serve_env, start_serve, wait_for, wait_healthy

from conftest import run_specter_desk

pytestmark = pytest.mark.slow
USER = "user:475425"


def write_config(home: Path, tiny_bert_dir: Path, *, user_id: int = 475425) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        '[model]\nname = "minilm"\n'
        f'[model.paths]\nminilm = "{tiny_bert_dir}"\n'
        "[bridge]\nsync_interval_minutes = 0\n"
        f'[zotero]\nlibrary_id = "{user_id}"\n',
        encoding="utf-8",
    )


def client(home: Path, port: int) -> httpx.Client:
    token = (home / "bridge-token").read_text().strip()
    return httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        timeout=30,
        headers={"Authorization": f"Bearer {token}"},
    )


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
    return proc.wait(timeout)


def store_facts(home: Path) -> dict:
    """Read the store from outside the daemon, read-only."""
    conn = sqlite3.connect(f"file:{home / 'library.db'}?mode=ro", uri=True)
    try:
        state = conn.execute("SELECT version FROM sync_state WHERE library = ?", [USER]).fetchone()
        return {
            "integrity": conn.execute("PRAGMA integrity_check").fetchone()[0],
            "papers": conn.execute("SELECT count(*) FROM papers WHERE deleted = 0").fetchone()[0],
            "vectors": conn.execute(
                "SELECT count(*) FROM vectors v JOIN papers p ON p.key = v.key "
                "WHERE v.model = 'minilm' AND v.content_hash = p.content_hash"
            ).fetchone()[0],
            "version": state[0] if state else None,
            "orphans": conn.execute(
                "SELECT count(*) FROM vectors WHERE key NOT IN (SELECT key FROM papers)"
            ).fetchone()[0],
        }
    finally:
        conn.close()


def papers_now(home: Path) -> int:
    try:
        return store_facts(home)["papers"]
    except sqlite3.Error:  # not created or migrated yet
        return 0


def test_sigkill_mid_sync_then_restart_converges_and_survives_a_network_failure(
    home, tiny_bert_dir
):
    write_config(home, tiny_bert_dir)
    fake = FakeZotero(api_key="good-key", page_delay=0.5).start()
    keys = synthetic_library(fake, 100)
    env = serve_env(home, {"SPECTER_DESK_ZOTERO_URL": fake.url, "ZOTERO_API_KEY": "good-key"})

    # 1. SIGKILL once some pages are committed but not all
    port = free_port()
    proc = start_serve(home, port, env=env)
    try:
        wait_healthy(port, proc)
        assert (home / "bridge-token").stat().st_mode & 0o777 == 0o600
        with client(home, port) as api:
            assert api.post("/v1/sync", json={"library": "user"}).status_code == 202
            wait_for(lambda: 0 < papers_now(home) < len(keys), timeout=60, step=0.1)
    finally:
        stop(proc, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    after_kill = store_facts(home)
    assert after_kill["integrity"] == "ok" and after_kill["orphans"] == 0
    assert 0 < after_kill["papers"] < len(keys)
    assert after_kill["version"] in (None, 0)  # the library version is written last

    # 2. restart (the killed daemon's lock is free again); SIGTERM mid-sync stops cleanly
    port = free_port()
    proc = start_serve(home, port, env=env)
    try:
        wait_healthy(port, proc)
        with client(home, port) as api:
            assert api.post("/v1/sync", json={"library": "user"}).status_code == 202
            wait_for(lambda: api.get("/v1/sync").json()["state"] == "running", timeout=30)
            time.sleep(0.5)
    finally:
        started = time.monotonic()
        code = stop(proc, signal.SIGTERM)
    assert code == 0 and time.monotonic() - started < 20
    assert store_facts(home)["integrity"] == "ok"

    # 3. the next run completes the sync; then Zotero goes away and the daemon carries on
    port = free_port()
    proc = start_serve(home, port, env=env)
    try:
        wait_healthy(port, proc)
        with client(home, port) as api:
            assert api.post("/v1/sync", json={"library": "user"}).status_code == 202
            done = wait_for(
                lambda: (s := api.get("/v1/sync").json())["state"] in ("idle", "failed") and s,
                timeout=120,
                step=0.2,
            )
            assert done["state"] == "idle", done
            final = store_facts(home)
            assert final == {
                "integrity": "ok",
                "papers": len(keys),
                "vectors": len(keys),
                "version": fake.library().version,
                "orphans": 0,
            }

            fake.stop()  # connection refused from now on: a network failure
            assert api.post("/v1/sync", json={"library": "user"}).status_code == 202
            failed = wait_for(
                lambda: (s := api.get("/v1/sync").json())["state"] == "failed" and s, timeout=60
            )
            assert failed["last_error"]["code"] == "zotero_unreachable"
            assert failed["last_result"] == done["last_result"]
            status = api.get("/v1/status").json()
            assert status["sync"]["state"] == "failed" and status["papers"] == len(keys)
            related = api.get(f"/v1/papers/{keys[0]}/related", params={"k": 5})
            assert related.status_code == 200, related.text
            assert len(related.json()["related"]) == 5
            assert httpx.get(f"http://127.0.0.1:{port}/v1/status").status_code == 401

        # one daemon per data dir: a second serve says who holds it
        second = run_specter_desk(env, "serve", "--port", str(free_port()))
        assert second.returncode == 7
        assert "already running" in second.stderr and f"pid {proc.pid}" in second.stderr
        assert f"127.0.0.1:{port}" in second.stderr
        service = json.loads(run_specter_desk(env, "service", "status", "--json").stdout)
        assert service["daemon"] == {
            "running": True,
            "pid": proc.pid,
            "url": f"http://127.0.0.1:{port}",
            "answers": True,
        }
    finally:
        code = stop(proc)
        fake.stop()
    assert code == 0
    assert not (home / "serve.json").exists()
    out = (home / f"serve-{port}.out").read_text()
    assert "stopped" in out and "Traceback" not in out
