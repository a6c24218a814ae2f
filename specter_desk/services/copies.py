"""Copies of one work in a list: shown once in every list (related, search, recommend), and
never recommended as new when a copy is in the library or is a seed.

Two papers are copies of one work when the duplicate detector calls them duplicates or
versions (its blocking, pair scoring and clustering, as `duplicates` reports them), when they
share an identifier (DOI, arXiv id, PMID), or by Zotero's own rule for equal titles
(normalised title equal, unless their years differ by more than two or both list authors and
they share no surname). The title rule covers what the detector keeps apart on purpose: short
generic titles without locators ("Compressed sensing"), which it cannot prove to be one
publication but which a reader recognises as the paper they already have. Pairs the user
marked "not duplicates" are never copies.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..models import LIBRARY_POOL, Paper, normalize_title
from ..store import Store
from .duplicates import detect_duplicates, library_matches
from .duplicates.records import author_of, surname_key

YEAR_GAP = 2  # a preprint and its journal version are often two years apart


def _surnames(paper: Paper) -> set[str]:
    found = set()
    for creator in paper.creators or []:
        if isinstance(creator, dict):
            found.add(surname_key(author_of(creator).surname or ""))
    found.discard("")
    return found


def same_title_work(a: Paper, b: Paper) -> bool:
    """Zotero's rule for two papers with one normalised title: the same work unless their
    years differ by more than YEAR_GAP or both list authors and share no surname."""
    title = normalize_title(a.title)
    if not title or title != normalize_title(b.title):
        return False
    if a.year and b.year and abs(a.year - b.year) > YEAR_GAP:
        return False
    names_a, names_b = _surnames(a), _surnames(b)
    return not (names_a and names_b and not names_a & names_b)


def _identifiers(paper: Paper) -> set[str]:
    return {
        f"{kind}:{value}"
        for kind, value in (("doi", paper.doi), ("arxiv", paper.arxiv_id), ("pmid", paper.pmid))
        if value
    }


def same_work(a: Paper, b: Paper) -> bool:
    """A shared identifier, or one title by Zotero's rule (no detector needed)."""
    return bool(_identifiers(a) & _identifiers(b)) or same_title_work(a, b)


def _apart(store: Store | None, keys: Sequence[str]) -> set[tuple[str, str]]:
    """Pairs (a < b) among keys that the user marked "not duplicates"."""
    if store is None or not keys:
        return set()
    return {(a, b) for a, b, _, _ in store.distinct_pairs(keys)}


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def work_ids(papers: Sequence[Paper], store: Store | None = None) -> list[int]:
    """For each paper, the position of the first paper of its work (itself when it is first)."""
    apart = _apart(store, [p.key for p in papers])
    report = detect_duplicates(papers, distinct=apart)
    position = {p.key: i for i, p in enumerate(papers)}
    parent = list(range(len(papers)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(i: int, j: int) -> None:
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    for group in [*report.clusters, *report.versions]:
        members = sorted(position[k] for k in group.keys if k in position)
        for j in members[1:]:
            join(members[0], j)
    earlier: dict[str, list[int]] = {}  # identifier or title -> positions seen so far
    for i, paper in enumerate(papers):
        title = normalize_title(paper.title)
        handles = _identifiers(paper) | ({f"title:{title}"} if title else set())
        for j in sorted({j for h in handles for j in earlier.get(h, [])}):
            if (
                root(i) != root(j)
                and _pair(paper.key, papers[j].key) not in apart
                and same_work(paper, papers[j])
            ):
                join(j, i)
        for handle in handles:
            earlier.setdefault(handle, []).append(i)
    return [root(i) for i in range(len(papers))]


def distinct_works(papers: Sequence[Paper], store: Store | None = None) -> list[int]:
    """Positions of the first paper of each work, in order: later copies are dropped."""
    return [i for i, first in enumerate(work_ids(papers, store)) if first == i]


def library_copies(store: Store, papers: Sequence[Paper]) -> dict[str, str]:
    """{paper key: library key} for papers that are the same work as a live library paper:
    the duplicate detector's matches (duplicates and versions) plus equal titles by Zotero's
    rule. Library papers themselves map to their own key."""
    found = library_matches(store, [p for p in papers if p.pool != LIBRARY_POOL])
    apart = _apart(store, [p.key for p in papers])
    titles = {p.key: normalize_title(p.title) for p in papers}
    same_title = store.keys_by("title_key", {t for t in titles.values() if t})
    given = {p.key: p for p in papers}  # as read from the store: not read again
    stored = given | store.get_papers(
        {k for keys in same_title.values() for k in keys if k not in given}
    )
    for paper in papers:
        if paper.pool == LIBRARY_POOL and not paper.deleted:
            found[paper.key] = paper.key
            continue
        title = titles[paper.key]
        if paper.key in found or not title:
            continue
        keys = sorted(k for k in same_title.get(title, ()) if k != paper.key and k in stored)
        for key, other in ((k, stored[k]) for k in keys):
            if (
                other.pool == LIBRARY_POOL
                and not other.deleted
                and _pair(key, paper.key) not in apart
                and same_title_work(paper, other)
            ):
                found[paper.key] = key
                break
    return found


def seed_copies(papers: Sequence[Paper], seeds: Sequence[Paper], store: Store) -> set[str]:
    """Keys of papers that are a seed or the same work as one (detector or rules above)."""
    seed_keys = {s.key for s in seeds}
    together = [*seeds, *(p for p in papers if p.key not in seed_keys)]
    first = work_ids(together, store)
    seed_works = {first[i] for i in range(len(seeds))}
    return {p.key for i, p in enumerate(together) if first[i] in seed_works}
