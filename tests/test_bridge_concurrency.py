"""No request waits on another (issue 18, and issue 16's "one slow request stalls everyone").

Each test holds one request inside the work that used to take the bridge's one lock (a
search encoding its query, duplicates over the library, a related() read, the sync worker
saving the index) and shows that another request is answered while the first is still held.
Nothing here measures time: the held request is released only after the other one returned,
so with a shared lock the second request could not finish (it fails on its client timeout).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from server_helpers import Bridge, demo_subset, tiny_bridge

from specter_desk.embed.pipeline import embed_missing
from specter_desk.sync.writer import import_papers

HOLD = 60  # seconds a held call waits for release before it gives up (a failing test)


class Hold:
    """Wraps a function: calls for which `when` is true wait inside it until released."""

    def __init__(self, function, when=lambda *args, **kwargs: True):
        self.function = function
        self.when = when
        self.entered = threading.Event()
        self.released = threading.Event()

    def __call__(self, *args, **kwargs):
        if self.when(*args, **kwargs):
            self.entered.set()
            assert self.released.wait(HOLD), "the test never released the held call"
        return self.function(*args, **kwargs)


@pytest.fixture(scope="module")
def bridge(tmp_path_factory, tiny_model) -> Iterator[Bridge]:
    """A bridge over 40 demo papers embedded with the tiny model (no sync worker)."""
    from specter_desk.sync.demo import demo_papers

    home = tmp_path_factory.mktemp("concurrency") / "home"
    with tiny_bridge(home, demo_subset(demo_papers(), 0, 40)) as bridge:
        yield bridge


def _other_client(bridge: Bridge) -> httpx.Client:
    return httpx.Client(
        base_url=bridge.url, timeout=HOLD + 30, headers={"Authorization": f"Bearer {bridge.token}"}
    )


def _keys(bridge: Bridge) -> list[str]:
    return bridge.ctx.desk.index().keys()


def _while_held(hold: Hold, held_request, other_request) -> tuple[httpx.Response, httpx.Response]:
    """Start held_request, wait until it is inside the held call, run other_request, and
    only then release the held one. Returns (held response, other response)."""
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(held_request)
        try:
            assert hold.entered.wait(HOLD), "the held request never reached the held call"
            other = other_request()  # must come back while the first one is still held
            assert not held.done()
        finally:
            hold.released.set()
        return held.result(), other


def test_related_is_answered_while_a_search_encodes_its_query(bridge, monkeypatch):
    encoder = bridge.ctx.desk.encoder()  # tiny has no query model: search uses this one
    hold = Hold(encoder.encode)
    monkeypatch.setattr(encoder, "encode", hold)
    key = _keys(bridge)[0]
    with _other_client(bridge) as searcher:
        searched, related = _while_held(
            hold,
            lambda: searcher.post("/v1/search", json={"query": "platform work", "k": 3}),
            lambda: bridge.client.get(f"/v1/papers/{key}/related", params={"k": 3}),
        )
    assert related.status_code == 200 and len(related.json()["related"]) == 3
    assert searched.status_code == 200 and len(searched.json()["results"]) == 3


def test_related_and_status_are_answered_while_duplicates_runs(bridge, monkeypatch):
    # held in the request thread that waits for the worker process making the report
    hold = Hold(bridge.ctx.slow.run)
    monkeypatch.setattr(bridge.ctx.slow, "run", hold)
    monkeypatch.setattr(bridge.ctx.report_cache(), "enabled", False)
    key = _keys(bridge)[1]

    def related_and_status():
        answer = bridge.client.get(f"/v1/papers/{key}/related", params={"k": 3})
        assert bridge.client.get("/v1/status").status_code == 200
        return answer

    with _other_client(bridge) as slow:
        found, related = _while_held(
            hold, lambda: slow.get("/v1/duplicates", params={"min_score": 0}), related_and_status
        )
    assert related.status_code == 200 and found.status_code == 200
    assert "clusters" in found.json()


def test_a_related_read_does_not_wait_for_another_related_read(bridge, monkeypatch):
    from specter_desk.server import routes

    first, second = _keys(bridge)[2:4]
    hold = Hold(routes.related_by, when=lambda store, index, paper, k, **by: paper.key == first)
    monkeypatch.setattr(routes, "related_by", hold)
    with _other_client(bridge) as reader:
        held, other = _while_held(
            hold,
            lambda: reader.get(f"/v1/papers/{first}/related", params={"k": 3}),
            lambda: bridge.client.get(f"/v1/papers/{second}/related", params={"k": 3}),
        )
    assert held.json()["item"]["key"] == first and other.json()["item"]["key"] == second


def test_related_is_answered_while_the_worker_saves_the_refreshed_index(bridge, monkeypatch):
    from specter_desk.index import PaperIndex
    from specter_desk.models import Paper

    desk = bridge.ctx.desk
    worker_desk = desk.sibling()  # what the sync worker refreshes through
    hold = Hold(PaperIndex.save)
    monkeypatch.setattr(PaperIndex, "save", lambda self, *args, **kw: hold(self, *args, **kw))
    new = Paper(key="NEWPAPER", title="Gig workers and algorithmic management", library="demo")
    import_papers(worker_desk.store, [new])
    embed_missing(worker_desk.store, worker_desk.encoder())
    key = _keys(bridge)[4]
    with ThreadPoolExecutor(1) as pool:
        refresh = pool.submit(worker_desk.refresh_index, "tiny")  # holds the Desk's lock
        try:
            assert hold.entered.wait(HOLD)
            answer = bridge.client.get(f"/v1/papers/{key}/related", params={"k": 3})
            assert not refresh.done()
        finally:
            hold.released.set()
        assert refresh.result() == (1, 0)
    assert answer.status_code == 200
    assert "NEWPAPER" in desk.index()  # the refresh went through
    worker_desk.store.mark_deleted(["NEWPAPER"])
    worker_desk.refresh_index("tiny")
    worker_desk.close()


def test_duplicates_are_made_outside_the_daemons_process(bridge):
    """In a thread of the daemon the scan would hold its GIL (test_slow_work.py has more)."""
    assert bridge.client.get("/v1/duplicates").status_code == 200
    assert bridge.ctx.slow.pids and os.getpid() not in bridge.ctx.slow.pids
