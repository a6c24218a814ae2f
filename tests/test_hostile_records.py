"""Hostile records: titles that look like rich markup or carry terminal escapes are printed as
text, and malformed creators are stopped at the import boundary (and never reach a service)."""

from __future__ import annotations

import importlib
import io
import json

import httpx
import pytest
from typer.testing import CliRunner

from specter_desk.cli import app
from specter_desk.cli.citations import _entries_table
from specter_desk.services.citations.lists import CitationEntry

runner = CliRunner()

HOSTILE = [
    {"key": "H1", "title": "Closing tags [/bold] in graph papers", "abstract": "graphs networks"},
    {
        "key": "H2",
        "title": "Sections [bridge] and [model.paths] of graph configs",
        "abstract": "graphs and trees",
    },
    {
        "key": "H3",
        "title": "Escapes \x1b[2J\x1b]0;owned\x07 and \x00 nul in graphs",
        "abstract": "graphs",
    },
    {"key": "H4", "title": "Emoji codes :thumbs_up: stay text in graphs", "abstract": "graphs"},
    {"key": "H5", "title": "Plain graph networks", "abstract": "graphs networks nodes"},
]


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "250"})


@pytest.fixture
def hostile_library(home, tiny_model, tmp_path):
    path = tmp_path / "hostile.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in HOSTILE) + "\n")
    assert invoke("import", path).exit_code == 0
    assert invoke("embed", "--model", "tiny").exit_code == 0
    return path


def test_markup_in_titles_is_printed_as_it_is(hostile_library):
    for key in ("H1", "H2", "H5"):
        result = invoke("related", key, "--model", "tiny", "-k", "4")
        assert result.exit_code == 0, result.output
        assert "Closing tags [/bold] in graph papers" in result.stdout
        assert "Sections [bridge] and [model.paths] of graph configs" in result.stdout
        assert ":thumbs_up:" in result.stdout


def test_search_prints_markup_titles_as_text(hostile_library):
    result = invoke("search", "graph", "--model", "tiny", "-k", "5")
    assert result.exit_code == 0, result.output
    assert "[/bold]" in result.stdout and "[model.paths]" in result.stdout


def test_no_control_character_reaches_the_terminal(hostile_library):
    result = invoke("related", "H3", "--model", "tiny", "-k", "4")
    assert result.exit_code == 0, result.output
    assert "Escapes [2J]0;owned and  nul in graphs" in result.stdout
    assert not any(ord(c) < 32 and c not in "\n" for c in result.stdout)
    # the JSON keeps the record as stored (escaped by json.dumps)
    data = json.loads(invoke("related", "H3", "--model", "tiny", "--json").stdout)
    assert data["item"]["title"] == HOSTILE[2]["title"]


def test_markup_in_an_error_message_is_printed_as_it_is(home, tmp_path):
    (home / "config.toml").parent.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("[bridges]\nport = 1\n")
    result = invoke("status")
    assert result.exit_code == 2
    assert "unknown section [bridges]" in result.stderr
    (home / "config.toml").unlink()
    missing = invoke("related", "no such [/bold] \x1b[31mpaper", "--model", "tiny")
    assert "[/bold]" in missing.stderr and "\x1b[31m" not in missing.stderr


@pytest.mark.parametrize(
    ("creators", "why"),
    [([1, 2], "creators"), ([["Smith"]], "creators"), ({"lastName": "Smith"}, "creators")],
)
def test_unusable_creators_are_skipped_and_listed_at_import(home, tmp_path, creators, why):
    path = tmp_path / "bad.jsonl"
    records = [
        {"key": "C1", "title": "Numbers for authors", "creators": creators},
        {"key": "C2", "title": "A fine record", "creators": [{"lastName": "Ng", "firstName": "A"}]},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    result = invoke("import", path, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["added"] == 1
    assert len(data["skipped"]) == 1 and "C1" in data["skipped"][0] and why in data["skipped"][0]


def test_creators_given_as_one_string_become_names(home, tmp_path, tiny_model):
    path = tmp_path / "names.jsonl"
    records = [
        {"key": "S1", "title": "Graph networks by string", "creators": "Smith, John; Doe, Ann"},
        {"key": "S2", "title": "Graph networks by list", "creators": ["Curie, Marie", "Bohr"]},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    assert invoke("import", path).exit_code == 0
    assert invoke("embed", "--model", "tiny").exit_code == 0
    result = invoke("related", "S1", "--model", "tiny", "--json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)["related"]
    assert row["key"] == "S2" and row["first_author"] == "Curie"
    from specter_desk.store import Store

    store = Store(home / "library.db")
    assert store.get_paper("S1").creators == [
        {"creatorType": "author", "lastName": "Smith", "firstName": "John"},
        {"creatorType": "author", "lastName": "Doe", "firstName": "Ann"},
    ]
    store.close()


def test_a_stored_record_with_broken_creators_does_not_break_related(desk, tmp_path):
    """A store written before the import checked creators: services and the CLI still answer."""
    from conftest import make_paper
    from specter_desk.sync.writer import import_papers

    import_papers(
        desk.store,
        [make_paper("B1", "Graph neural networks"), make_paper("B2", "Graph attention networks")],
    )
    with desk.store.transaction():
        desk.store.db.execute("UPDATE papers SET creators = ? WHERE key = 'B2'", ['"Smith"'])
        desk.store.db.execute("UPDATE papers SET creators = ? WHERE key = 'B1'", ["[1, [2]]"])
    desk.embed_missing("tiny")
    from specter_desk.services.related import related

    (row,) = related(desk.store, desk.index("tiny"), desk.store.get_paper("B1"), 5)
    assert row.key == "B2" and row.first_author == "Smith"
    assert desk.store.get_paper("B1").creators == []
    from server_helpers import LiveServer, free_port

    from specter_desk.server.app import BridgeContext, create_app

    port = free_port()
    app = create_app(BridgeContext(desk), token=lambda: "t0k", port=port)
    with LiveServer(app, port) as server:
        for key in ("B1", "B2"):
            answer = httpx.get(
                f"{server.url}/v1/papers/{key}/related",
                headers={"Authorization": "Bearer t0k"},
                timeout=30,
            )
            assert answer.status_code == 200, answer.text


def test_a_progress_stage_and_a_citations_table_are_printed_as_text(monkeypatch):
    """Text from files and web APIs in a progress stage or a citations list is shown as it is
    (a stage read as markup lost "[/bold]"; the citations table printed "[dim]" literally)."""
    cli_app = importlib.import_module("specter_desk.cli.app")  # the module, not the Typer app
    out = io.StringIO()
    terminal = cli_app.TerminalConsole(stderr=True, file=out, force_terminal=True, width=120)
    monkeypatch.setattr(cli_app, "err_console", terminal)
    with cli_app.stage_progress() as update:
        update("reading refs [/bold] .bib", 1, 2)
    assert "reading refs [/bold] .bib" in out.getvalue()

    def entry(work, title, key, in_library):
        return CitationEntry(work, title, 2020, "Ng", [], "", None, "", None, key, None, in_library)

    rows = [entry("W1", "", "LIB1", True), entry("W2", "A [/bold] title\x1b[2J", None, False)]
    terminal = cli_app.TerminalConsole(file=io.StringIO(), width=200, color_system=None)
    terminal.print(_entries_table("Cites", rows))
    text = terminal.file.getvalue()
    assert "W1 (no details)" in text and "LIB1" in text and "[dim]" not in text
    assert "A [/bold] title[2J" in text and "\x1b" not in text
