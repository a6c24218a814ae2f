"""The Typer app and what every command shares: the Desk, errors, progress, JSON output."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ..desk import Desk
from ..errors import SpecterDeskError

app = typer.Typer(
    name="specter-desk",
    help="Related papers, recommendations and duplicates for your Zotero library, offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)
state: dict[str, Any] = {"debug": False}


@app.callback()
def main_options(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
) -> None:
    """specter-desk: SPECTER embeddings for your Zotero library."""
    state["debug"] = debug


def fail(message: str, code: int = 1) -> None:
    """Print one error line and exit."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def one_line_errors(
    func: Callable | None = None,
    *,
    interrupted: str = "interrupted; everything committed so far is kept",
) -> Callable:
    """Wrap a command so a SpecterDeskError becomes one error line and its exit code."""

    def decorate(inner: Callable) -> Callable:
        @wraps(inner)
        def wrapper(*a: Any, **kw: Any) -> Any:
            try:
                return inner(*a, **kw)
            except SpecterDeskError as exc:
                if state["debug"]:
                    raise
                fail(str(exc), exc.exit_code)
            except KeyboardInterrupt:
                fail(interrupted, 130)

        return wrapper

    return decorate(func) if func is not None else decorate


def command(*args: Any, **kwargs: Any) -> Callable:
    """app.command with one-line errors (see one_line_errors)."""

    def decorator(func: Callable) -> Callable:
        return app.command(*args, **kwargs)(one_line_errors(func))

    return decorator


def notice(message: str) -> None:
    """A one-line notice on stderr (index rebuilt, and the like)."""
    err_console.print(f"[yellow]notice:[/] {message}", highlight=False, soft_wrap=True)


def open_desk() -> Desk:
    """The Desk for the current data dir."""
    return Desk(notice=notice)


def print_json(data: Any) -> None:
    """Machine-readable output on stdout."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


@contextmanager
def progress_bar(description: str, *, quiet: bool = False) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar; yields a (done, total) callback."""
    if quiet:
        yield lambda done, total: None
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )
    task = progress.add_task(description, total=None, rate="")
    import time

    start = time.perf_counter()

    def update(done: int, total: int) -> None:
        elapsed = time.perf_counter() - start
        rate = f"{done / elapsed:.1f}/s" if elapsed > 0 and done else ""
        progress.update(task, completed=done, total=total, rate=rate)

    with progress:
        yield update


@contextmanager
def stage_progress(*, quiet: bool = False) -> Iterator[Callable[[str, int, int], None]]:
    """A transient progress bar for work in named stages; yields a (stage, done, total)
    callback. A stage that says "waiting" (a Retry-After) is also printed as a notice."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=quiet,
    )
    task = progress.add_task("", total=None)

    def update(stage: str, done: int, total: int) -> None:
        if "waiting" in stage and not quiet:
            notice(stage)  # Backoff / Retry-After: say why nothing moves
        progress.update(task, description=stage, completed=done, total=total or None)

    with progress:
        yield update
