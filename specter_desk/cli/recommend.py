"""Commands: recommend, search, feedback, candidates add|fetch|list."""

from __future__ import annotations

from pathlib import Path

import typer

from ..embed.registry import query_model
from ..errors import InputError
from ..models import CANDIDATE_POOL, LIBRARY_POOL
from ..services.candidates import add_candidates, candidate_sources, fetch_arxiv
from ..services.citations.fusion import BY
from ..services.citations.pool import CITING_POOL
from ..services.digest import check_format
from ..services.feedback import MIN_LABELS, record_feedback
from ..services.recommend import parse_since, recommend
from ..services.related import resolve_item
from ..services.search import search
from ..services.seeds import seed_scope
from .app import app, console, notice, open_desk, print_json
from .core import (
    JsonOpt,
    LimitOpt,
    ModelOpt,
    ModelPathOpt,
    embed_with_progress,
    print_recommendations,
    related_table,
)


@app.command("recommend")
def recommend_cmd(
    since: str = typer.Option(
        "week", "--since", help="Seeds: papers added since day, week, month, Nd or an ISO date."
    ),
    n: int = LimitOpt(10, 100, "How many recommendations."),
    from_: str = typer.Option(
        CANDIDATE_POOL,
        "--from",
        help="candidates (feeds, files, arXiv, papers citing your library), citing (only the "
        "recent papers citing your library; after `citations sync`) or library (rediscover "
        "papers untouched for half a year).",
    ),
    by: str = typer.Option(
        "auto",
        "--by",
        help="Rank by meaning, citations (links to your recent papers), both (fused), or auto "
        "(both when the seeds have citation data, else meaning).",
    ),
    collection: str = typer.Option(
        None, "--collection", help="Seeds: this collection (name, Parent/Child path or key)."
    ),
    tag: str = typer.Option(None, "--tag", help="Seeds: the papers with this tag."),
    fmt: str = typer.Option(
        "table",
        "--format",
        "-f",
        help="table, or a digest for scripts: json, markdown, html or atom (to stdout).",
    ),
    model: str = ModelOpt,
    model_path: Path = ModelPathOpt,
    json_out: bool = typer.Option(False, "--json", help="Same as --format json."),
) -> None:
    """Papers you may want, based on what you added to the library recently."""
    if from_ not in (CANDIDATE_POOL, LIBRARY_POOL, CITING_POOL):
        raise InputError(
            f"--from must be {CANDIDATE_POOL}, {CITING_POOL} or {LIBRARY_POOL}, not {from_!r}"
        )
    if by not in BY:
        raise InputError(f"--by must be one of {', '.join(BY)}, not {by!r}")
    fmt = "json" if json_out else check_format(fmt)
    parse_since(since)  # a typo fails before any embedding work
    desk = open_desk()
    seed_scope(desk.store, collection=collection, tag=tag)  # an unknown collection too
    spec = desk.model_spec(model)
    quiet = fmt != "table"  # a digest on stdout: no progress bar
    embed_with_progress(desk, spec.name, quiet=quiet, model_path=model_path)  # new papers
    answer = recommend(
        desk.store,
        desk.index(spec.name, refresh=True),
        since=since,
        n=n,
        source=from_,
        collection=collection,
        tag=tag,
        by=by,
    )
    print_recommendations(desk.store, answer, fmt)


@app.command("search")
def search_cmd(
    query: str = typer.Argument(..., help="Free text, e.g. 'contrastive sentence embeddings'."),
    k: int = LimitOpt(10, 100, "How many results."),
    hybrid: bool = typer.Option(
        False, "--hybrid", help="Fuse with BM25 over title + abstract (reciprocal rank fusion)."
    ),
    model: str = ModelOpt,
    model_path: Path = ModelPathOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Search library and candidates by meaning (the model's query encoder embeds the query)."""
    desk = open_desk()
    spec = desk.model_spec(model)
    qspec = query_model(spec)
    encoder = desk.encoder(qspec.name, model_path=model_path if qspec is spec else None)
    encoder.check_available()  # before any progress bar
    embed_with_progress(desk, spec.name, quiet=json_out, model_path=model_path)  # new papers
    index = desk.index(spec.name, refresh=True)
    hits = search(desk.store, index, encoder, query, k=k, hybrid=hybrid)
    if json_out:
        print_json(
            {
                "query": query,
                "model": spec.name,
                "query_model": qspec.name,
                "hybrid": hybrid,
                "results": [h.to_dict() for h in hits],
            }
        )
        return
    how = "dense + BM25, RRF score" if hybrid else "cosine"
    console.print(related_table(hits, f"Search: {query} ({spec.name}, {how})"))


@app.command("feedback")
def feedback_cmd(
    item: str = typer.Argument(..., help="Key, DOI, arXiv id or part of the title."),
    up: bool = typer.Option(False, "--up", help="More like this."),
    down: bool = typer.Option(False, "--down", help="Less like this."),
    clear: bool = typer.Option(False, "--clear", help="Forget the vote on ITEM."),
    json_out: bool = JsonOpt,
) -> None:
    """Vote on a paper; with 5 votes each way a classifier adjusts your recommendations."""
    if up + down + clear != 1:
        raise InputError("pass exactly one of --up, --down or --clear")
    desk = open_desk()
    paper = resolve_item(desk.store, item)
    vote = "up" if up else "down" if down else "clear"
    result = record_feedback(desk.store, paper.key, vote)
    if json_out:
        print_json(result)
        return
    counts = result["labels"]
    verb = {"up": "voted up", "down": "voted down", "clear": "cleared the vote on"}[vote]
    console.print(f"{verb} {paper.key}: {paper.title[:80]}")
    missing = max(0, MIN_LABELS - counts["up"]) + max(0, MIN_LABELS - counts["down"])
    state_line = (
        "the classifier adjusts your recommendations"
        if not missing
        else f"similarity ranks until {MIN_LABELS} each way"
    )
    console.print(f"labels: {counts['up']} up, {counts['down']} down; {state_line}")


candidates_app = typer.Typer(
    help="Candidate pools to recommend from: files and arXiv listings.", no_args_is_help=True
)
app.add_typer(candidates_app, name="candidates")


@candidates_app.command("add")
def candidates_add(
    file: Path = typer.Argument(
        ...,
        help="A BibTeX (.bib), RIS (.ris), CSL-JSON (.json) or JSONL file.",
    ),
    library: str = typer.Option(None, "--library", help="Pool name (default: file:NAME)."),
    json_out: bool = JsonOpt,
) -> None:
    """Import a file into the candidate pool (never into the library)."""
    desk = open_desk()
    result = add_candidates(desk.store, file, library=library)
    if json_out:
        print_json(result.to_dict())
        return
    imported = result.import_result
    console.print(
        f"candidates from {file.name} ({result.format}): {imported.added} added, "
        f"{imported.updated} updated, {imported.unchanged} unchanged"
    )
    if result.skipped:
        notice(f"{len(result.skipped)} records skipped: " + "; ".join(result.skipped[:5]))
    if imported.clashes:
        notice(
            f"{len(imported.clashes)} keys already belong to another library and were skipped: "
            + ", ".join(imported.clashes[:10])
        )


@candidates_app.command("fetch")
def candidates_fetch(
    source: str = typer.Argument(..., help="Only 'arxiv' for now."),
    category: str = typer.Option("cs.CL", "--category", help="arXiv category, e.g. cs.CL."),
    days: int = typer.Option(7, "--days", min=1, max=365, help="Submitted in the last N days."),
    max_results: int = typer.Option(1000, "--max", min=1, max=10000, help="At most this many."),
    refresh: bool = typer.Option(False, "--refresh", help="Fetch even if a recent fetch exists."),
    json_out: bool = JsonOpt,
) -> None:
    """Fetch recent arXiv papers of a category into the candidate pool (cached for offline use)."""
    if source != "arxiv":
        raise InputError(f"unknown candidate source {source!r}; use: arxiv")
    desk = open_desk()
    result = fetch_arxiv(desk.store, category, days, max_results=max_results, refresh=refresh)
    if json_out:
        print_json(result.to_dict())
        return
    if result.warning:
        notice(result.warning)
    if result.cached:
        console.print(
            f"arXiv {category}, last {days} days: {result.papers} papers from the "
            f"fetch at {result.fetched_at} (use --refresh to fetch again)"
        )
    else:
        imported = result.import_result
        console.print(
            f"arXiv {category}, last {days} days: fetched {result.papers} papers "
            f"({imported.added} new, {imported.updated} updated)"
        )


@candidates_app.command("list")
def candidates_list(json_out: bool = JsonOpt) -> None:
    """Candidate pools and the arXiv fetches behind them."""
    desk = open_desk()
    data = {"sources": candidate_sources(desk.store), "arxiv_fetches": desk.store.arxiv_fetches()}
    if json_out:
        print_json(data)
        return
    if not data["sources"]:
        notice(
            "no candidates yet: `specter-desk candidates add FILE` or "
            "`specter-desk candidates fetch arxiv --category cs.CL`"
        )
        return
    for src in data["sources"]:
        console.print(f"{src['library']:<32} {src['papers']} papers")
    for f in data["arxiv_fetches"]:
        console.print(
            f"  arXiv {f['category']} last {f['days']} days: {f['papers']} papers, "
            f"fetched {f['fetched_at']}"
        )
