"""Reading a candidate corpus: JSONL (optionally gzipped), a JSON list/dict, or Parquet.

Every record needs an id and a title; the abstract and identifiers (doi, arxiv_id, pmid,
year, venue, authors) are optional. Records without an id or title, and repeated ids, are
skipped and counted, so one bad line does not stop a run over millions of papers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CorpusError, InputError
from ..models import CANDIDATE_POOL, Paper
from ..sync.files import ID_FIELDS, open_text, paper_from_record, read_jsonl_records

# The fields a shard keeps per paper (enough to show and import it as a candidate).
RECORD_FIELDS = (
    "key",
    "title",
    "abstract",
    "doi",
    "arxiv_id",
    "pmid",
    "year",
    "venue",
    "url",
    "creators",
    "item_type",
)
PARQUET_BATCH = 8192


@dataclass
class ReadStats:
    """What the reader skipped, with the first few reasons."""

    read: int = 0
    invalid: int = 0
    duplicates: int = 0
    examples: list[str] = field(default_factory=list)

    def skip(self, kind: str, where: str, reason: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.examples) < 5:
            self.examples.append(f"{where}: {reason}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "invalid": self.invalid,
            "duplicates": self.duplicates,
            "examples": self.examples,
        }


def record_to_paper(record: dict[str, Any], *, library: str) -> Paper:
    """A candidate Paper from a corpus record; raises ValueError when id or title is missing."""
    return paper_from_record(record, library=library, pool=CANDIDATE_POOL, keep_raw=False)


def paper_record(paper: Paper) -> dict[str, Any]:
    """The compact record a shard keeps for a paper."""
    data = paper.to_dict()
    return {name: data[name] for name in RECORD_FIELDS}


def paper_from_shard_record(record: dict[str, Any], *, library: str) -> Paper:
    """Rebuild a Paper from a shard record."""
    return Paper(**record, library=library, pool=CANDIDATE_POOL)


def read_corpus(path: Path, *, library: str, stats: ReadStats | None = None) -> Iterator[Paper]:
    """Papers of a corpus file in file order; skipped records are counted in stats."""
    path = Path(path)
    stats = stats if stats is not None else ReadStats()
    if not path.is_file():
        raise InputError(f"{path}: no such corpus file")
    seen: set[str] = set()
    for where, record in _records(path):
        if not isinstance(record, dict):
            stats.skip("invalid", where, "not a JSON object")
            continue
        try:
            paper = record_to_paper(record, library=library)
        except ValueError as exc:
            stats.skip("invalid", where, str(exc))
            continue
        if paper.key in seen:
            stats.skip("duplicates", where, f"id {paper.key} repeated")
            continue
        seen.add(paper.key)
        stats.read += 1
        yield paper


def _records(path: Path) -> Iterator[tuple[str, Any]]:
    name = path.name.lower()
    try:
        if name.endswith(".parquet"):
            yield from _parquet_records(path)
        elif name.endswith((".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")):
            yield from _jsonl_records(path)
        elif name.endswith((".json", ".json.gz")):
            yield from _json_records(path)
        else:
            raise InputError(
                f"{path}: unknown corpus format; use .jsonl, .jsonl.gz, .json or .parquet"
            )
    except (UnicodeDecodeError, OSError, EOFError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from exc


def _jsonl_records(path: Path) -> Iterator[tuple[str, Any]]:
    for number, record in read_jsonl_records(path):
        yield f"line {number}", record


def _json_records(path: Path) -> Iterator[tuple[str, Any]]:
    with open_text(path) as fh:
        try:
            data = json.load(fh)
        except ValueError as exc:
            raise InputError(f"{path}: not JSON ({exc})") from exc
    if isinstance(data, dict):  # {id: record}, as SPECTER's metadata files
        for key, record in data.items():
            if isinstance(record, dict) and not any(record.get(f) for f in ID_FIELDS):
                record = {**record, "id": key}
            yield f"id {key}", record
    elif isinstance(data, list):
        for number, record in enumerate(data):
            yield f"item {number}", record
    else:
        raise InputError(f"{path}: expected a JSON list of papers or an object of id -> paper")


def _parquet_records(path: Path) -> Iterator[tuple[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise CorpusError(
            "reading Parquet needs pyarrow; install it with: pip install 'specter-desk[corpus]'"
        ) from exc
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a bad file
        raise InputError(f"{path}: not a Parquet file ({exc})") from exc
    row = 0
    for batch in parquet.iter_batches(batch_size=PARQUET_BATCH):
        for record in batch.to_pylist():
            yield f"row {row}", record
            row += 1
