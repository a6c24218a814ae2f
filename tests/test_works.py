"""The store's works (services/works.py): copies grouped once for the whole store, so that the
bridge collapses related/search lists by lookup (issue 16's load figure) with the same answer
as the duplicate detector over each list; the map is made in the worker process, never used
after the store changed, and related() reads and kept duplicates answers take turns,
QUICK_READERS at a time."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from server_helpers import Bridge, demo_subset, tiny_bridge, wait_for
from test_copies import four_works

from conftest import make_paper
from specter_desk.server import routes
from specter_desk.server.context import QUICK_READERS
from specter_desk.server.slow_work import SlowWork
from specter_desk.services.duplicates import mark_distinct
from specter_desk.services.related import one_per_work
from specter_desk.services.works import Works, store_works
from specter_desk.store import Store


def test_store_works_groups_copies_under_their_smallest_key(store):
    store.upsert_papers(four_works())
    works = store_works(store)
    assert works is not None
    assert works.first == {
        "A1": "A1",
        "A2": "A1",
        "B1": "B1",
        "B2": "B1",
        "C1": "C1",
        "C2": "C1",
        "D1": "D1",
    }
    mark_distinct(store, ["B1", "B2"])
    assert store_works(store).work("B2") == "B2"  # a "not duplicates" mark keeps them apart


def test_deleted_papers_are_not_mapped_and_a_large_store_is_not_mapped(store):
    store.upsert_papers(four_works())
    store.mark_deleted(["D1"])
    assert "D1" not in store_works(store).first
    assert store_works(store, limit=5) is None


def test_one_per_work_by_lookup_equals_the_detector_over_the_list(store):
    papers = four_works()
    store.upsert_papers(papers)
    works = store_works(store)
    for item in papers:
        hits = [(p, 1.0 - i / 10) for i, p in enumerate(papers) if p.key != item.key]
        by_lookup = [p.key for p, _ in one_per_work(store, hits, item, works)]
        by_detector = [p.key for p, _ in one_per_work(store, hits, item)]
        assert by_lookup == by_detector
        assert item.key not in by_lookup
    assert [p.key for p, _ in one_per_work(store, [(p, 0.0) for p in papers], None, works)] == [
        "A1",
        "B1",
        "C1",
        "D1",
    ]


def test_a_list_with_a_paper_the_map_does_not_know_is_decided_over_the_list(store):
    papers = four_works()
    works = Works({p.key: p.key for p in papers})  # a map that (wrongly) knows no copies
    later = make_paper("B3", "Compressed sensing")  # added after the map was made
    listed = [(p, 0.0) for p in [*papers, later]]
    kept = [p.key for p, _ in one_per_work(store, listed, None, works)]
    assert kept == ["A1", "B1", "C1", "D1"]  # the detector's answer, not the map's


# -- in the bridge --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bridge(tmp_path_factory, tiny_model) -> Iterator[Bridge]:
    """A bridge over 40 demo papers and two copies of the fourth (one with another key only,
    one with a shouted title)."""
    from specter_desk.sync.demo import demo_papers

    papers = demo_subset(demo_papers(), 0, 40)
    home = tmp_path_factory.mktemp("works") / "home"
    papers = [
        *papers,
        replace(papers[3], key="COPYOF3"),
        replace(papers[3], key="LOUDCOPY", title=papers[3].title.upper()),
    ]
    with tiny_bridge(home, papers, timeout=120, slow=SlowWork(nice=0)) as bridge:
        yield bridge


def _related(bridge: Bridge, key: str, k: int = 10) -> list[str]:
    answer = bridge.client.get(f"/v1/papers/{key}/related", params={"k": k})
    assert answer.status_code == 200, answer.text
    return [r["key"] for r in answer.json()["related"]]


def test_related_by_the_map_equals_related_by_the_detector(bridge):
    ctx = bridge.ctx
    ctx.works()
    works = ctx.works_map.wait(120)
    assert works is not None and works.work("COPYOF3") == works.work("LOUDCOPY")
    keys = sorted(works.first)
    with_map = {key: _related(bridge, key, 15) for key in keys}
    ctx.works_map.enabled = False
    try:
        assert {key: _related(bridge, key, 15) for key in keys} == with_map
    finally:
        ctx.works_map.enabled = True
    for key, listed in with_map.items():
        assert len({works.work(k) for k in listed}) == len(listed)  # a work once
        assert works.work(key) not in {works.work(k) for k in listed}  # never the item's copies


def test_a_map_is_never_used_after_the_store_changed(bridge):
    ctx = bridge.ctx
    ctx.works()
    before = ctx.works_map.wait(120)
    assert before is not None and before.work("LOUDCOPY") == before.work("COPYOF3")
    group = sorted(k for k, w in before.first.items() if w == before.work("COPYOF3"))
    assert len(group) == 3  # the demo paper and its two copies
    other = Store(ctx.desk.paths.store_path)  # another connection commits, as a sync would
    try:
        mark_distinct(other, group)
        assert ctx.works() is None  # stale: not used; a new one is being made
        after = ctx.works_map.wait(120)
        assert after is not None and after.work("LOUDCOPY") != after.work("COPYOF3")
        assert "LOUDCOPY" in _related(bridge, "COPYOF3", 40)  # kept apart in the pane too
    finally:
        mark_distinct(other, group, distinct=False)
        other.close()
    wait_for(lambda: (ctx.works() or before).work("LOUDCOPY") == before.work("COPYOF3"))


def test_related_reads_and_kept_duplicates_take_turns_quick_readers_at_a_time(bridge, monkeypatch):
    running, most, lock = [0], [0], threading.Lock()

    def counted(call):
        def slowly(*args, **kwargs):
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.05)
            with lock:
                running[0] -= 1
            return call(*args, **kwargs)

        return slowly

    assert bridge.client.get("/v1/duplicates").status_code == 200  # made and kept
    cache = bridge.ctx.report_cache()
    monkeypatch.setattr(routes, "related_by", counted(routes.related_by))
    monkeypatch.setattr(cache, "kept", counted(cache.kept))
    key = next(iter(bridge.ctx.desk.store.papers())).key
    paths = [f"/v1/papers/{key}/related", "/v1/duplicates"] * (2 * QUICK_READERS)
    results: list[int] = []

    def one(path: str) -> None:
        client = bridge.anonymous(headers=bridge.client.headers)
        results.append(client.get(path).status_code)

    threads = [threading.Thread(target=one, args=(path,)) for path in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == [200] * len(threads)
    assert most[0] == QUICK_READERS  # they overlapped, but never more than that
