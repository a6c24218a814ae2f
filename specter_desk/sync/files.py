"""Bibliography files as papers: JSONL, BibTeX, RIS and CSL-JSON.

Every record keeps its source id as its key (JSONL `key`/`id`, BibTeX citekey, RIS `ID`,
CSL-JSON `id`) so results can be joined back to the input; a record without one gets a stable
key derived from its title, year and first author. The four readers live together because
they share those key rules, the format detection and the skipped-record reporting.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SyncFileError
from ..models import (
    LIBRARY_POOL,
    Collection,
    Paper,
    creators_from,
    find_arxiv_id,
    parse_year,
    text_list,
)

_SUFFIXES = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".bib": "bibtex",
    ".bibtex": "bibtex",
    ".ris": "ris",
    ".json": "csl-json",
}


# Id fields of flat records, first match wins (JSONL exports, Semantic Scholar/OpenAlex dumps).
ID_FIELDS = ("key", "id", "paper_id", "corpus_id", "corpusid")


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _creators(record: dict[str, Any]) -> list[dict[str, str]]:
    if record.get("creators") is not None:
        return creators_from(record["creators"])
    authors = record.get("authors")
    if authors is None:
        return []
    if isinstance(authors, str):  # "A; B" or BibTeX's "Last, F. and Other, G."
        authors = [a.strip() for a in re.split(r";|\s+and\s+", authors) if a.strip()]
    return [
        {"creatorType": "author", "name": str(a.get("name", "") if isinstance(a, dict) else a)}
        for a in authors
    ]


def paper_from_record(
    record: dict[str, Any], *, library: str, pool: str = LIBRARY_POOL, keep_raw: bool = True
) -> Paper:
    """A Paper from a flat JSON record (key/id, title, abstract, doi, creators or authors...)."""
    key = next((str(record[f]).strip() for f in ID_FIELDS if _text(record.get(f))), "")
    if not key:
        raise ValueError("record has no key or id")
    title = " ".join(str(record.get("title") or "").split())
    if not title:
        raise ValueError(f"record {key} has no title")
    url = str(record.get("url") or "")
    arxiv = _text(record.get("arxiv_id") or record.get("arxiv")) or find_arxiv_id(
        url, str(record.get("extra") or "")
    )
    year = record.get("year") or record.get("publication_year") or record.get("date")
    try:
        creators = _creators(record)
    except ValueError as exc:
        raise ValueError(f"record {key}: {exc}") from None
    tags = record.get("tags")
    return Paper(
        key=key,
        title=title,
        abstract=str(record.get("abstract") or "").strip(),
        library=library,
        pool=pool,
        item_type=str(record.get("item_type") or record.get("itemType") or "journalArticle"),
        doi=_text(record.get("doi")),
        arxiv_id=arxiv,
        isbn=_text(record.get("isbn")),
        pmid=_text(record.get("pmid")),
        year=parse_year(year),
        creators=creators,
        venue=str(record.get("venue") or ""),
        url=url,
        date_added=_text(record.get("date_added") or record.get("dateAdded")),
        date_modified=_text(record.get("date_modified") or record.get("dateModified")),
        tags=re.split(r"\s*[,;]\s*", tags) if isinstance(tags, str) else text_list(tags),
        collections=_names(record.get("collections")),
        raw=record if keep_raw else {},
    )


def _names(value: Any) -> list[str]:
    """Collection names from a list or a "A; B" string (files name collections, not key them)."""
    if isinstance(value, str):
        value = value.split(";")
    return [" ".join(v.split()) for v in text_list(value) if v.strip()]


def open_text(path: Path):
    """A text file (UTF-8, a byte-order mark dropped), gunzipped when its name ends in .gz."""
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig")
    return open(path, encoding="utf-8-sig")


def read_jsonl_records(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, JSON value) of each non-blank line of a JSONL file (.gz too); a line that
    is not JSON raises SyncFileError naming it."""
    try:
        with open_text(path) as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except ValueError as exc:
                    raise SyncFileError(
                        f"{path}:{number}: not JSON ({exc}); fix or drop the line"
                    ) from exc
                yield number, value
    except (UnicodeDecodeError, OSError, EOFError) as exc:
        raise SyncFileError(f"{path}: cannot read ({exc})") from exc


def read_jsonl(path: Path, *, library: str, pool: str = LIBRARY_POOL) -> FileRead:
    """Papers from a JSONL file (.gz too): a record that is not an object or has no key, no
    title or unusable fields is skipped and listed; a line that is not JSON raises
    SyncFileError naming it (the file is damaged: nothing of it is used)."""
    if not path.exists():
        raise SyncFileError(f"{path}: no such file")
    result = FileRead("jsonl")
    for number, record in read_jsonl_records(path):
        try:
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
            check_text(record)
            result.papers.append(paper_from_record(record, library=library, pool=pool))
        except ValueError as exc:
            result.skipped.append(f"line {number}: {exc}")
    return result


def check_text(record: Any) -> None:
    """ValueError when a parsed record holds text that cannot be stored (a lone surrogate
    from a JSON escape such as \\ud800)."""
    try:
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text that is not valid Unicode (a lone surrogate escape)") from None


# -- every format -----------------------------------------------------------------------


@dataclass
class FileRead:
    """The papers read from a file and the records that were skipped (with why)."""

    format: str
    papers: list[Paper] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def collections(self, library: str) -> list[Collection]:
        """The collections the papers name (JSONL `collections`, BibTeX `groups`), by name."""
        names = sorted({name for p in self.papers for name in p.collections})
        return [Collection(key=name, name=name, library=library) for name in names]


def detect_format(path: Path, text: str | None = None) -> str:
    """jsonl, bibtex, ris or csl-json, from the suffix or else the first characters."""
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    if suffixes and suffixes[-1] in _SUFFIXES:
        return _SUFFIXES[suffixes[-1]]
    head = (text or "").lstrip("\ufeff \t\r\n")[:200]
    if head.startswith("@"):
        return "bibtex"
    if re.match(r"^[A-Z][A-Z0-9]  -", head):
        return "ris"
    if head.startswith("["):
        return "csl-json"
    if head.startswith("{"):
        return "jsonl"
    raise SyncFileError(
        f"{path}: unknown file format; use .bib (BibTeX), .ris (RIS), .json (CSL-JSON) or .jsonl"
    )


def read_file(path: Path, *, library: str, pool: str = LIBRARY_POOL) -> FileRead:
    """Papers from a BibTeX, RIS, CSL-JSON or JSONL file (format from suffix or content)."""
    path = Path(path)
    if not path.is_file():
        raise SyncFileError(f"{path}: no such file")
    if path.suffix.lower() == ".gz":  # only gzipped JSONL (the demo library's shape)
        return _first_of_each_key(read_jsonl(path, library=library, pool=pool))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (UnicodeDecodeError, OSError) as exc:
        raise SyncFileError(f"{path}: cannot read as UTF-8 text ({exc})") from exc
    fmt = detect_format(path, text)
    if fmt == "jsonl":
        result = read_jsonl(path, library=library, pool=pool)
    else:
        reader = {"bibtex": _read_bibtex, "ris": _read_ris, "csl-json": _read_csl_json}[fmt]
        result = reader(path, text, library, pool)
    if not result.papers and text.strip():
        why = f" ({'; '.join(result.skipped[:3])})" if result.skipped else ""
        raise SyncFileError(f"{path}: no usable {fmt} records found{why}")
    return _first_of_each_key(result)


def _first_of_each_key(result: FileRead) -> FileRead:
    """Keep the first record of each key; later ones are skipped and listed."""
    seen: set[str] = set()
    kept = []
    for paper in result.papers:
        if paper.key in seen:
            result.skipped.append(
                f"{paper.key}: repeats the key of an earlier record (the first is kept)"
            )
            continue
        seen.add(paper.key)
        kept.append(paper)
    result.papers = kept
    return result


def _fallback_key(prefix: str, title: str, year: Any, author: str, used: set[str]) -> str:
    """A stable key from title, year and first author; repeats get -2, -3... in file order."""
    digest = hashlib.sha256(f"{title}\x1f{year}\x1f{author}".lower().encode()).hexdigest()
    key, n = f"{prefix}-{digest[:10]}", 1
    while key in used:
        n += 1
        key = f"{prefix}-{digest[:10]}-{n}"
    used.add(key)
    return key


def _first_author(creators: list[dict[str, str]]) -> str:
    if not creators:
        return ""
    return creators[0].get("lastName") or creators[0].get("name", "")


# -- BibTeX -----------------------------------------------------------------------------

_BIB_TYPES = {
    "article": "journalArticle",
    "inproceedings": "conferencePaper",
    "conference": "conferencePaper",
    "book": "book",
    "incollection": "bookSection",
    "inbook": "bookSection",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "techreport": "report",
    "report": "report",
    "misc": "document",
    "online": "webpage",
    "unpublished": "manuscript",
    "thesis": "thesis",
}
_BIB_ENTRY = re.compile(r"@\s*(\w+)\s*[{(]\s*([^,\s]*)\s*,", re.M)
_BRACES = re.compile(r"[{}]")


def _bib_clean(value: str | None) -> str:
    return " ".join(_BRACES.sub("", value or "").split())


def _bib_creators(value: str) -> list[dict[str, str]]:
    creators = []
    for name in re.split(r"\s+and\s+", _bib_clean(value)):
        name = name.strip()
        if not name:
            continue
        if "," in name:
            last, first = (p.strip() for p in name.split(",", 1))
            creators.append({"creatorType": "author", "lastName": last, "firstName": first})
        else:
            creators.append({"creatorType": "author", "name": name})
    return creators


def _read_bibtex(path: Path, text: str, library: str, pool: str) -> FileRead:
    import bibtexparser
    from bibtexparser.bparser import BibTexParser
    from bibtexparser.customization import convert_to_unicode

    parser = BibTexParser(
        common_strings=True, ignore_nonstandard_types=False, interpolate_strings=True
    )
    parser.customization = convert_to_unicode
    try:
        database = bibtexparser.loads(text, parser=parser)
    except Exception as exc:  # noqa: BLE001 - bibtexparser raises several pyparsing errors
        raise SyncFileError(f"{path}: not valid BibTeX ({exc})") from exc
    result, used = FileRead("bibtex"), set()
    parsed_ids = {e.get("ID") for e in database.entries}
    for kind, cite in _BIB_ENTRY.findall(text):
        if kind.lower() not in {"comment", "string", "preamble"} and cite not in parsed_ids:
            result.skipped.append(f"{cite or '?'}: unparsable entry")
    for entry in database.entries:
        key = str(entry.get("ID") or "").strip()
        title = _bib_clean(entry.get("title"))
        if not title:
            result.skipped.append(f"{key or '?'}: no title")
            continue
        creators = _bib_creators(entry.get("author") or entry.get("editor") or "")
        first = _first_author(creators)
        key = key or _fallback_key("bib", title, entry.get("year"), first, used)
        url = entry.get("url") or ""
        arxiv = None
        if (entry.get("archiveprefix") or "").lower() == "arxiv":
            arxiv = entry.get("eprint")
        result.papers.append(
            Paper(
                key=key,
                title=title,
                abstract=_bib_clean(entry.get("abstract")),
                library=library,
                pool=pool,
                item_type=_BIB_TYPES.get(entry.get("ENTRYTYPE", "").lower(), "document"),
                doi=entry.get("doi"),
                arxiv_id=arxiv or find_arxiv_id(url, entry.get("eprint"), entry.get("doi")),
                isbn=entry.get("isbn"),
                pmid=entry.get("pmid"),
                year=parse_year(entry.get("year") or entry.get("date")),
                creators=creators,
                venue=_bib_clean(
                    entry.get("journal")
                    or entry.get("booktitle")
                    or entry.get("publisher")
                    or entry.get("school")
                    or ""
                ),
                url=url,
                tags=[
                    t.strip() for t in re.split(r"[,;]", entry.get("keywords") or "") if t.strip()
                ],
                collections=_names(_bib_clean(entry.get("groups")).replace(",", ";")),
                raw=dict(entry),
            )
        )
    return result


# -- RIS --------------------------------------------------------------------------------

_RIS_TYPES = {
    "JOUR": "journalArticle",
    "JFULL": "journalArticle",
    "EJOUR": "journalArticle",
    "CONF": "conferencePaper",
    "CPAPER": "conferencePaper",
    "BOOK": "book",
    "CHAP": "bookSection",
    "THES": "thesis",
    "RPRT": "report",
    "ELEC": "webpage",
    "GEN": "document",
    "UNPB": "manuscript",
}


def _first(entry: dict[str, Any], *names: str) -> str:
    for name in names:
        value = entry.get(name)
        if isinstance(value, list):
            value = value[0] if value else ""
        if value:
            return str(value).strip()
    return ""


def _read_ris(path: Path, text: str, library: str, pool: str) -> FileRead:
    import rispy

    try:
        entries = rispy.loads(text)
    except Exception as exc:  # noqa: BLE001 - rispy raises IOError/ValueError on bad input
        raise SyncFileError(f"{path}: not valid RIS ({exc})") from exc
    result, used = FileRead("ris"), set()
    for number, entry in enumerate(entries, start=1):
        title = _first(entry, "title", "primary_title", "translated_title", "short_title")
        key = _first(entry, "id")
        if not title:
            result.skipped.append(f"{key or f'record {number}'}: no title")
            continue
        authors = entry.get("authors") or entry.get("first_authors") or []
        creators = []
        for name in authors:
            if "," in name:
                last, first = (p.strip() for p in name.split(",", 1))
                creators.append({"creatorType": "author", "lastName": last, "firstName": first})
            else:
                creators.append({"creatorType": "author", "name": name.strip()})
        year = _first(entry, "year", "publication_year", "date")
        first_author = _first_author(creators)
        urls = entry.get("urls") or []
        doi = _first(entry, "doi")
        result.papers.append(
            Paper(
                key=key or _fallback_key("ris", title, year, first_author, used),
                title=title,
                abstract=_first(entry, "abstract", "notes_abstract"),
                library=library,
                pool=pool,
                item_type=_RIS_TYPES.get(_first(entry, "type_of_reference"), "document"),
                doi=doi,
                arxiv_id=find_arxiv_id(*urls, doi),
                isbn=_first(entry, "issn")
                if _first(entry, "type_of_reference") == "BOOK"
                else None,
                year=parse_year(year),
                creators=creators,
                venue=_first(
                    entry,
                    "journal_name",
                    "secondary_title",
                    "alternate_title1",
                    "alternate_title2",
                    "alternate_title3",
                ),
                url=urls[0] if urls else "",
                tags=[str(k) for k in entry.get("keywords") or []],
                raw={k: v for k, v in entry.items() if isinstance(v, str | list | int)},
            )
        )
    return result


# -- CSL-JSON ---------------------------------------------------------------------------

_CSL_TYPES = {
    "article-journal": "journalArticle",
    "paper-conference": "conferencePaper",
    "book": "book",
    "chapter": "bookSection",
    "thesis": "thesis",
    "report": "report",
    "webpage": "webpage",
    "article": "preprint",
    "manuscript": "manuscript",
}


def _csl_year(value: Any) -> int | None:
    if isinstance(value, dict):
        parts = value.get("date-parts")
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            return parse_year(parts[0][0])
        return parse_year(value.get("raw") or value.get("literal"))
    return parse_year(value)


def _read_csl_json(path: Path, text: str, library: str, pool: str) -> FileRead:
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SyncFileError(f"{path}: not valid JSON ({exc})") from exc
    if isinstance(records, dict) and isinstance(records.get("items"), list):
        records = records["items"]
    if not isinstance(records, list):
        raise SyncFileError(f"{path}: CSL-JSON must be a list of items")
    result, used = FileRead("csl-json"), set()
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            result.skipped.append(f"record {number}: not an object")
            continue
        try:
            check_text(record)
        except ValueError as exc:
            result.skipped.append(f"record {number}: {exc}")
            continue
        key = str(record.get("id") or "").strip()
        title = " ".join(str(record.get("title") or "").split())
        if not title:
            result.skipped.append(f"{key or f'record {number}'}: no title")
            continue
        creators = []
        authors = record.get("author")
        for c in authors if isinstance(authors, list) else []:
            if not isinstance(c, dict):
                continue
            if c.get("family"):
                creators.append(
                    {
                        "creatorType": "author",
                        "lastName": str(c["family"]),
                        "firstName": str(c.get("given") or ""),
                    }
                )
            elif c.get("literal"):
                creators.append({"creatorType": "author", "name": str(c["literal"])})
        year = _csl_year(record.get("issued"))
        first_author = _first_author(creators)
        url = str(record.get("URL") or "")
        doi = _text(record.get("DOI"))
        result.papers.append(
            Paper(
                key=key or _fallback_key("csl", title, year, first_author, used),
                title=title,
                abstract=" ".join(str(record.get("abstract") or "").split()),
                library=library,
                pool=pool,
                item_type=_CSL_TYPES.get(str(record.get("type") or ""), "document"),
                doi=doi,
                arxiv_id=find_arxiv_id(url, str(doi or ""), str(record.get("note") or "")),
                isbn=_text(record.get("ISBN")),
                pmid=_text(record.get("PMID")),
                year=year,
                creators=creators,
                venue=str(record.get("container-title") or record.get("publisher") or ""),
                url=url,
                tags=[t.strip() for t in str(record.get("keyword") or "").split(",") if t.strip()],
                raw=record,
            )
        )
    return result
