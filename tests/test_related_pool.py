"""related(pool=...) without scanning every key of the pool per query (issue 8)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import make_paper
from specter_desk.index import build_index
from specter_desk.models import CANDIDATE_POOL, LIBRARY_POOL
from specter_desk.services.related import related


@pytest.fixture
def mixed(store):
    """120 library papers and 3 candidates with random 16-d vectors, indexed."""
    rng = np.random.default_rng(0)
    papers = [make_paper(f"L{i}", f"Library paper {i}", "x") for i in range(120)]
    papers += [make_paper(f"C{i}", f"Candidate {i}", "x", pool=CANDIDATE_POOL) for i in range(3)]
    store.upsert_papers(papers)
    vectors = rng.standard_normal((len(papers), 16)).astype(np.float32)
    store.save_vectors(
        "m", ((p.key, p.content_hash, v) for p, v in zip(papers, vectors, strict=True))
    )
    return store, build_index(store, "m"), vectors, papers


def exact(vectors, papers, row, pool, k):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    sims = unit @ unit[row]
    order = [i for i in np.argsort(-sims) if i != row and papers[i].pool == pool]
    return [papers[i].key for i in order[:k]]


def test_dense_pool_gives_the_pools_nearest_papers(mixed):
    store, index, vectors, papers = mixed
    rows = related(store, index, papers[0], k=10, pool=LIBRARY_POOL)
    assert [r.key for r in rows] == exact(vectors, papers, 0, LIBRARY_POOL, 10)
    assert all(r.pool == LIBRARY_POOL for r in rows)


def test_small_pool_falls_back_to_the_filtered_search(mixed, monkeypatch):
    store, index, vectors, papers = mixed
    calls = []
    original = store.keys_in_pool
    monkeypatch.setattr(store, "keys_in_pool", lambda pool: calls.append(pool) or original(pool))
    rows = related(store, index, papers[5], k=10, pool=CANDIDATE_POOL)
    assert [r.key for r in rows] == exact(vectors, papers, 5, CANDIDATE_POOL, 10)
    assert len(rows) == 3 and calls == [CANDIDATE_POOL]


def test_dense_pool_does_not_list_the_whole_pool(mixed, monkeypatch):
    store, index, _, papers = mixed
    monkeypatch.setattr(store, "keys_in_pool", lambda pool: pytest.fail("scanned the pool"))
    assert len(related(store, index, papers[1], k=10, pool=LIBRARY_POOL)) == 10
