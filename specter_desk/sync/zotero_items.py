"""Zotero item JSON (web API, local API, or rebuilt from zotero.sqlite) as Paper records."""

from __future__ import annotations

import re
from typing import Any

from ..models import LIBRARY_POOL, SKIPPED_ITEM_TYPES, Paper, find_arxiv_id, parse_year

# Where each item type keeps its venue, in order of preference.
VENUE_FIELDS = (
    "publicationTitle",
    "proceedingsTitle",
    "conferenceName",
    "bookTitle",
    "websiteTitle",
    "blogTitle",
    "forumTitle",
    "encyclopediaTitle",
    "dictionaryTitle",
    "programTitle",
    "repository",
    "university",
    "institution",
    "publisher",
    "seriesTitle",
    "series",
)
# Item types whose main field is not called "title".
TITLE_FIELDS = ("title", "caseName", "nameOfAct", "subject")

_EXTRA_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z ]*?)\s*:\s*(.+?)\s*$", re.M)


def is_paper_item(data: dict[str, Any]) -> bool:
    """True for regular items (not notes, attachments or annotations)."""
    return data.get("itemType") not in SKIPPED_ITEM_TYPES


def extra_fields(extra: str | None) -> dict[str, str]:
    """`Key: value` lines of Zotero's Extra field, keys lower-cased (first one wins)."""
    found: dict[str, str] = {}
    for name, value in _EXTRA_LINE.findall(extra or ""):
        found.setdefault(name.strip().lower(), value)
    return found


def _creators(raw: list[Any]) -> list[dict[str, str]]:
    creators = []
    for c in raw or []:
        if not isinstance(c, dict):
            continue
        entry = {"creatorType": str(c.get("creatorType") or "author")}
        if c.get("name"):
            entry["name"] = str(c["name"])
        else:
            entry["lastName"] = str(c.get("lastName") or "")
            entry["firstName"] = str(c.get("firstName") or "")
        creators.append(entry)
    return creators


def paper_from_item(
    item: dict[str, Any], *, library: str, pool: str = LIBRARY_POOL
) -> Paper | None:
    """A Paper from a Zotero item (`{key, version, data: {...}}` or a bare `data` object).

    Returns None for notes, attachments and annotations.
    """
    data = item.get("data", item)
    if not isinstance(data, dict) or not is_paper_item(data):
        return None
    key = str(data.get("key") or item.get("key") or "")
    if not key:
        raise ValueError("Zotero item without a key")
    extra = str(data.get("extra") or "")
    fields = extra_fields(extra)
    title = next((str(data[f]).strip() for f in TITLE_FIELDS if data.get(f)), "")
    url = str(data.get("url") or "")
    doi = data.get("DOI") or fields.get("doi")
    arxiv = find_arxiv_id(url, extra, str(doi or ""), str(data.get("archiveID") or ""))
    venue = next((str(data[f]) for f in VENUE_FIELDS if data.get(f)), "")
    tags = [t["tag"] if isinstance(t, dict) else str(t) for t in data.get("tags") or []]
    return Paper(
        key=key,
        title=title,
        abstract=str(data.get("abstractNote") or "").strip(),
        library=library,
        pool=pool,
        version=int(item.get("version") or data.get("version") or 0),
        item_type=str(data.get("itemType") or "journalArticle"),
        doi=doi,
        arxiv_id=arxiv,
        isbn=data.get("ISBN") or fields.get("isbn"),
        pmid=fields.get("pmid"),
        year=parse_year(data.get("date")),
        creators=_creators(data.get("creators") or []),
        venue=venue,
        url=url,
        date_added=data.get("dateAdded") or None,
        date_modified=data.get("dateModified") or None,
        deleted=bool(data.get("deleted")),
        collections=[str(c) for c in data.get("collections") or []],
        tags=tags,
        raw=data,
    )
