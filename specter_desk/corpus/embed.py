"""Embedding a whole corpus into resumable shards with the local or the Ray engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..embed.registry import get_model
from ..errors import ConfigError, CorpusError
from .engine_local import LocalWorkers, local_devices, run_local
from .engine_ray import run_ray
from .options import CorpusOptions, Engine, OnShard
from .shards import (
    Plan,
    ShardResult,
    Timer,
    plan_corpus,
    read_manifest,
    shard_is_done,
    shard_paths,
)
from .shards import write_manifest as _write_manifest
from .worker import EncoderSettings

# The engines by name: each embeds a plan's pending shards and says what ran where.
ENGINES: dict[str, Engine] = {"local": run_local, "ray": run_ray}

ProgressFn = Callable[[int, int], None]


@dataclass
class CorpusRun:
    """What one `corpus embed` run did."""

    out: str
    model: str
    engine: str
    papers: int
    shards: int
    shards_skipped: int
    shards_embedded: int
    papers_embedded: int
    seconds: float
    dim: int | None
    complete: bool
    workers: list[str] = field(default_factory=list)
    skipped_records: dict[str, Any] = field(default_factory=dict)
    engine_info: dict[str, Any] = field(default_factory=dict)

    @property
    def papers_per_second(self) -> float:
        return self.papers_embedded / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = vars(self).copy()
        data["papers_per_second"] = round(self.papers_per_second, 2)
        data["seconds"] = round(self.seconds, 2)
        return data


def embed_corpus(
    input_path: Path | str,
    out: Path | str,
    options: CorpusOptions | None = None,
    *,
    on_progress: ProgressFn | None = None,
    on_shard: OnShard | None = None,
    **fields: Any,
) -> CorpusRun:
    """Embed every paper of a corpus file into shards under out, skipping finished shards.

    options, or its fields as keywords: embed_corpus(path, out, model="tiny", engine="ray").
    """
    options = replace(options or CorpusOptions(), **fields)
    engine = options.engine
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}; use {' or '.join(ENGINES)}")
    spec = get_model(options.model)
    out = Path(out)
    settings = EncoderSettings.resolve(
        spec, options.model_path, batch_size=options.batch_size, dtype=options.dtype
    )
    previous = read_manifest(out) or {}
    run = ENGINES[engine]
    early: LocalWorkers | None = None
    if engine == "local":
        devices = local_devices(options.devices)
        readable = Path(input_path).is_file()  # else plan_corpus says what is wrong
        if readable and not _finished_before(previous, Path(input_path), spec.name, options):
            # the workers load their models while this process reads and checksums the corpus
            early = LocalWorkers(settings, str(out), devices)
            run = early.run
    try:
        plan = plan_corpus(
            Path(input_path), out, spec.name, shard_size=options.shard_size, library=options.library
        )
        return _embed_plan(plan, settings, options, previous, run, on_progress, on_shard)
    finally:
        if early is not None:
            early.close()


def _finished_before(manifest: dict, input_path: Path, model: str, options: CorpusOptions) -> bool:
    """Whether the last run finished this very input (same file size and time, model and
    shard size): then no worker starts before the plan confirms there is nothing to do."""
    try:
        stat = input_path.stat()
    except OSError:
        return False
    recorded = manifest.get("input") or {}
    return bool(
        manifest.get("complete")
        and manifest.get("model") == model
        and manifest.get("shard_size") == options.shard_size
        and recorded.get("path") == str(input_path.resolve())
        and recorded.get("size") == stat.st_size
        and recorded.get("mtime") == int(stat.st_mtime)
    )


def _embed_plan(
    plan: Plan,
    settings: EncoderSettings,
    options: CorpusOptions,
    previous: dict,
    run: Engine,
    on_progress: ProgressFn | None,
    on_shard: OnShard | None,
) -> CorpusRun:
    """Run an engine over a plan, keeping the manifest in step with every committed shard."""
    engine = options.engine
    out = plan.out
    state: dict[str, Any] = {
        "dim": previous.get("dim") or _committed_dim(plan),
        "papers": 0,
        "workers": set(),
    }
    # the index entry stays, so `corpus index` staleness checks see re-embedded shards
    keep = {"index": previous["index"]} if previous.get("index") else {}

    def write_manifest(plan: Plan, *, engine: str, dim: int | None) -> dict:
        return _write_manifest(plan, engine=engine, dim=dim, extra=keep)

    skipped = len(plan.done)
    done_papers = sum(t.count for t in plan.tasks if t.shard in plan.done)
    write_manifest(plan, engine=engine, dim=state["dim"])
    if on_progress:
        on_progress(done_papers, plan.papers)

    def shard_done(result: ShardResult) -> None:
        if state["dim"] not in (None, result.dim):
            raise CorpusError(
                f"shard {result.shard} has dimension {result.dim}, others {state['dim']}; the "
                "workers load different models: check --model-path on every node"
            )
        state["dim"] = result.dim
        state["papers"] += result.count
        state["workers"].add(result.worker)
        plan.done.add(result.shard)
        write_manifest(plan, engine=engine, dim=result.dim)
        if on_progress:
            on_progress(done_papers + state["papers"], plan.papers)
        if on_shard:
            on_shard(result)

    timer = Timer()
    try:
        info = run(plan, settings, options, shard_done)
    except BaseException:
        # workers may have committed shards the driver had not heard of yet: record them
        plan.done |= {t.shard for t in plan.pending if shard_is_done(out, t, plan.model)}
        write_manifest(plan, engine=engine, dim=state["dim"] or _committed_dim(plan))
        raise
    seconds = timer.seconds
    manifest = write_manifest(plan, engine=engine, dim=state["dim"])
    return _result(plan, engine, manifest, skipped, state, seconds, info)


def _result(
    plan: Plan, engine: str, manifest: dict, skipped: int, state: dict, seconds: float, info: dict
) -> CorpusRun:
    return CorpusRun(
        out=str(plan.out),
        model=plan.model,
        engine=engine,
        papers=plan.papers,
        shards=len(plan.tasks),
        shards_skipped=skipped,
        shards_embedded=len(plan.done) - skipped,
        papers_embedded=state["papers"],
        seconds=seconds,
        dim=state["dim"],
        complete=bool(manifest["complete"]),
        workers=sorted(state["workers"]),
        skipped_records=plan.stats.to_dict(),
        engine_info=info,
    )


def _committed_dim(plan: Plan) -> int | None:
    """The dimension recorded by any committed shard of the plan."""
    import json

    for shard in sorted(plan.done):
        try:
            return int(json.loads(shard_paths(plan.out, shard)[1].read_text())["dim"])
        except (OSError, ValueError, KeyError):
            continue
    return None
