"""The store's tables for collections and feeds: Zotero collections (names and parents, per
library), the feeds the user configured (a collection, a tag or the whole library, each with
its own read-only token), and what each feed served last. Store mixes these methods in; the
schema is `migration_feeds` in store.py's list.

Collection membership itself stays on the paper (`papers.collections`, Zotero's collection
keys), as every Zotero source delivers it; this table gives the keys their names.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .clock import now_iso
from .models import Collection

if TYPE_CHECKING:
    import sqlite_utils

FEED_COLUMNS = (
    "id",
    "kind",
    "target",
    "name",
    "since",
    "n",
    "token",
    "created_at",
    "refreshed_at",
    "message",
)


def migration_feeds(db: sqlite_utils.Database) -> None:
    """Collections, feeds and their entries; feedback gains a weight and a source (issue 19)."""
    db.execute(
        """
        CREATE TABLE collections (
            library TEXT NOT NULL,
            key TEXT NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            parent TEXT,
            version INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (library, key)
        )
        """
    )
    db.execute("CREATE INDEX idx_collections_name ON collections(lower(name))")
    db.execute(
        """
        CREATE TABLE feeds (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('collection', 'tag', 'library')),
            target TEXT NOT NULL DEFAULT '',
            name TEXT NOT NULL,
            since TEXT NOT NULL DEFAULT 'month',
            n INTEGER NOT NULL DEFAULT 20,
            token TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            refreshed_at TEXT,
            message TEXT,
            UNIQUE (kind, target)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE feed_entries (
            feed_id TEXT NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            rank INTEGER NOT NULL,
            score REAL NOT NULL,
            because TEXT NOT NULL DEFAULT '[]',
            first_served TEXT NOT NULL,
            current INTEGER NOT NULL DEFAULT 1,
            read_at TEXT,
            added_at TEXT,
            PRIMARY KEY (feed_id, key)
        )
        """
    )
    db.execute("CREATE INDEX idx_feed_entries_key ON feed_entries(key)")
    db.execute("ALTER TABLE feedback ADD COLUMN weight REAL NOT NULL DEFAULT 1.0")
    db.execute("ALTER TABLE feedback ADD COLUMN source TEXT NOT NULL DEFAULT 'user'")


class FeedTables:
    """Collections, feeds and feed entries (mixed into Store: self.db, self.transaction)."""

    db: sqlite_utils.Database

    # -- collections ------------------------------------------------------------------

    def save_collections(self, library: str, collections: Iterable[Collection]) -> int:
        """Insert or update collections of a library (call inside the page's transaction)."""
        rows = [(library, c.key, c.name, c.parent, c.version) for c in collections]
        with self.transaction():  # type: ignore[attr-defined]
            self.db.conn.executemany(
                "INSERT INTO collections (library, key, name, parent, version) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(library, key) DO UPDATE SET "
                "name = excluded.name, parent = excluded.parent, version = excluded.version",
                rows,
            )
        return len(rows)

    def forget_collections(self, library: str, keys: Iterable[str]) -> None:
        """Drop collections deleted in Zotero."""
        with self.transaction():  # type: ignore[attr-defined]
            self.db.conn.executemany(
                "DELETE FROM collections WHERE library = ? AND key = ?",
                [(library, key) for key in keys],
            )

    def replace_collections(self, library: str, collections: Iterable[Collection]) -> None:
        """The whole set of a library's collections (a source that reads them all at once)."""
        collections = list(collections)
        with self.transaction():  # type: ignore[attr-defined]
            self.db.execute("DELETE FROM collections WHERE library = ?", [library])
            self.save_collections(library, collections)

    def collections(self, library: str | None = None) -> list[Collection]:
        """Collections (of one library, or all), by library and name."""
        sql = "SELECT library, key, name, parent, version FROM collections"
        args: list[Any] = []
        if library is not None:
            sql += " WHERE library = ?"
            args.append(library)
        sql += " ORDER BY library, lower(name), key"
        return [
            Collection(key=r[1], name=r[2], parent=r[3], version=r[4], library=r[0])
            for r in self.db.execute(sql, args)
        ]

    def collection_keys_in_use(self, library: str) -> set[str]:
        """Collection keys named by the live papers of a library."""
        cur = self.db.execute(
            "SELECT DISTINCT j.value FROM papers p, json_each(p.collections) j "
            "WHERE p.library = ? AND p.deleted = 0",
            [library],
        )
        return {r[0] for r in cur}

    def collection_counts(self) -> dict[str, int]:
        """{collection key: live library papers in it}."""
        cur = self.db.execute(
            "SELECT j.value, count(*) FROM papers p, json_each(p.collections) j "
            "WHERE p.pool = 'library' AND p.deleted = 0 GROUP BY j.value"
        )
        return dict(cur.fetchall())

    def keys_in_collections(self, keys: Iterable[str]) -> list[str]:
        """Keys of live library papers in any of these collections (Zotero keys)."""
        wanted = sorted(set(keys))
        if not wanted:
            return []
        marks = ", ".join("?" for _ in wanted)
        cur = self.db.execute(
            "SELECT DISTINCT p.key FROM papers p, json_each(p.collections) j "
            f"WHERE p.pool = 'library' AND p.deleted = 0 AND j.value IN ({marks}) ORDER BY p.key",
            wanted,
        )
        return [r[0] for r in cur]

    def keys_with_tag(self, tag: str) -> list[str]:
        """Keys of live library papers with this tag (case-insensitive)."""
        cur = self.db.execute(
            "SELECT DISTINCT p.key FROM papers p, json_each(p.tags) j WHERE p.pool = 'library' "
            "AND p.deleted = 0 AND lower(j.value) = lower(?) ORDER BY p.key",
            [tag],
        )
        return [r[0] for r in cur]

    def tag_counts(self) -> dict[str, int]:
        """{tag: live library papers with it}."""
        cur = self.db.execute(
            "SELECT j.value, count(*) FROM papers p, json_each(p.tags) j "
            "WHERE p.pool = 'library' AND p.deleted = 0 GROUP BY j.value ORDER BY j.value"
        )
        return dict(cur.fetchall())

    # -- feeds ------------------------------------------------------------------------

    def add_feed(self, feed: dict[str, Any]) -> None:
        """Insert a feed row (id, kind, target, name, since, n, token)."""
        row = {**feed, "created_at": now_iso()}
        with self.transaction():  # type: ignore[attr-defined]
            self.db.execute(
                "INSERT INTO feeds (id, kind, target, name, since, n, token, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [row[c] for c in ("id", "kind", "target", "name", "since", "n", "token")]
                + [row["created_at"]],
            )

    def update_feed(self, feed_id: str, **fields: Any) -> None:
        """Change some columns of a feed (name, since, n, token, refreshed_at, message)."""
        allowed = {"name", "since", "n", "token", "refreshed_at", "message"}
        if not fields or set(fields) - allowed:
            raise ValueError(sorted(set(fields) - allowed))
        sets = ", ".join(f"{name} = ?" for name in fields)
        with self.transaction():  # type: ignore[attr-defined]
            self.db.execute(f"UPDATE feeds SET {sets} WHERE id = ?", [*fields.values(), feed_id])

    def remove_feed(self, feed_id: str) -> bool:
        """Delete a feed and its entries; False when there was none."""
        with self.transaction():  # type: ignore[attr-defined]
            self.db.execute("DELETE FROM feed_entries WHERE feed_id = ?", [feed_id])
            return self.db.execute("DELETE FROM feeds WHERE id = ?", [feed_id]).rowcount > 0

    def feeds(self) -> list[dict[str, Any]]:
        """Every feed, by name."""
        cur = self.db.execute(f"SELECT {', '.join(FEED_COLUMNS)} FROM feeds ORDER BY name, id")
        return [dict(zip(FEED_COLUMNS, r, strict=True)) for r in cur]

    def feed(self, feed_id: str) -> dict[str, Any] | None:
        """One feed by id, or None."""
        row = self.db.execute(
            f"SELECT {', '.join(FEED_COLUMNS)} FROM feeds WHERE id = ?", [feed_id]
        ).fetchone()
        return dict(zip(FEED_COLUMNS, row, strict=True)) if row else None

    def save_feed_entries(self, feed_id: str, entries: list[dict[str, Any]]) -> None:
        """What a feed serves now (key, score, because), in order; entries served before stay
        (no longer current) so their read and library state can still be counted."""
        now = now_iso()
        with self.transaction():  # type: ignore[attr-defined]
            self.db.execute("UPDATE feed_entries SET current = 0 WHERE feed_id = ?", [feed_id])
            self.db.conn.executemany(
                "INSERT INTO feed_entries (feed_id, key, rank, score, because, first_served) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(feed_id, key) DO UPDATE SET "
                "rank = excluded.rank, score = excluded.score, because = excluded.because, "
                "current = 1",
                [
                    (feed_id, e["key"], rank, e["score"], json.dumps(e["because"]), now)
                    for rank, e in enumerate(entries, start=1)
                ],
            )
            self.db.execute(
                "UPDATE feeds SET refreshed_at = ?, message = NULL WHERE id = ?", [now, feed_id]
            )

    def feed_entries(self, feed_id: str, *, current: bool = True) -> list[dict[str, Any]]:
        """A feed's entries (what it serves now, or every entry it ever served), by rank."""
        sql = (
            "SELECT key, rank, score, because, first_served, current, read_at, added_at "
            "FROM feed_entries WHERE feed_id = ?"
        )
        if current:
            sql += " AND current = 1"
        cur = self.db.execute(sql + " ORDER BY current DESC, rank, key", [feed_id])
        names = ("key", "rank", "score", "because", "first_served", "current", "read_at")
        rows = []
        for r in cur:
            row = dict(zip((*names, "added_at"), r, strict=True))
            row["because"] = json.loads(row["because"])
            row["current"] = bool(row["current"])
            rows.append(row)
        return rows

    def served_entries(self) -> list[dict[str, Any]]:
        """Every (feed, key) ever served, with its read and library state."""
        cur = self.db.execute(
            "SELECT feed_id, key, first_served, read_at, added_at FROM feed_entries "
            "ORDER BY feed_id, key"
        )
        names = ("feed_id", "key", "first_served", "read_at", "added_at")
        return [dict(zip(names, r, strict=True)) for r in cur]

    def mark_feed_entry(self, feed_id: str, key: str, **fields: str | None) -> None:
        """Record when a served entry was read in Zotero (read_at) or added (added_at)."""
        if not fields or set(fields) - {"read_at", "added_at"}:
            raise ValueError(sorted(fields))
        sets = ", ".join(f"{name} = ?" for name in fields)
        with self.transaction():  # type: ignore[attr-defined]
            self.db.execute(
                f"UPDATE feed_entries SET {sets} WHERE feed_id = ? AND key = ?",
                [*fields.values(), feed_id, key],
            )
