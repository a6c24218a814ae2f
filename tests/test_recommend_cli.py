"""`specter-desk recommend` end to end: real titles, MiniLM weights, JSON schema, messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from specter_desk.cli import app

runner = CliRunner()
FIXTURE = Path(__file__).parent / "fixtures" / "citeulike_titles" / "titles.jsonl"
PAPER_HIT = {"key", "title", "year", "venue", "first_author", "doi", "arxiv_id", "pool", "score"}


def fixture_rows() -> list[dict]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]


def ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def import_world(tmp_path: Path, *, candidates: bool = True) -> list[dict]:
    rows = fixture_rows()
    lib, cands = [], []
    for r in rows:
        record = {"key": r["key"], "title": r["title"]}
        if r["role"] == "candidate":
            cands.append(record)
        else:
            record["date_added"] = ago(r.get("days_ago", 1))
            lib.append(record)
    # a candidate that is a library paper again (same title, other punctuation and case)
    cands.append({"key": "twin", "title": "Gene Regulatory Network Growth by Duplication."})
    (tmp_path / "lib.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lib))
    (tmp_path / "cands.jsonl").write_text("".join(json.dumps(r) + "\n" for r in cands))
    assert runner.invoke(app, ["import", str(tmp_path / "lib.jsonl")]).exit_code == 0
    if candidates:
        result = runner.invoke(app, ["candidates", "add", str(tmp_path / "cands.jsonl")])
        assert result.exit_code == 0, result.output
    return rows


@pytest.mark.slow
def test_minilm_recommends_both_topics_with_real_explanations(home, tmp_path):
    rows = import_world(tmp_path)
    topic = {r["key"]: r["topic"] for r in rows}
    seeds = {r["key"] for r in rows if r["role"] == "seed"}
    result = runner.invoke(app, ["recommend", "--model", "minilm", "-n", "8", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {s["key"] for s in data["seeds"]} == seeds  # the old library paper is not a seed
    keys = [r["key"] for r in data["results"]]
    assert "twin" not in keys  # the same work as a library paper
    topics = [topic[k] for k in keys]
    assert "genes" in topics and "recsys" in topics, topics
    assert "other" not in topics, topics
    for hit in data["results"]:
        assert set(hit) == PAPER_HIT | {"because", "reasons", "rank", "authors", "abstract"} | {
            "link"
        }
        assert hit["reasons"] == []  # no citation data: ranked by meaning
        assert hit["pool"] == "candidates"
        assert {b["key"] for b in hit["because"]} <= seeds
        # the closest seed is on the candidate's own topic
        assert topic[hit["because"][0]["key"]] == topic[hit["key"]]
    text = runner.invoke(app, ["recommend", "--model", "minilm", "-n", "3"])
    assert text.exit_code == 0 and "Recommended from candidates" in text.output


def test_recommend_json_schema_and_seeds_with_the_tiny_model(home, tmp_path, tiny_model):
    import_world(tmp_path)
    result = runner.invoke(app, ["recommend", "--model", "tiny", "--since", "3d", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"since", "model", "source", "by", "scope", "seeds", "ranker"} | {
        "labels",
        "results",
    }
    assert data["model"] == "tiny" and data["ranker"] == "similarity"
    assert data["by"] == "meaning"  # auto, and the seeds have no citation data
    assert {s["key"] for s in data["seeds"]} == {"cul208", "cul275", "cul439"}  # not 4 days old
    assert len(data["results"]) == 10
    assert datetime.fromisoformat(data["since"].replace("Z", "+00:00")) < datetime.now(UTC)


def test_no_seeds_is_a_message_not_an_error(home, tmp_path, tiny_model):
    import_world(tmp_path)
    result = runner.invoke(app, ["recommend", "--model", "tiny", "--since", "12h", "--json"])
    data = json.loads(result.stdout)
    assert result.exit_code == 0
    assert data["seeds"] == [] and data["results"] == []
    assert "try a longer window" in data["message"]
    text = runner.invoke(app, ["recommend", "--model", "tiny", "--since", "day"])
    assert text.exit_code == 0 and "no papers were added to the library" in text.output


def test_a_window_ahead_of_now_is_a_message_as_in_the_bridge(home, tmp_path, tiny_model):
    """GET /v1/recommendations?since=2999-01-01 answers 200 with a message (test_server.py);
    the CLI answers the same input the same way: no seeds, the message, exit code 0."""
    import_world(tmp_path)
    result = runner.invoke(app, ["recommend", "--model", "tiny", "--since", "2999-01-01", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["seeds"] == [] and data["results"] == [] and "ahead" in data["message"]
    assert data["since"] == "2999-01-01T00:00:00Z"
    text = runner.invoke(app, ["recommend", "--model", "tiny", "--since", "2999-01-01"])
    assert text.exit_code == 0 and "it is ahead" in text.stderr


def test_no_candidates_is_a_message_naming_the_commands(home, tmp_path, tiny_model):
    import_world(tmp_path, candidates=False)
    result = runner.invoke(app, ["recommend", "--model", "tiny"])
    assert result.exit_code == 0
    assert "specter-desk candidates add FILE" in result.output


def test_bad_since_and_from_are_one_line_errors(home):
    bad = runner.invoke(app, ["recommend", "--since", "fortnight"])
    assert bad.exit_code == 2 and "cannot read --since 'fortnight'" in bad.output
    assert len(bad.output.strip().splitlines()) == 1
    wrong = runner.invoke(app, ["recommend", "--from", "zotero"])
    assert wrong.exit_code == 2 and "--from must be" in wrong.output


def test_rediscover_from_the_library(home, tmp_path, tiny_model):
    now = ago(0)
    records = [
        {"key": "S1", "title": "Gene regulatory network growth by duplication", "date_added": now},
        {
            "key": "OLD",
            "title": "Evolution of transcription factors",
            "date_added": ago(400),
            "date_modified": ago(300),
        },
        {
            "key": "RECENT",
            "title": "Trust in recommender systems",
            "date_added": ago(400),
            "date_modified": ago(3),
        },
    ]
    (tmp_path / "lib.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    assert runner.invoke(app, ["import", str(tmp_path / "lib.jsonl")]).exit_code == 0
    result = runner.invoke(app, ["recommend", "--model", "tiny", "--from", "library", "--json"])
    data = json.loads(result.stdout)
    assert data["source"] == "library"
    assert [r["key"] for r in data["results"]] == ["OLD"]
