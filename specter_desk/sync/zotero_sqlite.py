"""zotero.sqlite, read-only: the user library offline, and Zotero's feed items as candidates.

The file is never written. With Zotero closed it is opened `mode=ro&immutable=1`; when a
`-wal` file sits next to it (Zotero running, changes not yet checkpointed) the database and
its WAL are copied to a temp folder first and the copy is read, so no change is missed.
Every sync reads all items (local SQL, fast) and the page writer skips unchanged papers.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import SyncError
from ..models import CANDIDATE_POOL, LIBRARY_POOL, Collection
from .context import SyncContext
from .fulltext import PDF_TYPES, excerpt, read_ft_cache
from .writer import PageWriter
from .zotero_items import paper_from_item

FEEDS_LIBRARY = "sqlite:feeds"


@contextmanager
def open_zotero_db(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to zotero.sqlite that can never write to the user's file."""
    if not path.is_file():
        raise SyncError(
            f"{path}: no zotero.sqlite there; set zotero.sqlite_path in the config to the file "
            "in your Zotero data directory (Zotero -> Settings -> Advanced -> Files and Folders)"
        )
    wal = path.with_name(path.name + "-wal")
    tmp = None
    try:
        if wal.exists() and wal.stat().st_size > 0:
            tmp = tempfile.TemporaryDirectory(prefix="specter-desk-zotero-")
            copy = Path(tmp.name) / path.name
            shutil.copy2(path, copy)
            shutil.copy2(wal, copy.with_name(copy.name + "-wal"))
            uri = f"{copy.as_uri()}?mode=ro"
        else:
            uri = f"{path.as_uri()}?mode=ro&immutable=1"
        conn = sqlite3.connect(uri, uri=True)
        try:
            conn.execute("SELECT count(*) FROM items").fetchone()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise SyncError(f"{path}: not a Zotero database ({exc})") from exc
        try:
            yield conn
        finally:
            conn.close()
    except OSError as exc:
        raise SyncError(f"{path}: cannot read ({exc})") from exc
    finally:
        if tmp is not None:
            tmp.cleanup()


def _table_exists(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?", [name]
    ).fetchone()
    return row is not None


def read_items(conn: sqlite3.Connection, library_ids: list[int]) -> list[dict[str, Any]]:
    """Items of the given libraries as Zotero API `data` objects (with `deleted` for trash)."""
    if not library_ids:
        return []
    marks = ", ".join("?" for _ in library_ids)
    fields_table = "fieldsCombined" if _table_exists(conn, "fieldsCombined") else "fields"
    items: dict[int, dict[str, Any]] = {}
    for item_id, key, version, type_name, added, modified in conn.execute(
        f"SELECT i.itemID, i.key, i.version, t.typeName, i.dateAdded, i.dateModified "
        f"FROM items i JOIN itemTypes t ON t.itemTypeID = i.itemTypeID "
        f"WHERE i.libraryID IN ({marks})",
        library_ids,
    ):
        items[item_id] = {
            "key": key,
            "version": version or 0,
            "itemType": type_name,
            "dateAdded": _iso(added),
            "dateModified": _iso(modified),
            "creators": [],
            "tags": [],
            "collections": [],
        }
    for item_id, name, value in conn.execute(
        f"SELECT d.itemID, f.fieldName, v.value FROM itemData d "
        f"JOIN {fields_table} f ON f.fieldID = d.fieldID "
        f"JOIN itemDataValues v ON v.valueID = d.valueID "
        f"JOIN items i ON i.itemID = d.itemID WHERE i.libraryID IN ({marks})",
        library_ids,
    ):
        if item_id in items:
            items[item_id][name] = value
    creator_types = dict(conn.execute("SELECT creatorTypeID, creatorType FROM creatorTypes"))
    for item_id, first, last, mode, type_id in conn.execute(
        f"SELECT ic.itemID, c.firstName, c.lastName, c.fieldMode, ic.creatorTypeID "
        f"FROM itemCreators ic JOIN creators c ON c.creatorID = ic.creatorID "
        f"JOIN items i ON i.itemID = ic.itemID WHERE i.libraryID IN ({marks}) "
        f"ORDER BY ic.itemID, ic.orderIndex",
        library_ids,
    ):
        kind = creator_types.get(type_id, "author")
        entry = (
            {"creatorType": kind, "name": last or ""}
            if mode == 1
            else {"creatorType": kind, "lastName": last or "", "firstName": first or ""}
        )
        if item_id in items:
            items[item_id]["creators"].append(entry)
    if _table_exists(conn, "itemTags"):
        for item_id, name in conn.execute(
            "SELECT it.itemID, t.name FROM itemTags it JOIN tags t ON t.tagID = it.tagID "
            "ORDER BY t.name"
        ):
            if item_id in items:
                items[item_id]["tags"].append({"tag": name})
    if _table_exists(conn, "collectionItems"):
        for item_id, key in conn.execute(
            "SELECT ci.itemID, c.key FROM collectionItems ci "
            "JOIN collections c ON c.collectionID = ci.collectionID ORDER BY c.key"
        ):
            if item_id in items:
                items[item_id]["collections"].append(key)
    for (item_id,) in conn.execute("SELECT itemID FROM deletedItems"):
        if item_id in items:
            items[item_id]["deleted"] = 1
    for item in items.values():
        item["tags"].sort(key=lambda t: t["tag"])
    return [items[i] for i in sorted(items)]


def read_collections(
    conn: sqlite3.Connection, library_ids: list[int], library: str
) -> list[Collection]:
    """Collections of the given libraries (those in Zotero's trash left out)."""
    if not library_ids or not _table_exists(conn, "collections"):
        return []
    marks = ", ".join("?" for _ in library_ids)
    trash = (
        "AND c.collectionID NOT IN (SELECT collectionID FROM deletedCollections)"
        if _table_exists(conn, "deletedCollections")
        else ""
    )
    rows = conn.execute(
        f"SELECT c.key, c.collectionName, p.key, c.version FROM collections c "
        f"LEFT JOIN collections p ON p.collectionID = c.parentCollectionID "
        f"WHERE c.libraryID IN ({marks}) {trash} ORDER BY c.key",
        library_ids,
    )
    return [
        Collection(key=key, name=name or "", parent=parent, version=version or 0, library=library)
        for key, name, parent, version in rows
    ]


def _iso(value: str | None) -> str | None:
    """Zotero stores 'YYYY-MM-DD HH:MM:SS' UTC; the API says 'YYYY-MM-DDTHH:MM:SSZ'."""
    if not value:
        return None
    return value.replace(" ", "T") + ("" if value.endswith("Z") else "Z")


def read_attachments(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """{parent item key: [attachment keys of PDFs and snapshots]}."""
    if not _table_exists(conn, "itemAttachments"):
        return {}
    found: dict[str, list[str]] = defaultdict(list)
    for parent, key, content_type in conn.execute(
        "SELECT p.key, a.key, ia.contentType FROM itemAttachments ia "
        "JOIN items a ON a.itemID = ia.itemID JOIN items p ON p.itemID = ia.parentItemID "
        "ORDER BY a.key"
    ):
        if (content_type or "") in PDF_TYPES:
            found[parent].append(key)
    return found


def sync_sqlite(ctx: SyncContext, *, path: Path) -> None:
    """Sync the user library of zotero.sqlite into ctx.writer and its feeds as candidates."""
    ctx.report("reading zotero.sqlite", 0, 0)
    with open_zotero_db(path) as conn:
        libraries = conn.execute("SELECT libraryID, type FROM libraries").fetchall()
        user = [lid for lid, kind in libraries if kind == "user"]
        feeds = [lid for lid, kind in libraries if kind == "feed"]
        library_items = read_items(conn, user)
        feed_items = read_items(conn, feeds) if _table_exists(conn, "feedItems") else []
        attachments = read_attachments(conn)
        collections = read_collections(conn, user, ctx.writer.library)
    storage = path.parent / "storage"
    _write_all(
        ctx, ctx.writer, library_items, LIBRARY_POOL, attachments, storage, collections=collections
    )
    feed_writer = PageWriter(ctx.store, FEEDS_LIBRARY)
    _write_all(ctx, feed_writer, feed_items, CANDIDATE_POOL, {}, storage)
    ctx.extra_counts(feed_writer.counts)


def _write_all(
    ctx: SyncContext,
    writer: PageWriter,
    items: list[dict[str, Any]],
    pool: str,
    attachments: dict[str, list[str]],
    storage: Path,
    *,
    collections: list[Collection] | None = None,
) -> None:
    papers = [
        p
        for p in (paper_from_item(i, library=writer.library, pool=pool) for i in items)
        if p is not None
    ]
    for paper in papers:
        if paper.abstract:
            continue
        for key in attachments.get(paper.key, []):
            text = read_ft_cache(storage, key)
            if text:
                paper.abstract, paper.text_source = excerpt(paper.title, text), "fulltext"
                break
    writer.write_library(
        papers,
        {"items": len(papers)},
        check_stop=ctx.check_stop,
        report=ctx.report,
        stage=f"writing {pool}",
        collections=collections,
    )
