"""Settings and environment: every value is checked when the config is read, and a data dir
that cannot be used is one line naming the path, for every command that touches it."""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import run_specter_desk
from specter_desk.cli import app

runner = CliRunner()


def write_config(home: Path, text: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ("[index]\nm = 0", "index.m must be from 2 to 100, got 0"),
        ("[index]\nm = 1", "index.m must be from 2 to 100, got 1"),
        ("[index]\nm = -4", "index.m must be from 2 to 100, got -4"),
        ("[index]\nm = 100000", "index.m must be from 2 to 100, got 100000"),
        ("[index]\nef_search = -5", "index.ef_search must be 0 (automatic) or from 1 to"),
        ("[index]\nef_construction = 0", "index.ef_construction must be from 1 to"),
        ("[bridge]\nport = 99999", "bridge.port must be from 1 to 65535, got 99999"),
        ("[bridge]\nport = 0", "bridge.port must be from 1 to 65535, got 0"),
        ("[bridge]\nsync_interval_minutes = -1", "bridge.sync_interval_minutes must be 0 (off)"),
        ("[daemon]\nnice = -5", "daemon.nice must be from 0 to 19, got -5"),
        ("[daemon]\nthreads = -2", "daemon.threads must be 0 (every core) or from 1 to"),
        ("[model]\nbatch_size = -8", "model.batch_size must be 0 (automatic) or from 1 to"),
        ("[model.paths]\nminilm = 5", "model.paths.minilm must be a folder (a string), got 5"),
        ("[model]\npaths = 3", "model.paths must be a table"),
        ('[zotero]\nurl = "file:///etc/passwd"', "zotero.url must be an http:// or https:// URL"),
        ('[zotero]\nlocal_url = "ftp://x"', "zotero.local_url must be an http:// or https:// URL"),
        ('[zotero]\nurl = "http://"', "zotero.url must be an http:// or https:// URL"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(home, config, says):
    write_config(home, config + "\n")
    for command in (["status"], ["index", "rebuild", "--model", "minilm"], ["embed"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, (command, result.output)
        assert result.stderr.count("\n") == 1, result.stderr
        assert says in result.stderr and "config.toml" in result.stderr


def test_index_m_0_no_longer_crashes_the_process(home):
    """m = 0 made hnswlib segfault (exit -11) when it built the index; now one line, exit 2."""
    from conftest import make_paper
    from specter_desk.store import Store
    from specter_desk.sync.writer import import_papers

    store = Store(home / "library.db")
    papers = [make_paper(f"P{i}", f"Paper {i}") for i in range(20)]
    import_papers(store, papers)
    vectors = np.random.default_rng(0).normal(size=(20, 8)).astype(np.float32)
    store.save_vectors(
        "minilm", [(p.key, p.content_hash, v) for p, v in zip(papers, vectors, strict=True)]
    )
    store.close()
    write_config(home, "[index]\nm = 0\n")
    env = {**os.environ, "SPECTER_DESK_HOME": str(home)}
    done = run_specter_desk(env, "index", "rebuild", "--model", "minilm")
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("SPECTER_DESK_ZOTERO_URL", "file:///etc/passwd", "SPECTER_DESK_ZOTERO_URL must be an"),
        ("SPECTER_DESK_ZOTERO_LOCAL_URL", "file:///x", "SPECTER_DESK_ZOTERO_LOCAL_URL must be"),
        ("SPECTER_DESK_MODEL", "foo", "unknown model 'foo'"),
    ],
)
def test_a_bad_environment_value_is_one_line_naming_the_variable(home, variable, value, says):
    for command in (["status"], ["sync", "--library", "user"]):
        result = runner.invoke(app, command, env={variable: value})
        assert result.exit_code == 2, (command, result.output)
        assert result.stderr.count("\n") == 1 and says in result.stderr, result.stderr


def test_serve_checks_the_model_from_the_environment(home):
    result = runner.invoke(app, ["serve", "--port", "1"], env={"SPECTER_DESK_MODEL": "foo"})
    assert result.exit_code == 2 and "unknown model 'foo'" in result.stderr


def test_login_without_a_terminal_or_a_key_says_how(home):
    result = runner.invoke(app, ["login"], input="")
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1
    assert "--api-key" in result.stderr and "ZOTERO_API_KEY" in result.stderr


def test_login_reads_a_key_piped_to_it(home, monkeypatch):
    """`echo KEY | specter-desk login` checks that key (here: against nothing listening)."""
    monkeypatch.setenv("SPECTER_DESK_ZOTERO_URL", "http://127.0.0.1:9")
    result = runner.invoke(app, ["login"], input="abc\n")
    assert result.exit_code == 6, result.output
    assert "127.0.0.1:9" in result.stderr


# -- a data dir that cannot be used --------------------------------------------------------

CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, PR_CAPBSET_DROP = 1, 2, 24


def _without_root_powers() -> None:
    """In the child, before exec: root loses its right to ignore file permissions (so the test
    means the same as for a normal user, who is what runs specter-desk)."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
            if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _data_dirs(tmp_path: Path) -> dict[str, Path]:
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    readonly.chmod(0o555)
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    locked = tmp_path / "locked"
    (locked / "data").mkdir(parents=True)
    locked.chmod(0o000)
    return {
        "read-only": readonly,
        "a file": a_file,
        "missing, cannot be created": readonly / "missing" / "data",
        "under an unreadable parent": locked / "data",
    }


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
@pytest.mark.parametrize("command", [["bridge", "token"], ["status"], ["demo"], ["serve"]])
def test_a_data_dir_that_cannot_be_used_is_one_line_naming_it(tmp_path, command):
    dirs = _data_dirs(tmp_path)
    try:
        for kind, data_dir in dirs.items():
            env = {**os.environ, "SPECTER_DESK_HOME": str(data_dir), "HF_HUB_OFFLINE": "1"}
            done = run_specter_desk(env, *command, preexec_fn=_without_root_powers)
            where = f"{' '.join(command)} with a data dir that is {kind}"
            assert done.returncode == 5, f"{where}: {done.returncode} {done.stderr}"
            assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, where
            assert str(data_dir.parent) in done.stderr, f"{where}: {done.stderr}"
    finally:
        (tmp_path / "locked").chmod(0o755)
        (tmp_path / "readonly").chmod(0o755)
