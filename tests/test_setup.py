"""`specter-desk setup`: non-interactive with flags against the fake Zotero (web and local API)
and the stand-in model hub, the offline fallback, the service and plugin steps, and the
interactive path through a pseudo-terminal."""

from __future__ import annotations

import json
import os
import stat
import sys
import zipfile

import pytest
from fake_zotero import FakeZotero, load_fixture_items
from server_helpers import free_port
from typer.testing import CliRunner

from conftest import zotero_profile
from specter_desk.cli import app
from specter_desk.config import Config
from specter_desk.store import Store
from specter_desk.sync.credentials import SERVICE, credentials_file

runner = CliRunner()
PLUGIN = "specter-desk@specter-desk.org.xpi"


def setup(*args: str):
    return runner.invoke(app, ["setup", "--non-interactive", "--json", *args])


def steps(result) -> dict[str, dict]:
    return {s["name"]: s for s in json.loads(result.stdout)["steps"]}


def papers_and_vectors(home, model: str) -> tuple[int, int]:
    store = Store(home / "library.db")
    try:
        return store.count_papers(), store.vector_counts().get(model, 0)
    finally:
        store.close()


def test_setup_with_a_web_api_key_stores_it_in_the_keyring_and_syncs(home, web, ring, tiny_model):
    result = setup(
        "--zotero", "web", "--api-key", "good-key", "--user-id", "475425",
        "--model", "tiny", "--no-service", "--no-plugin",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    done = steps(result)
    assert done["Zotero"]["state"] == "ok" and "fake-user (user 475425)" in done["Zotero"]["detail"]
    assert "kept in keyring" in done["Zotero"]["detail"]
    saved = json.loads(ring.secrets[(SERVICE, "zotero")])
    assert saved == {"api_key": "good-key", "user_id": "475425", "username": "fake-user"}
    assert not credentials_file(Config.load().paths).exists()
    assert web.requests("/keys/current")  # validated with /keys/current, key in a header
    config = Config.load()
    assert config.get("zotero", "source") == "user" and config.model == "tiny"
    papers, vectors = papers_and_vectors(home, "tiny")
    assert papers > 0 and vectors == papers
    assert (
        done["first sync"]["state"] == "ok" and f"{papers} papers" in done["first sync"]["detail"]
    )


@pytest.mark.parametrize(
    ("key", "user", "message"),
    [
        ("wrong-key", "475425", "did not accept this API key"),
        ("good-key", "999", "belongs to user 475425"),
    ],
)
def test_a_wrong_api_key_is_a_clear_error_and_nothing_is_stored(
    home, web, ring, tiny_model, key, user, message
):
    result = runner.invoke(
        app,
        ["setup", "--non-interactive", "--zotero", "web", "--api-key", key, "--user-id", user,
         "--model", "tiny", "--no-service", "--no-plugin"],
    )  # fmt: skip
    assert result.exit_code == 6
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) <= 3
    assert ring.secrets == {}
    assert not credentials_file(Config.load().paths).exists()
    assert not (home / "config.toml").exists() and not (home / "library.db").exists()


def test_setup_uses_zotero_when_its_local_api_answers(home, machine, monkeypatch, tiny_model):
    monkeypatch.delenv("SPECTER_DESK_ZOTERO_LOCAL_URL")
    with FakeZotero(local=True, api_key=None) as local:
        local.add_items(load_fixture_items())
        url = local.base
        result = setup("--zotero-url", url, "--model", "tiny", "--no-service", "--no-plugin")
    assert result.exit_code == 0, result.output
    done = steps(result)
    assert "local API on" in done["Zotero"]["detail"]
    config = Config.load()
    assert config.get("zotero", "source") == "local"
    assert config.get("zotero", "local_url") == url
    papers, vectors = papers_and_vectors(home, "tiny")
    assert papers > 0 and vectors == papers


def test_setup_explains_how_to_switch_the_local_api_on(home, machine, monkeypatch, tiny_model):
    monkeypatch.delenv("SPECTER_DESK_ZOTERO_LOCAL_URL")
    with FakeZotero(local=True, local_api_enabled=False) as local:
        result = setup("--zotero-url", local.base, "--model", "tiny", "--no-service")
    assert result.exit_code == 1
    zotero = steps(result)["Zotero"]
    assert zotero["state"] == "failed" and "local API is off" in zotero["detail"]
    assert (
        "Allow other applications on this computer to communicate with Zotero" in (zotero["detail"])
    )
    assert steps(result)["model"]["state"] == "ok"  # the other steps still ran


def test_offline_laptop_setup_completes_with_the_bundled_model(home, machine, monkeypatch):
    """Zotero's local API answers (it needs no network); the hub does not: MiniLM, said plainly,
    with the command that upgrades to SPECTER2 later."""
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("SPECTER_DESK_ZOTERO_LOCAL_URL")
    with FakeZotero(local=True, api_key=None) as local:
        for i in range(12):
            local.add_item(title=f"Offline paper {i}", abstractNote=f"About topic {i % 3}.")
        result = runner.invoke(
            app,
            ["setup", "--non-interactive", "--zotero-url", local.base, "--no-service",
             "--no-plugin"],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "specter2 could not be installed" in text
    assert "22M parameters" in text and "SPECTER2's 110M" in text
    assert "specter-desk model download specter2 && specter-desk model use specter2" in text
    assert Config.load().model == "minilm"
    assert papers_and_vectors(home, "minilm") == (12, 12)


def test_setup_downloads_the_model_from_the_hub(home, machine, fake_hub, monkeypatch):
    monkeypatch.delenv("SPECTER_DESK_ZOTERO_LOCAL_URL")
    with FakeZotero(local=True, api_key=None) as local:
        local.add_item(title="Transformers for citation graphs", abstractNote="We study ...")
        local.add_item(title="Graph attention networks", abstractNote="Attention over graphs.")
        result = setup("--zotero-url", local.base, "--no-service", "--no-plugin")
    assert result.exit_code == 0, result.output
    assert steps(result)["model"]["detail"] == "specter2 (models folder)"
    assert Config.load().model == "specter2"
    assert papers_and_vectors(home, "specter2") == (2, 2)


def test_the_service_step_writes_the_unit_and_reports_a_start_it_could_not_do(
    home, web, tiny_model, tmp_path, monkeypatch
):
    if not sys.platform.startswith("linux"):
        pytest.skip("the systemd user unit is the Linux service")
    result = setup(
        "--zotero", "skip", "--model", "tiny", "--service", "--no-start-service", "--no-plugin"
    )
    unit = tmp_path / "user" / ".config" / "systemd" / "user" / "specter-desk.service"
    assert result.exit_code == 0, result.output
    assert steps(result)["service"]["detail"] == f"wrote {unit} (not started)"
    assert "ExecStart=" in unit.read_text() and "serve" in unit.read_text()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "systemctl").write_text("#!/bin/sh\necho 'Failed to connect to bus' >&2\nexit 1\n")
    (bin_dir / "systemctl").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    result = setup("--zotero", "skip", "--model", "tiny", "--service", "--no-plugin")
    service = steps(result)["service"]
    assert service["state"] == "warn" and "could not start it" in service["detail"]
    assert "systemctl --user" in service["fix"] and "Failed to connect to bus" in service["fix"]


def test_the_plugin_goes_into_the_zotero_profile_or_says_how(home, machine, tiny_model):
    result = setup("--zotero", "skip", "--model", "tiny", "--no-service")
    plugin = steps(result)["plugin"]
    assert plugin["state"] == "warn" and "no Zotero profile found" in plugin["detail"]
    assert "Install Plugin From File" in plugin["fix"] and ".xpi" in plugin["fix"]
    profile = zotero_profile(machine)
    result = setup("--zotero", "skip", "--model", "tiny", "--no-service")
    plugin = steps(result)["plugin"]
    target = profile / "extensions" / PLUGIN
    assert plugin["state"] == "ok" and plugin["detail"] == f"copied to {target}"
    with zipfile.ZipFile(target) as xpi:
        manifest = json.loads(xpi.read("manifest.json"))
    assert manifest["applications"]["zotero"]["id"] == PLUGIN.removesuffix(".xpi")
    assert (home / "bridge-token").exists()  # what the plugin reads to reach the daemon
    # a profile where Zotero already registered another plugin: Zotero will not look for a
    # new file there (measured with Zotero 10), so setup says how to install it by hand
    other = {"id": "zotero-better-bibtex@iris-advies.com", "location": "app-profile"}
    (profile / "extensions.json").write_text(json.dumps({"addons": [other]}))
    plugin = steps(setup("--zotero", "skip", "--model", "tiny", "--no-service"))["plugin"]
    assert plugin["state"] == "warn" and "already has plugins" in plugin["detail"]
    assert plugin["fix"].endswith(f"Install Plugin From File... -> {target}")


def test_bad_flags_are_one_line_errors(home, machine):
    result = runner.invoke(app, ["setup", "-y", "--zotero", "cloud"])
    assert result.exit_code == 2 and "--zotero must be one of auto, local, web, skip" in (
        result.output
    )


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="pexpect needs a POSIX pseudo-terminal")
def test_interactive_setup_through_a_pseudo_terminal(home, web, tmp_path):
    """The questions a person answers: Zotero is not running, so the web API; a mistyped
    key is refused and asked again; the model; sync now; no service; the plugin."""
    import pexpect

    profile = zotero_profile(tmp_path / "user")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECTER_DESK_")}
    env.update(
        SPECTER_DESK_HOME=str(home),
        SPECTER_DESK_ZOTERO_URL=web.url,
        SPECTER_DESK_ZOTERO_LOCAL_URL=f"http://127.0.0.1:{free_port()}",
        SPECTER_DESK_NO_KEYRING="1",
        HOME=str(tmp_path / "user"),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        COLUMNS="200",
        TERM="dumb",
    )
    child = pexpect.spawn(
        sys.executable, ["-m", "specter_desk", "setup"], env=env, encoding="utf-8", timeout=120
    )
    child.expect("no Zotero answers at")
    child.expect(r"Check again, use the web API .*\[again/web/skip\]")
    child.sendline("web")
    child.expect("Zotero API key")
    child.sendline("not-my-key")
    child.expect("Zotero user id")
    child.sendline("")
    child.expect("did not accept this API key")
    child.expect("Zotero API key")
    child.sendline("good-key")
    child.expect("Zotero user id")
    child.sendline("475425")
    child.expect(r"web API key of fake-user \(user 475425\)")
    child.expect(r"Which model\?")
    child.sendline("minilm")
    child.expect(r"Sync and embed your library now .*\[now/daemon/skip\]")
    child.sendline("now")
    child.expect(r"papers from user:475425; \d+ embedded with minilm")
    child.expect(r"background at login .*\[y/n\]")
    child.sendline("n")
    child.expect("copied to")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    saved = credentials_file(Config.load().paths)
    assert json.loads(saved.read_text())["api_key"] == "good-key"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert (profile / "extensions" / PLUGIN).is_file()
    assert Config.load().model == "minilm"


def test_leaving_the_first_sync_to_a_service_that_is_not_installed_warns(
    home, machine, monkeypatch, tiny_model
):
    monkeypatch.delenv("SPECTER_DESK_ZOTERO_LOCAL_URL")
    with FakeZotero(local=True, api_key=None) as local:
        result = runner.invoke(
            app,
            ["setup", "-y", "--json", "--zotero-url", local.base, "--model", "tiny",
             "--first-sync", "daemon", "--no-service", "--no-plugin"],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    syncs = [s for s in json.loads(result.stdout)["steps"] if s["name"] == "first sync"]
    assert syncs[0]["detail"].startswith("left to the background service")
    assert syncs[1] == {
        "name": "first sync", "state": "warn",
        "detail": "left to a service that is not running", "fix": "specter-desk sync",
    }  # fmt: skip
    assert papers_and_vectors(home, "tiny") == (0, 0)


def test_a_zotero_that_accepts_but_does_not_answer_is_busy_not_absent():
    """Zotero still starting: the port is open, no answer comes. Said so, not "not running"."""
    import socket as sockets

    from specter_desk.sync.zotero_app import probe_local_api

    with sockets.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        found = probe_local_api(url, timeout=0.3)
    assert found.state == "busy" and "did not answer in time" in found.explanation
    assert probe_local_api(url, timeout=0.3).state == "absent"  # closed now: nothing listens


def test_setup_again_after_login_uses_the_saved_key(home, web, ring, tiny_model):
    assert runner.invoke(app, ["login", "--api-key", "good-key"]).exit_code == 0
    result = setup("--model", "tiny", "--no-service", "--no-plugin")  # Zotero is not running
    assert result.exit_code == 0, result.output
    zotero = steps(result)["Zotero"]
    assert zotero["state"] == "ok" and "fake-user (user 475425)" in zotero["detail"]
    assert Config.load().get("zotero", "source") == "user"
