"""The Desk: one open data directory (config, store, encoders, indexes) shared by CLI and bridge,
and the compound operations both need (embed what is missing, keep the index in step)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypedDict, Unpack

from filelock import FileLock, Timeout

from .config import Config, Paths
from .disk import PRIVATE, ensure_dir
from .embed.encoder import Encoder
from .embed.installed import installed_path
from .embed.pipeline import EmbedResult, embed_missing
from .embed.registry import ModelSpec, get_model
from .index import IndexParams, Notice, PaperIndex, open_index, sync_index
from .store import Store


class EncoderOptions(TypedDict, total=False):
    """Desk.encoder's options beyond the model name (None: the configured value)."""

    model_path: str | None
    device: str | None
    batch_size: int | None
    dtype: str | None


class Desk:
    """Opens the store lazily and caches one encoder and one index per model."""

    def __init__(
        self,
        config: Config | None = None,
        *,
        notice: Notice | None = None,
        threads: int | None = None,
    ):
        self.config = config or Config.load()
        self.paths: Paths = self.config.paths
        self.notice = notice
        self.threads = threads  # CPU threads for embedding (None: every core)
        self._store: Store | None = None
        self._encoders: dict[str, Encoder] = {}
        self._indexes: dict[str, PaperIndex] = {}
        self._lock = threading.RLock()

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.paths.store_path)
        return self._store

    @property
    def active_model(self) -> str:
        """The model related papers come from: config.toml's (re-read when it changed, so a
        daemon sees a finished `model use` at once), unless SPECTER_DESK_MODEL overrides it."""
        self.config.refresh()
        return self.config.model

    def model_spec(self, name: str | None = None) -> ModelSpec:
        """The registry spec for name (default: the active model)."""
        return get_model(name or self.active_model)

    def configured_path(self, name: str) -> str | None:
        """A folder configured for a model in config.toml's [model.paths], if any."""
        paths = self.config.get("model", "paths") or {}
        value = paths.get(name) or paths.get(get_model(name).install_name)
        return str(Path(value).expanduser()) if value else None

    def model_path(self, name: str) -> str | None:
        """Where a model's weights are on disk: a folder configured in [model.paths], else
        the one `specter-desk model download` installed; None: bundled or the HF cache."""
        folder = self.configured_path(name) or installed_path(self.paths, name)
        return str(folder) if folder else None

    def encoder(
        self,
        name: str | None = None,
        *,
        model_path: str | None = None,
        device: str | None = None,
        batch_size: int | None = None,
        dtype: str | None = None,
    ) -> Encoder:
        """A (cached) encoder for a model; dtype None: the configured precision (auto: fp16
        on CUDA, bf16 autocast on CPUs with native bf16, fp32 elsewhere)."""
        spec = self.model_spec(name)
        dtype = dtype or self.config.get("model", "precision")
        cache_key = f"{spec.name}|{model_path}|{device}|{batch_size}|{dtype}"
        with self._lock:
            if cache_key not in self._encoders:
                self._encoders[cache_key] = Encoder(
                    spec,
                    model_path=model_path or self.model_path(spec.name),
                    device=device or self.config.get("model", "device"),
                    batch_size=batch_size or self.config.get("model", "batch_size") or None,
                    dtype=dtype,
                    threads=self.threads,
                )
            return self._encoders[cache_key]

    def embed_missing(
        self,
        model: str | None = None,
        *,
        on_progress: Callable[[int, int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        **encoder: Unpack[EncoderOptions],
    ) -> EmbedResult:
        """Embed the live papers without a current vector for a model (default: the active
        one) with the encoder Desk.encoder gives for these options, then bring the model's
        index up to date. Loads no model when nothing is missing."""
        spec = self.model_spec(model)
        with self._embedding_turn(spec.name, should_stop) as ours:
            if ours and self.store.has_missing_vectors(spec.name):
                result = embed_missing(
                    self.store,
                    self.encoder(spec.name, **encoder),
                    on_progress=on_progress,
                    should_stop=should_stop,
                )
            else:
                result = EmbedResult(spec.name, 0, self.store.count_papers(pool=None))
        if self.store.vector_counts().get(spec.name):
            self.index(spec.name, refresh=True)
        return result

    @contextmanager
    def _embedding_turn(self, model: str, should_stop: Callable[[], bool] | None) -> Iterator[bool]:
        """One embedding run per model and data dir at a time, across processes: a second
        run waits (saying so), then finds the papers done. Yields False when should_stop
        said to stop while waiting."""
        lock = FileLock(str(self.paths.data_dir / f"embed-{model}.lock"), mode=PRIVATE)
        ensure_dir(self.paths.data_dir)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if self.notice:
                self.notice(
                    f"another specter-desk is embedding with {model} in {self.paths.data_dir}; "
                    "waiting for it to finish"
                )
            while True:
                if should_stop is not None and should_stop():
                    yield False
                    return
                try:
                    lock.acquire(timeout=1)
                    break
                except Timeout:
                    continue
        try:
            yield True
        finally:
            lock.release()

    @property
    def index_params(self) -> IndexParams:
        section = self.config.values["index"]
        return IndexParams(
            section["m"], section["ef_construction"], section["ef_search"], section["dtype"]
        )

    def index(self, name: str | None = None, *, refresh: bool = False) -> PaperIndex:
        """The model's index: loaded (or rebuilt) once, then kept in step with the store.

        A loaded index is handed out without taking the Desk's lock, so a request never
        waits for the sync worker's refresh (the index's own reader-writer lock keeps its
        searches apart from the worker's short adds).
        """
        model = self.model_spec(name).name
        loaded = self._indexes.get(model)
        if loaded is not None and not refresh:
            return loaded
        with self._lock:
            index = self._indexes.get(model)
            if index is None:
                index = open_index(
                    self.store,
                    model,
                    self.paths.index_dir,
                    params=self.index_params,
                    notice=self.notice,
                )
                self._indexes[model] = index
            elif refresh:
                self.refresh_index(model)
            return index

    def refresh_index(self, model: str) -> tuple[int, int]:
        """Apply new and changed vectors to a loaded index and save it."""
        with self._lock:
            index = self._indexes.get(model)
            if index is None or not index.labels:
                self._indexes.pop(model, None)
                self.index(model)
                return (len(self._indexes[model]), 0)
            added, removed = sync_index(index, self.store)
            if added or removed:
                index.save(self.paths.index_dir)
            return added, removed

    @property
    def loaded_models(self) -> list[str]:
        """Models whose index is loaded."""
        with self._lock:
            return list(self._indexes)

    def sibling(self) -> Desk:
        """A Desk with its own store connection sharing this one's encoders and indexes.

        The bridge's sync worker writes through a sibling while requests read through this
        Desk: readers see the last committed state, and both update the same indexes.
        """
        other = Desk(self.config, notice=self.notice, threads=self.threads)
        other._encoders = self._encoders
        other._indexes = self._indexes
        other._lock = self._lock
        return other

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
