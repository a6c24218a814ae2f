"""The local engine: one process per local GPU (spawned), or in-process on one device.

The workers start before the driver reads the corpus (see LocalWorkers). The driver hands
each worker a couple of shards at a time over its own pipe, so a faster GPU takes more of
them. Workers commit their shards themselves; the driver collects results and rewrites the
manifest. A worker that dies without a word (killed, crashed) has its shards re-queued to
the others; one that reports an error fails the run. Shards already committed are skipped
by the next run either way.
"""

from __future__ import annotations

import os
import pickle
import queue
import traceback
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, CorpusError
from .shards import Plan, ShardResult, ShardTask
from .worker import EncoderSettings, ShardWorker

if TYPE_CHECKING:
    from .options import CorpusOptions, OnShard

# shards a worker holds: the one it embeds, the next (tokenised meanwhile) and one more, so
# the next-but-one is already there when a shard finishes and the pipeline never drains
PREFETCH = 3
_NOT_YET = object()  # a worker's inbox had no next task yet


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
    plan: Plan, settings: EncoderSettings, options: CorpusOptions, on_shard: OnShard
) -> dict[str, Any]:
    """Embed the plan's pending shards on options.devices; on_shard runs in this process.

    A worker process that dies without reporting an error (killed, crashed) has its shards
    handed to the others, and is named in worker_deaths; the run fails only when every worker
    died.
    """
    devices = local_devices(options.devices)
    if not plan.pending:
        return {"devices": devices, "worker_deaths": []}
    workers = LocalWorkers(settings, str(plan.out), devices)
    try:
        return workers.run(plan, settings, options, on_shard)
    finally:
        workers.close()


@dataclass
class _Worker:
    """The driver's view of one worker process: its pipes and the shards it holds."""

    device: str
    proc: Any
    tasks: Any  # driver -> worker connection
    results: Any  # worker -> driver connection
    inflight: deque[ShardTask] = field(default_factory=deque)
    alive: bool = True


class LocalWorkers:
    """The local engine's workers, started as soon as the devices are known.

    `corpus embed` starts them before it reads and checksums the corpus, so loading the
    model (seconds per worker: weights, CUDA context, first graphs) overlaps the reading
    instead of following it. One spawned process per device, or (one device) the worker
    in this process, loaded in a background thread. `run` is an Engine (options.py).
    """

    def __init__(self, settings: EncoderSettings, out: str, devices: list[str]):
        self.devices = devices
        self.processes: list[_Worker] = []
        self._loader: ThreadPoolExecutor | None = None
        self._single: Future[ShardWorker] | None = None
        if len(devices) == 1:
            self._loader = ThreadPoolExecutor(1, thread_name_prefix="corpus-load")
            self._single = self._loader.submit(ShardWorker, settings, out, devices[0])
        else:
            self.processes = _spawn(settings, out, devices)

    def run(
        self, plan: Plan, settings: EncoderSettings, options: CorpusOptions, on_shard: OnShard
    ) -> dict[str, Any]:
        """Embed the plan's pending shards with these workers; what ran where."""
        info: dict[str, Any] = {"devices": self.devices, "worker_deaths": []}
        pending = plan.pending
        if not pending:
            return info
        if self._single is not None:
            worker = self._single.result()
            for i, task in enumerate(pending):
                on_shard(worker(task, pending[i + 1] if i + 1 < len(pending) else None))
        else:
            _drive(self.processes, pending, on_shard, info["worker_deaths"])
        return info

    def close(self) -> None:
        """Tell the worker processes to finish and wait for them (terminate a stuck one)."""
        if self._loader is not None:
            self._loader.shutdown(wait=False, cancel_futures=True)
        for worker in self.processes:
            try:
                worker.tasks.send(None)
            except (OSError, ValueError):
                pass
        for worker in self.processes:
            worker.proc.join(timeout=10)
            if worker.proc.is_alive():
                worker.proc.terminate()
                worker.proc.join(timeout=10)


def _spawn(settings: EncoderSettings, out: str, devices: list[str]) -> list[_Worker]:
    """One spawned process per device; each loads its encoder at once, then waits for tasks."""
    import torch.multiprocessing as mp

    ctx = mp.get_context("spawn")
    cpu_workers = sum(1 for d in devices if d == "cpu")
    threads = max(1, (os.cpu_count() or 1) // max(cpu_workers, 1))
    workers: list[_Worker] = []
    for device in devices:
        task_recv, task_send = ctx.Pipe(duplex=False)
        result_recv, result_send = ctx.Pipe(duplex=False)
        proc = ctx.Process(
            target=_child,
            args=(settings, out, device, threads, task_recv, result_send),
            name=f"specter-desk-corpus-{device}",
            daemon=True,
        )
        proc.start()
        task_recv.close()
        result_send.close()
        workers.append(_Worker(device, proc, task_send, result_recv))
    return workers


def _drive(
    workers: list[_Worker], pending: list[ShardTask], on_shard: OnShard, deaths: list[str]
) -> None:
    """Hand shards to the worker processes (PREFETCH each) and collect their results."""
    todo: deque[ShardTask] = deque(pending)

    def feed(worker: _Worker) -> None:
        while todo and len(worker.inflight) < PREFETCH:
            task = todo.popleft()
            try:
                worker.tasks.send(task)
            except OSError:  # the worker is gone; its sentinel will tell the loop
                todo.appendleft(task)
                return
            worker.inflight.append(task)

    def lose(worker: _Worker) -> None:
        worker.alive = False
        deaths.append(f"{worker.proc.name} (exit code {worker.proc.exitcode})")
        todo.extendleft(reversed(worker.inflight))  # its shards go to the others
        worker.inflight.clear()

    done = 0
    for worker in workers:
        feed(worker)
    while done < len(pending):
        alive = [w for w in workers if w.alive]
        if not alive:
            raise CorpusError(
                f"every worker died ({'; '.join(deaths)}); {done} shards of this run "
                "are committed and kept; run the same command again to resume"
            )
        ready = set(wait([w.results for w in alive] + [w.proc.sentinel for w in alive]))
        for worker in alive:
            gone = worker.proc.sentinel in ready
            while (worker.results in ready or gone) and worker.results.poll():
                try:
                    kind, payload = worker.results.recv()
                except (EOFError, OSError, pickle.UnpicklingError):
                    gone = True  # its end of the pipe closed: the process is gone
                    break
                if kind == "error":
                    raise CorpusError(
                        f"a worker failed: {payload}; {done} shards of this run are "
                        "committed and kept; fix the cause and run the same command again"
                    )
                worker.inflight.popleft()
                done += 1
                on_shard(ShardResult(**payload))
                feed(worker)
            if gone:
                worker.proc.join(timeout=10)
                lose(worker)
        for worker in workers:
            if worker.alive:
                feed(worker)


def _child(settings, out, device, threads, tasks, results) -> None:  # in a spawned process
    import threading

    inbox: queue.Queue = queue.Queue()

    def receive() -> None:  # read tasks as they come, so the driver never blocks on send
        try:
            while True:
                task = tasks.recv()
                inbox.put(task)
                if task is None:
                    return
        except (EOFError, OSError):
            inbox.put(None)

    try:
        if device.startswith("cuda:"):  # so code that uses the current device agrees
            import torch

            torch.cuda.set_device(device)
        worker = ShardWorker(settings, out, device, threads=threads)
        threading.Thread(target=receive, daemon=True).start()
        task = inbox.get()
        while task is not None:
            try:  # the driver sends PREFETCH tasks ahead: the next one is usually here
                following = inbox.get_nowait()
            except queue.Empty:
                following = _NOT_YET
            ahead = following if isinstance(following, ShardTask) else None
            results.send(("done", worker(task, ahead).to_dict()))
            task = inbox.get() if following is _NOT_YET else following
    except BaseException as exc:  # noqa: BLE001 - report anything to the driver, then exit
        traceback.print_exc()
        results.send(("error", f"{device}: {type(exc).__name__}: {exc}"))
        raise SystemExit(1) from exc
