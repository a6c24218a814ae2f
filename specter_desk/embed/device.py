"""Which device and precision an encoder runs with (`auto` and what it means per machine)."""

from __future__ import annotations

import functools

from ..errors import ConfigError


def pick_device(requested: str = "auto") -> str:
    """cuda > mps > cpu for 'auto'; otherwise the requested device, checked."""
    import torch

    requested = (requested or "auto").lower()
    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("--device cuda was asked for but torch sees no CUDA GPU")
    if requested == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("--device mps was asked for but this machine has no MPS")
    if requested.split(":")[0] not in {"cpu", "cuda", "mps"}:
        raise ConfigError(f"unknown device {requested!r}; use auto, cpu, cuda or mps")
    return requested


def native_cpu_bf16() -> bool:
    """Whether this CPU computes bf16 matmuls natively (AVX512-BF16 or AMX)."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


@functools.cache
def cpu_has_amx() -> bool:
    """Whether this CPU has AMX tiles for bf16 (Intel Sapphire Rapids and later; Linux's
    /proc/cpuinfo flags; False where that file does not exist)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            return any(line.startswith("flags") and " amx_bf16" in line for line in fh)
    except OSError:
        return False


# Models narrower than this run fp32 on AMX CPUs: their small matrix products gained nothing
# from bf16 there (MiniLM, 384 wide: 0.78-1.05x fp32's speed), while BERT-base-size models
# (768) gained 1.7-2.1x (Intel Xeon with AMX, benchmarks/RESULTS.md, issue 18). On AMD Zen 4
# (AVX512-BF16, no AMX) bf16 paid for both (MiniLM 1.4-1.7x, BERT-base 1.9-3.2x).
AMX_MIN_BF16_WIDTH = 768


def cpu_bf16_pays(hidden_size: int) -> bool:
    """Whether `auto` keeps bf16 autocast for a model this wide on this CPU (which has native
    bf16): yes, except for narrow models on AMX CPUs."""
    return not (cpu_has_amx() and hidden_size < AMX_MIN_BF16_WIDTH)


def default_dtype(device: str) -> str:
    """The precision `auto` picks: fp16 on CUDA; on a CPU bf16 autocast where the CPU has
    native bf16 (3.3x fp32's speed on BERT-base, top-10 neighbours 0.99 of fp32's; but see
    cpu_bf16_pays for narrow models on AMX CPUs), else fp32 (emulated bf16 is several times
    slower); fp32 elsewhere (MPS)."""
    kind = device.split(":")[0]
    if kind == "cuda":
        return "float16"
    if kind == "cpu" and native_cpu_bf16():
        return "bfloat16"
    return "float32"
