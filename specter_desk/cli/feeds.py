"""Commands: feeds list|add|set|remove|show|refresh|collections."""

from __future__ import annotations

import typer
from rich.table import Table

from ..services.digest import check_format
from ..services.feeds import (
    DEFAULT_LIMIT,
    DEFAULT_SINCE,
    MAX_LIMIT,
    add_feed,
    configure_feed,
    feed_url,
    get_feed,
    list_feeds,
    refresh_feed,
    refresh_feeds,
    remove_feed,
)
from ..services.seeds import collection_paths
from .app import app, console, notice, open_desk, print_json
from .core import JsonOpt, embed_with_progress, print_recommendations

feeds_app = typer.Typer(
    help="Standing recommendations per collection or tag, refreshed by the daemon after sync.",
    no_args_is_help=True,
)
app.add_typer(feeds_app, name="feeds")

SinceOpt = typer.Option(None, "--since", help="Window for recent additions (default month).")
FeedLimitOpt = typer.Option(
    None, "-n", "--limit", "-k", min=1, max=MAX_LIMIT, help="Papers per refresh (default 20)."
)


@feeds_app.command("list")
def feeds_list(json_out: bool = JsonOpt) -> None:
    """The configured feeds and when each was last refreshed."""
    feeds = list_feeds(open_desk().store)
    if json_out:
        print_json({"feeds": [f.to_dict() for f in feeds]})
        return
    if not feeds:
        notice("no feeds yet: `specter-desk feeds add --collection NAME` (or --tag, --library)")
        return
    table = Table(title="Feeds", title_justify="left")
    for column in ("id", "for", "since", "limit", "refreshed", "note"):
        table.add_column(column)
    for feed in feeds:
        target = {"collection": "collection ", "tag": "tag "}.get(feed.kind, "")
        table.add_row(
            feed.id,
            f"{target}{feed.name}",
            feed.since,
            str(feed.limit),
            feed.refreshed_at or "never",
            feed.message or "",
        )
    console.print(table)


@feeds_app.command("add")
def feeds_add(
    collection: str = typer.Option(None, "--collection", help="Name, Parent/Child path or key."),
    tag: str = typer.Option(None, "--tag", help="A tag."),
    library: bool = typer.Option(False, "--library", help="The whole library."),
    since: str = SinceOpt,
    limit: int = FeedLimitOpt,
    name: str = typer.Option(None, "--name", help="What the feed is called (default: its target)."),
    json_out: bool = JsonOpt,
) -> None:
    """Add a feed for a collection (subcollections included), a tag, or the whole library."""
    feed = add_feed(
        open_desk().store,
        collection=collection,
        tag=tag,
        whole_library=library,
        since=since or DEFAULT_SINCE,
        limit=limit or DEFAULT_LIMIT,
        name=name,
    )
    if json_out:
        print_json(feed.to_dict())
        return
    console.print(
        f"feed {feed.id}: {feed.name}, {feed.limit} papers for additions since {feed.since}; "
        "the daemon refreshes it after each sync (now: `specter-desk feeds show "
        f"{feed.id}`)"
    )


@feeds_app.command("set")
def feeds_set(
    feed_id: str = typer.Argument(..., help="The feed's id (`feeds list`)."),
    since: str = SinceOpt,
    limit: int = FeedLimitOpt,
    name: str = typer.Option(None, "--name", help="A new name."),
    new_token: bool = typer.Option(
        False, "--new-token", help="Revoke the feed's URL token and make a new one."
    ),
    json_out: bool = JsonOpt,
) -> None:
    """Change a feed's window, length or name, or revoke its token."""
    feed = configure_feed(
        open_desk().store, feed_id, since=since, limit=limit, name=name, new_token=new_token
    )
    if json_out:
        print_json(feed.to_dict())
        return
    console.print(f"feed {feed.id}: {feed.name}, {feed.limit} papers, since {feed.since}")
    if new_token:
        console.print("its old token no longer works")


@feeds_app.command("remove")
def feeds_remove(
    feed_id: str = typer.Argument(..., help="The feed's id (`feeds list`)."),
    json_out: bool = JsonOpt,
) -> None:
    """Delete a feed (its token stops working)."""
    feed = remove_feed(open_desk().store, feed_id)
    if json_out:
        print_json({"removed": feed.id})
        return
    console.print(f"removed feed {feed.id} ({feed.name})")


@feeds_app.command("show")
def feeds_show(
    feed_id: str = typer.Argument(..., help="The feed's id (`feeds list`)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json, markdown, html or atom."),
) -> None:
    """Refresh a feed now and show it."""
    fmt = check_format(fmt)
    desk = open_desk()
    feed = get_feed(desk.store, feed_id)
    embed_with_progress(desk, None, quiet=fmt != "table")
    answer = refresh_feed(desk.store, desk.index(refresh=True), feed)
    print_recommendations(desk.store, answer, fmt, feed_id=f"urn:specter-desk:feed:{feed.id}")


@feeds_app.command("url")
def feeds_url(
    feed_id: str = typer.Argument(..., help="The feed's id (`feeds list`)."),
    json_out: bool = JsonOpt,
) -> None:
    """The feed's Atom URL on the bridge: subscribe to it in Zotero (File -> New Feed)."""
    desk = open_desk()
    feed = get_feed(desk.store, feed_id)
    url = feed_url(feed, "127.0.0.1", int(desk.config.get("bridge", "port")))
    if json_out:
        print_json({"id": feed.id, "url": url})
        return
    console.print(url, soft_wrap=True, highlight=False)
    console.print(
        "Zotero: File -> New Feed -> From URL (needs `specter-desk serve` running); anyone "
        f"with this URL can read this feed only; `specter-desk feeds set {feed.id} "
        "--new-token` revokes it",
        highlight=False,
    )


@feeds_app.command("refresh")
def feeds_refresh(json_out: bool = JsonOpt) -> None:
    """Refresh every feed now (the daemon does this after each sync)."""
    desk = open_desk()
    embed_with_progress(desk, None, quiet=json_out)
    report = refresh_feeds(desk.store, desk.index(refresh=True))
    if json_out:
        print_json(report.to_dict())
        return
    for feed_id, count in report.refreshed.items():
        console.print(f"{feed_id}: {count} papers")
    for feed_id, message in report.failed.items():
        notice(f"{feed_id}: {message}")
    if report.added:
        console.print(f"{len(report.added)} served papers are in your library now: counted as up")


@feeds_app.command("collections")
def feeds_collections(json_out: bool = JsonOpt) -> None:
    """The synced Zotero collections (with their papers) and tags a feed can follow."""
    store = open_desk().store
    collections = store.collections()
    paths = collection_paths(collections)
    counts = store.collection_counts()
    rows = [
        {
            "key": c.key,
            "library": c.library,
            "path": paths[(c.library, c.key)],
            "papers": counts.get(c.key, 0),
        }
        for c in collections
    ]
    rows.sort(key=lambda r: (r["library"], r["path"].casefold(), r["key"]))
    tags = store.tag_counts()
    if json_out:
        print_json({"collections": rows, "tags": tags})
        return
    if not rows and not tags:
        notice("no collections or tags yet; sync a Zotero library first (`specter-desk sync`)")
        return
    for row in rows:
        console.print(f"{row['key']:<10} {row['path']}  ({row['papers']} papers)")
    if tags:
        console.print("tags: " + ", ".join(f"{t} ({n})" for t, n in sorted(tags.items())[:50]))
