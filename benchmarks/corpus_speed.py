"""Corpus embedding speed: papers/s per engine and worker count, and scaling efficiency.

Embeds N real papers (the digital_work records with abstracts, MIT, via bib-dedupe; repeated
with new ids when N is larger than 1606) with `specter_desk.corpus.embed_corpus`, once per
configuration, into a fresh output directory each time. The reference is the local engine
with one worker, measured in the same run; every other row shows its ratio to it and its
scaling efficiency = (rate / reference rate) / workers.

Two rates per row: `end-to-end` counts the whole call (reading, worker start, model load,
writing shards); `steady` counts only the papers committed after the first shard, over the
time from the first commit to the last, i.e. once every worker is warm.

    python benchmarks/corpus_speed.py                       # CPU: local 1, local 2, ray 1, ray 2
    python benchmarks/corpus_speed.py --gpus 1,2,4,8 --papers 200000 --model specter2
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _common import add_data_option, machine


def real_records(data: Path, n: int) -> list[dict]:
    """n corpus records (id, title, abstract) from digital_work, repeated with new ids."""
    path = data / "dedup" / "bib_dedupe" / "digital_work" / "records_pre_merged.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [
            r
            for r in csv.DictReader(fh)
            if (r.get("abstract") or "").strip() not in ("", "UNKNOWN")
        ]
    records = []
    while len(records) < n:
        copy = len(records) // len(rows)
        for row in rows[: n - len(records)]:
            records.append(
                {
                    "id": f"{row['ID']}-{copy}",
                    "title": row["title"],
                    "abstract": row["abstract"],
                    "doi": row.get("doi") or None,
                }
            )
    return records


def run_one(corpus: Path, work: Path, label: str, args, **engine) -> dict:
    from specter_desk.corpus import embed_corpus

    out = work / label.replace(" ", "_")
    shutil.rmtree(out, ignore_errors=True)
    commits: list[tuple[float, int]] = []
    encode_seconds: list[float] = []  # per shard, inside the worker: reading records + encode
    started = time.perf_counter()
    run = embed_corpus(
        corpus,
        out,
        model=args.model,
        model_path=args.model_path,
        shard_size=args.shard_size,
        batch_size=args.batch_size,
        on_shard=lambda r: (
            commits.append((time.perf_counter(), r.count)),
            encode_seconds.append(r.seconds),
        ),
        **engine,
    )
    wall = time.perf_counter() - started
    steady = 0.0
    if len(commits) > 1:
        span = commits[-1][0] - commits[0][0]
        steady = sum(c for _, c in commits[1:]) / span if span > 0 else 0.0
    shutil.rmtree(out, ignore_errors=True)
    return {
        "config": label,
        "workers": engine.get("workers") or len(run.workers),
        "papers": run.papers_embedded,
        "seconds": wall,
        "end_to_end": run.papers / wall,
        "steady": steady,
        # papers/s of one worker while it encodes (no shard writes, no waiting for work)
        "encoding": run.papers_embedded / sum(encode_seconds) if encode_seconds else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_data_option(parser)
    parser.add_argument("--papers", type=int, default=240)
    parser.add_argument("--model", default="minilm")
    parser.add_argument(
        "--model-path", default=None, help="local model folder (e.g. a random BERT-base)"
    )
    parser.add_argument("--shard-size", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--engines", default="local,ray", help="local, ray or both")
    parser.add_argument(
        "--gpus", default=None, help="GPU counts to run, e.g. 1,2,4,8 (default: CPU workers)"
    )
    parser.add_argument("--cpu-workers", default="1,2", help="CPU worker counts (no GPU)")
    parser.add_argument("--json", type=Path, default=None, help="Also write the rows here.")
    args = parser.parse_args()

    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    work = Path(tempfile.mkdtemp(prefix="corpus-speed-"))
    corpus = work / "corpus.jsonl"
    with open(corpus, "w", encoding="utf-8") as fh:
        for record in real_records(args.data, args.papers):
            fh.write(json.dumps(record) + "\n")
    rows: list[dict] = []
    ray_started = False
    try:
        counts = [int(x) for x in (args.gpus or args.cpu_workers).split(",")]
        gpu = args.gpus is not None
        for engine in engines:
            if engine == "ray":
                import ray

                if not ray.is_initialized():
                    cpus = None if gpu else max(counts)
                    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
                    ray_started = True
            for n in counts:
                if engine == "local":
                    devices = (
                        ",".join(f"cuda:{i}" for i in range(n))
                        if gpu
                        else ("cpu" if n == 1 else ",".join(["cpu"] * n))
                    )
                    rows.append(
                        run_one(corpus, work, f"local x{n}", args, engine="local", devices=devices)
                    )
                else:
                    rows.append(
                        run_one(
                            corpus, work, f"ray x{n}", args, engine="ray", workers=n, ray_gpus=gpu
                        )
                    )
                print(f"  done: {rows[-1]['config']}", file=sys.stderr, flush=True)
    finally:
        if ray_started:
            import ray

            ray.shutdown()
        shutil.rmtree(work, ignore_errors=True)

    reference = rows[0]
    print(
        f"\ncorpus_speed: {args.papers} papers, model {args.model}, shard size "
        f"{args.shard_size}, machine: {machine()}"
    )
    print(f"reference: {reference['config']} (measured in this run)\n")
    header = (
        f"{'config':<10} {'workers':>7} {'seconds':>8} {'end-to-end/s':>13} "
        f"{'x ref':>6} {'eff.':>6} {'steady/s':>9} {'x ref':>6} {'eff.':>6} "
        f"{'encoding/s per worker':>22}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        e2e = row["end_to_end"] / reference["end_to_end"]
        steady = row["steady"] / reference["steady"] if reference["steady"] else 0.0
        row.update(
            e2e_ratio=e2e,
            e2e_efficiency=e2e / row["workers"],
            steady_ratio=steady,
            steady_efficiency=steady / row["workers"],
        )
        print(
            f"{row['config']:<10} {row['workers']:>7} {row['seconds']:>8.1f} "
            f"{row['end_to_end']:>13.1f} {e2e:>6.2f} {e2e / row['workers']:>6.0%} "
            f"{row['steady']:>9.1f} {steady:>6.2f} {steady / row['workers']:>6.0%} "
            f"{row['encoding']:>22.1f}"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": machine(),
                    "args": vars(args) | {"data": str(args.data), "json": str(args.json)},
                    "rows": rows,
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
