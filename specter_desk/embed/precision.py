"""The automatic CPU precision: bf16 autocast only where it was measured faster, per model.

Native bf16 is not always a win. On a 2-core AMD Zen 4 (AVX512-BF16) bf16 autocast ran
BERT-base 1.9x and MiniLM 1.4x faster than fp32; on a 2-core Intel Xeon with AMX it ran
BERT-base 1.7x faster but MiniLM no faster (0.95x; benchmarks/RESULTS.md). So on a CPU that
computes bf16 natively, the first use of a model times a few forward passes of a fixed batch
in both precisions, interleaved, and keeps bf16 only if it is at least PROBE_MARGIN faster.
The choice is cached per CPU, torch version, model and thread count in the data dir, so the
probe (a few seconds) runs once per machine and model.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from ..disk import write_atomic

CACHE_FILE = "cpu-precision.json"
# bf16 must beat fp32 by this much: a smaller gain is within a shared CPU's noise, and fp32
# is the exact path
PROBE_MARGIN = 1.15
PROBE_ROUNDS = 3
# a fixed batch: 4 texts of ~120 tokens, what a library's abstracts look like to the model
PROBE_TEXT = (
    "Dense retrieval of scientific papers with citation-informed transformers[SEP]We study "
    "how document-level representation learning from citation graphs transfers to "
    "recommendation, classification and search over large libraries of research articles. "
    "Models trained to bring cited papers together and push unrelated ones apart produce "
    "embeddings that rank related work well, and a small adapter specialises them for "
    "queries. We compare precisions, batch sizes and attention kernels on commodity CPUs and "
    "report the speed and the neighbours each setting keeps."
)


# choices made in this process (an encoder without a cache file still probes only once)
_decided: dict[str, dict] = {}


def cpu_name() -> str:
    """The CPU's model name (Linux /proc/cpuinfo; the platform's word elsewhere)."""
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def probe_key(model: str, location: str, threads: int) -> str:
    """What a cached choice is valid for: this CPU and torch, the model, the thread count."""
    import torch

    return f"{cpu_name()} | torch {torch.__version__} | {model} ({location}) | {threads} threads"


def cached_choice(path: Path | None, key: str) -> dict | None:
    """A choice made before for key, in this process or in the cache file."""
    return _decided.get(key) or read_choices(path).get(key)


def read_choices(path: Path | None) -> dict[str, dict]:
    """Every cached choice (an unreadable file counts as empty: the probe runs again)."""
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_choice(path: Path | None, key: str, choice: dict) -> None:
    """Remember one choice in this process and in the cache file (written atomically)."""
    _decided[key] = choice
    if path is None:
        return
    choices = read_choices(path)
    choices[key] = choice
    write_atomic(path, json.dumps(choices, indent=1, sort_keys=True).encode())


def measure_speedup(run: Callable[[bool], None], rounds: int = PROBE_ROUNDS) -> float:
    """fp32 time / bf16 time: median over rounds that time both, in alternating order,
    after one untimed pass of each. run(bf16) does one forward pass."""
    run(False)
    run(True)
    ratios = []
    for i in range(rounds):
        seconds = {}
        for bf16 in (True, False) if i % 2 else (False, True):
            started = time.perf_counter()
            run(bf16)
            seconds[bf16] = time.perf_counter() - started
        ratios.append(seconds[False] / max(seconds[True], 1e-9))
    return statistics.median(ratios)


def decide(speedup: float) -> str:
    """The precision a measured bf16 speed-up calls for."""
    return "bfloat16" if speedup >= PROBE_MARGIN else "float32"
