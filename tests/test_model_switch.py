"""`model use`: the old model keeps answering while the new one embeds; the switch happens in
one write of config.toml when the new index is complete, and CLI and daemon see the same."""

from __future__ import annotations

import json

import httpx
import pytest
from server_helpers import free_port, serve_env, start_serve, wait_for, wait_healthy
from test_daemon import stop
from typer.testing import CliRunner

from conftest import make_paper, run_specter_desk
from specter_desk.cli import app
from specter_desk.config import Config, save_settings
from specter_desk.desk import Desk
from specter_desk.embed.pipeline import CHUNK, embed_missing
from specter_desk.index import paths_for
from specter_desk.server.daemon import carry_on_switch
from specter_desk.services.related import related
from specter_desk.switch import advance_switch, pending_switch, request_switch

runner = CliRunner()


def library(desk: Desk, n: int) -> list:
    papers = [
        make_paper(f"K{i:04d}", f"Paper {i} about topic {i % 7}", f"abstract {i}") for i in range(n)
    ]
    desk.store.upsert_papers(papers)
    embed_missing(desk.store, desk.encoder("tiny"))
    desk.index("tiny")
    return papers


def configure(home, text: str = "") -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        '# my settings\n[model]\nname = "tiny" # the small one\n' + text, encoding="utf-8"
    )


def test_use_switches_at_once_when_every_paper_has_vectors(home, tiny_model, tiny_adapter_model):
    configure(home)
    desk = Desk(Config.load(), notice=lambda m: None)
    library(desk, 20)
    embed_missing(desk.store, desk.encoder("tiny-adapter"))
    result = runner.invoke(app, ["model", "use", "tiny-adapter", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["state"] == "switched"
    text = (home / "config.toml").read_text()
    assert 'name = "tiny-adapter"' in text and "# my settings" in text  # comments kept
    assert Config.load().model == "tiny-adapter"
    assert desk.active_model == "tiny-adapter"  # an open Desk (a daemon) sees it too
    assert paths_for(desk.paths.index_dir, "tiny-adapter")[1].exists()
    again = runner.invoke(app, ["model", "use", "tiny-adapter"])
    assert again.exit_code == 0 and "already the active model" in again.output


def test_the_old_model_answers_until_the_new_index_is_complete(
    home, tiny_model, tiny_adapter_model
):
    configure(home)
    desk = Desk(Config.load(), notice=lambda m: None)
    papers = library(desk, CHUNK + 44)
    state = request_switch(desk, "tiny-adapter")
    assert (state.state, state.embedded, state.total) == ("pending", 0, CHUNK + 44)

    chunks = []
    state = advance_switch(desk, should_stop=lambda: chunks.append(1) or len(chunks) > 1)
    assert (state.state, state.embedded) == ("pending", CHUNK)  # stopped after one chunk
    # every reader still gets the old model: the CLI, a fresh config, this (daemon) Desk
    assert Config.load().model == "tiny" and desk.active_model == "tiny"
    rows = related(desk.store, desk.index(), papers[0], 5)
    assert len(rows) == 5
    status = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert status["model"] == "tiny"
    assert status["model_switch"]["model"] == "tiny-adapter"
    assert status["model_switch"]["embedded"] == CHUNK
    related_cli = runner.invoke(app, ["related", "K0001", "--json"])
    assert related_cli.exit_code == 0 and json.loads(related_cli.stdout)["model"] == "tiny"

    result = runner.invoke(app, ["model", "use", "tiny-adapter"])  # no daemon: foreground
    assert result.exit_code == 0, result.output
    assert "switched from tiny to tiny-adapter" in result.output
    assert desk.active_model == "tiny-adapter" and pending_switch(desk) is None
    status = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert status["model"] == "tiny-adapter" and status["model_switch"] is None
    assert status["indexes"]["tiny-adapter"]["state"] == "ok"
    related_cli = runner.invoke(app, ["related", "K0001", "--json"])
    assert json.loads(related_cli.stdout)["model"] == "tiny-adapter"


def test_cancel_keeps_the_old_model_and_the_vectors_made(home, tiny_model, tiny_adapter_model):
    configure(home)
    desk = Desk(Config.load(), notice=lambda m: None)
    library(desk, 10)
    request_switch(desk, "tiny-adapter")
    result = runner.invoke(app, ["model", "use", "tiny-adapter", "--cancel"])
    assert result.exit_code == 0 and "cancelled" in result.output
    assert pending_switch(desk) is None and Config.load().model == "tiny"


def test_a_switch_is_over_once_config_names_its_model(home, tiny_model, tiny_adapter_model):
    """config.toml is written before the request is cleared: a reader in between (the bridge's
    status) and a process stopped in between both see the switch as done, never the new model
    with a pending switch; the daemon clears the left-over request."""
    configure(home)
    desk = Desk(Config.load(), notice=lambda m: None)
    library(desk, 10)
    request_switch(desk, "tiny-adapter")
    save_settings(desk.paths, {"model": {"name": "tiny-adapter"}})  # the switch's own write
    status = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert status["model"] == "tiny-adapter" and status["model_switch"] is None
    assert pending_switch(desk) is None and desk.store.get_meta("model_switch")
    assert carry_on_switch(desk, lambda *a: None, lambda: False) is None  # the daemon's pass
    assert not desk.store.get_meta("model_switch")
    save_settings(desk.paths, {"model": {"name": "tiny"}})  # the user goes back by hand
    assert pending_switch(desk) is None  # the old request does not come back


def test_use_refuses_a_model_that_is_not_installed_and_an_env_override(home, tiny_model):
    configure(home)
    result = runner.invoke(app, ["model", "use", "specter"])
    assert result.exit_code == 4
    assert "specter is not installed: run `specter-desk model download specter`" in result.output
    assert Config.load().model == "tiny"
    result = runner.invoke(app, ["model", "use", "minilm"], env={"SPECTER_DESK_MODEL": "tiny"})
    assert result.exit_code == 2 and "SPECTER_DESK_MODEL=tiny is set" in result.output


@pytest.mark.slow
def test_the_daemon_carries_out_a_switch_asked_for_on_the_command_line(home, tiny_bert_dir):
    """Real `serve` subprocess: `model use` hands the switch to it; afterwards the daemon's
    /v1/status, the CLI's status and config.toml all name the new model."""
    port = free_port()
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        '[model]\nname = "specter"\n'
        f'[model.paths]\nspecter = "{tiny_bert_dir}"\nmpnet = "{tiny_bert_dir}"\n'
        "[bridge]\nsync_interval_minutes = 0\n",
        encoding="utf-8",
    )
    env = serve_env(home)
    jsonl = home / "papers.jsonl"
    jsonl.write_text(
        "".join(
            json.dumps({"key": f"K{i:04d}", "title": f"Paper {i} on {i % 9}", "abstract": "x"})
            + "\n"
            for i in range(300)
        )
    )
    assert run_specter_desk(env, "import", str(jsonl)).returncode == 0
    assert run_specter_desk(env, "embed").returncode == 0
    proc = start_serve(home, port, env=env)
    try:
        wait_healthy(port, proc)
        token = (home / "bridge-token").read_text().strip()
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}
        )
        assert client.get("/v1/status").json()["model"] == "specter"
        used = run_specter_desk(env, "model", "use", "mpnet")
        assert used.returncode == 0, used.stderr
        assert "the daemon embeds 300 papers in the background" in used.stdout
        assert "related papers come from specter until it is done" in used.stdout
        status = wait_for(
            lambda: (s := client.get("/v1/status").json())["model"] == "mpnet" and s, timeout=120
        )
        assert status["vectors"]["mpnet"] == 300 and status.get("model_switch") is None
        assert client.get("/v1/papers/K0001/related?k=3").json()["model"] == "mpnet"
        cli_status = json.loads(run_specter_desk(env, "status", "--json").stdout)
        assert cli_status["model"] == "mpnet" and cli_status["model_switch"] is None
        assert 'name = "mpnet"' in (home / "config.toml").read_text()
    finally:
        assert stop(proc) == 0


def test_a_running_desk_keeps_the_last_good_config_when_the_file_breaks(home, tiny_model):
    configure(home)
    desk = Desk(Config.load(), notice=lambda m: None)
    assert desk.active_model == "tiny"
    (home / "config.toml").write_text("[model\nname = 'x'\n")
    assert desk.active_model == "tiny"  # the daemon keeps answering
    assert runner.invoke(app, ["status"]).exit_code == 2  # while every command says why
    (home / "config.toml").write_text('[model]\nname = "minilm"\n')
    assert desk.active_model == "minilm"
