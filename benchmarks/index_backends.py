"""hnswlib against usearch, same run, same vectors: build, recall@10, latency, size, open time.

hnswlib is no longer a dependency (it needs a C++ compiler): `pip install hnswlib` to compare.

The question (issue 21): hnswlib 0.8 ships no wheels, so `pip install specter-desk` needs a C++
compiler; usearch ships wheels for every platform Zotero users have. What does moving cost?

Vectors are MiniLM-like: real all-MiniLM-L6-v2 vectors (384-d) of ~30k real titles (citeulike-a
plus the bib-dedupe sets in --data), and the rest of N made from them: each synthetic vector
mixes a real vector with one of its 20 nearest real neighbours plus noise, so it lies in the
same cone and cluster structure as real MiniLM output (plain Gaussian vectors are far easier
and far less realistic). The real vectors are embedded once and cached (--cache).

Per backend and size: build (all threads), recall@10 against exact search over 1,000 held-in
queries (the query itself excluded, as related() does), single-query p50/p95 (1 thread, k=10),
file size, save time, and open time + RSS in a fresh subprocess (hnswlib: load_index; usearch:
load into RAM and view = memory-mapped).

    python benchmarks/index_backends.py --sizes 100000
    python benchmarks/index_backends.py --sizes 1000000 --backends hnswlib,usearch-f16
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from _common import DEFAULT_DATA, Stopwatch, machine, percentile, rss_mb, table  # noqa: E402

M = 16  # connectivity, as specter-desk's index
EF_CONSTRUCTION = 200  # --ef-construction changes it (a cheap build to time opening at 1M)
QUERIES = 1000
K = 10


def log(*parts) -> None:
    print(*parts, flush=True)


def real_titles(data: Path) -> list[str]:
    """Every title in citeulike-a and the bib-dedupe sets (deduplicated, order kept)."""
    titles = (data / "recsys" / "citeulike_a" / "citeutitles.txt").read_text(
        encoding="utf-8", errors="replace"
    )
    out = [" ".join(t.split()) for t in titles.splitlines()]
    for path in sorted((data / "dedup" / "bib_dedupe").glob("*/records_pre_merged.csv")):
        with open(path, newline="", encoding="utf-8") as fh:
            out += [" ".join((row.get("title") or "").split()) for row in csv.DictReader(fh)]
    seen: set[str] = set()
    return [t for t in out if t and not (t.lower() in seen or seen.add(t.lower()))]


def real_vectors(data: Path, cache: Path) -> np.ndarray:
    """MiniLM vectors of the real titles (cached as .npy)."""
    if cache.exists():
        return np.load(cache)
    from specter_desk.embed.encoder import Encoder
    from specter_desk.embed.registry import get_model

    titles = real_titles(data)
    log(f"embedding {len(titles)} real titles with MiniLM (cached in {cache}) ...")
    with Stopwatch() as sw:
        vectors = Encoder(get_model("minilm"), device="cpu").encode(titles)
    log(f"  {sw.seconds:.0f} s")
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, vectors.astype(np.float32))
    return vectors


def minilm_like(real: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """n unit vectors: the real ones first, then mixes of a real vector, a near neighbour and
    noise (see the module doc)."""
    rng = np.random.default_rng(seed)
    if n <= len(real):
        return real[rng.permutation(len(real))[:n]].copy()
    neighbours = np.empty((len(real), 20), dtype=np.int64)
    for start in range(0, len(real), 2048):
        sims = real[start : start + 2048] @ real.T
        for row in range(sims.shape[0]):
            sims[row, start + row] = -np.inf
        neighbours[start : start + 2048] = np.argpartition(-sims, 20, axis=1)[:, :20]
    out = np.empty((n, real.shape[1]), dtype=np.float32)
    out[: len(real)] = real
    for start in range(len(real), n, 100_000):
        stop = min(n, start + 100_000)
        size = stop - start
        base = rng.integers(0, len(real), size)
        other = neighbours[base, rng.integers(0, 20, size)]
        mix = rng.uniform(0.0, 0.5, (size, 1)).astype(np.float32)
        block = (1 - mix) * real[base] + mix * real[other]
        block += 0.35 / np.sqrt(real.shape[1]) * rng.standard_normal(block.shape, np.float32)
        out[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def exact_neighbours(vectors: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """The exact top-K (query excluded) per query row index."""
    out = np.empty((len(queries), K), dtype=np.int64)
    for start in range(0, len(queries), 100):
        rows = queries[start : start + 100]
        sims = vectors[rows] @ vectors.T
        sims[np.arange(len(rows)), rows] = -np.inf
        top = np.argpartition(-sims, K, axis=1)[:, :K]
        order = np.argsort(-np.take_along_axis(sims, top, 1), axis=1)
        out[start : start + 100] = np.take_along_axis(top, order, 1)
    return out


def auto_ef(size: int) -> int:
    from specter_desk.index import auto_ef as ef

    return ef(size)


# -- backends -------------------------------------------------------------------------------


class Hnswlib:
    name = "hnswlib"

    def build(self, vectors: np.ndarray, ef: int, ef_construction: int) -> None:
        import hnswlib

        self.index = hnswlib.Index(space="cosine", dim=vectors.shape[1])
        self.index.init_index(max_elements=len(vectors), M=M, ef_construction=ef_construction)
        self.index.set_num_threads(os.cpu_count() or 1)
        self.index.add_items(vectors, np.arange(len(vectors)))
        self.index.set_ef(ef)
        self.index.set_num_threads(1)

    def query(self, vector: np.ndarray, k: int) -> np.ndarray:
        labels, _ = self.index.knn_query(vector, k=k)
        return labels[0]

    def save(self, path: Path) -> None:
        self.index.save_index(str(path))

    @staticmethod
    def open_code(path: Path, dim: int, ef: int, view: bool) -> str:
        return (
            f"i = hnswlib.Index(space='cosine', dim={dim}); "
            f"i.load_index({str(path)!r}); i.set_ef({ef}); i.set_num_threads(1)"
        )


class Usearch:
    def __init__(self, dtype: str):
        self.dtype = dtype
        self.name = f"usearch-{dtype}"

    def build(self, vectors: np.ndarray, ef: int, ef_construction: int) -> None:
        from usearch.index import Index

        self.index = Index(
            ndim=vectors.shape[1],
            metric="cos",
            dtype=self.dtype,
            connectivity=M,
            expansion_add=ef_construction,
            expansion_search=ef,
        )
        self.index.add(np.arange(len(vectors)), vectors, threads=os.cpu_count() or 1)

    def query(self, vector: np.ndarray, k: int) -> np.ndarray:
        return self.index.search(vector, k, threads=1).keys

    def save(self, path: Path) -> None:
        self.index.save(str(path))

    @staticmethod
    def open_code(path: Path, dim: int, ef: int, view: bool) -> str:
        return f"i = Index.restore({str(path)!r}, view={view}); i.expansion_search = {ef}"


BACKENDS = {
    "hnswlib": Hnswlib,
    "usearch-f32": lambda: Usearch("f32"),
    "usearch-f16": lambda: Usearch("f16"),
    "usearch-i8": lambda: Usearch("i8"),
}

OPEN_SCRIPT = """
import json, os, sys, time
import numpy as np
def rss():
    return int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20
{imports}
q = np.load({queries!r})
before = rss()
t = time.perf_counter()
{code}
opened = time.perf_counter() - t
t = time.perf_counter()
{first}
first = time.perf_counter() - t
print(json.dumps({{"open_s": opened, "first_query_ms": first * 1e3, "rss_mb": rss() - before}}))
"""


def open_in_subprocess(backend, path: Path, dim: int, ef: int, view: bool, queries: Path) -> dict:
    code = backend.open_code(path, dim, ef, view)
    first = "i.knn_query(q[:1], k=10)" if isinstance(backend, Hnswlib) else "i.search(q[0], 10)"
    imports = (
        "import hnswlib" if isinstance(backend, Hnswlib) else "from usearch.index import Index"
    )
    script = OPEN_SCRIPT.format(imports=imports, queries=str(queries), code=code, first=first)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(
    backend, vectors: np.ndarray, rows: np.ndarray, truth: np.ndarray, work: Path, ef_c: int
):
    n, dim = vectors.shape
    ef = auto_ef(n)
    row: dict = {"backend": backend.name, "N": n, "ef": ef, "ef_construction": ef_c}
    rss_before = rss_mb()
    with Stopwatch() as sw:
        backend.build(vectors, ef, ef_c)
    row["build s"] = sw.seconds
    row["build RSS MB"] = rss_mb() - rss_before
    hits = 0
    latencies = []
    for query_row, expected in zip(rows, truth, strict=True):
        started = time.perf_counter()
        found = backend.query(vectors[query_row], K + 1)
        latencies.append(time.perf_counter() - started)
        found = [int(x) for x in found if int(x) != query_row][:K]
        hits += len(set(found) & {int(x) for x in expected})
    row["recall@10"] = hits / (len(rows) * K)
    row["p50 ms"] = percentile([s * 1e3 for s in latencies], 50)
    row["p95 ms"] = percentile([s * 1e3 for s in latencies], 95)
    path = work / f"{backend.name}-{n}.idx"
    with Stopwatch() as sw:
        backend.save(path)
    row["save s"] = sw.seconds
    row["MB"] = path.stat().st_size / 2**20
    del backend.index
    queries = work / "queries.npy"
    np.save(queries, vectors[:10])
    loaded = open_in_subprocess(backend, path, dim, ef, False, queries)
    row["open s"] = loaded["open_s"]
    row["open RSS MB"] = loaded["rss_mb"]
    if isinstance(backend, Usearch):
        viewed = open_in_subprocess(backend, path, dim, ef, True, queries)
        row["view s"] = viewed["open_s"]
        row["view RSS MB"] = viewed["rss_mb"]
        row["view 1st query ms"] = viewed["first_query_ms"]
    path.unlink()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--backends", default="hnswlib,usearch-f32,usearch-f16,usearch-i8")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "minilm-real-titles.npy"
    )
    parser.add_argument("--out", type=Path, help="append each row as a JSON line here too")
    parser.add_argument(
        "--repeat", type=int, default=1, help="measure each backend N times, order rotated"
    )
    parser.add_argument(
        "--ef-construction",
        type=int,
        default=EF_CONSTRUCTION,
        help="build breadth (lower: a faster build; recall is then not the product's)",
    )
    parser.add_argument("--queries", type=int, default=QUERIES, help="recall/latency queries")
    args = parser.parse_args()
    log(machine())
    import usearch

    try:
        import hnswlib

        log(f"hnswlib {getattr(hnswlib, '__version__', '0.8.0')}, usearch {usearch.__version__}")
    except ImportError:  # it needs a compiler: `pip install hnswlib` where there is one
        names = [b for b in args.backends.split(",") if b != "hnswlib"]
        log(f"hnswlib is not installed: measuring {', '.join(names)} only")
        args.backends = ",".join(names)
    real = real_vectors(args.data, args.cache)
    log(f"{len(real)} real MiniLM vectors, dim {real.shape[1]}")
    rows_out = []
    columns = [
        "backend", "N", "ef", "build s", "recall@10", "p50 ms", "p95 ms", "MB", "save s",
        "open s", "open RSS MB", "view s", "view RSS MB", "view 1st query ms",
    ]  # fmt: skip
    for size in (int(s) for s in args.sizes.split(",")):
        vectors = minilm_like(real, size)
        rng = np.random.default_rng(1)
        rows = rng.choice(size, min(args.queries, size), replace=False)
        with Stopwatch() as sw:
            truth = exact_neighbours(vectors, rows)
        log(f"N={size}: exact top-10 of {len(rows)} queries in {sw.seconds:.1f} s")
        names = args.backends.split(",")
        with tempfile.TemporaryDirectory() as tmp:
            for rep in range(args.repeat):  # rotate: no backend always runs first or last
                for name in names[rep % len(names) :] + names[: rep % len(names)]:
                    row = measure(
                        BACKENDS[name](), vectors, rows, truth, Path(tmp), args.ef_construction
                    )
                    row["run"] = rep + 1
                    log(json.dumps(row))
                    rows_out.append(row)
                    if args.out:
                        with args.out.open("a") as fh:
                            fh.write(json.dumps(row) + "\n")
        del vectors
    log("\n" + table(rows_out, ["run", *columns]))


if __name__ == "__main__":
    main()
