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
    plain = Encoder(
        ModelSpec(name="p", hub_id="x", description="", local_path=lambda: str(tiny_specter2_dir)),
        device="cpu",
    )
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
    v = encoder.encode(
        [
            "Deep learning for protein structure prediction",
            "Protein folding with neural networks",
            "Tax policy in medieval Venice",
        ]
    )
    assert v.shape == (3, 384)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.2


# -- the fast path (issue 8): same vectors as the plain transformers forward -----------------


def _reference_vectors(model, tokenizer, texts, pooling="cls"):
    """What transformers gives with its usual 2-d mask, one padded batch."""
    import torch

    enc = tokenizer(texts, padding=True, truncation=True, max_length=512, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**enc)[0]
    if pooling == "mean":
        mask = enc["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1)
    else:
        pooled = hidden[:, 0]
    return torch.nn.functional.normalize(pooled, dim=-1).numpy()


def test_sorted_batches_with_3d_mask_equal_the_plain_padded_forward(tiny_model):
    encoder = Encoder(tiny_model, device="cpu", batch_size=3, dtype="float32")
    ours = encoder.encode(TEXTS)
    reference = _reference_vectors(encoder._model, encoder.tokenizer, TEXTS)
    assert np.allclose(ours, reference, atol=1e-5)


def test_adapter_model_runs_its_base_model_with_the_adapter_active(tiny_specter2_dir):
    import torch

    spec = with_path(get_model("specter2"), str(tiny_specter2_dir))
    encoder = Encoder(spec, device="cpu", dtype="float32")
    encoder.load()
    with torch.no_grad():
        for name, p in encoder._model.named_parameters():
            if "adapter" in name:
                p.add_(0.3)
    ours = encoder.encode(TEXTS)
    full_model = _reference_vectors(encoder._model, encoder.tokenizer, TEXTS)
    assert np.allclose(ours, full_model, atol=1e-5)
    encoder._model.set_active_adapters(None)
    without_adapter = _reference_vectors(encoder._model, encoder.tokenizer, TEXTS)
    assert not np.allclose(ours, without_adapter, atol=1e-4)


def test_chunked_path_collects_per_chunk_in_input_order_with_progress(tiny_model):
    plain = Encoder(tiny_model, device="cpu").encode(TEXTS * 3)
    encoder = Encoder(tiny_model, device="cpu", batch_size=2)
    encoder.chunk_size = 5  # several chunks, tokenised ahead in the background thread
    encoder.sync_each_batch = False  # the accelerator path: one collect per chunk
    seen = []
    vectors = encoder.encode(TEXTS * 3, lambda done, total: seen.append((done, total)))
    assert np.allclose(vectors, plain, atol=1e-5)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert seen[-1] == (12, 12) and all(t == 12 for _, t in seen)


def test_the_next_calls_first_chunk_is_tokenised_during_this_call(tiny_model):
    import threading

    first, second = TEXTS[:3], (TEXTS * 3)[1:10]
    plain = Encoder(tiny_model, device="cpu").encode(second)
    encoder = Encoder(tiny_model, device="cpu")
    encoder.chunk_size = 4
    calls = []
    tokenize = encoder.tokenize

    def recording(texts):
        calls.append((threading.current_thread().name, list(texts)))
        return tokenize(texts)

    encoder.tokenize = recording
    encoder.encode(first, then=second)
    assert calls[-1][0].startswith("tokenize-next") and calls[-1][1] == second[:4]
    calls.clear()
    vectors = encoder.encode(second)  # the same list object: its first chunk is ready
    chunks = [second[i : i + 4] for i in range(0, len(second), 4)]
    assert [texts for _, texts in calls] == chunks[1:]
    assert np.allclose(vectors, plain, atol=1e-5)
    calls.clear()
    encoder.encode(list(second))  # another object: tokenised as usual
    assert [texts for _, texts in calls] == chunks


def test_padding_rounds_length_and_fills_graph_rows(tiny_model):
    encoder = Encoder(tiny_model, device="cpu")
    encoder.pad_multiple = 16
    ids, mask = encoder._pad([[101, 5, 102], [101, 102]], rows=4)
    assert ids.shape == (4, 16) and mask.shape == (4, 1, 16)
    assert mask[:, 0].sum(axis=1).tolist() == [3, 2, 1, 1]  # filler rows see one token
    assert ids[0, :3].tolist() == [101, 5, 102] and ids[0, 3] == encoder.tokenizer.pad_token_id
    long_ids, _ = encoder._pad([[1] * 510])
    assert long_ids.shape[1] == 512  # never past the model's max length


def test_int8_option_stays_close_to_fp32(tiny_model):
    base = Encoder(tiny_model, device="cpu", dtype="float32").encode(TEXTS)
    int8 = Encoder(tiny_model, device="cpu", dtype="int8").encode(TEXTS)
    assert int8.shape == base.shape
    assert float(np.mean(np.sum(base * int8, axis=1))) > 0.95


def test_unknown_dtype_is_a_config_error(tiny_model):
    from specter_desk.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown precision 'fp8'.*float16"):
        Encoder(tiny_model, device="cpu", dtype="fp8")


def test_empty_input_gives_an_empty_matrix(tiny_model):
    assert Encoder(tiny_model, device="cpu").encode([]).shape == (0, 32)


def test_defaults_are_the_fast_settings_on_cpu(tiny_model):
    from specter_desk.embed.encoder import default_dtype

    encoder = Encoder(tiny_model, device="cpu")
    assert encoder.dtype_name == default_dtype("cpu") and encoder.batch_size == 8
    assert encoder.sync_each_batch and not encoder.cuda_graphs and not encoder.compile
    assert encoder.spec.attn_implementation == "sdpa"


def test_embed_fast_embeds_with_int8_on_the_cpu(home, tiny_model, tmp_path):
    import json

    from typer.testing import CliRunner

    from specter_desk.cli import app
    from specter_desk.config import Config
    from specter_desk.desk import Desk

    path = tmp_path / "lib.jsonl"
    records = [{"key": f"K{i}", "title": f"Paper {i} on graphs", "abstract": "x"} for i in range(3)]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(path)]).exit_code == 0
    result = runner.invoke(app, ["embed", "--model", "tiny", "--fast", "--device", "cpu", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output[result.output.index("{") :])["embedded"] == 3
    desk = Desk(Config.load())
    try:
        assert desk.store.vector_counts() == {"tiny": 3}
        # the same papers at the default precision: int8 moved every vector a little
        keys, _, stored = desk.store.vectors("tiny")
        papers = desk.store.get_papers(keys)
        default = Encoder(tiny_model, device="cpu").encode_papers([papers[k] for k in keys])
        assert not np.allclose(stored, default, atol=1e-4)
        assert float(np.mean(np.sum(stored * default, axis=1))) > 0.9
    finally:
        desk.close()


def test_embed_fast_on_a_gpu_is_refused_with_what_to_do(home, tiny_model, monkeypatch):
    from typer.testing import CliRunner

    from specter_desk.cli import app, core

    monkeypatch.setattr(core, "pick_device", lambda requested: "cuda")
    result = CliRunner().invoke(app, ["embed", "--model", "tiny", "--fast"])
    assert result.exit_code == 2
    assert "--fast is for the CPU" in result.output and "--device cpu" in result.output


def test_auto_precision_is_bf16_only_on_cpus_that_compute_it_natively(tiny_model, monkeypatch):
    import torch

    from specter_desk.embed.encoder import default_dtype

    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    assert default_dtype("cpu") == "float32"
    assert Encoder(tiny_model, device="cpu").dtype_name == "float32"
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    assert default_dtype("cpu") == "bfloat16"
    assert default_dtype("cuda:1") == "float16" and default_dtype("mps") == "float32"
    encoder = Encoder(tiny_model, device="cpu", dtype="auto")
    assert encoder.dtype_name == "bfloat16" and encoder.autocast
    assert Encoder(tiny_model, device="cpu", dtype="float32").dtype_name == "float32"


def test_configured_precision_reaches_the_encoder_and_a_bad_one_is_one_line(
    home, tiny_model, monkeypatch
):
    from typer.testing import CliRunner

    from specter_desk.cli import app
    from specter_desk.config import Config
    from specter_desk.desk import Desk

    monkeypatch.setenv("SPECTER_DESK_PRECISION", "float32")
    desk = Desk(Config.load())
    try:
        assert desk.encoder("tiny", device="cpu").dtype_name == "float32"
    finally:
        desk.close()
    monkeypatch.setenv("SPECTER_DESK_PRECISION", "fp8")
    result = CliRunner().invoke(app, ["embed", "--model", "tiny", "--device", "cpu"])
    assert result.exit_code == 2
    assert "unknown precision 'fp8'" in result.output and "float32" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_bf16_on_cpu_autocasts_and_stays_close_to_fp32(tiny_model):
    import torch

    base = Encoder(tiny_model, device="cpu", dtype="float32").encode(TEXTS)
    encoder = Encoder(tiny_model, device="cpu", dtype="bfloat16")
    vectors = encoder.encode(TEXTS)
    assert encoder.autocast
    assert next(encoder._model.parameters()).dtype == torch.float32  # weights stay fp32
    assert float(np.mean(np.sum(base * vectors, axis=1))) > 0.999
    assert not np.allclose(base, vectors, atol=1e-7)  # it did run in bf16


def test_int8_on_a_gpu_is_a_config_error_that_says_what_to_do(tiny_model, monkeypatch):
    from specter_desk.embed import encoder as encoder_module
    from specter_desk.errors import ConfigError

    monkeypatch.setattr(encoder_module, "pick_device", lambda requested: "cuda")
    with pytest.raises(ConfigError, match="CPU only.*leave it out"):
        Encoder(tiny_model, device="cuda", dtype="int8")


def test_rust_tokenizer_gives_the_transformers_ids(tiny_model):
    from dataclasses import replace

    texts = [*TEXTS, "x " * 600, "Title only", "", "Ünïcode – “quotes” and emoji 🙂"] * 3
    for max_length in (512, 16):
        encoder = Encoder(replace(tiny_model, max_length=max_length), device="cpu")
        expected = encoder.tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
        assert encoder.tokenize(texts) == expected
    assert encoder._rust_tokenizer is not None  # the fast path ran


def test_chunks_start_small_and_double_up_to_the_chunk_size(tiny_model):
    encoder = Encoder(tiny_model, device="cpu")
    encoder.chunk_size = 4096
    sizes = [end - start for start, end in encoder._chunks(10000)]
    assert sizes == [512, 1024, 2048, 4096, 2320]
    assert encoder._chunks(100) == [(0, 100)] and encoder._chunks(0) == []


def test_concurrent_first_calls_load_the_model_once(tiny_model, monkeypatch):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    encoder = Encoder(tiny_model, device="cpu")
    loads = []
    both_waiting = threading.Barrier(2)
    real_load = encoder._load

    def counting_load():
        loads.append(threading.current_thread().name)
        real_load()

    monkeypatch.setattr(encoder, "_load", counting_load)

    def first_call():
        both_waiting.wait(30)  # both threads ask before either has loaded
        return encoder.encode(TEXTS[:2])

    with ThreadPoolExecutor(2) as pool:
        results = [f.result() for f in [pool.submit(first_call) for _ in range(2)]]
    assert len(loads) == 1
    assert np.allclose(results[0], results[1])


# -- the automatic CPU precision: bf16 autocast, except narrow models on AMX CPUs -----------


@pytest.mark.parametrize(
    ("amx", "expected"), [(False, "bfloat16"), (True, "float32")], ids=["avx512-bf16", "amx"]
)
def test_auto_runs_a_narrow_model_in_fp32_on_amx_cpus_only(tiny_model, monkeypatch, amx, expected):
    import torch

    from specter_desk.embed import device

    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    monkeypatch.setattr(device, "cpu_has_amx", lambda: amx)
    encoder = Encoder(tiny_model, device="cpu")  # tiny is 32 wide: "narrow"
    assert encoder.dtype_name == "bfloat16"  # the candidate until the model's width is known
    vectors = encoder.encode(TEXTS[:2])
    assert encoder.dtype_name == expected and encoder.autocast == (expected == "bfloat16")
    assert vectors.shape == (2, 32)
    explicit = Encoder(tiny_model, device="cpu", dtype="bfloat16")
    explicit.load()
    assert explicit.dtype_name == "bfloat16" and explicit.autocast  # asked for: never overruled


def test_bf16_pays_on_amx_from_bert_base_width(monkeypatch):
    from specter_desk.embed import device

    monkeypatch.setattr(device, "cpu_has_amx", lambda: True)
    assert not device.cpu_bf16_pays(384)  # MiniLM
    assert device.cpu_bf16_pays(768)  # SPECTER, SPECTER2, mpnet
    monkeypatch.setattr(device, "cpu_has_amx", lambda: False)
    assert device.cpu_bf16_pays(384)
