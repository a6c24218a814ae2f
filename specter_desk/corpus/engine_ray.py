"""The Ray engine: Ray Data ``map_batches`` over shards with an actor pool of encoders.

One row of the dataset is one pending shard; an actor (one per GPU with ``num_gpus=1``,
or a CPU actor) loads the encoder once, embeds each shard it is given and commits it to the
output directory, which every node must see (a shared filesystem; on one machine, any
directory). The driver streams the small result rows and rewrites the manifest. Ray Data
restarts a dead actor and retries its shard (``max_restarts``); if retries run out the run
fails, and a re-run skips the shards already committed.
"""

from __future__ import annotations

import re
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigError, CorpusError, SpecterDeskError
from .shards import Plan, ShardResult, ShardTask
from .worker import EncoderSettings, ShardWorker

if TYPE_CHECKING:
    from .options import CorpusOptions, OnShard

RESULT_FIELDS = ("shard", "count", "dim", "seconds", "worker")


def _import_ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise CorpusError(
            "the Ray engine needs Ray Data; install it with: pip install 'specter-desk[corpus]'"
        ) from exc
    return ray


class RayShardEncoder:
    """A Ray Data actor: one encoder on this actor's device (its GPU when it was given one)."""

    def __init__(self, settings: EncoderSettings, out: str, threads: int | None):
        import ray

        device = "cuda" if ray.get_gpu_ids() else "cpu"
        self.worker = ShardWorker(settings, out, device, threads=threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        results = [
            self.worker(ShardTask.from_row({k: batch[k][i] for k in batch}))
            for i in range(len(batch["shard"]))
        ]
        return {name: np.array([getattr(r, name) for r in results]) for name in RESULT_FIELDS}


def run_ray(
    plan: Plan, settings: EncoderSettings, options: CorpusOptions, on_shard: OnShard
) -> dict[str, Any]:
    """Embed the plan's pending shards on a Ray cluster; returns what ran where.

    Joins the cluster at options.address (or the Ray already initialised in this process, or
    starts a local one) and shuts down only a Ray it started itself.
    """
    pending = plan.pending
    address, cpus_per_worker = options.address, options.cpus_per_worker
    use_gpus, max_restarts = options.ray_gpus, options.max_restarts
    ray = _import_ray()
    started = False
    if not ray.is_initialized():
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise CorpusError(f"cannot reach the Ray cluster at {address!r}: {exc}") from exc
        started = True
    try:
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        cpus = int(resources.get("CPU", 1))
        if use_gpus is None:
            use_gpus = gpus > 0
        if use_gpus and not gpus:
            raise ConfigError("--gpus was asked for but the Ray cluster has no GPU")
        slots = gpus if use_gpus else max(1, cpus // max(cpus_per_worker, 1))
        actors = max(1, min(options.workers or slots, len(pending) or 1))
        info = {
            "cluster_cpus": cpus,
            "cluster_gpus": gpus,
            "actors": actors,
            "device": "cuda" if use_gpus else "cpu",
        }
        if not pending:
            return info
        from ray.data import ActorPoolStrategy, DataContext

        context = DataContext.get_current()
        context.enable_progress_bars = False
        if options.stall_timeout is not None:
            # Ray Data fails a run in which no block moves for this long (its default: 30 min).
            # A killed actor that may not restart can leave the run waiting until then.
            context.execution_no_progress_timeout_s = options.stall_timeout
        remote_args: dict[str, Any] = {}
        if max_restarts is not None:  # else Ray Data's default: restart and retry without limit
            remote_args = {"max_restarts": max_restarts}
            if max_restarts:
                remote_args["max_task_retries"] = max_restarts
        with warnings.catch_warnings():
            # Ray 2.60 deprecates passing max_restarts this way but offers no other way yet
            warnings.simplefilter("ignore", DeprecationWarning)
            dataset = ray.data.from_items(
                [task.to_row() for task in pending], override_num_blocks=len(pending)
            ).map_batches(
                RayShardEncoder,
                fn_constructor_kwargs={
                    "settings": settings,
                    "out": str(plan.out),
                    "threads": None if use_gpus else cpus_per_worker,
                },
                batch_size=1,
                compute=ActorPoolStrategy(size=actors),
                num_gpus=1 if use_gpus else 0,
                num_cpus=1 if use_gpus else cpus_per_worker,
                **remote_args,
            )
        committed = 0
        try:
            for row in dataset.iter_rows():
                on_shard(
                    ShardResult(
                        shard=int(row["shard"]),
                        count=int(row["count"]),
                        dim=int(row["dim"]),
                        seconds=float(row["seconds"]),
                        worker=str(row["worker"]),
                    )
                )
                committed += 1
        except Exception as exc:  # noqa: BLE001 - Ray wraps worker failures in many types
            user_error = _user_error(exc)
            if user_error is not None:  # e.g. the model is not on a node: say so as such
                raise user_error from exc
            raise CorpusError(
                f"the Ray run failed ({type(exc).__name__}: {_first_line(exc)}); "
                f"{committed} shards of this run are committed and kept; run the same "
                "command again to resume"
            ) from exc
        return info
    finally:
        if started:
            ray.shutdown()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""


_USER_ERROR = re.compile(r"specter_desk\.errors\.(\w+): (.+)")


def _user_error(exc: BaseException) -> SpecterDeskError | None:
    """The SpecterDeskError an actor raised (Ray passes it on as text in its own error)."""
    from .. import errors

    for text in (str(exc), str(getattr(exc, "cause", "") or "")):
        match = _USER_ERROR.search(text)
        if match:
            cls = getattr(errors, match.group(1), None)
            if isinstance(cls, type) and issubclass(cls, SpecterDeskError):
                return cls(match.group(2).strip())
    return None
