"""The HNSW index: validated loads, rebuilds on damage, incremental updates."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import make_paper
from specter_desk.index import PaperIndex, build_index, index_health, open_index, paths_for


def _fill(store, n=60, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    papers = [make_paper(f"P{i:03d}", f"Paper {i}", f"abstract {i}") for i in range(n)]
    store.upsert_papers(papers)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store.save_vectors(
        "m", [(p.key, p.content_hash, v) for p, v in zip(papers, vectors, strict=True)]
    )
    return papers, vectors


def _exact_top(vectors, i, k):
    sims = vectors @ vectors[i]
    order = [j for j in np.argsort(-sims) if j != i]
    return order[:k]


def test_query_matches_exact_search(store, tmp_path):
    papers, vectors = _fill(store)
    index = open_index(store, "m", tmp_path)
    hits = index.query(vectors[0], 5, exclude={"P000"})[0]
    assert [k for k, _ in hits] == [papers[j].key for j in _exact_top(vectors, 0, 5)]
    assert hits[0][1] == pytest.approx(
        float(vectors[0] @ vectors[_exact_top(vectors, 0, 1)[0]]), abs=1e-4
    )


def test_saved_index_loads_without_rebuild(store, tmp_path):
    _fill(store)
    open_index(store, "m", tmp_path)
    notices = []
    index = open_index(store, "m", tmp_path, notice=notices.append)
    assert len(index) == 60 and notices == []
    assert index_health(store, "m", tmp_path)[0] == "ok"


@pytest.mark.parametrize("damage", ["delete", "truncate", "corrupt", "empty", "header", "dim"])
def test_damaged_index_is_rebuilt_with_a_notice(store, tmp_path, damage):
    papers, vectors = _fill(store)
    open_index(store, "m", tmp_path)
    data, header = paths_for(tmp_path, "m")
    if damage == "delete":
        data.unlink()
    elif damage == "truncate":
        data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    elif damage == "corrupt":  # same size, flipped bytes: an ANN library may load garbage
        raw = bytearray(data.read_bytes())
        for pos in range(1000, len(raw), 997):
            raw[pos] ^= 0xFF
        data.write_bytes(bytes(raw))
    elif damage == "empty":
        data.write_bytes(b"")
    elif damage == "header":
        header.write_text("{not json")
    elif damage == "dim":
        meta = json.loads(header.read_text())
        meta["dim"] = 8
        header.write_text(json.dumps(meta))
    assert index_health(store, "m", tmp_path)[0] == "invalid"
    notices = []
    index = open_index(store, "m", tmp_path, notice=notices.append)
    assert len(notices) == 1 and "rebuilt" in notices[0]
    assert len(index) == 60
    hits = index.query(vectors[3], 3, exclude={"P003"})[0]
    assert [k for k, _ in hits] == [papers[j].key for j in _exact_top(vectors, 3, 3)]
    assert index_health(store, "m", tmp_path)[0] == "ok"


def test_index_follows_store_changes_incrementally(store, tmp_path):
    papers, vectors = _fill(store)
    open_index(store, "m", tmp_path)
    store.mark_deleted(["P001"])
    new = make_paper("NEW", "New paper", "fresh")
    store.upsert_papers([new])
    store.save_vectors("m", [("NEW", new.content_hash, vectors[2])])
    assert index_health(store, "m", tmp_path)[0] == "stale"
    index = open_index(store, "m", tmp_path)
    assert "P001" not in index and "NEW" in index and len(index) == 60
    hits = index.query(vectors[2], 2, exclude={"P002"})[0]
    assert hits[0][0] == "NEW"
    assert all(k != "P001" for k, _ in index.query(vectors[1], 59)[0])


def test_adding_beyond_capacity_resizes(tmp_path):
    index = PaperIndex("m", 8, capacity=16)
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(100, 8)).astype(np.float32)
    index.add([f"k{i}" for i in range(100)], ["h"] * 100, vectors)
    assert len(index) == 100
    assert index.query(vectors[50], 1)[0][0][0] == "k50"


def test_query_with_filter_and_k_larger_than_index(store, tmp_path):
    _, vectors = _fill(store, n=10)
    index = build_index(store, "m")
    even = {f"P{i:03d}" for i in range(0, 10, 2)}
    hits = index.query(vectors[0], 50, allow=even.__contains__)[0]
    assert {k for k, _ in hits} == even
    assert len(index.query(vectors[0], 50)[0]) == 10


def test_auto_ef_is_64_up_to_100k_then_grows_with_the_index():
    from specter_desk.index import auto_ef

    assert auto_ef(0) == auto_ef(1_000) == auto_ef(100_000) == 64
    sizes = [200_000, 500_000, 1_000_000, 2_500_000]
    efs = [auto_ef(n) for n in sizes]
    assert efs == sorted(efs) and efs[0] > 64
    assert 240 <= auto_ef(1_000_000) <= 260  # where ef 256 measured recall@10 0.998


def test_search_breadth_is_auto_by_default_and_a_configured_one_is_kept(
    store, tmp_path, monkeypatch
):
    from specter_desk.index import IndexParams

    _, vectors = _fill(store)
    index = open_index(store, "m", tmp_path, params=IndexParams())
    index.query(vectors[0], 5)
    assert index.ef == 64  # 60 papers: auto is 64
    monkeypatch.setattr("specter_desk.index.auto_ef", lambda size: 90 + size)
    index.query(vectors[0], 5)
    assert index.ef == 150  # auto follows the live size (60)
    reopened = open_index(store, "m", tmp_path)  # params from the header: still auto
    assert reopened.params.ef_search == 0 and reopened.ef == 150
    fixed = open_index(store, "m", tmp_path, params=IndexParams(ef_search=300))
    fixed.query(vectors[0], 5)
    assert fixed.ef == 300


def test_configured_ef_search_reaches_the_desks_index(desk):
    desk.config.values["index"]["ef_search"] = 123
    assert desk.index_params.ef_search == 123
    desk.config.values["index"]["ef_search"] = 0
    assert desk.index_params.ef_for(1_000_000) > 64


def test_an_index_from_the_hnswlib_days_is_rebuilt_with_a_notice(store, tmp_path):
    """Format 1 headers (hnswlib files, before the move to usearch) are not trusted."""
    _fill(store)
    open_index(store, "m", tmp_path)
    data, header = paths_for(tmp_path, "m")
    meta = json.loads(header.read_text())
    meta["format"] = 1
    header.write_text(json.dumps(meta))
    notices = []
    index = open_index(store, "m", tmp_path, notice=notices.append)
    assert len(index) == 60 and "older specter-desk (hnswlib)" in notices[0]
    assert json.loads(header.read_text())["format"] == 2


@pytest.mark.parametrize("kind", ["small set", "large set", "callable"])
def test_filtered_queries_match_exact_search_over_the_admitted_papers(tmp_path, kind):
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(3000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = PaperIndex("m", 16)
    keys = [f"k{i}" for i in range(3000)]
    index.add(keys, ["h"] * 3000, vectors)
    if kind == "small set":  # exact over the few admitted
        admitted = set(keys[:40])
        allow = admitted
    else:  # most papers admitted: the graph is searched and the result filtered
        admitted = {k for i, k in enumerate(keys) if i % 10}
        allow = admitted if kind == "large set" else admitted.__contains__
    for row in (0, 77, 2999):
        hits = index.query(vectors[row], 10, allow=allow)[0]
        sims = vectors @ vectors[row]
        expected = [keys[j] for j in np.argsort(-sims) if keys[j] in admitted][:10]
        assert [k for k, _ in hits] == expected
        assert hits[0][1] == pytest.approx(float(sims[keys.index(hits[0][0])]), abs=1e-5)


def test_half_precision_index_keeps_neighbours_and_is_smaller(store, tmp_path):
    from specter_desk.index import IndexParams

    papers, vectors = _fill(store, n=300, dim=64)
    full = open_index(store, "m", tmp_path / "f32")
    half = open_index(store, "m", tmp_path / "f16", params=IndexParams(dtype="f16"))
    for row in (0, 150):  # f16 rounding may swap near-tied neighbours, never lose the paper
        got = [k for k, _ in half.query(vectors[row], 5)[0]]
        want = [k for k, _ in full.query(vectors[row], 5)[0]]
        assert got[0] == want[0] == papers[row].key and len(set(got) & set(want)) >= 4
    size = {d: paths_for(tmp_path / d, "m")[0].stat().st_size for d in ("f32", "f16")}
    assert size["f16"] < 0.7 * size["f32"]
    reopened = open_index(store, "m", tmp_path / "f16")  # the header says f16
    assert reopened.params.dtype == "f16" and len(reopened) == 300


def test_readers_and_a_writer_from_many_threads(tmp_path):
    """Queries while papers are added and removed: every answer is a valid neighbour list."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(2000, 16)).astype(np.float32)
    index = PaperIndex("m", 16)
    index.add([f"k{i}" for i in range(1000)], ["h"] * 1000, vectors[:1000])

    def write(step: int) -> None:
        start = 1000 + step * 100
        index.add(
            [f"k{i}" for i in range(start, start + 100)], ["h"] * 100, vectors[start : start + 100]
        )
        index.remove([f"k{i}" for i in range(step * 50, step * 50 + 50)])

    def read(row: int) -> list:
        return index.query(vectors[row % 2000], 10)[0]

    with ThreadPoolExecutor(6) as pool:
        writes = [pool.submit(write, s) for s in range(10)]
        reads = [pool.submit(read, r) for r in range(400)]
        for future in writes + reads:
            future.result()
    assert len(index) == 1500
    universe = {f"k{i}" for i in range(2000)}
    for hits in (f.result() for f in reads):
        scores = [score for _, score in hits]
        assert len(hits) == 10 and {k for k, _ in hits} <= universe
        assert scores == sorted(scores, reverse=True) and -1.0001 <= scores[-1] <= 1.0001
    assert [k for k, _ in index.query(vectors[1999], 1)[0]] == ["k1999"]
