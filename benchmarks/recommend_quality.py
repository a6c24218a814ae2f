"""The `recommend()` service itself on citeulike-a users: real stores, real citation tables.

Every other recommendation benchmark scores with the product's scoring function; this one runs
the service the way a user's data reaches it, then compares configurations user by user.

Set-up (one template store, copied per user):
- the 16,980 citeulike-a papers (titles; the data set has no abstracts offline) are candidates
  (library "file:citeulike-a"), embedded by the product's text rule (`paper_text`) with the
  bundled MiniLM once; vectors cached in bench-out/ by a hash of the texts;
- the citation links (`citations.dat`, undirected: line i = the papers linked to paper i) are
  stored as `citations sync --candidates` stores a source's answer: each paper matched to a work
  (`work_matches`, "citeulike:i"), works upserted, line i as the work's reference list
  (`set_references`, source "openalex"), the fetch recorded; so every link is stored in both
  directions, which is all the data says about it;
- per user: a copy of the template in which the user's visible 80% (seeded split, at least one
  paper hidden) are library papers (library "user:1") added in the last 6 days, spread evenly in
  a random (seeded) order, so `--since week` finds them all as seeds with the service's
  recency weights; the hidden 20% and every other paper stay candidates.

Relevant = the hidden papers; recall@20, recall@100 and nDCG@20 (binary gains) of the service's
n=100 list. Users are split (seeded) into validation users (to choose settings) and disjoint
test users (to report). Every difference is paired per user with a 95% t-interval.

    .venv/bin/python benchmarks/recommend_quality.py --users 300 --split test
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import quality  # noqa: E402
from _common import add_data_option, machine  # noqa: E402

from specter_desk.models import CANDIDATE_POOL, LIBRARY_POOL, Paper, Work  # noqa: E402
from specter_desk.store import Store  # noqa: E402

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SPREAD_DAYS = 6.0  # visible papers are added over the last 6 days; recommend --since week
MODEL = "minilm"
CANDIDATES = "file:citeulike-a"
LIBRARY = "user:1"


# -- data --------------------------------------------------------------------------------------


def load(data: Path) -> dict:
    root = data / "recsys" / "citeulike_a"
    titles = root.joinpath("citeutitles.txt").read_text(encoding="utf-8").split("\n")[:16980]
    n = len(titles)
    item_tags = quality.read_lists(root / "item-tag.dat", n)
    return {
        "titles": titles,
        "users": quality.read_lists(root / "users.dat"),
        "links": quality.read_lists(root / "citations.dat", n),
        "item_tags": item_tags,
        "tag_names": root.joinpath("tags.dat").read_text(encoding="utf-8").split("\n"),
    }


def key_of(i: int) -> str:
    return f"C{i:05d}"


def work_of(i: int) -> str:
    return f"citeulike:{i}"


def papers_of(titles: list[str]) -> list[Paper]:
    return [
        Paper(key=key_of(i), title=t, library=CANDIDATES, pool=CANDIDATE_POOL)
        for i, t in enumerate(titles)
    ]


def embeddings(papers: list[Paper], out: Path) -> np.ndarray:
    """The product's text (paper_text) of every paper by MiniLM; cached in out/."""
    from specter_desk.embed.encoder import Encoder
    from specter_desk.embed.registry import get_model

    encoder = Encoder(get_model(MODEL), device="cpu")
    texts = encoder.paper_texts(papers)
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    path = out / f"recommend-{MODEL}-{digest}.npy"
    if path.exists():
        return np.load(path)
    started = time.perf_counter()
    vectors = encoder.encode(texts)
    print(f"embedded {len(texts)} titles in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def template_store(d: dict, vectors: np.ndarray, out: Path) -> Path:
    """The store every user starts from: all papers as embedded candidates, and the citation
    tables filled the way `citations sync --candidates` fills them; built once, cached."""
    papers = papers_of(d["titles"])
    digest = hashlib.sha256(
        json.dumps([d["titles"], d["links"]]).encode() + vectors.tobytes()
    ).hexdigest()[:16]
    path = out / f"recommend-template-{digest}.sqlite"
    if path.exists():
        return path
    out.mkdir(parents=True, exist_ok=True)
    building = path.with_suffix(".building")
    building.unlink(missing_ok=True)
    store = Store(building)
    store.upsert_papers(papers)
    store.save_vectors(
        MODEL, [(p.key, p.content_hash, v) for p, v in zip(papers, vectors, strict=True)]
    )
    stamp = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    works = [
        Work(id=work_of(i), title=t, references=[work_of(j) for j in d["links"][i]])
        for i, t in enumerate(d["titles"])
    ]
    store.upsert_works(works, stamp)
    store.set_matches(
        [(p.key, work_of(i), "openalex", "title") for i, p in enumerate(papers)], stamp
    )
    for work in works:
        store.set_references(work.id, work.references or [], work.source, stamp)
        store.record_citation_fetch(work.id, "references", work.source, stamp, len(work.references))
    store.close()
    building.rename(path)
    return path


def split_users(users: list[list[int]], seed: int) -> list[tuple[list[int], list[int]]]:
    """(visible, hidden) per user: a random 20% hidden (at least one paper), as quality.py."""
    return quality.split_users(users, np.random.default_rng(seed))


def user_groups(splits: list, n_val: int, n_test: int, seed: int) -> dict[str, list[int]]:
    """Disjoint validation and test users (seeded), among users with >= 2 papers."""
    eligible = [u for u, (visible, _) in enumerate(splits) if visible]
    order = [eligible[i] for i in np.random.default_rng(seed + 1).permutation(len(eligible))]
    return {"val": order[:n_val], "test": order[n_val : n_val + n_test]}


@contextmanager
def user_store(template: Path, visible: list[int], seed: int, tags: dict | None = None):
    """A UserStore in a temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        user = UserStore(template, visible, seed, Path(tmp), tags=tags)
        try:
            yield user.store
        finally:
            user.close()


class UserStore:
    """A copy of the template where one user's visible papers are their recent library."""

    def __init__(
        self,
        template: Path,
        visible: list[int],
        seed: int,
        folder: Path,
        tags: dict[int, list[str]] | None = None,
    ):
        self.path = folder / "user.sqlite"
        shutil.copyfile(template, self.path)
        self.store = Store(self.path)
        rng = np.random.default_rng(seed)
        ages = rng.permutation(len(visible)) * SPREAD_DAYS / max(len(visible), 1)
        found = self.store.get_papers(key_of(i) for i in visible)
        moved = []
        for i, age in zip(visible, ages, strict=True):
            paper = found[key_of(i)]
            paper.pool, paper.library = LIBRARY_POOL, LIBRARY
            paper.tags = (tags or {}).get(i, [])
            paper.date_added = (NOW - timedelta(days=float(age) + 0.01)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
            moved.append(paper)
        self.store.upsert_papers(moved)

    def close(self) -> None:
        self.store.close()
        self.path.unlink(missing_ok=True)


# -- metrics -----------------------------------------------------------------------------------


def metrics(ranked: list[int], hidden: set[int]) -> dict[str, float]:
    """recall@20, recall@100, nDCG@20 (binary gains) of a ranked list of paper ids."""
    hits = np.array([r + 1 for r, i in enumerate(ranked[:100]) if i in hidden])
    top20 = hits[hits <= 20] if len(hits) else hits
    ideal = (1 / np.log2(np.arange(2, min(len(hidden), 20) + 2))).sum()
    return {
        "recall@20": len(top20) / len(hidden),
        "recall@100": len(hits) / len(hidden),
        "ndcg@20": float((1 / np.log2(top20 + 1)).sum() / ideal),
    }


def t_interval(diffs: list[float]) -> tuple[float, float, float]:
    """Mean and 95% t-interval of paired differences."""
    from scipy.stats import t

    values = np.asarray(diffs, dtype=np.float64)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    half = float(t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))
    return mean, mean - half, mean + half


METRICS = ("recall@20", "recall@100", "ndcg@20")


def paired(rows: dict[str, list[dict[str, float]]], pairs: list[tuple[str, str]]) -> list[str]:
    """Lines: a - b per metric with its 95% t-interval, for each pair of configurations."""
    lines = ["\nPaired differences (a - b, 95% CI):\n"]
    for a, b in pairs:
        cells = []
        for metric in METRICS:
            mean, low, high = t_interval(
                [x[metric] - y[metric] for x, y in zip(rows[a], rows[b], strict=True)]
            )
            cells.append(f"{metric} {mean:+.4f} ({low:+.4f}, {high:+.4f})")
        lines.append(f"- {a} minus {b}: " + "; ".join(cells))
    return lines


def report(rows: dict[str, list[dict[str, float]]], reference: str, title: str) -> list[str]:
    """A Markdown table: means per configuration and paired differences against reference."""
    lines = [f"\n**{title}** ({len(rows[reference])} users)\n"]
    lines.append(
        "| configuration | recall@20 | recall@100 | nDCG@20 | Δ recall@100 (95% CI) "
        "| Δ nDCG@20 (95% CI) |"
    )
    lines.append("|---|---:|---:|---:|---|---|")
    ref = rows[reference]
    for name, values in rows.items():
        means = " | ".join(f"{np.mean([v[m] for v in values]):.4f}" for m in METRICS)
        cells = []
        for metric in ("recall@100", "ndcg@20"):
            if name == reference:
                cells.append("reference")
                continue
            mean, low, high = t_interval(
                [a[metric] - b[metric] for a, b in zip(values, ref, strict=True)]
            )
            cells.append(f"{mean:+.4f} ({low:+.4f}, {high:+.4f})")
        lines.append(f"| {name} | {means} | {' | '.join(cells)} |")
    return lines


# -- what the service computes, per user -------------------------------------------------------


def template_index(template: Path):
    """The ANN index over every vector of the template (the same keys in every user's copy)."""
    from specter_desk.index import build_index

    store = Store(template)
    try:
        return build_index(store, MODEL)
    finally:
        store.close()


def service_ranking(store: Store, index, **options) -> list[int]:
    """The ids the recommend() service lists (n=100, --since week at NOW)."""
    from specter_desk.services.recommend import recommend

    answer = recommend(store, index, since="week", n=100, now=NOW, **options)
    return [int(r.paper.key[1:]) for r in answer.results]


def components(store: Store, vectors: np.ndarray, visible: list[int]) -> dict:
    """The scores recommend() combines, through the product's own functions on this store:
    seeds and recency weights, meaning (soft maximum over seeds), the citation evidence."""
    from specter_desk.services.citations.fusion import citation_links
    from specter_desk.services.recommend import softmax_scores
    from specter_desk.services.seeds import find_seeds, parse_since, seed_weights

    start = parse_since("week", NOW)
    seeds = find_seeds(store, start, NOW)
    seed_ids = [int(p.key[1:]) for p, _ in seeds]
    ages = np.array([(NOW - added).total_seconds() / 86400 for _, added in seeds])
    weights = seed_weights(ages, (NOW - start).total_seconds() / 86400)
    candidates = np.setdiff1d(np.arange(len(vectors)), np.array(visible))
    meaning = softmax_scores(vectors[seed_ids] @ vectors[candidates].T, weights)
    links, _ = citation_links(store, [key_of(i) for i in seed_ids], [key_of(i) for i in candidates])
    parts = np.zeros((3, len(candidates)))
    position = {key_of(i): j for j, i in enumerate(candidates)}
    for key, ev in links.items():
        j = position[key]
        parts[:, j] = ev.parts["direct"], ev.parts["co_citation"], ev.parts["coupling"]
    return {"candidates": candidates, "meaning": meaning, "parts": parts}


def cached_components(store, vectors, visible, args, template: Path, u: int) -> dict:
    """components(), kept in out/components/ per template, seed and user."""
    cache = args.out / "components" / f"{template.stem}-{args.seed}-{u}.npz"
    if cache.exists():
        return dict(np.load(cache))
    comps = components(store, vectors, visible)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **comps)
    return comps


# -- settings measured from the components (the product's pure functions) ----------------------


def top_ids(
    score: np.ndarray,
    comps: dict,
    vectors: np.ndarray,
    lam: float | None,
    pool: int,
    n: int = 100,
    scale: str = "minmax",
) -> list[int]:
    """The list the service would show for these scores: the top `pool`, then MMR (lam) or
    not (None), n shown. MMR reads relevance as is ("raw", today's service by meaning), divided
    by its maximum ("max", today's service with citations) or min-max scaled over the pool."""
    from specter_desk.services.recommend import mmr

    order = np.argsort(-score, kind="stable")
    candidates = comps["candidates"]
    if lam is None:
        return [int(i) for i in candidates[order[:n]]]
    idx = order[: max(pool, n)]
    rel = score[idx]
    if scale == "max":
        rel = rel / score.max()
    elif scale == "minmax":
        rel = (rel - rel.min()) / (rel.max() - rel.min() or 1.0)
    picked = mmr(rel.astype(np.float32), vectors[candidates[idx]], n, lam)
    return [int(candidates[idx[j]]) for j in picked]


def ils(ids: list[int], vectors: np.ndarray, k: int = 20) -> float:
    """Mean pairwise cosine of the first k (lower = a more diverse page)."""
    top = vectors[ids[:k]]
    sims = top @ top.T
    return float((sims.sum() - np.trace(sims)) / (len(top) * (len(top) - 1)))


def fusions(comps: dict) -> dict[str, np.ndarray]:
    """Candidate relevance scores: meaning, today's RRF fusion, and weighted score fusions."""
    from specter_desk.services.citations.fusion import fused_scores

    meaning = comps["meaning"].astype(np.float64)
    parts = comps["parts"]
    cited = parts.sum(axis=0)
    rrf = fused_scores(meaning, cited, "both", weight=None)  # `both` before issue 19
    out = {"meaning": meaning, "rrf (today's both)": rrf}
    top = cited.max() or 1.0
    for w in (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5):
        out[f"meaning + {w} x cited/max"] = meaning + w * cited / top
    for w in (0.05, 0.1, 0.2):
        out[f"meaning + {w} x log1p(cited)"] = meaning + w * np.log1p(cited)
    for w in (0.15, 0.2, 0.3):
        out[f"meaning + {w} x log1p(cited)/log1p(max)"] = meaning + w * np.log1p(cited) / np.log1p(
            top
        )
    for w in (0.1, 0.2):
        out[f"meaning + {w} x sqrt(cited/max)"] = meaning + w * np.sqrt(cited / top)
    out["meaning + 0.05 x linked"] = meaning + 0.05 * (cited > 0)
    for name, row in (("direct", parts[0]), ("co-citation + coupling", parts[1] + parts[2])):
        out[f"meaning + 0.2 x {name}/max"] = meaning + 0.2 * row / (row.max() or 1.0)
    return out


def tune(d, vectors, template, splits, users, args) -> list[str]:
    """Validation users: every fusion x diversity setting from the same components."""
    rows: dict[str, list[dict[str, float]]] = {}
    diversity = {
        "no MMR": (None, 100, ""),
        "MMR 0.75 / 500 as today": (0.75, 500, "today"),
        "MMR 0.75 / 100 as today": (0.75, 100, "today"),
        "MMR 0.75 / 500 min-max": (0.75, 500, "minmax"),
        "MMR 0.75 / 100 min-max": (0.75, 100, "minmax"),
        "MMR 0.9 / 100 min-max": (0.9, 100, "minmax"),
        "MMR 0.75 / 20 min-max": (0.75, 20, "minmax"),
    }
    started = time.perf_counter()
    for count, u in enumerate(users):
        visible, hidden = splits[u]
        with user_store(template, visible, args.seed + u) as store:
            comps = cached_components(store, vectors, visible, args, template, u)
        for fusion, score in fusions(comps).items():
            for name, (lam, pool, scale) in diversity.items():
                if name != "no MMR" and fusion not in args.mmr_fusions:
                    continue
                if scale == "today":
                    scale = "raw" if fusion == "meaning" else "max"
                if pool == 20:  # MMR over the first page only: the best 20 reordered
                    ids = top_ids(score, comps, vectors, None, 100)
                    page = top_ids(score, comps, vectors, lam, 20, n=20, scale=scale)
                    ids = page + ids[20:]
                else:
                    ids = top_ids(score, comps, vectors, lam, pool, scale=scale)
                row = metrics(ids, set(hidden))
                row["ils@20"] = ils(ids, vectors)
                rows.setdefault(f"{fusion}, {name}", []).append(row)
        if (count + 1) % 25 == 0:
            print(
                f"  {count + 1}/{len(users)} users, {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )
    lines = report(rows, "meaning, no MMR", f"{args.split}: settings from the service's components")
    fused = "meaning + 0.2 x cited/max"
    lines += paired(
        rows,
        [
            (f"{fused}, no MMR", "rrf (today's both), no MMR"),
            (f"{fused}, MMR 0.75 / 500 min-max", f"{fused}, no MMR"),
            (f"{fused}, MMR 0.75 / 500 min-max", "rrf (today's both), MMR 0.75 / 500 as today"),
        ],
    )
    lines.append(
        "\nils@20 (mean pairwise cosine of the first 20; lower = more diverse): "
        + "; ".join(f"{k} {np.mean([r['ils@20'] for r in v]):.3f}" for k, v in rows.items())
    )
    return lines


# -- the service, end to end -------------------------------------------------------------------


# Configurations of the service run for every user: name -> recommend() options.
BEFORE = "recommend() before (by auto = both: reciprocal rank fusion, MMR on raw scores)"
NOW_DEFAULT = "recommend() defaults (by auto = both: score fusion, MMR on a 0..1 pool scale)"
MEANING_NOW = "recommend() by meaning (no citation data), this version"
MEANING_BEFORE = "recommend() by meaning (no citation data), before"
PAIRS = [
    (MEANING_NOW, MEANING_BEFORE),
    ("own scoring by both (score fusion, no later steps)", NOW_DEFAULT),
    (NOW_DEFAULT, "MiniLM centroid"),
    (NOW_DEFAULT, "own scoring by meaning (soft max over seeds, no later steps)"),
]


def _service_configs() -> dict[str, dict]:
    from specter_desk.services.recommend import Ranking

    before = Ranking(citation_weight=None, mmr_scale="raw")  # what recommend() did before
    return {
        BEFORE: {"ranking": before},
        NOW_DEFAULT: {},
        MEANING_NOW: {"by": "meaning"},
        MEANING_BEFORE: {"by": "meaning", "ranking": before},
    }


def centroid_ids(vectors: np.ndarray, visible: list[int], n: int = 100) -> list[int]:
    """Mean-of-seeds centroid baseline (MiniLM), all other papers ranked."""
    c = vectors[visible].mean(axis=0)
    score = vectors @ (c / np.linalg.norm(c))
    score[visible] = -np.inf
    return [int(i) for i in np.argsort(-score, kind="stable")[:n]]


def run_service(d, vectors, template, splits, users, args) -> tuple[list[str], dict]:

    index = template_index(template)
    from specter_desk.services.citations.fusion import fused_scores

    configs = _service_configs()
    rows: dict[str, list[dict[str, float]]] = {}
    started = time.perf_counter()
    for count, u in enumerate(users):
        visible, hidden = splits[u]
        with user_store(template, visible, args.seed + u) as store:
            comps = cached_components(store, vectors, visible, args, template, u)
            lists = {name: service_ranking(store, index, **o) for name, o in configs.items()}
        lists["own scoring by meaning (soft max over seeds, no later steps)"] = top_ids(
            comps["meaning"], comps, vectors, None, 100
        )
        fused = fused_scores(comps["meaning"], comps["parts"].sum(axis=0), "both")
        lists["own scoring by both (score fusion, no later steps)"] = top_ids(
            fused, comps, vectors, None, 100
        )
        lists["MiniLM centroid"] = centroid_ids(vectors, visible)
        for name, ids in lists.items():
            row = metrics(ids, set(hidden))
            row["ils@20"] = ils(ids, vectors)
            rows.setdefault(name, []).append(row)
        if (count + 1) % 25 == 0:
            print(
                f"  {count + 1}/{len(users)} users, {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )
    reference = next(iter(configs))
    lines = report(rows, reference, f"{args.split}: the recommend() service, n=100")
    lines += paired(rows, PAIRS)
    lines.append(
        "\nils@20: "
        + "; ".join(f"{k} {np.mean([r['ils@20'] for r in v]):.3f}" for k, v in rows.items())
    )
    return lines, rows


def collection_of(d: dict, visible: list[int], hidden: list[int]) -> tuple[str, set[int]] | None:
    """A stand-in collection for one user: the citeulike tag most of their visible papers carry,
    when it holds 3+ of them but at most half (a part of the library, not all of it) and 1+
    hidden paper; returns (tag name, the hidden papers with it)."""
    counts: dict[int, int] = {}
    for i in visible:
        for t in d["item_tags"][i]:
            counts[t] = counts.get(t, 0) + 1
    fits = [t for t, c in counts.items() if 3 <= c <= len(visible) / 2]
    for t in sorted(fits, key=lambda t: (-counts[t], t)):
        wanted = {i for i in hidden if t in d["item_tags"][i]}
        if wanted:
            return d["tag_names"][t], wanted
    return None


def run_collections(d, vectors, template, splits, users, args) -> list[str]:
    """Per-collection seed sets: `recommend --tag T` against the whole-library feed, judged on
    the user's hidden papers that carry T."""

    index = template_index(template)
    rows: dict[str, list[dict[str, float]]] = {}
    for u in users:
        visible, hidden = splits[u]
        found = collection_of(d, visible, hidden)
        if found is None:
            continue
        tag, wanted = found
        names = {i: {d["tag_names"][t] for t in d["item_tags"][i]} for i in visible}
        tagged = {i: [tag] for i in visible if tag in names[i]}
        with user_store(template, visible, args.seed + u, tags=tagged) as store:
            lists = {
                "whole library as seeds (recommend)": service_ranking(store, index),
                "the tag's papers as seeds (recommend --tag)": service_ranking(
                    store, index, tag=tag
                ),
            }
        for name, ids in lists.items():
            rows.setdefault(name, []).append(metrics(ids, wanted))
    if not rows:
        return ["\nno user has a tag that fits a collection"]
    first = next(iter(rows))
    return report(rows, first, f"{args.split}: per-collection feeds (citeulike tags)")


def simulated_votes(
    comps: dict, hidden: list[int], shown: int = 20
) -> tuple[list[int], list[int], set[int]] | None:
    """Votes a user could have cast: up on half of the hidden papers (5 at least), down on the
    papers among the first `shown` by meaning that are not hidden; the other hidden papers are
    left to find. None for users with fewer than 10 hidden papers."""
    if len(hidden) < 10:
        return None
    up = hidden[: len(hidden) // 2]
    top = comps["candidates"][np.argsort(-comps["meaning"], kind="stable")[:shown]]
    down = [int(i) for i in top if int(i) not in set(hidden)]
    return up, down, set(hidden[len(hidden) // 2 :])


def run_feedback(d, vectors, template, splits, users, args) -> list[str]:
    """The feedback classifier with simulated votes, from the components and the product's
    own classifier (trained on the votes stored in the user's store)."""
    from specter_desk.services.citations.fusion import fused_scores
    from specter_desk.services.feedback import train_classifier
    from specter_desk.services.recommend import Ranking

    index = template_index(template)
    rows: dict[str, list[dict[str, float]]] = {}
    service: dict[str, list[dict[str, float]]] = {}
    for u in users:
        visible, hidden = splits[u]
        with user_store(template, visible, args.seed + u) as store:
            comps = cached_components(store, vectors, visible, args, template, u)
            votes = simulated_votes(comps, hidden)
            if votes is None:
                continue
            up, down, wanted = votes
            voted = set(up) | set(down)
            lists = {"recommend() without votes": service_ranking(store, index)}
            for i in up:
                store.set_vote(key_of(i), 1)
            for i in down:
                store.set_vote(key_of(i), -1)
            classifier = train_classifier(store, MODEL)
            lists["recommend() with the votes (seeds + 0.1 x P(up))"] = service_ranking(
                store, index
            )
            lists["recommend() with the votes, before (classifier alone)"] = service_ranking(
                store, index, ranking=Ranking(feedback_weight=None)
            )
        for name, ids in lists.items():
            service.setdefault(name, []).append(metrics([i for i in ids if i not in voted], wanted))
        if classifier is None:
            continue
        cited = comps["parts"].sum(axis=0)
        keep = ~np.isin(comps["candidates"], np.array(up + down))
        kept = {k: v[..., keep] for k, v in comps.items() if k != "candidates"}
        kept["candidates"] = comps["candidates"][keep]
        p_up = classifier.score(vectors[kept["candidates"]]).astype(np.float64)
        meaning, cited = kept["meaning"], cited[keep]
        scores = {
            "no votes used (seeds + citations)": fused_scores(meaning, cited, "both"),
            "classifier instead of seeds (today)": fused_scores(p_up, cited, "both"),
        }
        for beta in (0.05, 0.1, 0.2, 0.4):
            scores[f"seeds + {beta} x P(up)"] = fused_scores(meaning + beta * p_up, cited, "both")
        for name, score in scores.items():
            rows.setdefault(name, []).append(
                metrics(top_ids(score, kept, vectors, None, 100), wanted)
            )
    first = next(iter(rows))
    lines = report(rows, first, f"{args.split}: feedback with simulated votes (no MMR)")
    return lines + report(
        service, next(iter(service)), f"{args.split}: the service with simulated votes (n=100)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_data_option(parser, " (its recsys/citeulike_a)")
    parser.add_argument("--users", type=int, default=300, help="users of the chosen split")
    parser.add_argument("--val-users", type=int, default=300, help="size of the validation group")
    parser.add_argument("--split", choices=("val", "test"), default="test")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--tune", action="store_true", help="settings from the components (validation users)"
    )
    parser.add_argument(
        "--collections", action="store_true", help="per-collection (tag) feeds instead"
    )
    parser.add_argument("--feedback", action="store_true", help="simulated votes instead")
    parser.add_argument(
        "--mmr-fusions", default="meaning,rrf (today's both),meaning + 0.2 x cited/max"
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench-out")
    args = parser.parse_args()
    args.mmr_fusions = args.mmr_fusions.split(",")
    started = time.perf_counter()
    d = load(args.data)
    vectors = embeddings(papers_of(d["titles"]), args.out)
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    template = template_store(d, vectors, args.out)
    splits = split_users(d["users"], args.seed)
    groups = user_groups(splits, args.val_users, len(splits), args.seed)
    users = groups[args.split][: args.users]
    load_avg = os.getloadavg()[0]
    lines = [
        f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {machine()}; "
        f"load average at start {load_avg:.1f}",
        f"command: python benchmarks/recommend_quality.py {' '.join(sys.argv[1:])}".rstrip(),
        f"citeulike-a: {len(d['titles'])} papers, {sum(map(len, d['links'])) // 2} citation "
        f"links; {len(users)} {args.split} users (seed {args.seed})",
    ]
    results: dict = {}
    if args.tune:
        lines += tune(d, vectors, template, splits, users, args)
    elif args.feedback:
        lines += run_feedback(d, vectors, template, splits, users, args)
    elif args.collections:
        lines += run_collections(d, vectors, template, splits, users, args)
    else:
        more, results = run_service(d, vectors, template, splits, users, args)
        lines += more
    lines.append(f"\n({time.perf_counter() - started:.0f} s)")
    print("\n".join(lines))
    kind = next((f"-{k}" for k in ("tune", "feedback", "collections") if getattr(args, k)), "")
    name = f"recommend_quality-{args.split}{kind}.json"
    (args.out / name).write_text(json.dumps({"lines": lines, "rows": results}))


if __name__ == "__main__":
    main()
