"""Bridge latency: each endpoint over HTTP (a real uvicorn server on 127.0.0.1, keep-alive client)
against the same service call made directly in-process (the reference), idle and while the sync
worker is embedding; then related() under load: while searches and an embedding run go on, and
from 8 clients at once while another client loops on the slowest endpoint (GET
/v1/duplicates?min_score=0), against the same 8 clients alone measured in the same run (issue
18; issue 16's "Done when": related() p99 < 50 ms at 8 clients beside that loop).

    python benchmarks/bridge_latency.py [--papers 300] [--requests 100] [--model minilm]
        [--clients 8] [--client-requests 40] [--rounds 1] [--load-only] [--home DIR]

Every client (and the looping one) is a process of its own. The loop on duplicates runs twice:
with the server's cache of duplicates answers switched off (the benchmark sets
`ctx.report_cache().enabled = False` on the server it starts, so every call of the loop makes
the report afresh in the bridge's worker process; column "worker scans" counts them), and with
the cache on (the answer is made once, then kept until the store changes). --load-only skips
the endpoint table and the 1-client rows; with a --home whose papers all have vectors it loads
no model. The library is the first N records of the demo library shipped in the package (the
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
    """related() latencies (ms) from `clients` processes, each with its own keep-alive client
    sending `each` requests for keys in turn, while one more process loops on `background`
    ("search" or "duplicates"; its calls are counted). Every client is a process of its own,
    as every Zotero is: threads of one client process would share its GIL and add their own
    waits to the figures."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(clients + (1 if background else 0) + 1)  # + this process
    stop = ctx.Event()
    results = ctx.Queue()
    processes = [
        ctx.Process(target=_one_client, args=(url, token, keys, i, each, start, results))
        for i in range(clients)
    ]
    if background:
        processes.append(
            ctx.Process(target=_looping, args=(url, token, background, start, stop, results))
        )
    for process in processes:
        process.start()
    start.wait(300)
    began = time.perf_counter()
    latencies: list[float] = []
    for _ in range(clients):
        latencies.extend(results.get(timeout=600))
    seconds = time.perf_counter() - began
    stop.set()
    calls = results.get(timeout=600) if background else 0
    for process in processes:
        process.join(60)
    return {"latencies": latencies, "background calls": calls, "seconds": seconds}


SEARCHES = ["platform workers", "digital labour", "algorithmic management", "gig economy"]


def _one_client(url, token, keys, offset, each, start, results) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, timeout=120, headers=headers) as client:
        client.get(f"/v1/papers/{keys[offset % len(keys)]}/related").raise_for_status()
        start.wait(300)
        mine = []
        for i in range(each):
            key = keys[(offset * each + i) % len(keys)]
            began = time.perf_counter()
            client.get(f"/v1/papers/{key}/related", params={"k": 10}).raise_for_status()
            mine.append((time.perf_counter() - began) * 1000)
    results.put(mine)


def _looping(url, token, background, start, stop, results) -> None:
    calls = 0
    with httpx.Client(base_url=url, timeout=300, headers={"Authorization": f"Bearer {token}"}) as c:
        start.wait(300)
        while not stop.is_set():
            if background == "search":
                answer = c.post("/v1/search", json={"query": SEARCHES[calls % 4], "k": 10})
            else:
                answer = c.get("/v1/duplicates", params={"min_score": 0})
            answer.raise_for_status()
            calls += 1
    results.put(calls)


def load_row(name: str, measured: dict, reference: dict | None = None) -> dict:
    values = measured["latencies"]
    row = {
        "scenario": name,
        "n": len(values),
        "p50 ms": median(values),
        "p95 ms": percentile(values, 95),
        "p99 ms": percentile(values, 99),
        "max ms": max(values),
        "related/s": len(values) / measured["seconds"],
        "background calls": measured["background calls"],
    }
    if "scans" in measured:
        row["worker scans"] = measured["scans"]
    if reference is not None:
        ref = reference["latencies"]
        row["p50 / ref"] = median(values) / median(ref)
        row["p99 / ref"] = percentile(values, 99) / percentile(ref, 99)
    return row


def endpoint_rows(args, client, desk, index, encoder, key, query, worker, busy) -> list[dict]:
    """Each endpoint over HTTP against the direct service call, idle; then related() while
    the sync worker embeds another batch."""
    from specter_desk.services.related import related
    from specter_desk.services.search import search

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

    return rows


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
    parser.add_argument(
        "--rounds", type=int, default=1, help="reference / cache bypassed / cache on, repeated"
    )
    parser.add_argument(
        "--load-only",
        action="store_true",
        help="only the 8-client rows (no endpoint table, no 1-client rows, no sync worker run)",
    )
    add_data_option(parser, "; unused: the demo library ships in the package")
    args = parser.parse_args()

    load_before = os.getloadavg()
    home = args.home or Path(tempfile.mkdtemp(prefix="bridge-bench-"))
    os.environ["SPECTER_DESK_HOME"] = str(home)
    import uvicorn

    from specter_desk.config import Config
    from specter_desk.desk import Desk
    from specter_desk.embed.pipeline import embed_missing
    from specter_desk.server.app import BridgeContext, create_app
    from specter_desk.server.daemon import _refresh_indexes, bind_sockets
    from specter_desk.server.slow_work import duplicates_json
    from specter_desk.server.token import ensure_token
    from specter_desk.server.worker import SyncWorker
    from specter_desk.sync.demo import demo_papers
    from specter_desk.sync.writer import import_papers

    config = Config.load()
    config.values["model"]["name"] = args.model
    desk = Desk(config, notice=lambda m: None)
    shipped = demo_papers()
    papers = shipped[: args.papers]
    later = shipped[args.papers : 2 * args.papers]
    import_papers(desk.store, papers + (later if args.load_only else []))
    started = time.perf_counter()
    if desk.store.has_missing_vectors(args.model):  # --home with every vector: no model needed
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
    ctx = BridgeContext(desk, worker)
    app = create_app(ctx, token=lambda: token, port=port)
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
    rows = []
    if not args.load_only:
        rows = endpoint_rows(args, client, desk, index, desk.encoder(), key, query, worker, busy)

    # related() under load; the library is now 2 x papers, all embedded
    url = f"http://127.0.0.1:{port}"
    keys = [p.key for p in papers + later]
    load = []
    if not args.load_only:
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

    # The slowest endpoint. The cache of its answers (kept until the store changes) is
    # bypassed by switching it off on the server's context (ctx.report_cache().enabled), so
    # every call of the loop makes the report afresh in the worker process; the calls that
    # reach the worker are counted (column "worker scans").
    # related() collapses copies by looking them up in the store's works, made once per store
    # version in the worker process (services/works.py); made here before the rows, which
    # also show related() without it (each list collapsed by the duplicate detector)
    ctx.works()
    works = ctx.works_map.wait(120)
    works_line = (
        f"works map: {len(works.first)} papers in {len(set(works.first.values()))} works"
        if works is not None
        else "works map: NOT made (every row collapses copies with the detector)"
    )
    scans = [0]
    run = ctx.slow.run

    def counted(function, *args):
        scans[0] += function is duplicates_json
        return run(function, *args)

    ctx.slow.run = counted
    cache = ctx.report_cache()
    cache.enabled = False
    slowest = time.perf_counter()
    client.get("/v1/duplicates", params={"min_score": 0}).raise_for_status()  # starts the worker
    first_seconds = time.perf_counter() - slowest
    slowest = time.perf_counter()
    client.get("/v1/duplicates", params={"min_score": 0}).raise_for_status()
    duplicates_seconds = time.perf_counter() - slowest

    def scenario(
        background: str | None, cached: bool, works: bool = True, clients: int = args.clients
    ) -> dict:
        cache.enabled = cached
        ctx.works_map.enabled = works
        if cached:  # the loop's answer is made once, then kept
            client.get("/v1/duplicates", params={"min_score": 0}).raise_for_status()
        before = scans[0]
        measured = clients_related(
            url, token, keys, clients, args.client_requests, background=background
        )
        measured["scans"] = scans[0] - before
        return measured

    rounds = []
    for _ in range(args.rounds):
        reference = scenario(None, False)
        bypassed = scenario("duplicates", False)
        cached = scenario("duplicates", True)
        detector = scenario(None, False, works=False)
        alone = scenario(None, False, clients=1)
        rounds.append((reference, bypassed, cached, detector, alone))
    for number, (reference, bypassed, cached, detector, alone) in enumerate(rounds, start=1):
        tag = f" [round {number}]" if args.rounds > 1 else ""
        load.append(load_row(f"1 client alone (what one request costs){tag}", alone))
        load.append(load_row(f"{args.clients} clients alone (reference){tag}", reference))
        load.append(
            load_row(
                f"{args.clients} clients while another loops on GET /v1/duplicates?min_score=0, "
                f"cache bypassed (every call scans){tag}",
                bypassed,
                reference,
            )
        )
        load.append(
            load_row(
                f"{args.clients} clients while another loops on GET /v1/duplicates?min_score=0, "
                f"cache on{tag}",
                cached,
                reference,
            )
        )
        load.append(
            load_row(
                f"{args.clients} clients alone, without the works map (the detector over each "
                f"list){tag}",
                detector,
                reference,
            )
        )
    server.should_exit = True
    thread.join(10)
    ctx.close()

    print(f"machine: {machine()}; load average before: {load_before}, after: {os.getloadavg()}")
    print(
        f"library: {args.papers} demo papers, model {args.model}, embedded in "
        f"{embed_seconds:.1f} s; {args.requests} keep-alive requests per endpoint"
    )
    if rows:
        print(
            table(
                rows,
                ["endpoint", "n", "direct p50 ms", "http p50 ms", "http p95 ms", "http/direct"],
            )
        )
        print("(last row: ratio is against the idle HTTP p50 of the same request)")
    print(
        f"\nrelated() k=10 under load ({len(keys)} papers; {args.clients} client processes x "
        f"{args.client_requests} requests; one GET /v1/duplicates?min_score=0 alone took "
        f"{duplicates_seconds:.2f} s, the first, which starts the worker process, "
        f"{first_seconds:.2f} s):"
    )
    print(works_line)
    columns = ["scenario", "n", "p50 ms", "p95 ms", "p99 ms", "max ms", "related/s"]
    columns += ["background calls", "worker scans", "p50 / ref", "p99 / ref"]
    print(table([{c: row.get(c, "") for c in columns} for row in load], columns))


if __name__ == "__main__":
    main()
