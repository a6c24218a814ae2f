"""zotero.sqlite sync on a real SQLite file built with Zotero's own table layout."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from specter_desk.cli import app
from specter_desk.config import Config
from specter_desk.desk import Desk
from specter_desk.errors import SyncError
from specter_desk.sync import run_sync

# The tables that matter, as in zotero/zotero resource/schema/userdata.sql (Zotero 7).
SCHEMA = """
CREATE TABLE libraries (libraryID INTEGER PRIMARY KEY, type TEXT NOT NULL, editable INT NOT NULL,
    filesEditable INT NOT NULL, version INT NOT NULL DEFAULT 0,
    storageVersion INT NOT NULL DEFAULT 0, lastSync INT NOT NULL DEFAULT 0,
    archived INT NOT NULL DEFAULT 0);
CREATE TABLE itemTypes (itemTypeID INTEGER PRIMARY KEY, typeName TEXT, templateItemTypeID INT,
    display INT DEFAULT 1);
CREATE TABLE fields (fieldID INTEGER PRIMARY KEY, fieldName TEXT, fieldFormatID INT);
CREATE TABLE creatorTypes (creatorTypeID INTEGER PRIMARY KEY, creatorType TEXT);
CREATE TABLE items (itemID INTEGER PRIMARY KEY, itemTypeID INT NOT NULL,
    dateAdded TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    dateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    clientDateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    libraryID INT NOT NULL, key TEXT NOT NULL, version INT NOT NULL DEFAULT 0,
    synced INT NOT NULL DEFAULT 0, UNIQUE (libraryID, key));
CREATE TABLE itemDataValues (valueID INTEGER PRIMARY KEY, value UNIQUE);
CREATE TABLE itemData (itemID INT, fieldID INT, valueID, PRIMARY KEY (itemID, fieldID));
CREATE TABLE creators (creatorID INTEGER PRIMARY KEY, firstName TEXT, lastName TEXT,
    fieldMode INT, UNIQUE (lastName, firstName, fieldMode));
CREATE TABLE itemCreators (itemID INT NOT NULL, creatorID INT NOT NULL,
    creatorTypeID INT NOT NULL DEFAULT 1, orderIndex INT NOT NULL DEFAULT 0,
    PRIMARY KEY (itemID, creatorID, creatorTypeID, orderIndex), UNIQUE (itemID, orderIndex));
CREATE TABLE itemAttachments (itemID INTEGER PRIMARY KEY, parentItemID INT, linkMode INT,
    contentType TEXT, charsetID INT, path TEXT, syncState INT DEFAULT 0, storageModTime INT,
    storageHash TEXT, lastProcessedModificationTime INT);
CREATE TABLE collections (collectionID INTEGER PRIMARY KEY, collectionName TEXT NOT NULL,
    parentCollectionID INT DEFAULT NULL, libraryID INT NOT NULL, key TEXT NOT NULL,
    version INT NOT NULL DEFAULT 0, synced INT NOT NULL DEFAULT 0, UNIQUE (libraryID, key));
CREATE TABLE collectionItems (collectionID INT NOT NULL, itemID INT NOT NULL,
    orderIndex INT NOT NULL DEFAULT 0, PRIMARY KEY (collectionID, itemID));
CREATE TABLE tags (tagID INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE itemTags (itemID INT NOT NULL, tagID INT NOT NULL, type INT NOT NULL,
    PRIMARY KEY (itemID, tagID));
CREATE TABLE deletedItems (itemID INTEGER PRIMARY KEY,
    dateDeleted DEFAULT CURRENT_TIMESTAMP NOT NULL);
CREATE TABLE feeds (libraryID INTEGER PRIMARY KEY, name TEXT NOT NULL, url TEXT NOT NULL UNIQUE,
    lastUpdate TIMESTAMP, lastCheck TIMESTAMP, lastCheckError TEXT, cleanupReadAfter INT,
    cleanupUnreadAfter INT, refreshInterval INT);
CREATE TABLE feedItems (itemID INTEGER PRIMARY KEY, guid TEXT NOT NULL UNIQUE,
    readTime TIMESTAMP, translatedTime TIMESTAMP);
"""
TYPES = {1: "journalArticle", 2: "attachment", 3: "note", 4: "book", 5: "conferencePaper"}
FIELDS = {
    1: "title",
    2: "abstractNote",
    3: "date",
    4: "DOI",
    5: "url",
    6: "extra",
    7: "publicationTitle",
    8: "ISBN",
}


class ZoteroDB:
    """Builds zotero.sqlite the way Zotero stores items (entity-attribute-value)."""

    def __init__(self, path: Path):
        self.path = path
        self.conn = sqlite3.connect(str(path))
        self.conn.executescript(SCHEMA)
        self.conn.executemany(
            "INSERT INTO itemTypes (itemTypeID, typeName) VALUES (?, ?)", TYPES.items()
        )
        self.conn.executemany(
            "INSERT INTO fields (fieldID, fieldName) VALUES (?, ?)", FIELDS.items()
        )
        self.conn.executemany(
            "INSERT INTO creatorTypes VALUES (?, ?)", [(1, "author"), (2, "editor")]
        )
        self.conn.execute(
            "INSERT INTO libraries (libraryID, type, editable, filesEditable) "
            "VALUES (1, 'user', 1, 1), (2, 'feed', 1, 1)"
        )
        self.conn.execute(
            "INSERT INTO feeds (libraryID, name, url) VALUES "
            "(2, 'arXiv cs.CL', 'https://rss.arxiv.org/rss/cs.CL')"
        )
        self.conn.commit()

    def add(
        self,
        key: str,
        type_id: int = 1,
        library: int = 1,
        version: int = 1,
        creators: tuple = (),
        tags: tuple = (),
        parent: int | None = None,
        content_type: str | None = None,
        **fields: str,
    ) -> int:
        cur = self.conn.execute(
            "INSERT INTO items (itemTypeID, libraryID, key, version, dateAdded, dateModified) "
            "VALUES (?, ?, ?, ?, '2024-05-01 10:00:00', '2024-05-02 11:00:00')",
            [type_id, library, key, version],
        )
        item_id = cur.lastrowid
        names = {v: k for k, v in FIELDS.items()}
        for name, value in fields.items():
            self.conn.execute("INSERT OR IGNORE INTO itemDataValues (value) VALUES (?)", [value])
            value_id = self.conn.execute(
                "SELECT valueID FROM itemDataValues WHERE value = ?", [value]
            ).fetchone()[0]
            self.conn.execute(
                "INSERT INTO itemData VALUES (?, ?, ?)", [item_id, names[name], value_id]
            )
        for order, (last, first) in enumerate(creators):
            self.conn.execute(
                "INSERT OR IGNORE INTO creators (firstName, lastName, fieldMode) VALUES (?, ?, 0)",
                [first, last],
            )
            cid = self.conn.execute(
                "SELECT creatorID FROM creators WHERE lastName = ? AND firstName = ?", [last, first]
            ).fetchone()[0]
            self.conn.execute("INSERT INTO itemCreators VALUES (?, ?, 1, ?)", [item_id, cid, order])
        for tag in tags:
            self.conn.execute("INSERT OR IGNORE INTO tags (name) VALUES (?)", [tag])
            tid = self.conn.execute("SELECT tagID FROM tags WHERE name = ?", [tag]).fetchone()[0]
            self.conn.execute("INSERT INTO itemTags VALUES (?, ?, 0)", [item_id, tid])
        if type_id == 2:
            self.conn.execute(
                "INSERT INTO itemAttachments (itemID, parentItemID, linkMode, "
                "contentType, path) VALUES (?, ?, 0, ?, 'storage:paper.pdf')",
                [item_id, parent, content_type],
            )
        if library == 2:
            self.conn.execute(
                "INSERT INTO feedItems (itemID, guid) VALUES (?, ?)", [item_id, f"guid-{key}"]
            )
        self.conn.commit()
        return item_id

    def set_field(self, item_id: int, name: str, value: str) -> None:
        self.conn.execute("INSERT OR IGNORE INTO itemDataValues (value) VALUES (?)", [value])
        value_id = self.conn.execute(
            "SELECT valueID FROM itemDataValues WHERE value = ?", [value]
        ).fetchone()[0]
        field_id = {v: k for k, v in FIELDS.items()}[name]
        self.conn.execute(
            "INSERT OR REPLACE INTO itemData VALUES (?, ?, ?)", [item_id, field_id, value_id]
        )
        self.conn.commit()


@pytest.fixture
def zotero_db(tmp_path, home):
    directory = tmp_path / "Zotero"
    directory.mkdir()
    db = ZoteroDB(directory / "zotero.sqlite")
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(f'[zotero]\nsqlite_path = "{db.path}"\n')
    yield db
    db.conn.close()


def desk() -> Desk:
    return Desk(Config.load(), notice=lambda m: None)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fill(db: ZoteroDB) -> dict[str, int]:
    ids = {
        "ART1": db.add(
            "ART1",
            title="Attention is all you need",
            abstractNote="Transformers.",
            DOI="10.48550/arXiv.1706.03762",
            date="2017-06-12",
            creators=(("Vaswani", "Ashish"), ("Shazeer", "Noam")),
            tags=("nlp",),
        ),
        "BOOK1": db.add("BOOK1", type_id=4, title="Über Bücher", ISBN="0-19-852663-6", date="1999"),
        "NOABS": db.add("NOABS", type_id=5, title="Proceedings paper without abstract"),
        "TRASH": db.add("TRASH", title="In the trash", abstractNote="x"),
        "NOTE1": db.add("NOTE1", type_id=3),
        "FEED1": db.add(
            "FEED1", library=2, title="A new preprint from a feed", abstractNote="Feed abstract."
        ),
    }
    ids["PDF1"] = db.add(
        "PDF1",
        type_id=2,
        parent=ids["NOABS"],
        content_type="application/pdf",
        title="Full Text PDF",
    )
    db.conn.execute("INSERT INTO deletedItems (itemID) VALUES (?)", [ids["TRASH"]])
    db.conn.execute(
        "INSERT INTO collections (collectionID, collectionName, libraryID, key) "
        "VALUES (1, 'Reading', 1, 'COLL0001')"
    )
    db.conn.execute("INSERT INTO collectionItems VALUES (1, ?, 0)", [ids["ART1"]])
    db.conn.commit()
    return ids


def test_sqlite_sync_reads_library_trash_and_feeds_without_touching_the_file(zotero_db):
    fill(zotero_db)
    cache = zotero_db.path.parent / "storage" / "PDF1"
    cache.mkdir(parents=True)
    (cache / ".zotero-ft-cache").write_text("Proceedings paper without abstract\nWe show that X.")
    zotero_db.conn.close()
    before = sha(zotero_db.path)
    d = desk()
    result = run_sync(d, "sqlite", embed=False)
    assert result.library == "sqlite" and result.added == 4  # 3 live papers + 1 feed item
    art = d.store.get_paper("ART1")
    assert art.creators[0] == {
        "creatorType": "author",
        "lastName": "Vaswani",
        "firstName": "Ashish",
    }
    assert (art.year, art.arxiv_id, art.tags, art.collections) == (
        2017,
        "1706.03762",
        ["nlp"],
        ["COLL0001"],
    )
    assert art.date_added == "2024-05-01T10:00:00Z"
    assert d.store.get_paper("BOOK1").isbn == "9780198526636"
    noabs = d.store.get_paper("NOABS")
    assert noabs.text_source == "fulltext" and noabs.abstract == "We show that X."
    assert d.store.get_paper("TRASH").deleted
    assert d.store.get_paper("NOTE1") is None and d.store.get_paper("PDF1") is None
    feed = d.store.get_paper("FEED1")
    assert (feed.pool, feed.library) == ("candidates", "sqlite:feeds")
    assert sha(zotero_db.path) == before
    assert sorted(p.name for p in zotero_db.path.parent.iterdir()) == ["storage", "zotero.sqlite"]
    again = run_sync(d, "sqlite", embed=False)
    assert (again.added, again.updated, again.deleted) == (0, 0, 0)


def test_sqlite_sync_sees_uncheckpointed_wal_changes_while_zotero_runs(zotero_db):
    ids = fill(zotero_db)
    d = desk()
    run_sync(d, "sqlite", embed=False)
    # Zotero keeps its connection open in WAL mode: changes sit in zotero.sqlite-wal.
    zotero_db.conn.execute("PRAGMA journal_mode=WAL")
    zotero_db.conn.execute("PRAGMA wal_autocheckpoint=0")
    zotero_db.set_field(ids["ART1"], "title", "Attention is all you need (revised)")
    zotero_db.conn.execute("DELETE FROM itemData WHERE itemID = ?", [ids["BOOK1"]])
    zotero_db.conn.execute("DELETE FROM items WHERE itemID = ?", [ids["BOOK1"]])
    zotero_db.conn.commit()
    wal = zotero_db.path.with_name("zotero.sqlite-wal")
    assert wal.stat().st_size > 0
    before = sha(zotero_db.path), sha(wal)
    result = run_sync(d, "sqlite", embed=False)
    assert (result.updated, result.deleted) == (1, 1)
    assert d.store.get_paper("ART1").title.endswith("(revised)")
    assert (sha(zotero_db.path), sha(wal)) == before


def test_missing_or_broken_zotero_sqlite_is_a_clear_error(zotero_db, home):
    zotero_db.conn.close()
    zotero_db.path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(SyncError, match="not a Zotero database"):
        run_sync(desk(), "sqlite", embed=False)
    zotero_db.path.unlink()
    out = CliRunner().invoke(app, ["sync", "--library", "sqlite"])
    assert out.exit_code == 6 and "zotero.sqlite_path" in out.output.replace("\n", " ")


def test_sync_without_library_uses_zotero_sqlite_when_no_key_is_known(zotero_db, monkeypatch):
    monkeypatch.setenv("SPECTER_DESK_NO_KEYRING", "1")
    fill(zotero_db)
    out = CliRunner().invoke(app, ["sync", "--no-embed"])
    assert out.exit_code == 0, out.output
    assert "synced sqlite: 4 added" in out.output
