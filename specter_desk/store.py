"""The SQLite store: the single source of truth. Schema, migrations and all SQL live here."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import sqlite_utils

from .clock import now_iso
from .disk import ensure_dir, make_private, remove_stale_temps
from .errors import StoreError
from .models import LIBRARY_POOL, Paper, normalize_doi, normalize_title
from .store_citations import CitationTables, migration_6
from .store_feeds import FeedTables, migration_feeds

PAPER_COLUMNS = (
    "key",
    "library",
    "pool",
    "version",
    "item_type",
    "title",
    "abstract",
    "doi",
    "arxiv_id",
    "isbn",
    "pmid",
    "year",
    "creators",
    "venue",
    "url",
    "date_added",
    "date_modified",
    "deleted",
    "collections",
    "tags",
    "text_source",
    "content_hash",
    "title_key",
    "raw",
)
_JSON_COLUMNS = ("creators", "collections", "tags", "raw")
# The last 24 characters of the title key without spaces (indexed: finds titles whose start
# differs, as a typo in the first words makes them); title_tail() is the same in Python.
TITLE_TAIL_SQL = "substr(replace(title_key, ' ', ''), -24)"


def title_tail(title_key: str) -> str:
    """The Python twin of TITLE_TAIL_SQL for a title key."""
    return title_key.replace(" ", "")[-24:]


def _migration_1(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE papers (
            key TEXT PRIMARY KEY,
            library TEXT NOT NULL,
            pool TEXT NOT NULL DEFAULT 'library',
            version INTEGER NOT NULL DEFAULT 0,
            item_type TEXT NOT NULL DEFAULT 'journalArticle',
            title TEXT NOT NULL DEFAULT '',
            abstract TEXT NOT NULL DEFAULT '',
            doi TEXT, arxiv_id TEXT, isbn TEXT, pmid TEXT,
            year INTEGER,
            creators TEXT NOT NULL DEFAULT '[]',
            venue TEXT NOT NULL DEFAULT '',
            url TEXT NOT NULL DEFAULT '',
            date_added TEXT, date_modified TEXT,
            deleted INTEGER NOT NULL DEFAULT 0,
            collections TEXT NOT NULL DEFAULT '[]',
            tags TEXT NOT NULL DEFAULT '[]',
            text_source TEXT NOT NULL DEFAULT 'abstract',
            content_hash TEXT NOT NULL,
            title_key TEXT NOT NULL DEFAULT '',
            raw TEXT NOT NULL DEFAULT '{}'
        )
        """
    )
    for column in ("doi", "arxiv_id", "isbn", "pmid", "title_key", "date_added", "library"):
        db.execute(f"CREATE INDEX idx_papers_{column} ON papers({column})")
    db.execute(
        """
        CREATE TABLE vectors (
            key TEXT NOT NULL REFERENCES papers(key) ON DELETE CASCADE,
            model TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            dim INTEGER NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (key, model)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE sync_state (
            library TEXT PRIMARY KEY,
            version INTEGER NOT NULL DEFAULT 0,
            synced_at TEXT,
            details TEXT NOT NULL DEFAULT '{}'
        )
        """
    )
    db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT)")


def _migration_2(db: sqlite_utils.Database) -> None:
    """Feedback labels (one vote per paper) and the arXiv fetch cache."""
    db.execute(
        """
        CREATE TABLE feedback (
            key TEXT PRIMARY KEY,
            vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
            voted_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE arxiv_fetches (
            query TEXT PRIMARY KEY,
            category TEXT NOT NULL,
            days INTEGER NOT NULL,
            fetched_at TEXT NOT NULL,
            count INTEGER NOT NULL DEFAULT 0,
            keys TEXT NOT NULL DEFAULT '[]'
        )
        """
    )


def _migration_3(db: sqlite_utils.Database) -> None:
    """An index on the last characters of the title key, for duplicate lookups (issue 5)."""
    db.execute(f"CREATE INDEX idx_papers_title_tail ON papers({TITLE_TAIL_SQL})")


def _migration_4(db: sqlite_utils.Database) -> None:
    """Zotero items that are not papers (attachments, notes, annotations), with their version
    and parent, so a sync need not fetch them again (issue 10)."""
    db.execute(
        """
        CREATE TABLE sync_children (
            library TEXT NOT NULL,
            key TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 0,
            item_type TEXT NOT NULL,
            parent TEXT,
            PRIMARY KEY (library, key)
        )
        """
    )
    db.execute("CREATE INDEX idx_sync_children_parent ON sync_children(library, parent)")


def _migration_5(db: sqlite_utils.Database) -> None:
    """Pairs of papers the user marked "not duplicates" (kept apart by key, whatever a sync
    does to the papers), and DOIs stored percent-encoded re-normalised (issue 20)."""
    db.execute(
        """
        CREATE TABLE distinct_pairs (
            key_a TEXT NOT NULL,
            key_b TEXT NOT NULL,
            marked_at TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT 'user',
            PRIMARY KEY (key_a, key_b),
            CHECK (key_a < key_b)
        )
        """
    )
    db.execute("CREATE INDEX idx_distinct_pairs_b ON distinct_pairs(key_b)")
    rows = db.execute("SELECT key, doi FROM papers WHERE doi LIKE '%\\%%' ESCAPE '\\'")
    for key, doi in rows.fetchall():
        db.execute("UPDATE papers SET doi = ? WHERE key = ?", [normalize_doi(doi), key])


def _migration_8(db: sqlite_utils.Database) -> None:
    """Papers by pool and date added: recommend's seeds (the library's papers of a window)
    without reading a large candidate pool whose papers were added in the same days (issue
    19)."""
    db.execute("CREATE INDEX idx_papers_pool_added ON papers(pool, deleted, date_added)")


# Append only, never edit or reorder: migration N upgrades schema version N-1 to N.
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _migration_1,
    _migration_2,
    _migration_3,
    _migration_4,
    _migration_5,
    migration_6,  # citations (store_citations.py)
    migration_feeds,  # 7: collections, feeds, feedback weights (store_feeds.py)
    _migration_8,
]


def store_error(path: Path, exc: sqlite3.Error) -> StoreError | None:
    """The one-line error for an SQLite failure the user can act on (a full disk, a damaged
    or unwritable file, a lock held too long); None for anything else (a bug)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if name == "SQLITE_FULL" or "disk is full" in text:
        why = "the disk is full; free some space and run it again (nothing committed is lost)"
    elif name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in text:
        why = (
            f"the store is damaged ({text}): restore {path.name} from a backup, or start a new "
            f"data dir (SPECTER_DESK_HOME=NEW_DIR) and sync your library into it again; "
            "this file is left as it is"
        )
    elif name.startswith("SQLITE_IOERR"):
        why = f"the disk could not read or write it ({text}); check the disk, then run it again"
    elif name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")) or "readonly" in text:
        why = f"{text}; the data dir must be a folder you can write to"
    elif name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        why = "another process has held it locked for 30 s; try again when it is done"
    else:
        return None
    return StoreError(f"{path}: {why}")


@contextmanager
def _as_store_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        error = store_error(path, exc)
        if error is None:
            raise
        raise error from exc


class _Cursor(sqlite3.Cursor):
    """A cursor whose actionable SQLite errors (full, damaged, locked) are StoreErrors."""

    def execute(self, sql: str, parameters: Any = (), /) -> _Cursor:
        with _as_store_errors(self.connection.path):
            return super().execute(sql, parameters)

    def executemany(self, sql: str, seq: Any, /) -> _Cursor:
        with _as_store_errors(self.connection.path):
            return super().executemany(sql, seq)

    def fetchone(self) -> Any:
        with _as_store_errors(self.connection.path):
            return super().fetchone()

    def fetchmany(self, size: int = 1) -> list[Any]:
        with _as_store_errors(self.connection.path):
            return super().fetchmany(size)

    def fetchall(self) -> list[Any]:
        with _as_store_errors(self.connection.path):
            return super().fetchall()

    def __next__(self) -> Any:
        # once per row: a plain try (free until it raises) instead of a context manager
        try:
            return super().__next__()
        except sqlite3.Error as exc:
            error = store_error(self.connection.path, exc)
            if error is None:
                raise
            raise error from exc


class _Connection(sqlite3.Connection):
    """The store's connection: every statement runs through a _Cursor."""

    path: Path

    def cursor(self, factory: Any = _Cursor) -> _Cursor:
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Any = (), /) -> _Cursor:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, seq: Any, /) -> _Cursor:
        return self.cursor().executemany(sql, seq)

    def rollback(self) -> None:
        with _as_store_errors(self.path):
            super().rollback()


class Store(CitationTables, FeedTables):
    """A library store in one SQLite file (WAL, foreign keys, busy timeout)."""

    def __init__(self, path: Path | str, *, read_only: bool = False):
        """Open (or create and migrate) the store; read_only: read an existing store that
        another connection writes (a worker process of the bridge): no migration, no file
        created, every write refused by SQLite."""
        self.path = Path(path)
        self.read_only = read_only
        if read_only and not self.path.is_file():
            raise StoreError(f"cannot open the store {self.path}: no such file")
        if not read_only:
            ensure_dir(self.path.parent)
            remove_stale_temps(self.path.parent)  # what a save killed half-way left behind
        self._refuse_empty_file()
        sidecars = [self.path.with_name(self.path.name + end) for end in ("-wal", "-shm")]
        where = f"{self.path.resolve().as_uri()}?mode=ro" if read_only else str(self.path)
        try:
            conn = sqlite3.connect(
                where,
                uri=read_only,
                timeout=30,
                isolation_level=None,
                check_same_thread=False,
                factory=_Connection,
            )
            conn.path = self.path
            if read_only:
                conn.execute("PRAGMA query_only=ON")
            else:
                # before the WAL files exist: SQLite gives them the database file's permissions
                make_private(self.path, *sidecars)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA foreign_keys=ON")
                conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the store {self.path}: {exc}") from exc
        self.db = sqlite_utils.Database(conn)
        self._lock = threading.RLock()
        self._depth = 0
        if read_only:
            self._check_version()
        else:
            self.migrate()

    def _check_version(self) -> None:
        """A read-only store must be at this specter-desk's schema version (nothing migrates)."""
        version = self.schema_version
        if version != len(MIGRATIONS):
            self.db.conn.close()
            raise StoreError(
                f"the store {self.path} has schema version {version}, this "
                f"specter-desk reads version {len(MIGRATIONS)} only; restart specter-desk serve"
            )

    def _refuse_empty_file(self) -> None:
        """A 0-byte library.db is a store cut to nothing (a failed copy, a full disk), not a
        new one: SQLite would silently start an empty store in its place."""
        try:
            empty = self.path.stat().st_size == 0
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StoreError(f"cannot read {self.path} ({exc.strerror or exc})") from exc
        if empty:
            raise StoreError(
                f"{self.path} is an empty file (0 bytes), not a store: restore it from a "
                "backup, or delete it to start a new, empty store (then sync again); it is "
                "left as it is"
            )

    # -- transactions -----------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT; nested calls join the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self.db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._depth = 0
                self.db.conn.rollback()
                raise
            self._depth = 0
            self.db.execute("COMMIT")

    def close(self) -> None:
        """Close the connection."""
        self.db.conn.close()

    # -- schema -----------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        """The applied migration count (PRAGMA user_version)."""
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def data_version(self) -> int:
        """A number that changes whenever another connection (or process) commits."""
        return self.db.execute("PRAGMA data_version").fetchone()[0]

    def integrity_check(self) -> str:
        """SQLite's quick_check: "ok", or what is damaged."""
        return self.db.execute("PRAGMA quick_check").fetchone()[0]

    def migrate(self) -> None:
        """Apply pending migrations, each in its own transaction."""
        current = self.schema_version
        if current > len(MIGRATIONS):
            raise StoreError(
                f"the store {self.path} has schema version {current}, newer than this "
                f"specter-desk ({len(MIGRATIONS)}); upgrade specter-desk"
            )
        for number, migration in enumerate(MIGRATIONS[current:], start=current + 1):
            with self.transaction():
                migration(self.db)
                self.db.execute(f"PRAGMA user_version = {number}")

    def get_meta(self, name: str, default: str | None = None) -> str | None:
        """A value from the meta table (a pending `model use` switch, say)."""
        row = self.db.execute("SELECT value FROM meta WHERE name = ?", [name]).fetchone()
        return row[0] if row else default

    def set_meta(self, name: str, value: str) -> None:
        """Set a value in the meta table."""
        with self.transaction():
            self.db.execute(
                "INSERT INTO meta(name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                [name, value],
            )

    # -- papers -----------------------------------------------------------------------

    @staticmethod
    def _paper_row(paper: Paper) -> list[Any]:
        row = dict(paper.to_dict())
        row["deleted"] = int(paper.deleted)
        row["content_hash"] = paper.content_hash
        row["title_key"] = normalize_title(paper.title)
        for column in _JSON_COLUMNS:
            row[column] = json.dumps(row[column], ensure_ascii=False)
        return [row[c] for c in PAPER_COLUMNS]

    @staticmethod
    def _row_paper(row: sqlite3.Row | tuple, columns: Iterable[str]) -> Paper:
        data = dict(zip(columns, row, strict=True))
        for column in _JSON_COLUMNS:
            data[column] = (
                json.loads(data[column]) if data.get(column) else ({} if column == "raw" else [])
            )
        data["deleted"] = bool(data["deleted"])
        data.pop("content_hash", None)
        data.pop("title_key", None)
        return Paper(**data)

    def upsert_papers(self, papers: Iterable[Paper]) -> int:
        """Insert or replace papers by key in one transaction; returns how many."""
        rows = [self._paper_row(p) for p in papers]
        if not rows:
            return 0
        placeholders = ", ".join("?" for _ in PAPER_COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in PAPER_COLUMNS if c != "key")
        with self.transaction():
            self.db.conn.executemany(
                f"INSERT INTO papers ({', '.join(PAPER_COLUMNS)}) VALUES ({placeholders}) "
                f"ON CONFLICT(key) DO UPDATE SET {updates}",
                rows,
            )
        return len(rows)

    def mark_deleted(self, keys: Iterable[str]) -> int:
        """Flag papers as deleted (kept for undo; their vectors stay but leave the index)."""
        keys = list(keys)
        with self.transaction():
            count = 0
            for chunk in _chunks(keys, 500):
                cur = self.db.execute(
                    f"UPDATE papers SET deleted = 1 WHERE deleted = 0 AND key IN "
                    f"({', '.join('?' for _ in chunk)})",
                    chunk,
                )
                count += cur.rowcount
        return count

    def get_paper(self, key: str) -> Paper | None:
        """The paper with this key (deleted ones too), or None."""
        cur = self.db.execute(f"SELECT {', '.join(PAPER_COLUMNS)} FROM papers WHERE key = ?", [key])
        row = cur.fetchone()
        return self._row_paper(row, PAPER_COLUMNS) if row else None

    def get_papers(self, keys: Iterable[str]) -> dict[str, Paper]:
        """Papers by key (missing keys are absent from the result)."""
        found: dict[str, Paper] = {}
        for chunk in _chunks(list(keys), 500):
            cur = self.db.execute(
                f"SELECT {', '.join(PAPER_COLUMNS)} FROM papers WHERE key IN "
                f"({', '.join('?' for _ in chunk)})",
                chunk,
            )
            for row in cur:
                paper = self._row_paper(row, PAPER_COLUMNS)
                found[paper.key] = paper
        return found

    def papers(
        self,
        *,
        pool: str | None = LIBRARY_POOL,
        library: str | None = None,
        include_deleted: bool = False,
    ) -> Iterator[Paper]:
        """Iterate over papers (by key), filtered by pool and library."""
        return self._select_papers(pool=pool, library=library, include_deleted=include_deleted)

    def _select_papers(
        self,
        *,
        pool: str | None = LIBRARY_POOL,
        library: str | None = None,
        include_deleted: bool = False,
        where: str | None = None,
        params: list[Any] | None = None,
    ) -> Iterator[Paper]:
        clauses, args = [], []
        if pool is not None:
            clauses.append("pool = ?")
            args.append(pool)
        if library is not None:
            clauses.append("library = ?")
            args.append(library)
        if not include_deleted:
            clauses.append("deleted = 0")
        if where:
            clauses.append(f"({where})")
            args.extend(params or [])
        sql = f"SELECT {', '.join(PAPER_COLUMNS)} FROM papers"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY key"
        for row in self.db.execute(sql, args).fetchall():
            yield self._row_paper(row, PAPER_COLUMNS)

    def count_papers(
        self,
        *,
        pool: str | None = LIBRARY_POOL,
        include_deleted: bool = False,
        title_only: bool = False,
    ) -> int:
        """Number of papers in a pool (None: every pool); title_only: those without any text."""
        clauses, args = ["1"], []
        if pool is not None:
            clauses.append("pool = ?")
            args.append(pool)
        if not include_deleted:
            clauses.append("deleted = 0")
        if title_only:
            clauses.append("abstract = ''")
        sql = "SELECT count(*) FROM papers WHERE " + " AND ".join(clauses)
        return self.db.execute(sql, args).fetchone()[0]

    def count_deleted(self) -> int:
        """Number of papers flagged deleted (kept for undo), in every pool."""
        return self.db.execute("SELECT count(*) FROM papers WHERE deleted = 1").fetchone()[0]

    def keys_in_pool(self, pool: str) -> set[str]:
        """Keys of the live papers of a pool."""
        cur = self.db.execute("SELECT key FROM papers WHERE pool = ? AND deleted = 0", [pool])
        return {r[0] for r in cur}

    def dates_added(
        self,
        *,
        since: str | None = None,
        before: str | None = None,
        keys: Iterable[str] | None = None,
    ) -> list[tuple[str, str | None]]:
        """(key, date_added) of live papers: those of keys, or the library's added on or after
        the ISO date `since` and before `before` (and those whose date starts with a space or
        a sign, for the caller to read: an ISO date, even with a time and an offset, sorts as
        text in date order); no JSON is decoded, and the date's index finds them."""
        if keys is not None:
            found: list[tuple[str, str | None]] = []
            for chunk in _chunks(sorted(set(keys)), 500):
                found += self.db.execute(
                    "SELECT key, date_added FROM papers WHERE deleted = 0 AND key IN "
                    f"({', '.join('?' for _ in chunk)})",
                    chunk,
                ).fetchall()
            return found
        sql = "SELECT key, date_added FROM papers WHERE pool = ? AND deleted = 0"
        args: list[Any] = [LIBRARY_POOL]
        if since is not None:
            sql += " AND (date_added >= ? OR date_added < '0')"
            args.append(since)
        if before is not None:
            sql += " AND date_added < ?"
            args.append(before)
        return self.db.execute(sql, args).fetchall()

    def keys_among(
        self, keys: Iterable[str], *, pool: str | None = None, library: str | None = None
    ) -> set[str]:
        """Those of keys that are live papers (of a pool and/or a library, when given)."""
        where, args = "deleted = 0", []
        for column, value in (("pool", pool), ("library", library)):
            if value is not None:
                where += f" AND +{column} = ?"  # "+": look the keys up, not the whole pool
                args.append(value)
        found: set[str] = set()
        for chunk in _chunks(list(keys), 500):
            rows = self.db.execute(
                f"SELECT key FROM papers WHERE {where} AND key IN "
                f"({', '.join('?' for _ in chunk)})",
                [*args, *chunk],
            ).fetchall()
            found.update(r[0] for r in rows)
        return found

    def keys_outside_pool(self, pool: str, *, limit: int | None = None) -> set[str]:
        """Keys of the live papers of every other pool (at most limit of them)."""
        sql = "SELECT key FROM papers WHERE deleted = 0 AND (pool < ? OR pool > ?)"  # two ranges
        args: list[Any] = [pool, pool]
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return {r[0] for r in self.db.execute(sql, args).fetchall()}

    def keys_in_library(self, library: str) -> set[str]:
        """Keys of the live papers of a library (a Zotero library, a file, a fetched pool)."""
        cur = self.db.execute("SELECT key FROM papers WHERE library = ? AND deleted = 0", [library])
        return {r[0] for r in cur}

    def versions(self, library: str, *, include_deleted: bool = False) -> dict[str, int]:
        """{key: version} of the live (or, with include_deleted, all) papers of a library."""
        sql = "SELECT key, version FROM papers WHERE library = ?"
        if not include_deleted:
            sql += " AND deleted = 0"
        return dict(self.db.execute(sql, [library]).fetchall())

    def keys_without_abstract(self, library: str, keys: Iterable[str]) -> list[str]:
        """Those of `keys` that are live papers of a library with no abstract of their own
        (none, or an excerpt of their full text)."""
        found: list[str] = []
        for chunk in _chunks(list(keys), 500):
            found += [
                r[0]
                for r in self.db.execute(
                    "SELECT key FROM papers WHERE library = ? AND deleted = 0 AND "
                    "(abstract = '' OR text_source = 'fulltext') AND key IN "
                    f"({', '.join('?' for _ in chunk)})",
                    [library, *chunk],
                )
            ]
        return found

    def find_keys(self, column: str, value: str) -> list[str]:
        """Keys of live papers whose identifier column equals value."""
        return self.keys_by(column, [value]).get(value, [])

    def keys_by(self, column: str, values: Iterable[str]) -> dict[str, list[str]]:
        """{value: keys of live papers whose identifier column equals it} (library first)."""
        if column not in {"key", "doi", "arxiv_id", "isbn", "pmid", "title_key"}:
            raise ValueError(column)
        return self._keys_where(column, values, "pool, key")

    def _keys_where(
        self, expression: str, values: Iterable[str], order: str, limit: int | None = None
    ) -> dict[str, list[str]]:
        """{value: keys of live papers whose column or indexed expression equals it, in
        order, at most limit each}: IN lists of 500 values."""
        found: dict[str, list[str]] = {}
        for chunk in _chunks(sorted(set(values)), 500):
            rows = self.db.execute(
                f"SELECT {expression}, key FROM papers WHERE deleted = 0 AND {expression} IN "
                f"({', '.join('?' for _ in chunk)}) ORDER BY {order}",
                chunk,
            ).fetchall()
            for value, key in rows:
                keys = found.setdefault(value, [])
                if limit is None or len(keys) < limit:
                    keys.append(key)
        return found

    def keys_with_title_prefixes(
        self, prefixes: Iterable[str], limit: int = 50
    ) -> dict[str, list[str]]:
        """{prefix: keys of live papers whose title key starts with it, at most limit, in title
        key order} (range scans on its index), a statement per hundred prefixes."""
        found: dict[str, list[str]] = {}
        for chunk in _chunks(sorted({p for p in prefixes if p}), 100):
            one = (
                "SELECT * FROM (SELECT ? AS prefix, key FROM papers WHERE title_key >= ? "
                "AND title_key < ? AND deleted = 0 ORDER BY title_key, key LIMIT ?)"
            )
            args = [a for p in chunk for a in (p, p, p + "\U0010ffff", limit)]
            for prefix, key in self.db.execute(
                " UNION ALL ".join(one for _ in chunk), args
            ).fetchall():
                found.setdefault(prefix, []).append(key)
        return found

    def keys_with_title_tails(
        self, title_keys: Iterable[str], limit: int = 50
    ) -> dict[str, list[str]]:
        """{tail: keys of live papers whose title key ends like it, at most limit, by key} for
        these title keys (see TITLE_TAIL_SQL; tails under 24 characters are not looked up)."""
        tails = {t for t in map(title_tail, title_keys) if len(t) >= 24}
        return self._keys_where(TITLE_TAIL_SQL, tails, "key", limit)

    def search_titles(self, fragment: str, limit: int = 20) -> list[str]:
        """Keys of live papers whose normalised title contains the normalised fragment."""
        needle = normalize_title(fragment)
        if not needle:
            return []
        cur = self.db.execute(
            "SELECT key FROM papers WHERE deleted = 0 AND instr(title_key, ?) > 0 "
            "ORDER BY pool, length(title_key), key LIMIT ?",
            [needle, limit],
        )
        return [r[0] for r in cur]

    # -- vectors ----------------------------------------------------------------------

    _NO_CURRENT_VECTOR = (
        "NOT EXISTS (SELECT 1 FROM vectors v WHERE v.key = papers.key AND v.model = ? "
        "AND v.content_hash = papers.content_hash)"
    )

    def missing_vectors(self, model: str, *, pool: str | None = None) -> list[Paper]:
        """Live papers with no vector for model at their current content hash."""
        return list(self._select_papers(pool=pool, where=self._NO_CURRENT_VECTOR, params=[model]))

    def has_missing_vectors(self, model: str) -> bool:
        """Whether any live paper lacks a vector for model at its current content hash."""
        sql = (
            f"SELECT EXISTS (SELECT 1 FROM papers WHERE deleted = 0 AND {self._NO_CURRENT_VECTOR})"
        )
        return bool(self.db.execute(sql, [model]).fetchone()[0])

    def save_vectors(self, model: str, items: Iterable[tuple[str, str, np.ndarray]]) -> int:
        """Store (key, content_hash, vector) rows for model in one transaction."""
        rows = []
        for key, chash, vector in items:
            vec = np.ascontiguousarray(vector, dtype=np.float32)
            rows.append((key, model, chash, int(vec.shape[0]), vec.tobytes()))
        if not rows:
            return 0
        with self.transaction():
            self.db.conn.executemany(
                "INSERT INTO vectors (key, model, content_hash, dim, vector) VALUES (?,?,?,?,?) "
                "ON CONFLICT(key, model) DO UPDATE SET content_hash = excluded.content_hash, "
                "dim = excluded.dim, vector = excluded.vector",
                rows,
            )
        return len(rows)

    def vector_rows(self, model: str) -> list[tuple[str, str]]:
        """(key, content_hash) of the current vectors of live papers, sorted by key."""
        cur = self.db.execute(
            "SELECT v.key, v.content_hash FROM vectors v JOIN papers p ON p.key = v.key "
            "WHERE v.model = ? AND p.deleted = 0 AND v.content_hash = p.content_hash "
            "ORDER BY v.key",
            [model],
        )
        return cur.fetchall()

    def vectors(
        self, model: str, keys: Iterable[str] | None = None
    ) -> tuple[list[str], list[str], np.ndarray]:
        """Current vectors of live papers: (keys, content hashes, float32 matrix)."""
        base = (
            "SELECT v.key, v.content_hash, v.dim, v.vector FROM vectors v "
            "JOIN papers p ON p.key = v.key WHERE v.model = ? AND p.deleted = 0 "
            "AND v.content_hash = p.content_hash"
        )
        rows: list[tuple] = []
        if keys is None:
            rows = self.db.execute(base + " ORDER BY v.key", [model]).fetchall()
        else:
            for chunk in _chunks(list(keys), 500):
                rows += self.db.execute(
                    base + f" AND v.key IN ({', '.join('?' for _ in chunk)})", [model, *chunk]
                ).fetchall()
        if not rows:
            return [], [], np.zeros((0, 0), dtype=np.float32)
        dim = rows[0][2]
        matrix = np.empty((len(rows), dim), dtype=np.float32)
        for i, row in enumerate(rows):
            matrix[i] = np.frombuffer(row[3], dtype=np.float32)
        return [r[0] for r in rows], [r[1] for r in rows], matrix

    def vector_counts(self) -> dict[str, int]:
        """Number of current vectors per model."""
        cur = self.db.execute(
            "SELECT v.model, count(*) FROM vectors v JOIN papers p ON p.key = v.key "
            "WHERE p.deleted = 0 AND v.content_hash = p.content_hash GROUP BY v.model"
        )
        return dict(cur.fetchall())

    # -- sync state -------------------------------------------------------------------

    def sync_state(self, library: str) -> dict[str, Any]:
        """{'version', 'synced_at', 'details'} for a library (version 0 if never synced)."""
        row = self.db.execute(
            "SELECT version, synced_at, details FROM sync_state WHERE library = ?", [library]
        ).fetchone()
        if not row:
            return {"version": 0, "synced_at": None, "details": {}}
        return {"version": row[0], "synced_at": row[1], "details": json.loads(row[2] or "{}")}

    def set_sync_state(self, library: str, version: int, details: dict | None = None) -> None:
        """Record a library's synced version (call inside the page's transaction)."""
        with self.transaction():
            self.db.execute(
                "INSERT INTO sync_state (library, version, synced_at, details) VALUES (?,?,?,?) "
                "ON CONFLICT(library) DO UPDATE SET version = excluded.version, "
                "synced_at = excluded.synced_at, details = excluded.details",
                [library, int(version), now_iso(), json.dumps(details or {})],
            )

    def child_items(self, library: str) -> dict[str, tuple[int, str | None]]:
        """{key: (version, parent key)} of a library's synced non-paper items."""
        cur = self.db.execute(
            "SELECT key, version, parent FROM sync_children WHERE library = ?", [library]
        )
        return {r[0]: (r[1], r[2]) for r in cur}

    def save_child_items(
        self, library: str, rows: Iterable[tuple[str, int, str, str | None]]
    ) -> None:
        """Remember (key, version, item_type, parent) of non-paper items of a library."""
        with self.transaction():
            self.db.conn.executemany(
                "INSERT INTO sync_children (library, key, version, item_type, parent) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(library, key) DO UPDATE SET "
                "version = excluded.version, item_type = excluded.item_type, "
                "parent = excluded.parent",
                [(library, *row) for row in rows],
            )

    def forget_child_items(self, library: str, keys: Iterable[str]) -> None:
        """Drop non-paper items that were deleted in Zotero."""
        with self.transaction():
            for chunk in _chunks(list(keys), 500):
                self.db.execute(
                    f"DELETE FROM sync_children WHERE library = ? AND key IN "
                    f"({', '.join('?' for _ in chunk)})",
                    [library, *chunk],
                )

    # -- "not duplicates" -------------------------------------------------------------

    def mark_distinct(self, keys: Iterable[str], *, source: str = "user") -> int:
        """Remember every pair among keys as "not duplicates"; returns how many were new."""
        pairs = _key_pairs(keys)
        with self.transaction():
            before = self.db.execute("SELECT count(*) FROM distinct_pairs").fetchone()[0]
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO distinct_pairs (key_a, key_b, marked_at, source) "
                "VALUES (?, ?, ?, ?)",
                [(a, b, now_iso(), source) for a, b in pairs],
            )
            after = self.db.execute("SELECT count(*) FROM distinct_pairs").fetchone()[0]
        return after - before

    def unmark_distinct(self, keys: Iterable[str]) -> int:
        """Forget "not duplicates" marks among keys; returns how many were removed."""
        with self.transaction():
            removed = 0
            for a, b in _key_pairs(keys):
                cur = self.db.execute(
                    "DELETE FROM distinct_pairs WHERE key_a = ? AND key_b = ?", [a, b]
                )
                removed += cur.rowcount
        return removed

    def distinct_pairs(self, keys: Iterable[str] | None = None) -> list[tuple[str, str, str, str]]:
        """(key_a, key_b, marked_at, source) marked "not duplicates", key_a < key_b: every pair,
        or those that involve one of keys."""
        sql = "SELECT key_a, key_b, marked_at, source FROM distinct_pairs"
        if keys is None:
            return [tuple(r) for r in self.db.execute(sql + " ORDER BY key_a, key_b")]
        found: set[tuple[str, str, str, str]] = set()
        for chunk in _chunks(sorted(set(keys)), 400):
            marks = ", ".join("?" for _ in chunk)
            cur = self.db.execute(
                f"{sql} WHERE key_a IN ({marks}) OR key_b IN ({marks})", [*chunk, *chunk]
            )
            found.update(tuple(r) for r in cur)
        return sorted(found)

    def libraries(self) -> list[dict[str, Any]]:
        """Every library with its paper count and sync state."""
        cur = self.db.execute(
            "SELECT p.library, p.pool, count(*), s.version, s.synced_at FROM papers p "
            "LEFT JOIN sync_state s ON s.library = p.library WHERE p.deleted = 0 "
            "GROUP BY p.library, p.pool ORDER BY p.library"
        )
        return [
            {"library": r[0], "pool": r[1], "papers": r[2], "version": r[3], "synced_at": r[4]}
            for r in cur
        ]

    # -- feedback ---------------------------------------------------------------------

    def set_vote(self, key: str, vote: int, *, weight: float = 1.0, source: str = "user") -> None:
        """Record +1 (up) or -1 (down) for a paper, replacing an earlier vote; weight < 1 and
        a source other than "user" mark a vote inferred from what the user did in Zotero."""
        with self.transaction():
            self.db.execute(
                "INSERT INTO feedback (key, vote, voted_at, weight, source) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET vote = excluded.vote, "
                "voted_at = excluded.voted_at, weight = excluded.weight, source = excluded.source",
                [key, vote, now_iso(), float(weight), source],
            )

    def clear_vote(self, key: str) -> None:
        """Forget the vote on a paper."""
        with self.transaction():
            self.db.execute("DELETE FROM feedback WHERE key = ?", [key])

    def votes(self) -> dict[str, int]:
        """{key: +1 | -1} for every live paper with a vote."""
        cur = self.db.execute(
            # CROSS JOIN: walk the (small) feedback table, not every paper
            "SELECT f.key, f.vote FROM feedback f CROSS JOIN papers p ON p.key = f.key "
            "WHERE p.deleted = 0"
        )
        return dict(cur.fetchall())

    def vote_details(self) -> dict[str, tuple[int, float, str]]:
        """{key: (vote, weight, source)} for every live paper with a vote."""
        cur = self.db.execute(
            "SELECT f.key, f.vote, f.weight, f.source FROM feedback f "
            "CROSS JOIN papers p ON p.key = f.key WHERE p.deleted = 0"
        )
        return {r[0]: (r[1], r[2], r[3]) for r in cur}

    # -- arXiv fetches ----------------------------------------------------------------

    def save_arxiv_fetch(self, query: str, category: str, days: int, keys: list[str]) -> str:
        """Record a finished arXiv fetch (now) and the keys it brought; returns its time."""
        fetched_at = now_iso()
        with self.transaction():
            self.db.execute(
                "INSERT INTO arxiv_fetches (query, category, days, fetched_at, count, keys) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(query) DO UPDATE SET "
                "fetched_at = excluded.fetched_at, count = excluded.count, keys = excluded.keys",
                [query, category, days, fetched_at, len(keys), json.dumps(keys)],
            )
        return fetched_at

    def arxiv_fetch(self, query: str) -> dict[str, Any] | None:
        """{'fetched_at', 'count', 'keys'} of the last fetch of a query, or None."""
        row = self.db.execute(
            "SELECT fetched_at, count, keys FROM arxiv_fetches WHERE query = ?", [query]
        ).fetchone()
        if not row:
            return None
        return {"fetched_at": row[0], "count": row[1], "keys": json.loads(row[2])}

    def arxiv_fetches(self) -> list[dict[str, Any]]:
        """Every recorded arXiv fetch, newest first."""
        cur = self.db.execute(
            "SELECT category, days, fetched_at, count FROM arxiv_fetches ORDER BY fetched_at DESC"
        )
        return [{"category": r[0], "days": r[1], "fetched_at": r[2], "papers": r[3]} for r in cur]


def _key_pairs(keys: Iterable[str]) -> list[tuple[str, str]]:
    """Every pair of distinct keys, each as (smaller, larger)."""
    unique = sorted(set(keys))
    return [(a, b) for i, a in enumerate(unique) for b in unique[i + 1 :]]


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
