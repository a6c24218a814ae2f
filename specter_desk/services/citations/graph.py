"""Citation evidence between works: direct links, co-citation and bibliographic coupling.

For seeds S and a work x (Small 1973; Kessler 1963; Salton's cosine normalisation):
- direct: a seed cites x, or x cites a seed (1 per seed);
- co-citation: works citing both s and x, divided by sqrt(citers(s) * citers(x));
- coupling: references s and x share, divided by sqrt(refs(s) * refs(x)).
The score adds the three per seed and sums over seeds. Every part lies in [0, 1] per seed and
they are added with equal weight: a fixed choice, not tuned on any data set (the benchmark
reports each part alone beside the sum). Pure functions over a CitationGraph, so the benchmark
scores exactly what the product scores.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from ...store import Store


@dataclass
class CitationGraph:
    """Adjacency of a (part of the) citation graph: who cites whom among work ids."""

    refs: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    citers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # full (references, citers) counts of works whose edges were not all loaded
    degrees: dict[str, tuple[int, int]] = field(default_factory=dict)

    @classmethod
    def from_edges(cls, edges: Iterable[tuple[str, str]]) -> CitationGraph:
        """A graph of (citing, cited) edges."""
        graph = cls()
        graph.add(edges)
        return graph

    @classmethod
    def around(
        cls, store: Store, works: Iterable[str], targets: set[str] | None = None
    ) -> CitationGraph:
        """What evidence() needs about works from the store: their edges, what their citers cite
        (co-citation), who else cites their references (coupling), and the full degrees of
        the works reached (of those among targets, when given: the only ones scored)."""
        works = list(dict.fromkeys(works))
        graph = cls.from_edges(store.citation_edges(works))
        seeds = set(works)
        citers = {a for a, b in graph.edges() if b in seeds} - seeds
        refs = {b for a, b in graph.edges() if a in seeds} - seeds
        graph.add(store.citation_edges(citers, ends="citing"))
        # coupling: other works citing the references; only store papers can be scored
        graph.add(store.citation_edges(refs, ends="cited", citing_in_store=targets is not None))
        reached = graph.nodes() - seeds
        graph.degrees = store.citation_degrees(reached if targets is None else reached & targets)
        return graph

    def edges(self) -> list[tuple[str, str]]:
        """Every (citing, cited) edge of the graph."""
        return [(a, b) for a, targets in self.refs.items() for b in targets]

    def nodes(self) -> set[str]:
        """Every work with an edge in the graph."""
        return set(self.refs) | set(self.citers)

    def add(self, edges: Iterable[tuple[str, str]]) -> None:
        for citing, cited in edges:
            if citing != cited:
                self.refs[citing].add(cited)
                self.citers[cited].add(citing)

    def references_of(self, work: str) -> set[str]:
        return self.refs.get(work, set())

    def citers_of(self, work: str) -> set[str]:
        return self.citers.get(work, set())

    def n_refs(self, work: str) -> int:
        if work in self.degrees:
            return max(self.degrees[work][0], len(self.references_of(work)))
        return len(self.references_of(work))

    def n_citers(self, work: str) -> int:
        if work in self.degrees:
            return max(self.degrees[work][1], len(self.citers_of(work)))
        return len(self.citers_of(work))


@dataclass
class Evidence:
    """Why a work is linked to the seeds."""

    cites: list[str] = field(default_factory=list)  # seeds the work cites
    cited_by: list[str] = field(default_factory=list)  # seeds that cite the work
    co_cited: dict[str, int] = field(default_factory=dict)  # seed -> works citing both
    coupled: dict[str, int] = field(default_factory=dict)  # seed -> shared references
    score: float = 0.0
    parts: dict[str, float] = field(
        default_factory=lambda: {"direct": 0.0, "co_citation": 0.0, "coupling": 0.0}
    )


def evidence(
    graph: CitationGraph,
    seeds: Iterable[str],
    *,
    exclude: Iterable[str] = (),
    targets: set[str] | None = None,
) -> dict[str, Evidence]:
    """{work: Evidence} for every work (among targets, when given) linked to a seed; seeds and
    exclude are left out."""
    seeds = list(dict.fromkeys(seeds))
    skip = set(seeds) | set(exclude)

    def wanted(work: str) -> bool:
        return targets is None or work in targets

    found: dict[str, Evidence] = defaultdict(Evidence)
    for seed in seeds:
        refs = graph.references_of(seed)
        citers = graph.citers_of(seed)
        for work in filter(wanted, refs):
            found[work].cited_by.append(seed)
        for work in filter(wanted, citers):
            found[work].cites.append(seed)
        co_cited: dict[str, int] = defaultdict(int)
        for citer in citers:
            for work in filter(wanted, graph.references_of(citer)):
                co_cited[work] += 1
        coupled: dict[str, int] = defaultdict(int)
        for ref in refs:
            for work in filter(wanted, graph.citers_of(ref)):
                coupled[work] += 1
        seed_citers, seed_refs = graph.n_citers(seed), graph.n_refs(seed)
        for work, shared in co_cited.items():
            if work != seed:
                ev = found[work]
                ev.co_cited[seed] = shared
                ev.parts["co_citation"] += _cosine(shared, seed_citers, graph.n_citers(work))
        for work, shared in coupled.items():
            if work != seed:
                ev = found[work]
                ev.coupled[seed] = shared
                ev.parts["coupling"] += _cosine(shared, seed_refs, graph.n_refs(work))
    for work in skip:
        found.pop(work, None)
    for ev in found.values():
        ev.parts["direct"] = float(len(set(ev.cites) | set(ev.cited_by)))
        ev.score = sum(ev.parts.values())
    return dict(found)


def _cosine(shared: int, a: int, b: int) -> float:
    if not shared or a <= 0 or b <= 0:
        return 0.0
    return min(1.0, shared / math.sqrt(a * b))


def ranked(found: dict[str, Evidence], part: str | None = None) -> list[str]:
    """Works by score (or by one part: direct, co_citation, coupling), best first; ties by id."""
    if part is None:
        return sorted(
            (w for w, e in found.items() if e.score > 0), key=lambda w: (-found[w].score, w)
        )
    return sorted(
        (w for w, e in found.items() if e.parts[part] > 0), key=lambda w: (-found[w].parts[part], w)
    )
