"""The `feedback` command and how `recommend` reports which ranker ran."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from specter_desk.cli import app

runner = CliRunner()


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def world(home, tmp_path, tiny_model):
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    lib = write_jsonl(
        tmp_path / "lib.jsonl",
        [
            {
                "key": "L1",
                "title": "Gene regulatory network growth by duplication",
                "date_added": now,
            },
            {"key": "L2", "title": "Trust in recommender systems", "date_added": now},
        ],
    )
    cands = write_jsonl(
        tmp_path / "cands.jsonl",
        [
            {"key": f"C{i}", "title": f"Candidate paper number {i} about topic {i % 3}"}
            for i in range(14)
        ],
    )
    assert runner.invoke(app, ["import", str(lib)]).exit_code == 0
    assert runner.invoke(app, ["candidates", "add", str(cands)]).exit_code == 0
    return home


def test_feedback_json_counts_votes(world):
    result = runner.invoke(app, ["feedback", "C1", "--up", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"key": "C1", "vote": "up", "labels": {"up": 1, "down": 0}}
    down = json.loads(runner.invoke(app, ["feedback", "C2", "--down", "--json"]).stdout)
    assert down["labels"] == {"up": 1, "down": 1}
    cleared = json.loads(runner.invoke(app, ["feedback", "C1", "--clear", "--json"]).stdout)
    assert cleared["labels"] == {"up": 0, "down": 1}


def test_feedback_finds_items_by_title(world):
    result = runner.invoke(app, ["feedback", "Gene regulatory network growth", "--up"])
    assert result.exit_code == 0, result.output
    assert "voted up L1" in result.output
    assert "similarity ranks until 5 each way" in result.output


@pytest.mark.parametrize("flags", [[], ["--up", "--down"]])
def test_feedback_needs_exactly_one_vote(world, flags):
    result = runner.invoke(app, ["feedback", "C1", *flags])
    assert result.exit_code == 2
    assert "exactly one of --up, --down or --clear" in result.output


def test_feedback_on_an_unknown_item(world):
    result = runner.invoke(app, ["feedback", "no such paper anywhere", "--up"])
    assert result.exit_code == 3
    assert "no paper matches" in result.output


def test_recommend_says_which_ranker_ran(world):
    first = runner.invoke(app, ["recommend", "--model", "tiny"])
    assert first.exit_code == 0, first.output
    assert "ranked by similarity to your seeds" in first.output
    for i in range(5):
        runner.invoke(app, ["feedback", f"C{i}", "--up"])
        runner.invoke(app, ["feedback", f"C{i + 5}", "--down"])
    data = json.loads(runner.invoke(app, ["recommend", "--model", "tiny", "--json"]).stdout)
    assert data["ranker"] == "classifier"
    assert data["labels"] == {"up": 5, "down": 5}
    voted_down = {f"C{i}" for i in range(5, 10)}
    assert data["results"] and not voted_down & {r["key"] for r in data["results"]}
    text = runner.invoke(app, ["recommend", "--model", "tiny"])
    assert "seeds + your feedback classifier (5 up, 5 down)" in text.output
