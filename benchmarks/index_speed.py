"""Related-papers latency end to end: the service API and the HTTP bridge, at 10k-1M papers.

For each size: N papers with 768-d vectors (synthetic, clustered: 20 papers per topic,
cosine ~0.8 within a topic, standing in for SPECTER2 vectors) go into a real store; the
index is built through `Desk.index()` (store -> usearch graph -> atomic save), reopened (header
and checksum validated), then queried:

- service: `store.get_paper(key)` + `services.related.related(store, index, paper, k=10)`,
  as the CLI and the bridge call it (and with `pool="library"`);
- bridge: `GET /v1/papers/{key}/related?k=10` on a real `specter-desk serve` subprocess on
  127.0.0.1, keep-alive client, bearer token;
- floor: one raw search of the usearch graph; reference: exact search (numpy matrix-vector product +
  argpartition over all N vectors), the ratio is reference p50 / service p50.

recall@10 compares the index's top 10 with the exact top 10 (the query paper excluded).

    python benchmarks/index_speed.py                     # 10k and 100k (make bench)
    python benchmarks/index_speed.py --sizes 1000000     # slow: builds for ~1 h on 2 cores
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from _common import (  # noqa: E402
    REPO,
    Stopwatch,
    machine,
    percentile,
    rss_mb,
    table,
)

MODEL = "specter2"  # the default model's name and dimension; vectors are synthetic
DIM = 768


def log(*parts) -> None:
    print(*parts, flush=True)


def synthetic_vectors(n: int, seed: int = 0, per_topic: int = 20) -> np.ndarray:
    """Unit vectors in topics: centre + noise, cosine ~0.8 between papers of a topic."""
    rng = np.random.default_rng(seed)
    topics = max(1, n // per_topic)
    centres = rng.standard_normal((topics, DIM), dtype=np.float32)
    out = np.empty((n, DIM), dtype=np.float32)
    step = 50_000
    for start in range(0, n, step):
        stop = min(n, start + step)
        which = rng.integers(0, topics, stop - start)
        block = centres[which] + 0.5 * rng.standard_normal((stop - start, DIM), dtype=np.float32)
        out[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def fill_store(store, vectors: np.ndarray) -> list[str]:
    """N library papers with their vectors; returns the keys."""
    from specter_desk.models import Paper

    keys = []
    step = 20_000
    for start in range(0, len(vectors), step):
        papers = [
            Paper(
                key=f"P{i:07d}",
                title=f"Synthetic paper {i} on topic {i % 997}",
                abstract=f"Abstract of synthetic paper {i}.",
                library="bench",
            )
            for i in range(start, min(len(vectors), start + step))
        ]
        store.upsert_papers(papers)
        store.save_vectors(
            MODEL,
            ((p.key, p.content_hash, vectors[start + j]) for j, p in enumerate(papers)),
        )
        keys += [p.key for p in papers]
    return keys


def exact_top(vectors: np.ndarray, row: int, k: int) -> np.ndarray:
    sims = vectors @ vectors[row]
    sims[row] = -np.inf
    top = np.argpartition(-sims, k)[:k]
    return top[np.argsort(-sims[top])]


def stats(samples_s: list[float]) -> dict:
    ms = [s * 1e3 for s in samples_s]
    return {
        "p50 ms": percentile(ms, 50),
        "p95 ms": percentile(ms, 95),
        "p99 ms": percentile(ms, 99),
    }


def start_bridge(home: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, SPECTER_DESK_HOME=str(home), SPECTER_DESK_MODEL=MODEL)
    return subprocess.Popen(
        [sys.executable, "-m", "specter_desk", "serve", "--port", str(port), "--foreground"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def bridge_latency(home: Path, keys: list[str], queries: list[int], data_dir: Path) -> dict:
    """p50/p95 of GET /v1/papers/{key}/related on a real `specter-desk serve` subprocess."""
    import httpx

    from specter_desk.server.token import ensure_token

    token = ensure_token(data_dir)
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = start_bridge(home, port)
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=600
        ) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if client.get("/v1/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the bridge did not start")
                time.sleep(0.2)
            with Stopwatch() as first:  # loads (validates) the index in the server
                response = client.get(f"/v1/papers/{keys[queries[0]]}/related", params={"k": 10})
            response.raise_for_status()
            assert len(response.json()["related"]) == 10, response.text[:300]
            samples = []
            for q in queries:
                with Stopwatch() as clock:
                    response = client.get(f"/v1/papers/{keys[q]}/related", params={"k": 10})
                response.raise_for_status()
                samples.append(clock.seconds)
        row = stats(samples)
        row["first request s"] = first.seconds
        return row
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def bench_size(n: int, args, results: list[dict]) -> None:
    from specter_desk.config import Config
    from specter_desk.desk import Desk
    from specter_desk.index import paths_for
    from specter_desk.services.related import related

    log(f"\n== {n:,} papers, {DIM}-d")
    with tempfile.TemporaryDirectory(prefix=f"index-bench-{n}-", dir=args.tmp) as tmp:
        home = Path(tmp) / "home"
        os.environ["SPECTER_DESK_HOME"] = str(home)
        os.environ["SPECTER_DESK_MODEL"] = MODEL
        vectors = synthetic_vectors(n)
        desk = Desk(Config.load(), notice=lambda m: None)
        with Stopwatch() as clock:
            keys = fill_store(desk.store, vectors)
        log(f"   store filled in {clock.seconds:.1f} s")
        rss_before = rss_mb()
        with Stopwatch() as build:
            index = desk.index(MODEL)
        data_path, header_path = paths_for(desk.paths.index_dir, MODEL)
        size_mb = (data_path.stat().st_size + header_path.stat().st_size) / 2**20
        log(f"   index built and saved in {build.seconds:.1f} s, {size_mb:.0f} MB on disk")
        rss_built = rss_mb()
        desk.close()
        del index, desk

        desk = Desk(Config.load(), notice=lambda m: None)
        with Stopwatch() as reopen:
            index = desk.index(MODEL)
        store = desk.store
        log(f"   reopened (header + sha256 checked) in {reopen.seconds:.2f} s")

        rng = np.random.default_rng(1)
        queries = rng.choice(n, size=min(args.queries, n), replace=False).tolist()
        for q in queries[:20]:  # warm caches
            related(store, index, store.get_paper(keys[q]), 10)

        service, pooled, floor, exact, recall = [], [], [], [], []
        truths: list[set[str]] = []
        graph = index._graph
        for q in queries:
            with Stopwatch() as clock:
                paper = store.get_paper(keys[q])
                rows = related(store, index, paper, 10)
            service.append(clock.seconds)
            assert len(rows) == 10
            with Stopwatch() as clock:
                related(store, index, store.get_paper(keys[q]), 10, pool="library")
            pooled.append(clock.seconds)
            with Stopwatch() as clock:
                graph.search(vectors[q], 11, threads=1)
            floor.append(clock.seconds)
            with Stopwatch() as clock:
                truth = exact_top(vectors, q, 10)
            exact.append(clock.seconds)
            truths.append({keys[i] for i in truth})
            found = {key for key, _ in index.query(vectors[q], 10, exclude={keys[q]})[0]}
            recall.append(len(found & truths[-1]) / 10)
        rss_queried = rss_mb()
        rows = [
            dict(stats(exact), path="reference: exact search (numpy)"),
            dict(stats(floor), path="usearch search alone (floor)"),
            dict(stats(service), path="service: get_paper + related()"),
            dict(stats(pooled), path="service: related(pool='library')"),
        ]
        if not args.no_bridge:
            log("   bridge: starting `specter-desk serve` ...")
            rows.append(
                dict(
                    bridge_latency(home, keys, queries[: args.bridge_queries], desk.paths.data_dir),
                    path="bridge: GET /v1/papers/{key}/related",
                )
            )
        reference = rows[0]["p50 ms"]
        for row in rows:
            row["x vs exact (p50)"] = reference / row["p50 ms"]
        summary = {
            "papers": n,
            "build s": build.seconds,
            "reopen s": reopen.seconds,
            "index MB": size_mb,
            "recall@10": float(np.mean(recall)),
            "RSS MB": rss_queried,
            "RSS for index MB": rss_built - rss_before,
            "service p95 ms": rows[2]["p95 ms"],
            "bridge p95 ms": rows[-1]["p95 ms"] if not args.no_bridge else float("nan"),
            "latency": rows,
        }
        if args.ef_sweep:
            summary["ef sweep"] = ef_sweep(store, index, keys, vectors, queries, truths, args)
        results.append(summary)
        log(
            table(
                rows, ["path", "p50 ms", "p95 ms", "p99 ms", "x vs exact (p50)", "first request s"]
            )
        )
        log(
            f"   recall@10 {summary['recall@10']:.4f} over {len(queries)} queries; "
            f"RSS {rss_queried:.0f} MB (index build added {summary['RSS for index MB']:.0f} MB)"
        )
        desk.close()


def ef_sweep(store, index, keys, vectors, queries, truths, args) -> list[dict]:
    """recall@10 and latency at other ef_search values, on the same queries and truths."""
    from specter_desk.services.related import related

    rows = []
    default_ef = index.params.ef_search
    for ef in (int(x) for x in args.ef_sweep.split(",")):
        index.params.ef_search = ef  # what PaperIndex.query sets on the graph per query
        service, floor, recall = [], [], []
        for q, truth in zip(queries, truths, strict=True):
            with Stopwatch() as clock:
                related(store, index, store.get_paper(keys[q]), 10)
            service.append(clock.seconds)
            index._graph.expansion_search = ef
            with Stopwatch() as clock:
                index._graph.search(vectors[q], 11, threads=1)
            floor.append(clock.seconds)
            found = {key for key, _ in index.query(vectors[q], 10, exclude={keys[q]})[0]}
            recall.append(len(found & truth) / 10)
        service_stats, floor_stats = stats(service), stats(floor)
        rows.append(
            {
                "ef_search": ef,
                "recall@10": float(np.mean(recall)),
                "graph p50 ms": floor_stats["p50 ms"],
                "graph p95 ms": floor_stats["p95 ms"],
                "service p50 ms": service_stats["p50 ms"],
                "service p95 ms": service_stats["p95 ms"],
            }
        )
    index.params.ef_search = default_ef
    log(table(rows, list(rows[0])))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated paper counts")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--bridge-queries", type=int, default=300)
    parser.add_argument("--no-bridge", action="store_true")
    parser.add_argument("--tmp", help="where the temporary stores go (default: system temp)")
    parser.add_argument(
        "--ef-sweep", default="", help="also measure these ef_search values, e.g. 32,64,128,256"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    log(f"machine: {machine()}")
    log(f"command: python benchmarks/index_speed.py {' '.join(argv or sys.argv[1:])}")
    results: list[dict] = []
    for n in (int(x) for x in args.sizes.split(",")):
        bench_size(n, args, results)
    log("\n== summary")
    columns = [
        "papers",
        "build s",
        "reopen s",
        "index MB",
        "recall@10",
        "RSS MB",
        "service p95 ms",
        "bridge p95 ms",
    ]
    log(table(results, columns))
    if args.json:
        args.json.write_text(
            json.dumps(
                {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "results": results},
                indent=1,
                default=str,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
