"""Whole-corpus embedding with the local engine: reader, shards, resume, index, import, CLI."""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from specter_desk.corpus import (
    build_corpus_index,
    embed_corpus,
    import_corpus,
    iter_shards,
    open_corpus_index,
    plan_corpus,
    read_corpus,
    read_manifest,
)
from specter_desk.corpus.reader import ReadStats
from specter_desk.corpus.shards import shard_paths
from specter_desk.errors import ConfigError, CorpusError, InputError

FIXTURE = Path(__file__).parent / "fixtures" / "corpus" / "specter_sample.jsonl"
runner = CliRunner()


def fixture_records() -> list[dict]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def all_vectors(out: Path) -> tuple[list[str], np.ndarray]:
    keys, blocks = [], []
    for shard in iter_shards(out):
        keys += shard.keys
        blocks.append(shard.vectors)
    return keys, np.vstack(blocks)


@pytest.fixture(scope="module")
def reference(tiny_model):
    """The single-process path: every fixture paper embedded in one Encoder call."""
    from specter_desk.embed.encoder import Encoder

    papers = list(read_corpus(FIXTURE, library="x"))
    vectors = Encoder(tiny_model, device="cpu").encode_papers(papers)
    return [p.key for p in papers], vectors


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, tiny_model) -> Path:
    """One complete tiny-model run of the fixture (shard size 25), made once per module."""
    out = tmp_path_factory.mktemp("finished") / "out"
    embed_corpus(FIXTURE, out, model="tiny", shard_size=25, devices="cpu")
    return out


@pytest.fixture
def finished(finished_run, tmp_path) -> Path:
    """A private copy of the finished run (named like the fixture's library)."""
    return Path(shutil.copytree(finished_run, tmp_path / "out"))


def assert_same_vectors(out: Path, reference) -> None:
    keys, vectors = all_vectors(out)
    ref_keys, ref_vectors = reference
    assert keys == ref_keys
    cosine = (vectors * ref_vectors).sum(1) / (
        np.linalg.norm(vectors, axis=1) * np.linalg.norm(ref_vectors, axis=1)
    )
    assert cosine.min() >= 0.999


# -- the reader ---------------------------------------------------------------------------


def test_reader_reads_jsonl_json_and_parquet_alike(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = fixture_records()
    from_jsonl = list(read_corpus(FIXTURE, library="x"))
    as_dict = tmp_path / "meta.json"
    as_dict.write_text(
        json.dumps({r["id"]: {k: v for k, v in r.items() if k != "id"} for r in records})
    )
    parquet = tmp_path / "corpus.parquet"
    pq.write_table(pa.Table.from_pylist(records), parquet)
    for other in (as_dict, parquet):
        papers = list(read_corpus(other, library="x"))
        assert [(p.key, p.content_hash) for p in papers] == [
            (p.key, p.content_hash) for p in from_jsonl
        ]
    assert len(from_jsonl) == 60 and from_jsonl[0].pool == "candidates"


def test_reader_skips_records_without_id_or_title_and_repeated_ids(tmp_path):
    path = write_jsonl(
        tmp_path / "c.jsonl",
        [
            {
                "id": "a",
                "title": "First",
                "abstract": "x",
                "doi": "https://doi.org/10.1000/AB",
                "arxiv_id": "arXiv:2101.00001v2",
                "year": "2021-03",
                "authors": ["A. Author"],
            },
            {"title": "no id"},
            {"paper_id": "b", "title": "  "},
            {"corpus_id": 7, "title": "Second"},
            {"id": "a", "title": "First again"},
            [1, 2],
        ],
    )
    stats = ReadStats()
    papers = list(read_corpus(path, library="x", stats=stats))
    assert [p.key for p in papers] == ["a", "7"]
    assert (papers[0].doi, papers[0].arxiv_id, papers[0].year) == ("10.1000/ab", "2101.00001", 2021)
    assert papers[0].creators == [{"creatorType": "author", "name": "A. Author"}]
    assert (stats.read, stats.invalid, stats.duplicates) == (2, 3, 1)
    assert any("line 5" in e for e in stats.examples)


def test_reader_errors_name_the_problem(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "title": "t"}\n{broken\n')
    with pytest.raises(InputError, match=r"bad.jsonl:2: not JSON"):
        list(read_corpus(bad, library="x"))
    with pytest.raises(InputError, match="unknown corpus format"):
        list(read_corpus(write_jsonl(tmp_path / "c.csv", []), library="x"))
    with pytest.raises(InputError, match="no such corpus file"):
        list(read_corpus(tmp_path / "missing.jsonl", library="x"))
    with pytest.raises(InputError, match="not a Parquet file"):
        (tmp_path / "x.parquet").write_bytes(b"not parquet")
        list(read_corpus(tmp_path / "x.parquet", library="x"))


# -- embedding into shards ----------------------------------------------------------------


def test_local_engine_writes_shards_that_match_the_single_process_path(tmp_path, reference):
    out = tmp_path / "out"
    run = embed_corpus(FIXTURE, out, model="tiny", shard_size=16, devices="cpu")
    assert (run.papers, run.shards, run.shards_embedded, run.papers_embedded) == (60, 4, 4, 60)
    assert run.complete and run.dim == 32 and run.papers_per_second > 0
    manifest = read_manifest(out)
    assert manifest["complete"] and [s["count"] for s in manifest["shards"]] == [16, 16, 16, 12]
    assert all(s["state"] == "done" for s in manifest["shards"])
    assert_same_vectors(out, reference)


def test_rerun_skips_finished_shards_and_redoes_torn_ones(tmp_path, reference):
    out = tmp_path / "out"
    embed_corpus(FIXTURE, out, model="tiny", shard_size=16, devices="cpu")
    again = embed_corpus(FIXTURE, out, model="tiny", shard_size=16, devices="cpu")
    assert (again.shards_skipped, again.shards_embedded, again.papers_embedded) == (4, 0, 0)
    # a crash between the two renames leaves a .npy without its .json: that shard is redone
    shard_paths(out, 1)[1].unlink()
    # a truncated .npy no longer matches the size its .json vouches for: redone too
    npy = shard_paths(out, 3)[0]
    npy.write_bytes(npy.read_bytes()[:100])
    written = {}
    resumed = embed_corpus(
        FIXTURE,
        out,
        model="tiny",
        shard_size=16,
        devices="cpu",
        on_shard=lambda r: written.setdefault(r.shard, r.count),
    )
    assert written == {1: 16, 3: 12}
    assert (resumed.shards_skipped, resumed.papers_embedded) == (2, 28)
    assert_same_vectors(out, reference)


def test_the_worker_loads_its_model_before_the_corpus_is_read(tmp_path, monkeypatch):
    import threading

    from specter_desk.corpus import shards, worker

    loading = threading.Event()
    real_init, real_read = worker.ShardWorker.__init__, shards.read_corpus

    def init(self, *args, **kwargs):
        loading.set()
        real_init(self, *args, **kwargs)

    def read(*args, **kwargs):
        assert loading.wait(60), "the corpus was read before any worker started"
        yield from real_read(*args, **kwargs)

    monkeypatch.setattr(worker.ShardWorker, "__init__", init)
    monkeypatch.setattr(shards, "read_corpus", read)
    run = embed_corpus(FIXTURE, tmp_path / "out", model="tiny", shard_size=16, devices="cpu")
    assert run.complete and run.papers_embedded == 60


@pytest.mark.slow
def test_worker_processes_run_before_the_corpus_is_read(tmp_path, monkeypatch, reference):
    from specter_desk.corpus import engine_local, shards

    spawned = []
    real_spawn, real_read = engine_local._spawn, shards.read_corpus

    def spawn(*args):
        spawned.extend(real_spawn(*args))
        return spawned

    def read(*args, **kwargs):
        assert len(spawned) == 2 and all(w.proc.is_alive() for w in spawned)
        yield from real_read(*args, **kwargs)

    monkeypatch.setattr(engine_local, "_spawn", spawn)
    monkeypatch.setattr(shards, "read_corpus", read)
    run = embed_corpus(FIXTURE, tmp_path / "out", model="tiny", shard_size=16, devices="cpu,cpu")
    assert run.complete and run.shards_embedded == 4
    assert_same_vectors(tmp_path / "out", reference)


def test_a_finished_run_starts_no_worker_on_a_rerun(tmp_path, monkeypatch):
    from specter_desk.corpus import engine_local

    out = tmp_path / "out"
    embed_corpus(FIXTURE, out, model="tiny", shard_size=16, devices="cpu")

    def refuse(self, *args):
        raise AssertionError("a worker was started for a finished corpus")

    monkeypatch.setattr(engine_local.LocalWorkers, "__init__", refuse)
    again = embed_corpus(FIXTURE, out, model="tiny", shard_size=16, devices="cpu")
    assert (again.shards_skipped, again.papers_embedded) == (4, 0)


def test_changed_papers_re_embed_only_their_shard(tmp_path):
    records = fixture_records()
    source = write_jsonl(tmp_path / "c.jsonl", records)
    out = tmp_path / "out"
    embed_corpus(source, out, model="tiny", shard_size=20, devices="cpu")
    records[45]["abstract"] += " Revised."
    write_jsonl(source, records)
    run = embed_corpus(source, out, model="tiny", shard_size=20, devices="cpu")
    assert (run.shards_skipped, run.shards_embedded) == (2, 1)
    shard = next(s for s in iter_shards(out) if s.shard == 2)
    assert shard.records[5]["abstract"].endswith("Revised.")


def test_an_out_dir_keeps_one_model_and_shard_size(finished):
    with pytest.raises(CorpusError, match="holds shards for model 'tiny'"):
        plan_corpus(FIXTURE, finished, "minilm", shard_size=25)
    with pytest.raises(CorpusError, match="--shard-size 25"):
        plan_corpus(FIXTURE, finished, "tiny", shard_size=10)


def test_bad_options_are_refused(tmp_path, tiny_model):
    empty = write_jsonl(tmp_path / "empty.jsonl", [{"title": "no id"}])
    with pytest.raises(CorpusError, match="no usable papers"):
        embed_corpus(empty, tmp_path / "o1", model="tiny", devices="cpu")
    with pytest.raises(ConfigError, match="unknown engine"):
        embed_corpus(FIXTURE, tmp_path / "o2", model="tiny", engine="spark")
    with pytest.raises(ConfigError, match="unknown device"):
        embed_corpus(FIXTURE, tmp_path / "o3", model="tiny", devices="tpu:0")
    with pytest.raises(ConfigError, match="CUDA GPU"):
        embed_corpus(FIXTURE, tmp_path / "o4", model="tiny", devices="cuda")


@pytest.mark.slow
def test_local_engine_hands_a_killed_workers_shards_to_the_others(tmp_path, reference):
    """Two spawned CPU workers; one is SIGKILLed after 2 shards; the other finishes the run."""
    out = tmp_path / "out"
    killed = []

    def kill_a_worker(result):  # result.worker is host:pid:device of the process that wrote it
        if not killed and len(list(out.glob("shard-*.json"))) >= 2:
            pid = int(result.worker.split(":")[1])
            assert pid != os.getpid()
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    run = embed_corpus(
        FIXTURE, out, model="tiny", shard_size=5, devices="cpu,cpu", on_shard=kill_a_worker
    )
    assert killed and run.complete and run.shards_embedded == 12
    assert len(run.engine_info["worker_deaths"]) == 1
    assert "exit code -9" in run.engine_info["worker_deaths"][0]
    assert_same_vectors(out, reference)


RUN_IN_CHILD = """
import sys
from specter_desk.corpus import embed_corpus
from specter_desk.embed.registry import ModelSpec, register_model
register_model(ModelSpec(name="tiny", hub_id="example/tiny", description="",
                         local_path=lambda: sys.argv[1]))
embed_corpus(sys.argv[2], sys.argv[3], model="tiny", shard_size=5, devices="cpu")
"""


@pytest.mark.slow
def test_rerun_after_the_whole_run_is_killed_skips_finished_shards(
    tmp_path, tiny_bert_dir, reference
):
    """SIGKILL the process running `embed_corpus` after 2 shards; the re-run only does the rest."""
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    child = subprocess.Popen(
        [sys.executable, "-c", RUN_IN_CHILD, str(tiny_bert_dir), str(FIXTURE), str(out)]
    )
    try:
        deadline = time.monotonic() + 120
        while len(list(out.glob("shard-*.json"))) < 2 and child.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    committed = {int(p.stem.split("-")[1]) for p in out.glob("shard-*.json")}
    assert 2 <= len(committed) < 12
    with pytest.raises(CorpusError, match="incomplete"):
        build_corpus_index(out)
    written = []
    run = embed_corpus(
        FIXTURE,
        out,
        model="tiny",
        shard_size=5,
        devices="cpu",
        on_shard=lambda r: written.append(r.shard),
    )
    assert run.complete and run.shards_skipped == len(committed)
    assert sorted(written) == sorted(set(range(12)) - committed)
    assert_same_vectors(out, reference)


# -- the index and the candidate pool -----------------------------------------------------


def test_corpus_index_finds_each_paper_and_detects_staleness(finished):
    out = finished
    info = build_corpus_index(out)
    assert (info.count, info.dim, info.model) == (60, 32, "tiny")
    index = open_corpus_index(out)
    keys, vectors = all_vectors(out)
    hits = index.query(vectors[[0, 30, 59]], 1)
    assert [row[0][0] for row in hits] == [keys[0], keys[30], keys[59]]
    assert read_manifest(out)["index"]["count"] == 60
    # re-embedding a shard (here: its commit record removed) makes the index stale
    shard_paths(out, 1)[1].unlink()
    embed_corpus(FIXTURE, out, model="tiny", shard_size=25, devices="cpu")
    manifest = read_manifest(out)
    manifest["index"]["shards"][1] = "0" * 64
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CorpusError, match="predates re-embedded shards"):
        open_corpus_index(out)
    build_corpus_index(out)
    data = out / "index" / "tiny.hnsw"
    data.write_bytes(data.read_bytes()[:-8])
    with pytest.raises(CorpusError, match="invalid"):
        open_corpus_index(out)


def test_tampered_shard_is_refused(finished):
    out = finished
    npy = shard_paths(out, 0)[0]
    data = bytearray(npy.read_bytes())
    data[-1] ^= 0xFF
    npy.write_bytes(bytes(data))
    with pytest.raises(CorpusError, match="does not match its checksum"):
        build_corpus_index(out)


def test_import_registers_the_corpus_as_candidates_with_vectors(tmp_path, desk, finished):
    from specter_desk.services.related import related

    out = finished
    result = import_corpus(desk.store, out)
    assert (result.added, result.vectors, result.library) == (60, 60, "corpus:specter_sample.jsonl")
    store = desk.store
    keys, vectors = all_vectors(out)
    assert store.keys_in_pool("candidates") == set(keys)
    assert store.missing_vectors("tiny", pool="candidates") == []  # nothing left to embed
    stored_keys, _, stored = store.vectors("tiny", keys)
    order = [stored_keys.index(k) for k in keys]
    np.testing.assert_array_equal(stored[order], vectors)
    paper = store.get_paper(keys[0])
    rows = related(store, desk.index("tiny"), paper, 3, pool="candidates")
    assert len(rows) == 3 and all(r.key in set(keys) for r in rows)
    # a smaller corpus re-imported under the same name: the papers that left are removed
    smaller = write_jsonl(tmp_path / "specter_sample.jsonl", fixture_records()[:50])
    embed_corpus(smaller, tmp_path / "out2", model="tiny", shard_size=25, devices="cpu")
    again = import_corpus(store, tmp_path / "out2")
    assert (again.unchanged, again.removed, again.added) == (50, 10, 0)
    assert store.keys_in_pool("candidates") == set(keys[:50])


def test_import_keeps_library_papers_whose_key_clashes(desk, finished):
    from conftest import make_paper

    first = fixture_records()[0]
    desk.store.upsert_papers([make_paper(first["id"], "My own paper", library="local")])
    result = import_corpus(desk.store, finished)
    assert result.clashes == [first["id"]] and result.vectors == 59
    assert desk.store.get_paper(first["id"]).title == "My own paper"


# -- the CLI ------------------------------------------------------------------------------


def invoke(*args):
    import specter_desk.cli.corpus  # noqa: F401  (registers `corpus`)
    from specter_desk.cli import app

    return runner.invoke(app, [str(a) for a in args])


def test_cli_embed_index_import_status(tmp_path, desk):
    out = tmp_path / "out"
    result = invoke(
        "corpus",
        "embed",
        FIXTURE,
        "--out",
        out,
        "--model",
        "tiny",
        "--shard-size",
        "25",
        "--devices",
        "cpu",
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["papers"], data["shards"], data["complete"], data["engine"]) == (
        60,
        3,
        True,
        "local",
    )
    result = invoke("corpus", "status", out, "--json")
    assert json.loads(result.stdout)["index"] == "missing"
    result = invoke("corpus", "index", out, "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["count"] == 60
    result = invoke("corpus", "import", out, "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["vectors"] == 60
    result = invoke("corpus", "status", out)
    assert "60/60 papers, 3/3 shards done; index ok" in " ".join(result.stdout.split())


def test_cli_errors_are_one_line_with_exit_codes(tmp_path, desk, finished):
    out = tmp_path / "empty"
    result = invoke("corpus", "index", out)
    assert result.exit_code == 7 and "no manifest.json" in result.output
    assert "Traceback" not in result.output
    result = invoke("corpus", "embed", tmp_path / "nope.jsonl", "--out", out, "-m", "tiny")
    assert result.exit_code == 2 and "no such corpus file" in result.output
    result = invoke("corpus", "embed", FIXTURE, "--out", out, "-m", "tiny", "--engine", "dask")
    assert result.exit_code == 2 and "unknown engine" in result.output
    partial = finished
    manifest = read_manifest(partial)  # as a run that was stopped half way leaves it
    manifest["complete"] = False
    (partial / "manifest.json").write_text(json.dumps(manifest))
    result = invoke("corpus", "import", partial)
    assert result.exit_code == 7
    assert "run the same `specter-desk corpus embed` again" in " ".join(result.output.split())


def test_a_model_that_is_not_on_disk_is_one_clear_error(tmp_path):
    from specter_desk.embed.registry import MODELS, ModelSpec, register_model
    from specter_desk.errors import ModelNotFoundError

    register_model(ModelSpec(name="absent", hub_id="example/absent-model", description=""))
    try:
        with pytest.raises(ModelNotFoundError, match="not on disk"):
            embed_corpus(FIXTURE, tmp_path / "out", model="absent", devices="cpu")
    finally:
        MODELS.pop("absent")
    assert not read_manifest(tmp_path / "out")["complete"]
