"""Citation evidence for ranked lists (recommend, the benchmark) and its fusion with meaning.

`citation_links()` is the lever other services use: for seed papers and candidate papers (store
keys) it says which candidates the citation graph links to the seeds, and how. `fused_scores()`
turns a meaning score and a citation score per candidate into one ranking: by meaning, by
citations (meaning breaks ties), or both: the meaning score plus CITATION_WEIGHT times the
citation score scaled to 0..1 by its largest value among the candidates (with weight None,
reciprocal rank fusion, k = 60, as `recommend --by both` ranked before; candidates without
citation evidence are absent from the citation list).
"""

from __future__ import annotations

import numpy as np

from ...store import Store
from ..search import RRF_K
from .graph import CitationGraph, Evidence, evidence

# auto: both when the seeds have citation data, else meaning (measured: benchmarks/RESULTS.md)
BY = ("auto", "meaning", "citations", "both")
# `both`: meaning + CITATION_WEIGHT x citation score / its maximum. Chosen on 300 validation
# users of citeulike-a (0.05..0.5 tried; benchmarks/recommend_quality.py --tune), confirmed on
# disjoint test users against reciprocal rank fusion (benchmarks/RESULTS.md, issue 19).
CITATION_WEIGHT = 0.2


def resolve_by(store: Store, keys: list[str], by: str) -> str:
    """The ranking to use: `by` itself, or for auto "both" when a paper among keys has stored
    citation links and "meaning" otherwise."""
    if by != "auto":
        return by
    works = [m["work"] for m in store.work_matches(keys).values() if m["work"]]
    degrees = store.citation_degrees(works)
    return "both" if any(refs or citers for refs, citers in degrees.values()) else "meaning"


def citation_links(
    store: Store, seeds: list[str], candidates: list[str]
) -> tuple[dict[str, Evidence], dict[str, str]]:
    """({candidate key: Evidence}, {seed work: seed key}) for candidates linked to the seeds."""
    matches = store.work_matches([*seeds, *candidates])
    seed_works = {matches[k]["work"]: k for k in seeds if matches.get(k, {}).get("work")}
    if not seed_works:
        return {}, {}
    targets = {m["work"] for k, m in matches.items() if m["work"] and k not in seeds}
    graph = CitationGraph.around(store, seed_works, targets)
    found = evidence(graph, seed_works, targets=targets)
    links = {}
    for key in candidates:
        work = (matches.get(key) or {}).get("work")
        if work in found and found[work].score > 0:
            links[key] = found[work]
    return links, seed_works


def _ranks(scores: np.ndarray, tie: np.ndarray | None = None) -> np.ndarray:
    """1-based rank of each item by score (descending), ties by `tie` then position."""
    keys = (
        (np.arange(len(scores)), -scores)
        if tie is None
        else (np.arange(len(scores)), -tie, -scores)
    )
    order = np.lexsort(keys)
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return ranks


def fused_scores(
    meaning: np.ndarray,
    citation: np.ndarray,
    by: str,
    k: int = RRF_K,
    weight: float | None = CITATION_WEIGHT,
) -> np.ndarray:
    """One relevance per candidate (higher is better) from meaning and citation scores; `both`
    adds weight x citation / max(citation) to meaning (weight None: reciprocal rank fusion)."""
    meaning = np.asarray(meaning, dtype=np.float64)
    citation = np.asarray(citation, dtype=np.float64)
    if by == "meaning":
        return meaning
    if by == "citations":
        return 1.0 / (k + _ranks(citation, tie=meaning))
    if by != "both":
        raise ValueError(by)
    if weight is not None:
        top = float(citation.max(initial=0.0))
        return meaning + weight * citation / top if top > 0 else meaning
    fused = 1.0 / (k + _ranks(meaning))
    cited = citation > 0
    if cited.any():
        fused[cited] += 1.0 / (k + _ranks(citation[cited]))
    return fused
