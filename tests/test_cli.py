"""The CLI: exit codes, one-line errors, --json output that parses."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from specter_desk.cli import app

runner = CliRunner()

RECORDS = [
    {
        "key": "A1",
        "title": "Graph neural networks for molecules",
        "abstract": "Message passing.",
        "doi": "10.1000/a1",
        "year": 2020,
        "authors": ["Ada Lovelace"],
    },
    {
        "key": "A2",
        "title": "Graph attention networks",
        "abstract": "Attention on graphs.",
        "year": 2018,
    },
    {"key": "A3", "title": "Tax policy in medieval Venice", "abstract": "Archival study."},
]


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def library(home, tiny_model, tmp_path):
    path = tmp_path / "lib.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n")
    result = invoke("import", path)
    assert result.exit_code == 0, result.output
    return path


def test_import_then_related_json(library):
    result = invoke("related", "10.1000/A1", "--model", "tiny", "-k", "2", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["item"]["key"] == "A1"
    assert data["model"] == "tiny"
    assert len(data["related"]) == 2
    assert {"key", "title", "year", "score", "pool"} <= set(data["related"][0])


def test_related_table_output(library):
    result = invoke("related", "A2", "--model", "tiny")
    assert result.exit_code == 0
    assert "Related to: Graph attention networks" in result.stdout


def test_unknown_item_is_one_line_and_exit_3(library):
    result = invoke("related", "no such paper", "--model", "tiny")
    assert result.exit_code == 3
    assert result.stderr.strip().startswith("error:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_model_exit_2(library):
    result = invoke("related", "A1", "--model", "nonexistent")
    assert result.exit_code == 2
    assert "known models" in result.stderr


def test_missing_model_weights_exit_4_names_hub_id(library):
    result = invoke("related", "A1", "--model", "specter2")
    assert result.exit_code == 4
    assert "allenai/specter2_base" in result.stderr and "--model-path" in result.stderr


def test_malformed_import_keeps_the_store(library, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"key": "B1", "title": "fine"}\n{not json\n')
    result = invoke("import", bad)
    assert result.exit_code == 2
    assert "bad.jsonl:2" in result.stderr
    status = json.loads(invoke("status", "--json").stdout)
    assert status["papers"] == 3  # nothing from the bad file, nothing lost


def test_import_missing_file(home):
    result = invoke("import", "/nonexistent/file.jsonl")
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_import_reports_key_clash_with_another_library(library, tmp_path):
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"key": "A1", "title": "Someone else's A1"}) + "\n")
    result = invoke("import", other, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["clashes"] == ["A1"]
    assert (
        json.loads(invoke("related", "A1", "--model", "tiny", "--json").stdout)["item"]["title"]
        == "Graph neural networks for molecules"
    )


def test_status_json(library):
    invoke("embed", "--model", "tiny")
    data = json.loads(invoke("status", "--json").stdout)
    assert data["papers"] == 3
    assert data["vectors"] == {"tiny": 3}
    assert data["indexes"]["tiny"]["state"] == "ok"
    assert data["data_dir"] == os.environ["SPECTER_DESK_HOME"]


def test_embed_json_second_run_embeds_nothing(library):
    first = json.loads(invoke("embed", "--model", "tiny", "--json").stdout)
    second = json.loads(invoke("embed", "--model", "tiny", "--json").stdout)
    assert first["embedded"] == 3 and second["embedded"] == 0


def test_config_show_and_bad_config(home):
    data = json.loads(invoke("config", "show", "--json").stdout)
    assert data["paths"]["data_dir"] == str(home)
    (home).mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("[model]\nname = 3\n")
    result = invoke("config", "show")
    assert result.exit_code == 2
    assert "model.name must be a str" in result.stderr
    (home / "config.toml").write_text("[model\n")
    assert invoke("status").exit_code == 2


def test_doctor_flags_the_missing_default_model(home):
    result = invoke("doctor", "--json")
    assert result.exit_code == 1
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["model specter2"]["state"] == "fail"
    assert "specter-desk model download specter2" in checks["model specter2"]["fix"]
    assert checks["model minilm"]["state"] == "ok"
    assert checks["torch"]["state"] == "ok"
    from specter_desk.embed.encoder import default_dtype, pick_device

    assert f"precision auto = {default_dtype(pick_device())}" in checks["torch"]["detail"]


def test_doctor_says_narrow_models_run_fp32_on_an_amx_cpu(home, monkeypatch):
    import torch

    from specter_desk.embed import device

    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    monkeypatch.setattr(device, "cpu_has_amx", lambda: True)
    checks = {c["check"]: c for c in json.loads(invoke("doctor", "--json").stdout)["checks"]}
    detail = checks["torch"]["detail"]
    assert "precision auto = bfloat16 (float32 for models narrower than 768: AMX CPU)" in detail


def test_doctor_passes_with_minilm_configured(home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text('[model]\nname = "minilm"\nprecision = "float32"\n')
    result = invoke("doctor", "--json")
    assert result.exit_code == 0, result.output
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert "precision float32" in checks["torch"]["detail"]


def test_console_script_exit_code(home):
    """The installed entry point, as a user runs it."""
    proc = subprocess.run(
        [sys.executable, "-m", "specter_desk", "related", "anything"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
    )
    assert proc.returncode == 3
    assert proc.stderr.startswith("error:") and "Traceback" not in proc.stderr
