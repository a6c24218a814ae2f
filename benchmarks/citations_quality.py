"""Does the citation graph find a review's other included studies? Meaning vs citations vs both.

Data: the two SYNERGY systematic-review neighbourhoods in <data>/citations/openalex/synergy/
(Donners_2021: 258 works, 15 included; van_der_Valk_2021: 725 works, 89 included). Each set is
the review's whole screening set (topically tight: every work is a hard negative) as OpenAlex
works with their references; `labels.csv` says which works the review included.

Every method ranks all other works of the set; relevant = the included studies that are not
seeds. recall@20/50 and nDCG@20/50 (binary gains).

(a) related: each included study alone as the item (every one of them, no sampling);
(b) recommend: m included studies drawn at random as seeds (several draws, fixed seed);
(c) the citing pool: the works citing a seed, as `citations sync` would add them.

Methods (the product's own scoring functions, nothing re-implemented):
- meaning: MiniLM (title [SEP] abstract), cosine for one seed, the soft maximum over seeds of
  `recommend` (softmax_scores, tau 0.2) for several;
- BM25 over title + abstract, the seeds' texts as the query;
- citations: services.citations.graph.evidence (direct links + co-citation + coupling, equal
  weights, never tuned); ties broken at random (most works have no citation evidence);
- both: what `related --by both` / `recommend --by both` do (reciprocal rank fusion, k = 60);
- meaning + BM25 (RRF): a second fusion, so a gain of "both" is not only a gain of fusing.
Differences are paired per query / draw with a 95% t-interval (draws share seeds, so the
intervals are optimistic for recommend; the related queries are distinct papers).

What the graph here holds: every work's full reference list (as `citations sync --candidates`
would store), but citing works only from inside the set (the recording has no cited-by lists;
the product also fetches outside citers), so co-citation is under-counted here.

    .venv/bin/python benchmarks/citations_quality.py            # both sets, ~1 min on 2 cores
    .venv/bin/python benchmarks/citations_quality.py --draws 100 --seeds-per-draw 3,5
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from _common import add_data_option, machine  # noqa: E402

from specter_desk.services.citations.fusion import fused_scores  # noqa: E402
from specter_desk.services.citations.graph import CitationGraph, evidence  # noqa: E402
from specter_desk.services.citations.related import MEANING_DEPTH  # noqa: E402
from specter_desk.services.recommend import TAU, softmax_scores  # noqa: E402
from specter_desk.services.search import BM25, RRF_K, reciprocal_rank_fusion  # noqa: E402
from specter_desk.sync.openalex import parse_work  # noqa: E402

SETS = ("Donners_2021", "van_der_Valk_2021")
KS = (20, 50)
PARTS = ("direct", "co_citation", "coupling")


# -- data ----------------------------------------------------------------------------------


def load_set(root: Path) -> dict:
    """Works (parsed by the product's OpenAlex parser), texts and the included ids of one set."""
    archive = zipfile.ZipFile(root / "works_1.zip")
    works = [parse_work(w) for name in archive.namelist() for w in json.loads(archive.read(name))]
    with open(root / "labels.csv", newline="", encoding="utf-8") as fh:
        included = {
            r["openalex_id"].rsplit("/", 1)[-1]
            for r in csv.DictReader(fh)
            if r["label_included"] == "1"
        }
    ids = [w.id for w in works]
    return {
        "name": root.name,
        "works": works,
        "ids": ids,
        "papers": [w.to_paper(w.id, library="benchmark", pool="library") for w in works],
        "texts": [f"{w.title} {w.abstract}".strip() for w in works],
        "included": [i for i, w in enumerate(ids) if w in included],
        "graph": CitationGraph.from_edges((w.id, r) for w in works for r in w.references or []),
        "in_set_links": sum(1 for w in works for r in w.references or [] if r in set(ids)),
    }


def embeddings(papers: list, model: str, out: Path) -> np.ndarray:
    """What the product embeds (title [SEP] abstract) by a registry model; cached in bench-out/."""
    from specter_desk.embed.encoder import Encoder, paper_text
    from specter_desk.embed.registry import get_model

    texts = [paper_text(p, "[SEP]") for p in papers]
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    path = out / f"citations-{model}-{digest}.npy"
    if path.exists():
        return np.load(path)
    encoder = Encoder(get_model(model), device="cpu")
    started = time.perf_counter()
    vectors = encoder.encode(encoder.paper_texts(papers))
    print(f"embedded {len(texts)} works in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


# -- metrics ---------------------------------------------------------------------------------


def order_of(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices by score, best first; ties in a random (seeded) order."""
    tie = rng.permutation(len(scores))
    return np.lexsort((tie, -scores))


def metrics(order: np.ndarray, relevant: set[int]) -> dict[str, float]:
    ranks = np.array([r + 1 for r, i in enumerate(order) if int(i) in relevant])
    out = {}
    for k in KS:
        hits = ranks[ranks <= k]
        out[f"recall@{k}"] = len(hits) / len(relevant)
        ideal = (1 / np.log2(np.arange(2, min(len(relevant), k) + 2))).sum()
        out[f"ndcg@{k}"] = float((1 / np.log2(hits + 1)).sum() / ideal)
    return out


def t_interval(diffs: list[float]) -> tuple[float, float, float]:
    """Mean and 95% t-interval of paired differences."""
    from scipy.stats import t

    values = np.asarray(diffs)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    half = float(t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))
    return mean, mean - half, mean + half


# -- scoring: the product's functions --------------------------------------------------------


def citation_scores(data: dict, seeds: list[int], part: str | None = None) -> np.ndarray:
    found = evidence(data["graph"], [data["ids"][s] for s in seeds])
    pick = (lambda ev: ev.score) if part is None else (lambda ev: ev.parts[part])
    return np.array([pick(found[w]) if w in found else 0.0 for w in data["ids"]])


def methods_for(data: dict, vectors: np.ndarray, bm25: BM25, seeds: list[int], rng) -> dict:
    """{method: ranking (indices, best first)} of every work that is not a seed."""
    n = len(data["ids"])
    keep = np.ones(n, dtype=bool)
    keep[seeds] = False
    sims = vectors[seeds] @ vectors.T
    meaning = sims[0] if len(seeds) == 1 else softmax_scores(sims, tau=TAU)
    text = bm25.scores([" ".join(data["texts"][s] for s in seeds)])[0]
    cited = citation_scores(data, seeds)

    def ranked(scores: np.ndarray) -> np.ndarray:
        order = order_of(np.asarray(scores, dtype=np.float64), rng)
        return order[keep[order]]

    rankings = {
        "meaning (MiniLM)": ranked(meaning),
        "BM25": ranked(text),
        "citations": ranked(cited),
    }
    for part in PARTS:
        rankings[f"citations: {part} only"] = ranked(citation_scores(data, seeds, part))
    rankings["citations, meaning breaks ties"] = ranked(fused_scores(meaning, cited, "citations"))
    if len(seeds) == 1:  # `related --by both`: the top of the meaning list fused with citations
        by_meaning = [int(i) for i in rankings["meaning (MiniLM)"][:MEANING_DEPTH]]
        by_citations = [int(i) for i in rankings["citations"] if cited[i] > 0]
        fused = reciprocal_rank_fusion([by_meaning, by_citations])
        head = [i for i, _ in fused]
        rest = [int(i) for i in rankings["meaning (MiniLM)"] if int(i) not in set(head)]
        rankings["both (RRF)"] = np.array(head + rest)
    else:  # `recommend --by both`
        rankings["both (RRF)"] = ranked(fused_scores(meaning, cited, "both", weight=None))
    bm25_rank = np.empty(n)
    bm25_rank[order_of(text, rng)] = np.arange(1, n + 1)
    meaning_rank = np.empty(n)
    meaning_rank[order_of(meaning, rng)] = np.arange(1, n + 1)
    rankings["meaning + BM25 (RRF)"] = ranked(1 / (RRF_K + meaning_rank) + 1 / (RRF_K + bm25_rank))
    return rankings


# -- tasks ------------------------------------------------------------------------------------


def evaluate(data, vectors, bm25, seed_sets, rng) -> dict[str, list[dict[str, float]]]:
    per_method: dict[str, list[dict[str, float]]] = {}
    for seeds in seed_sets:
        relevant = set(data["included"]) - set(seeds)
        for method, order in methods_for(data, vectors, bm25, seeds, rng).items():
            per_method.setdefault(method, []).append(metrics(order, relevant))
    return per_method


def citing_pool(data: dict, seed_sets: list[list[int]]) -> dict[str, float]:
    """The works citing a seed (what `citations sync` adds as candidates): size, coverage."""
    graph, ids = data["graph"], data["ids"]
    index = {w: i for i, w in enumerate(ids)}
    sizes, coverage, precision = [], [], []
    base = []
    for seeds in seed_sets:
        relevant = set(data["included"]) - set(seeds)
        pool = {index[c] for s in seeds for c in graph.citers_of(ids[s]) if c in index} - set(seeds)
        sizes.append(len(pool))
        coverage.append(len(pool & relevant) / len(relevant))
        precision.append(len(pool & relevant) / len(pool) if pool else 0.0)
        base.append(len(relevant) / (len(ids) - len(seeds)))
    return {
        "pool size": float(np.mean(sizes)),
        "share of targets in the pool": float(np.mean(coverage)),
        "precision of the pool": float(np.mean(precision)),
        "precision of the whole set": float(np.mean(base)),
    }


def summarise(title: str, per_method: dict, reference: str = "meaning (MiniLM)") -> list[str]:
    lines = [f"\n**{title}** ({len(per_method[reference])} queries)\n"]
    cols = [f"recall@{k}" for k in KS] + [f"ndcg@{k}" for k in KS]
    lines.append(
        "| method | " + " | ".join(cols) + " | nDCG@20 vs meaning | Δ nDCG@20 vs meaning (95% CI) |"
    )
    lines.append("|---|" + "---:|" * (len(cols) + 2))
    ref = per_method[reference]
    ref_ndcg = np.mean([r["ndcg@20"] for r in ref])
    for method, rows in per_method.items():
        means = [np.mean([r[c] for r in rows]) for c in cols]
        ratio = np.mean([r["ndcg@20"] for r in rows]) / ref_ndcg if ref_ndcg else float("nan")
        if method == reference:
            delta = "-"
        else:
            mean, low, high = t_interval(
                [a["ndcg@20"] - b["ndcg@20"] for a, b in zip(rows, ref, strict=True)]
            )
            delta = f"{mean:+.3f} ({low:+.3f}, {high:+.3f})"
        cells = " | ".join(f"{m:.3f}" for m in means)
        lines.append(f"| {method} | {cells} | {ratio:.2f}x | {delta} |")
    for a, b in (("both (RRF)", "citations"), ("both (RRF)", "meaning + BM25 (RRF)")):
        for metric in ("ndcg@20", "recall@20"):
            diffs = [
                x[metric] - y[metric] for x, y in zip(per_method[a], per_method[b], strict=True)
            ]
            mean, low, high = t_interval(diffs)
            lines.append(f"\n{a} minus {b}, {metric}: {mean:+.3f} (95% CI {low:+.3f}, {high:+.3f})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_data_option(parser, " (its citations/openalex/synergy sets)")
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--draws", type=int, default=50, help="seed draws per set for recommend")
    parser.add_argument("--seeds-per-draw", default="3,5")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "bench-out")
    args = parser.parse_args()
    started = time.perf_counter()
    lines = [
        f"date {datetime.now(UTC):%Y-%m-%d}; machine: {machine()}",
        f"command: python benchmarks/citations_quality.py {' '.join(sys.argv[1:])}".rstrip(),
    ]
    results: dict = {}
    for name in SETS:
        data = load_set(args.data / "citations" / "openalex" / "synergy" / name)
        vectors = embeddings(data["papers"], args.model, args.out)
        bm25 = BM25(data["texts"])
        rng = np.random.default_rng(args.seed)
        lines.append(
            f"\n### {name}: {len(data['ids'])} works, {len(data['included'])} included, "
            f"{data['in_set_links']} citation links inside the set"
        )
        related = evaluate(data, vectors, bm25, [[i] for i in data["included"]], rng)
        lines += summarise("related: one included study as the item, the others to find", related)
        results[f"{name}/related"] = related
        for m in (int(x) for x in args.seeds_per_draw.split(",")):
            draws = [
                sorted(int(i) for i in rng.choice(data["included"], m, replace=False))
                for _ in range(args.draws)
            ]
            per_method = evaluate(data, vectors, bm25, draws, rng)
            lines += summarise(
                f"recommend: {m} included studies as seeds, {args.draws} draws", per_method
            )
            pool = citing_pool(data, draws)
            lines.append(
                "\ncandidate pool 'papers citing your library' (works citing a seed): "
                + "; ".join(f"{k} {v:.3f}" if v < 10 else f"{k} {v:.1f}" for k, v in pool.items())
            )
            results[f"{name}/recommend{m}"] = per_method
            results[f"{name}/pool{m}"] = pool
    lines.append(f"\n({time.perf_counter() - started:.0f} s)")
    print("\n".join(lines))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "citations_quality.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
