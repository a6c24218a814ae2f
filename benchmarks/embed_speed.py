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
    "float32": "fp32, auto on CPUs without native bf16",
    "bfloat16": "bf16 autocast, auto on CPUs with native bf16",
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
    ours.load()
    lengths = token_lengths(ours.tokenizer, texts, spec.max_length)
    flops = forward_flops(ours._model, lengths)
    log(f"   mean tokens {np.mean(lengths):.0f}, {flops / len(texts) / 1e9:.1f} GFLOP per paper")
    ref = Reference(spec, device)
    warm = texts[: min(len(texts), 64 if device == "cpu" else 1024)]
    ref.encode(warm[:16])
    with Stopwatch() as clock:  # first use: cudnn plans, CUDA graph captures, allocator
        ours.encode(warm)
    log(f"   ours warm-up on {len(warm)} papers: {clock.seconds:.2f} s")
    ref_runs, our_runs = [], []
    ref_repeats = args.repeats if device == "cpu" else 1
    for rep in range(max(args.repeats, ref_repeats)):  # interleaved: a shared CPU drifts
        if rep < ref_repeats:
            row, ref_vectors = measure(ref.encode, texts, device, lengths, flops)
            ref_runs.append(row)
            log(f"   reference run {rep + 1}: {row['papers/s']:.1f} papers/s")
        row, our_vectors = measure(ours.encode, texts, device, lengths, flops)
        our_runs.append(row)
        log(f"   ours run {rep + 1}: {row['papers/s']:.1f} papers/s")
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
        rows += gpu_variants(spec, texts, device, lengths, flops, ours, our_vectors, args, deep)
    else:
        rows += cpu_variants(
            spec,
            texts,
            device,
            lengths,
            flops,
            ref_vectors,
            [v for v in args.cpu_variants if v != ours.dtype_name],
            args,
        )
    for row in rows:
        row["x"] = row["papers/s"] / reference["papers/s"]
    results[name] = rows
    columns = ["path", "papers/s", "x", "tokens/s", "peak MB", "TFLOP/s", "cos", "top10"]
    if peak_tflops():
        columns.insert(6, "% bf16 peak")
    columns += ["first", "warmup_s"]
    log(table(rows, columns))


def cpu_variants(spec, texts, device, lengths, flops, fp32_vectors, variants, args) -> list[dict]:
    """Other CPU precisions; agreement against the fp32 reference's vectors."""
    rows = []
    for dtype in variants:
        enc = Encoder(spec, device=device, dtype=dtype)
        enc.encode(texts[:16])
        runs = []
        for _ in range(args.repeats):
            row, vectors = measure(enc.encode, texts, device, lengths, flops)
            runs.append(row)
        cosine, overlap = agreement(fp32_vectors, vectors)
        rows.append(
            dict(
                best_of(runs),
                path=f"ours {dtype} ({CPU_LABEL[dtype]})",
                cos=cosine,
                top10=overlap,
            )
        )
        log(f"   {dtype}: {rows[-1]['papers/s']:.1f} papers/s, top10 {overlap:.3f}")
    return rows


def gpu_variants(spec, texts, device, lengths, flops, ours, our_vectors, args, deep) -> list[dict]:
    """bf16, bigger batches, torch.compile, and a forward-only ceiling (GPU)."""
    rows = []

    def timed(label, enc, repeats=3):
        runs = []
        for _ in range(repeats):
            row, vectors = measure(enc.encode, texts, device, lengths, flops)
            runs.append(row)
        cosine, overlap = agreement(our_vectors, vectors)
        rows.append(dict(best_of(runs), path=label, cos=cosine, top10=overlap))
        log(f"   {label}: {rows[-1]['papers/s']:.0f} papers/s")

    if "eager" in args.gpu_variants:
        enc = Encoder(spec, device=device, cuda_graphs=False)
        enc.encode(texts[:1024])
        timed("ours fp16 without CUDA graphs (eager launches)", enc)
        del enc
    if "bf16" in args.gpu_variants:
        enc = Encoder(spec, device=device, dtype="bfloat16")
        enc.encode(texts[:1024])
        timed("ours bf16", enc)
        del enc
    if not deep:  # sync check, profile and torch.compile only for --deep models
        return rows
    if "syncs" in args.gpu_variants:
        find_sync(spec, texts[:512], device)
        count_syncs(ours, texts[:1024])
    if "profile" in args.gpu_variants:
        profile(ours, texts[:2048], device)
    for dtype in ("float16", "bfloat16"):
        if f"compile-{dtype}" not in args.gpu_variants:
            continue
        enc = Encoder(spec, device=device, dtype=dtype, compile=True)
        try:
            with Stopwatch() as clock:
                enc.encode(texts[:4096])
            log(f"   compile ({dtype}) warm-up took {clock.seconds:.1f} s")
            timed(f"ours {dtype} + torch.compile (warm-up {clock.seconds:.0f} s)", enc)
        except Exception as exc:  # report, do not hide: the table says it failed
            log(f"   torch.compile ({dtype}) failed: {type(exc).__name__}: {str(exc)[:300]}")
        del enc
        torch.cuda.empty_cache()
    return rows


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
        if any(s in name for s in ("gemm", "cutlass", "sm90_xmma", "matmul", "nvjet")):
            group = "GEMM (linear layers)"
        elif any(s in name for s in ("fmha", "attention", "flash", "efficient")):
            group = "attention"
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
    """Do fp16/bf16 embeddings agree with fp32? Real weights (MiniLM), real texts."""
    base = Encoder(spec, device=device, dtype="float32").encode(texts)
    rows = []
    for dtype in ("float16", "bfloat16"):
        vectors = Encoder(spec, device=device, dtype=dtype).encode(texts)
        cosine, overlap = agreement(base, vectors)
        rows.append(
            {
                "model": spec.name,
                "dtype": dtype,
                "papers": len(texts),
                "mean cosine vs fp32": cosine,
                "top-10 overlap vs fp32": overlap,
            }
        )
    results["precision"] = rows
    log("\n== fp16/bf16 against fp32 (real MiniLM weights, real texts)")
    log(table(rows, list(rows[0])))


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
        default="eager,syncs,profile,compile-float16,compile-bfloat16",
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
