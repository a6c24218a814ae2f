"""A fuzz test of the importers: 1,200 random and mutated BibTeX, RIS, CSL-JSON and JSONL files
through `specter-desk import`. Every case ends in success (JSON on stdout) or in one line
and exit code 2, never a traceback, and a refused file leaves the store as it was.

Cases come from a seeded mutator (the same 1,200 every run, so a failure reproduces by its
case number): real exports (tests/fixtures/exports, the shipped demo library) cut, spliced,
sprinkled with bytes that mean something to the formats (braces, `@`, RIS tags, quotes,
control characters, lone surrogate escapes), their JSON values swapped for random ones; and
files made from nothing but random bytes or random JSON. In-process through Typer's runner
(~1,200 cases in well under a minute), plus a handful through a real subprocess.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import sqlite3
from importlib import resources
from pathlib import Path

import pytest
import typer.main
import typer.testing
from typer.testing import CliRunner

from conftest import run_specter_desk
from specter_desk.cli import app
from specter_desk.store import Store

CASES = 1200
FORMATS = ("bibtex", "ris", "csl-json", "jsonl")
SUFFIX = {"bibtex": ".bib", "ris": ".ris", "csl-json": ".json", "jsonl": ".jsonl"}
EXPORTS = Path(__file__).parent / "fixtures" / "exports"
# Bytes with a meaning to some format (or to a terminal, a JSON parser, a SQL binder).
SPICE = [
    "{", "}", "@", "@article{", ",", "=", '"', "\\", "\n", "\r\n", "\t", "%", "#",
    "TY  - JOUR\n", "ER  - \n", "AU  - ", "TI  - ", "  - ", "[", "]", ":", "null", "true",
    "1e999", "-0", "NaN", "\\ud800", "\\u0000", "\x00", "\x1b[2J", "[/bold]", "\ufeff",
    "\u202e", "é", "😀", "and", " and ", "title", '"title": ', '"creators": ', '"key": ',
]  # fmt: skip


def _first_entries(text: str, marker: str, count: int) -> str:
    parts = text.split(marker)
    return marker.join(parts[: count + 1])


def seeds() -> dict[str, list[str]]:
    """A few small real files per format (the fuzzer's starting points)."""
    bib40 = (EXPORTS / "zotero_export_40.bib").read_text(encoding="utf-8")
    ris40 = (EXPORTS / "zotero_export_40.ris").read_text(encoding="utf-8")
    source = resources.files("specter_desk") / "data" / "demo_library.jsonl.gz"
    demo = gzip.decompress(source.read_bytes()).decode("utf-8").splitlines()[:6]
    records = [json.loads(line) for line in demo]
    csl = [
        {
            "id": r.get("key"),
            "type": "article-journal",
            "title": r.get("title"),
            "abstract": r.get("abstract"),
            "DOI": r.get("doi"),
            "author": [{"family": "Curie", "given": "Marie"}, {"literal": "Team X"}],
            "issued": {"date-parts": [[r.get("year") or 2020, 1]]},
            "container-title": r.get("venue"),
        }
        for r in records[:4]
    ]
    return {
        "bibtex": [
            (EXPORTS / "test_export.bib").read_text(encoding="utf-8"),
            (EXPORTS / "broken.bib").read_text(encoding="utf-8"),
            _first_entries(bib40, "\n@", 4),
        ],
        "ris": [
            (EXPORTS / "test_export.ris").read_text(encoding="utf-8"),
            (EXPORTS / "example_multiline.ris").read_text(encoding="utf-8"),
            (EXPORTS / "example_utf_chars.ris").read_text(encoding="utf-8"),
            _first_entries(ris40, "\nER  -", 4),
        ],
        "csl-json": [json.dumps(csl, indent=1), json.dumps({"items": csl[:2]})],
        "jsonl": ["\n".join(demo) + "\n", "\n".join(json.dumps(r) for r in records[:3])],
    }


def random_json(rng: random.Random, depth: int = 0):
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 7, 2**70, -(2**63), 1e308, 0.5, 2021])
    if kind in (3, 4, 5):
        return "".join(rng.choice(SPICE + list("abc xyz,;")) for _ in range(rng.randrange(12)))
    if kind in (6, 7):
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["key", "id", "title", "creators", "authors", "author", "year", "tags", "doi", "x"]
    return {rng.choice(keys): random_json(rng, depth + 1) for _ in range(rng.randrange(4))}


def mutate_json(rng: random.Random, fmt: str, text: str) -> str:
    """Swap values of the records for random JSON, drop fields, or replace whole records."""
    if fmt == "jsonl":
        records = [json.loads(line) for line in text.splitlines() if line.strip()]
    else:
        data = json.loads(text)
        records = data["items"] if isinstance(data, dict) else data
    for _ in range(rng.randrange(1, 6)):
        if not records:
            break
        i = rng.randrange(len(records))
        record = records[i]
        action = rng.randrange(4)
        if action == 0 or not isinstance(record, dict):
            records[i] = random_json(rng)
        elif action == 1 and record:
            record.pop(rng.choice(sorted(record)))
        else:
            field = rng.choice(
                [*record, "creators", "author", "tags", "issued", "date_added", "title", "id"]
            )
            record[field] = random_json(rng)
    if fmt == "jsonl":
        return "\n".join(json.dumps(r, allow_nan=True) for r in records) + "\n"
    return json.dumps(records, allow_nan=True)


def mutate_text(rng: random.Random, text: str) -> str:
    """Cut, splice, repeat and spice up a text."""
    for _ in range(rng.randrange(1, 8)):
        n = len(text)
        action = rng.randrange(7)
        a = rng.randrange(n + 1)
        b = min(n, a + rng.randrange(1, 200))
        if action == 0:
            text = text[:a]  # truncated, as a half-written export is
        elif action == 1:
            text = text[:a] + text[b:]
        elif action == 2:
            text = text[:a] + text[a:b] * rng.randrange(2, 4) + text[b:]
        elif action == 3:
            text = text[:a] + rng.choice(SPICE) + text[a:]
        elif action == 4:
            lines = text.splitlines(keepends=True)
            rng.shuffle(lines)
            text = "".join(lines)
        elif action == 5:
            text = text[:a] + "".join(chr(rng.randrange(1, 0x3000)) for _ in range(5)) + text[a:]
        else:
            text = text[:a] + text[a:b].upper() + text[b:]
    return text


def make_case(number: int, pool: dict[str, list[str]]) -> tuple[str, bytes]:
    """(file suffix, content) of case `number`: the same for every run."""
    rng = random.Random(number)
    fmt = FORMATS[number % len(FORMATS)]
    suffix = SUFFIX[fmt] if rng.random() < 0.9 else rng.choice([".txt", ".gz", ""])
    roll = rng.random()
    if roll < 0.08:  # nothing but random bytes
        return suffix, bytes(rng.randrange(256) for _ in range(rng.randrange(300)))
    if roll < 0.16:  # a random JSON document
        return suffix, json.dumps(random_json(rng)).encode()
    seed = rng.choice(pool[fmt])
    if fmt in ("jsonl", "csl-json") and rng.random() < 0.6:
        text = mutate_json(rng, fmt, seed)
        if rng.random() < 0.3:
            text = mutate_text(rng, text)
    else:
        text = mutate_text(rng, seed)
    encoding = "utf-8" if rng.random() < 0.95 else rng.choice(["utf-16", "latin-1"])
    return suffix, text.encode(
        encoding, errors="surrogatepass" if encoding == "utf-8" else "replace"
    )


def store_version(path: Path) -> tuple[int, int]:
    """(commits seen from outside, papers): any commit by the importer changes the first."""
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA data_version").fetchone()[0], conn.execute(
            "SELECT count(*) FROM papers"
        ).fetchone()[0]


def test_every_fuzzed_import_ends_in_success_or_one_line(home, tmp_path, monkeypatch):
    pool = seeds()
    runner = CliRunner()
    command = typer.main.get_command(app)  # built once: Typer's runner builds it per call
    monkeypatch.setattr(typer.testing, "_get_command", lambda _app: command)
    Store(home / "library.db").close()
    watcher = sqlite3.connect(home / "library.db")  # its data_version moves on any commit
    outcomes = {0: 0, 2: 0}
    try:
        for number in range(CASES):
            suffix, content = make_case(number, pool)
            path = tmp_path / f"case-{number}{suffix}"
            path.write_bytes(content)
            before = watcher.execute("PRAGMA data_version").fetchone()[0]
            result = runner.invoke(app, ["import", str(path), "--json"])
            where = f"case {number} ({path.name}, {len(content)} bytes)"
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                raise AssertionError(f"{where}: {result.exception!r}") from result.exception
            assert result.exit_code in (0, 2), f"{where}: exit {result.exit_code} {result.output}"
            outcomes[result.exit_code] += 1
            assert "Traceback" not in result.output, where
            if result.exit_code == 0:
                data = json.loads(result.stdout)
                assert data["added"] + data["updated"] + data["unchanged"] >= 0, where
            else:
                lines = result.stderr.splitlines()
                assert len(lines) == 1 and lines[0].startswith("error: "), f"{where}: {lines}"
                after = watcher.execute("PRAGMA data_version").fetchone()[0]
                assert after == before, f"{where}: the store changed on a refused file"
            path.unlink()
    finally:
        watcher.close()
    assert min(outcomes.values()) > CASES // 10, outcomes  # both outcomes well exercised


@pytest.mark.parametrize("number", [3, 14, 101, 222, 407])
def test_fuzzed_imports_in_a_real_process(home, tmp_path, number):
    suffix, content = make_case(number, seeds())
    path = tmp_path / f"case{suffix}"
    path.write_bytes(content)
    Store(home / "library.db").close()
    before = store_version(home / "library.db")[1]
    env = {**os.environ, "SPECTER_DESK_HOME": str(home)}
    done = run_specter_desk(env, "import", str(path), "--json")
    assert done.returncode in (0, 2), done.stderr
    if done.returncode == 0:
        json.loads(done.stdout)
    else:
        assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
        assert store_version(home / "library.db")[1] == before
