"""recommend() latency at 10k-1M candidates: the index prefilter against scoring every candidate.

For each pool size N a real store gets a library of --library papers (--seeds of them added in
each week, so every week is a window of that many seeds) and N candidates, with synthetic
MiniLM-sized unit vectors (384-d; no data is read): fields -> topics -> papers, so papers of
one topic have cosine ~0.5, of one field ~0.3, others ~0; the user's library comes from a few
fields, the candidates from all of them. Titles and abstracts are random words (~1 KB a row,
no two papers alike, so no candidate is a copy of a library paper). The index is built once
(in memory, usearch, --ef-construction) and recommend() is called as the CLI calls it
(`since="week"`, n=10, MMR on), each time for another week (another set of seeds):

- prefilter K: services/prefilter.py forced on, K nearest eligible candidates per query (each
  seed, the seeds' centre), then exact scoring of their union (--per-query compares widths);
- exact: every candidate read from SQLite and scored (today's path, forced);
- shipped: which of the two recommend() picks at this size (prefilter.EXACT_BELOW).

Each path is called for the same weeks, its calls back to back (one uncounted call first);
"x" = exact p50 / prefilter p50; agreement
= the share of the exact top n that the prefilter returns (and how often the lists are equal).

    python benchmarks/recommend_speed.py                         # 10k and 100k
    python benchmarks/recommend_speed.py --sizes 2000,5000,10000,20000,50000   # crossover
    python benchmarks/recommend_speed.py --sizes 1000000 --ef-construction 64 --exact-repeat 4
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from _common import Stopwatch, machine, percentile, table  # noqa: E402

MODEL = "minilm"
DIM = 384
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
FIELDS = 200  # candidates spread over all fields; the library over USER_FIELDS of them
USER_FIELDS = 5
TOPICS_PER_FIELD = 50


def log(*parts) -> None:
    print(*parts, flush=True)


class Topics:
    """Field and topic centres of the synthetic vector space."""

    def __init__(self, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.fields = rng.standard_normal((FIELDS, DIM), dtype=np.float32)
        spread = rng.standard_normal((FIELDS, TOPICS_PER_FIELD, DIM), dtype=np.float32)
        self.topics = self.fields[:, None, :] + 1.2 * spread

    def papers(self, n: int, fields: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """n unit vectors, each near a random topic of one of fields."""
        out = np.empty((n, DIM), dtype=np.float32)
        for start in range(0, n, 50_000):
            stop = min(n, start + 50_000)
            f = fields[rng.integers(0, len(fields), stop - start)]
            t = rng.integers(0, TOPICS_PER_FIELD, stop - start)
            noise = rng.standard_normal((stop - start, DIM), dtype=np.float32)
            block = self.topics[f, t] + 1.4 * noise
            out[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
        return out


class Words:
    """Random pseudo-words: titles and abstracts that match nothing else."""

    def __init__(self, seed: int = 0):
        rng = random.Random(seed)
        syllables = [a + b for a in "bcdfghklmnprstvz" for b in "aeiou"]
        self.vocab = sorted(
            {"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(20000)}
        )
        self.text = " ".join(rng.choice(self.vocab) for _ in range(400_000))
        self.rng = np.random.default_rng(seed)

    def titles(self, n: int) -> list[str]:
        picks = self.rng.integers(0, len(self.vocab), (n, 9))
        vocab = self.vocab
        return [" ".join(vocab[j] for j in row).capitalize() for row in picks]

    def abstracts(self, n: int) -> list[str]:
        starts = self.rng.integers(0, len(self.text) - 1000, n)
        return [self.text[s : s + 800] for s in starts]


def fill(store, keys: list[str], pool: str, library: str, added: list[str], words: Words):
    """Insert papers straight into the store's table (rows as Store.upsert_papers writes them)."""
    from specter_desk.models import content_hash, normalize_title
    from specter_desk.store import PAPER_COLUMNS

    titles, abstracts = words.titles(len(keys)), words.abstracts(len(keys))
    rows, hashes = [], []
    for key, title, abstract, when in zip(keys, titles, abstracts, added, strict=True):
        chash = content_hash(title, abstract)
        hashes.append(chash)
        row = {
            "key": key,
            "library": library,
            "pool": pool,
            "version": 1,
            "item_type": "journalArticle",
            "title": title,
            "abstract": abstract,
            "year": 2026,
            "creators": "[]",
            "venue": "",
            "url": "",
            "date_added": when,
            "date_modified": when,
            "deleted": 0,
            "collections": "[]",
            "tags": "[]",
            "text_source": "abstract",
            "content_hash": chash,
            "title_key": normalize_title(title),
            "raw": "{}",
        }
        rows.append([row.get(c) for c in PAPER_COLUMNS])
    marks = ", ".join("?" for _ in PAPER_COLUMNS)
    with store.transaction():
        store.db.conn.executemany(
            f"INSERT INTO papers ({', '.join(PAPER_COLUMNS)}) VALUES ({marks})", rows
        )
    return hashes


def build(directory: Path, size: int, args) -> tuple:
    """A store with the library and `size` candidates, and the in-memory index over both."""
    from specter_desk.index import IndexParams, PaperIndex
    from specter_desk.models import CANDIDATE_POOL, LIBRARY_POOL
    from specter_desk.store import Store

    store = Store(directory / "library.db")
    topics, words = Topics(0), Words(0)
    rng = np.random.default_rng(1)
    user_fields = rng.choice(FIELDS, USER_FIELDS, replace=False)
    weeks = args.library // args.seeds
    lib_keys = [f"L{i:06d}" for i in range(weeks * args.seeds)]
    # seeds of week w were added during the w-th week before NOW
    added = [
        (NOW - timedelta(days=7 * (i // args.seeds) + float(rng.uniform(0.05, 6.9))))
        .isoformat()
        .replace("+00:00", "Z")
        for i in range(len(lib_keys))
    ]
    cand_keys = [f"C{i:07d}" for i in range(size)]
    with Stopwatch() as fill_time:
        lib_hashes = fill(store, lib_keys, LIBRARY_POOL, "user:1", added, words)
        cand_hashes = []
        for start in range(0, size, 100_000):
            chunk = cand_keys[start : start + 100_000]
            when = ["2026-11-20T00:00:00Z"] * len(chunk)
            cand_hashes += fill(store, chunk, CANDIDATE_POOL, "file:pool.jsonl", when, words)
        lib_vectors = topics.papers(len(lib_keys), user_fields, rng)
        cand_vectors = topics.papers(size, np.arange(FIELDS), rng)
        for keys, hashes, vectors in (
            (lib_keys, lib_hashes, lib_vectors),
            (cand_keys, cand_hashes, cand_vectors),
        ):
            for start in range(0, len(keys), 100_000):
                stop = start + 100_000
                store.save_vectors(
                    MODEL,
                    zip(keys[start:stop], hashes[start:stop], vectors[start:stop], strict=True),
                )
    with Stopwatch() as index_time:
        index = PaperIndex(MODEL, DIM, IndexParams(ef_construction=args.ef_construction))
        index.add(lib_keys, lib_hashes, lib_vectors)
        index.add(cand_keys, cand_hashes, cand_vectors)
    return store, index, weeks, fill_time.seconds, index_time.seconds


def measure(store, index, weeks: int, args, size: int) -> list[dict]:
    """p50/p95 of recommend() on both paths for the same weeks, and their agreement."""
    from specter_desk.services import prefilter
    from specter_desk.services.recommend import recommend

    shipped = (prefilter.EXACT_BELOW, prefilter.PER_QUERY)
    widths = [int(k) for k in str(args.per_query or shipped[1]).split(",")]
    paths = ["exact", *(f"prefilter {k}" for k in widths)]
    rng = random.Random(2)
    weeks_asked = [NOW - timedelta(days=7 * rng.randrange(weeks)) for _ in range(args.repeat)]
    times: dict[str, list[float]] = {path: [] for path in paths}
    answers: dict[str, list[list[str]]] = {path: [] for path in paths}
    # each path's calls run back to back, as a daemon refreshing its feeds calls it (a call
    # right after the exact path's large products found the cores busy with the BLAS threads
    # they leave spinning); each block starts with one call that is not counted
    for path in paths:
        calls = weeks_asked[: args.exact_repeat] if path == "exact" else weeks_asked
        width = int(path.split()[1]) if path != "exact" else shipped[1]
        prefilter.EXACT_BELOW = 10**15 if path == "exact" else 0
        prefilter.PER_QUERY = width
        try:
            for call, now in enumerate([calls[0], *calls]):
                start = time.perf_counter()
                answer = recommend(store, index, since="week", n=args.n, now=now)
                elapsed = time.perf_counter() - start
                if call:
                    times[path].append(elapsed * 1000)
                    answers[path].append([r.paper.key for r in answer.results])
        finally:
            prefilter.EXACT_BELOW, prefilter.PER_QUERY = shipped
    recall: dict[str, list[float]] = {path: [] for path in paths}
    equal = dict.fromkeys(paths, 0)
    for path in paths:
        for keys, exact in zip(answers[path], answers["exact"], strict=False):
            recall[path].append(len(set(keys) & set(exact)) / max(1, args.n))
            equal[path] += keys == exact
    chosen = f"prefilter {shipped[1]}" if size >= shipped[0] else "exact"
    reference = percentile(times["exact"], 50)
    rows = []
    for path in paths:
        p50 = percentile(times[path], 50)
        rows.append(
            {
                "candidates": f"{size:,}",
                "path": path + (" (shipped)" if path == chosen else ""),
                "calls": len(times[path]),
                "p50 ms": p50,
                "p95 ms": percentile(times[path], 95),
                "x exact": reference / p50,
                "recall of exact top n": float(np.mean(recall[path])),
                "min recall": float(np.min(recall[path])),
                "equal lists": f"{equal[path]}/{len(recall[path])}",
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="candidate pool sizes")
    parser.add_argument("--library", type=int, default=2000, help="library papers")
    parser.add_argument("--seeds", type=int, default=20, help="papers added per week")
    parser.add_argument("--n", type=int, default=10, help="recommendations per call")
    parser.add_argument("--repeat", type=int, default=40, help="prefilter calls per size")
    parser.add_argument("--exact-repeat", type=int, default=20, help="exact calls per size")
    parser.add_argument(
        "--per-query", default="", help="prefilter widths to compare, e.g. 25,50,100"
    )
    parser.add_argument("--ef-construction", type=int, default=200, help="index build breadth")
    parser.add_argument("--tmp", type=Path, default=None, help="where the stores go")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args()
    log(f"machine: {machine()}")
    rows, builds = [], []
    for size in [int(s) for s in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
            store, index, weeks, fill_s, index_s = build(Path(tmp), size, args)
            log(f"{size:,} candidates: store filled in {fill_s:.1f} s, index in {index_s:.1f} s")
            found = measure(store, index, weeks, args, size)
            log(table(found, list(found[0])))
            rows += found
            builds.append({"candidates": size, "fill s": fill_s, "index s": index_s})
            store.close()
    log("")
    log(table(rows, list(rows[0])))
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "builds": builds}, indent=2))


if __name__ == "__main__":
    main()
