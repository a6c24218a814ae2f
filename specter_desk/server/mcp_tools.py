"""`specter-desk mcp`: the library as read-only MCP tools (related, recommend, search,
duplicates, status) for an agent, over stdio, with the official `mcp` SDK.

Each tool is a few lines over the same services the CLI and the bridge call, and answers
compactly: what a reader needs to recognise a paper (key, title, year, first author, DOI or
arXiv id, score) and, for recommendations, why. Nothing is written: no sync, no embedding,
no votes; a paper without a vector is an error that says which command embeds it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from .. import __version__
from ..desk import Desk
from ..embed.registry import query_model
from ..errors import SpecterDeskError
from ..services.duplicates import find_duplicates
from ..services.recommend import recommend as recommend_papers
from ..services.related import RelatedPaper, resolve_item
from ..services.related import related as related_papers
from ..services.search import search as search_papers
from ..services.status import library_status

READ_ONLY = ToolAnnotations(readOnlyHint=True, destructiveHint=False, openWorldHint=False)
MAX_RESULTS = 50
INSTRUCTIONS = (
    "specter-desk: the user's Zotero library, embedded with SPECTER-family models, offline. "
    "Papers are named by key (as Zotero names them); `related` and `search` also take a DOI, "
    "an arXiv id or part of a title. Every tool is read-only."
)


def paper_line(paper: RelatedPaper) -> dict[str, Any]:
    """The compact form of a listed paper (empty fields left out)."""
    row: dict[str, Any] = {"key": paper.key, "title": paper.title, "score": paper.score}
    for name in ("year", "first_author", "doi", "arxiv_id"):
        value = getattr(paper, name)
        if value:
            row[name] = value
    if paper.pool != "library":
        row["in_library"] = False
    return row


def create_mcp(open_desk: Callable[[], Desk]) -> MCPServer:
    """The MCP server; its tools open one Desk (lazily) and share it, one call at a time."""
    lock = threading.Lock()
    state: dict[str, Desk] = {}

    def desk() -> Desk:
        if "desk" not in state:
            state["desk"] = open_desk()
        return state["desk"]

    def call(work: Callable[[Desk], dict[str, Any]]) -> dict[str, Any]:
        with lock:
            try:
                return work(desk())
            except SpecterDeskError as exc:
                raise ToolError(str(exc)) from None

    server = MCPServer("specter-desk", version=__version__, instructions=INSTRUCTIONS)

    @server.tool(annotations=READ_ONLY)
    def related(
        item: Annotated[str, Field(description="Key, DOI, arXiv id or part of the title")],
        limit: Annotated[int, Field(ge=1, le=MAX_RESULTS, description="How many")] = 10,
    ) -> dict[str, Any]:
        """Papers most similar to one paper (library and candidate pools; copies shown once)."""

        def work(d: Desk) -> dict[str, Any]:
            paper = resolve_item(d.store, item)
            rows = related_papers(d.store, d.index(), paper, limit)
            return {
                "item": {"key": paper.key, "title": paper.title, "year": paper.year},
                "related": [paper_line(r) for r in rows],
            }

        return call(work)

    @server.tool(annotations=READ_ONLY)
    def recommend(
        since: Annotated[
            str, Field(description="Seeds added since: day, week, month, Nd or an ISO date")
        ] = "week",
        limit: Annotated[int, Field(ge=1, le=MAX_RESULTS, description="How many")] = 10,
        collection: Annotated[
            str | None, Field(description="Seeds from this collection (name or key)")
        ] = None,
        tag: Annotated[str | None, Field(description="Seeds from papers with this tag")] = None,
    ) -> dict[str, Any]:
        """New papers (from the candidate pools) for what the user added recently, with the
        library papers that explain each one."""

        def work(d: Desk) -> dict[str, Any]:
            answer = recommend_papers(
                d.store, d.index(), since=since, n=limit, collection=collection, tag=tag
            )
            out: dict[str, Any] = {
                "seeds": len(answer.seeds),
                "scope": answer.scope["label"],
                "ranker": answer.ranker,
                "results": [
                    {**paper_line(r.paper), "because": [b["title"] for b in r.because[:2]]}
                    for r in answer.results
                ],
            }
            if answer.message:
                out["message"] = answer.message
            return out

        return call(work)

    @server.tool(annotations=READ_ONLY)
    def search(
        query: Annotated[str, Field(description="Free text, e.g. 'contrastive learning'")],
        limit: Annotated[int, Field(ge=1, le=MAX_RESULTS, description="How many")] = 10,
        hybrid: Annotated[bool, Field(description="Fuse with keyword search (BM25)")] = False,
    ) -> dict[str, Any]:
        """Search the library and the candidate pools by meaning."""

        def work(d: Desk) -> dict[str, Any]:
            spec = d.model_spec()
            encoder = d.encoder(query_model(spec).name)
            hits = search_papers(
                d.store, d.index(spec.name), encoder, query, k=limit, hybrid=hybrid
            )
            return {"query": query, "results": [paper_line(h) for h in hits]}

        return call(work)

    @server.tool(annotations=READ_ONLY)
    def duplicates(
        limit: Annotated[int, Field(ge=1, le=MAX_RESULTS, description="How many groups")] = 10,
    ) -> dict[str, Any]:
        """Groups of library papers that are one publication twice (merge candidates) or
        versions of one work (preprint and article), best evidence first."""

        def work(d: Desk) -> dict[str, Any]:
            report = find_duplicates(d.store, d.index())
            groups = [
                {
                    "kind": kind,
                    "score": round(group.score, 3),
                    "papers": [
                        {"key": p["key"], "title": p["title"], "year": p.get("year")}
                        for p in group.to_dict()["papers"]
                    ],
                }
                for kind, found in (("duplicates", report.clusters), ("versions", report.versions))
                for group in found
            ]
            return {
                "duplicate_groups": len(report.clusters),
                "version_groups": len(report.versions),
                "groups": groups[:limit],
            }

        return call(work)

    @server.tool(annotations=READ_ONLY)
    def status() -> dict[str, Any]:
        """What the library holds: papers, candidates, vectors per model, last syncs."""

        def work(d: Desk) -> dict[str, Any]:
            data = library_status(d, indexes=False)
            return {
                "papers": data["papers"],
                "candidates": data["candidates"],
                "model": d.model_spec().name,
                "vectors": data["vectors"],
                "libraries": [
                    {k: lib[k] for k in ("library", "pool", "papers", "synced_at")}
                    for lib in data["libraries"]
                ],
            }

        return call(work)

    return server
