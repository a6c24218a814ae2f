"""Recommendations: candidates close to what the user added recently, with reasons.

Seeds are the library papers added in a window (``--since``). Each candidate is scored against
every seed, not against their mean: a soft maximum over seeds (log-sum-exp with temperature
TAU, weighted by seed recency), so a user who added papers on two topics gets both. The top of
the ranking is then diversified with maximal marginal relevance, and every result names the
seeds it is closest to. With enough feedback labels a per-user classifier adjusts the scores.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from ..blas import one_blas_thread
from ..errors import InputError, NotEmbeddedError
from ..index import PaperIndex
from ..models import CANDIDATE_POOL, LIBRARY_POOL, Paper
from ..store import Store
from .citations.fusion import BY, CITATION_WEIGHT, citation_links, fused_scores, resolve_by
from .citations.pool import CITING_LIBRARY, CITING_POOL
from .citations.related import reasons_for
from .copies import distinct_works, library_copies, seed_copies
from .feedback import label_counts, train_classifier
from .prefilter import candidates_to_score, search_queries
from .related import RelatedPaper
from .seeds import (
    SeedScope,
    find_seeds,
    parse_datetime,
    parse_since,
    seed_scope,
    seed_weights,
)

__all__ = ["Ranking", "Recommendation", "Recommendations", "parse_since", "recommend"]

# Temperature of the soft maximum over seeds: small = nearest seed, large = mean of seeds.
# Chosen on 500 validation users of citeulike-a, disjoint from the benchmark's test users
# (nDCG@20: 0.01 -> 0.095, 0.05 -> 0.103, 0.1 -> 0.121, 0.2 -> 0.126, 0.5 -> 0.117).
TAU = 0.2
# MMR trade-off between relevance and novelty against already chosen results. MMR reads the
# relevance of its pool (max(5n, 50) best) min-max scaled to 0..1, so lambda means the same for
# any scoring's scale (cosines, fused scores, classifier probabilities); read raw, it cost 0.011
# recall@100 by meaning on validation users, scaled it costs none (benchmarks/RESULTS.md).
MMR_LAMBDA = 0.75
# With 5+ votes each way: seed score + FEEDBACK_WEIGHT x the classifier's P(up). Chosen on
# validation users with simulated votes (0.05..0.4 tried); the classifier alone in place of the
# seeds (before issue 19) lost most of the recall there (benchmarks/RESULTS.md).
FEEDBACK_WEIGHT = 0.1
MMR_SCALES = ("pool", "raw")  # min-max over the pool; relevance as it is (before issue 19)
# `--from library`: papers neither added nor modified for this many days are "rediscovered".
REDISCOVER_DAYS = 180
EXPLAIN = 3  # seeds named per result


@dataclass(frozen=True)
class Ranking:
    """How recommend() combines its scores; the defaults are the measured ones, the others
    are what it did before (for benchmarks comparing both in one run)."""

    citation_weight: float | None = CITATION_WEIGHT  # --by both; None: reciprocal rank fusion
    feedback_weight: float | None = FEEDBACK_WEIGHT  # None: the classifier replaces the seeds
    mmr_lambda: float = MMR_LAMBDA
    mmr_scale: str = "pool"  # "pool": min-max over the MMR pool; "raw": as scored


@dataclass
class Recommendation:
    """One recommended paper, the seeds that explain it, and what its citations say."""

    paper: RelatedPaper
    because: list[dict[str, Any]]
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**self.paper.to_dict(), "because": self.because, "reasons": self.reasons}


@dataclass
class Recommendations:
    """The answer of recommend(): seeds, which ranker ran, results, and a message if empty."""

    since: str
    seeds: list[dict[str, str]]
    ranker: str
    results: list[Recommendation] = field(default_factory=list)
    message: str | None = None
    model: str = ""
    source: str = CANDIDATE_POOL
    labels: dict[str, int] = field(default_factory=lambda: {"up": 0, "down": 0})
    scope: dict[str, str] = field(default_factory=lambda: SeedScope().to_dict())
    by: str = "meaning"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "since": self.since,
            "model": self.model,
            "source": self.source,
            "scope": self.scope,
            "by": self.by,
            "seeds": self.seeds,
            "ranker": self.ranker,
            "labels": self.labels,
            "results": [r.to_dict() for r in self.results],
        }
        if self.message:
            data["message"] = self.message
        return data


# -- scoring (pure numpy; the benchmark uses these too) -----------------------------------


def softmax_scores(
    sims: np.ndarray, weights: np.ndarray | None = None, tau: float = TAU
) -> np.ndarray:
    """Soft maximum over seeds of (seeds x candidates) similarities -> one score per candidate.

    tau * log(sum_j w_j exp(s_j / tau) / sum_j w_j): tends to the max as tau -> 0 and to the
    weighted mean as tau grows. Stays on the cosine scale.
    """
    if weights is None:
        weights = np.ones(sims.shape[0], dtype=np.float32)
    w = weights / weights.sum()
    top = sims.max(axis=0)
    z = np.exp((sims - top) / tau)
    return top + tau * np.log(np.maximum((w[:, None] * z).sum(axis=0), 1e-30))


def mmr(relevance: np.ndarray, vectors: np.ndarray, n: int, lam: float = MMR_LAMBDA) -> list[int]:
    """Greedy maximal marginal relevance: indices of n items, relevant but not redundant."""
    chosen: list[int] = []
    if len(relevance) == 0:
        return chosen
    redundancy = np.full(len(relevance), -np.inf, dtype=np.float32)
    available = np.ones(len(relevance), dtype=bool)
    for _ in range(min(n, len(relevance))):
        penalty = np.where(np.isfinite(redundancy), redundancy, 0.0)
        gain = lam * relevance - (1 - lam) * penalty
        gain[~available] = -np.inf
        best = int(np.argmax(gain))
        chosen.append(best)
        available[best] = False
        redundancy = np.maximum(redundancy, vectors @ vectors[best])
    return chosen


def with_feedback(relevance: np.ndarray, p_up: np.ndarray, ranking: Ranking) -> np.ndarray:
    """The seeds' score adjusted by the feedback classifier's P(up) (or replaced by it)."""
    if ranking.feedback_weight is None:
        return p_up
    return relevance + ranking.feedback_weight * p_up


def diversify(
    relevance: np.ndarray, vectors: np.ndarray, n: int, ranking: Ranking | None = None
) -> list[int]:
    """MMR over a pool (its rows best first): n positions, relevance on a 0..1 scale first."""
    ranking = ranking or Ranking()
    if ranking.mmr_scale not in MMR_SCALES:
        raise ValueError(ranking.mmr_scale)
    relevance = np.asarray(relevance, dtype=np.float64)
    if len(relevance) and ranking.mmr_scale == "pool":
        low, high = float(relevance.min()), float(relevance.max())
        relevance = (relevance - low) / (high - low) if high > low else np.ones_like(relevance)
    return mmr(relevance.astype(np.float32), vectors, n, ranking.mmr_lambda)


# -- the service ----------------------------------------------------------------------------


def _stale_library(store: Store, now: datetime, days: int, exclude: set[str]) -> list[str]:
    """Library papers not modified (or added) for `days`: the 'rediscover' pool."""
    cutoff = now - timedelta(days=days)
    keys = []
    for paper in store.papers(pool=LIBRARY_POOL):
        if paper.key in exclude:
            continue
        try:
            touched = parse_datetime(paper.date_modified) or parse_datetime(paper.date_added)
        except ValueError:
            touched = None
        if touched is None or touched <= cutoff:
            keys.append(paper.key)
    return keys


def _pool_keys(
    store: Store, source: str, votes: dict[str, int], now: datetime, seeds: set[str]
) -> list[str]:
    """Every candidate of source that may be recommended (not voted down)."""
    if source == CANDIDATE_POOL:
        keys = store.keys_in_pool(CANDIDATE_POOL)
    elif source == CITING_POOL:
        keys = store.keys_in_library(CITING_LIBRARY)
    else:
        keys = _stale_library(store, now, REDISCOVER_DAYS, seeds)
    return [k for k in keys if votes.get(k, 0) >= 0]


def recommend(
    store: Store,
    index: PaperIndex,
    *,
    since: str = "week",
    n: int = 10,
    source: str = CANDIDATE_POOL,
    now: datetime | None = None,
    tau: float = TAU,
    diversity: bool = True,
    collection: str | None = None,
    tag: str | None = None,
    by: str = "auto",
    ranking: Ranking | None = None,
) -> Recommendations:
    """Up to n papers for recent seeds (of the whole library, or of one collection or tag) from
    the candidates, the library (source="library", rediscover) or the works citing the library
    (source="citing"), ranked by meaning, citations or both (see services/citations/fusion.py),
    one per work, best first."""
    if source not in (CANDIDATE_POOL, LIBRARY_POOL, CITING_POOL):
        raise InputError(
            f"source must be {CANDIDATE_POOL}, {LIBRARY_POOL} or {CITING_POOL}, not {source!r}"
        )
    if by not in BY:
        raise InputError(f"by must be one of {', '.join(BY)}, not {by!r}")
    if n < 1:
        raise InputError("n must be at least 1")
    ranking = ranking or Ranking()
    now = now or datetime.now(UTC)
    start = parse_since(since, now)
    scope = seed_scope(store, collection=collection, tag=tag)
    votes = store.votes()
    answer = Recommendations(
        since=start.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        seeds=[],
        ranker="similarity",
        model=index.model,
        source=source,
        labels=label_counts(store),
        scope=scope.to_dict(),
        by="meaning" if by == "auto" else by,  # auto is resolved once the seeds are known
    )
    if start > now:
        answer.message = (
            f"nothing was added after {answer.since} ({since}): it is ahead; "
            "use a window that ends now, e.g. --since week"
        )
        return answer
    seed_rows = find_seeds(store, start, now, scope)
    answer.seeds = [{"key": p.key, "title": p.title} for p, _ in seed_rows]
    if not seed_rows:
        answer.message = _no_seeds_message(scope, answer.since, since)
        return answer
    seed_keys, _, seed_vectors = store.vectors(index.model, [p.key for p, _ in seed_rows])
    if not seed_keys:
        raise NotEmbeddedError(
            f"the {len(seed_rows)} seed papers have no {index.model} vectors yet; "
            "run `specter-desk embed` first"
        )
    added = {p.key: a for p, a in seed_rows}
    ages = np.array([(now - added[k]).total_seconds() / 86400 for k in seed_keys])
    window = (now - start).total_seconds() / 86400
    weights = seed_weights(ages, window, scoped=scope.keys is not None)

    seed_set = set(seed_keys)
    by = answer.by = resolve_by(store, seed_keys, by)
    classifier = train_classifier(store, index.model)
    pool_size = max(5 * n, 50) if diversity else n
    # which candidates get scored (services/prefilter.py): a large pool's nearest, else all
    found = candidates_to_score(
        store,
        index,
        source,
        votes=votes,
        queries=search_queries(
            seed_vectors, weights, classifier.direction() if classifier else None
        ),
        want=3 * pool_size,
        whole_pool=lambda: _pool_keys(store, source, votes, now, seed_set),
        seed_keys=seed_keys if by != "meaning" else None,
    )
    cand_keys, cand_vectors = found.keys, found.vectors
    if not cand_keys:
        answer.message = _no_candidates_message(source, found.pool_size, index.model)
        return answer

    # the index's nearest are a few thousand rows at most: their products on one BLAS thread
    # leave no workers spinning on the cores of the next index search (specter_desk/blas.py)
    small = one_blas_thread if found.nearest else nullcontext
    with small():
        sims = seed_vectors @ cand_vectors.T  # seeds x candidates (vectors are L2-normalised)
        relevance = softmax_scores(sims, weights, tau)
        if classifier is not None:
            answer.ranker = "classifier"
            relevance = with_feedback(relevance, classifier.score(cand_vectors), ranking)
    links: dict[str, Any] = {}
    seed_names: dict[str, str] = {}
    if by != "meaning":
        links, seed_works = citation_links(store, seed_keys, cand_keys)
        titles = {p.key: p.title for p, _ in seed_rows}
        seed_names = {work: titles[key] for work, key in seed_works.items()}
        cited = np.array([links[k].score if k in links else 0.0 for k in cand_keys])
        relevance = fused_scores(relevance, cited, by, weight=ranking.citation_weight)
        relevance = (relevance / relevance.max()).astype(np.float32)  # shown on a 0..1 scale
    order = np.argsort(-relevance, kind="stable")  # ties in key order: a stable ranking

    seeds = [p for p, _ in seed_rows]
    admits = found.eligible.admits if found.eligible else None
    shortlist, papers = _shortlist(store, cand_keys, order, pool_size, source, seeds, admits)
    if not shortlist:
        answer.message = (
            "every candidate is already in your library; add or fetch new candidates "
            "(`specter-desk candidates fetch arxiv --category cs.CL`)"
        )
        return answer
    idx = np.array(shortlist)
    with small():
        picked = (
            diversify(relevance[idx], cand_vectors[idx], n, ranking)
            if diversity
            else list(range(min(n, len(idx))))
        )
    seed_titles = {p.key: p.title for p in seeds}
    for j in picked:
        i = int(idx[j])
        paper = papers[cand_keys[i]]
        closest = np.argsort(-sims[:, i], kind="stable")[:EXPLAIN]
        because = [
            {
                "key": seed_keys[s],
                "title": seed_titles[seed_keys[s]],
                "score": round(float(sims[s, i]), 4),
            }
            for s in closest
        ]
        link = links.get(paper.key)
        answer.results.append(
            Recommendation(
                RelatedPaper.from_paper(paper, float(relevance[i])),
                because,
                reasons_for(link, seed_names) if link else [],
            )
        )
    return answer


CHUNK = 200  # candidates looked up (papers, library copies) at a time down the ranking


def _shortlist(
    store: Store,
    keys: list[str],
    order: np.ndarray,
    size: int,
    source: str,
    seeds: list[Paper],
    admits: Callable[[Paper], bool] | None = None,
) -> tuple[list[int], dict[str, Paper]]:
    """Walk down the ranking to `size` candidates (positions in keys, best first) that are
    new: not a copy of a library paper (candidates, citing) or of a seed (library), one per
    work; admits(paper), when given, checks each paper as stored (the index's candidates)."""
    kept: list[int] = []
    papers: dict[str, Paper] = {}
    start_at, step = 0, size + size // 2  # first a little more than needed: most are kept
    while start_at < len(order):
        chunk = [int(i) for i in order[start_at : start_at + step]]
        start_at, step = start_at + step, CHUNK
        found = store.get_papers(keys[i] for i in chunk)
        if admits is not None:
            found = {key: paper for key, paper in found.items() if admits(paper)}
        papers.update(found)
        if source != LIBRARY_POOL:  # candidates, citing works: never a copy of a library paper
            owned = set(library_copies(store, list(found.values())))
        else:  # rediscover: never a copy of a seed
            owned = seed_copies(list(found.values()), seeds, store)
        kept += [i for i in chunk if keys[i] in found and keys[i] not in owned]
        # one per work: first over a window a little past size (the detector's cost grows
        # with the list), over everything kept only when copies leave too few
        for limit in (size + size // 2, len(kept)):
            window = kept[:limit]
            distinct = [window[j] for j in distinct_works([papers[keys[i]] for i in window], store)]
            if len(distinct) >= size or limit >= len(kept):
                break
        kept = distinct if len(distinct) < size else distinct[:size]
        if len(kept) >= size:
            break
    return kept[:size], papers


def _no_seeds_message(scope: SeedScope, start: str, since: str) -> str:
    if scope.keys is not None:
        return (
            f"{scope.label} has no papers yet; add some in Zotero and sync, "
            "or recommend for the whole library (without --collection/--tag)"
        )
    return (
        f"no papers were added to the library since {start} ({since}); "
        "try a longer window, e.g. --since month or --since 90d"
    )


def _no_candidates_message(source: str, pool_size: int, model: str) -> str:
    if source == CITING_POOL and not pool_size:
        return (
            "no recent papers citing your library yet: run `specter-desk citations sync` while "
            "online (it keeps them as candidates)"
        )
    if source == LIBRARY_POOL:
        return (
            f"no library papers untouched for {REDISCOVER_DAYS} days to rediscover; "
            "recommend from candidates instead (--from candidates)"
        )
    if pool_size:
        return f"the {pool_size} candidates have no {model} vectors yet; run `specter-desk embed`"
    return (
        "no candidate papers yet: add some with `specter-desk candidates add FILE` or "
        "`specter-desk candidates fetch arxiv --category cs.CL --days 7`"
    )
