"""`bridge token`, `service install|uninstall|status`, `serve` refusals, the daemon lock, the bind
checks and the sync worker's state machine (fast: no model, no subprocess)."""

from __future__ import annotations

import os
import plistlib
import socket
import sys
import threading

import pytest
from typer.testing import CliRunner

from specter_desk.cli import app
from specter_desk.errors import ConfigError, SyncError
from specter_desk.server.daemon import BindError, bind_sockets, check_bind_host, is_loopback
from specter_desk.server.lock import DaemonLock, DaemonRunningError
from specter_desk.server.worker import SyncWorker

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_bridge_token_is_created_once_and_printed(home):
    first = invoke("bridge", "token")
    assert first.exit_code == 0
    token = first.stdout.strip()
    assert len(token) >= 40
    assert invoke("bridge", "token").stdout.strip() == token
    path = invoke("bridge", "token", "--path").stdout.strip()
    assert path == str(home / "bridge-token")
    assert (home / "bridge-token").stat().st_mode & 0o777 == 0o600
    renewed = invoke("bridge", "token", "--new").stdout.strip()
    assert renewed != token and invoke("bridge", "token").stdout.strip() == renewed


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_bridge_token_refuses_a_file_others_can_read(home):
    invoke("bridge", "token")
    (home / "bridge-token").chmod(0o644)
    result = invoke("bridge", "token")
    assert result.exit_code == 2
    assert "chmod 600" in result.stderr and "Traceback" not in result.stderr


def test_serve_refuses_a_remote_address_without_allow_remote(home):
    result = invoke("serve", "--host", "0.0.0.0")  # noqa: S104
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0" in result.stderr
    assert "--allow-remote" in result.stderr


def test_serve_refuses_negative_daemon_threads_in_one_line(home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("[daemon]\nthreads = -2\n")
    result = invoke("serve", "--foreground")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: {home / 'config.toml'}: daemon.threads must be 0 (every core) or from 1 to "
        "1024, got -2"
    ), result.stderr


def test_daemon_threads_reach_the_cpu_encoder(home, tiny_model):
    import torch

    from specter_desk.config import Config
    from specter_desk.desk import Desk
    from specter_desk.server.daemon import Daemon

    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("[daemon]\nthreads = 1\n")
    daemon = Daemon(Config.load())
    assert daemon.threads == 1
    before = torch.get_num_threads()
    desk = Desk(daemon.config, threads=daemon.threads).sibling()  # as the sync worker gets it
    try:
        encoder = desk.encoder("tiny", device="cpu")
        encoder.load()
        assert encoder.threads == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
        desk.close()
    (home / "config.toml").write_text("[daemon]\nthreads = 0\n")
    assert Daemon(Config.load()).threads is None  # 0: every core


def test_bind_host_rules():
    for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"):
        assert is_loopback(host) and check_bind_host(host, False) is None
    with pytest.raises(ConfigError, match="--allow-remote"):
        check_bind_host("192.168.1.10", False)
    assert "only the bearer token" in check_bind_host("0.0.0.0", True)  # noqa: S104


def test_a_port_in_use_is_a_clean_bind_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(BindError, match=f"cannot listen on 127.0.0.1:{port}"):
            bind_sockets("127.0.0.1", port)


def test_default_host_listens_on_both_loopbacks():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sockets = bind_sockets("127.0.0.1", port)
    try:
        families = {s.family for s in sockets}
        assert all(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for s in sockets)
        assert socket.AF_INET in families
        if socket.has_ipv6:
            try:
                socket.create_connection(("::1", port), timeout=2).close()
                assert socket.AF_INET6 in families
            except OSError:
                pass  # IPv6 switched off on this machine: binding ::1 is best effort
    finally:
        for s in sockets:
            s.close()


def test_one_daemon_lock_per_data_dir(tmp_path):
    first = DaemonLock(tmp_path)
    first.acquire(host="127.0.0.1", port=23120)
    try:
        with pytest.raises(DaemonRunningError, match=f"pid {os.getpid()}") as info:
            DaemonLock(tmp_path).acquire(host="127.0.0.1", port=1)
        assert "127.0.0.1:23120" in str(info.value)
    finally:
        first.release()
    again = DaemonLock(tmp_path)
    again.acquire()
    again.release()
    assert not (tmp_path / "serve.json").exists()


def test_service_install_status_uninstall_systemd(home, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    result = invoke("service", "install", "--platform", "systemd", "--no-start")
    assert result.exit_code == 0, result.stderr
    unit = tmp_path / "xdg" / "systemd" / "user" / "specter-desk.service"
    text = unit.read_text()
    assert f"ExecStart={sys.executable} -m specter_desk serve\n" in text
    assert f"Environment=SPECTER_DESK_HOME={home}\n" in text
    assert "KillSignal=SIGTERM" in text and "WantedBy=default.target" in text
    assert "${" not in text
    status = invoke("service", "status", "--platform", "systemd", "--json")
    assert '"installed": true' in status.stdout and '"running": false' in status.stdout
    removed = invoke("service", "uninstall", "--platform", "systemd")
    assert removed.exit_code == 0 and not unit.exists()
    assert "not installed" in invoke("service", "uninstall", "--platform", "systemd").stdout


def test_service_install_launchd_plist(home, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    result = invoke("service", "install", "--platform", "launchd", "--no-start")
    assert result.exit_code == 0, result.stderr
    path = tmp_path / "Library" / "LaunchAgents" / "org.specter-desk.serve.plist"
    plist = plistlib.loads(path.read_bytes())
    assert plist["Label"] == "org.specter-desk.serve"
    assert plist["ProgramArguments"] == [sys.executable, "-m", "specter_desk", "serve"]
    assert plist["EnvironmentVariables"]["SPECTER_DESK_HOME"] == str(home)
    assert plist["RunAtLoad"] is True and plist["KeepAlive"] == {"SuccessfulExit": False}


def test_service_unknown_platform_is_one_line(home):
    result = invoke("service", "install", "--platform", "upstart", "--no-start")
    assert result.exit_code == 2 and "use systemd or launchd" in result.stderr


# -- the sync worker ------------------------------------------------------------------------


def wait_state(worker: SyncWorker, *states: str, timeout: float = 10) -> dict:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = worker.status()
        if status["state"] in states:
            return status
        time.sleep(0.01)
    raise AssertionError(f"worker stuck in {worker.status()}")


def test_worker_queues_reports_failures_and_recovers():
    release = threading.Event()
    calls: list[str | None] = []
    outcomes = iter(["block", "network", "bug", "ok"])

    def run(library, on_progress, should_stop):
        calls.append(library)
        outcome = next(outcomes)
        if outcome == "block":
            on_progress("fetching", 1, 4)
            assert release.wait(10)
            return {"added": 1, "updated": 0, "deleted": 0, "embedded": 1, "seconds": 0.5}
        if outcome == "network":
            raise SyncError("cannot reach api.zotero.org")
        if outcome == "bug":
            raise KeyError("oops")
        return {"added": 0, "updated": 2, "deleted": 0, "embedded": 2}

    refreshed = []
    worker = SyncWorker(run, nice=0, on_committed=lambda: refreshed.append(1))
    worker.start()
    try:
        assert worker.request("user")["state"] == "queued"
        running = wait_state(worker, "running")
        assert running["progress"] == {"done": 1, "total": 4} or running["progress"] is None
        worker.request("user")  # queued behind the running one
        worker.request("user")  # merged with the queued one
        release.set()
        wait_state(worker, "failed")
        assert worker.status()["last_error"]["code"] == "sync_failed"
        assert worker.status()["last_result"]["added"] == 1
        worker.request(None)
        failed = wait_state(worker, "failed")
        assert failed["last_error"] == {"code": "internal", "message": "KeyError: 'oops'"}
        worker.request("group:1")
        ok = wait_state(worker, "idle")
        assert ok["last_error"] is None and ok["last_result"]["updated"] == 2
        assert ok["last_result"]["seconds"] >= 0
        assert calls == ["user", "user", None, "group:1"]
        assert len(refreshed) == 4  # the index is refreshed after every run, failed or not
    finally:
        assert worker.stop(5)


def test_allow_remote_relaxes_the_host_check_to_our_port_only():
    from specter_desk.server.security import BridgeGuard, origin_allowed

    strict = BridgeGuard(None, token=lambda: "t", port=23120)
    remote = BridgeGuard(None, token=lambda: "t", port=23120, any_host=True)
    assert strict.host_ok("127.0.0.1:23120") and strict.host_ok("LOCALHOST:23120")
    assert not strict.host_ok("192.168.1.5:23120") and not strict.host_ok("")
    assert remote.host_ok("192.168.1.5:23120") and remote.host_ok("desk.lan:23120")
    assert not remote.host_ok("desk.lan:8080")
    assert origin_allowed("chrome://zotero") and origin_allowed("resource://zotero")
    for origin in (
        "null",
        "https://evil.example",
        "moz-extension://x",
        "chrome-extension://x",
        "http://127.0.0.1:23120",
        "",
    ):
        assert not origin_allowed(origin), origin


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux")
def test_the_sync_worker_thread_runs_at_lower_priority():
    seen = {}

    def run(library, on_progress, should_stop):
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        return {}

    main = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    worker = SyncWorker(run, nice=5)
    worker.start()
    try:
        worker.request()
        wait_state(worker, "idle")
        assert seen["nice"] == min(19, main + 5)
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main
    finally:
        worker.stop(5)


def test_daemon_syncs_the_library_saved_by_login(desk, monkeypatch):
    """A user who only ran `specter-desk login` gets periodic syncs of their user library."""
    from specter_desk.server.daemon import zotero_sources
    from specter_desk.sync.credentials import save_credentials

    monkeypatch.setenv("SPECTER_DESK_NO_KEYRING", "1")
    assert zotero_sources(desk) == []
    save_credentials(desk.paths, {"api_key": "k" * 24, "user_id": "475425"})
    assert zotero_sources(desk) == ["user"]
