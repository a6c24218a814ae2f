"""Slow clients: idle and half-sent connections cannot starve the bridge, and what the event
loop complains about ends in the log file, a few times, not on stderr 70,000 times."""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from server_helpers import free_port, start_serve, wait_for, wait_healthy

from specter_desk.server.connections import ConnectionGuard, guarded_protocol
from specter_desk.server.logs import REPEATS_PER_WINDOW, RepeatLimit, setup_logging
from specter_desk.server.security import BridgeGuard

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_NOFILE")

OPEN_FILES = 1024
IDLE_CONNECTIONS = 1100


def _open_files(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    return apply


@pytest.fixture
def many_files():
    """This test process may hold the idle connections itself."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = IDLE_CONNECTIONS + 200
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.fail(f"the hard open-file limit ({hard}) is below {wanted}: raise it to run")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def health_seconds(port: int) -> float:
    """How long GET /v1/health took (it fails the test after 5 s: what it did before)."""
    started = time.perf_counter()
    answer = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=5)
    assert answer.status_code == 200
    return time.perf_counter() - started


def test_idle_connections_past_the_open_file_limit_do_not_starve_health(home, tmp_path, many_files):
    port = free_port()
    err = tmp_path / "serve.err"
    proc = start_serve(home, port, log=err, foreground=False, preexec_fn=_open_files(OPEN_FILES))
    idle: list[socket.socket] = []
    try:
        wait_healthy(port, proc)
        for _ in range(IDLE_CONNECTIONS):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            idle.append(sock)  # connected, never sends a byte
        half = socket.create_connection(("127.0.0.1", port), timeout=5)
        half.sendall(f"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode())
        idle.append(half)  # headers begun, never finished
        for _ in range(10):  # while every connection above is held open: none times out
            health_seconds(port)
            time.sleep(0.3)
        assert proc.poll() is None
    finally:
        for sock in idle:
            sock.close()
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    assert err.stat().st_size < 2000, err.read_text()[:2000]
    log = (home / "logs" / "serve.log").read_text()
    assert log.count("\n") < 200, log[-2000:]


async def answer_ok(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@contextmanager
def guarded_server(app, guard: ConnectionGuard, port: int):
    """A real uvicorn server on 127.0.0.1:port, in a thread, with the guard's protocol."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        http=guarded_protocol(guard),
        lifespan="off",
        log_config=None,
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, timeout=20)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(10)


def test_a_connection_that_never_finishes_its_headers_is_closed(tmp_path):
    guard = ConnectionGuard(header_timeout=1.0, limit=50)
    port = free_port()
    with guarded_server(answer_ok, guard, port):
        silent = socket.create_connection(("127.0.0.1", port), timeout=10)
        slow = socket.create_connection(("127.0.0.1", port), timeout=10)
        slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        for sock in (silent, slow):
            assert sock.recv(100) == b""  # closed by the server
        assert time.monotonic() - started < 5
        assert guard.closed_slow == 2 and not guard.waiting
        many = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(60)]
        wait_for(lambda: guard.closed_over_cap >= 10, timeout=10)
        assert len(guard.waiting) <= 50
        answer = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert answer.status_code == 200
        for sock in many:
            sock.close()


def test_a_body_that_never_arrives_is_answered_408_and_closed():
    """Headers with the token, then a body that stalls half-way: the connection is not held
    (before, it waited for the rest for ever, past the header timeout's reach)."""
    guard = ConnectionGuard(header_timeout=30.0, limit=50)
    port = free_port()
    app = BridgeGuard(answer_ok, token=lambda: "t0k", port=port, body_timeout=1.0)
    with guarded_server(app, guard, port):
        stalled = socket.create_connection(("127.0.0.1", port), timeout=10)
        stalled.sendall(
            f"POST /v1/search HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Authorization: Bearer t0k\r\nContent-Type: application/json\r\n"
            'Content-Length: 100\r\n\r\n{"query": "gra'.encode()
        )
        started = time.monotonic()
        answer = b""
        while chunk := stalled.recv(4096):  # until the server closes it
            answer += chunk
        assert time.monotonic() - started < 5
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), answer
        assert json.loads(body)["error"]["code"] == "timeout"
        wait_for(lambda: not guard.waiting, timeout=5)
        whole = httpx.post(
            f"http://127.0.0.1:{port}/v1/search",
            json={"query": "graphs"},
            headers={"Authorization": "Bearer t0k"},
            timeout=5,
        )
        assert whole.status_code == 200


def test_every_logger_reaches_the_log_file_and_repeats_are_counted(tmp_path):
    clock = [0.0]
    limit = RepeatLimit(clock=lambda: clock[0])
    path = setup_logging(tmp_path / "logs", foreground=False)
    root = logging.getLogger()
    (handler,) = [h for h in root.handlers if getattr(h, "specter_desk", False)]
    handler.filters = [limit]
    try:
        loop = asyncio.new_event_loop()
        flood = {"message": "socket.accept() out of system resource", "exception": OSError(24)}
        for _ in range(500):
            loop.call_exception_handler(flood)
        clock[0] = 61.0  # a minute later
        loop.call_exception_handler(flood)
        loop.close()
        logging.getLogger("somelibrary").warning("a warning from a library")
        logging.getLogger("somelibrary").info("chatter below warning is not written")
        handler.flush()
        text = path.read_text()
        assert text.count("socket.accept() out of system resource") == REPEATS_PER_WINDOW + 1
        assert f"({500 - REPEATS_PER_WINDOW} more like this in the last 60 s not logged)" in text
        assert "a warning from a library" in text and "chatter" not in text
    finally:
        root.removeHandler(handler)
        handler.close()
