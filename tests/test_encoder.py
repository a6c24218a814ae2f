"""The encoder: loading paths (plain, SPECTER2 adapter, missing model), batching, order."""

from __future__ import annotations

import numpy as np
import pytest

from specter_desk.embed.encoder import Encoder
from specter_desk.embed.registry import ModelSpec, get_model, with_path
from specter_desk.errors import ModelNotFoundError

TEXTS = [
    "Attention is all you need[SEP]The dominant sequence transduction models ...",
    "BERT",
    "A much longer text about protein folding " * 30,
    "Graph neural networks for molecules",
]


def test_specter2_path_loads_adapter_saved_as_proximity(tiny_specter2_dir):
    spec = with_path(get_model("specter2"), str(tiny_specter2_dir))
    encoder = Encoder(spec, device="cpu")
    vectors = encoder.encode(TEXTS)
    assert vectors.shape == (4, 32)
    model = encoder._model
    assert "proximity" in model.adapters_config.adapters
    assert model.active_adapters is not None and "proximity" in str(model.active_adapters)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_adapter_changes_the_embedding(tiny_bert_dir, tiny_specter2_dir):
    import torch

    spec = with_path(get_model("specter2"), str(tiny_specter2_dir))
    with_adapter = Encoder(spec, device="cpu")
    with_adapter.load()
    # make the adapter do something (a freshly initialised bottleneck is close to identity)
    with torch.no_grad():
        for name, p in with_adapter._model.named_parameters():
            if "adapter" in name:
                p.add_(0.5)
    plain = Encoder(ModelSpec(name="p", hub_id="x", description="", local_path=lambda: str(
        tiny_specter2_dir)), device="cpu")
    a, b = with_adapter.encode(TEXTS[:2]), plain.encode(TEXTS[:2])
    assert not np.allclose(a, b, atol=1e-4)


def test_missing_model_names_hub_id_and_model_path_option(home, tmp_path):
    encoder = Encoder(get_model("specter2"), device="cpu")
    with pytest.raises(ModelNotFoundError) as info:
        encoder.load()
    message = str(info.value)
    assert "allenai/specter2_base" in message
    assert "--model-path" in message
    assert "\n" not in message


def test_model_path_that_is_not_a_directory(tmp_path):
    encoder = Encoder(get_model("specter2"), model_path=tmp_path / "nope", device="cpu")
    with pytest.raises(ModelNotFoundError, match="--model-path"):
        encoder.load()


def test_batches_are_length_sorted_and_results_in_input_order(tiny_model):
    encoder = Encoder(tiny_model, device="cpu", batch_size=2)
    batches = encoder.batches([5, 50, 7, 49, 1])
    assert batches == [[1, 3], [2, 0], [4]]
    together = encoder.encode(TEXTS)
    one_by_one = np.vstack([encoder.encode([t]) for t in TEXTS])
    assert np.allclose(together, one_by_one, atol=1e-5)


def test_token_budget_caps_batch(tiny_model):
    encoder = Encoder(tiny_model, device="cpu", batch_size=100)
    encoder.token_budget = 100
    batches = encoder.batches([60, 40, 40, 10, 10])
    assert all(max([60, 40, 40, 10, 10][i] for i in b) * len(b) <= 100 for b in batches)
    assert sorted(i for b in batches for i in b) == [0, 1, 2, 3, 4]


def test_minilm_loads_offline_from_the_wheel():
    encoder = Encoder(get_model("minilm"), device="cpu")
    v = encoder.encode(["Deep learning for protein structure prediction",
                        "Protein folding with neural networks",
                        "Tax policy in medieval Venice"])
    assert v.shape == (3, 384)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.2
