"""`duplicates`: duplicate clusters in the library, and `duplicates check FILE` before an import."""

from __future__ import annotations

from pathlib import Path

import typer

from ..desk import Desk
from ..errors import InputError, ModelNotFoundError
from ..index import PaperIndex
from ..models import CANDIDATE_POOL, LIBRARY_POOL
from ..services.duplicates import (
    DEFAULT_MIN_SCORE,
    DuplicateCluster,
    check_papers,
    distinct_pairs,
    find_duplicates,
    mark_distinct,
)
from ..sync.files import read_file
from .app import app, console, labelled, notice, open_desk, print_json, progress_bar

duplicates_app = typer.Typer(
    help="Find papers that are in the library more than once, or already there before an import.",
    no_args_is_help=False,
)
app.add_typer(duplicates_app, name="duplicates")

MinScoreOpt = typer.Option(
    DEFAULT_MIN_SCORE, "--min-score", help="Lowest pair score (0-1) to report as a duplicate."
)
JsonOpt = typer.Option(False, "--json", help="Print JSON for scripts.")
EmbeddingsOpt = typer.Option(
    True,
    "--embeddings/--no-embeddings",
    help="Also compare embedding neighbours when the library has vectors.",
)


def _index(desk: Desk, use: bool) -> PaperIndex | None:
    """The default model's index when the store has vectors for it."""
    if not use:
        return None
    model = desk.model_spec().name
    if not desk.store.vector_counts().get(model):
        return None
    return desk.index(model)


@duplicates_app.callback(invoke_without_command=True)
def duplicates(
    ctx: typer.Context,
    min_score: float = MinScoreOpt,
    pool: str = typer.Option(LIBRARY_POOL, "--pool", help="library, candidates or all"),
    embeddings: bool = EmbeddingsOpt,
    json_out: bool = JsonOpt,
) -> None:
    """List duplicate clusters (merge) and versions of one work (merge or relate), with evidence."""
    if ctx.invoked_subcommand is not None:
        return
    if pool not in (LIBRARY_POOL, CANDIDATE_POOL, "all"):
        raise InputError(f"--pool must be {LIBRARY_POOL}, {CANDIDATE_POOL} or all, not {pool!r}")
    desk = open_desk()
    with progress_bar("comparing candidate pairs", quiet=json_out) as bar:
        report = find_duplicates(
            desk.store,
            _index(desk, embeddings),
            min_score=min_score,
            pool=None if pool == "all" else pool,
            progress=bar,
        )
    if json_out:
        print_json(report.to_dict())
        return
    if not report.clusters and not report.versions:
        console.print(f"no duplicates or versions at min score {min_score:.2f}", highlight=False)
        return
    papers = sum(len(c.papers) for c in report.clusters)
    console.print(
        f"{len(report.clusters)} duplicate clusters ({papers} papers) at min score "
        f"{min_score:.2f}; * marks the suggested master",
        highlight=False,
    )
    _render(report.clusters)
    if report.versions:
        papers = sum(len(v.papers) for v in report.versions)
        console.print(
            f"\n{len(report.versions)} groups of versions ({papers} papers): one work published "
            "more than once (preprint, conference paper, journal article...); merge keeping * "
            "or link them as related",
            highlight=False,
        )
        _render(report.versions)


def _render(clusters: list[DuplicateCluster]) -> None:
    for number, cluster in enumerate(clusters, start=1):
        versions = cluster.pairs[0].versions if cluster.pairs else []
        console.print()
        console.print(
            labelled(
                f"[{number}]",
                "bold",
                f"{cluster.id}  score {cluster.score:.3f}"
                + (f"  ({'; '.join(versions)})" if versions else ""),
            ),
            highlight=False,
        )
        for paper in cluster.papers:
            mark = "*" if paper.key == cluster.master else " "
            kind = f"  {paper.item_type:<15}" if cluster.mixed_types else ""
            console.print(
                f"  {mark} {paper.key}  {paper.year or '----'}{kind}  "
                f"{paper.first_author[:18]:<18}  {paper.title[:70]}",
                highlight=False,
                soft_wrap=True,
            )
        if cluster.pairs:
            console.print(
                f"    why: {'; '.join(cluster.pairs[0].reasons)}", highlight=False, soft_wrap=True
            )


@duplicates_app.command("distinct")
def distinct(
    keys: list[str] = typer.Argument(None, help="Two or more paper keys that are different works."),
    undo: bool = typer.Option(False, "--undo", help="Forget the mark: they may be duplicates."),
    list_: bool = typer.Option(False, "--list", help="List every pair marked not duplicates."),
    json_out: bool = JsonOpt,
) -> None:
    """Mark papers as "not duplicates": they are never offered as duplicates or versions again."""
    desk = open_desk()
    if list_:
        pairs = distinct_pairs(desk.store)
        if json_out:
            print_json({"pairs": pairs})
            return
        console.print(f"{len(pairs)} pairs marked not duplicates", highlight=False)
        for pair in pairs:
            console.print(
                f"  {pair['a']}  {pair['b']}  {pair['marked_at']}  ({pair['source']})",
                highlight=False,
            )
        return
    result = mark_distinct(desk.store, keys or [], distinct=not undo)
    if json_out:
        print_json(result)
        return
    verb = "marked not duplicates" if not undo else "no longer marked not duplicates"
    console.print(
        f"{', '.join(result['keys'])}: {result['pairs']} pairs {verb} "
        f"({result['changed']} changed)",
        highlight=False,
    )


@duplicates_app.command("check")
def check(
    file: Path = typer.Argument(..., help="A BibTeX, RIS, CSL-JSON or JSONL file to import."),
    min_score: float = MinScoreOpt,
    embeddings: bool = typer.Option(
        False,
        "--embeddings/--no-embeddings",
        help="Also embed the entries and compare their nearest library neighbours (slower).",
    ),
    json_out: bool = JsonOpt,
) -> None:
    """Flag the entries of a file that are already in the library, before importing it."""
    desk = open_desk()
    read = read_file(file, library=f"file:{file.name}", pool=LIBRARY_POOL)
    index = _index(desk, embeddings)
    encoder = None
    if index is not None:
        try:
            encoder = desk.encoder()
            encoder.load()
        except ModelNotFoundError as exc:
            notice(f"comparing without embeddings: {exc}")
            encoder = None
    matches = check_papers(desk.store, read.papers, index, encoder, min_score=min_score)
    if json_out:
        print_json(
            {
                "checked": len(read.papers),
                "skipped": read.skipped,
                "matches": [m.to_dict() for m in matches],
            }
        )
        return
    console.print(
        f"{len(matches)} of {len(read.papers)} entries of {file.name} are already in the library",
        highlight=False,
    )
    for match in matches:
        incoming = read.papers[match.index]
        kind = "" if match.kind == "duplicate" else " as another version"
        console.print(
            f"  #{match.index + 1} {incoming.title[:60]!r} -> {match.key}{kind} "
            f"({match.score:.3f}: {'; '.join(match.reasons[:4])})",
            highlight=False,
            soft_wrap=True,
        )
    for line in read.skipped:
        notice(f"skipped {line}")
