"""Embedding models: the registry, the encoder and the incremental pipeline."""

from .encoder import Encoder, paper_text, pick_device
from .pipeline import EmbedResult, embed_missing
from .protocol import PaperEncoder
from .registry import MODELS, ModelSpec, get_model, query_model, register_model

__all__ = [
    "MODELS",
    "EmbedResult",
    "Encoder",
    "ModelSpec",
    "PaperEncoder",
    "embed_missing",
    "get_model",
    "paper_text",
    "pick_device",
    "query_model",
    "register_model",
]
