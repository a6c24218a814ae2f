"""Bridge latency: each endpoint over HTTP (a real uvicorn server on 127.0.0.1, keep-alive client)
against the same service call made directly in-process (the reference), idle and while the sync
worker is embedding.

    python benchmarks/bridge_latency.py [--papers 300] [--requests 100] [--model minilm]

The library is the first N records of the demo library shipped in the package (the
digital_work records of ../shared/data, MIT), embedded with the model first (timed separately).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import httpx
from _common import add_data_option, machine, median, percentile, table


def timed(call, n: int) -> list[float]:
    call()  # warm-up (loads the model or the index)
    out = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def timed_in_thread(call, n: int) -> list[float]:
    """Like timed(), in a fresh thread as the server's handlers run (torch is several times
    slower in the main thread here, which would flatter the HTTP path)."""
    result: list[float] = []
    thread = threading.Thread(target=lambda: result.extend(timed(call, n)))
    thread.start()
    thread.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=300)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--model", default="minilm")
    add_data_option(parser, "; unused: the demo library ships in the package")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="bridge-bench-"))
    os.environ["SPECTER_DESK_HOME"] = str(home)
    import uvicorn

    from specter_desk.config import Config
    from specter_desk.desk import Desk
    from specter_desk.embed.pipeline import embed_missing
    from specter_desk.server.app import BridgeContext, create_app
    from specter_desk.server.daemon import _refresh_indexes, bind_sockets
    from specter_desk.server.token import ensure_token
    from specter_desk.server.worker import SyncWorker
    from specter_desk.services.related import related
    from specter_desk.services.search import search
    from specter_desk.sync.demo import demo_papers
    from specter_desk.sync.writer import import_papers

    config = Config.load()
    config.values["model"]["name"] = args.model
    desk = Desk(config, notice=lambda m: None)
    shipped = demo_papers()
    papers = shipped[: args.papers]
    later = shipped[args.papers : 2 * args.papers]
    import_papers(desk.store, papers)
    started = time.perf_counter()
    embed_missing(desk.store, desk.encoder())
    embed_seconds = time.perf_counter() - started
    index = desk.index(refresh=True)
    key = papers[0].key
    query = "gig economy platform workers"

    worker_desk = desk.sibling()
    busy = threading.Event()

    def embed_more(library, on_progress, should_stop):
        import_papers(worker_desk.store, later)
        busy.set()
        result = embed_missing(
            worker_desk.store,
            worker_desk.encoder(),
            should_stop=should_stop,
            on_progress=lambda d, t: on_progress("embedding", d, t),
        )
        return {"embedded": result.embedded}

    worker = SyncWorker(
        embed_more,
        nice=int(config.get("daemon", "nice")),
        on_committed=lambda: _refresh_indexes(worker_desk),
    )
    token = ensure_token(home)
    sockets = bind_sockets("127.0.0.1", 0)
    port = sockets[0].getsockname()[1]
    app = create_app(BridgeContext(desk, worker), token=lambda: token, port=port)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": sockets[:1]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    worker.start()
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        timeout=120,
        headers={"Authorization": f"Bearer {token}"},
    )
    encoder = desk.encoder()

    cases = [
        ("GET /v1/health", lambda: client.get("/v1/health"), lambda: None),
        (
            "GET /v1/status",
            lambda: client.get("/v1/status"),
            lambda: (desk.store.count_papers(), desk.store.vector_counts()),
        ),
        (
            "GET /v1/papers/{key}/related k=10",
            lambda: client.get(f"/v1/papers/{key}/related", params={"k": 10}),
            lambda: related(desk.store, index, desk.store.get_paper(key), 10),
        ),
        (
            "POST /v1/search k=10",
            lambda: client.post("/v1/search", json={"query": query, "k": 10}),
            lambda: search(desk.store, index, encoder, query, k=10),
        ),
    ]
    rows = []
    for name, http, direct in cases:
        n = args.requests if "search" not in name else max(10, args.requests // 5)
        ref = timed_in_thread(direct, n)
        idle = timed(lambda http=http: http().raise_for_status(), n)
        rows.append(
            {
                "endpoint": name,
                "n": n,
                "direct p50 ms": median(ref),
                "http p50 ms": median(idle),
                "http p95 ms": percentile(idle, 95),
                "http/direct": median(idle) / max(median(ref), 1e-3),
            }
        )
    # the same related request while the worker embeds another batch of papers
    client.post("/v1/sync").raise_for_status()
    busy.wait(60)
    time.sleep(1.0)
    during = []
    while worker.busy and len(during) < args.requests:
        started = time.perf_counter()
        client.get(f"/v1/papers/{key}/related", params={"k": 10}).raise_for_status()
        during.append((time.perf_counter() - started) * 1000)
    related_idle = rows[2]["http p50 ms"]
    rows.append(
        {
            "endpoint": "related k=10 during embedding",
            "n": len(during),
            "direct p50 ms": rows[2]["direct p50 ms"],
            "http p50 ms": median(during) if during else float("nan"),
            "http p95 ms": percentile(during, 95) if during else float("nan"),
            "http/direct": (median(during) / related_idle) if during else float("nan"),
        }
    )
    worker.stop(120)
    server.should_exit = True
    thread.join(10)

    print(f"machine: {machine()}")
    print(
        f"library: {args.papers} demo papers, model {args.model}, embedded in "
        f"{embed_seconds:.1f} s; {args.requests} keep-alive requests per endpoint"
    )
    print(
        table(rows, ["endpoint", "n", "direct p50 ms", "http p50 ms", "http p95 ms", "http/direct"])
    )
    print("(last row: ratio is against the idle HTTP p50 of the same request)")


if __name__ == "__main__":
    main()
