"""The cheaper steps behind recommend()'s index prefilter give the answers of the per-key,
per-paper steps they replace: eligibility of the index's hits checked in memory, library-copy
lookups batched per column (on real bib-dedupe duplicates), the crowded rows searched again,
and the small products run on one BLAS thread. Real store, real usearch index."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from conftest import make_paper
from specter_desk.blas import one_blas_thread
from specter_desk.index import PaperIndex
from specter_desk.models import CANDIDATE_POOL, LIBRARY_POOL, normalize_title
from specter_desk.services import prefilter
from specter_desk.services.citations.pool import CITING_LIBRARY, CITING_POOL
from specter_desk.services.copies import library_copies
from specter_desk.services.duplicates.service import (
    _best_matches,
    _lookup_keys,
    library_matches,
)
from specter_desk.services.duplicates.titles import title_key
from specter_desk.store import TITLE_TAIL_SQL, title_tail

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "dedup"


# -- eligibility of the index's hits ----------------------------------------------------------


@pytest.fixture
def mixed(store):
    """Live and deleted papers of the library, the candidates, the citing works and another
    pool, with votes both ways."""
    papers = [make_paper(f"L{i}", f"library {i}") for i in range(6)]
    papers += [
        make_paper(f"C{i}", f"candidate {i}", pool=CANDIDATE_POOL, library="file:pool.jsonl")
        for i in range(12)
    ]
    papers += [
        make_paper(f"W{i}", f"citing {i}", pool=CANDIDATE_POOL, library=CITING_LIBRARY)
        for i in range(5)
    ]
    papers += [make_paper(f"O{i}", f"other {i}", pool="elsewhere") for i in range(3)]
    store.upsert_papers(papers)
    store.mark_deleted(["L0", "C0", "W0", "O0"])
    return store, ["C1", "C2", "W1"], [p.key for p in papers] + ["GONE"]


def sql_eligible(store, source, votes, keys):
    """What the per-key SQL lookups (the path before) admit."""
    checked = prefilter.Eligible(store, source, votes)
    checked.outside = None  # force the per-key lookups
    return checked.among(keys)


@pytest.mark.parametrize("source", [CANDIDATE_POOL, CITING_POOL])
def test_in_memory_eligibility_admits_what_the_sql_lookups_admit(mixed, source):
    store, down, keys = mixed
    up = "C3" if source == CANDIDATE_POOL else "W2"
    votes = {key: -1 for key in down} | {up: 1}
    eligible = prefilter.Eligible(store, source, votes)
    assert (eligible.outside is not None) == (source == CANDIDATE_POOL)
    live = [k for k in keys if k != "GONE" and not k.endswith("0")]  # what an index holds
    expected = sql_eligible(store, source, votes, live)
    assert eligible.among(live) == expected
    assert up in expected and not expected & set(down)
    stored = store.get_papers(keys)
    assert {k for k, p in stored.items() if eligible.admits(p)} == sql_eligible(
        store, source, votes, keys
    )


def numpy_blas_threads() -> int | None:
    """The thread count of numpy's own BLAS (the one recommend()'s products run on), None
    when threadpoolctl cannot see it."""
    from threadpoolctl import threadpool_info

    for info in threadpool_info():
        if info["user_api"] == "blas" and "numpy" in info["filepath"]:
            return int(info["num_threads"])
    return None


def test_a_large_rest_of_the_store_is_looked_up_per_key(mixed, monkeypatch):
    store, down, keys = mixed
    monkeypatch.setattr(prefilter, "OUTSIDE_AT_MOST", 3)  # 8 live papers outside the pool
    eligible = prefilter.Eligible(store, CANDIDATE_POOL, {"C1": -1})
    assert eligible.outside is None
    assert eligible.among(keys) == sql_eligible(store, CANDIDATE_POOL, {"C1": -1}, keys)


def test_keys_outside_pool_reads_both_sides_of_the_pool_name(mixed):
    store, _, _ = mixed
    assert store.keys_outside_pool(CANDIDATE_POOL) == {"L1", "L2", "L3", "L4", "L5", "O1", "O2"}
    assert len(store.keys_outside_pool(CANDIDATE_POOL, limit=4)) == 4


# -- crowded rows are searched again -----------------------------------------------------------


def test_a_row_crowded_by_the_library_is_searched_again_for_its_nearest_candidates(store):
    """Around the first query the 150 nearest papers are library papers; around the second
    they are candidates. Each still gets its exact nearest eligible candidates."""
    rng = np.random.default_rng(3)
    dim = 16
    centres = np.eye(dim, dtype=np.float32)[:2]

    def around(centre, n, spread):
        block = centre + spread * rng.standard_normal((n, dim)).astype(np.float32)
        return block / np.linalg.norm(block, axis=1, keepdims=True)

    lib = around(centres[0], 150, 0.05)
    cands = np.vstack([around(centres[0], 200, 0.6), around(centres[1], 200, 0.3)])
    lib_keys = [f"L{i:03d}" for i in range(len(lib))]
    cand_keys = [f"C{i:03d}" for i in range(len(cands))]
    store.upsert_papers([make_paper(k, k) for k in lib_keys])
    store.upsert_papers(
        [make_paper(k, k, pool=CANDIDATE_POOL, library="file:c") for k in cand_keys]
    )
    index = PaperIndex("hand", dim)
    index.add(lib_keys + cand_keys, ["h"] * (len(lib) + len(cands)), np.vstack([lib, cands]))
    searches = []
    original = index.nearest_keys

    def spy(vectors, k, **kwargs):
        searches.append((len(vectors), k))
        return original(vectors, k, **kwargs)

    index.nearest_keys = spy
    found = prefilter._search(
        index, prefilter.Eligible(store, CANDIDATE_POOL, {}), centres, per_query=20
    )
    exact = set()
    for centre in centres:
        order = np.argsort(-(cands @ centre), kind="stable")[:20]
        exact |= {cand_keys[i] for i in order}
    assert len(found & exact) >= 0.95 * len(exact)
    assert len(found) == 40
    assert searches[0] == (2, 40) and all(rows == 1 for rows, _ in searches[1:])
    assert len(searches) >= 2  # the crowded row, alone, with more hits


# -- library-copy lookups, batched --------------------------------------------------------------


def per_paper_lookup(store, paper):
    """The lookups before batching: five identifier statements, then title, prefix, tail."""
    keys = set()
    for column, value in (
        ("doi", paper.doi),
        ("arxiv_id", paper.arxiv_id),
        ("pmid", paper.pmid),
        ("isbn", paper.isbn),
        ("key", paper.key),
    ):
        if value:
            keys.update(store.find_keys(column, value))
    for tkey in {normalize_title(paper.title), title_key(paper.title)}:
        if tkey:
            keys.update(store.find_keys("title_key", tkey))
        if len(tkey) >= 20:
            rows = store.db.execute(
                "SELECT key FROM papers WHERE title_key >= ? AND title_key < ? AND deleted = 0 "
                "ORDER BY title_key, key LIMIT 50",
                [tkey[:20], tkey[:20] + "\U0010ffff"],
            ).fetchall()
            keys.update(r[0] for r in rows)
            if len(title_tail(tkey)) >= 24:
                rows = store.db.execute(
                    f"SELECT key FROM papers WHERE {TITLE_TAIL_SQL} = ? AND deleted = 0 "
                    "ORDER BY key LIMIT 50",
                    [title_tail(tkey)],
                ).fetchall()
                keys.update(r[0] for r in rows)
    return keys


@pytest.fixture
def dedup_store(store, bench):
    """bib-dedupe's stroke and digital-work records: the first record of each labelled group
    in the library, every other record a candidate (with a few arXiv ids and PMIDs shared)."""
    papers, firsts = [], set()
    for name in ("stroke", "digital_work"):
        with open(FIXTURES / f"{name}_records.csv", encoding="utf-8") as fh:
            papers += [bench.paper_from_row(r) for r in csv.DictReader(fh)]
        with open(FIXTURES / f"{name}_groups.csv", encoding="utf-8") as fh:
            firsts |= {r["merged_ids"].split(";")[0] for r in csv.DictReader(fh)}
    papers = [
        replace(p, pool=LIBRARY_POOL if p.key in firsts else CANDIDATE_POOL, library="x")
        for p in papers
    ]
    for i in range(0, 40, 2):  # identifiers the real rows lack, shared by pairs
        papers[i] = replace(papers[i], arxiv_id=f"2401.{i:05d}", pmid=str(9000 + i))
        papers[i + 1] = replace(papers[i + 1], arxiv_id=f"2401.{i:05d}", pmid=str(9000 + i))
    # 60 titles with one 20-character prefix: the per-prefix limit of 50 applies
    papers += [
        make_paper(f"P{i:03d}", f"Stroke rehabilitation outcomes, cohort {i}", pool=CANDIDATE_POOL)
        for i in range(60)
    ]
    store.upsert_papers(papers)
    store.mark_deleted([papers[5].key])
    return store, [p for p in store.get_papers(p.key for p in papers).values() if not p.deleted]


def test_batched_lookups_find_what_the_per_paper_lookups_find(dedup_store):
    store, papers = dedup_store
    batched = _lookup_keys(store, papers)
    assert [per_paper_lookup(store, p) for p in papers] == batched
    assert sum(len(keys) > 1 for keys in batched) > 100  # copies are found, not only the paper


def test_batched_library_matches_equal_the_per_paper_ones_on_bib_dedupe(dedup_store):
    store, papers = dedup_store
    candidates = [p for p in papers if p.pool == CANDIDATE_POOL]
    reference = []
    for paper in candidates:
        keys = per_paper_lookup(store, paper)
        keys.discard(paper.key)
        reference.append(keys)
    expected = {
        candidates[m.index].key: m.key
        for m in _best_matches(store, candidates, reference, min_score=0.9)
    }
    assert library_matches(store, candidates) == expected
    assert len(expected) > 30  # real copies of library papers among the candidates
    copies = library_copies(store, candidates)
    assert set(expected) <= set(copies)
    assert all(store.get_paper(key).pool == LIBRARY_POOL for key in copies.values())


def test_batched_title_queries_keep_each_limit(dedup_store):
    store, _ = dedup_store
    prefix = normalize_title("Stroke rehabilitation outcomes")[:20]
    found = store.keys_with_title_prefixes([prefix, "zz no such title prefix"], limit=50)
    assert list(found) == [prefix] and len(found[prefix]) == 50
    assert found[prefix] == sorted(found[prefix], key=lambda k: (store.get_paper(k).title, k))
    tail = "rehabilitationoutcomescohort1"[-24:]
    titles = [normalize_title(f"Stroke rehabilitation outcomes, cohort {i}") for i in (1, 11)]
    tails = store.keys_with_title_tails([*titles, "short"], limit=1)
    assert tail in tails and all(len(keys) == 1 for keys in tails.values())
    values = ["9000", "9002", "nothing"]
    assert store.keys_by("pmid", values) == {
        v: store.find_keys("pmid", v) for v in values if store.find_keys("pmid", v)
    }
    assert len(store.keys_by("pmid", values)["9000"]) == 2
    with pytest.raises(ValueError):
        store.keys_by("abstract", ["x"])


# -- one BLAS thread for the small products ------------------------------------------------------


def test_one_blas_thread_inside_and_the_library_count_back_after_the_outermost_leaves():
    before = numpy_blas_threads()
    assert before, "numpy's BLAS is visible"
    with one_blas_thread():
        with one_blas_thread():  # a second caller inside at the same time
            inner = numpy_blas_threads()
        between = numpy_blas_threads()  # the first caller is still inside
    assert inner == between == 1
    assert numpy_blas_threads() == before
