"""Unpadded (packed) BERT encoding: a batch's tokens concatenated, attention per text.

A padded batch computes every layer on pad tokens too. Packed, the texts of a batch are laid
end to end as one (tokens, hidden) matrix; `cu_seqlens` (cumulative lengths) tells the
attention kernel where each text starts, and every other op (the linear layers, layer norms,
the SPECTER2 adapter's bottleneck) works row by row, so it never sees padding. On CUDA the
attention is torch's varlen flash kernel; anywhere else `reference_attention` (one SDPA call
per text) gives the same numbers, which is how the packing is tested on a CPU.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

Attention = Callable[..., "torch.Tensor"]


@dataclass
class PackedBatch:
    """One batch laid end to end; rows past `count` are fillers that pad it to a fixed shape.

    Only the token ids and the cumulative lengths go to the device (the rest is derived
    there, see `token_layout`): two small host arrays per batch, as in the padded path.
    """

    input_ids: np.ndarray  # (tokens,) int32
    cu_seqlens: np.ndarray  # (rows + 1,) int32, where each text starts; empty rows at the end
    count: int  # real texts: the first `count` rows

    @property
    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """What goes to the device, in the order `PackedBert.pooled` takes it."""
        return self.input_ids, self.cu_seqlens


def pack(
    seqs: Sequence[Sequence[int]],
    *,
    tokens: int | None = None,
    rows: int | None = None,
    filler_length: int = 512,
    pad_id: int = 0,
) -> PackedBatch:
    """Token ids of texts concatenated; with tokens/rows, padded to exactly that shape.

    Padding tokens form filler texts of at most filler_length tokens each (so no filler is
    longer than the attention kernel's max length), then empty rows fill up to rows.
    """
    lengths = [len(s) for s in seqs]
    if not lengths or min(lengths) < 1:
        raise ValueError("pack() needs at least one text, each with at least one token")
    real = sum(lengths)
    tokens = tokens or real
    spare = tokens - real
    if spare < 0:
        raise ValueError(f"{real} tokens do not fit in {tokens}")
    fillers = [filler_length] * (spare // filler_length)
    if spare % filler_length:
        fillers.append(spare % filler_length)
    used = len(lengths) + len(fillers)
    rows = rows or used
    if rows < used:
        raise ValueError(f"{used} texts and fillers do not fit in {rows} rows")
    all_lengths = np.zeros(rows, dtype=np.int32)
    all_lengths[: len(lengths)] = lengths
    all_lengths[len(lengths) : used] = fillers
    cu = np.zeros(rows + 1, dtype=np.int32)
    np.cumsum(all_lengths, out=cu[1:])
    ids = np.full(tokens, pad_id, dtype=np.int32)
    ids[:real] = np.fromiter(chain.from_iterable(seqs), dtype=np.int32, count=real)
    return PackedBatch(input_ids=ids, cu_seqlens=cu, count=len(lengths))


def token_layout(cu_seqlens, tokens: int):
    """(segment, positions, first, lengths) of a packed batch, on cu_seqlens' device:
    the row of every token, its position in its text, each row's first token (CLS; any
    valid index for an empty row) and each row's length. No host sync: graph-safe."""
    import torch

    cu = cu_seqlens.long()
    lengths = cu[1:] - cu[:-1]
    rows = torch.arange(lengths.shape[0], device=cu.device)
    segment = torch.repeat_interleave(rows, lengths, output_size=tokens)
    positions = torch.arange(tokens, device=cu.device) - cu[segment]
    first = cu[:-1].clamp(max=tokens - 1)
    return segment, positions, first, lengths


def packed_shape(tokens: int, texts: int, budget: int, filler_length: int) -> tuple[int, int]:
    """(tokens, rows) of the CUDA graph a batch replays on: few shapes cover every batch.

    Tokens round up to the next power of two up to budget / 8, then to a multiple of
    budget / 8 (a full batch lands on the budget itself); rows to a power of two with room
    for the filler texts.
    """
    step = max(64, budget // 8)
    if tokens <= step:
        padded = max(64, 1 << (tokens - 1).bit_length())
    else:
        padded = -(-tokens // step) * step
    fillers = -(-(padded - tokens) // filler_length)
    rows = max(8, 1 << (texts + fillers - 1).bit_length())
    return padded, rows


def reference_attention(q, k, v, cu_seqlens, max_len: int):
    """Attention of each text with itself (one SDPA call per text): the CPU stand-in."""
    import torch

    out = torch.zeros_like(q)
    bounds = cu_seqlens.tolist()
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        if end > start:
            qs, ks, vs = (x[start:end].transpose(0, 1) for x in (q, k, v))
            attended = torch.nn.functional.scaled_dot_product_attention(qs, ks, vs)
            out[start:end] = attended.transpose(0, 1)
    return out


def varlen_attention():
    """torch's varlen flash attention, or None where this torch lacks it (before 2.10)."""
    try:
        from torch.nn.attention.varlen import varlen_attn
    except ImportError:
        return None

    def attention(q, k, v, cu_seqlens, max_len: int):
        return varlen_attn(q, k, v, cu_seqlens, cu_seqlens, max_len, max_len)

    return attention


def why_not_packable(model) -> str | None:
    """Why model cannot run packed (None: it can): BERT layers with absolute positions,
    optionally with bottleneck adapters stacked on them (SPECTER2), nothing else."""
    config = getattr(model, "config", None)
    if getattr(config, "model_type", None) != "bert":
        return f"model type {getattr(config, 'model_type', None)!r} is not BERT"
    if getattr(config, "position_embedding_type", "absolute") != "absolute":
        return "relative position embeddings"
    if getattr(config, "is_decoder", False):
        return "a decoder"
    encoder = getattr(model, "encoder", None)
    if encoder is None or not hasattr(model, "embeddings"):
        return "no BERT encoder/embeddings modules"
    import torch

    for layer in encoder.layer:
        attention = layer.attention.self
        if not all(
            isinstance(getattr(attention, n, None), torch.nn.Linear)
            for n in ("query", "key", "value")
        ):
            return "attention projections are not linear layers"
    # adapters wraps every projection and the embeddings (LoRA, prompt tuning); with only
    # bottleneck adapters configured those wrappers pass through
    adapters = getattr(model, "adapters_config", None)
    if adapters is None:
        return None
    from adapters import BnConfig

    for name in adapters.adapters:
        adapter_config = adapters.get(name)
        if not isinstance(adapter_config, BnConfig):
            return f"adapter {name!r} is not a bottleneck adapter"
        if adapter_config.get("inv_adapter") or adapter_config.get("is_parallel"):
            return f"adapter {name!r} is invertible or parallel"
    setup = adapters.active_setup
    if setup is not None and type(setup).__name__ != "Stack":
        return f"adapter composition {type(setup).__name__} works per batch row"
    return None


class PackedBert:
    """Runs a BERT model's own modules on packed rows; attention through `attention`.

    The embeddings, each layer's output blocks and (through them) an adapter's bottleneck
    are the model's modules, called on a (tokens, hidden) matrix; only self-attention is
    computed here, with Q, K and V in one matrix product.
    """

    def __init__(self, model, attention: Attention, *, pooling: str, normalize: bool):
        import torch

        self.model = model
        self.attention = attention
        self.pooling = pooling
        self.normalize = normalize
        self.heads = model.config.num_attention_heads
        self.layers = []
        for layer in model.encoder.layer:
            s = layer.attention.self
            weight = torch.cat([s.query.weight, s.key.weight, s.value.weight]).detach()
            bias = torch.cat([s.query.bias, s.key.bias, s.value.bias]).detach()
            self.layers.append((layer, weight, bias))
        self.layer_fn = packed_layer

    def hidden(self, input_ids, positions, cu_seqlens, max_len: int):
        """Last hidden states, (tokens, hidden)."""
        input_ids = input_ids.long()
        hidden = self.model.embeddings(
            input_ids=input_ids[None],
            position_ids=positions[None],
            token_type_ids=input_ids.new_zeros(1, input_ids.shape[0]),
        )[0]
        for layer, weight, bias in self.layers:
            hidden = self.layer_fn(
                layer, weight, bias, hidden, cu_seqlens, max_len, self.heads, self.attention
            )
        return hidden

    def pooled(self, input_ids, cu_seqlens, *, max_len: int):
        """One float32 vector per row (CLS or mean pooling, L2-normalised if asked)."""
        import torch

        segment, positions, first, lengths = token_layout(cu_seqlens, input_ids.shape[0])
        hidden = self.hidden(input_ids, positions, cu_seqlens, max_len)
        if self.pooling == "mean":
            sums = hidden.new_zeros((first.shape[0], hidden.shape[1]), dtype=torch.float32)
            sums.index_add_(0, segment, hidden.float())
            pooled = sums / lengths.clamp(min=1)[:, None]
        else:
            pooled = hidden.index_select(0, first).float()
        if self.normalize:
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
        return pooled


def packed_layer(layer, qkv_weight, qkv_bias, hidden, cu_seqlens, max_len, heads, attention):
    """One BERT layer on packed rows (the layer's own output blocks, adapters included)."""
    import torch

    tokens, width = hidden.shape
    qkv = torch.nn.functional.linear(hidden, qkv_weight, qkv_bias)
    q, k, v = qkv.view(tokens, 3, heads, width // heads).unbind(1)
    context = attention(q, k, v, cu_seqlens, max_len).reshape(tokens, width)
    attended = layer.attention.output(context, hidden)
    return layer.output(layer.intermediate(attended), attended)
