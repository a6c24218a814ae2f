"""Zotero 7 local API sync (http://localhost:23119/api/users/0/...): no key, Zotero running.

The local API has no `/deleted`, no `Last-Modified-Version` and no paging, so every sync
reads the full `{key: version}` map (one request), fetches only keys whose version differs
from the store in batches of 50 (one transaction each), and flags keys Zotero no longer has.
Local versions belong to one Zotero database (its `Zotero-Server-ID`): when that id changes,
the next sync compares everything again. Text for items without an abstract comes from the
`.zotero-ft-cache` file Zotero writes next to each indexed PDF in its storage folder.
"""

from __future__ import annotations

from pathlib import Path

from pyzotero import errors as ze

from .context import SyncContext
from .fulltext import excerpt, read_ft_cache
from .writer import PageWriter
from .zotero_web import BATCH, ZoteroClient, fetch_items, known_versions, split_items


def zotero_data_dir(sqlite_path: str) -> Path:
    """Zotero's data directory: the folder of zotero.sqlite (config), else ~/Zotero."""
    if sqlite_path:
        return Path(sqlite_path).expanduser().parent
    return Path.home() / "Zotero"


def sync_local(ctx: SyncContext, *, local_url: str, storage_dir: Path) -> None:
    """Sync the local Zotero library through the local API into ctx.writer."""
    client = ZoteroClient(
        "0",
        "user",
        None,
        endpoint=f"{local_url.rstrip('/')}/api",
        local=True,
        on_wait=ctx.on_wait,
        should_stop=ctx.should_stop,
    )
    ctx.client = client
    writer: PageWriter = ctx.writer
    state = ctx.store.sync_state(writer.library)
    client.server_id = None if ctx.full else state["details"].get("server_id")
    mismatch = False
    ctx.report("checking for changes", 0, 0)
    try:
        versions = client.call(client.item_versions, includeTrashed=1)
    except Exception as exc:
        if not isinstance(exc.__cause__, ze.ServerIDMismatchError):
            raise
        # Another Zotero database answers: its versions mean nothing against ours.
        client.server_id, mismatch = None, True
        versions = client.call(client.item_versions, includeTrashed=1)
    stored, _ = known_versions(ctx.store, writer.library)
    # --full or a new database: compare everything (unchanged papers are still not rewritten)
    known = {} if ctx.full or mismatch else stored
    changed = sorted(k for k, v in versions.items() if known.get(k) != v)
    gone = set(stored) - set(versions)
    texts: dict[str, str] = {}
    pending: tuple[list, list] = ([], [])  # the last page, committed with the sync state
    for start in range(0, len(changed), BATCH):
        ctx.check_stop()
        papers, children = split_items(
            fetch_items(client, changed[start : start + BATCH]), writer.library
        )
        for key, _, item_type, parent in children:
            text = read_ft_cache(storage_dir, key) if item_type == "attachment" and parent else None
            if text:
                texts.setdefault(parent, text)
        if start + BATCH >= len(changed):
            pending = (papers, children)
            break
        writer.write(papers, children=children)
        ctx.report("fetching items", start + BATCH, len(changed))
    titles = {k: p.title for k, p in ctx.store.get_papers(texts).items()}
    titles.update((p.key, p.title) for p in pending[0] if p.key in texts)
    excerpts = {k: excerpt(titles[k], t) for k, t in texts.items() if k in titles}
    writer.write(
        pending[0],
        children=pending[1],
        deleted_keys=gone,
        fulltext=excerpts,
        state=(0, {"server_id": client.server_id}),
    )
    ctx.report("fetching items", len(changed), len(changed))
