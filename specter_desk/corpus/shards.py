"""Shards of a corpus embedding run: the plan, atomic per-shard commits and the manifest.

An output directory holds ``manifest.json`` and, per shard, ``shard-NNNNN.npy`` (float32
vectors, one row per paper) plus ``shard-NNNNN.json`` (model, dim, keys, content hashes,
the papers' records, and the size and sha256 of the .npy). The .npy is renamed into place
first and the .json last, so a shard counts as finished only once its .json exists and
vouches for its .npy. A shard's identity is a checksum of its (key, content hash) rows: a
re-run skips every shard whose committed checksum and model match the plan, whoever wrote it.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..clock import now_iso
from ..disk import SHARED, write_atomic
from ..errors import CorpusError
from ..index import file_sha256, rows_checksum
from ..models import Paper
from .reader import ReadStats, paper_from_shard_record, paper_record, read_corpus

FORMAT = 1
MANIFEST = "manifest.json"
DEFAULT_SHARD_SIZE = 10_000


@dataclass
class ShardTask:
    """One shard to embed: its number, identity and papers (as compact records)."""

    shard: int
    checksum: str
    records: list[dict[str, Any]]

    @property
    def count(self) -> int:
        return len(self.records)

    def to_row(self) -> dict[str, Any]:
        """A flat row (for Ray Data): the records travel as one JSON string."""
        return {
            "shard": self.shard,
            "checksum": self.checksum,
            "records": json.dumps(self.records, ensure_ascii=False),
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ShardTask:
        return cls(int(row["shard"]), str(row["checksum"]), json.loads(row["records"]))


@dataclass
class ShardResult:
    """What a worker did with one shard."""

    shard: int
    count: int
    dim: int
    seconds: float
    worker: str

    def to_dict(self) -> dict[str, Any]:
        return vars(self).copy()


@dataclass
class Plan:
    """Every shard of a corpus for one model, split into finished and pending."""

    out: Path
    model: str
    shard_size: int
    library: str
    tasks: list[ShardTask]
    done: set[int] = field(default_factory=set)
    stats: ReadStats = field(default_factory=ReadStats)
    input: dict[str, Any] = field(default_factory=dict)

    @property
    def pending(self) -> list[ShardTask]:
        return [t for t in self.tasks if t.shard not in self.done]

    @property
    def papers(self) -> int:
        return sum(t.count for t in self.tasks)


def shard_paths(out: Path, shard: int) -> tuple[Path, Path]:
    """(.npy vectors, .json commit record) of a shard."""
    stem = f"shard-{shard:05d}"
    return out / f"{stem}.npy", out / f"{stem}.json"


def shard_checksum(papers: Iterable[Paper]) -> str:
    """The identity of a shard: a checksum of its (key, content hash) rows in order."""
    return rows_checksum((p.key, p.content_hash) for p in papers)


def plan_corpus(
    input_path: Path,
    out: Path,
    model: str,
    *,
    shard_size: int = DEFAULT_SHARD_SIZE,
    library: str | None = None,
) -> Plan:
    """Read the corpus, cut it into shards in file order and find the finished ones in out."""
    if shard_size < 1:
        raise CorpusError(f"--shard-size must be at least 1, not {shard_size}")
    input_path = Path(input_path)
    out = Path(out)
    library = library or f"corpus:{input_path.name}"
    manifest = read_manifest(out)
    if manifest is not None:
        if manifest.get("model") != model:
            raise CorpusError(
                f"{out} holds shards for model {manifest.get('model')!r}, not {model!r}; "
                "use another --out directory for each model"
            )
        if manifest.get("shard_size") != shard_size:
            raise CorpusError(
                f"{out} was written with --shard-size {manifest.get('shard_size')}; pass the "
                "same size to resume, or use a new --out directory"
            )
    stats = ReadStats()
    tasks: list[ShardTask] = []
    batch: list[Paper] = []

    def cut() -> None:
        tasks.append(ShardTask(len(tasks), shard_checksum(batch), [paper_record(p) for p in batch]))
        batch.clear()

    for paper in read_corpus(input_path, library=library, stats=stats):
        batch.append(paper)
        if len(batch) == shard_size:
            cut()
    if batch:
        cut()
    if not tasks:
        raise CorpusError(
            f"{input_path}: no usable papers ({stats.invalid} invalid records); every record "
            "needs an id and a title"
        )
    stat = input_path.stat()
    plan = Plan(
        out,
        model,
        shard_size,
        library,
        tasks,
        stats=stats,
        input={
            "path": str(input_path.resolve()),
            "size": stat.st_size,
            "mtime": int(stat.st_mtime),
        },
    )
    plan.done = {t.shard for t in tasks if shard_is_done(out, t, model)}
    return plan


def shard_is_done(out: Path, task: ShardTask, model: str) -> bool:
    """True when the shard's commit record matches the task and its .npy has the right size."""
    npy, meta_path = shard_paths(out, task.shard)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        return (
            meta.get("format") == FORMAT
            and meta.get("model") == model
            and meta.get("checksum") == task.checksum
            and meta.get("count") == task.count
            and npy.stat().st_size == meta.get("size")
        )
    except (OSError, ValueError, AttributeError):
        return False


def write_shard(
    out: Path,
    task: ShardTask,
    model: str,
    vectors: np.ndarray,
    *,
    seconds: float = 0.0,
    worker: str = "",
) -> ShardResult:
    """Commit one shard atomically: the .npy first, then the .json that vouches for it."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.shape[0] != task.count:
        raise CorpusError(f"shard {task.shard}: {vectors.shape[0]} vectors for {task.count} papers")
    npy, meta_path = shard_paths(out, task.shard)
    buffer = io.BytesIO()
    np.save(buffer, vectors, allow_pickle=False)
    data = buffer.getvalue()
    write_atomic(npy, data, mode=SHARED)
    meta = {
        "format": FORMAT,
        "shard": task.shard,
        "model": model,
        "dim": int(vectors.shape[1]),
        "count": task.count,
        "checksum": task.checksum,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "seconds": round(seconds, 3),
        "worker": worker,
        "written_at": now_iso(),
        "keys": [r["key"] for r in task.records],
        "records": task.records,
    }
    write_atomic(meta_path, json.dumps(meta, ensure_ascii=False).encode("utf-8"), mode=SHARED)
    return ShardResult(task.shard, task.count, int(vectors.shape[1]), seconds, worker)


@dataclass
class Shard:
    """A finished shard read back: papers, content hashes and their vectors."""

    shard: int
    keys: list[str]
    hashes: list[str]
    records: list[dict[str, Any]]
    vectors: np.ndarray

    def papers(self, library: str) -> list[Paper]:
        return [paper_from_shard_record(r, library=library) for r in self.records]


def load_shard(out: Path, shard: int, model: str, checksum: str | None = None) -> Shard:
    """A committed shard, verified against its commit record (size, sha256, dim, checksum)."""
    npy, meta_path = shard_paths(out, shard)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CorpusError(
            f"{meta_path} is missing or unreadable; re-run `specter-desk corpus embed` to finish"
        ) from exc
    if meta.get("model") != model or (checksum and meta.get("checksum") != checksum):
        raise CorpusError(
            f"{meta_path} does not belong to this run (another model or input); re-run "
            "`specter-desk corpus embed` to redo that shard"
        )
    if not npy.exists() or file_sha256(npy) != meta.get("sha256"):
        raise CorpusError(
            f"{npy} is missing or does not match its checksum; delete {meta_path.name} and "
            "re-run `specter-desk corpus embed` to redo that shard"
        )
    vectors = np.load(npy, allow_pickle=False)
    records = meta["records"]
    papers = [paper_from_shard_record(r, library="") for r in records]
    hashes = [p.content_hash for p in papers]
    if (
        vectors.shape != (meta["count"], meta["dim"])
        or len(records) != meta["count"]
        or rows_checksum((p.key, h) for p, h in zip(papers, hashes, strict=True))
        != meta["checksum"]
    ):
        raise CorpusError(f"{meta_path} does not describe its vectors; re-run corpus embed")
    return Shard(shard, [p.key for p in papers], hashes, records, vectors)


# -- the manifest ---------------------------------------------------------------------


def read_manifest(out: Path) -> dict[str, Any] | None:
    """The manifest of an output directory, or None if there is none yet."""
    path = Path(out) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise CorpusError(
            f"{path} is unreadable ({exc}); delete it to re-plan from the shards"
        ) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CorpusError(f"{path} is not a specter-desk corpus manifest")
    return data


def write_manifest(plan: Plan, *, engine: str, dim: int | None, extra: dict | None = None) -> dict:
    """Rewrite the manifest atomically from the plan (only the driver process calls this)."""
    shards = [
        {
            "shard": t.shard,
            "count": t.count,
            "checksum": t.checksum,
            "state": "done" if t.shard in plan.done else "pending",
        }
        for t in plan.tasks
    ]
    done = sum(s["count"] for s in shards if s["state"] == "done")
    manifest = {
        "format": FORMAT,
        "model": plan.model,
        "dim": dim,
        "shard_size": plan.shard_size,
        "library": plan.library,
        "input": plan.input,
        "papers": plan.papers,
        "papers_done": done,
        "complete": done == plan.papers,
        "skipped_records": plan.stats.to_dict(),
        "engine": engine,
        "updated_at": now_iso(),
        "shards": shards,
        **(extra or {}),
    }
    plan.out.mkdir(parents=True, exist_ok=True)
    write_atomic(plan.out / MANIFEST, json.dumps(manifest, indent=1).encode("utf-8"), mode=SHARED)
    return manifest


def finished_manifest(out: Path) -> dict[str, Any]:
    """The manifest of a complete run; raises CorpusError saying what to do otherwise."""
    manifest = read_manifest(out)
    if manifest is None:
        raise CorpusError(
            f"{out} has no {MANIFEST}; run `specter-desk corpus embed INPUT --out {out}` first"
        )
    if not manifest.get("complete"):
        raise CorpusError(
            f"{out} is incomplete ({manifest.get('papers_done')} of {manifest.get('papers')} "
            "papers embedded); run the same `specter-desk corpus embed` again to finish"
        )
    return manifest


def iter_shards(out: Path) -> Iterator[Shard]:
    """Every shard of a complete run, verified, in order."""
    manifest = finished_manifest(out)
    for entry in manifest["shards"]:
        yield load_shard(out, entry["shard"], manifest["model"], entry["checksum"])


class Timer:
    """Seconds since creation."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start
