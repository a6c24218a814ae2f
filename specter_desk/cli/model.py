"""Model commands: model download | list | use | remove (and `models`, the same list)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from ..embed.installed import download_model, install_from_folder, locate, remove_model
from ..embed.registry import MODELS, get_model
from ..server.client import request_sync
from ..switch import advance_switch, cancel_switch, pending_switch, request_switch
from .app import app, console, notice, open_desk, print_json, progress_bar

model_app = typer.Typer(
    help="Download, list, switch and remove embedding models.", no_args_is_help=True
)
app.add_typer(model_app, name="model")
JsonOpt = typer.Option(False, "--json", help="Print JSON for scripts.")
NameArg = typer.Argument(..., help="A model name (see `specter-desk model list`).")


def human_size(size: int | None) -> str:
    if size is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def model_rows() -> list[dict]:
    """Every known model: installed (where), size on disk, dimension, active."""
    desk = open_desk()
    active = desk.active_model
    pending = pending_switch(desk)
    rows = []
    for spec in MODELS.values():
        files = locate(desk.paths, spec, desk.configured_path(spec.name))
        rows.append(
            {
                "name": spec.name,
                "installed": files.installed,
                "where": files.where,
                "path": files.path,
                "size_bytes": files.size_bytes if files.installed else None,
                "dim": files.dim,
                "active": spec.name == active,
                "switching_to": pending is not None and pending.model == spec.name,
                "installs_with": spec.install_name,
                "source": spec.source,
                "description": spec.description,
            }
        )
    return rows


def render_models(json_out: bool) -> None:
    rows = model_rows()
    if json_out:
        print_json(rows)
        return
    table = Table(title_justify="left")
    for column in ("", "model", "installed", "size", "dim", "what"):
        table.add_column(column, justify="right" if column in ("size", "dim") else "left")
    for row in rows:
        marker = "*" if row["active"] else (">" if row["switching_to"] else "")
        where = row["where"] if row["installed"] else Text("no", style="dim")
        if not row["installed"] and row["installs_with"] != row["name"]:
            where = Text(f"with {row['installs_with']}", style="dim")
        table.add_row(
            marker,
            row["name"],
            where,
            human_size(row["size_bytes"]),
            str(row["dim"] or "-"),
            row["description"],
        )
    console.print(table)
    console.print(
        Text(
            "* active model, > being switched to. Get one with `specter-desk model download "
            "NAME`, switch with `specter-desk model use NAME`.",
            style="dim",
        )
    )


@model_app.command("list")
def model_list(json_out: bool = JsonOpt) -> None:
    """The models: installed or not, size on disk, dimension, which one is active."""
    render_models(json_out)


@app.command("models")
def models_cmd(json_out: bool = JsonOpt) -> None:
    """The models specter-desk knows (the same list as `specter-desk model list`)."""
    render_models(json_out)


@model_app.command("download")
def model_download(
    name: str = NameArg,
    from_: Path = typer.Option(
        None,
        "--from",
        help="Install from a local copy instead (no network): a folder made by `model "
        "download`, a Hugging Face cache, or model folders from `huggingface-cli download`.",
    ),
    json_out: bool = JsonOpt,
) -> None:
    """Download a model from the Hugging Face hub (resumable, every file verified)."""
    desk = open_desk()
    spec = get_model(name)
    if spec.install_name != spec.name:
        notice(f"{spec.name} comes with {spec.install_name}: installing {spec.install_name}")
    verb = "copying" if from_ else "downloading"
    with progress_bar(f"{verb} {spec.install_name}", quiet=json_out, unit="bytes") as bar:
        if from_:
            result = install_from_folder(desk.paths, spec.name, from_, bar)
        else:
            result = download_model(desk.paths, spec.name, bar)
    if json_out:
        print_json(result.to_dict())
        return
    what = "already installed" if result.already else "installed"
    console.print(
        f"{result.name} {what} in {result.path}: {result.files} files, "
        f"{human_size(result.size_bytes)} on disk, {result.dim or '?'}-d; "
        f"checked against {'sha256' if result.verified == 'sha256' else result.verified}",
        highlight=False,
        soft_wrap=True,
    )
    if result.note:
        notice(result.note)
    if desk.active_model not in {m for m in MODELS if get_model(m).install_name == result.name}:
        console.print(f"make it the active model with `specter-desk model use {result.name}`")


@model_app.command("use")
def model_use(
    name: str = NameArg,
    cancel: bool = typer.Option(False, "--cancel", help="Forget a pending switch instead."),
    json_out: bool = JsonOpt,
) -> None:
    """Make NAME the active model: re-embeds the library in the background (the old model
    keeps answering) and switches when the new index is complete."""
    desk = open_desk()
    if cancel:
        state = cancel_switch(desk)
        if json_out:
            print_json(state.to_dict() if state else None)
        else:
            console.print(
                f"the switch to {state.model} was cancelled; {desk.active_model} stays active"
                if state
                else "no switch was pending"
            )
        return
    state = request_switch(desk, name)
    if state.state == "pending":
        daemon = request_sync(desk.paths)
        if daemon is not None:
            if json_out:
                print_json({**state.to_dict(), "by": "daemon"})
                return
            console.print(
                f"switching to {state.model}: the daemon embeds {state.total - state.embedded} "
                f"papers in the background; related papers come from {state.previous} until "
                "it is done (`specter-desk status` shows progress)",
                highlight=False,
                soft_wrap=True,
            )
            return
        if not json_out:
            console.print(
                f"embedding {state.total - state.embedded} papers with {state.model}; related "
                f"papers keep coming from {state.previous} until it is done (Ctrl-C stops, "
                "run the command again to go on)",
                highlight=False,
                soft_wrap=True,
            )
        with progress_bar(f"embedding ({state.model})", quiet=json_out) as bar:
            state = advance_switch(desk, bar) or state
    if json_out:
        print_json(state.to_dict())
        return
    messages = {
        "active": f"{state.model} is already the active model",
        "switched": f"switched from {state.previous} to {state.model} "
        f"({state.total} papers embedded)",
        "pending": f"the switch to {state.model} is not finished "
        f"({state.embedded} of {state.total}); run the command again to go on",
    }
    console.print(messages[state.state], highlight=False, soft_wrap=True)


@model_app.command("remove")
def model_remove(name: str = NameArg, json_out: bool = JsonOpt) -> None:
    """Delete a downloaded model's files (stored vectors are kept)."""
    desk = open_desk()
    spec = get_model(name)
    freed = remove_model(desk.paths, spec.name, active=desk.active_model)
    if json_out:
        print_json({"name": spec.install_name, "freed_bytes": freed})
        return
    console.print(
        f"removed {spec.install_name}: {human_size(freed)} freed", highlight=False, soft_wrap=True
    )
