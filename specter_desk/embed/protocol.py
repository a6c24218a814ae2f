"""What code that embeds needs from an encoder, as a Protocol: Encoder is one, a test's fake
(a few lines, no model) is another, and neither needs getattr defaults."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from ..models import Paper
from .registry import ModelSpec

ProgressFn = Callable[[int, int], None]


class PaperEncoder(Protocol):
    """Embeds texts and papers (title [SEP] abstract) with one model, rows in input order."""

    spec: ModelSpec
    chunk_size: int  # texts per pipeline step on an accelerator
    sync_each_batch: bool  # results are ready batch by batch (a CPU), else once per chunk

    def encode(self, texts: Sequence[str], on_progress: ProgressFn | None = None) -> np.ndarray:
        """float32 rows, one per text."""
        ...

    def encode_papers(
        self, papers: Sequence[Paper], on_progress: ProgressFn | None = None
    ) -> np.ndarray:
        """float32 rows, one per paper."""
        ...
