"""Files and secrets: the data dir is the user's alone (0700, files 0600), a token sent where
it does not belong never reaches the log, and nothing in the environment can add lines to a
service unit."""

from __future__ import annotations

import json
import logging
import os
import plistlib
import stat
import sys
from pathlib import Path

import httpx
import pytest
from server_helpers import free_port, start_serve, wait_healthy
from typer.testing import CliRunner

from specter_desk.cli import app
from specter_desk.server.logs import setup_logging

runner = CliRunner()
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask():
    old = os.umask(0o022)  # what most systems give a user: files 0644 unless we say otherwise
    yield
    os.umask(old)


def test_the_data_dir_and_its_files_are_private(home, tmp_path, tiny_model, usual_umask):
    lib = tmp_path / "lib.jsonl"
    lib.write_text('{"key": "a", "title": "Graph networks"}\n{"key": "b", "title": "Trees"}\n')
    assert runner.invoke(app, ["import", str(lib)]).exit_code == 0
    assert runner.invoke(app, ["embed", "--model", "tiny"]).exit_code == 0
    assert mode(home) == 0o700
    assert mode(home / "index") == 0o700
    files = [home / "library.db", *(home / "index").iterdir()]
    files += [p for p in (home / "library.db-wal", home / "library.db-shm") if p.exists()]
    assert len(files) >= 3
    for path in files:
        assert mode(path) == 0o600, path


def test_an_older_world_readable_store_is_made_private(home, usual_umask):
    from specter_desk.store import Store

    home.mkdir(mode=0o755)
    Store(home / "library.db").close()
    (home / "library.db").chmod(0o644)
    store = Store(home / "library.db")
    store.count_papers()
    assert mode(home / "library.db") == 0o600
    for side in ("library.db-wal", "library.db-shm"):
        if (home / side).exists():
            assert mode(home / side) == 0o600
    store.close()


def test_the_log_file_is_private_and_stays_so_when_rotated(tmp_path, usual_umask):
    path = setup_logging(tmp_path / "logs", foreground=False)
    log = logging.getLogger("specter_desk.server")
    log.info("hello")
    assert mode(path) == 0o600
    (handler,) = [h for h in logging.getLogger().handlers if getattr(h, "specter_desk", False)]
    handler.doRollover()
    log.info("after rotation")
    assert mode(path) == 0o600
    assert mode(path.with_name(path.name + ".1")) == 0o600
    logging.getLogger().removeHandler(handler)
    handler.close()


def test_a_token_in_a_query_string_is_refused_and_redacted_in_the_log(home, tmp_path):
    """The plugin sends the token in a header; one in a URL (a copy-pasted link) is refused,
    and the log says that a token was there, never the token."""
    port = free_port()
    out = tmp_path / "serve.out"
    proc = start_serve(home, port, log=out, foreground=False)
    try:
        wait_healthy(port, proc)
        token = (home / "bridge-token").read_text().strip()
        base = f"http://127.0.0.1:{port}"
        for query in (f"token={token}", f"access_token={token}&k=3", f"api_key=s3cr3t-{token}"):
            answer = httpx.get(f"{base}/v1/status?{query}", timeout=10)
            assert answer.status_code == 401
        wrong = httpx.get(f"{base}/v1/papers/x/related?key=hunter2hunter2", timeout=10)
        assert wrong.status_code == 401
        ok = httpx.get(f"{base}/v1/health?token={token}", timeout=10)
        assert ok.status_code in (200, 400)
    finally:
        proc.terminate()
        proc.wait(30)
    log = home / "logs" / "serve.log"
    text = log.read_text()
    assert "/v1/status?token=[redacted]" in text
    assert token not in text and "s3cr3t" not in text and "hunter2" not in text
    assert token not in out.read_text()
    assert mode(log) == 0o600


@pytest.mark.parametrize("platform", ["systemd", "launchd"])
@pytest.mark.parametrize(
    "home_name",
    [
        "data\n[Service]\nExecStartPre=/bin/sh -c 'echo owned'",
        "data\rExecStartPre=/bin/true",
        "data\x1b[2J",
    ],
    ids=["newline", "carriage-return", "escape"],
)
def test_a_control_character_in_a_value_never_reaches_a_service_unit(
    tmp_path, monkeypatch, platform, home_name
):
    from specter_desk.config import Paths
    from specter_desk.errors import InputError
    from specter_desk.server import units

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path))
    home = str(tmp_path / home_name)
    monkeypatch.setenv("SPECTER_DESK_HOME", home)
    with pytest.raises(InputError, match="SPECTER_DESK_HOME"):
        units.render_unit(platform, Paths.at(Path(home)))
    result = runner.invoke(app, ["service", "install", "--platform", platform, "--no-start"])
    assert result.exit_code == 2, result.output
    assert "control character" in result.stderr and result.stderr.count("\n") == 1
    assert not units.unit_path(platform).exists()


def test_systemd_values_with_dollar_percent_quotes_and_spaces_stay_one_word(tmp_path, monkeypatch):
    from specter_desk.config import Paths
    from specter_desk.server import units

    odd = str(tmp_path / 'my "papers" $HOME %h \\n')
    monkeypatch.setenv("SPECTER_DESK_HOME", odd)
    monkeypatch.setattr(units, "serve_command", lambda: ["/opt/py $x/python", "-m", "specter_desk"])
    text = units.render_unit("systemd", Paths.at(Path(odd))).text
    (environment,) = [line for line in text.splitlines() if "SPECTER_DESK_HOME" in line]
    (exec_start,) = [line for line in text.splitlines() if line.startswith("ExecStart=")]
    assert exec_start == 'ExecStart="/opt/py $$x/python" -m specter_desk'
    expected = odd.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    assert environment == f'Environment="SPECTER_DESK_HOME={expected}"'
    plist = units.render_unit("launchd", Paths.at(Path(odd))).text
    data = plistlib.loads(plist.encode())
    assert data["EnvironmentVariables"]["SPECTER_DESK_HOME"] == odd
    assert json.dumps(data["ProgramArguments"][0]) == json.dumps("/opt/py $x/python")
