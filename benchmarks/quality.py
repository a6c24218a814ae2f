"""Recommendation and search quality on citeulike-a (real titles, citations, user libraries, tags).

Three tasks, every method scored against every paper of the collection (16,980 titles):

(a) related by citation: for each paper with citations, rank all other papers by similarity to
    its title; relevant = its citation neighbours. MAP and nDCG@10.
(b) recommendation: hide 20% of each user's library (fixed seed), rank all papers not in the
    remaining 80% (the seeds), relevant = the hidden 20%. recall@20, recall@100, nDCG@20, and
    ils@20 = mean pairwise cosine of the top 20 (lower = more diverse; what MMR buys).
    The soft-max temperature is chosen on validation users disjoint from the test users.
(c) search: tag names as free-text queries (e.g. "gene expression"), relevant = the papers
    users tagged with it. MAP and nDCG@10 — dense, BM25 and hybrid (RRF) as in `search --hybrid`.

Baselines: BM25 (specter_desk.services.search.BM25: Okapi, k1=1.5, b=0.75), popularity
(users per paper, training part only), random, and the mean-of-seeds centroid.

    .venv/bin/python benchmarks/quality.py                 # minilm, all 4,000 users
    .venv/bin/python benchmarks/quality.py --users 1000    # a fixed-seed sample of test users

Vectors are cached in bench-out/ (git-ignored) keyed by model and a hash of the titles.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from _common import add_data_option, machine  # noqa: E402

from specter_desk.services.recommend import TAU, mmr, softmax_scores  # noqa: E402
from specter_desk.services.search import BM25, RRF_K  # noqa: E402

RECO_KS = (20, 100)
TAUS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5)


# -- data -------------------------------------------------------------------------------------


def read_lists(path: Path, n: int | None = None) -> list[list[int]]:
    """Lines of 'count id id ...' -> lists of ids (checked against the count)."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n")):
        if n is not None and number >= n:
            break
        parts = line.split()
        if not parts:
            rows.append([])
            continue
        ids = [int(x) for x in parts[1:]]
        assert int(parts[0]) == len(ids), f"{path}:{number + 1}: count mismatch"
        rows.append(ids)
    if n is not None:
        rows += [[] for _ in range(n - len(rows))]
    return rows


def load(data: Path) -> dict:
    root = data / "recsys" / "citeulike_a"
    titles = root.joinpath("citeutitles.txt").read_text(encoding="utf-8").split("\n")[:16980]
    n = len(titles)
    users = [u for u in read_lists(root / "users.dat") if u]
    citations = read_lists(root / "citations.dat", n)
    item_tags = []
    for line in root.joinpath("item-tag.dat").read_text(encoding="utf-8").split("\n")[:n]:
        parts = line.split()
        item_tags.append([int(x) for x in parts[1:]] if parts else [])
    item_tags += [[] for _ in range(n - len(item_tags))]
    tag_names = root.joinpath("tags.dat").read_text(encoding="utf-8").split("\n")
    return {
        "titles": titles,
        "users": users,
        "citations": citations,
        "item_tags": item_tags,
        "tag_names": tag_names,
    }


def embeddings(titles: list[str], model: str, model_path: str | None, out: Path) -> np.ndarray:
    """Title vectors from the registry model, cached in out/ by model and titles hash."""
    digest = hashlib.sha256("\n".join(titles).encode()).hexdigest()[:16]
    path = out / f"citeulike_a-{model}-{digest}.npy"
    if path.exists():
        return np.load(path)
    from specter_desk.embed.encoder import Encoder
    from specter_desk.embed.registry import get_model

    encoder = Encoder(get_model(model), model_path=model_path, device="cpu")
    started = time.perf_counter()
    vectors = encoder.encode(titles)
    print(
        f"embedded {len(titles)} titles with {model} in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    out.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


# -- metrics ----------------------------------------------------------------------------------


def relevant_ranks(scores: np.ndarray, relevant: list[int]) -> np.ndarray:
    """1-based ranks of the relevant items in one row of scores (higher is better)."""
    rel = scores[relevant]
    return (scores[None, :] > rel[:, None]).sum(axis=1) + 1


def metrics_from_ranks(ranks: np.ndarray, ks: tuple[int, ...], ndcg_k: int) -> dict[str, float]:
    ranks = np.sort(ranks)
    m = len(ranks)
    out = {"ap": float(np.mean(np.arange(1, m + 1) / ranks))}
    for k in ks:
        out[f"recall@{k}"] = float((ranks <= k).sum() / m)
    gains = (1.0 / np.log2(ranks[ranks <= ndcg_k] + 1)).sum()
    ideal = (1.0 / np.log2(np.arange(1, min(m, ndcg_k) + 1) + 1)).sum()
    out[f"ndcg@{ndcg_k}"] = float(gains / ideal)
    return out


def intra_list_similarity(scores: np.ndarray, vectors: np.ndarray, k: int) -> float:
    """Mean pairwise cosine of the top k (lower = a more diverse list)."""
    top = np.argpartition(-scores, k)[:k]
    sims = vectors[top] @ vectors[top].T
    return float((sims.sum() - np.trace(sims)) / (k * (k - 1)))


def mean_metrics(rows: list[dict[str, float]]) -> dict[str, float]:
    return {key: float(np.mean([r[key] for r in rows])) for key in rows[0]}


def paired_difference(a: list[dict[str, float]], b: list[dict[str, float]]) -> dict[str, str]:
    """Mean per-user difference a - b with its standard error, for the headline metrics."""
    out = {}
    for key in ("recall@20", "ndcg@20"):
        diff = np.array([x[key] - y[key] for x, y in zip(a, b, strict=True)])
        se = diff.std(ddof=1) / np.sqrt(len(diff))
        out[key] = f"{diff.mean():+.4f} +- {se:.4f} (z = {diff.mean() / se:.1f})"
    return out


def full_ranks(scores: np.ndarray) -> np.ndarray:
    """Rank (0-based) of every item in each row, best first."""
    order = np.argsort(-scores, axis=1, kind="stable")
    ranks = np.empty_like(order)
    rows = np.arange(scores.shape[0])[:, None]
    ranks[rows, order] = np.arange(scores.shape[1])[None, :]
    return ranks


def rrf(*score_rows: np.ndarray) -> np.ndarray:
    """Reciprocal rank fusion over full rankings (1-based ranks, k=60)."""
    return sum(1.0 / (RRF_K + 1 + full_ranks(s)) for s in score_rows)


# -- tasks ------------------------------------------------------------------------------------


def task_related(
    d: dict,
    vectors: np.ndarray,
    bm25: BM25,
    popularity: np.ndarray,
    rng: np.random.Generator,
    chunk: int = 256,
) -> dict[str, dict[str, float]]:
    queries = [i for i, c in enumerate(d["citations"]) if c]
    results: dict[str, list[dict[str, float]]] = {
        m: [] for m in ("dense (ours)", "BM25", "hybrid RRF", "popularity", "random")
    }
    n = len(vectors)
    for start in range(0, len(queries), chunk):
        q = queries[start : start + chunk]
        noise = rng.random((len(q), n), dtype=np.float32) * 1e-6
        dense = vectors[q] @ vectors.T + noise
        lexical = bm25.scores([d["titles"][i] for i in q]) + noise
        pop = np.broadcast_to(popularity, (len(q), n)) + noise * 1e3
        rand = rng.random((len(q), n), dtype=np.float32)
        rows = np.arange(len(q))
        for s in (dense, lexical, pop, rand):
            s[rows, q] = -np.inf
        fused = rrf(dense, lexical)
        fused[rows, q] = -np.inf
        for name, s in (
            ("dense (ours)", dense),
            ("BM25", lexical),
            ("hybrid RRF", fused),
            ("popularity", pop),
            ("random", rand),
        ):
            for r, i in enumerate(q):
                ranks = relevant_ranks(s[r], d["citations"][i])
                results[name].append(metrics_from_ranks(ranks, (), 10))
    return {name: mean_metrics(rows) for name, rows in results.items()}


def split_users(users: list[list[int]], rng: np.random.Generator) -> list[tuple[list, list]]:
    """(seeds, held out) per user: a random 20% held out (at least one paper)."""
    out = []
    for items in users:
        items = list(items)
        rng.shuffle(items)
        hold = max(1, round(0.2 * len(items)))
        out.append((items[hold:], items[:hold]))
    return out


def recommend_scores(
    method: str,
    seeds: list[int],
    vectors: np.ndarray,
    tau: float,
    bm25_row: np.ndarray | None,
    popularity: np.ndarray,
) -> np.ndarray:
    if method == "centroid":
        centroid = vectors[seeds].mean(axis=0)
        return vectors @ (centroid / np.linalg.norm(centroid))
    if method == "popularity":
        return popularity.astype(np.float32)
    sims = vectors[seeds] @ vectors.T
    if method == "max":
        return sims.max(axis=0)
    return softmax_scores(sims, None, tau)


def task_recommend(
    d: dict,
    vectors: np.ndarray,
    bm25: BM25,
    splits,
    popularity: np.ndarray,
    val_ids: list[int],
    test_ids: list[int],
    rng: np.random.Generator,
):
    n = len(vectors)

    def evaluate(user_ids, methods, tau):
        results = {m: [] for m in methods}
        for start in range(0, len(user_ids), 256):
            batch = user_ids[start : start + 256]
            queries = [" ".join(d["titles"][i] for i in splits[u][0]) for u in batch]
            q = bm25.query_matrix(queries)  # term counts: sum of per-seed BM25 scores
            lexical_all = np.asarray((q @ bm25.weights.T).todense(), dtype=np.float32)
            for r, u in enumerate(batch):
                seeds, held = splits[u]
                noise = rng.random(n, dtype=np.float32) * 1e-6
                per_method = {}
                for m in methods:
                    if m == "BM25":
                        s = lexical_all[r] + noise
                    elif m == "random":
                        s = rng.random(n, dtype=np.float32)
                    elif m == "ours + MMR":
                        s = per_method["ours"].copy()
                        pool = np.argsort(-s)[:100]
                        picked = mmr(s[pool], vectors[pool], len(pool))
                        s[pool[picked]] = 10.0 - np.arange(len(picked)) * 1e-3
                    elif m == "ours + BM25 (RRF)":
                        s = rrf(per_method["ours"][None, :], (lexical_all[r] + noise)[None, :])[0]
                        s[seeds] = -np.inf
                    else:
                        key = "ours" if m == "ours" else m
                        s = recommend_scores(key, seeds, vectors, tau, None, popularity)
                        s = s + noise * (1e3 if m == "popularity" else 1)
                    s[seeds] = -np.inf
                    per_method[m] = s
                    row = metrics_from_ranks(relevant_ranks(s, held), RECO_KS, 20)
                    row["ils@20"] = intra_list_similarity(s, vectors, 20)
                    results[m].append(row)
        means = {m: mean_metrics(rows) for m, rows in results.items()}
        if "ours" in results:
            for ref in ("centroid", "BM25"):
                if ref in results:
                    means["ours"][f"vs {ref}"] = paired_difference(results["ours"], results[ref])
        return means

    tuning = {}
    for tau in TAUS:
        tuning[tau] = evaluate(val_ids, ["ours"], tau)["ours"]
    best_tau = max(TAUS, key=lambda t: tuning[t]["ndcg@20"])
    methods = [
        "ours",
        "ours + MMR",
        "centroid",
        "max",
        "BM25",
        "ours + BM25 (RRF)",
        "popularity",
        "random",
    ]
    test = evaluate(test_ids, methods, best_tau)
    return {"tuning": tuning, "tau": best_tau, "test": test}


def task_search(d: dict, vectors: np.ndarray, bm25: BM25, query_encoder, rng, n_tags: int):
    counts: dict[int, list[int]] = {}
    for item, tags in enumerate(d["item_tags"]):
        for t in tags:
            counts.setdefault(t, []).append(item)
    names = d["tag_names"]
    eligible = []
    for t, items in counts.items():
        words = names[t].replace("_", " ").replace("-", " ").split()
        if 10 <= len(items) <= 1000 and len(words) >= 2 and all(w.isalpha() for w in words):
            eligible.append(t)
    eligible.sort()
    chosen = sorted(rng.choice(eligible, size=min(n_tags, len(eligible)), replace=False))
    queries = [" ".join(names[t].replace("_", " ").replace("-", " ").split()) for t in chosen]
    qvec = query_encoder.encode(queries)
    n = len(vectors)
    results = {m: [] for m in ("dense (ours)", "BM25", "hybrid RRF")}
    for start in range(0, len(chosen), 256):
        idx = list(range(start, min(start + 256, len(chosen))))
        noise = rng.random((len(idx), n), dtype=np.float32) * 1e-6
        dense = qvec[idx] @ vectors.T + noise
        lexical = bm25.scores([queries[i] for i in idx]) + noise
        fused = rrf(dense, lexical)
        for name, s in (("dense (ours)", dense), ("BM25", lexical), ("hybrid RRF", fused)):
            for r, i in enumerate(idx):
                ranks = relevant_ranks(s[r], counts[chosen[i]])
                results[name].append(metrics_from_ranks(ranks, (), 10))
    return {
        "queries": len(chosen),
        "eligible": len(eligible),
        "examples": queries[:8],
        "results": {m: mean_metrics(rows) for m, rows in results.items()},
    }


# -- report -----------------------------------------------------------------------------------


def table(title: str, rows: dict[str, dict[str, float]], cols: list[str], ref: str) -> str:
    lines = [
        f"\n{title}",
        f"{'method':<22}" + "".join(f"{c:>12}" for c in cols) + f"{'vs ' + ref:>16}",
    ]
    for name, vals in rows.items():
        ratio = vals[cols[-1]] / rows[ref][cols[-1]] if rows[ref][cols[-1]] else float("nan")
        lines.append(
            f"{name:<22}" + "".join(f"{vals[c]:>12.4f}" for c in cols) + f"{ratio:>15.2f}x"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_data_option(parser)
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--model-path", default=None)
    parser.add_argument("--users", type=int, default=0, help="test users (0: all not in val)")
    parser.add_argument("--val-users", type=int, default=500)
    parser.add_argument("--tags", type=int, default=1000, help="tag queries for the search task")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tasks", default="related,recommend,search")
    parser.add_argument("--out", type=Path, default=REPO / "bench-out")
    args = parser.parse_args()
    tasks = set(args.tasks.split(","))
    started = time.perf_counter()
    d = load(args.data)
    vectors = embeddings(d["titles"], args.model, args.model_path, args.out)
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    bm25 = BM25(d["titles"])
    report: dict = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "command": " ".join(["benchmarks/quality.py", *sys.argv[1:]]),
        "model": args.model,
        "papers": len(d["titles"]),
        "seed": args.seed,
    }
    print(f"citeulike-a: {len(d['titles'])} titles, {len(d['users'])} users; model {args.model}")

    n_users_per_paper = np.zeros(len(d["titles"]), dtype=np.float32)
    for items in d["users"]:
        n_users_per_paper[items] += 1

    if "related" in tasks:
        t = time.perf_counter()
        rel = task_related(d, vectors, bm25, n_users_per_paper, np.random.default_rng(args.seed))
        report["related"] = rel
        n_q = sum(1 for c in d["citations"] if c)
        print(
            table(
                f"(a) related by citation: {n_q} query papers, all 16,980 ranked "
                f"({time.perf_counter() - t:.0f} s)",
                rel,
                ["ap", "ndcg@10"],
                "BM25",
            )
        )

    if "recommend" in tasks:
        t = time.perf_counter()
        splits = split_users(d["users"], np.random.default_rng(args.seed))
        order = np.random.default_rng(args.seed + 1).permutation(len(d["users"]))
        val_ids = [int(u) for u in order[: args.val_users]]
        rest = [int(u) for u in order[args.val_users :]]
        test_ids = rest[: args.users] if args.users else rest
        popularity = np.zeros(len(d["titles"]), dtype=np.float32)
        for seeds, _ in splits:
            popularity[seeds] += 1
        reco = task_recommend(
            d,
            vectors,
            bm25,
            splits,
            popularity,
            val_ids,
            test_ids,
            np.random.default_rng(args.seed),
        )
        report["recommend"] = {"val_users": len(val_ids), "test_users": len(test_ids), **reco}
        print(
            f"\n(b) tau on {len(val_ids)} validation users (nDCG@20): "
            + ", ".join(f"{tau}: {v['ndcg@20']:.4f}" for tau, v in reco["tuning"].items())
            + f" -> tau {reco['tau']} (product default TAU = {TAU})"
        )
        diffs = {
            k: reco["test"]["ours"].pop(k)
            for k in list(reco["test"]["ours"])
            if k.startswith("vs ")
        }
        print(
            table(
                f"(b) recommendation: {len(test_ids)} test users, 20% held out "
                f"({time.perf_counter() - t:.0f} s)",
                reco["test"],
                ["ils@20", "recall@20", "recall@100", "ndcg@20"],
                "centroid",
            )
        )
        for ref, values in diffs.items():
            print(
                f"ours {ref}, per-user paired: "
                + "; ".join(f"{metric} {value}" for metric, value in values.items())
            )
        report["recommend"]["paired"] = diffs

    if "search" in tasks:
        t = time.perf_counter()
        from specter_desk.embed.encoder import Encoder
        from specter_desk.embed.registry import get_model, query_model

        spec = query_model(get_model(args.model))
        encoder = Encoder(
            spec, model_path=args.model_path if spec.name == args.model else None, device="cpu"
        )
        srch = task_search(d, vectors, bm25, encoder, np.random.default_rng(args.seed), args.tags)
        report["search"] = srch
        print(
            table(
                f"(c) search: {srch['queries']} tag names as queries (of {srch['eligible']} "
                f"eligible), e.g. {srch['examples'][:3]} ({time.perf_counter() - t:.0f} s)",
                srch["results"],
                ["ap", "ndcg@10"],
                "BM25",
            )
        )

    report["seconds"] = round(time.perf_counter() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"quality-{args.model}.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"\n{report['date']} | {report['machine']} | {report['seconds']} s | wrote {out}")


if __name__ == "__main__":
    main()
