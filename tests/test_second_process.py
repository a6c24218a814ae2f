"""A second process on the same data dir: the daemon sees vectors another process embedded
within seconds, and two `embed` runs at once do the work once (the second waits for the
first, then finds nothing left). Real subprocesses, the real MiniLM model."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
from server_helpers import free_port, serve_env, start_serve, wait_healthy

from conftest import make_paper
from specter_desk.store import Store
from specter_desk.sync.writer import import_papers

MODEL = "minilm"


def library(home: Path, embedded: int, waiting: int) -> list[str]:
    """`embedded` papers with (random) MiniLM vectors and `waiting` papers without; returns
    the keys of the waiting ones."""
    store = Store(home / "library.db")
    papers = [
        make_paper(f"P{i:03d}", f"Paper {i} on graph networks", f"We study graphs, case {i}.")
        for i in range(embedded + waiting)
    ]
    import_papers(store, papers)
    vectors = np.random.default_rng(0).normal(size=(embedded, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store.save_vectors(
        MODEL, [(p.key, p.content_hash, v) for p, v in zip(papers, vectors, strict=False)]
    )
    store.close()
    return [p.key for p in papers[embedded:]]


def embed_process(home: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "specter_desk", "embed", "--model", MODEL, "--json"],
        env=serve_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_daemon_answers_for_papers_another_process_embedded(home):
    waiting = library(home, embedded=30, waiting=5)
    port = free_port()
    proc = start_serve(home, port, env=serve_env(home, {"SPECTER_DESK_MODEL": MODEL}))
    try:
        wait_healthy(port, proc)
        token = (home / "bridge-token").read_text().strip()
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert client.get("/v1/papers/P000/related").status_code == 200  # index loaded
        assert client.get(f"/v1/papers/{waiting[0]}/related").status_code == 409
        embed = embed_process(home)
        out, err = embed.communicate(timeout=300)
        assert embed.returncode == 0, err
        assert json.loads(out)["embedded"] == 5
        finished = time.monotonic()
        while client.get(f"/v1/papers/{waiting[0]}/related").status_code == 409:
            assert time.monotonic() - finished < 10, "still 409 ten seconds after embed ended"
            time.sleep(0.2)
        for key in waiting:
            answer = client.get(f"/v1/papers/{key}/related")
            assert answer.status_code == 200 and answer.json()["related"], key
        status = client.get("/v1/status").json()
        assert status["vectors"][MODEL] == 35
    finally:
        proc.terminate()
        proc.wait(30)


def test_two_embed_runs_at_once_embed_each_paper_once(home):
    library(home, embedded=0, waiting=40)
    runs = [embed_process(home), embed_process(home)]
    results = [run.communicate(timeout=300) for run in runs]
    for run, (_, err) in zip(runs, results, strict=True):
        assert run.returncode == 0, err
    embedded = sorted(json.loads(out)["embedded"] for out, _ in results)
    assert embedded == [0, 40]
    waited = [err for out, err in results if json.loads(out)["embedded"] == 0]
    assert "another specter-desk is embedding" in waited[0]
    store = Store(home / "library.db")
    assert store.vector_counts()[MODEL] == 40 and not store.has_missing_vectors(MODEL)
    store.close()
