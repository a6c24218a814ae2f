"""Helpers for the bridge tests: a real uvicorn server on a free 127.0.0.1 port, in a thread or as
a `specter-desk serve` subprocess, and a demo library embedded with the tiny model."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, step: float = 0.05) -> Any:
    """Poll until predicate() is truthy; returns its value or fails the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")


class LiveServer:
    """uvicorn serving an ASGI app from a thread on 127.0.0.1:port."""

    def __init__(self, app: Any, port: int):
        self.port = port
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, lifespan="off", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        wait_for(lambda: self.server.started, timeout=20)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@dataclass
class Bridge:
    """A running bridge and a client that sends the token."""

    url: str
    token: str
    port: int
    ctx: Any
    client: httpx.Client

    def anonymous(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)


@contextmanager
def tiny_bridge(
    home: Path, papers: list, *, timeout: float = 30, **context: Any
) -> Iterator[Bridge]:
    """A bridge (no sync worker) in data dir home over papers embedded with the tiny model;
    context: more BridgeContext fields."""
    import pytest

    from specter_desk.config import Config
    from specter_desk.desk import Desk
    from specter_desk.embed.pipeline import embed_missing
    from specter_desk.server.app import BridgeContext, create_app
    from specter_desk.server.token import ensure_token
    from specter_desk.sync.writer import import_papers

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SPECTER_DESK_HOME", str(home))
        config = Config.load()
        config.values["model"]["name"] = "tiny"
        desk = Desk(config, notice=lambda message: None)
        import_papers(desk.store, papers)
        embed_missing(desk.store, desk.encoder())
        desk.index(refresh=True)
        ctx = BridgeContext(desk, **context)
        token = ensure_token(desk.paths.data_dir)
        port = free_port()
        server = LiveServer(create_app(ctx, token=lambda: token, port=port), port)
        client = httpx.Client(
            base_url=server.url, timeout=timeout, headers={"Authorization": f"Bearer {token}"}
        )
        try:
            with server:
                yield Bridge(server.url, token, port, ctx, client)
        finally:
            client.close()
            ctx.close()
            desk.close()


def demo_subset(
    demo_papers: list,
    start: int,
    stop: int,
    *,
    pool: str = "library",
    library: str = "demo",
    recent: int = 0,
) -> list:
    """A slice of the demo library; the first `recent` get today's date_added."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    papers = []
    for i, paper in enumerate(demo_papers[start:stop]):
        changes: dict[str, Any] = {"pool": pool, "library": library}
        if i < recent:
            changes["date_added"] = now
        papers.append(replace(paper, **changes))
    return papers


def write_jsonl(path: Path, papers: list) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for p in papers:
            fh.write(
                json.dumps(
                    {
                        "key": p.key,
                        "title": p.title,
                        "abstract": p.abstract,
                        "doi": p.doi,
                        "year": p.year,
                        "creators": p.creators,
                        "venue": p.venue,
                        "date_added": p.date_added,
                    }
                )
                + "\n"
            )
    return path


# -- the real daemon in a subprocess -----------------------------------------------------


def serve_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPECTER_DESK_", "ZOTERO_"))}
    env.update(
        {
            "SPECTER_DESK_HOME": str(home),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "SPECTER_DESK_NO_KEYRING": "1",
            "OMP_NUM_THREADS": "1",
        }
    )
    env.update(extra or {})
    return env


def start_serve(
    home: Path,
    port: int,
    *args: str,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    foreground: bool = True,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.Popen:
    """`specter-desk serve` on port; its output goes to log (foreground: its log lines too,
    else they go to serve.log)."""
    with open(log or home / f"serve-{port}.out", "ab") as out:  # the child keeps its copy
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "specter_desk",
                "serve",
                "--port",
                str(port),
                *(["--foreground"] if foreground else []),
                *args,
            ],
            env=env or serve_env(home),
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=preexec_fn,  # noqa: PLW1509 - the tests' limits, set before any thread
        )


def wait_healthy(port: int, proc: subprocess.Popen | None = None, timeout: float = 60) -> None:
    def up() -> bool:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"serve exited with {proc.returncode}")
        try:
            return httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(up, timeout=timeout, step=0.2)
