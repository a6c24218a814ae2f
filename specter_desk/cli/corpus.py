"""`specter-desk corpus`: embed a whole corpus in resumable shards, index it, import it."""

from __future__ import annotations

from pathlib import Path

import typer

from ..corpus import (
    DEFAULT_SHARD_SIZE,
    CorpusOptions,
    build_corpus_index,
    embed_corpus,
    import_corpus,
    open_corpus_index,
    read_manifest,
)
from ..errors import CorpusError
from .app import INTERRUPTED, app, console, notice, open_desk, print_json, progress_bar

corpus_app = typer.Typer(
    help="Embed a whole candidate corpus (JSONL/Parquet) on every GPU or a Ray cluster, "
    "index it, and use it as the candidate pool.",
    no_args_is_help=True,
)
app.add_typer(corpus_app, name="corpus")
JsonOpt = typer.Option(False, "--json", help="Print JSON for scripts.")


@corpus_app.callback()
def corpus_options(ctx: typer.Context) -> None:
    """What a Ctrl-C during any corpus command keeps."""
    ctx.meta[INTERRUPTED] = "interrupted; finished shards are kept: run the same command to resume"


@corpus_app.command("embed")
def corpus_embed(
    input_path: Path = typer.Argument(
        ...,
        metavar="INPUT",
        help="Corpus file: .jsonl[.gz], .json or .parquet with id, title, "
        "abstract (and optional doi, arxiv_id, year, venue, authors).",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output directory for shards + manifest."),
    engine: str = typer.Option("local", "--engine", help="local (this machine) or ray."),
    address: str = typer.Option(
        None,
        "--address",
        help="Ray cluster to join (e.g. auto or HOST:6379); default: a "
        "local Ray started for this run.",
    ),
    model: str = typer.Option("specter2", "--model", "-m", help="Model name."),
    model_path: Path = typer.Option(None, "--model-path", help="Load the model from this dir."),
    devices: str = typer.Option(
        "auto",
        "--devices",
        help="Local engine: auto (every GPU, else CPU), cpu, or a list like cuda:0,cuda:1.",
    ),
    workers: int = typer.Option(
        None,
        "--workers",
        min=1,
        help="Ray engine: encoder actors (default: one per GPU, "
        "else one per --cpus-per-worker CPUs).",
    ),
    gpus: bool = typer.Option(
        None,
        "--gpus/--no-gpus",
        help="Ray engine: use GPU actors (default: if the cluster has GPUs).",
    ),
    cpus_per_worker: int = typer.Option(1, "--cpus-per-worker", min=1, help="Ray CPU actors."),
    max_restarts: int = typer.Option(
        None,
        "--max-restarts",
        min=0,
        help="Ray engine: restarts of a dead actor (its shard is "
        "retried); default: Ray Data's (no limit).",
    ),
    stall_timeout: float = typer.Option(
        None,
        "--stall-timeout",
        min=1,
        help="Ray engine: stop with a resumable error when no shard moves for this many "
        "seconds (default: Ray Data's 1800).",
    ),
    shard_size: int = typer.Option(
        DEFAULT_SHARD_SIZE, "--shard-size", min=1, help="Papers per shard (the unit of resume)."
    ),
    batch_size: int = typer.Option(None, "--batch-size", min=1, help="Papers per batch."),
    dtype: str = typer.Option(
        None,
        "--dtype",
        help="float32, float16, bfloat16 (default: float16 on GPU, float32 on CPU).",
    ),
    json_out: bool = JsonOpt,
) -> None:
    """Embed every paper of INPUT into shards under --out; a re-run skips finished shards."""
    options = CorpusOptions(
        model=model,
        model_path=str(model_path) if model_path else None,
        batch_size=batch_size,
        dtype=dtype,
        shard_size=shard_size,
        engine=engine,
        devices=devices,
        address=address,
        workers=workers,
        ray_gpus=gpus,
        cpus_per_worker=cpus_per_worker,
        max_restarts=max_restarts,
        stall_timeout=stall_timeout,
    )
    with progress_bar(f"corpus ({model}, {engine})", quiet=json_out) as bar:
        run = embed_corpus(input_path, out, options, on_progress=bar)
    if json_out:
        print_json(run.to_dict())
        return
    skipped = run.skipped_records
    if skipped["invalid"] or skipped["duplicates"]:
        notice(
            f"skipped {skipped['invalid']} records without id or title and "
            f"{skipped['duplicates']} repeated ids; e.g. " + "; ".join(skipped["examples"][:3])
        )
    console.print(
        f"{run.out}: {run.papers} papers in {run.shards} shards; embedded "
        f"{run.papers_embedded} papers ({run.shards_embedded} shards) in {run.seconds:.1f} s "
        f"= {run.papers_per_second:.1f} papers/s on {len(run.workers)} workers; "
        f"{run.shards_skipped} shards were already done"
    )
    console.print(
        f"next: specter-desk corpus index {run.out}  and  specter-desk corpus import {run.out}"
    )


@corpus_app.command("index")
def corpus_index(
    directory: Path = typer.Argument(..., metavar="DIR", help="A `corpus embed` output dir."),
    json_out: bool = JsonOpt,
) -> None:
    """Build the HNSW index over every shard of DIR (DIR/index/MODEL.hnsw)."""
    desk = open_desk()
    info = build_corpus_index(directory, desk.index_params)
    if json_out:
        print_json(info.to_dict())
        return
    console.print(
        f"indexed {info.count} papers ({info.model}, dim {info.dim}) into "
        f"{Path(info.out) / info.path}"
    )


@corpus_app.command("import")
def corpus_import(
    directory: Path = typer.Argument(..., metavar="DIR", help="A finished `corpus embed` dir."),
    library: str = typer.Option(None, "--library", help="Pool name (default: corpus:FILE)."),
    json_out: bool = JsonOpt,
) -> None:
    """Load DIR's papers and vectors into the store as candidates (no re-embedding)."""
    desk = open_desk()
    with progress_bar("importing corpus", quiet=json_out) as bar:
        result = import_corpus(desk.store, directory, library=library, on_progress=bar)
    desk.index(result.model, refresh=True)
    if json_out:
        print_json(result.to_dict())
        return
    console.print(
        f"candidates {result.library}: {result.added} added, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.removed} removed; {result.vectors} "
        f"{result.model} vectors stored. Recommend from them: "
        f"specter-desk recommend --model {result.model}"
    )
    if result.clashes:
        notice(
            f"{len(result.clashes)} ids already belong to another library and were "
            "skipped: " + ", ".join(result.clashes[:10])
        )


@corpus_app.command("status")
def corpus_status(
    directory: Path = typer.Argument(..., metavar="DIR", help="A `corpus embed` output dir."),
    json_out: bool = JsonOpt,
) -> None:
    """Shards done and pending, and whether the index is current."""
    manifest = read_manifest(directory)
    if manifest is None:
        raise CorpusError(f"{directory} has no manifest.json; run `specter-desk corpus embed`")
    index_state = "missing"
    if manifest.get("index"):
        try:
            open_corpus_index(directory)
            index_state = "ok"
        except CorpusError as exc:
            index_state = f"stale or invalid ({exc})"
    shards = manifest["shards"]
    data = {
        "model": manifest["model"],
        "dim": manifest["dim"],
        "papers": manifest["papers"],
        "papers_done": manifest["papers_done"],
        "complete": manifest["complete"],
        "shards": len(shards),
        "shards_done": sum(1 for s in shards if s["state"] == "done"),
        "input": manifest["input"],
        "index": index_state,
    }
    if json_out:
        print_json(data)
        return
    console.print(
        f"{directory}: {data['model']}, {data['papers_done']}/{data['papers']} papers, "
        f"{data['shards_done']}/{data['shards']} shards done; index {index_state}"
    )
