"""Zotero's local API sync (http://localhost:23119/api/users/0/...): no key, Zotero running.

Each sync lists `{key: version}` of the items outside the trash and of the trash (two
requests: the local API has no `/deleted`), fetches the items whose version differs from the
store in batches of 50 (one transaction each) and the trash once when something moved into
it, and flags keys Zotero no longer has. What Zotero 10.0 does, checked against the running
app (tests/real_zotero):

- versions are its local `clientVersion`, bumped once per transaction on every save, restore
  or erase, so an edit shows up as a new version;
- moving an item to the trash bumps neither the item's nor the library's version, which is
  why the trash is listed every time rather than trusted to a version or a 304; and
  `itemKey=` never returns an item in the trash, so trashed items come from the trash listing;
- versions belong to one database, named by the `Zotero-Server-ID` header: another id (or a
  library version lower than the last one seen: a restored backup) means compare everything.

Zotero 7-9 send no `Zotero-Server-ID` and report *synced* versions there, which local edits
do not change: with them every item is fetched and the page writer skips unchanged papers.
Text for items without an abstract comes from the `.zotero-ft-cache` file Zotero writes next
to each indexed PDF in its storage folder; it is looked for on every sync, since Zotero may
index a PDF long after the item was synced.
"""

from __future__ import annotations

from pathlib import Path

from pyzotero import errors as ze

from .context import SyncContext
from .fulltext import excerpt, read_ft_cache
from .writer import PageWriter
from .zotero_collections import sync_collections
from .zotero_web import BATCH, ZoteroClient, fetch_items, known_versions, split_items


def zotero_data_dir(sqlite_path: str) -> Path:
    """Zotero's data directory: the folder of zotero.sqlite (config), else ~/Zotero."""
    if sqlite_path:
        return Path(sqlite_path).expanduser().parent
    return Path.home() / "Zotero"


def _listing(client: ZoteroClient) -> tuple[dict[str, int], dict[str, int]]:
    """({key: version} outside the trash, {key: version} in the trash)."""
    live = client.call(client.item_versions)
    trashed = client.call(client.trash, format="versions", limit=None)
    return live, trashed


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
    new_database = False
    ctx.report("checking for changes", 0, 0)
    try:
        live, trashed = _listing(client)
    except Exception as exc:
        if not isinstance(exc.__cause__, ze.ServerIDMismatchError):
            raise
        # Another Zotero database answers: its versions mean nothing against ours.
        client.server_id, new_database = None, True
        live, trashed = _listing(client)
    library_version = client.last_version
    local_versions = bool(client.server_id)  # Zotero 10+: versions move with local edits
    if library_version < int(state["version"] or 0):
        new_database = True  # the same database, older: restored from a backup
    stored, parents = known_versions(ctx.store, writer.library)
    in_library = set(ctx.store.versions(writer.library))
    in_trash = set(ctx.store.versions(writer.library, include_deleted=True)) - in_library
    # --full, another database or Zotero 7-9: compare everything (unchanged papers are still
    # not rewritten by the page writer)
    known = stored if local_versions and not (ctx.full or new_database) else {}
    current = {**live, **trashed}
    # `itemKey=` never returns items in the trash (Zotero 10.0), so those come from one
    # listing of the trash, and only when one of them is new to the store or newly trashed
    # (Zotero 10.0 keeps an item's version when it moves it to the trash).
    changed = sorted(k for k, v in live.items() if known.get(k) != v or k in in_trash)
    newly_trashed = {k for k, v in trashed.items() if known.get(k) != v or k in in_library}
    gone = set(stored) - set(current)
    pending: tuple[list, list] = ([], [])  # the last page, committed with the sync state
    for start in range(0, len(changed), BATCH):
        ctx.check_stop()
        papers, children = split_items(
            fetch_items(client, changed[start : start + BATCH]), writer.library
        )
        parents.update((key, parent) for key, _, _, parent in children if parent)
        if start + BATCH >= len(changed):
            pending = (papers, children)
            break
        writer.write(papers, children=children)
        ctx.report("fetching items", start + BATCH, len(changed))
    if newly_trashed:
        in_the_trash = client.call(client.trash, limit=None)
        papers, children = split_items(
            [i for i in in_the_trash if i.get("key") in newly_trashed], writer.library
        )
        parents.update((key, parent) for key, _, _, parent in children if parent)
        pending = (pending[0] + papers, pending[1] + children)
    texts = _fulltext(ctx, writer.library, storage_dir, parents, pending[0], gone)
    changed_library = not known or library_version != int(state["version"] or 0)
    collections = sync_collections(
        ctx.store, client, writer.library, pending[0], library_changed=changed_library
    )
    writer.write(
        pending[0],
        children=pending[1],
        deleted_keys=gone,
        fulltext=texts,
        collections=collections,
        state=(library_version, {"server_id": client.server_id}),
    )
    ctx.report("fetching items", len(changed), len(changed))


def _fulltext(
    ctx: SyncContext,
    library: str,
    storage_dir: Path,
    parents: dict[str, str],
    pending: list,
    gone: set[str],
) -> dict[str, str]:
    """{paper key: excerpt} from the .zotero-ft-cache of an attachment, for the papers (stored,
    or in the pending last page) that have no abstract of their own."""
    attachments: dict[str, list[str]] = {}
    for child, parent in sorted(parents.items()):
        if child not in gone:
            attachments.setdefault(parent, []).append(child)
    papers = ctx.store.get_papers(ctx.store.keys_without_abstract(library, attachments))
    papers.update((p.key, p) for p in pending if p.key in attachments)
    texts = {}
    for key, paper in papers.items():
        if paper.deleted or (paper.abstract and paper.text_source != "fulltext"):
            continue
        for attachment in attachments[key]:
            text = read_ft_cache(storage_dir, attachment)
            if text:
                texts[key] = excerpt(paper.title, text)
                break
    return texts
