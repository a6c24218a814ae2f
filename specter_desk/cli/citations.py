"""Commands: citations sync|show|status, and graph (the local Connected-Papers view)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from ..errors import InputError
from ..services.citations.fetch import (
    CitationSettings,
    CitationSyncResult,
    citation_status,
    sync_citations,
)
from ..services.citations.lists import CitationEntry, citation_lists
from ..services.related import resolve_item
from .app import app, console, notice, open_desk, print_json, stage_progress, terminal_text
from .core import JsonOpt, ModelOpt, embed_with_progress

citations_app = typer.Typer(
    help="The library's citation graph: fetch it once (OpenAlex, Crossref), use it offline.",
    no_args_is_help=True,
)
app.add_typer(citations_app, name="citations")

METHOD_NAMES = {
    "doi": "by DOI",
    "arxiv": "by arXiv id",
    "pmid": "by PMID",
    "title": "by title, year and first author",
    "crossref": "via Crossref",
    "semanticscholar": "via Semantic Scholar",
}


def match_line(result: CitationSyncResult) -> str:
    """'matched 16 of 17 papers (94.1%): 13 by DOI, ...; 1 not found'."""
    parts = [f"{n} {METHOD_NAMES.get(m, m)}" for m, n in result.by_method.items() if n]
    missing = result.items - result.matched
    return (
        f"matched {result.matched} of {result.items} papers to citation data "
        f"({result.match_rate:.1%})"
        + (f": {', '.join(parts)}" if parts else "")
        + (f"; {missing} not found" if missing else "")
    )


@citations_app.command("sync")
def citations_sync(
    refresh: bool = typer.Option(
        False, "--refresh", help="Fetch everything again, even lists younger than the TTL."
    ),
    candidates: bool = typer.Option(
        False, "--candidates", help="Also match the candidate papers (feeds, files, arXiv)."
    ),
    no_embed: bool = typer.Option(
        False, "--no-embed", help="Do not embed the new citing papers now."
    ),
    model: str = ModelOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Fetch references and citing works of your library (online), for offline use later."""
    desk = open_desk()
    if not no_embed:
        desk.model_spec(model)  # an unknown model fails before the network work, not after
    settings = CitationSettings.from_config(desk.config)
    with stage_progress(quiet=json_out) as on_progress:
        result = sync_citations(
            desk.store,
            settings,
            refresh=refresh,
            include_candidates=candidates,
            on_progress=on_progress,
            on_wait=lambda seconds, why: on_progress(f"waiting {seconds:.0f} s: {why}", 0, 0),
        )
    embedded = 0
    if result.citing_candidates and not no_embed:  # the new papers citing the library
        embedded = embed_with_progress(desk, model, quiet=json_out).embedded
    if json_out:
        print_json({**result.to_dict(), "embedded": embedded})
        return
    console.print(match_line(result), highlight=False)
    names = {"openalex": "OpenAlex", "crossref": "Crossref", "semanticscholar": "Semantic Scholar"}
    requests = ", ".join(f"{n} to {names[s]}" for s, n in result.requests.items() if n)
    console.print(
        f"fetched {plural(result.works_fetched, 'work')}, "
        f"{plural(result.cited_by_fetched, 'citing list')} and "
        f"{plural(result.references_fetched, 'reference list')} from the fallbacks in "
        f"{plural(sum(result.requests.values()), 'request')}"
        + (f" ({requests})" if requests else "")
        + f", {result.seconds:.1f} s",
        highlight=False,
    )
    console.print(
        f"new papers citing your library: {result.citing_candidates} in the candidate pool "
        "(`specter-desk recommend --from citing`)",
        highlight=False,
    )
    for warning in result.warnings[:5]:
        notice(warning)
    if result.stopped:
        notice("stopped early; run `specter-desk citations sync` again to finish")


@citations_app.command("status")
def citations_status(json_out: bool = JsonOpt) -> None:
    """How much of the library is matched, how many works and links are stored."""
    desk = open_desk()
    data = citation_status(desk.store)
    if json_out:
        print_json(data)
        return
    console.print(
        f"{data['matched']} of {data['items']} library papers matched "
        f"({data['match_rate']:.1%}); {data['works']} works, "
        f"{sum(data['edges'].values())} citation links "
        f"({', '.join(f'{n} from {s}' for s, n in data['edges'].items()) or 'none yet'}); "
        f"last fetch {data['last_fetch'] or 'never'}",
        highlight=False,
    )


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _entries_table(title: str, entries: list[CitationEntry]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("year", justify="right")
    table.add_column("title")
    table.add_column("first author")
    table.add_column("in library")
    for e in entries:
        table.add_row(
            str(e.year or ""),
            e.title or Text(terminal_text(f"{e.work} (no details)"), style="dim"),
            e.first_author,
            Text(terminal_text(e.key or ""), style="green" if e.in_library else "cyan"),
        )
    return table


@citations_app.command("show")
def citations_show(
    item: str = typer.Argument(..., help="Key, DOI, arXiv id or part of the title."),
    limit: int = typer.Option(20, "--limit", min=1, max=10000, help="Rows per list."),
    json_out: bool = JsonOpt,
) -> None:
    """What ITEM cites and what cites it (stored lists; no network)."""
    desk = open_desk()
    paper = resolve_item(desk.store, item)
    lists = citation_lists(desk.store, paper, limit=limit)
    if json_out:
        print_json(lists.to_dict())
        return
    if lists.message:
        notice(lists.message)
    if lists.work is None:
        return
    counts = lists.counts
    console.print(
        _entries_table(
            f"{paper.title[:70]}\ncites {plural(counts['cites'], 'work')} "
            f"({counts['cites_in_library']} in your library)",
            lists.cites,
        )
    )
    console.print(
        _entries_table(
            f"cited by {plural(counts['cited_by'], 'work')} "
            f"({counts['cited_by_in_library']} in your library; "
            f"{counts['cited_by_listed']} fetched)",
            lists.cited_by,
        )
    )


@app.command("graph")
def graph_cmd(
    item: str = typer.Argument(None, help="Key, DOI, arXiv id or part of a title."),
    collection: str = typer.Option(
        None, "--collection", help="Every library paper of this collection (its key or name)."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="The HTML file to write."),
    color: str = typer.Option("year", "--color", help="Colour nodes by year or collection."),
    similar: int = typer.Option(
        3, "--similar", min=0, max=20, help="Similarity edges per paper (0: none)."
    ),
    max_nodes: int = typer.Option(150, "--max-nodes", min=10, max=2000, help="Cap on nodes."),
    model: str = ModelOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Write a self-contained interactive citation map (opens offline in any browser)."""
    from ..services.citations.view import build_graph, write_graph

    if (item is None) == (collection is None):
        raise InputError("pass one ITEM or --collection NAME")
    if color not in ("year", "collection"):
        raise InputError(f"--color must be year or collection, not {color!r}")
    desk = open_desk()
    index = None
    if similar:
        spec = desk.model_spec(model)
        if desk.store.vector_counts().get(spec.name):
            index = desk.index(spec.name)
        else:
            notice(f"no {spec.name} vectors yet: the map shows citation links only")
    graph = build_graph(
        desk.store,
        index,
        item=resolve_item(desk.store, item) if item else None,
        collection=collection,
        similar=similar,
        max_nodes=max_nodes,
    )
    write_graph(graph, out, color=color)
    if json_out:
        print_json({"out": str(out), **graph.summary()})
        return
    summary = graph.summary()
    console.print(
        f"wrote {out}: {summary['nodes']} papers, {summary['citation_edges']} citation links, "
        f"{summary['similarity_edges']} similarity links (open it in a browser; no network "
        "needed)",
        highlight=False,
    )
