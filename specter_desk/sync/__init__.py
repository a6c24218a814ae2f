"""Sync sources: Zotero (web, local API, zotero.sqlite) and bibliography files.

`run_sync(desk, source)` is the one entry point (CLI and daemon): it picks the source,
writes pages through a PageWriter (one transaction each, library version last), then embeds
only new or changed papers and refreshes the index.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SyncError, SyncFileError
from ..models import LIBRARY_POOL
from .context import Progress, SyncContext
from .files import FileRead
from .writer import PageWriter, Stopped

if TYPE_CHECKING:
    from ..desk import Desk


@dataclass
class SyncResult:
    """What a sync did."""

    library: str
    added: int = 0
    updated: int = 0
    deleted: int = 0
    embedded: int = 0
    seconds: float = 0.0
    unchanged: int = 0
    fulltext: int = 0
    requests: int = 0
    clashes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    stopped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- sources ----------------------------------------------------------------------------

SourceFn = Callable[[SyncContext, str], None]
SOURCES: dict[str, SourceFn] = {}


def register_source(kind: str, func: SourceFn) -> None:
    """Register a sync source kind ("user", "group", "local", "sqlite", "file", or a test's)."""
    SOURCES[kind] = func


def _web_settings(desk: Desk) -> tuple[str, str, str]:
    from .credentials import load_credentials

    zotero = desk.config.values["zotero"]
    saved = load_credentials(desk.paths)
    api_key = zotero.get("api_key") or saved.get("api_key") or ""
    user_id = str(zotero.get("library_id") or saved.get("user_id") or "")
    return api_key, user_id, zotero["url"]


def configured_source(desk: Desk) -> str | None:
    """The configured library: zotero.source when set (by `setup`), else the configured group,
    else the user library when a key is known (config, env or `login`), else zotero.sqlite
    when configured; None otherwise."""
    zotero = desk.config.values["zotero"]
    if zotero.get("source"):
        return str(zotero["source"])
    if zotero.get("library_type") == "group" and str(zotero.get("library_id")).isdigit():
        return f"group:{zotero['library_id']}"
    api_key, user_id, _ = _web_settings(desk)
    if api_key and user_id:
        return "user"
    if zotero.get("sqlite_path"):
        return "sqlite"
    return None


def default_source(desk: Desk) -> str:
    """The library `sync` uses without --library: the configured one, else "user" (which then
    explains how to log in)."""
    return configured_source(desk) or "user"


def _sync_user(ctx: SyncContext, arg: str) -> None:
    from .zotero_web import sync_web

    api_key, user_id, url = _web_settings(ctx.desk)
    if not api_key or not user_id:
        raise SyncError(
            "no Zotero API key: run `specter-desk login` (or set ZOTERO_API_KEY and "
            "zotero.library_id), or sync from the running Zotero app with --library local"
        )
    sync_web(ctx, library_type="user", library_id=user_id, api_key=api_key, endpoint=url)


def _sync_group(ctx: SyncContext, arg: str) -> None:
    from .zotero_web import sync_web

    api_key, _, url = _web_settings(ctx.desk)
    sync_web(ctx, library_type="group", library_id=arg, api_key=api_key or None, endpoint=url)


def _sync_local(ctx: SyncContext, arg: str) -> None:
    from .zotero_local import sync_local, zotero_data_dir

    zotero = ctx.desk.config.values["zotero"]
    storage = zotero_data_dir(zotero.get("sqlite_path") or "") / "storage"
    sync_local(ctx, local_url=zotero["local_url"], storage_dir=storage)


def _sync_sqlite(ctx: SyncContext, arg: str) -> None:
    from .zotero_local import zotero_data_dir
    from .zotero_sqlite import sync_sqlite

    configured = ctx.desk.config.values["zotero"].get("sqlite_path") or ""
    path = Path(configured).expanduser() if configured else (zotero_data_dir("") / "zotero.sqlite")
    sync_sqlite(ctx, path=path)


def _sync_file(ctx: SyncContext, arg: str) -> None:
    from .files import read_file

    read = read_file(Path(arg), library=ctx.writer.library, pool=ctx.pool)
    if not ctx.allow_shrink:
        check_shrink(arg, read, set(ctx.store.versions(ctx.writer.library)))
    ctx.skipped = read.skipped
    ctx.writer.write_library(
        read.papers,
        {"format": read.format},
        check_stop=ctx.check_stop,
        report=ctx.report,
        stage="writing papers",
        collections=read.collections(ctx.writer.library),
    )


def check_shrink(path: str, read: FileRead, live: set[str]) -> None:
    """SyncFileError when a file has no records, or would flag more than half of the papers
    its library has deleted: an empty or half-written export, not a smaller library."""
    if not read.papers:
        raise SyncFileError(
            f"{path} is empty (no records)"
            + (
                f": syncing it would flag all {len(live)} papers of its library deleted"
                if live
                else ""
            )
            + "; pass --allow-shrink if that is what you mean"
        )
    gone = live - {p.key for p in read.papers}
    if len(gone) > len(live) / 2:
        raise SyncFileError(
            f"{path} would flag {len(gone)} of the {len(live)} papers of its library deleted "
            f"(it has {len(read.papers)} records; was the export cut short?); pass "
            "--allow-shrink if that is what you mean"
        )


for _kind, _func in {
    "user": _sync_user,
    "group": _sync_group,
    "local": _sync_local,
    "sqlite": _sync_sqlite,
    "file": _sync_file,
}.items():
    register_source(_kind, _func)


def parse_source(source: str) -> tuple[str, str, str]:
    """(kind, argument, library name) for "user", "group:ID", "local", "sqlite" or a file."""
    source = (source or "").strip()
    if source in SOURCES and source not in ("group", "file"):
        return source, "", source
    if source.startswith("group:"):
        group = source.split(":", 1)[1]
        if not group.isdigit():
            raise SyncError(f"group libraries are named group:ID with a numeric id, not {source!r}")
        return "group", group, source
    path = Path(source.removeprefix("file:")).expanduser()
    if path.suffix or path.exists():
        if not path.is_file():
            raise SyncFileError(f"{path}: no such file")
        return "file", str(path), f"file:{path.name}"
    raise SyncError(
        f"unknown library {source!r}: use user, group:ID, local, sqlite or a .bib/.ris/.json/"
        ".jsonl file"
    )


def run_sync(
    desk: Desk,
    source: str,
    *,
    full: bool = False,
    embed: bool = True,
    on_progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    pool: str = LIBRARY_POOL,
    model: str | None = None,
    allow_shrink: bool = False,
) -> SyncResult:
    """Sync one source into the desk's store, then embed what changed (see module doc);
    allow_shrink: a file may flag more than half of its library deleted (see check_shrink)."""
    started = time.perf_counter()
    kind, arg, library = parse_source(source)
    if kind == "user":
        _, user_id, _ = _web_settings(desk)
        library = f"user:{user_id}" if user_id else "user"
    report = on_progress or (lambda message, done, total: None)
    stop = should_stop or (lambda: False)
    ctx = SyncContext(
        desk,
        PageWriter(desk.store, library),
        full,
        report,
        stop,
        pool=pool,
        allow_shrink=allow_shrink,
    )
    stopped = False
    try:
        SOURCES[kind](ctx, arg)
    except Stopped:
        stopped = True
    counts = [ctx.writer.counts, *ctx.extra]
    result = SyncResult(
        library=library,
        added=sum(c.added for c in counts),
        updated=sum(c.updated for c in counts),
        deleted=sum(c.deleted for c in counts),
        unchanged=sum(c.unchanged for c in counts),
        fulltext=sum(c.fulltext for c in counts),
        clashes=[k for c in counts for k in c.clashes],
        skipped=list(ctx.skipped),
        requests=ctx.client.requests if ctx.client is not None else 0,
        stopped=stopped,
    )
    if embed and not stopped:
        stage = f"embedding ({desk.model_spec(model).name})"
        result.embedded = desk.embed_missing(
            model, on_progress=lambda done, total: report(stage, done, total), should_stop=stop
        ).embedded
    result.seconds = round(time.perf_counter() - started, 3)
    return result
