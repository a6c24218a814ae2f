"""`specter-desk graph`: a local Connected-Papers view of one paper or a collection.

The map is one self-contained HTML file: the data as inline JSON, and a small force layout in
plain JavaScript written for this project (specter_desk/data/citation_map.js), inlined too, so
it opens offline with no CDN. Nodes are papers (library, candidates, outside works) sized by
how often they are cited and coloured by year or collection; edges are citations (arrows) and
embedding similarity (dashed); a click opens the paper in Zotero (zotero://select/...) or its
DOI.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ...disk import write_atomic
from ...errors import InputError, ItemNotFoundError
from ...index import PaperIndex
from ...models import LIBRARY_POOL, Paper, Work
from ...store import Store
from ..seeds import seed_scope


@dataclass
class MapNode:
    """One paper on the map."""

    id: str
    title: str
    year: int | None
    first_author: str
    cited_by: int
    kind: str  # library | candidate | outside
    url: str
    key: str | None = None
    doi: str | None = None
    collections: list[str] = field(default_factory=list)
    focus: bool = False


@dataclass
class MapEdge:
    """A citation (source cites target) or a similarity link."""

    source: str
    target: str
    kind: str  # cites | similar
    weight: float = 1.0


@dataclass
class CitationMap:
    """What the HTML page draws."""

    title: str
    nodes: list[MapNode]
    edges: list[MapEdge]

    def summary(self) -> dict[str, int]:
        return {
            "nodes": len(self.nodes),
            "library_nodes": sum(n.kind == "library" for n in self.nodes),
            "citation_edges": sum(e.kind == "cites" for e in self.edges),
            "similarity_edges": sum(e.kind == "similar" for e in self.edges),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "nodes": [asdict(n) for n in self.nodes],
            "edges": [asdict(e) for e in self.edges],
        }


def zotero_link(paper: Paper) -> str:
    """zotero://select/... for a library paper (user or group library), else its DOI or URL."""
    if paper.pool == LIBRARY_POOL and paper.library.startswith("group:"):
        return f"zotero://select/groups/{paper.library.split(':', 1)[1]}/items/{paper.key}"
    if paper.pool == LIBRARY_POOL and paper.library.startswith(("user", "local", "sqlite")):
        return f"zotero://select/library/items/{paper.key}"
    if paper.doi:
        return f"https://doi.org/{paper.doi}"
    return paper.url


def _paper_node(paper: Paper, work: Work | None, focus: bool = False) -> MapNode:
    return MapNode(
        id=work.id if work else f"key:{paper.key}",
        title=paper.title,
        year=paper.year or (work.year if work else None),
        first_author=paper.first_author or (work.first_author if work else ""),
        cited_by=(work.cited_by_count or 0) if work else 0,
        kind="library" if paper.pool == LIBRARY_POOL else "candidate",
        url=zotero_link(paper),
        key=paper.key,
        doi=paper.doi,
        collections=list(paper.collections),
        focus=focus,
    )


def _work_node(work: Work) -> MapNode:
    return MapNode(
        id=work.id,
        title=work.title or work.id,
        year=work.year,
        first_author=work.first_author,
        cited_by=work.cited_by_count or 0,
        kind="outside",
        url=work.url,
        doi=work.doi,
    )


def collection_papers(store: Store, collection: str) -> list[Paper]:
    """Live library papers filed in a collection or any collection under it: by name, path
    ("Parent/Child") or key when the store knows the library's collections (every sync source
    stores them), else by the key or name the papers carry."""
    if store.collections():
        scope = seed_scope(store, collection=collection)  # as recommend --collection reads it
        papers = [p for p in store.papers(pool=LIBRARY_POOL) if p.key in scope.keys]
        if not papers:
            raise ItemNotFoundError(f"the {scope.label} has no library paper")
        return papers
    wanted = collection.strip().lower()
    papers = [
        p for p in store.papers(pool=LIBRARY_POOL) if wanted in (c.lower() for c in p.collections)
    ]
    if not papers:
        raise ItemNotFoundError(
            f"no library paper is in a collection {collection!r}; sync your Zotero library "
            "first, or pass the collection's key (the 8 characters in "
            "zotero://select/library/collections/KEY)"
        )
    return papers


def build_graph(
    store: Store,
    index: PaperIndex | None,
    *,
    item: Paper | None = None,
    collection: str | None = None,
    similar: int = 3,
    max_nodes: int = 150,
) -> CitationMap:
    """The nodes and edges around one paper, or among a collection's papers."""
    if (item is None) == (collection is None):
        raise InputError("build a map of one paper or of one collection")
    core = [item] if item is not None else collection_papers(store, collection)
    matches = store.work_matches(p.key for p in core)
    core_works = {p.key: (matches.get(p.key) or {}).get("work") for p in core}
    works_of_core = {w for w in core_works.values() if w}
    edges = store.citation_edges(works_of_core)
    # outside (or other) works linked to the core, the most linked first, then the most cited
    links: dict[str, int] = {}
    for citing, cited in edges:
        for other in (citing, cited):
            if other not in works_of_core:
                links[other] = links.get(other, 0) + 1
    details = store.get_works([*works_of_core, *links])
    budget = max(0, max_nodes - len(core))

    def order(work: str) -> tuple:
        known = details[work]
        return (-links[work], -(known.cited_by_count or 0), work)

    # a work OpenAlex gave no details for (a merged id) would be a dot without a name: left out
    ranked = sorted((w for w in links if w in details and details[w].title), key=order)
    if collection is not None:
        ranked = [w for w in ranked if links[w] >= 2] or ranked  # shared by several papers
    chosen = ranked[:budget]
    nodes: dict[str, MapNode] = {}
    for paper in core:
        node = _paper_node(paper, details.get(core_works[paper.key] or ""), focus=item is not None)
        nodes[node.id] = node
    papers_of = store.keys_for_works(chosen)
    papers = store.get_papers(k for rows in papers_of.values() for k, _ in rows[:1])
    for work in chosen:
        rows = papers_of.get(work)
        if rows and rows[0][0] in papers:
            nodes[work] = _paper_node(papers[rows[0][0]], details.get(work))
        else:
            nodes[work] = _work_node(details.get(work) or Work(id=work))
    ids = set(nodes)
    all_edges = store.citation_edges(ids)
    found = [MapEdge(a, b, "cites") for a, b in all_edges if a in ids and b in ids]
    if similar and index is not None:
        found += _similarity_edges(store, index.model, list(nodes.values()), similar)
    title = f"Citation map: {item.title}" if item is not None else f"Collection {collection}"
    return CitationMap(title, list(nodes.values()), found)


def _similarity_edges(store: Store, model: str, nodes: list[MapNode], k: int) -> list[MapEdge]:
    """Each stored paper's k most similar papers on the map (cosine of the stored vectors)."""
    by_key = {n.key: n.id for n in nodes if n.key}
    keys, _, vectors = store.vectors(model, list(by_key))
    if len(keys) < 2:
        return []
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    seen: set[tuple[str, str]] = set()
    edges = []
    for i, key in enumerate(keys):
        for j in np.argsort(-sims[i], kind="stable")[: min(k, len(keys) - 1)]:
            pair = tuple(sorted((by_key[key], by_key[keys[j]])))
            if pair in seen:
                continue
            seen.add(pair)
            edges.append(MapEdge(pair[0], pair[1], "similar", round(float(sims[i, j]), 4)))
    return edges


def _asset(name: str) -> str:
    return (resources.files("specter_desk") / "data" / name).read_text(encoding="utf-8")


def render_html(graph: CitationMap, *, color: str = "year") -> str:
    """The self-contained page: inline CSS, inline JSON data, inline JavaScript."""
    data = json.dumps({**graph.to_dict(), "color": color}, ensure_ascii=False)
    data = data.replace("</", "<\\/")  # the JSON sits inside <script>: no "</script>" in it
    page = _asset("citation_map.html")
    return (
        page.replace("/*STYLE*/", _asset("citation_map.css"))
        .replace("/*SCRIPT*/", _asset("citation_map.js"))
        .replace("{{TITLE}}", html.escape(graph.title))
        .replace("/*DATA*/", data)
    )


def write_graph(graph: CitationMap, out: Path, *, color: str = "year") -> None:
    """Write the page atomically."""
    if not graph.nodes:
        raise InputError("nothing to draw")
    write_atomic(Path(out), render_html(graph, color=color).encode("utf-8"))
