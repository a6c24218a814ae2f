"""The SQLite store: schema, migrations, upserts, deletion flags, vectors, sync state."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from conftest import make_paper
from specter_desk import store as store_module
from specter_desk.errors import StoreError
from specter_desk.models import CANDIDATE_POOL
from specter_desk.store import Store


def test_new_store_is_wal_with_foreign_keys_and_current_schema(store):
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.schema_version == len(store_module.MIGRATIONS)
    assert {"papers", "vectors", "sync_state", "meta"} <= set(store.db.table_names())


def test_store_from_a_newer_version_is_refused(home):
    path = home / "library.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        Store(path)


def test_pending_migrations_are_applied_in_order(home, monkeypatch):
    path = home / "library.db"
    Store(path).close()
    applied = []

    def migration_next(db):
        applied.append("next")
        db.execute("CREATE TABLE extra (x INTEGER)")

    monkeypatch.setattr(store_module, "MIGRATIONS", [*store_module.MIGRATIONS, migration_next])
    reopened = Store(path)
    assert applied == ["next"]
    assert "extra" in reopened.db.table_names()
    assert reopened.schema_version == len(store_module.MIGRATIONS)
    Store(path).close()  # already migrated: nothing runs twice
    assert applied == ["next"]


def test_upsert_round_trips_every_field(store):
    paper = make_paper(
        "K1",
        "Graph networks",
        "We study graphs.",
        doi="10.1000/ABC",
        year=2020,
        creators=[{"lastName": "Müller", "firstName": "Anna"}],
        tags=["gnn"],
        library="user:1",
        raw={"data": {"x": 1}},
    )
    store.upsert_papers([paper])
    back = store.get_paper("K1")
    assert back == paper
    assert back.doi == "10.1000/abc"
    assert store.find_keys("doi", "10.1000/abc") == ["K1"]
    assert store.find_keys("title_key", "graph networks") == ["K1"]


def test_failed_transaction_keeps_what_was_committed(store):
    store.upsert_papers([make_paper("A", "First")])
    with pytest.raises(RuntimeError), store.transaction():
        store.upsert_papers([make_paper("B", "Second")])
        raise RuntimeError("crash mid-page")
    assert store.get_paper("A") is not None
    assert store.get_paper("B") is None


def test_deleted_papers_leave_queries_but_stay_stored(store):
    store.upsert_papers([make_paper("A", "Alpha"), make_paper("B", "Beta")])
    assert store.mark_deleted(["A", "missing"]) == 1
    assert [p.key for p in store.papers()] == ["B"]
    assert store.get_paper("A").deleted is True
    assert store.find_keys("title_key", "alpha") == []


def test_pools_are_kept_apart(store):
    store.upsert_papers([make_paper("L", "Lib"), make_paper("C", "Cand", pool=CANDIDATE_POOL)])
    assert [p.key for p in store.papers()] == ["L"]
    assert [p.key for p in store.papers(pool=CANDIDATE_POOL)] == ["C"]
    assert store.keys_in_pool(CANDIDATE_POOL) == {"C"}


def test_vectors_follow_content_hash(store):
    paper = make_paper("A", "Title", "Abstract")
    store.upsert_papers([paper])
    assert [p.key for p in store.missing_vectors("m")] == ["A"]
    store.save_vectors("m", [("A", paper.content_hash, np.ones(4, dtype=np.float32))])
    assert store.missing_vectors("m") == []
    keys, hashes, matrix = store.vectors("m")
    assert keys == ["A"] and matrix.shape == (1, 4) and matrix.dtype == np.float32
    store.upsert_papers([make_paper("A", "Title", "Changed abstract")])
    assert [p.key for p in store.missing_vectors("m")] == ["A"]
    assert store.vectors("m")[0] == []  # the stale vector is not served


def test_sync_state_round_trip(store):
    assert store.sync_state("user:1")["version"] == 0
    store.set_sync_state("user:1", 42, {"pages": 3})
    state = store.sync_state("user:1")
    assert state["version"] == 42 and state["details"] == {"pages": 3}
    assert state["synced_at"].endswith("Z")


def test_migration_5_keeps_not_duplicates_and_re_normalises_encoded_dois(home, monkeypatch):
    path = home / "library.db"
    monkeypatch.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:4])
    old = Store(path)
    old.upsert_papers([make_paper("K1", "Global burden", doi="10.1016/s0140-6736(17)32154-2")])
    # what an older specter-desk stored: only %2F was decoded
    old.db.execute("UPDATE papers SET doi = '10.1016/s0140-6736%2817%2932154-2' WHERE key = 'K1'")
    old.close()
    monkeypatch.undo()
    store = Store(path)
    assert store.schema_version == len(store_module.MIGRATIONS)  # 5, then the later ones
    assert store.find_keys("doi", "10.1016/s0140-6736(17)32154-2") == ["K1"]
    assert store.mark_distinct(["K2", "K1", "K3"]) == 3
    assert store.mark_distinct(["K1", "K2"]) == 0  # already marked
    store.upsert_papers([make_paper("K1", "Global burden, revised")])  # a re-sync
    assert [p[:2] for p in store.distinct_pairs()] == [("K1", "K2"), ("K1", "K3"), ("K2", "K3")]
    assert store.unmark_distinct(["K3", "K1"]) == 1
    assert [p[:2] for p in store.distinct_pairs()] == [("K1", "K2"), ("K2", "K3")]
