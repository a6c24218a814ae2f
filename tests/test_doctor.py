"""`doctor` checks what `setup` sets up and prints the fix for each problem; the ZOTERO_LIBRARY_ID
and ZOTERO_LIBRARY_TYPE environment variables work like the other overrides."""

from __future__ import annotations

import json

import pytest
from fake_zotero import FakeZotero
from test_setup import setup
from typer.testing import CliRunner

from conftest import zotero_profile
from specter_desk.cli import app
from specter_desk.config import Config
from specter_desk.desk import Desk
from specter_desk.sync import configured_source

runner = CliRunner()


def doctor(*args: str) -> tuple[int, dict[str, dict]]:
    result = runner.invoke(app, ["doctor", "--json", *args])
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    return result.exit_code, checks


def test_a_fresh_install_gets_a_fix_for_every_missing_piece(home, machine):
    code, checks = doctor()
    assert code == 1  # the default model is not there: nothing would work
    assert checks["model specter2"]["state"] == "fail"
    assert checks["model specter2"]["fix"].startswith("specter-desk model download specter2")
    assert checks["Zotero"] == {
        "check": "Zotero", "state": "warn", "detail": "no Zotero library configured",
        "fix": "specter-desk setup",
    }  # fmt: skip
    assert checks["service"]["state"] == "warn" and checks["service"]["fix"]
    assert checks["plugin"]["state"] == "warn" and "setup" in checks["plugin"]["fix"]
    assert checks["plugin"]["detail"] == "no Zotero profile found"
    profile = zotero_profile(machine)  # Zotero installed, the plugin not yet
    plugin = doctor("--offline")[1]["plugin"]
    assert plugin["state"] == "warn" and plugin["detail"] == f"not in the Zotero profile {profile}"
    assert plugin["fix"].startswith("specter-desk setup (or in Zotero: Tools -> Plugins")
    assert checks["index backend"]["state"] == "ok"
    text = runner.invoke(app, ["doctor"]).output
    assert "fix: specter-desk model download specter2" in " ".join(text.split())


def test_after_setup_doctor_checks_the_key_and_the_plugin(home, web, ring, machine, tiny_model):
    profile = zotero_profile(machine)
    assert setup("--zotero", "web", "--api-key", "good-key", "--model", "tiny",
                 "--no-service").exit_code == 0  # fmt: skip
    code, checks = doctor()
    assert checks["Zotero"]["state"] == "ok"
    assert checks["Zotero"]["detail"] == "web API key of fake-user (user 475425)"
    plugin = checks["plugin"]  # copied; Zotero registers it at its next start
    assert plugin["state"] == "warn" and "has not registered it" in plugin["detail"]
    assert plugin["fix"].startswith("restart Zotero")
    for record, state, words in (
        ({"active": True}, "ok", "active in the Zotero profile"),
        ({"active": False, "userDisabled": True}, "warn", "switched off"),
        ({"active": False, "appDisabled": True}, "warn", "outside its range"),
    ):  # what Zotero writes into extensions.json at its start
        addon = {"id": "specter-desk@specter-desk.org", "location": "app-profile", **record}
        (profile / "extensions.json").write_text(json.dumps({"addons": [addon]}))
        plugin = doctor("--offline")[1]["plugin"]
        assert plugin["state"] == state and words in plugin["detail"], plugin
    assert checks["model tiny"]["detail"].endswith("(active)")
    web.api_key = "rotated-key"  # the key was revoked on zotero.org
    code, checks = doctor()
    assert code == 1 and checks["Zotero"]["state"] == "fail"
    assert "did not accept this API key" in checks["Zotero"]["detail"]
    assert checks["Zotero"]["fix"].startswith("specter-desk setup")
    code, checks = doctor("--offline")
    assert checks["Zotero"]["state"] == "ok" and "not checked" in checks["Zotero"]["detail"]


def test_doctor_reports_zotero_with_the_local_api_off(home, machine, monkeypatch, tiny_model):
    with FakeZotero(local=True, local_api_enabled=False) as local:
        monkeypatch.setenv("SPECTER_DESK_ZOTERO_LOCAL_URL", local.base)
        monkeypatch.setenv("SPECTER_DESK_ZOTERO_SOURCE", "local")
        code, checks = doctor()
    assert checks["Zotero"]["state"] == "warn"
    assert "local API is off" in checks["Zotero"]["detail"]
    assert "Allow other applications" in checks["Zotero"]["detail"]


def test_doctor_finds_a_damaged_model_and_a_readable_credentials_file(
    home,
    machine,
    fake_hub,
    monkeypatch,
):
    assert runner.invoke(app, ["model", "download", "specter2"]).exit_code == 0
    code, checks = doctor("--offline")
    assert checks["model specter2"]["state"] == "ok"
    weights = home / "models" / "specter2" / "pytorch_model.bin"
    weights.write_bytes(weights.read_bytes()[:-100])
    code, checks = doctor("--offline")
    assert code == 1 and checks["model specter2"]["state"] == "fail"
    assert "pytorch_model.bin" in checks["model specter2"]["detail"]
    assert checks["model specter2"]["fix"] == "specter-desk model download specter2 (repairs it)"
    monkeypatch.setenv("SPECTER_DESK_NO_KEYRING", "1")
    creds = home / "zotero-credentials.json"
    creds.write_text(json.dumps({"api_key": "k", "user_id": "1"}))
    creds.chmod(0o644)
    code, checks = doctor("--offline")
    assert checks["credentials"]["state"] == "fail"
    assert checks["credentials"]["fix"] == f"chmod 600 {creds}"


def test_zotero_library_id_and_type_env_overrides(home, monkeypatch):
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text('[zotero]\nlibrary_id = "111"\n')
    monkeypatch.setenv("ZOTERO_LIBRARY_ID", "4711")
    monkeypatch.setenv("ZOTERO_LIBRARY_TYPE", "group")
    config = Config.load()
    assert config.get("zotero", "library_id") == "4711"
    assert configured_source(Desk(config)) == "group:4711"
    code, checks = doctor("--offline")
    assert "ZOTERO_LIBRARY_ID" in checks["environment"]["detail"]
    assert "ZOTERO_LIBRARY_TYPE" in checks["environment"]["detail"]
    monkeypatch.setenv("ZOTERO_LIBRARY_TYPE", "team")
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 2
    assert "ZOTERO_LIBRARY_TYPE) must be user or group, not 'team'" in result.output


@pytest.mark.parametrize("library_type", ["user", "group"])
def test_zotero_library_type_in_the_config_file_is_checked_too(home, library_type):
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(f'[zotero]\nlibrary_type = "{library_type}"\n')
    assert Config.load().get("zotero", "library_type") == library_type
