"""The CLI's one error boundary: every command, found in the Typer app (so a new command is
covered as soon as it exists), answers a bad model name and a bad data dir with one line on
stderr and the exit code README documents, never a traceback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from specter_desk.cli import app
from specter_desk.errors import ConfigError, StoreError

runner = CliRunner()
BAD_MODEL = "no-such-model"
RECORDS = [
    {"key": "A1", "title": "Graph neural networks for molecules", "abstract": "Message passing."},
    {"key": "A2", "title": "Graph attention networks", "abstract": "Attention on graphs."},
]


def commands(group: TyperGroup, prefix: tuple[str, ...] = ()) -> dict[str, typer.core.Command]:
    """{"corpus embed": command, ...}: every command a user can run, groups that run too."""
    found = {}
    for name, command in group.commands.items():
        path = (*prefix, name)
        if isinstance(command, TyperGroup):
            if command.invoke_without_command:
                found[" ".join(path)] = command
            found |= commands(command, path)
        else:
            found[" ".join(path)] = command
    return found


COMMANDS = commands(typer.main.get_command(app))

# What each command needs to get to its work (LIB: a JSONL file of RECORDS, OUT: a new folder),
# and the exit code it answers with an unknown model name, then with a data dir that cannot
# be one. 0: the command does not use the model (or the data dir); 1: doctor's report;
# 2: bad config; 3: no such feed; 4: model files; 5: the data dir; 6: the network (nothing
# listens here);
# 7: no corpus there.
EXPECTED: dict[str, tuple[list[str], int, int]] = {
    "embed": ([], 2, 5),
    "related": (["A1"], 2, 5),
    "status": ([], 2, 5),  # issue 16: status checks SPECTER_DESK_MODEL too
    "doctor": ([], 1, 1),
    "models": ([], 0, 5),
    "model list": ([], 0, 5),
    "model download": (["specter2"], 4, 5),  # 4: the hub is not reachable (offline here)
    "model use": (["minilm"], 2, 5),  # 2: SPECTER_DESK_MODEL overrides what `use` would set
    "model remove": (["specter"], 4, 5),  # 4: not installed
    "setup": (["--non-interactive", "--zotero", "skip", "--no-service", "--no-plugin"], 2, 5),
    "demo": ([], 2, 5),
    "recommend": ([], 2, 5),
    "search": (["graph networks"], 2, 5),
    "feedback": (["A1", "--up"], 0, 5),
    "serve": (["--port", "PORT"], 2, 5),
    "sync": (["--library", "LIB"], 2, 5),
    "login": (["--api-key", "k"], 6, 5),
    "logout": ([], 0, 5),
    "import": (["LIB"], 0, 5),
    "duplicates": ([], 2, 5),
    "duplicates check": (["LIB"], 0, 5),
    "duplicates distinct": (["A1", "A2"], 0, 5),
    "config show": ([], 0, 5),
    "index rebuild": ([], 2, 5),
    "bridge token": ([], 0, 5),
    "service install": (["--no-start"], 0, 5),
    "service uninstall": ([], 0, 5),
    "service status": ([], 0, 5),
    "candidates add": (["LIB"], 0, 5),
    "candidates fetch": (["arxiv"], 6, 5),
    "candidates list": ([], 0, 5),
    "corpus embed": (["LIB", "--out", "OUT"], 2, 0),
    "corpus index": (["OUT"], 7, 5),
    "corpus import": (["OUT"], 7, 5),
    "corpus status": (["OUT"], 7, 7),
    "citations sync": ([], 2, 5),
    "citations show": (["A1"], 0, 5),
    "citations status": ([], 0, 5),
    "graph": (["A1", "--out", "OUT/map.html"], 2, 5),
    "feeds add": (["--tag", "graphs"], 0, 5),
    "feeds collections": ([], 0, 5),
    "feeds list": ([], 0, 5),
    "feeds refresh": ([], 2, 5),
    "feeds remove": (["nope"], 3, 5),
    "feeds set": (["nope", "--since", "week"], 3, 5),
    "feeds show": (["nope"], 3, 5),
    "feeds url": (["nope"], 3, 5),
    "mcp": ([], 2, 5),
}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def world(home, tiny_model, tmp_path, monkeypatch):
    """A library of two papers, a JSONL file, and no network (closed ports for Zotero, arXiv)."""
    lib = tmp_path / "lib.jsonl"
    lib.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    assert runner.invoke(app, ["import", str(lib)]).exit_code == 0
    monkeypatch.setenv("SPECTER_DESK_ZOTERO_URL", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("SPECTER_DESK_ARXIV_URL", f"http://127.0.0.1:{closed_port()}/api/query")
    for source in ("OPENALEX", "CROSSREF", "SEMANTICSCHOLAR"):
        monkeypatch.setenv(f"SPECTER_DESK_{source}_URL", f"http://127.0.0.1:{closed_port()}")
    names = {"LIB": str(lib), "OUT": str(tmp_path / "out"), "PORT": str(closed_port())}
    return lambda args: [names.get(a, a) for a in args]


def run(name: str, args: list[str]):
    """Invoke a command; anything but a clean exit (an exception out of it) fails the test."""
    result = runner.invoke(app, [*name.split(), *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{name} raised {result.exception!r}") from result.exception
    return result


def test_every_command_is_listed_with_its_exit_codes():
    assert len(COMMANDS) >= 25
    missing = sorted(set(COMMANDS) - set(EXPECTED))
    assert missing == [], f"add {missing} to EXPECTED (arguments, exit codes) in this file"
    assert sorted(set(EXPECTED) - set(COMMANDS)) == []


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_an_unknown_model_is_one_line_and_exit_2(name, world, monkeypatch):
    args, expected, _ = EXPECTED.get(name, ([], None, None))
    monkeypatch.setenv("SPECTER_DESK_MODEL", BAD_MODEL)
    if any("--model" in param.opts for param in COMMANDS[name].params):
        args = [*args, "--model", BAD_MODEL]
    result = run(name, world(args))
    assert result.exit_code == expected, (name, result.output)
    if expected == 1:  # doctor reports it among its checks
        assert f"model {BAD_MODEL}" in result.stdout and "unknown" in result.stdout
    elif expected:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), (name, result.stderr)
    if expected == ConfigError.exit_code:
        assert BAD_MODEL in result.stderr


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_data_dir_that_is_a_file_is_one_line_and_exit_5(name, world, tmp_path, monkeypatch):
    args, _, expected = EXPECTED.get(name, ([], None, None))
    in_the_way = tmp_path / "not-a-folder"
    in_the_way.write_text("a file where the data dir should be\n")
    monkeypatch.setenv("SPECTER_DESK_HOME", str(in_the_way))
    if name == "corpus embed":
        args = [*args, "--model", "tiny", "--devices", "cpu"]
    result = run(name, world(args))
    assert result.exit_code == expected, (name, result.output)
    if expected == 1:
        assert str(in_the_way) in result.stdout
    elif expected:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), (name, result.stderr)
    if expected == StoreError.exit_code:
        assert str(in_the_way) in result.stderr
    assert in_the_way.read_text() == "a file where the data dir should be\n"


def test_debug_shows_the_traceback(home):
    plain = runner.invoke(app, ["index", "rebuild", "--model", BAD_MODEL])
    assert plain.exit_code == 2
    assert plain.stderr.startswith(f"error: unknown model '{BAD_MODEL}'; known models:")
    debug = runner.invoke(app, ["--debug", "index", "rebuild", "--model", BAD_MODEL])
    assert isinstance(debug.exception, ConfigError)  # raised on: Python prints the traceback
    proc = subprocess.run(
        [sys.executable, "-m", "specter_desk", "--debug", "index", "rebuild", "-m", BAD_MODEL],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "ConfigError: unknown model" in proc.stderr


def test_ctrl_c_says_what_is_kept(home, tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("specter_desk.cli.corpus.read_manifest", interrupted)
    corpus = runner.invoke(app, ["corpus", "status", str(tmp_path)])
    assert corpus.exit_code == 130
    assert corpus.stderr.strip() == (
        "error: interrupted; finished shards are kept: run the same command to resume"
    )
    monkeypatch.setattr("specter_desk.cli.core.open_desk", interrupted)
    status = runner.invoke(app, ["status"])
    assert status.exit_code == 130
    assert status.stderr.strip() == "error: interrupted; everything committed so far is kept"
