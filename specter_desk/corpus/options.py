"""The options of a corpus embedding run, and what an engine is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .shards import DEFAULT_SHARD_SIZE, Plan, ShardResult
from .worker import EncoderSettings

OnShard = Callable[[ShardResult], None]


@dataclass(frozen=True)
class CorpusOptions:
    """How to embed a corpus: the model, the shards, and the engine with its settings."""

    model: str = "specter2"
    model_path: str | None = None
    batch_size: int | None = None
    dtype: str | None = None  # float32, float16, bfloat16 (None: the device's default)
    shard_size: int = DEFAULT_SHARD_SIZE
    library: str | None = None  # the candidate pool's name (None: corpus:FILE)
    engine: str = "local"
    devices: str | None = "auto"  # local: auto, cpu, or a list like cuda:0,cuda:1
    address: str | None = None  # ray: the cluster to join (None: a local Ray for this run)
    workers: int | None = None  # ray: encoder actors (None: one per GPU, else per CPU slot)
    ray_gpus: bool | None = None  # ray: GPU actors (None: if the cluster has GPUs)
    cpus_per_worker: int = 1  # ray: CPUs of a CPU actor
    max_restarts: int | None = None  # ray: restarts of a dead actor (None: Ray Data's)
    stall_timeout: float | None = None  # ray: seconds without progress before giving up


# run(plan, settings, options, on_shard) -> what ran where: embeds the plan's pending shards,
# calling on_shard (in this process) as each one is committed
Engine = Callable[[Plan, EncoderSettings, CorpusOptions, OnShard], dict[str, Any]]
