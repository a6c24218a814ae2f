"""Embedding speed: our Encoder against the reference path of SPECTER's embedding script.

Reference = fp32, batch 8, input order (unsorted), eager attention, padding to the longest
text of each batch, one device sync per batch: what the original SPECTER `embed.py` does.
Ours = `specter_desk.embed.encoder.Encoder` with its defaults (length-sorted batches capped
by a token budget, SDPA, fp16 on CUDA / bf16 autocast or fp32 on CPU (auto), background
tokenisation, one sync per chunk). Same model, same texts (real titles + abstracts), same
device, one process.

Models: a BERT-base-size random model (SPECTER's shape: vocab 31090, 12 layers, 768 hidden),
the same with a SPECTER2 "proximity" seq_bn adapter loaded through adapters'
AutoAdapterModel (what the default model really runs), and MiniLM (real weights, used for the
accuracy checks). On CPU the reference and ours are interleaved (--repeats) because the
machine may be shared; the ratio is of medians.

    python benchmarks/embed_speed.py --device cpu            # make bench
    python benchmarks/embed_speed.py --device cuda --papers 8192
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    PeakRSS,
    Stopwatch,
    add_data_option,
    machine,
    paper_texts,
    table,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from specter_desk.embed.encoder import Encoder  # noqa: E402
from specter_desk.embed.registry import ModelSpec, get_model, with_path  # noqa: E402

CPU_LABEL = {
    "float32": "fp32: auto without native bf16, and for narrow models on AMX CPUs",
    "bfloat16": "bf16 autocast: auto on CPUs with native bf16",
    "int8": "--fast: per-channel int8",
}
BF16_PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}  # dense, SXM


def log(*parts) -> None:
    print(*parts, flush=True)


# -- models ------------------------------------------------------------------------------


def build_bert_base(workdir: Path, tokenizer_dir: str) -> tuple[Path, Path]:
    """A random BERT-base (SPECTER's shape) and a copy with a random 'proximity' adapter."""
    from adapters import AutoAdapterModel
    from transformers import AutoTokenizer, BertConfig, BertModel

    plain, specter2 = workdir / "bert-base", workdir / "bert-base-specter2"
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=31090,
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        max_position_embeddings=512,
    )
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    BertModel(config).save_pretrained(plain)
    tokenizer.save_pretrained(plain)
    shutil.copytree(plain, specter2)
    model = AutoAdapterModel.from_pretrained(str(plain))
    model.add_adapter("proximity", config="seq_bn")  # random init, SPECTER2's adapter shape
    model.save_adapter(str(specter2 / "proximity"), "proximity")
    return plain, specter2


def specs(workdir: Path, minilm_dir: str | None) -> dict[str, ModelSpec]:
    minilm = with_path(get_model("minilm"), minilm_dir) if minilm_dir else get_model("minilm")
    tokenizer_dir = minilm_dir or minilm.local_path()
    plain, specter2 = build_bert_base(workdir, tokenizer_dir)
    return {
        "bert-base": ModelSpec(
            name="bench-bert-base",
            hub_id="random/bert-base",
            description="random BERT-base",
            local_path=lambda: str(plain),
        ),
        "specter2": ModelSpec(
            name="bench-specter2",
            hub_id="random/bert-base",
            adapter="random/proximity",
            adapter_name="proximity",
            description="random BERT-base + proximity adapter",
            local_path=lambda: str(specter2),
        ),
        "minilm": minilm,
    }


# -- the reference path --------------------------------------------------------------------


class Reference:
    """SPECTER's embed script: fp32, batch 8, input order, eager attention, pad to longest."""

    def __init__(self, spec: ModelSpec, device: str, batch_size: int = 8):
        from transformers import AutoModel, AutoTokenizer

        location = spec.local_path()
        self.spec, self.device, self.batch_size = spec, device, batch_size
        self.tokenizer = AutoTokenizer.from_pretrained(location)
        if spec.adapter:
            from adapters import AutoAdapterModel

            model = AutoAdapterModel.from_pretrained(location, attn_implementation="eager")
            model.load_adapter(
                str(Path(location) / spec.adapter_name),
                load_as=spec.adapter_name,
                set_active=True,
            )
        else:
            model = AutoModel.from_pretrained(location, attn_implementation="eager")
        self.model = model.to(device=device, dtype=torch.float32).eval()

    def encode(self, texts: list[str]) -> np.ndarray:
        out = []
        with torch.no_grad():
            for start in range(0, len(texts), self.batch_size):
                enc = self.tokenizer(
                    texts[start : start + self.batch_size],
                    padding=True,
                    truncation=True,
                    max_length=self.spec.max_length,
                    return_tensors="pt",
                ).to(self.device)
                hidden = self.model(**enc)[0]
                if self.spec.pooling == "mean":
                    mask = enc["attention_mask"].unsqueeze(-1).float()
                    pooled = (hidden * mask).sum(1) / mask.sum(1)
                else:
                    pooled = hidden[:, 0]
                if self.spec.normalize:
                    pooled = torch.nn.functional.normalize(pooled, dim=-1)
                out.append(pooled.cpu().numpy())
        return np.vstack(out)

    def close(self) -> None:
        del self.model


# -- what we count -------------------------------------------------------------------------


def token_lengths(tokenizer, texts: list[str], max_length: int) -> list[int]:
    enc = tokenizer(texts, truncation=True, max_length=max_length, padding=False)
    return [len(x) for x in enc["input_ids"]]


def forward_flops(model, lengths: list[int]) -> float:
    """FLOPs of the encoder layers on the real (unpadded) tokens.

    2 * P * T  (every weight of the transformer layers, adapters included, is one
                multiply-add per token; embeddings, pooler and heads excluded)
    + 4 * n_layers * d * sum(L_i^2)  (attention scores Q.K^T and the weighted sum A.V)
    """
    config = model.config
    layer_params = sum(
        p.numel() for name, p in model.named_parameters() if ".layer." in name and "encoder" in name
    )
    tokens = sum(lengths)
    attention = 4 * config.num_hidden_layers * config.hidden_size * sum(x * x for x in lengths)
    return 2.0 * layer_params * tokens + attention


def peak_tflops() -> float | None:
    if not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name(0)
    return next((v for k, v in BF16_PEAK_TFLOPS.items() if k in name), None)


def agreement(a: np.ndarray, b: np.ndarray, k: int = 10) -> tuple[float, float]:
    """(mean cosine of matching rows, mean top-k neighbour overlap within the set)."""
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    cosine = float(np.mean(np.sum(a * b, axis=1)))
    overlaps = []
    for m in (a, b):
        sims = m @ m.T
        np.fill_diagonal(sims, -np.inf)
        overlaps.append(np.argsort(-sims, axis=1)[:, :k])
    shared = [len(set(x) & set(y)) / k for x, y in zip(*overlaps, strict=False)]
    return cosine, float(np.mean(shared))


# -- measuring -----------------------------------------------------------------------------


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def device_rate(enc: Encoder, ids: list[list[int]], device: str) -> float:
    """papers/s of the device work alone: the encoder's batches of texts tokenised
    beforehand, queued back to back, one sync at the end (after one untimed pass)."""
    batches = enc.batches([len(x) for x in ids])
    with torch.inference_mode():
        for _ in range(2):  # the first pass captures graphs
            sync(device)
            start = time.perf_counter()
            for batch in batches:
                enc._run([ids[i] for i in batch])
            sync(device)
    return len(ids) / (time.perf_counter() - start)


def pipeline_breakdown(enc: Encoder, texts: list[str], device: str) -> dict:
    """Where the host spends one encode call: tokenising (its own thread), queuing batches
    (_run: packing, copies, graph replay), waiting for results, and the rest (waiting for
    the tokenizer)."""
    spent = {"tokenize (background)": 0.0, "queue batches (_run)": 0.0, "wait for results": 0.0}
    originals = {name: getattr(enc, name) for name in ("tokenize", "_run", "_collect")}

    def timed(name, label):
        def call(*args, **kwargs):
            start = time.perf_counter()
            try:
                return originals[name](*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - start

        return call

    enc.tokenize = timed("tokenize", "tokenize (background)")
    enc._run = timed("_run", "queue batches (_run)")
    enc._collect = timed("_collect", "wait for results")
    try:
        sync(device)
        with Stopwatch() as clock:
            enc.encode(texts)
            sync(device)
    finally:
        for name in originals:
            delattr(enc, name)
    spent["whole call"] = clock.seconds
    spent["main thread otherwise (waits for tokens)"] = (
        clock.seconds - spent["queue batches (_run)"] - spent["wait for results"]
    )
    log("   host time in one encode: " + ", ".join(f"{k} {v:.3f} s" for k, v in spent.items()))
    return spent


def tokenizer_rates(enc: Encoder, texts: list[str]) -> dict:
    """texts/s of transformers' tokenizer call and of the encoder's own tokenize()."""
    sample = texts[:4096]
    rates = {}
    calls = {
        "transformers call": lambda: enc.tokenizer(
            sample, truncation=True, max_length=enc.spec.max_length
        )["input_ids"],
        "rust encode_batch_fast, one call": lambda: enc._rust().encode_batch_fast(sample),
        "encoder.tokenize": lambda: enc.tokenize(sample),
    }
    for label, call in calls.items():
        call()
        with Stopwatch() as clock:
            call()
        rates[label] = len(sample) / clock.seconds
    log("   tokenizer texts/s: " + ", ".join(f"{k} {v:,.0f}" for k, v in rates.items()))
    return rates


def measure(fn, texts, device, lengths, flops) -> dict:
    """Run fn(texts) once; papers/s, tokens/s, peak memory and TFLOP/s."""
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    sync(device)
    with PeakRSS() as rss, Stopwatch() as clock:
        vectors = fn(texts)
        sync(device)
    seconds = clock.seconds
    row = {
        "seconds": seconds,
        "papers/s": len(texts) / seconds,
        "tokens/s": sum(lengths) / seconds,
        "TFLOP/s": flops / seconds / 1e12,
        "peak MB": (
            torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else rss.peak_mb
        ),
    }
    peak = peak_tflops()
    if peak:
        row["% bf16 peak"] = 100 * row["TFLOP/s"] / peak
    return row, vectors


def best_of(runs: list[dict]) -> dict:
    """Median run by papers/s (keeps its other columns)."""
    ordered = sorted(runs, key=lambda r: r["papers/s"])
    return dict(ordered[len(ordered) // 2], runs=len(runs))


def bench_model(name, spec, texts, device, args, results, quality_texts) -> None:
    """Reference and ours (and variants on GPU) on one model."""
    log(f"\n== {name}: {len(texts)} papers on {device}")
    ours = Encoder(spec, device=device)
    with Stopwatch() as loading:
        ours.load()
    log(f"   load: {loading.seconds:.1f} s; auto precision here: {ours.dtype_name}")
    lengths = token_lengths(ours.tokenizer, texts, spec.max_length)
    flops = forward_flops(ours._model, lengths)
    log(f"   mean tokens {np.mean(lengths):.0f}, {flops / len(texts) / 1e9:.1f} GFLOP per paper")
    results.setdefault("tokenizer", {})[name] = tokenizer_rates(ours, texts)
    ref = Reference(spec, device)
    warm = texts[: min(len(texts), 64 if device == "cpu" else 1024)]
    ref.encode(warm[:16])
    with Stopwatch() as clock:  # first use: cudnn plans, CUDA graph captures, allocator
        ours.encode(warm)
    log(f"   ours warm-up on {len(warm)} papers: {clock.seconds:.2f} s")
    # on a CPU every precision runs in each round (a shared CPU drifts), in rotating order
    others = {}
    if device == "cpu":
        for dtype in args.cpu_variants:
            if dtype != ours.dtype_name:
                others[dtype] = Encoder(spec, device=device, dtype=dtype)
                others[dtype].encode(warm[:16])
    runs: dict[str, list[dict]] = {"reference": [], "ours": [], **{d: [] for d in others}}
    vectors: dict[str, np.ndarray] = {}
    encoders = {"reference": ref, "ours": ours, **others}
    ref_repeats = args.repeats if device == "cpu" else 1
    for rep in range(args.repeats):
        order = list(encoders)
        order = order[rep % len(order) :] + order[: rep % len(order)]
        for label in order:
            if label == "reference" and rep >= ref_repeats:
                continue
            row, vectors[label] = measure(encoders[label].encode, texts, device, lengths, flops)
            runs[label].append(row)
            log(f"   {label} run {rep + 1}: {row['papers/s']:.2f} papers/s")
    ref_runs, our_runs = runs["reference"], runs["ours"]
    ref_vectors, our_vectors = vectors["reference"], vectors["ours"]
    for dtype in others:  # same-round ratios: the drift of a shared CPU cancels
        ratios = [o["papers/s"] / r["papers/s"] for o, r in zip(runs[dtype], our_runs, strict=True)]
        log(f"   {dtype} / ours ({ours.dtype_name}) per round: {[round(x, 2) for x in ratios]}")
    reference = best_of(ref_runs)
    q = len(quality_texts)
    cosine, overlap = agreement(ref_vectors[:q], our_vectors[:q])
    rows = [dict(reference, path="reference (fp32, b8, unsorted, eager)", x=1.0)]
    rows.append(
        dict(
            best_of(our_runs),
            path=f"ours default ({ours.dtype_name})",
            cos=cosine,
            top10=overlap,
            first=our_runs[0]["papers/s"],
            warmup_s=clock.seconds,
        )
    )
    ref.close()
    if device.startswith("cuda"):
        deep = name in args.deep.split(",")
        rate = rows[-1]["papers/s"]
        ids = ours.tokenize(texts)
        rows[-1]["device papers/s"] = device_rate(ours, ids, device)
        if "pipeline" in args.gpu_variants:
            results.setdefault("pipeline", {})[name] = pipeline_breakdown(ours, texts, device)
        rows += gpu_variants(
            spec, texts, device, lengths, flops, ours, our_vectors[:q], rate, ids, args, deep
        )
    else:
        q = len(quality_texts)
        for dtype in others:
            cosine, overlap = agreement(ref_vectors[:q], vectors[dtype][:q])
            ratios = [
                o["papers/s"] / r["papers/s"] for o, r in zip(runs[dtype], our_runs, strict=True)
            ]
            label = f"ours {dtype} ({CPU_LABEL[dtype]})"
            rows.append(
                dict(
                    best_of(runs[dtype]),
                    path=label,
                    cos=cosine,
                    top10=overlap,
                    vs_default=statistics.median(ratios),
                )
            )
    ceiling = next((r for r in rows if r["path"].startswith("ceiling")), None)
    peak = peak_tflops()
    for row in rows:
        row["x"] = row["papers/s"] / reference["papers/s"]
        if ceiling:
            row["% ceiling"] = 100 * row["papers/s"] / ceiling["papers/s"]
        if "device papers/s" in row and peak:
            row["device % peak"] = 100 * flops / len(texts) * row["device papers/s"] / peak / 1e12
            if ceiling:
                row["device % ceiling"] = 100 * row["device papers/s"] / ceiling["device papers/s"]
    results[name] = rows
    columns = ["path", "papers/s", "x", "tokens/s", "peak MB", "TFLOP/s", "cos", "top10"]
    if peak_tflops():
        columns.insert(6, "% bf16 peak")
    if ceiling:
        columns.insert(7, "% ceiling")
    if ceiling:
        columns[3:3] = ["device papers/s", "device % peak", "device % ceiling"]
    columns += ["first", "warmup_s", "break_even"] if ceiling else ["vs_default"]
    log(table(rows, columns))


def gpu_variants(
    spec, texts, device, lengths, flops, ours, our_vectors, our_rate, ids, args, deep
) -> list[dict]:
    """The padded path, no graphs, other token budgets, torch.compile (warm-up and break-even)
    and the GEMM + attention ceiling (GPU)."""
    rows = []

    def timed(label, enc, repeats=3, **extra):
        runs = []
        for _ in range(repeats):
            row, vectors = measure(enc.encode, texts, device, lengths, flops)
            runs.append(row)
        q = len(our_vectors)  # the unique texts (the rest repeat them: ties in top-10)
        cosine, overlap = agreement(our_vectors, vectors[:q])
        row = dict(best_of(runs), path=label, cos=cosine, top10=overlap, **extra)
        row["device papers/s"] = device_rate(enc, ids, device)
        rows.append(row)
        alone = row["device papers/s"]
        log(f"   {label}: {row['papers/s']:.0f} papers/s (device alone {alone:.0f})")
        return row

    def variant(name, label, warm=1024, budget=None, **kwargs):
        if name not in args.gpu_variants:
            return None
        try:
            enc = Encoder(spec, device=device, **kwargs)
            if budget:
                enc.load()
                enc.token_budget = budget  # batches() and the graph shapes read it
            with Stopwatch() as clock:
                enc.encode(texts[:warm])
            return timed(label, enc, warmup_s=clock.seconds), enc
        except Exception as exc:  # report, do not hide: the log says it failed
            log(f"   {label} failed: {type(exc).__name__}: {str(exc)[:400]}")
            return None
        finally:
            torch.cuda.empty_cache()

    variant("padded", "padded batches + CUDA graphs (the default before packing)", packed=False)
    variant("eager", "ours without CUDA graphs (eager launches)", cuda_graphs=False)
    variant("bf16", "ours bf16", dtype="bfloat16")
    for name in args.gpu_variants:
        if name.startswith("budget-"):
            tokens = int(name.split("-")[1])
            variant(name, f"ours, packed batches of {tokens:,} tokens", budget=tokens)
    if "gelu-epilogue" in args.gpu_variants and ours.packed:
        enc = Encoder(spec, device=device)
        enc.load()
        enc._packed_model.layer_fn = gelu_in_gemm_epilogue
        enc.encode(texts[:1024])
        timed("experiment: GELU (tanh) fused into the FFN GEMM's epilogue", enc)
        del enc
    if "ceiling" in args.gpu_variants and ours.packed:
        ceiling = gemm_attention_ceiling(spec, device)
        ceiling.encode(texts[:1024])
        row = timed("ceiling: only the GEMMs + attention of the same batches", ceiling)
        row["cos"] = row["top10"] = float("nan")  # its vectors mean nothing
        del ceiling
    if not deep:  # sync check, profile and torch.compile only for --deep models
        return rows
    if "syncs" in args.gpu_variants:
        find_sync(spec, texts[:512], device)
        count_syncs(ours, texts[:1024])
    if "profile" in args.gpu_variants:
        profile(ours, texts[:2048], device)
    for dtype in ("float16", "bfloat16"):
        done = variant(
            f"compile-{dtype}",
            f"ours {dtype} + torch.compile",
            warm=4096,
            dtype=dtype,
            compile=True,
        )
        if done is None:
            continue
        row = done[0]
        gain = 1 / our_rate - 1 / row["papers/s"]
        row["break_even"] = row["warmup_s"] / gain if gain > 0 else float("inf")
        log(
            f"   compile ({dtype}): warm-up {row['warmup_s']:.1f} s, {row['papers/s']:.0f} vs "
            f"{our_rate:.0f} papers/s: pays off after {row['break_even']:,.0f} papers"
        )
    return rows


def gelu_in_gemm_epilogue(layer, qkv_w, qkv_b, hidden, cu_seqlens, max_len, heads, attention):
    """packed_layer with the FFN's bias + GELU done by cuBLASLt inside the matrix product
    (its GELU is the tanh approximation; BERT's is exact erf)."""
    import torch.nn.functional as F

    tokens, width = hidden.shape
    qkv = F.linear(hidden, qkv_w, qkv_b)
    q, k, v = qkv.view(tokens, 3, heads, width // heads).unbind(1)
    context = attention(q, k, v, cu_seqlens, max_len).reshape(tokens, width)
    attended = layer.attention.output(context, hidden)
    dense = layer.intermediate.dense
    inner = torch._addmm_activation(dense.bias, attended, dense.weight.t(), use_gelu=True)
    return layer.output(inner, attended)


def gemm_attention_ceiling(spec, device) -> Encoder:
    """Our packed encoder with each layer cut to its matrix products and attention: the
    speed this path would reach if every other op (layer norm, GELU, residual adds, adapter
    glue, embeddings' gather) were free. Same batches, graphs and copies as the default."""
    import torch.nn.functional as F

    enc = Encoder(spec, device=device)
    enc.load()

    def gemms_only(layer, qkv_w, qkv_b, hidden, cu_seqlens, max_len, heads, attention):
        tokens, width = hidden.shape
        qkv = F.linear(hidden, qkv_w, qkv_b)
        q, k, v = qkv.view(tokens, 3, heads, width // heads).unbind(1)
        x = attention(q, k, v, cu_seqlens, max_len).reshape(tokens, width)
        x = F.linear(x, layer.attention.output.dense.weight, layer.attention.output.dense.bias)
        h = F.linear(x, layer.intermediate.dense.weight, layer.intermediate.dense.bias)
        x = F.linear(h, layer.output.dense.weight, layer.output.dense.bias)
        for adapter in getattr(getattr(layer.output, "adapters", None), "values", list)():
            down = adapter.adapter_down[0]
            x = F.linear(F.linear(x, down.weight, down.bias), adapter.adapter_up.weight)
        return x * 1e-3  # keep fp16 finite without LN (the values mean nothing)

    enc._packed_model.layer_fn = gemms_only
    return enc


def profile(ours: Encoder, texts, device) -> None:
    """Where the GPU time goes: kernels grouped into GEMM, attention and the rest."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    with torch_profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        with Stopwatch() as clock:
            ours.encode(texts)
    events = [e for e in prof.key_averages() if e.device_type.name == "CUDA"]
    attr = (
        "self_device_time_total"
        if hasattr(events[0], "self_device_time_total")
        else ("self_cuda_time_total")
    )
    total = sum(getattr(e, attr) for e in events) / 1e3  # ms
    groups: dict[str, float] = {}
    for e in events:
        name = e.key.lower()
        if any(s in name for s in ("fmha", "attention", "flash", "efficient")):
            group = "attention"  # first: flash kernels carry cutlass types in their names
        elif any(s in name for s in ("gemm", "cutlass", "sm90_xmma", "matmul", "nvjet")):
            group = "GEMM (linear layers)"
        elif "layer_norm" in name or "layernorm" in name:
            group = "layer norm"
        elif "memcpy" in name or "memset" in name:
            group = "copies"
        else:
            group = "other elementwise (GELU, bias, residual, adapter glue, softmax)"
        groups[group] = groups.get(group, 0.0) + getattr(e, attr) / 1e3
    log(
        f"   profile of {len(texts)} papers: wall {clock.seconds * 1e3:.0f} ms, "
        f"GPU kernels {total:.0f} ms ({100 * total / (clock.seconds * 1e3):.0f}% busy)"
    )
    for group, ms in sorted(groups.items(), key=lambda x: -x[1]):
        log(f"     {group:<66} {ms:8.1f} ms {100 * ms / total:5.1f}%")
    log("   top kernels:")
    for e in sorted(events, key=lambda e: -getattr(e, attr))[:10]:
        ms = getattr(e, attr) / 1e3
        log(f"     {e.key[:90]:<90} {ms:8.1f} ms x{e.count}")


def find_sync(spec, texts, device) -> None:
    """Where the eager path makes the CPU wait for the GPU (the first such call)."""
    import traceback

    enc = Encoder(spec, device=device, cuda_graphs=False)
    enc.encode(texts[:8])
    torch.cuda.set_sync_debug_mode("error")
    try:
        enc.encode(texts)
        log("   eager path: no sync detected")
    except RuntimeError:
        log("   eager path, first host-device sync at:\n" + traceback.format_exc()[-1800:])
    finally:
        torch.cuda.set_sync_debug_mode(0)


def count_syncs(ours: Encoder, texts) -> None:
    """How many host-device syncs one encode makes (torch's sync debug mode)."""
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ours.encode(texts)
    finally:
        torch.cuda.set_sync_debug_mode(0)
    syncs = [w for w in caught if "synchron" in str(w.message).lower()]
    log(f"   host-device syncs in one encode of {len(texts)} papers: {len(syncs)}")


def precision_check(spec: ModelSpec, texts: list[str], device: str, results: dict) -> None:
    """Do fp16/bf16 and packed embeddings agree with fp32 and with padded batches? Real
    weights (MiniLM), real texts."""
    base = Encoder(spec, device=device, dtype="float32").encode(texts)
    padded = Encoder(spec, device=device, dtype="float16", packed=False).encode(texts)
    rows = []
    for dtype in ("float16", "bfloat16"):
        encoder = Encoder(spec, device=device, dtype=dtype)
        vectors = encoder.encode(texts)
        cosine, overlap = agreement(base, vectors)
        row = {
            "model": spec.name,
            "dtype": dtype,
            "packed": encoder.packed,
            "papers": len(texts),
            "mean cosine vs fp32": cosine,
            "top-10 overlap vs fp32": overlap,
        }
        if dtype == "float16":
            row["cosine vs padded fp16"], row["top-10 vs padded fp16"] = agreement(padded, vectors)
            low = float(np.min(np.sum(padded * vectors, axis=1)))
            row["min cosine vs padded fp16"] = low
        rows.append(row)
    cosine, overlap = agreement(base, padded)
    rows.append(
        {
            "model": spec.name,
            "dtype": "float16 padded",
            "packed": False,
            "papers": len(texts),
            "mean cosine vs fp32": cosine,
            "top-10 overlap vs fp32": overlap,
        }
    )
    results["precision"] = rows
    log("\n== fp16/bf16 and packed against fp32 and padded (real MiniLM weights, real texts)")
    columns = list(rows[0])
    log(table(rows, columns))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    add_data_option(parser)
    parser.add_argument("--models", default="minilm,bert-base,specter2")
    parser.add_argument(
        "--papers",
        type=int,
        help="papers for BERT-base-size models (default 8192 on GPU, 48 on CPU)",
    )
    parser.add_argument("--minilm-papers", type=int, help="(default 8192 GPU, 400 CPU)")
    parser.add_argument("--repeats", type=int, help="runs of each path (default 2 CPU, 3 GPU)")
    parser.add_argument("--minilm-dir", help="MiniLM folder if the wheel is not installed")
    parser.add_argument(
        "--gpu-variants",
        default="padded,eager,ceiling,budget-32768,budget-131072,syncs,profile,compile-float16",
        help="also: bf16, gelu-epilogue (an experiment), compile-bfloat16",
    )
    parser.add_argument("--deep", default="specter2", help="models that get profile/compile")
    parser.add_argument("--cpu-variants", default="float32,bfloat16,int8")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    args.gpu_variants = args.gpu_variants.split(",")
    args.cpu_variants = [v for v in args.cpu_variants.split(",") if v]

    from specter_desk.embed.encoder import pick_device

    device = pick_device(args.device)
    gpu = device.startswith("cuda")
    args.repeats = args.repeats or (3 if gpu else 2)
    log(f"machine: {machine()}")
    log(f"command: python benchmarks/embed_speed.py {' '.join(argv or sys.argv[1:])}")
    results: dict = {"machine": machine(), "device": device, "date": time.strftime("%Y-%m-%d")}
    with tempfile.TemporaryDirectory(prefix="embed-bench-") as tmp:
        all_specs = specs(Path(tmp), args.minilm_dir)
        sep = Encoder(all_specs["minilm"], device="cpu").sep
        unique = paper_texts(args.data, 1606, sep)
        for name in args.models.split(","):
            n = (
                (args.minilm_papers or (8192 if gpu else 400))
                if name == "minilm"
                else (args.papers or (8192 if gpu else 48))
            )
            texts = paper_texts(args.data, n, sep)
            quality = texts[: min(n, 1606)]
            bench_model(name, all_specs[name], texts, device, args, results, quality)
            if gpu:
                torch.cuda.empty_cache()
        if gpu and "minilm" in args.models:
            precision_check(all_specs["minilm"], unique, device, results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
