"""Sync commands: sync (Zotero web/local/sqlite or a file), login, logout, import FILE."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from ..errors import InputError
from ..models import CANDIDATE_POOL, LIBRARY_POOL
from ..sync import default_source, parse_source, run_sync
from ..sync.credentials import delete_credentials, save_credentials
from ..sync.files import read_file
from ..sync.writer import import_papers
from .app import app, console, notice, open_desk, print_json, stage_progress

JsonOpt = typer.Option(False, "--json", help="Print JSON for scripts.")


def _check_pool(as_: str) -> None:
    if as_ not in (LIBRARY_POOL, CANDIDATE_POOL):
        raise InputError(f"--as must be {LIBRARY_POOL} or {CANDIDATE_POOL}, not {as_!r}")


@app.command("sync")
def sync_cmd(
    library: str = typer.Option(
        None,
        "--library",
        "-l",
        help="user, group:ID, local (Zotero running), sqlite (zotero.sqlite, offline) or a "
        ".bib/.ris/.json/.jsonl file. Default: the configured or logged-in Zotero library.",
    ),
    full: bool = typer.Option(False, "--full", help="Fetch every item again, not only changes."),
    no_embed: bool = typer.Option(False, "--no-embed", help="Only sync; embed later."),
    as_: str = typer.Option(LIBRARY_POOL, "--as", help="For files: library or candidates."),
    model: str = typer.Option(None, "--model", "-m", help="Embed with this model."),
    allow_shrink: bool = typer.Option(
        False,
        "--allow-shrink",
        help="For files: accept a file with no records, or one that would flag more than half "
        "of the library deleted (refused by default: an export cut short).",
    ),
    json_out: bool = JsonOpt,
) -> None:
    """Bring the store up to date with Zotero (or a file), then embed what changed."""
    _check_pool(as_)
    desk = open_desk()
    if not no_embed:
        desk.model_spec(model)  # an unknown model fails before the sync, not after it
    library = library or default_source(desk)
    if as_ != LIBRARY_POOL and parse_source(library)[0] != "file":
        raise InputError(
            "--as candidates is for files; Zotero's feed items become candidates on their own "
            "with --library sqlite"
        )
    with stage_progress(quiet=json_out) as on_progress:
        result = run_sync(
            desk,
            library,
            full=full,
            embed=not no_embed,
            on_progress=on_progress,
            pool=as_,
            model=model,
            allow_shrink=allow_shrink,
        )
    if json_out:
        print_json(result.to_dict())
        return
    console.print(
        f"synced {result.library}: {result.added} added, {result.updated} updated, "
        f"{result.deleted} deleted, {result.embedded} embedded in {result.seconds:.1f} s"
        + (f" ({result.fulltext} got text from their PDFs)" if result.fulltext else "")
        + (" (stopped early; run sync again to finish)" if result.stopped else ""),
        highlight=False,
    )
    if result.clashes:
        notice(
            f"{len(result.clashes)} keys already belong to another library and were "
            f"skipped: {', '.join(result.clashes[:10])}"
        )
    if result.skipped:
        notice(f"{len(result.skipped)} records skipped: {'; '.join(result.skipped[:5])}")


@app.command("login")
def login_cmd(
    api_key: str = typer.Option(
        None,
        "--api-key",
        help="A key with read access to your library (asked for in a terminal; or piped: "
        "`specter-desk login < keyfile`).",
    ),
    json_out: bool = JsonOpt,
) -> None:
    """Check a Zotero API key with the web API and save it (OS keyring, else a 0600 file)."""
    from ..sync.zotero_web import check_api_key

    desk = open_desk()
    api_key = api_key or _ask_api_key()
    info = check_api_key(desk.config.get("zotero", "url"), api_key)
    where = save_credentials(
        desk.paths,
        {"api_key": api_key, "user_id": str(info["userID"]), "username": info.get("username", "")},
    )
    if json_out:
        print_json(
            {"user_id": info["userID"], "username": info.get("username"), "stored_in": where}
        )
        return
    console.print(
        f"logged in as {info.get('username') or info['userID']} "
        f"(user {info['userID']}); key saved in {where}",
        highlight=False,
    )


def _ask_api_key() -> str:
    """The key typed at a prompt (in a terminal) or the first line piped in."""
    if sys.stdin.isatty():
        key = typer.prompt("Zotero API key (zotero.org/settings/keys)", hide_input=True)
    else:
        key = sys.stdin.readline()
    if not key.strip():
        raise InputError(
            "no Zotero API key given: pass --api-key KEY, pipe it in, or run `specter-desk "
            "login` in a terminal to be asked (or set ZOTERO_API_KEY and skip login); create "
            "a key at https://www.zotero.org/settings/keys"
        )
    return key.strip()


@app.command("logout")
def logout_cmd() -> None:
    """Forget the saved Zotero API key."""
    delete_credentials(open_desk().paths)
    console.print("forgot the saved Zotero API key")


@app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="A BibTeX, RIS, CSL-JSON or JSONL file."),
    as_: str = typer.Option(LIBRARY_POOL, "--as", help="library or candidates"),
    library: str = typer.Option(None, "--library", help="Library name (default: file:NAME)."),
    json_out: bool = JsonOpt,
) -> None:
    """Import papers from a BibTeX, RIS, CSL-JSON or JSONL file (keys kept; clashes reported)."""
    _check_pool(as_)
    desk = open_desk()
    name = library or f"file:{file.name}"
    read = read_file(file, library=name, pool=as_)
    result = import_papers(desk.store, read.papers)
    if as_ == LIBRARY_POOL:  # the collections its papers name (JSONL collections, BibTeX groups)
        desk.store.save_collections(name, read.collections(name))
    if json_out:
        print_json({**result.to_dict(), "format": read.format, "skipped": read.skipped})
        return
    console.print(
        f"imported {file.name} ({read.format}): {result.added} added, {result.updated} updated, "
        f"{result.unchanged} unchanged",
        highlight=False,
    )
    if result.clashes:
        notice(
            f"{len(result.clashes)} keys already belong to another library and were skipped: "
            + ", ".join(result.clashes[:10])
        )
    if read.skipped:
        notice(f"{len(read.skipped)} records skipped: {'; '.join(read.skipped[:5])}")
