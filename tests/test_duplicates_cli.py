"""`specter-desk duplicates` and `duplicates check FILE`: output, JSON shape, one-line errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from specter_desk.cli import app

runner = CliRunner()

TITLE = "Algorithmic management of platform workers in the gig economy"
PREPRINT = {
    "key": "P1",
    "title": "Algorithmic management of platform workers in the gig economy",
    "year": 2020,
    "authors": ["Ana Silva", "Ben Okoro"],
    "item_type": "preprint",
    "arxiv_id": "2009.01234",
}
RECORDS = [
    {
        "key": "A1",
        "title": TITLE,
        "doi": "10.1000/gig.1",
        "year": 2021,
        "authors": ["Ana Silva", "Ben Okoro"],
        "venue": "Work, Employment and Society",
    },
    {"key": "A2", "title": TITLE.upper() + ".", "year": 2021, "authors": ["A. Silva"]},
    {"key": "A3", "title": "Tax policy in medieval Venice", "year": 1999, "authors": ["Rossi"]},
]


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def library(home, tmp_path):
    path = tmp_path / "lib.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n")
    result = invoke("import", path)
    assert result.exit_code == 0, result.output
    return path


def test_duplicates_json_lists_the_cluster_with_master_and_reasons(library):
    result = invoke("duplicates", "--json")
    assert result.exit_code == 0, result.output
    [cluster] = json.loads(result.stdout)["clusters"]
    assert cluster["master"] == "A1"
    assert sorted(p["key"] for p in cluster["papers"]) == ["A1", "A2"]
    assert "same title" in cluster["pairs"][0]["reasons"]
    assert cluster["merged"]["doi"] == "10.1000/gig.1"


def test_duplicates_table_output(library):
    result = invoke("duplicates")
    assert result.exit_code == 0, result.output
    assert "1 duplicate clusters (2 papers)" in result.stdout
    assert "* A1" in result.stdout and "why:" in result.stdout


def test_min_score_filters_and_is_validated(library):
    result = invoke("duplicates", "--min-score", "1.0", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"clusters": [], "versions": []}
    result = invoke("duplicates", "--min-score", "7")
    assert result.exit_code == 2
    assert "min score must be between 0 and 1" in result.output
    assert "Traceback" not in result.output


def test_pool_all_includes_candidates_and_a_bad_pool_is_a_user_error(library, tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"key": "F1", "title": TITLE, "year": 2021}) + "\n")
    assert invoke("import", feed, "--as", "candidates").exit_code == 0
    library_only = json.loads(invoke("duplicates", "--json").stdout)["clusters"]
    everything = json.loads(invoke("duplicates", "--pool", "all", "--json").stdout)["clusters"]
    assert [len(c["papers"]) for c in library_only] == [2]
    assert [len(c["papers"]) for c in everything] == [3]
    result = invoke("duplicates", "--pool", "feeds")
    assert result.exit_code == 2 and "--pool must be" in result.output


def test_check_flags_entries_already_in_the_library(library, tmp_path):
    bib = tmp_path / "incoming.bib"
    bib.write_text(
        "@article{new1, title={Algorithmic Management of Platform Workers in the Gig Economy},"
        " author={Silva, Ana}, year={2021}, doi={https://doi.org/10.1000/GIG.1}}\n"
        "@article{new2, title={Quantum error correction with surface codes},"
        " author={Fowler, Austin}, year={2012}}\n",
        encoding="utf-8",
    )
    result = invoke("duplicates", "check", bib, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["checked"] == 2
    [match] = data["matches"]
    assert match["index"] == 0 and match["key"] == "A1" and "same DOI" in match["reasons"]
    text = invoke("duplicates", "check", bib)
    assert "1 of 2 entries of incoming.bib are already in the library" in text.stdout


def test_check_missing_file_is_a_one_line_error(library, tmp_path):
    result = invoke("duplicates", "check", tmp_path / "nope.bib")
    assert result.exit_code == 2
    assert "no such file" in result.output and "Traceback" not in result.output


def test_commands_use_the_index_and_encoder_when_the_library_has_vectors(
    library, tmp_path, tiny_model, monkeypatch
):
    monkeypatch.setenv("SPECTER_DESK_MODEL", "tiny")
    result = invoke("embed")
    assert result.exit_code == 0, result.output
    clusters = json.loads(invoke("duplicates", "--json").stdout)["clusters"]
    assert [sorted(p["key"] for p in c["papers"]) for c in clusters] == [["A1", "A2"]]
    incoming = tmp_path / "incoming.jsonl"
    incoming.write_text(json.dumps({"key": "n1", "title": TITLE, "year": 2021}) + "\n")
    result = invoke("duplicates", "check", incoming, "--embeddings", "--json")
    assert result.exit_code == 0, result.output
    assert [m["key"] for m in json.loads(result.stdout)["matches"]] in (["A1"], ["A2"])


def test_versions_are_listed_apart_from_duplicates(library, tmp_path):
    path = tmp_path / "preprint.jsonl"
    path.write_text(json.dumps(PREPRINT) + "\n")
    assert invoke("import", path).exit_code == 0
    data = json.loads(invoke("duplicates", "--json").stdout)
    [cluster] = data["clusters"]
    assert sorted(p["key"] for p in cluster["papers"]) == ["A1", "A2"]
    [group] = data["versions"]
    assert group["kind"] == "versions" and group["mixed_types"] is True
    assert "P1" in [p["key"] for p in group["papers"]] and group["master"] != "P1"
    assert any("a preprint and a published version" in p["versions"] for p in group["pairs"])
    text = invoke("duplicates").stdout
    assert "1 duplicate clusters (2 papers)" in text
    assert "1 groups of versions" in text and "a preprint and a published version" in text


def test_distinct_marks_are_respected_listed_undone_and_survive_a_reimport(library):
    result = invoke("duplicates", "distinct", "A1", "A2", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "keys": ["A1", "A2"],
        "distinct": True,
        "pairs": 1,
        "changed": 1,
    }
    assert json.loads(invoke("duplicates", "--json").stdout)["clusters"] == []
    assert invoke("import", library).exit_code == 0  # a re-sync rewrites the papers
    assert json.loads(invoke("duplicates", "--json").stdout)["clusters"] == []
    listed = json.loads(invoke("duplicates", "distinct", "--list", "--json").stdout)["pairs"]
    assert [(p["a"], p["b"], p["source"]) for p in listed] == [("A1", "A2", "user")]
    assert "1 pairs marked not duplicates" in invoke("duplicates", "distinct", "--list").stdout
    undone = invoke("duplicates", "distinct", "A2", "A1", "--undo")
    assert undone.exit_code == 0 and "no longer marked" in undone.stdout
    assert len(json.loads(invoke("duplicates", "--json").stdout)["clusters"]) == 1


def test_distinct_needs_two_known_keys(library):
    one = invoke("duplicates", "distinct", "A1")
    assert one.exit_code == 2 and "at least two different paper keys" in one.output
    unknown = invoke("duplicates", "distinct", "A1", "NOPE")
    assert unknown.exit_code == 3 and "no paper with key 'NOPE'" in unknown.output
    assert "Traceback" not in one.output + unknown.output
