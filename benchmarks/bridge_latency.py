"""Bridge latency: each endpoint over HTTP (a real uvicorn server on 127.0.0.1, keep-alive client)
against the same service call made directly in-process (the reference), idle and while the sync
worker is embedding; then related() under load: while searches and an embedding run go on, and
from 8 clients at once while another client loops on the slowest endpoint (GET
/v1/duplicates?min_score=0), against the same 8 clients alone (issue 18 / issue 16 item 3).

    python benchmarks/bridge_latency.py [--papers 300] [--requests 100] [--model minilm]
        [--clients 8] [--client-requests 40]

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


def clients_related(url, token, keys, clients: int, each: int, background: str | None = None):
    """related() latencies (ms) from `clients` threads with their own keep-alive client, each
    sending `each` requests for keys in turn, while one more thread loops on `background`
    ("search" or "duplicates"; its calls are counted). The clients run in a process of their
    own, as the Zotero plugin does: in the server's process they would share its GIL."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(_load_process, (url, token, keys, clients, each, background))


SEARCHES = ["platform workers", "digital labour", "algorithmic management", "gig economy"]


def _load_process(url, token, keys, clients, each, background) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    start = threading.Barrier(clients + (1 if background else 0))
    stop = threading.Event()
    latencies: list[float] = []
    calls = [0]
    lock = threading.Lock()

    def one_client(offset: int) -> None:
        with httpx.Client(base_url=url, timeout=120, headers=headers) as client:
            client.get(f"/v1/papers/{keys[offset % len(keys)]}/related").raise_for_status()
            start.wait()
            mine = []
            for i in range(each):
                key = keys[(offset * each + i) % len(keys)]
                began = time.perf_counter()
                client.get(f"/v1/papers/{key}/related", params={"k": 10}).raise_for_status()
                mine.append((time.perf_counter() - began) * 1000)
            with lock:
                latencies.extend(mine)

    def looping() -> None:
        with httpx.Client(base_url=url, timeout=300, headers=headers) as client:
            start.wait()
            while not stop.is_set():
                if background == "search":
                    query = SEARCHES[calls[0] % len(SEARCHES)]
                    answer = client.post("/v1/search", json={"query": query, "k": 10})
                else:
                    answer = client.get("/v1/duplicates", params={"min_score": 0})
                answer.raise_for_status()
                calls[0] += 1

    threads = [threading.Thread(target=one_client, args=(i,)) for i in range(clients)]
    loop = threading.Thread(target=looping) if background else None
    for thread in threads + ([loop] if loop else []):
        thread.start()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    stop.set()
    if loop:
        loop.join()
    return {"latencies": latencies, "background calls": calls[0], "seconds": seconds}


def load_row(name: str, measured: dict) -> dict:
    values = measured["latencies"]
    return {
        "scenario": name,
        "n": len(values),
        "p50 ms": median(values),
        "p95 ms": percentile(values, 95),
        "p99 ms": percentile(values, 99),
        "max ms": max(values),
        "related/s": len(values) / measured["seconds"],
        "background calls": measured["background calls"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=300)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--home", type=Path, help="data dir to reuse (vectors already there are not re-embedded)"
    )
    parser.add_argument("--client-requests", type=int, default=40, help="per client")
    add_data_option(parser, "; unused: the demo library ships in the package")
    args = parser.parse_args()

    home = args.home or Path(tempfile.mkdtemp(prefix="bridge-bench-"))
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

    more = shipped[2 * args.papers : 3 * args.papers]
    batches = [later, more]  # what each requested sync imports and embeds

    def embed_more(library, on_progress, should_stop):
        import_papers(worker_desk.store, batches.pop(0))
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
    while worker.busy:
        time.sleep(0.1)

    # related() under load; the library is now 2 x papers, all embedded
    url = f"http://127.0.0.1:{port}"
    keys = [p.key for p in papers + later]
    slowest = time.perf_counter()
    client.get("/v1/duplicates", params={"min_score": 0}).raise_for_status()
    duplicates_seconds = time.perf_counter() - slowest
    load = []
    load.append(
        load_row(
            "1 client alone (reference)",
            clients_related(url, token, keys, 1, args.client_requests * 2),
        )
    )
    busy.clear()
    client.post("/v1/sync").raise_for_status()
    busy.wait(60)
    load.append(
        load_row(
            "1 client while another searches and the worker embeds",
            clients_related(url, token, keys, 1, args.client_requests * 2, background="search"),
        )
    )
    print(f"(the worker was still embedding when that scenario ended: {worker.busy})")
    worker.stop(300)
    load.append(
        load_row(
            f"{args.clients} clients (reference)",
            clients_related(url, token, keys, args.clients, args.client_requests),
        )
    )
    load.append(
        load_row(
            f"{args.clients} clients while another loops on GET /v1/duplicates?min_score=0",
            clients_related(
                url, token, keys, args.clients, args.client_requests, background="duplicates"
            ),
        )
    )
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
    print(
        f"\nrelated() k=10 under load ({2 * args.papers} papers; one GET /v1/duplicates"
        f"?min_score=0 alone took {duplicates_seconds:.2f} s):"
    )
    print(
        table(
            load,
            [
                "scenario",
                "n",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "max ms",
                "related/s",
                "background calls",
            ],
        )
    )


if __name__ == "__main__":
    main()
