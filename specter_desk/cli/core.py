"""Core commands: demo, import, embed, related, status, doctor, config, models, index."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import Unpack

import typer
from rich.table import Table
from rich.text import Text

from ..config import Config, Paths, remember_model
from ..desk import Desk, EncoderOptions
from ..doctor import run_checks
from ..embed.encoder import pick_device
from ..embed.pipeline import EmbedResult
from ..embed.registry import get_model
from ..errors import ConfigError, InputError, SpecterDeskError
from ..index import build_index
from ..models import LIBRARY_POOL
from ..services.digest import render
from ..services.feedback import MIN_LABELS
from ..services.recommend import Recommendations, recommend
from ..services.related import related, resolve_item
from ..services.status import library_status
from ..store import Store
from ..sync.demo import EXAMPLES, demo_candidates, demo_papers
from ..sync.writer import import_papers
from .app import (
    app,
    console,
    labelled,
    notice,
    open_desk,
    print_json,
    progress_bar,
    terminal_text,
)

ModelOpt = typer.Option(None, "--model", "-m", help="Model name (see `specter-desk models`).")
ModelPathOpt = typer.Option(None, "--model-path", help="Load the model from this directory.")
DeviceOpt = typer.Option(None, "--device", help="auto, cpu, cuda or mps.")
JsonOpt = typer.Option(False, "--json", help="Print JSON for scripts.")


def LimitOpt(default: int, most: int, text: str):  # noqa: N802 (reads like the *Opt constants)
    """The one "how many" option of every listing command: -n/--limit (-k still works)."""
    return typer.Option(default, "-n", "--limit", "-k", min=1, max=most, help=text)


def embed_with_progress(
    desk: Desk, model: str | None, *, quiet: bool = False, **options: Unpack[EncoderOptions]
) -> EmbedResult:
    """Desk.embed_missing with a progress bar."""
    name = desk.model_spec(model).name
    if desk.store.has_missing_vectors(name):  # a model that cannot load fails before the bar
        desk.encoder(name, **options).check_available()
    with progress_bar(f"embedding ({name})", quiet=quiet) as bar:
        return desk.embed_missing(name, on_progress=bar, **options)


@app.command("embed")
def embed_cmd(
    model: str = ModelOpt,
    model_path: Path = ModelPathOpt,
    device: str = DeviceOpt,
    batch_size: int = typer.Option(None, "--batch-size", help="Papers per batch."),
    fast: bool = typer.Option(
        False,
        "--fast",
        help="CPU only: per-channel int8, ~1.2x the speed of bf16 CPUs' default and ~2.2x of "
        "fp32's, but it keeps only ~85% of each paper's top-10 neighbours "
        "(measured: docs/performance.md).",
    ),
    json_out: bool = JsonOpt,
) -> None:
    """Embed papers that have no vector for the model yet (and update the index)."""
    desk = open_desk()
    dtype = None
    if fast:
        if pick_device(device or desk.config.get("model", "device")) != "cpu":
            raise ConfigError(
                "--fast is for the CPU; on a GPU the defaults are already the fast path "
                "(leave out --fast, or pass --device cpu)"
            )
        dtype = "int8"
    options = EncoderOptions(
        model_path=str(model_path) if model_path else None,
        device=device,
        batch_size=batch_size,
        dtype=dtype,
    )
    desk.encoder(model, **options)  # a bad device or precision fails even with nothing to do
    started = time.perf_counter()
    result = embed_with_progress(desk, model, quiet=json_out, **options)
    seconds = round(time.perf_counter() - started, 2)
    if json_out:
        print_json(
            {
                "model": result.model,
                "embedded": result.embedded,
                "skipped": result.skipped,
                "seconds": seconds,
            }
        )
    else:
        console.print(
            f"{result.model}: embedded {result.embedded}, "
            f"{result.skipped} already up to date ({seconds} s)"
        )


def related_table(rows, title: str, reasons: list[list[str]] | None = None) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("score", justify="right")
    table.add_column("title", ratio=3)
    table.add_column("year", justify="right")
    table.add_column("first author")
    if reasons is not None:
        table.add_column("why (citations)", ratio=2)
    table.add_column("key", style="dim")
    for i, row in enumerate(rows):
        title = Text(terminal_text(row.title))
        if row.pool != LIBRARY_POOL:
            title.append(" (candidate)", style="cyan")
        cells = [f"{row.score:.3f}", title, str(row.year or ""), row.first_author]
        if reasons is not None:
            cells.append("; ".join(reasons[i]))
        table.add_row(*cells, row.key)
    return table


def recommendations_table(answer: Recommendations) -> Table:
    """recommend's answer as a table: score, title, year, venue, the seeds that explain it."""
    labels = answer.labels
    how = (
        "ranked by similarity to your seeds + your feedback classifier "
        f"({labels['up']} up, {labels['down']} down)"
        if answer.ranker == "classifier"
        else f"ranked by similarity to your seeds (the classifier joins in at {MIN_LABELS} "
        f"up and {MIN_LABELS} down votes; now {labels['up']} up, {labels['down']} down)"
    )
    how += {
        "meaning": "",
        "both": "; fused with citation links to your seeds",
        "citations": "; by citation links to your seeds",
    }.get(answer.by, "")
    seeds = f"{len(answer.seeds)} papers added since {answer.since[:10]}"
    if answer.scope.get("kind", "library") != "library":
        seeds = f"{answer.scope['label']} ({len(answer.seeds)} papers)"
    table = Table(
        title=f"Recommended from {answer.source} for {seeds} ({answer.model})",
        title_justify="left",
        caption=how,
        caption_justify="left",
    )
    rows = [rec.paper for rec in answer.results]
    show_year = any(p.year for p in rows)
    show_venue = any(p.venue for p in rows)
    table.add_column("score", justify="right")
    table.add_column("title", ratio=3)
    if show_year:
        table.add_column("year", justify="right")
    if show_venue:
        table.add_column("venue", ratio=1)
    table.add_column("because (closest seeds, citations)", ratio=2)
    table.add_column("key", style="dim")
    for rec in answer.results:
        paper = rec.paper
        because = "; ".join(
            rec.reasons[:2] or [f"{b['title'][:45]} ({b['score']:.2f})" for b in rec.because[:2]]
        )
        cells = [f"{paper.score:.3f}", paper.title]
        if show_year:
            cells.append(str(paper.year or ""))
        if show_venue:
            cells.append(paper.venue[:40])
        table.add_row(*cells, because, paper.key)
    return table


def print_recommendations(store: Store, answer: Recommendations, fmt: str, **atom: str) -> None:
    """A digest on stdout (json, markdown, html, atom), else the table or the answer's message."""
    if fmt != "table":
        sys.stdout.write(render(store, answer, fmt, **atom))
    elif answer.message:
        notice(answer.message)
    else:
        console.print(recommendations_table(answer))


@app.command("related")
def related_cmd(
    item: str = typer.Argument(..., help="Key, DOI, arXiv id or part of the title."),
    k: int = LimitOpt(10, 1000, "How many related papers."),
    model: str = ModelOpt,
    model_path: Path = ModelPathOpt,
    pool: str = typer.Option(None, "--pool", help="Only from: library or candidates."),
    by: str = typer.Option(
        "auto",
        "--by",
        help="meaning (embedding similarity), citations (co-citation, coupling, direct links; "
        "after `citations sync`), both (fused by reciprocal rank) or auto (both when ITEM has "
        "citation data, else meaning).",
    ),
    json_out: bool = JsonOpt,
) -> None:
    """Papers most related to ITEM, by meaning, citations or both."""
    from ..services.citations.related import BY, related_by

    if by not in BY:
        raise InputError(f"--by must be one of {', '.join(BY)}, not {by!r}")
    desk = open_desk()
    spec = desk.model_spec(model)
    paper = resolve_item(desk.store, item)
    index = None
    if by != "citations":
        index = desk.index(spec.name)
        if paper.key not in index:
            embed_with_progress(desk, spec.name, quiet=json_out, model_path=model_path)
            index = desk.index(spec.name)
    answer = related_by(desk.store, index, paper, k, by=by, pool=pool)
    if json_out:
        data = {
            "item": {"key": paper.key, "title": paper.title, "year": paper.year},
            "model": spec.name if index is not None else None,
            "by": answer.by,
            "related": [r.to_dict() for r in answer.rows],
        }
        if answer.message:
            data["message"] = answer.message
        print_json(data)
        return
    if answer.message:
        notice(answer.message)
    rows = [r.paper for r in answer.rows]
    reasons = [r.reasons for r in answer.rows] if answer.by != "meaning" else None
    how = {"meaning": "", "citations": ", by citations", "both": ", by meaning and citations"}
    how = how[answer.by]
    console.print(
        related_table(rows, f"Related to: {paper.title} ({paper.year or 'n.d.'}){how}", reasons)
    )


@app.command("status")
def status_cmd(json_out: bool = JsonOpt) -> None:
    """What is stored: papers, vectors per model, index health, data dir."""
    data = library_status(open_desk())
    switch = data["model_switch"]
    if json_out:
        print_json(data)
        return
    console.print(f"data dir      {data['data_dir']}")
    console.print(
        f"papers        {data['papers']} in the library "
        f"({data['title_only']} title-only), {data['candidates']} candidates, "
        f"{data['deleted']} deleted"
    )
    for lib in data["libraries"]:
        console.print(
            f"  {lib['library']:<24} {lib['pool']:<10} {lib['papers']} papers, "
            f"version {lib['version'] if lib['version'] is not None else '-'}, "
            f"synced {lib['synced_at'] or '-'}"
        )
    for model, info in data["indexes"].items():
        count = data["vectors"].get(model, 0)
        active = " (active)" if model == data["model"] else ""
        console.print(
            f"model {model:<12} {count} vectors, index {info['state']} ({info['detail']}){active}"
        )
    if switch is not None:
        console.print(
            f"switching     {switch['previous']} -> {switch['model']}: {switch['embedded']} of "
            f"{switch['total']} papers embedded (started {switch['started_at']}); related "
            f"papers come from {switch['previous']} until it is done",
            highlight=False,
        )
    cited = data["citations"]
    console.print(
        f"citations     {cited['matched']} of {cited['items']} library papers matched "
        f"({cited['match_rate']:.1%}), {sum(cited['edges'].values())} links, last fetch "
        f"{cited['last_fetch']}"
        if cited["last_fetch"]
        else "citations     not fetched yet (`specter-desk citations sync`, online)"
    )


@app.command("doctor")
def doctor_cmd(
    offline: bool = typer.Option(False, "--offline", help="Do not check the key with Zotero."),
    json_out: bool = JsonOpt,
) -> None:
    """Check the model, store, indexes, Zotero, service and plugin; print the fix for each
    problem."""
    checks = run_checks(open_desk, network=not offline)
    failed = any(c.state == "fail" for c in checks)
    if json_out:
        print_json({"ok": not failed, "checks": [c.to_dict() for c in checks]})
    else:
        colours = {"ok": "green", "warn": "yellow", "fail": "red"}
        for c in checks:
            console.print(
                labelled(f"{c.state:>4}", colours[c.state], f" {c.check:<18} {c.detail}"),
                highlight=False,
                soft_wrap=True,
            )
            if c.fix:
                console.print(
                    labelled(f"      {'':<18} fix:", "bold", c.fix), highlight=False, soft_wrap=True
                )
    if failed:
        raise typer.Exit(1)


config_app = typer.Typer(help="Show the configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("show")
def config_show(json_out: bool = JsonOpt) -> None:
    """The merged configuration (defaults, config file, environment) and the paths."""
    config = Config.load()
    secret = dict(config.values)
    secret["zotero"] = dict(secret["zotero"])
    if secret["zotero"].get("api_key"):
        secret["zotero"]["api_key"] = "***"
    secret["citations"] = dict(secret["citations"])
    if secret["citations"].get("openalex_api_key"):
        secret["citations"]["openalex_api_key"] = "***"
    paths = {k: str(v) for k, v in vars(config.paths).items()}
    paths["config_file"] = str(config.paths.config_file)
    if json_out:
        print_json({"paths": paths, "config": secret})
        return
    for name, value in paths.items():
        console.print(f"{name:<12} {value}", highlight=False)
    for section, values in secret.items():
        console.print(Text(f"[{section}]", style="bold"))
        for key, value in values.items():
            console.print(f"  {key} = {json.dumps(value)}", highlight=False)


index_app = typer.Typer(help="Manage the HNSW index.", no_args_is_help=True)
app.add_typer(index_app, name="index")


@index_app.command("rebuild")
def index_rebuild(model: str = ModelOpt) -> None:
    """Rebuild a model's index from the stored vectors."""
    desk = open_desk()
    spec = desk.model_spec(model)
    index = build_index(desk.store, spec.name, desk.index_params)
    index.save(desk.paths.index_dir)
    console.print(f"rebuilt the {spec.name} index: {len(index)} vectors")


# -- the demo ---------------------------------------------------------------------------


@app.command("demo")
def demo_cmd(
    model: str = typer.Option("minilm", "--model", "-m", help="Model for the demo."),
    k: int = LimitOpt(5, 50, "How many related papers and recommendations."),
    keep: bool = typer.Option(False, "--keep", help="Reuse an existing demo data dir."),
) -> None:
    """Import the demo library and its candidate pool into a fresh data dir, embed them, and
    show related papers and this week's recommendations."""
    model = get_model(model).name  # an unknown name fails before any work
    paths = Paths.resolve()
    paths.check()  # a data dir that cannot be used is one line before the demo touches it
    home = paths.cache_dir / "demo"
    if home.exists() and not keep:
        shutil.rmtree(home)
    paths = Paths.at(home)
    paths.check()  # a data dir that cannot be one fails before anything is written
    remember_model(paths, model)  # later commands on this data dir need no --model
    desk = Desk(Config.load(paths), notice=notice)
    result = import_papers(desk.store, demo_papers())
    pool = import_papers(desk.store, demo_candidates())
    console.print(
        f"demo library: {result.added} papers imported into {home}; candidate pool: "
        f"{pool.added} other papers of the same literature review (titles only)"
    )
    started = time.perf_counter()
    embedded = embed_with_progress(desk, model)
    console.print(
        f"embedded {embedded.embedded} papers with {model} in {time.perf_counter() - started:.0f} s"
    )
    for example in EXAMPLES:
        try:
            paper = resolve_item(desk.store, example)
        except SpecterDeskError as exc:
            notice(f"demo example skipped: {exc}")
            continue
        rows = related(desk.store, desk.index(model), paper, k)
        console.print(related_table(rows, f"Related to: {paper.title} ({paper.year})"))
    answer = recommend(desk.store, desk.index(model), since="week", n=k)
    console.print(
        f"\n$ specter-desk recommend --since week   # the {len(answer.seeds)} papers added this "
        "week are the seeds; each result names the seeds it is closest to"
    )
    if answer.message:
        notice(answer.message)
    else:
        console.print(recommendations_table(answer))
    console.print(
        f"\nTry it yourself (the demo data dir remembers {model}):\n"
        f"  export SPECTER_DESK_HOME={home}\n"
        '  specter-desk related "digital nomad"\n'
        "  specter-desk recommend --since month"
    )
