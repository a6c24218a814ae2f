"""The Typer app and what every command shares: the one error boundary, the Desk, progress,
JSON output."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text
from typer.core import TyperGroup

from ..desk import Desk
from ..errors import SpecterDeskError

INTERRUPTED = "interrupted"  # ctx.meta key: what a Ctrl-C leaves behind for this command


class OneLineErrors(TyperGroup):
    """The root command: the one error boundary of every command.

    A SpecterDeskError becomes one line on stderr and its exit code (the traceback only with
    --debug); Ctrl-C says what is kept (ctx.meta[INTERRUPTED], set by a command group).
    """

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SpecterDeskError as exc:
            if ctx.params.get("debug"):
                raise
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            fail(ctx.meta.get(INTERRUPTED, "interrupted; everything committed so far is kept"), 130)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_text(text: str) -> str:
    """Text safe to print: control characters (escape sequences, NUL...) dropped; tabs and
    newlines kept."""
    return _CONTROL.sub("", text)


class TerminalConsole(Console):
    """A rich Console that prints strings as they are: no markup or emoji codes are read from
    them (a title like "[/bold]" or an error naming "[bridge]" is printed as is) and no control
    character reaches the terminal. Styled output is built from rich Text objects."""

    def __init__(self, **options: Any) -> None:
        super().__init__(markup=False, emoji=False, **options)

    def render_str(self, text: str, **options: Any) -> Text:
        return super().render_str(terminal_text(text), **options)


app = typer.Typer(
    name="specter-desk",
    help="Related papers, recommendations and duplicates for your Zotero library, offline.",
    cls=OneLineErrors,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = TerminalConsole()
err_console = TerminalConsole(stderr=True)


@app.callback()
def main_options(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
) -> None:
    """specter-desk: SPECTER embeddings for your Zotero library."""


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one error line and exit."""
    err_console.print(labelled("error:", "bold red", message), highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def notice(message: str) -> None:
    """A one-line notice on stderr (index rebuilt, and the like)."""
    err_console.print(labelled("notice:", "yellow", message), highlight=False, soft_wrap=True)


def labelled(label: str, style: str, message: str) -> Text:
    """A styled label, then the message as plain text on the same line (a line break in it,
    say from a key in a file, becomes a space)."""
    return Text.assemble((label, style), " ", terminal_text(" ".join(message.splitlines())))


def open_desk() -> Desk:
    """The Desk for the current data dir."""
    return Desk(notice=notice)


def print_json(data: Any) -> None:
    """Machine-readable output on stdout."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


@contextmanager
def progress_bar(
    description: str, *, quiet: bool = False, unit: str = "papers"
) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar with an ETA, shown from the first report on (an error before it
    stays one line); yields a (done, total) callback. unit "bytes" shows sizes and speed."""
    if quiet:
        yield lambda done, total: None
        return
    counts = (
        [DownloadColumn(), TransferSpeedColumn()]
        if unit == "bytes"
        else [MofNCompleteColumn(), TextColumn("{task.fields[rate]}")]
    )
    progress = Progress(
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        *counts,
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )
    start = time.perf_counter()
    tasks: list[TaskID] = []

    def update(done: int, total: int) -> None:
        if not tasks:
            progress.start()
            tasks.append(progress.add_task(description, total=None, rate=""))
        elapsed = time.perf_counter() - start
        rate = f"{done / elapsed:.1f}/s" if elapsed > 0 and done else ""
        progress.update(tasks[0], completed=done, total=total, rate=rate)

    try:
        yield update
    finally:
        if tasks:
            progress.stop()


@contextmanager
def stage_progress(*, quiet: bool = False) -> Iterator[Callable[[str, int, int], None]]:
    """A transient progress bar for work in named stages, shown from the first report (so an
    early error stays one line); yields a (stage, done, total) callback. Each stage gets its
    own count, elapsed time and ETA. A stage that says "waiting" (a Retry-After) is also
    printed as a notice."""
    progress = Progress(
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=quiet,
    )
    tasks: list[TaskID] = []

    def update(stage: str, done: int, total: int) -> None:
        if "waiting" in stage and not quiet:
            notice(stage)  # Backoff / Retry-After: say why nothing moves
        if not tasks:
            progress.start()
            tasks.append(progress.add_task(stage, total=None))
        elif stage != progress.tasks[0].description:  # a new stage: its own ETA
            progress.reset(tasks[0], total=total or None)
        progress.update(tasks[0], description=stage, completed=done, total=total or None)

    try:
        yield update
    finally:
        if tasks:
            progress.stop()
