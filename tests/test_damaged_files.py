"""Full disks and damaged files: a save that cannot be finished fails in one line and keeps
the old index; a swapped label, a 0-byte store, a malformed SQLite page and the temp files
of an interrupted save are each found and said or cleaned up, never served as data.

The full disk is a file size limit (RLIMIT_FSIZE) on a subprocess: writes past it fail with
EFBIG exactly as writes to a full disk fail with ENOSPC (short writes, then an error), it
needs no root and no loop device, and it leaves the rest of the machine alone. hnswlib, like
any library that writes through a C++ stream, says nothing when such a write fails.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import make_paper, run_specter_desk
from specter_desk.cli import app
from specter_desk.errors import StoreError
from specter_desk.index import PaperIndex, paths_for
from specter_desk.store import Store
from specter_desk.sync.writer import import_papers

runner = CliRunner()
MODEL = "minilm"  # a registered name; these tests store vectors directly, no model runs


def fill(home: Path, start: int, stop: int, dim: int = 64) -> None:
    store = Store(home / "library.db")
    papers = [
        make_paper(f"P{i:04d}", f"Paper number {i}", f"abstract {i}") for i in range(start, stop)
    ]
    import_papers(store, papers)
    vectors = np.random.default_rng(start).normal(size=(len(papers), dim)).astype(np.float32)
    rows = [(p.key, p.content_hash, v) for p, v in zip(papers, vectors, strict=True)]
    store.save_vectors(MODEL, rows)
    store.close()


def file_limit(size: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return apply


def cli(home: Path, *args: str, limit: int | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "SPECTER_DESK_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    return run_specter_desk(
        env, *args, timeout=300, preexec_fn=None if limit is None else file_limit(limit)
    )


def index_files(home: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((home / "index").iterdir())}


# -- a full disk ---------------------------------------------------------------------------


def test_index_rebuild_on_a_full_disk_fails_in_one_line_and_keeps_the_old_index(home):
    fill(home, 0, 300)
    assert cli(home, "index", "rebuild", "--model", MODEL).returncode == 0
    before = index_files(home)
    fill(home, 300, 900)
    done = cli(home, "index", "rebuild", "--model", MODEL, limit=200_000)
    assert done.returncode == StoreError.exit_code, done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    assert "index" in done.stderr and "kept" in done.stderr
    assert index_files(home) == before  # the old files, and no temp file left beside them
    assert len(PaperIndex.load(home / "index", MODEL)) == 300


def test_a_save_that_cannot_be_finished_raises_and_leaves_the_old_files(tmp_path):
    rng = np.random.default_rng(0)
    small = PaperIndex(MODEL, 64)
    small.add([f"K{i}" for i in range(50)], ["h"] * 50, rng.normal(size=(50, 64)))
    small.save(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    big = PaperIndex(MODEL, 64)
    big.add([f"K{i}" for i in range(2000)], ["h"] * 2000, rng.normal(size=(2000, 64)))
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, hard))
    try:
        with pytest.raises(StoreError, match="what was there before is kept"):
            big.save(tmp_path)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


TINY_CLI = """
import sys
from specter_desk.embed.registry import ModelSpec, register_model
folder = sys.argv.pop(1)
register_model(ModelSpec(name="tiny", hub_id="example/tiny-bert", description="tiny",
                         local_path=lambda: folder))
from specter_desk.cli import app
sys.argv[0] = "specter-desk"
app()
"""


def test_embed_on_a_full_disk_fails_in_one_line_and_keeps_the_old_index(
    home, tmp_path, tiny_bert_dir
):
    script = tmp_path / "tiny_cli.py"
    script.write_text(TINY_CLI)
    env = {**os.environ, "SPECTER_DESK_HOME": str(home), "HF_HUB_OFFLINE": "1"}

    def tiny_cli(*args: str, limit: int | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(script), str(tiny_bert_dir), *args, "--model", "tiny"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            preexec_fn=None if limit is None else file_limit(limit),  # noqa: PLW1509
        )

    fill(home, 0, 400, dim=32)  # as if embedded with the tiny model (32 dimensions)
    store = Store(home / "library.db")
    rows = [(k, h, v) for k, h, v in zip(*store.vectors(MODEL), strict=True)]
    store.save_vectors("tiny", rows)
    import_papers(store, [make_paper(f"B{i}", f"Tree paper {i}", "roots") for i in range(20)])
    store.close()
    assert tiny_cli("index", "rebuild").returncode == 0
    before = index_files(home)
    done = tiny_cli("embed", limit=60_000)  # the 20 new vectors fit, the whole index does not
    assert done.returncode == StoreError.exit_code, done.stderr
    lines = done.stderr.strip().splitlines()  # the progress bar's last state, then the error
    assert lines[-1].startswith("error: ") and "Traceback" not in done.stderr, done.stderr
    assert "disk full" in lines[-1] and "kept" in lines[-1], done.stderr
    assert index_files(home) == before
    assert len(PaperIndex.load(home / "index", "tiny")) == 400


# -- the index header's label map ------------------------------------------------------------


def test_a_swapped_label_is_invalid_in_status_and_doctor_and_is_rebuilt(home):
    fill(home, 0, 30)
    assert runner.invoke(app, ["index", "rebuild", "--model", MODEL]).exit_code == 0
    _, header_path = paths_for(home / "index", MODEL)
    header = json.loads(header_path.read_text())
    labels, hashes = header["labels"], header["hashes"]
    labels[3], labels[7] = labels[7], labels[3]  # two papers answer for each other
    hashes[3], hashes[7] = hashes[7], hashes[3]
    header_path.write_text(json.dumps(header))
    status = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert status["indexes"][MODEL]["state"] == "invalid"
    assert "label" in status["indexes"][MODEL]["detail"]
    doctor = runner.invoke(app, ["doctor", "--json"])
    (check,) = [c for c in json.loads(doctor.stdout)["checks"] if c["check"] == f"index {MODEL}"]
    assert check["state"] != "ok" and "label" in check["detail"]
    store = Store(home / "library.db")
    from specter_desk.index import open_index

    notices: list[str] = []
    index = open_index(store, MODEL, home / "index", notice=notices.append)
    assert notices and "label" in notices[0]
    vector = store.vectors(MODEL, ["P0003"])[2][0]
    assert index.query(vector, 1)[0][0][0] == "P0003"
    store.close()
    status = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert status["indexes"][MODEL]["state"] == "ok"


# -- a damaged store ---------------------------------------------------------------------------


def test_a_zero_byte_store_is_refused_and_left_alone(home):
    home.mkdir(parents=True)
    (home / "library.db").write_bytes(b"")
    for command in (["status"], ["related", "x"], ["embed"]):
        result = runner.invoke(app, command)
        assert result.exit_code == StoreError.exit_code, result.output
        assert result.stderr.count("\n") == 1 and "0 bytes" in result.stderr
        assert "backup" in result.stderr
    assert (home / "library.db").stat().st_size == 0


def test_a_malformed_page_is_one_line_with_the_way_back(home, tmp_path):
    fill(home, 0, 400)
    path = home / "library.db"
    page = 4096
    data = bytearray(path.read_bytes())
    assert len(data) > 20 * page
    for number in range(2, len(data) // page - 1):  # every page but the schema's
        data[number * page : number * page + 64] = b"\xa5" * 64
    path.write_bytes(bytes(data))
    more = tmp_path / "more.jsonl"
    more.write_text('{"key": "N1", "title": "A new paper"}\n')
    for command in (["status"], ["related", "P0001", "--model", MODEL], ["import", str(more)]):
        result = runner.invoke(app, command)
        assert result.exit_code == StoreError.exit_code, (command, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "damaged" in lines[0], (command, result.stderr)
        assert "backup" in lines[0] and "new data dir" in lines[0]


# -- temp files of an interrupted save ------------------------------------------------------------


def test_temp_files_of_an_interrupted_save_are_removed_on_next_start(home):
    fill(home, 0, 30)
    assert runner.invoke(app, ["index", "rebuild", "--model", MODEL]).exit_code == 0
    dead = 2**22 + 12345  # above Linux's default pid_max: no such process
    stale = [
        home / "index" / f".{MODEL}.hnsw.tmp-{dead}",
        home / "index" / f".{MODEL}.json.tmp-{dead}",
        home / f".bridge-token.tmp-{dead}",
    ]
    alive = home / "index" / f".{MODEL}.hnsw.tmp-{os.getppid()}"  # a running process's
    for path in [*stale, alive]:
        path.write_bytes(b"half written")
    result = runner.invoke(app, ["related", "P0001", "--model", MODEL, "--json"])
    assert result.exit_code == 0, result.output
    assert [p for p in stale if p.exists()] == []
    assert alive.exists()
