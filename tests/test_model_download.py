"""`model download` through the real huggingface_hub client against a stand-in hub on
127.0.0.1 serving a tiny model laid out like allenai/specter2_base + the allenai/specter2 and
allenai/specter2_adhoc_query adapter repositories; then loading exactly as for SPECTER2."""

from __future__ import annotations

import json
import os
import shutil
import socket

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import BASE, CHUNK, PROXIMITY, QUERY
from specter_desk.cli import app
from specter_desk.config import Config
from specter_desk.desk import Desk
from specter_desk.embed import hub as hub_module
from specter_desk.embed.installed import MANIFEST, install_dir, verify_folder

runner = CliRunner()
TEXTS = ["Attention is all you need", "A survey of graph neural networks for citation data"]


def reference_vectors(folder, adapter: str | None, load_as: str | None):
    """SPECTER2's model card recipe: AutoAdapterModel + load_adapter(load_as=...), CLS."""
    import torch
    from adapters import AutoAdapterModel
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder / "specter2_base"))
    model = AutoAdapterModel.from_pretrained(str(folder / "specter2_base"))
    if adapter:
        model.load_adapter(str(folder / adapter), load_as=load_as, set_active=True)
    model.eval()
    batch = tokenizer(TEXTS, padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        cls = model(**batch).last_hidden_state[:, 0]
    return torch.nn.functional.normalize(cls, dim=-1).numpy()


def encode_with(name: str) -> np.ndarray:
    desk = Desk(Config.load(), notice=lambda m: None)
    try:
        return desk.encoder(name, device="cpu", dtype="float32").encode(TEXTS)
    finally:
        desk.close()


def installed_folder():
    return install_dir(Config.load().paths, "specter2")


def test_download_installs_verified_specter2_that_loads_base_and_proximity_adapter(
    home, fake_hub, specter2_like
):
    result = runner.invoke(app, ["model", "download", "specter2", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    folder = installed_folder()
    assert info["path"] == str(folder) and not info["already"]
    assert info["dim"] == 32 and info["revisions"][BASE] == fake_hub.repos[BASE].commit
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert "pytorch_model.bin" in files and "proximity/pytorch_adapter.bin" in files
    assert "adhoc_query/adapter_config.json" in files
    assert not any(f.endswith(("README.md", ".gitattributes", "tf_model.h5")) for f in files)
    assert not (folder / ".cache").exists()
    assert info["size_bytes"] == sum((folder / f).stat().st_size for f in files if f != MANIFEST)
    assert verify_folder(folder) == []
    # the weights came through the resolve URLs, the LFS ones by way of the "CDN"
    assert fake_hub.requests("/resolve/", "HEAD") and fake_hub.requests("/cdn/", "GET")

    vectors = encode_with("specter2")
    expected = reference_vectors(specter2_like, "proximity", "proximity")
    np.testing.assert_allclose(vectors, expected, atol=1e-5)
    plain = reference_vectors(specter2_like, None, None)
    assert not np.allclose(vectors, plain, atol=1e-3)  # the adapter is really in the path
    query = encode_with("specter2-query")
    np.testing.assert_allclose(
        query, reference_vectors(specter2_like, "adhoc_query", "adhoc_query"), atol=1e-5
    )

    again = runner.invoke(app, ["model", "download", "specter2", "--json"])
    assert again.exit_code == 0 and json.loads(again.stdout)["already"] is True
    listing = json.loads(runner.invoke(app, ["model", "list", "--json"]).stdout)
    row = next(r for r in listing if r["name"] == "specter2")
    assert row["installed"] and row["where"] == "models folder" and row["dim"] == 32
    assert row["size_bytes"] == folder_bytes(folder) and row["active"]


def folder_bytes(folder) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_a_connection_dropped_mid_file_resumes_with_a_range_request(home, fake_hub):
    weights = fake_hub.repos[BASE].files["pytorch_model.bin"]
    cut = 20 * CHUNK
    assert len(weights.data) > 2 * cut
    fake_hub.drop_connection("pytorch_model.bin", after=cut)
    result = runner.invoke(app, ["model", "download", "specter2"])
    assert result.exit_code == 0, result.output
    gets = fake_hub.requests(f"/cdn/{weights.sha256}", "GET")
    assert [g["range"] for g in gets] == [None, f"bytes={cut}-"]
    assert gets[1]["status"] == 206
    assert (installed_folder() / "pytorch_model.bin").read_bytes() == weights.data


def test_an_interrupted_download_resumes_on_the_next_run(home, fake_hub):
    weights = fake_hub.repos[BASE].files["pytorch_model.bin"]
    cut = 10 * CHUNK
    fake_hub.drop_connection("pytorch_model.bin", after=cut, times=hub_module.ATTEMPTS)
    failed = runner.invoke(app, ["model", "download", "specter2"])
    assert failed.exit_code == 4
    assert "keeps breaking off" in failed.output and "run the command again" in failed.output
    assert not (installed_folder() / MANIFEST).exists()  # nothing half-installed
    before = len(fake_hub.requests(f"/cdn/{weights.sha256}", "GET"))
    result = runner.invoke(app, ["model", "download", "specter2"])
    assert result.exit_code == 0, result.output
    resumed = fake_hub.requests(f"/cdn/{weights.sha256}", "GET")[before:]
    assert len(resumed) == 1 and resumed[0]["range"] == f"bytes={cut * hub_module.ATTEMPTS}-"
    assert verify_folder(installed_folder()) == []


@pytest.mark.parametrize("name", ["pytorch_adapter.bin", "vocab.txt"])
def test_a_corrupted_file_is_detected_deleted_and_nothing_is_installed(home, fake_hub, name):
    fake_hub.corrupt(name, times=1)
    result = runner.invoke(app, ["model", "download", "specter2"])
    assert result.exit_code == 4
    assert f"{name} from" in result.output and "failed verification" in result.output
    expected = "sha256" if name.endswith(".bin") else "git id"
    assert expected in result.output
    assert not (installed_folder() / MANIFEST).exists()
    # the bad file is gone: the next run fetches it again and installs
    result = runner.invoke(app, ["model", "download", "specter2"])
    assert result.exit_code == 0, result.output
    assert verify_folder(installed_folder()) == []


def test_a_failed_update_leaves_the_installed_model_working(home, fake_hub, specter2_like):
    assert runner.invoke(app, ["model", "download", "specter2"]).exit_code == 0
    before = (installed_folder() / MANIFEST).read_text()
    fake_hub.add_repo(PROXIMITY, specter2_like / "adhoc_query")  # a new commit upstream
    fake_hub.corrupt("pytorch_adapter.bin")
    result = runner.invoke(app, ["model", "download", "specter2"])
    assert result.exit_code == 4 and "failed verification" in result.output
    assert (installed_folder() / MANIFEST).read_text() == before
    assert verify_folder(installed_folder()) == []
    assert encode_with("specter2").shape == (2, 32)


def test_a_damaged_installed_file_is_repaired_by_downloading_again(home, fake_hub):
    assert runner.invoke(app, ["model", "download", "specter2"]).exit_code == 0
    target = installed_folder() / "proximity" / "pytorch_adapter.bin"
    raw = bytearray(target.read_bytes())
    raw[100] ^= 0xFF
    target.write_bytes(bytes(raw))
    assert verify_folder(installed_folder()) != []
    fetched = len(fake_hub.requests("/cdn/", "GET"))
    result = runner.invoke(app, ["model", "download", "specter2"])
    assert result.exit_code == 0, result.output
    assert verify_folder(installed_folder()) == []
    assert len(fake_hub.requests("/cdn/", "GET")) == fetched + 1  # only the damaged file again


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_network_and_offline_mode_say_what_to_do(home, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(hub_module, "RETRY_WAIT", 0.0)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = runner.invoke(app, ["model", "download", "specter2"])
    assert result.exit_code == 4 and "HF_HUB_OFFLINE is set" in result.output
    assert "--from DIR" in result.output
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    for name in hub_module.OFFLINE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    result = runner.invoke(app, ["model", "download", "specter2"])
    assert result.exit_code == 4
    assert "cannot download allenai/specter2_base" in result.output
    assert "--from DIR" in result.output
    assert len(result.output.strip().splitlines()) <= 3  # one error, no traceback


def test_unknown_repository_and_bundled_model_are_clear_errors(home, fake_hub):
    from specter_desk.embed.registry import ModelSpec, register_model

    register_model(ModelSpec(name="ghost", hub_id="nobody/ghost", description="test"))
    result = runner.invoke(app, ["model", "download", "ghost"])
    assert result.exit_code == 4 and "has no repository nobody/ghost" in result.output
    result = runner.invoke(app, ["model", "download", "minilm"])
    assert result.exit_code == 2 and "nothing to download" in result.output
    result = runner.invoke(app, ["model", "download", "nope"])
    assert result.exit_code == 2 and "unknown model 'nope'" in result.output


# -- --from: a local copy, no network ------------------------------------------------------


def cut_network(monkeypatch) -> None:
    """From here on any attempt to reach a hub fails (nothing listens at HF_ENDPOINT)."""
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")


def test_install_from_a_copy_of_an_installed_model_needs_no_network(
    home, fake_hub, tmp_path, monkeypatch
):
    assert runner.invoke(app, ["model", "download", "specter2"]).exit_code == 0
    cut_network(monkeypatch)
    stick = tmp_path / "usb"
    shutil.copytree(installed_folder(), stick / "specter2")
    monkeypatch.setenv("SPECTER_DESK_HOME", str(tmp_path / "other-laptop"))
    fake_hub.stop()
    result = runner.invoke(app, ["model", "download", "specter2", "--from", str(stick), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["source"] == "folder" and "manifest" in info["verified"]
    assert verify_folder(installed_folder()) == []
    assert encode_with("specter2").shape == (2, 32)


def test_install_from_a_damaged_copy_fails_and_installs_nothing(
    home, fake_hub, tmp_path, monkeypatch
):
    assert runner.invoke(app, ["model", "download", "specter2"]).exit_code == 0
    cut_network(monkeypatch)
    stick = tmp_path / "usb"
    shutil.copytree(installed_folder(), stick)
    raw = bytearray((stick / "pytorch_model.bin").read_bytes())
    raw[-10] ^= 0x01
    (stick / "pytorch_model.bin").write_bytes(bytes(raw))
    shutil.rmtree(installed_folder())
    result = runner.invoke(app, ["model", "download", "specter2", "--from", str(stick)])
    assert result.exit_code == 4 and "the copy is damaged" in result.output
    assert not installed_folder().exists()


def hf_cache_copy(root, repo: str, source) -> None:
    """A Hugging Face cache entry as huggingface_hub writes one: blobs named by hash, a
    snapshot of links, refs/main."""
    from fake_hub import HubFile

    entry = root / ("models--" + repo.replace("/", "--"))
    commit = "c" * 40
    (entry / "refs").mkdir(parents=True)
    (entry / "refs" / "main").write_text(commit)
    snapshot = entry / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (entry / "blobs").mkdir()
    for path in source.iterdir():
        file = HubFile(path.read_bytes(), path.suffix == ".bin")
        blob = entry / "blobs" / (file.sha256 if file.lfs else file.blob_id)
        blob.write_bytes(file.data)
        os.symlink(os.path.relpath(blob, snapshot), snapshot / path.name)


@pytest.mark.skipif(os.name == "nt", reason="the test builds the cache's links with os.symlink")
def test_install_from_a_hugging_face_cache_checks_blob_hashes(
    home, tmp_path, specter2_like, monkeypatch
):
    cut_network(monkeypatch)
    cache = tmp_path / "huggingface" / "hub"
    for repo, folder in ((BASE, "specter2_base"), (PROXIMITY, "proximity"), (QUERY, "adhoc_query")):
        hf_cache_copy(cache, repo, specter2_like / folder)
    result = runner.invoke(
        app, ["model", "download", "specter2", "--from", str(tmp_path / "huggingface"), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verified"] == "hub checksums kept in the copy"
    np.testing.assert_allclose(
        encode_with("specter2"),
        reference_vectors(specter2_like, "proximity", "proximity"),
        atol=1e-5,
    )
    blob = next((cache / "models--allenai--specter2" / "blobs").glob("*"))
    raw = bytearray(blob.read_bytes())
    raw[-1] ^= 0xFF  # damage an adapter blob
    blob.write_bytes(bytes(raw))
    result = runner.invoke(
        app, ["model", "download", "specter2", "--from", str(tmp_path / "huggingface")]
    )
    assert result.exit_code == 4 and "damaged" in result.output


def test_install_from_plain_model_folders_records_hashes(
    home, tmp_path, specter2_like, monkeypatch
):
    cut_network(monkeypatch)
    stick = tmp_path / "stick"
    shutil.copytree(specter2_like / "specter2_base", stick / "specter2_base")
    shutil.copytree(specter2_like / "proximity", stick / "specter2")  # named as the repo
    shutil.copytree(specter2_like / "adhoc_query", stick / "adhoc_query")  # as loaded
    result = runner.invoke(app, ["model", "download", "specter2", "--from", str(stick), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["verified"].startswith("nothing:")  # said plainly: no checksums in the copy
    assert verify_folder(installed_folder()) == []  # sha256 recorded at install
    assert encode_with("specter2").shape == (2, 32)
    missing = runner.invoke(app, ["model", "download", "specter", "--from", str(stick)])
    assert missing.exit_code == 2 and "no copy of allenai/specter found" in missing.output


def test_model_remove_frees_the_folder_and_refuses_the_active_model(home, fake_hub):
    assert runner.invoke(app, ["model", "download", "specter2"]).exit_code == 0
    size = folder_bytes(installed_folder())
    refused = runner.invoke(app, ["model", "remove", "specter2"])  # specter2 is the default
    assert refused.exit_code == 2 and "active model" in refused.output
    (home / "config.toml").write_text('[model]\nname = "minilm"\n')
    result = runner.invoke(app, ["model", "remove", "specter2-query", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"name": "specter2", "freed_bytes": size}
    assert not installed_folder().exists()
    again = runner.invoke(app, ["model", "remove", "specter2"])
    assert again.exit_code == 4 and "not installed" in again.output
    bundled = runner.invoke(app, ["model", "remove", "minilm"])
    assert bundled.exit_code == 2 and "pip uninstall" in bundled.output


def test_a_model_that_is_not_there_names_the_command_that_fetches_it(home, tmp_path):
    library = tmp_path / "one.jsonl"
    library.write_text(json.dumps({"key": "K1", "title": "A paper", "abstract": "x"}) + "\n")
    assert runner.invoke(app, ["import", str(library)]).exit_code == 0
    result = runner.invoke(app, ["embed", "--model", "specter2-query"])
    assert result.exit_code == 4
    assert "`specter-desk model download specter2`" in " ".join(result.output.split())
