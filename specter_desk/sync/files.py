"""Bibliography files: JSONL records (the demo library's shape) as papers."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..models import LIBRARY_POOL, Paper, find_arxiv_id, parse_year


def paper_from_record(record: dict[str, Any], *, library: str, pool: str = LIBRARY_POOL) -> Paper:
    """A Paper from a flat JSON record (key/id, title, abstract, doi, creators or authors...)."""
    key = str(record.get("key") or record.get("id") or "").strip()
    if not key:
        raise ValueError("record has no key or id")
    title = str(record.get("title") or "").strip()
    if not title:
        raise ValueError(f"record {key} has no title")
    creators = record.get("creators")
    if creators is None and record.get("authors") is not None:
        authors = record["authors"]
        if isinstance(authors, str):
            authors = [a.strip() for a in authors.split(";") if a.strip()]
        creators = [{"creatorType": "author", "name": str(a)} for a in authors]
    url = str(record.get("url") or "")
    arxiv = record.get("arxiv_id") or find_arxiv_id(url, str(record.get("extra") or ""))
    return Paper(
        key=key,
        title=title,
        abstract=str(record.get("abstract") or "").strip(),
        library=library,
        pool=pool,
        item_type=str(record.get("item_type") or record.get("itemType") or "journalArticle"),
        doi=record.get("doi"),
        arxiv_id=arxiv,
        isbn=record.get("isbn"),
        pmid=record.get("pmid"),
        year=parse_year(record.get("year") or record.get("date")),
        creators=list(creators or []),
        venue=str(record.get("venue") or ""),
        url=url,
        date_added=record.get("date_added") or record.get("dateAdded"),
        date_modified=record.get("date_modified") or record.get("dateModified"),
        tags=list(record.get("tags") or []),
        raw=record,
    )


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def read_jsonl(path: Path, *, library: str, pool: str = LIBRARY_POOL) -> Iterator[Paper]:
    """Papers from a JSONL file; a malformed line raises InputError naming the line."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    try:
        with _open_text(path) as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    if not isinstance(record, dict):
                        raise ValueError("not a JSON object")
                    yield paper_from_record(record, library=library, pool=pool)
                except ValueError as exc:
                    raise InputError(f"{path}:{number}: {exc}") from exc
    except (UnicodeDecodeError, OSError, EOFError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from exc
