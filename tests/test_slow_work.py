"""Slow work off the daemon's GIL (issue 16's load figure): GET /v1/duplicates is made in a
worker process that reads the store read-only, a worker that dies is replaced, the worker stops
with the daemon, and the answers kept between requests are never served after the store
changed (a sync, an embedding run, a "not duplicates" mark)."""

from __future__ import annotations

import os
import signal
import sqlite3
from collections.abc import Iterator
from dataclasses import replace

import httpx
import psutil
import pytest
from server_helpers import (
    Bridge,
    demo_subset,
    free_port,
    start_serve,
    tiny_bridge,
    wait_for,
    wait_healthy,
)

from specter_desk.embed.pipeline import embed_missing
from specter_desk.errors import StoreError
from specter_desk.server.slow_work import SlowWork, WorkerDiedError
from specter_desk.server.token import ensure_token
from specter_desk.services.duplicates import find_duplicates
from specter_desk.store import Store
from specter_desk.sync.writer import import_papers


def die(*args) -> None:
    """Run in the worker process: it ends at once, as a kill or the OOM killer would end it."""
    os._exit(3)


@pytest.fixture(scope="module")
def bridge(tmp_path_factory, tiny_model) -> Iterator[Bridge]:
    """A bridge over 30 demo papers (embedded with the tiny model) and a copy of one."""
    from specter_desk.sync.demo import demo_papers

    papers = demo_subset(demo_papers(), 0, 30)
    home = tmp_path_factory.mktemp("slow-work") / "home"
    papers = [*papers, replace(papers[3], key="COPYOF3")]
    with tiny_bridge(home, papers, timeout=120, slow=SlowWork(nice=0)) as bridge:
        yield bridge


class Counting:
    """Wraps SlowWork.run on one bridge: counts the calls that reach the worker process."""

    def __init__(self, bridge: Bridge, monkeypatch):
        self.calls = 0
        run = bridge.ctx.slow.run

        def counted(*args):
            self.calls += 1
            return run(*args)

        monkeypatch.setattr(bridge.ctx.slow, "run", counted)


def _clusters(bridge: Bridge, **params) -> list[set[str]]:
    answer = bridge.client.get("/v1/duplicates", params=params)
    assert answer.status_code == 200, answer.text
    return [{p["key"] for p in c["papers"]} for c in answer.json()["clusters"]]


def test_duplicates_are_made_in_a_worker_process_with_the_same_answer(bridge):
    answer = bridge.client.get("/v1/duplicates", params={"min_score": 0.5})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    pids = bridge.ctx.slow.pids
    assert pids and os.getpid() not in pids
    desk = bridge.ctx.desk
    in_process = find_duplicates(desk.store, desk.index(), min_score=0.5).to_dict()
    assert answer.json() == in_process
    assert any("COPYOF3" in {p["key"] for p in c["papers"]} for c in in_process["clusters"])


def test_kept_answers_are_never_served_after_the_store_changed(bridge, monkeypatch):
    counting = Counting(bridge, monkeypatch)
    desk = bridge.ctx.desk
    original = desk.store.get_paper("COPYOF3")
    twin = next(p for p in desk.store.papers() if p.title == original.title and p.key != "COPYOF3")
    first = _clusters(bridge)
    assert {"COPYOF3", twin.key} in first
    calls = counting.calls
    assert _clusters(bridge) == first and counting.calls == calls  # kept: no new scan
    _clusters(bridge, min_score=0.61)
    assert counting.calls == calls + 1  # other parameters, another answer

    # a "not duplicates" mark through the bridge
    marked = bridge.client.post("/v1/duplicates/distinct", json={"keys": ["COPYOF3", twin.key]})
    assert marked.status_code == 200
    assert {"COPYOF3", twin.key} not in _clusters(bridge)
    bridge.client.post(
        "/v1/duplicates/distinct", json={"keys": ["COPYOF3", twin.key], "distinct": False}
    )
    assert {"COPYOF3", twin.key} in _clusters(bridge)

    # a sync committed by another connection (the sync worker writes through its own)
    other = Store(desk.paths.store_path)
    try:
        import_papers(other, [replace(original, key="THIRDCOPY")])
        assert {"COPYOF3", twin.key, "THIRDCOPY"} in _clusters(bridge)
        # an embedding run: the new paper's vector is taken in (the answer is made again)
        before = counting.calls
        embed_missing(other, desk.encoder())
        _clusters(bridge)
        assert counting.calls == before + 1
        # a merge synced from Zotero: the merged-away copy is deleted
        other.mark_deleted(["THIRDCOPY"])
        assert {"COPYOF3", twin.key} in _clusters(bridge)
        assert not any("THIRDCOPY" in c for c in _clusters(bridge))
    finally:
        other.mark_deleted(["THIRDCOPY"])
        other.close()


def test_the_cache_can_be_bypassed_so_every_call_scans(bridge, monkeypatch):
    counting = Counting(bridge, monkeypatch)
    cache = bridge.ctx.report_cache()
    monkeypatch.setattr(cache, "enabled", False)
    for _ in range(3):
        _clusters(bridge)
    assert counting.calls == 3


def test_a_killed_worker_process_is_replaced(bridge, monkeypatch):
    monkeypatch.setattr(bridge.ctx.report_cache(), "enabled", False)
    expected = bridge.client.get("/v1/duplicates").json()
    [pid] = bridge.ctx.slow.pids
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie")
    answer = bridge.client.get("/v1/duplicates")
    assert answer.status_code == 200 and answer.json() == expected
    assert bridge.ctx.slow.pids and pid not in bridge.ctx.slow.pids


def test_a_worker_that_dies_on_a_request_answers_one_line_503_and_the_next_works(
    bridge, monkeypatch
):
    from specter_desk.server import routes

    monkeypatch.setattr(bridge.ctx.report_cache(), "enabled", False)
    with monkeypatch.context() as patch:
        patch.setattr(routes, "duplicates_json", die)
        answer = bridge.client.get("/v1/duplicates")
    assert answer.status_code == 503
    error = answer.json()["error"]
    assert error["code"] == "worker_died" and "\n" not in error["message"]
    assert "try again" in error["message"]
    assert bridge.client.get("/v1/duplicates").status_code == 200


def test_slow_work_replaces_its_process_and_stops_it_on_close():
    slow = SlowWork(nice=0)
    first = slow.run(os.getpid)
    assert first != os.getpid()
    with pytest.raises(WorkerDiedError):
        slow.run(die)
    second = slow.run(os.getpid)
    assert second != first
    slow.close()
    wait_for(lambda: not psutil.pid_exists(second) or psutil.Process(second).status() == "zombie")
    with pytest.raises(WorkerDiedError, match="shutting down"):
        slow.run(os.getpid)


def test_a_read_only_store_reads_and_refuses_writes(tmp_path):
    from specter_desk.sync.demo import demo_papers

    store = Store(tmp_path / "library.db")
    import_papers(store, demo_subset(demo_papers(), 0, 3))
    reader = Store(tmp_path / "library.db", read_only=True)
    try:
        assert reader.count_papers() == 3
        with pytest.raises((StoreError, sqlite3.OperationalError)):
            reader.mark_deleted([next(reader.papers()).key])
        assert store.count_papers() == 3
    finally:
        reader.close()
        store.close()
    with pytest.raises(StoreError, match="no such file"):
        Store(tmp_path / "missing.db", read_only=True)
    assert not (tmp_path / "missing.db").exists()


def test_serve_replaces_a_killed_worker_and_stops_it_on_sigterm(tmp_path):
    from specter_desk.sync.demo import demo_papers

    home = tmp_path / "home"
    store = Store(home / "library.db")
    papers = demo_subset(demo_papers(), 0, 20)
    import_papers(store, [*papers, replace(papers[0], key="COPYOF0")])
    store.close()
    token = ensure_token(home)
    port = free_port()
    proc = start_serve(home, port)
    try:
        wait_healthy(port, proc)
        api = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            timeout=120,
            headers={"Authorization": f"Bearer {token}"},
        )

        def workers() -> list[psutil.Process]:
            return [
                p
                for p in psutil.Process(proc.pid).children(recursive=True)
                if "spawn_main" in " ".join(p.cmdline())
            ]

        first = api.get("/v1/duplicates", params={"min_score": 0.5})
        assert first.status_code == 200
        assert any("COPYOF0" in {p["key"] for p in c["papers"]} for c in first.json()["clusters"])
        [worker] = workers()
        worker.kill()
        worker.wait(10)
        # another min_score: not a kept answer, so the request needs the (new) worker
        again = api.get("/v1/duplicates", params={"min_score": 0.4})
        assert again.status_code == 200, again.text
        [replacement] = workers()
        assert replacement.pid != worker.pid
        children = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
        gone, alive = psutil.wait_procs(children, timeout=15)
        assert not alive, f"left running after serve stopped: {alive}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
