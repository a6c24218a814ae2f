"""MinHash signatures of character n-grams and LSH bands, vectorised with numpy.

Two strings whose n-gram sets have Jaccard similarity J share one band of `rows` hashes with
probability J**rows, so with `bands` bands they meet in some band with probability
1 - (1 - J**rows)**bands: records with garbled or abbreviated titles still land together.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache

import numpy as np

_CHUNK = 1 << 20  # n-grams hashed at a time (bounds the temporary arrays)
_SHIFT = np.uint64(32)


@lru_cache(maxsize=16)
def _parameters(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Multiply-shift hashing ((a * x + b) mod 2**64, top 32 bits; a odd): universal, no '%'.
    (Kept per (count, seed), read-only: copy detection asks for them on every related list.)"""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 1 << 63, size=count, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 1 << 63, size=count, dtype=np.uint64)
    a.flags.writeable = False
    b.flags.writeable = False
    return a, b


def ngram_codes(texts: Sequence[str], n: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(codes, owner): every byte n-gram of every text as an integer, and its text's index."""
    encoded = [t.encode("utf-8") for t in texts]
    pad = b"\x00" * (n - 1)  # text bytes are never 0: grams touching the pad are dropped
    buffer = np.frombuffer(b"".join(e + pad for e in encoded), dtype=np.uint8).astype(np.uint64)
    lengths = np.fromiter((len(e) + n - 1 for e in encoded), dtype=np.int64, count=len(encoded))
    if buffer.size < n:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    owner = np.repeat(np.arange(len(encoded), dtype=np.int64), lengths)[: buffer.size - n + 1]
    codes = np.zeros(buffer.size - n + 1, dtype=np.uint64)
    valid = np.ones(buffer.size - n + 1, dtype=bool)
    for k in range(n):
        part = buffer[k : buffer.size - n + 1 + k]
        codes = (codes << np.uint64(8)) | part
        valid &= part != 0
    return codes[valid], owner[valid]


def _drop_common(codes: np.ndarray, owner: np.ndarray, share: float) -> tuple:
    """Leave out n-grams found in more than `share` of the texts ('the', 'ion'): they put
    unrelated titles in one bucket. A text keeps its grams if it would lose all of them."""
    texts = int(owner.max()) + 1
    combined = np.sort(codes * np.uint64(texts) + owner.astype(np.uint64))
    distinct = combined[np.r_[True, combined[1:] != combined[:-1]]] // np.uint64(texts)
    starts = np.flatnonzero(np.r_[True, distinct[1:] != distinct[:-1]])
    counts = np.diff(np.r_[starts, distinct.size])
    common = distinct[starts[counts > max(share * texts, 2)]]
    keep = ~np.isin(codes, common, kind="sort")
    kept = np.zeros(texts, dtype=bool)
    kept[owner[keep]] = True
    keep |= ~kept[owner]
    return codes[keep], owner[keep]


def signatures(
    texts: Sequence[str], count: int, *, n: int = 3, seed: int = 20, common: float = 1.0
) -> np.ndarray:
    """MinHash signatures (len(texts) x count, uint32); a text with no n-gram gets all-max."""
    codes, owner = ngram_codes(texts, n)
    if common < 1.0 and codes.size:
        codes, owner = _drop_common(codes, owner, common)
    sig = np.full((len(texts), count), np.iinfo(np.uint32).max, dtype=np.uint32)
    if codes.size == 0:
        return sig
    a, b = _parameters(count, seed)
    # owners are sorted, so each text's grams are one run: reduce per run
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    present = owner[starts]
    if codes.size * count <= _CHUNK:  # small (a related list's copies): every hash at once
        with np.errstate(over="ignore"):
            hashed = ((codes[:, None] * a + b) >> _SHIFT).astype(np.uint32)
        sig[present] = np.minimum.reduceat(hashed, starts, axis=0)
        return sig
    hashed = np.empty(codes.size, dtype=np.uint32)
    work = np.empty(min(codes.size, _CHUNK), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(count):
            for lo in range(0, codes.size, _CHUNK):
                chunk = codes[lo : lo + _CHUNK]
                buf = work[: chunk.size]
                np.multiply(chunk, a[k], out=buf)
                np.add(buf, b[k], out=buf)
                np.right_shift(buf, _SHIFT, out=buf)
                hashed[lo : lo + chunk.size] = buf
            sig[present, k] = np.minimum.reduceat(hashed, starts)
    return sig


def lsh_buckets(sig: np.ndarray, bands: int, rows: int) -> Iterator[np.ndarray]:
    """Groups of row indices (two or more) that share all `rows` hashes of some band."""
    empty = np.iinfo(np.uint32).max
    usable = np.flatnonzero(sig[:, 0] != empty)
    if usable.size < 2:
        return
    part = sig[usable, : bands * rows].astype(np.uint64).reshape(len(usable), bands, rows)
    key = np.zeros((len(usable), bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in range(rows):
            key = key * np.uint64(0x9E3779B97F4A7C15) + part[:, :, column]
    order = np.argsort(key, axis=0, kind="stable")  # every band at once, one column each
    ordered = np.take_along_axis(key, order, axis=0)
    repeats = ordered[1:] == ordered[:-1]
    for band in np.flatnonzero(repeats.any(axis=0)):  # most bands of a small set have none
        bounds = np.r_[0, np.flatnonzero(~repeats[:, band]) + 1, len(usable)]
        for run in np.flatnonzero(np.diff(bounds) > 1):
            yield usable[order[bounds[run] : bounds[run + 1], band]]
