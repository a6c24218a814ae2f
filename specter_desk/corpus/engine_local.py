"""The local engine: one process per local GPU (spawned), or in-process on one device.

Workers take shards from a shared queue, so a fast GPU takes more of them. Each worker
commits its shards itself; the driver only collects results and rewrites the manifest. If
a worker dies, the others are stopped and the run fails with a message to re-run: the
shards already committed are skipped on the next run.
"""

from __future__ import annotations

import os
import queue
import traceback
from collections.abc import Callable

from ..errors import ConfigError, CorpusError
from .shards import Plan, ShardResult, ShardTask
from .worker import EncoderSettings, ShardWorker

OnShard = Callable[[ShardResult], None]
POLL_SECONDS = 0.5


def local_devices(requested: str | None = "auto") -> list[str]:
    """Devices for the local engine: every CUDA GPU for auto/cuda, else the listed ones."""
    import torch

    text = (requested or "auto").strip().lower()
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if text in ("auto", "cuda"):
        if gpus:
            return [f"cuda:{i}" for i in range(gpus)]
        if text == "cuda":
            raise ConfigError("--devices cuda was asked for but torch sees no CUDA GPU")
        return ["cpu"]
    devices = [d.strip() for d in text.split(",") if d.strip()]
    for device in devices:
        kind, _, number = device.partition(":")
        if kind not in ("cpu", "cuda", "mps") or (number and not number.isdigit()):
            raise ConfigError(
                f"unknown device {device!r} in --devices; use auto, cpu, cuda, or a list like "
                "cuda:0,cuda:1 (cpu,cpu runs two CPU processes)"
            )
        if kind == "cuda" and (not gpus or int(number or 0) >= gpus):
            raise ConfigError(f"--devices names {device} but torch sees {gpus} CUDA GPUs")
    if not devices:
        raise ConfigError("--devices is empty; use auto, cpu or a list like cuda:0,cuda:1")
    return devices


def run_local(
    plan: Plan,
    settings: EncoderSettings,
    devices: list[str],
    on_shard: OnShard,
) -> list[ShardResult]:
    """Embed the plan's pending shards on devices; on_shard runs in this process per shard."""
    pending = plan.pending
    if not pending:
        return []
    if len(devices) == 1:
        worker = ShardWorker(settings, str(plan.out), devices[0])
        results = []
        for task in pending:
            result = worker(task)
            on_shard(result)
            results.append(result)
        return results
    return _run_processes(plan, pending, settings, devices, on_shard)


def _run_processes(
    plan: Plan,
    pending: list[ShardTask],
    settings: EncoderSettings,
    devices: list[str],
    on_shard: OnShard,
) -> list[ShardResult]:
    import torch.multiprocessing as mp

    ctx = mp.get_context("spawn")
    tasks = ctx.Queue()
    results = ctx.Queue()
    cpu_workers = sum(1 for d in devices if d == "cpu")
    threads = max(1, (os.cpu_count() or 1) // max(cpu_workers, 1))
    for task in pending:
        tasks.put(task)
    for _ in devices:
        tasks.put(None)
    procs = [
        ctx.Process(
            target=_child,
            args=(settings, str(plan.out), device, threads, tasks, results),
            name=f"specter-desk-corpus-{device}",
            daemon=True,
        )
        for device in devices
    ]
    for proc in procs:
        proc.start()
    done: list[ShardResult] = []
    try:
        while len(done) < len(pending):
            try:
                kind, payload = results.get(timeout=POLL_SECONDS)
            except queue.Empty:
                _check_alive(procs, done)
                continue
            if kind == "error":
                raise CorpusError(
                    f"a worker failed: {payload}; {len(done)} shards of this run are committed "
                    "and kept; fix the cause and run the same command again to resume"
                )
            result = ShardResult(**payload)
            done.append(result)
            on_shard(result)
        for proc in procs:
            proc.join(timeout=30)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for proc in procs:
            proc.join(timeout=10)
        tasks.cancel_join_thread()
        results.cancel_join_thread()
    return done


def _check_alive(procs, done: list[ShardResult]) -> None:
    for proc in procs:
        if not proc.is_alive() and proc.exitcode not in (0, None):
            raise CorpusError(
                f"worker {proc.name} died (exit code {proc.exitcode}); {len(done)} shards of "
                "this run are committed and kept; run the same command again to resume"
            )
    if all(not proc.is_alive() for proc in procs):
        raise CorpusError("every worker exited before the run finished; run it again to resume")


def _child(settings, out, device, threads, tasks, results) -> None:  # runs in a spawned process
    try:
        worker = ShardWorker(settings, out, device, threads=threads)
        while True:
            task = tasks.get()
            if task is None:
                return
            results.put(("done", worker(task).to_dict()))
    except BaseException as exc:  # noqa: BLE001 - report anything to the driver, then exit
        traceback.print_exc()
        results.put(("error", f"{device}: {type(exc).__name__}: {exc}"))
        raise SystemExit(1) from exc
