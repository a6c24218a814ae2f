"""The store's citation tables: works (outside papers with their metadata), the `citations`
edge table, which work each library item or candidate is, and when each list was fetched.

Every node of the graph is a work id: an OpenAlex id ("W123") or "doi:<doi>" for a work known
only by its DOI (a Crossref reference). Library items and candidates become nodes through
`work_matches` (item key -> work id), so one edge table links library items, candidates and
outside works. Store mixes these methods in; the schema is migration 6 in store.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .models import Work, normalize_title

if TYPE_CHECKING:
    import sqlite_utils

WORK_COLUMNS = (
    "id",
    "doi",
    "pmid",
    "arxiv_id",
    "title",
    "title_key",
    "abstract",
    "year",
    "publication_date",
    "authors",
    "venue",
    "type",
    "cited_by_count",
    "references_count",
    "source",
    "fetched_at",
)
# A richer source may replace a work's metadata; a poorer one only fills a missing row.
SOURCE_RANK = {"openalex": 3, "semanticscholar": 2, "crossref": 1}
DIRECTIONS = ("references", "cited_by")


def migration_6(db: sqlite_utils.Database) -> None:
    """Citations (issue 17): works, the citation edges, item -> work matches, fetch times."""
    db.execute(
        """
        CREATE TABLE works (
            id TEXT PRIMARY KEY,
            doi TEXT, pmid TEXT, arxiv_id TEXT,
            title TEXT NOT NULL DEFAULT '',
            title_key TEXT NOT NULL DEFAULT '',
            abstract TEXT NOT NULL DEFAULT '',
            year INTEGER,
            publication_date TEXT,
            authors TEXT NOT NULL DEFAULT '[]',
            venue TEXT NOT NULL DEFAULT '',
            type TEXT NOT NULL DEFAULT '',
            cited_by_count INTEGER,
            references_count INTEGER,
            source TEXT NOT NULL,
            fetched_at TEXT NOT NULL
        )
        """
    )
    for column in ("doi", "pmid", "title_key", "publication_date"):
        db.execute(f"CREATE INDEX idx_works_{column} ON works({column})")
    db.execute(
        """
        CREATE TABLE citations (
            citing TEXT NOT NULL,
            cited TEXT NOT NULL,
            source TEXT NOT NULL,
            fetched_at TEXT NOT NULL,
            PRIMARY KEY (citing, cited, source)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX idx_citations_cited ON citations(cited, citing)")
    db.execute(
        """
        CREATE TABLE work_matches (
            key TEXT PRIMARY KEY REFERENCES papers(key) ON DELETE CASCADE,
            work TEXT,
            matched_by TEXT NOT NULL,
            basis TEXT NOT NULL DEFAULT '',
            checked_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX idx_work_matches_work ON work_matches(work)")
    db.execute(
        """
        CREATE TABLE citation_fetches (
            work TEXT NOT NULL,
            direction TEXT NOT NULL CHECK (direction IN ('references', 'cited_by')),
            source TEXT NOT NULL,
            fetched_at TEXT NOT NULL,
            count INTEGER NOT NULL DEFAULT 0,
            total INTEGER,
            PRIMARY KEY (work, direction, source)
        )
        """
    )


def _marks(items: list) -> str:
    return ", ".join("?" for _ in items)


def _chunks(items: list, size: int = 500) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class CitationTables:
    """Store methods for the citation tables (mixed into Store; uses its db and transaction)."""

    db: Any

    def transaction(self) -> Any:  # provided by Store
        raise NotImplementedError

    # -- works --------------------------------------------------------------------------

    def upsert_works(self, works: Iterable[Work], fetched_at: str) -> int:
        """Insert works, or update them from a source at least as rich; returns how many."""
        rows = []
        for work in works:
            refs = work.references
            rows.append(
                [
                    work.id,
                    work.doi,
                    work.pmid,
                    work.arxiv_id,
                    work.title,
                    normalize_title(work.title),
                    work.abstract,
                    work.year,
                    work.publication_date,
                    json.dumps(work.authors, ensure_ascii=False),
                    work.venue,
                    work.type,
                    work.cited_by_count,
                    len(refs) if refs is not None else None,
                    work.source,
                    fetched_at,
                ]
            )
        if not rows:
            return 0
        updates = ", ".join(
            f"{c} = excluded.{c}"
            if c != "references_count"
            else "references_count = coalesce(excluded.references_count, works.references_count)"
            for c in WORK_COLUMNS
            if c != "id"
        )
        rank = " ".join(f"WHEN '{name}' THEN {value}" for name, value in SOURCE_RANK.items())
        with self.transaction():
            self.db.conn.executemany(
                f"INSERT INTO works ({', '.join(WORK_COLUMNS)}) VALUES ({_marks(rows[0])}) "
                f"ON CONFLICT(id) DO UPDATE SET {updates} "
                f"WHERE (CASE excluded.source {rank} ELSE 0 END) >= "
                f"(CASE works.source {rank} ELSE 0 END)",
                rows,
            )
        return len(rows)

    def get_works(self, ids: Iterable[str]) -> dict[str, Work]:
        """Works by id (unknown ids are absent; `references` is left None)."""
        found: dict[str, Work] = {}
        columns = [c for c in WORK_COLUMNS if c not in ("title_key", "references_count")]
        for chunk in _chunks(list(dict.fromkeys(ids))):
            cur = self.db.execute(
                f"SELECT {', '.join(columns)} FROM works WHERE id IN ({_marks(chunk)})", chunk
            )
            for row in cur:
                data = dict(zip(columns, row, strict=True))
                data["authors"] = json.loads(data["authors"] or "[]")
                data.pop("fetched_at")
                found[data["id"]] = Work(**data)
        return found

    def work_ids_with(self, column: str, values: Iterable[str]) -> dict[str, str]:
        """{value: work id} for works whose doi, pmid or title_key equals a value."""
        if column not in ("doi", "pmid", "title_key"):
            raise ValueError(column)
        found: dict[str, str] = {}
        for chunk in _chunks([v for v in dict.fromkeys(values) if v]):
            cur = self.db.execute(
                f"SELECT {column}, id FROM works WHERE {column} IN ({_marks(chunk)}) "
                "ORDER BY CASE WHEN id LIKE 'W%' THEN 0 ELSE 1 END DESC, id DESC",
                chunk,
            )
            found.update(dict(cur.fetchall()))  # the last row wins: OpenAlex ids first
        return found

    def unknown_works(self, ids: Iterable[str]) -> list[str]:
        """The ids among these that have no works row yet."""
        ids = list(dict.fromkeys(ids))
        known: set[str] = set()
        for chunk in _chunks(ids):
            cur = self.db.execute(f"SELECT id FROM works WHERE id IN ({_marks(chunk)})", chunk)
            known.update(r[0] for r in cur)
        return [i for i in ids if i not in known]

    def works_published_since(self, day: str, ids: Iterable[str]) -> set[str]:
        """The ids among these whose publication date is on or after day (YYYY-MM-DD)."""
        found: set[str] = set()
        for chunk in _chunks(list(dict.fromkeys(ids))):
            cur = self.db.execute(
                f"SELECT id FROM works WHERE publication_date >= ? AND id IN ({_marks(chunk)})",
                [day, *chunk],
            )
            found.update(r[0] for r in cur)
        return found

    def merge_work(self, old: str, new: str) -> None:
        """Fold a placeholder work (doi:...) into the work it turned out to be."""
        if old == new:
            return
        with self.transaction():
            for column in ("citing", "cited"):
                self.db.execute(
                    f"INSERT OR IGNORE INTO citations (citing, cited, source, fetched_at) "
                    f"SELECT {'?' if column == 'citing' else 'citing'}, "
                    f"{'?' if column == 'cited' else 'cited'}, source, fetched_at "
                    f"FROM citations WHERE {column} = ?",
                    [new, old],
                )
                self.db.execute(f"DELETE FROM citations WHERE {column} = ?", [old])
            self.db.execute("UPDATE work_matches SET work = ? WHERE work = ?", [new, old])
            self.db.execute(
                "INSERT OR IGNORE INTO citation_fetches "
                "SELECT ?, direction, source, fetched_at, count, total FROM citation_fetches "
                "WHERE work = ?",
                [new, old],
            )
            self.db.execute("DELETE FROM citation_fetches WHERE work = ?", [old])
            self.db.execute("DELETE FROM works WHERE id = ?", [old])

    # -- edges --------------------------------------------------------------------------

    def set_references(
        self, citing: str, cited: Iterable[str], source: str, fetched_at: str
    ) -> int:
        """Replace what `citing` cites according to `source`; returns the edge count."""
        cited = [c for c in dict.fromkeys(cited) if c and c != citing]
        with self.transaction():
            self.db.execute(
                "DELETE FROM citations WHERE citing = ? AND source = ?", [citing, source]
            )
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO citations (citing, cited, source, fetched_at) "
                "VALUES (?, ?, ?, ?)",
                [(citing, c, source, fetched_at) for c in cited],
            )
        return len(cited)

    def add_citations(self, edges: Iterable[tuple[str, str]], source: str, fetched_at: str) -> int:
        """Add (citing, cited) edges (kept: those already stored); returns how many were new."""
        rows = [(a, b, source, fetched_at) for a, b in edges if a and b and a != b]
        if not rows:
            return 0
        with self.transaction():
            before = self.db.conn.total_changes
            self.db.conn.executemany(
                "INSERT INTO citations (citing, cited, source, fetched_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO UPDATE SET fetched_at = excluded.fetched_at",
                rows,
            )
            return self.db.conn.total_changes - before

    def citation_edges(
        self, ids: Iterable[str], *, ends: str = "both", citing_in_store: bool = False
    ) -> list[tuple[str, str]]:
        """Distinct (citing, cited) edges (any source) whose citing end ("citing"), cited end
        ("cited") or either end ("both") is among ids; with citing_in_store, only edges whose
        citing work is a paper of the store (library or candidates)."""
        columns = {"citing": ("citing",), "cited": ("cited",), "both": ("citing", "cited")}[ends]
        only = (
            " AND EXISTS (SELECT 1 FROM work_matches m WHERE m.work = c.citing)"
            if citing_in_store
            else ""
        )
        edges: set[tuple[str, str]] = set()
        for chunk in _chunks(list(dict.fromkeys(ids))):
            for column in columns:
                sql = (
                    f"SELECT c.citing, c.cited FROM citations c "
                    f"WHERE c.{column} IN ({_marks(chunk)}){only}"
                )
                edges.update(self.db.execute(sql, chunk).fetchall())
        return list(edges)

    def citation_degrees(self, ids: Iterable[str]) -> dict[str, tuple[int, int]]:
        """{work: (how many works it cites, how many stored works cite it)}."""
        ids = list(dict.fromkeys(ids))
        refs: dict[str, int] = {}
        citers: dict[str, int] = {}
        for chunk in _chunks(ids):
            marks = _marks(chunk)
            refs.update(
                self.db.execute(
                    f"SELECT citing, count(DISTINCT cited) FROM citations "
                    f"WHERE citing IN ({marks}) GROUP BY citing",
                    chunk,
                ).fetchall()
            )
            citers.update(
                self.db.execute(
                    f"SELECT cited, count(DISTINCT citing) FROM citations "
                    f"WHERE cited IN ({marks}) GROUP BY cited",
                    chunk,
                ).fetchall()
            )
        return {i: (refs.get(i, 0), citers.get(i, 0)) for i in ids}

    # -- item -> work matches -------------------------------------------------------------

    def set_matches(
        self, rows: Iterable[tuple[str, str | None, str, str]], checked_at: str
    ) -> None:
        """Record (key, work or None, matched_by, basis) for items that were looked up."""
        with self.transaction():
            self.db.conn.executemany(
                "INSERT INTO work_matches (key, work, matched_by, basis, checked_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET work = excluded.work, "
                "matched_by = excluded.matched_by, basis = excluded.basis, "
                "checked_at = excluded.checked_at",
                [(*row, checked_at) for row in rows],
            )

    def work_matches(self, keys: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """{key: {work, matched_by, basis, checked_at}} for items that were looked up."""
        sql = "SELECT key, work, matched_by, basis, checked_at FROM work_matches"
        rows: list[tuple] = []
        if keys is None:
            rows = self.db.execute(sql).fetchall()
        else:
            for chunk in _chunks(list(dict.fromkeys(keys))):
                rows += self.db.execute(f"{sql} WHERE key IN ({_marks(chunk)})", chunk).fetchall()
        return {
            r[0]: {"work": r[1], "matched_by": r[2], "basis": r[3], "checked_at": r[4]}
            for r in rows
        }

    def keys_for_works(self, works: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
        """{work: [(key, pool), ...]} of live papers matched to these works, library first."""
        found: dict[str, list[tuple[str, str]]] = {}
        for chunk in _chunks(list(dict.fromkeys(works))):
            cur = self.db.execute(
                "SELECT m.work, p.key, p.pool FROM work_matches m JOIN papers p ON p.key = m.key "
                f"WHERE p.deleted = 0 AND m.work IN ({_marks(chunk)}) "
                "ORDER BY CASE p.pool WHEN 'library' THEN 0 ELSE 1 END, p.key",
                chunk,
            )
            for work, key, pool in cur:
                found.setdefault(work, []).append((key, pool))
        return found

    def matched_works(self, pool: str | None = None) -> dict[str, str]:
        """{key: work} of live papers (of one pool, or all) matched to a work."""
        sql = (
            "SELECT m.key, m.work FROM work_matches m JOIN papers p ON p.key = m.key "
            "WHERE p.deleted = 0 AND m.work IS NOT NULL"
        )
        args: list[Any] = []
        if pool is not None:
            sql += " AND p.pool = ?"
            args.append(pool)
        return dict(self.db.execute(sql + " ORDER BY m.key", args).fetchall())

    # -- fetch times --------------------------------------------------------------------

    def record_citation_fetch(
        self,
        work: str,
        direction: str,
        source: str,
        fetched_at: str,
        count: int,
        total: int | None = None,
    ) -> None:
        """Remember that a work's references or citing works were fetched from a source."""
        if direction not in DIRECTIONS:
            raise ValueError(direction)
        with self.transaction():
            self.db.execute(
                "INSERT INTO citation_fetches (work, direction, source, fetched_at, count, total) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(work, direction, source) DO UPDATE SET "
                "fetched_at = excluded.fetched_at, count = excluded.count, total = excluded.total",
                [work, direction, source, fetched_at, count, total],
            )

    def citation_fetches(
        self, works: Iterable[str], direction: str
    ) -> dict[str, dict[str, dict[str, Any]]]:
        """{work: {source: {fetched_at, count, total}}} for one direction."""
        found: dict[str, dict[str, dict[str, Any]]] = {}
        for chunk in _chunks(list(dict.fromkeys(works))):
            cur = self.db.execute(
                "SELECT work, source, fetched_at, count, total FROM citation_fetches "
                f"WHERE direction = ? AND work IN ({_marks(chunk)})",
                [direction, *chunk],
            )
            for work, source, fetched_at, count, total in cur:
                found.setdefault(work, {})[source] = {
                    "fetched_at": fetched_at,
                    "count": count,
                    "total": total,
                }
        return found

    def citation_counts(self) -> dict[str, Any]:
        """Totals for `citations status`: works, edges per source, matches per method."""
        edges = dict(
            self.db.execute("SELECT source, count(*) FROM citations GROUP BY source").fetchall()
        )
        matches = dict(
            self.db.execute(
                "SELECT m.matched_by, count(*) FROM work_matches m JOIN papers p ON p.key = m.key "
                "WHERE p.deleted = 0 GROUP BY m.matched_by"
            ).fetchall()
        )
        last = self.db.execute("SELECT max(fetched_at) FROM citation_fetches").fetchone()[0]
        return {
            "works": self.db.execute("SELECT count(*) FROM works").fetchone()[0],
            "edges": edges,
            "matches": matches,
            "last_fetch": last,
        }
