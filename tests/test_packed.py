"""Packed (unpadded) encoding: packing, graph shapes, pooling and the same vectors as padded.

The varlen flash kernel needs CUDA; here the packed path runs with `reference_attention`
(one SDPA call per text), so everything around the kernel is checked on a CPU: the packing,
positions, fillers, the adapter on packed rows, CLS and mean pooling, input order.
"""

from __future__ import annotations

import numpy as np
import pytest

from specter_desk.embed.encoder import Encoder
from specter_desk.embed.packed import (
    pack,
    packed_shape,
    reference_attention,
    token_layout,
    why_not_packable,
)
from specter_desk.embed.registry import ModelSpec, get_model, with_path
from specter_desk.errors import ConfigError

TEXTS = [
    "Attention is all you need[SEP]The dominant sequence transduction models ...",
    "BERT",
    "A much longer text about protein folding " * 30,
    "Graph neural networks for molecules",
    "Deep learning for protein structure prediction[SEP]We predict structures.",
]


def test_pack_concatenates_texts_and_the_layout_restarts_positions():
    import torch

    batch = pack([[101, 7, 102], [101, 102], [101, 5, 6, 102]])
    assert batch.input_ids.tolist() == [101, 7, 102, 101, 102, 101, 5, 6, 102]
    assert batch.cu_seqlens.tolist() == [0, 3, 5, 9] and batch.cu_seqlens.dtype == np.int32
    assert batch.count == 3
    segment, positions, first, lengths = token_layout(torch.from_numpy(batch.cu_seqlens), 9)
    assert positions.tolist() == [0, 1, 2, 0, 1, 0, 1, 2, 3]
    assert segment.tolist() == [0, 0, 0, 1, 1, 2, 2, 2, 2]
    assert first.tolist() == [0, 3, 5] and lengths.tolist() == [3, 2, 4]


def test_pack_pads_to_a_shape_with_short_fillers_then_empty_rows():
    import torch

    batch = pack([[1, 2, 3], [4, 5]], tokens=16, rows=8, filler_length=4, pad_id=0)
    assert batch.input_ids.shape == (16,) and batch.cu_seqlens.shape == (9,)
    # 11 spare tokens -> fillers of 4, 4, 3; then 3 empty rows ending at 16
    assert batch.cu_seqlens.tolist() == [0, 3, 5, 9, 13, 16, 16, 16, 16]
    assert batch.input_ids[5:].tolist() == [0] * 11
    segment, positions, first, lengths = token_layout(torch.from_numpy(batch.cu_seqlens), 16)
    assert positions[5:].tolist() == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2]
    assert lengths[5:].tolist() == [0, 0, 0] and first[5:].tolist() == [15, 15, 15]
    assert segment.max().item() == 4 and batch.count == 2
    with pytest.raises(ValueError, match="do not fit"):
        pack([[1, 2, 3]], tokens=2)
    with pytest.raises(ValueError, match="do not fit"):
        pack([[1], [2], [3]], rows=2)
    with pytest.raises(ValueError, match="at least one token"):
        pack([[1], []])


def test_graph_shapes_are_few_and_always_fit():
    budget, longest = 65536, 512
    shapes = set()
    rng = np.random.default_rng(0)
    for _ in range(2000):
        texts = int(rng.integers(1, 400))
        tokens = int(min(budget, texts * rng.integers(1, longest + 1)))
        padded, rows = packed_shape(tokens, texts, budget, longest)
        fillers = -(-(padded - tokens) // longest)
        assert padded >= tokens and rows >= texts + fillers
        shapes.add(padded)
    assert packed_shape(budget - 100, 200, budget, longest)[0] == budget  # a full batch
    assert packed_shape(12, 1, budget, longest) == (64, 8)  # one search query
    assert len(shapes) <= 8 + 8  # powers of two up to budget/8, then 8 multiples


def _encoders(spec, **kwargs):
    padded = Encoder(spec, device="cpu", dtype="float32", packed=False, **kwargs)
    packed = Encoder(spec, device="cpu", dtype="float32", packed=True, **kwargs)
    return padded, packed


def test_packed_cls_vectors_equal_the_padded_path_in_input_order(tiny_model):
    padded, packed = _encoders(tiny_model, batch_size=3)
    a, b = padded.encode(TEXTS), packed.encode(TEXTS)
    assert packed.packed and not padded.packed
    assert np.allclose(a, b, atol=1e-5)


def test_packed_mean_pooling_equals_the_padded_path(tiny_bert_dir):
    spec = ModelSpec(
        name="tiny-mean",
        hub_id="x",
        description="",
        pooling="mean",
        local_path=lambda: str(tiny_bert_dir),
    )
    padded, packed = _encoders(spec)
    assert np.allclose(padded.encode(TEXTS), packed.encode(TEXTS), atol=1e-5)


def test_packed_specter2_runs_the_adapter_bottleneck_on_packed_rows(tiny_specter2_dir):
    import torch

    spec = with_path(get_model("specter2"), str(tiny_specter2_dir))
    padded, packed = _encoders(spec)
    for encoder in (padded, packed):
        encoder.load()
        with torch.no_grad():  # a fresh bottleneck is near identity: make it count
            for name, p in encoder._model.named_parameters():
                if "adapter" in name:
                    p.add_(0.3)
    a, b = padded.encode(TEXTS), packed.encode(TEXTS)
    assert np.allclose(a, b, atol=1e-5)
    packed._model.set_active_adapters(None)
    assert not np.allclose(packed.encode(TEXTS), b, atol=1e-4)  # the adapter did something


def test_fillers_and_empty_rows_do_not_change_the_real_rows(tiny_specter2_dir):
    import torch

    spec = with_path(get_model("specter2"), str(tiny_specter2_dir))
    encoder = Encoder(spec, device="cpu", dtype="float32", packed=True)
    ids = encoder.tokenize(TEXTS)
    bare = pack(ids)
    shaped = pack(ids, tokens=1024, rows=32, filler_length=64)
    run = encoder._packed_model.pooled
    with torch.inference_mode():
        a = run(*map(torch.from_numpy, bare.arrays), max_len=512)
        b = run(*map(torch.from_numpy, shaped.arrays), max_len=512)
    assert b.shape == (32, 32)
    assert torch.allclose(a, b[: len(TEXTS)], atol=1e-5)


def test_packed_batches_are_capped_by_real_tokens(tiny_model):
    encoder = Encoder(tiny_model, device="cpu", packed=True, batch_size=100)
    encoder.token_budget = 100
    lengths = [60, 40, 40, 10, 10, 5]
    batches = encoder.batches(lengths)
    assert all(sum(lengths[i] for i in b) <= 100 for b in batches)
    assert batches == [[0, 1], [2, 3, 4, 5]]  # padded, [2..5] would cost 40 x 4 = 160


def test_reference_attention_keeps_texts_apart():
    import torch

    torch.manual_seed(0)
    q, k, v = (torch.randn(7, 2, 4) for _ in range(3))
    cu = torch.tensor([0, 3, 7, 7], dtype=torch.int32)
    out = reference_attention(q, k, v, cu, 4)
    alone = reference_attention(q[3:], k[3:], v[3:], torch.tensor([0, 4]), 4)
    assert torch.allclose(out[3:], alone, atol=1e-6)


def test_models_that_cannot_run_packed_say_why_and_auto_falls_back(tmp_path, tiny_bert_dir):
    from transformers import BertConfig, BertModel

    config = BertConfig.from_pretrained(str(tiny_bert_dir))
    config.position_embedding_type = "relative_key"
    model = BertModel(config)
    assert "relative" in why_not_packable(model)
    model.save_pretrained(tmp_path)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (tiny_bert_dir / name).exists():
            (tmp_path / name).write_bytes((tiny_bert_dir / name).read_bytes())
    spec = ModelSpec(name="rel", hub_id="x", description="", local_path=lambda: str(tmp_path))
    with pytest.raises(ConfigError, match="packed encoding is not possible here: relative"):
        Encoder(spec, device="cpu", packed=True).load()
    encoder = Encoder(spec, device="cpu", packed=True)
    encoder._packed_asked = None  # what `auto` does on a GPU: fall back to padded batches
    vectors = encoder.encode(TEXTS[:2])
    assert not encoder.packed and encoder.batch_size == 8 and vectors.shape == (2, 32)
