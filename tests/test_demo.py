"""The demo shows everything: its candidate pool (real records, none in the demo library), an
explained `recommend --since week`, a data dir that remembers its model; and a model that is
neither on disk nor downloadable fails at once, before any progress bar, naming the fix."""

from __future__ import annotations

import json
import socket

import pytest
from typer.testing import CliRunner

from specter_desk.cli import app
from specter_desk.embed.encoder import Encoder, hub_reachable
from specter_desk.embed.registry import ModelSpec, register_model
from specter_desk.services.copies import library_copies
from specter_desk.store import Store
from specter_desk.sync.demo import CANDIDATES, demo_candidates, demo_papers

runner = CliRunner()


def test_the_candidate_pool_is_real_records_none_of_them_in_the_demo_library(tmp_path):
    library, pool = demo_papers(), demo_candidates()
    assert len(pool) == 600
    assert {p.pool for p in pool} == {"candidates"} and {p.library for p in pool} == {CANDIDATES}
    assert not {p.key for p in library} & {p.key for p in pool}
    assert all(p.title and p.year for p in pool)
    assert len({p.key for p in pool}) == 600
    store = Store(tmp_path / "library.db")
    store.upsert_papers(library + pool)
    assert library_copies(store, pool) == {}  # not one is a copy of a library paper
    store.close()


def test_demo_recommends_this_week_and_remembers_its_model(home, tiny_model):
    result = runner.invoke(app, ["demo", "--model", "tiny", "-n", "3"])
    assert result.exit_code == 0, result.output
    assert "1606 papers imported" in result.stdout and "600 other papers" in result.stdout
    assert "$ specter-desk recommend --since week" in result.stdout
    assert result.stdout.count("Related to:") >= 2
    assert "Recommended from candidates for" in result.stdout
    assert "because" in result.stdout  # the table's explanation column
    demo_home = home / "cache" / "demo"
    assert 'name = "tiny"' in (demo_home / "config.toml").read_text()
    # later commands on the demo data dir need no --model
    env = {"SPECTER_DESK_HOME": str(demo_home)}
    answer = runner.invoke(app, ["recommend", "--since", "week", "--json"], env=env)
    assert answer.exit_code == 0, answer.output
    data = json.loads(answer.stdout)
    assert data["model"] == "tiny" and data["seeds"] and len(data["results"]) == 10
    assert {r["pool"] for r in data["results"]} == {"candidates"}
    assert all(r["because"] for r in data["results"])


@pytest.fixture
def ghost_model():
    """A model that is not on disk; the tests run with HF_HUB_OFFLINE=1 (no download)."""
    return register_model(
        ModelSpec(name="ghost", hub_id="nobody/ghost-model", description="never downloaded")
    )


def test_a_missing_model_fails_before_any_progress_bar_naming_the_fix(
    home, ghost_model, monkeypatch
):
    import specter_desk.cli.core as core

    bars = []
    monkeypatch.setattr(core, "progress_bar", lambda *a, **k: bars.append(a) or 1 / 0)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    imported = runner.invoke(app, ["import", _jsonl(home)])
    assert imported.exit_code == 0, imported.output
    for command in (["recommend"], ["search", "graphs"], ["embed"]):
        result = runner.invoke(app, [*command, "--model", "ghost"])
        assert result.exit_code == 4, (command, result.output)
        assert "'ghost' (nobody/ghost-model) is not on disk" in result.output
        assert "specter-desk model download ghost" in result.output
        assert "--model-path" in result.output and "offline or unreachable" in result.output
    assert bars == []


def _jsonl(home):
    path = home.parent / "papers.jsonl"
    rows = [{"key": "P1", "title": "Graph networks", "date_added": "2026-01-01T00:00:00Z"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return str(path)


def test_hub_reachable_is_false_offline_or_on_a_closed_port_and_true_when_listening(
    monkeypatch,
):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub_reachable() is False
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
        assert hub_reachable(timeout=2) is True
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")  # closed now
    assert hub_reachable(timeout=2) is False


def test_a_model_on_disk_passes_the_check(tiny_model, ghost_model, monkeypatch):
    Encoder(tiny_model, device="cpu").check_available()  # no error: shipped locally
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr("specter_desk.embed.encoder.hub_reachable", lambda timeout: True)
    Encoder(ghost_model, device="cpu").check_available()  # downloadable: the load decides
