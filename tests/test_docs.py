"""Every command has help text and appears in the README's usage (docs fail with the code)."""

from __future__ import annotations

from pathlib import Path

import typer

from specter_desk.cli import app

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(typer_app: typer.Typer, prefix: str = "") -> list[tuple[str, str | None]]:
    found = []
    for info in typer_app.registered_commands:
        name = info.name or info.callback.__name__.replace("_", "-")
        found.append((f"{prefix}{name}", info.help or (info.callback.__doc__ or "").strip()))
    for group in typer_app.registered_groups:
        found += _commands(group.typer_instance, f"{prefix}{group.name} ")
    return found


def test_every_command_has_help():
    missing = [name for name, help_text in _commands(app) if not help_text]
    assert missing == []


def test_every_top_level_command_is_in_the_readme_usage():
    top = {name.split()[0] for name, _ in _commands(app)}
    assert len(top) >= 20
    missing = sorted(name for name in top if f"specter-desk {name}" not in README)
    assert missing == []
