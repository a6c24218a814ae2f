"""The HNSW index: a cache derived from stored vectors, validated before every load.

Files per model in the index directory: ``{model}.hnsw`` (hnswlib) and ``{model}.json``
(header: dim, counts, file size and sha256, the label -> key map and a checksum of the
store's vectors). hnswlib loads flipped bytes or a wrong dim silently, and can crash on
a torn file, so the header is checked first; anything that does not match is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .disk import write_atomic
from .store import Store

FORMAT = 1
Notice = Callable[[str], None]


class IndexInvalid(Exception):
    """The index files are missing or do not match their header (internal; never shown)."""


class RWLock:
    """Many readers or one writer: hnswlib is not safe to search during insert/resize."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._readers:
                self._cond.wait()
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


@dataclass
class IndexParams:
    """HNSW build and search parameters; ef_search 0 = grow with the index (auto_ef)."""

    m: int = 16
    ef_construction: int = 200
    ef_search: int = 0

    def ef_for(self, size: int) -> int:
        return self.ef_search or auto_ef(size)


def auto_ef(size: int) -> int:
    """hnswlib's search breadth for an index of size vectors: 64 up to 100k, then growing as
    size^0.6. Measured with M=16 on 768-d clustered vectors (benchmarks/RESULTS.md): ef 64
    kept recall@10 at 1.0 at 100k but 0.878 at 1M, where ef 256 gave 0.998 (p95 4.5 ms)."""
    return max(64, round(64 * (size / 100_000) ** 0.6))


def rows_checksum(rows: Iterable[tuple[str, str]]) -> str:
    """A checksum over sorted (key, content_hash) rows."""
    digest = hashlib.sha256()
    for key, chash in rows:
        digest.update(f"{key}\x1f{chash}\x1e".encode())
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _new_hnsw(dim: int):
    """An empty hnswlib cosine index (imported late: shard code on GPU hosts needs no hnswlib)."""
    import hnswlib

    return hnswlib.Index(space="cosine", dim=dim)


class PaperIndex:
    """An hnswlib cosine index over paper vectors of one model, addressed by paper key."""

    def __init__(
        self, model: str, dim: int, params: IndexParams | None = None, capacity: int = 1024
    ):
        self.model = model
        self.dim = dim
        self.params = params or IndexParams()
        self.lock = RWLock()
        self.labels: list[str | None] = []  # label -> key (None once deleted)
        self.hashes: list[str | None] = []  # label -> content hash
        self.key_to_label: dict[str, int] = {}
        self._hnsw = _new_hnsw(dim)
        self._hnsw.init_index(
            max_elements=max(capacity, 16),
            M=self.params.m,
            ef_construction=self.params.ef_construction,
            allow_replace_deleted=False,
        )
        self._hnsw.set_ef(self.params.ef_for(0))

    def __len__(self) -> int:
        return len(self.key_to_label)

    def __contains__(self, key: str) -> bool:
        return key in self.key_to_label

    @property
    def deleted_count(self) -> int:
        return len(self.labels) - len(self.key_to_label)

    def checksum(self) -> str:
        with self.lock.read():  # readers run beside the sync worker's adds
            rows = sorted((k, self.hashes[i]) for k, i in self.key_to_label.items())
        return rows_checksum(rows)

    def keys(self) -> list[str]:
        """The indexed keys, sorted (a snapshot: adds may go on meanwhile)."""
        with self.lock.read():
            return sorted(self.key_to_label)

    # -- writes ---------------------------------------------------------------------

    def add(self, keys: list[str], hashes: list[str], vectors: np.ndarray) -> None:
        """Add (or replace) vectors for keys."""
        if not keys:
            return
        if vectors.shape[1] != self.dim:
            raise ValueError(f"vector dim {vectors.shape[1]} != index dim {self.dim}")
        with self.lock.write():
            self._remove_locked([k for k in keys if k in self.key_to_label])
            start = len(self.labels)
            needed = start + len(keys)
            capacity = self._hnsw.get_max_elements()
            if needed > capacity:
                self._hnsw.resize_index(max(needed, capacity * 2))
            labels = np.arange(start, needed, dtype=np.int64)
            self._hnsw.add_items(np.ascontiguousarray(vectors, dtype=np.float32), labels)
            for offset, (key, chash) in enumerate(zip(keys, hashes, strict=True)):
                self.labels.append(key)
                self.hashes.append(chash)
                self.key_to_label[key] = start + offset

    def remove(self, keys: Iterable[str]) -> int:
        """Mark keys deleted; returns how many were present."""
        with self.lock.write():
            return self._remove_locked(list(keys))

    def _remove_locked(self, keys: list[str]) -> int:
        count = 0
        for key in keys:
            label = self.key_to_label.pop(key, None)
            if label is not None:
                self._hnsw.mark_deleted(label)
                self.labels[label] = None
                self.hashes[label] = None
                count += 1
        return count

    # -- reads ----------------------------------------------------------------------

    def vector(self, key: str) -> np.ndarray | None:
        """The stored vector for key (as indexed), or None."""
        with self.lock.read():
            label = self.key_to_label.get(key)
            if label is None:
                return None
            return np.asarray(self._hnsw.get_items([label])[0], dtype=np.float32)

    def vectors(self, keys: list[str]) -> tuple[list[str], np.ndarray]:
        """(the keys that are indexed, their vectors as indexed) in the order of keys."""
        with self.lock.read():
            found = [k for k in keys if k in self.key_to_label]
            if not found:
                return [], np.zeros((0, self.dim), dtype=np.float32)
            items = self._hnsw.get_items([self.key_to_label[k] for k in found])
            return found, np.asarray(items, dtype=np.float32)

    def query(
        self,
        vectors: np.ndarray,
        k: int,
        *,
        exclude: set[str] | frozenset[str] = frozenset(),
        allow: Callable[[str], bool] | None = None,
    ) -> list[list[tuple[str, float]]]:
        """Top-k (key, cosine similarity) per query row, skipping excluded keys."""
        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        with self.lock.read():
            live = len(self.key_to_label)
            if live == 0 or k <= 0:
                return [[] for _ in range(len(vectors))]
            want = min(live, k + len(exclude))
            labels_of = self.labels
            hnsw_filter = None
            if allow is not None:

                def hnsw_filter(label: int) -> bool:
                    key = labels_of[label]
                    return key is not None and allow(key)

            self._hnsw.set_ef(max(self.params.ef_for(live), want))
            try:
                labels, distances = self._hnsw.knn_query(vectors, k=want, filter=hnsw_filter)
            except RuntimeError:
                # a filter that admits fewer than `want` items: retry smaller, then give up
                labels, distances = self._query_fallback(vectors, want, hnsw_filter)
        results = []
        for row_labels, row_dist in zip(labels, distances, strict=True):
            row = []
            for label, dist in zip(row_labels, row_dist, strict=True):
                if label < 0:
                    continue
                key = labels_of[int(label)]
                if key is None or key in exclude:
                    continue
                row.append((key, float(1.0 - dist)))
                if len(row) == k:
                    break
            results.append(row)
        return results

    def _query_fallback(self, vectors, want, hnsw_filter):
        n = want
        while n > 1:
            n //= 2
            try:
                return self._hnsw.knn_query(vectors, k=n, filter=hnsw_filter)
            except RuntimeError:
                continue
        empty = np.full((len(vectors), 0), -1)
        return empty, empty.astype(np.float32)

    # -- files ----------------------------------------------------------------------

    def save(self, directory: Path, store_checksum: str | None = None) -> None:
        """Write the index atomically: data file first, then the header that vouches for it."""
        directory.mkdir(parents=True, exist_ok=True)
        data_path, header_path = paths_for(directory, self.model)
        tmp = data_path.with_name(f".{data_path.name}.tmp-{os.getpid()}")
        with self.lock.read():
            self._hnsw.save_index(str(tmp))
            header = {
                "format": FORMAT,
                "model": self.model,
                "dim": self.dim,
                "count": len(self.key_to_label),
                "elements": len(self.labels),
                "max_elements": self._hnsw.get_max_elements(),
                "params": vars(self.params),
                "store_checksum": store_checksum or self.checksum(),
                "labels": self.labels,
                "hashes": self.hashes,
            }
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        header["size"] = tmp.stat().st_size
        header["sha256"] = file_sha256(tmp)
        os.replace(tmp, data_path)
        write_atomic(header_path, json.dumps(header).encode())

    @classmethod
    def load(cls, directory: Path, model: str, params: IndexParams | None = None) -> PaperIndex:
        """Load after validating the header against the data file; raises IndexInvalid."""
        data_path, header_path = paths_for(directory, model)
        try:
            header = json.loads(header_path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise IndexInvalid("missing") from exc
        except (OSError, ValueError) as exc:
            raise IndexInvalid("unreadable header") from exc
        try:
            dim = int(header["dim"])
            labels = header["labels"]
            hashes = header["hashes"]
            checks = (
                header.get("format") == FORMAT,
                header.get("model") == model,
                isinstance(labels, list) and isinstance(hashes, list),
                len(labels) == len(hashes) == int(header["elements"]),
                sum(1 for k in labels if k is not None) == int(header["count"]),
                0 < dim <= 65536,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexInvalid("malformed header") from exc
        if not all(checks):
            raise IndexInvalid("header does not describe this model")
        if not data_path.exists():
            raise IndexInvalid("missing data file")
        if data_path.stat().st_size != header.get("size"):
            raise IndexInvalid("data file size differs from header (truncated?)")
        if file_sha256(data_path) != header.get("sha256"):
            raise IndexInvalid("data file checksum differs from header (corrupt)")
        _check_hnsw_layout(data_path, dim, len(labels), int(header["max_elements"]))
        index = cls.__new__(cls)
        index.model = model
        index.dim = dim
        index.params = params or IndexParams(**header.get("params", {}))
        index.lock = RWLock()
        index.labels = labels
        index.hashes = hashes
        index.key_to_label = {k: i for i, k in enumerate(labels) if k is not None}
        index._hnsw = _new_hnsw(dim)
        try:
            index._hnsw.load_index(str(data_path), max_elements=int(header["max_elements"]))
        except RuntimeError as exc:
            raise IndexInvalid(f"hnswlib refused the file: {exc}") from exc
        if index._hnsw.get_current_count() != len(labels):
            raise IndexInvalid("element count differs from header")
        index._hnsw.set_ef(index.params.ef_for(len(index.key_to_label)))
        index.stored_checksum = header.get("store_checksum")
        return index


_HNSW_HEAD = struct.Struct("<6Q")  # offsetLevel0, max_elements, count, size/element, label, data


def _check_hnsw_layout(path: Path, dim: int, count: int, max_elements: int) -> None:
    """Check the hnswlib file's own header against ours before hnswlib reads it."""
    with open(path, "rb") as fh:
        head = fh.read(_HNSW_HEAD.size)
    if len(head) < _HNSW_HEAD.size:
        raise IndexInvalid("data file too short")
    _, file_max, file_count, per_element, label_offset, data_offset = _HNSW_HEAD.unpack(head)
    if (file_count, file_max) != (count, max_elements):
        raise IndexInvalid("element counts in the data file differ from header")
    if label_offset - data_offset != dim * 4 or per_element < dim * 4:
        raise IndexInvalid(f"data file holds vectors of another dimension than {dim}")
    if path.stat().st_size < _HNSW_HEAD.size + count * per_element:
        raise IndexInvalid("data file shorter than its elements")


def paths_for(directory: Path, model: str) -> tuple[Path, Path]:
    """(data file, header file) for a model's index."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in model)
    return directory / f"{safe}.hnsw", directory / f"{safe}.json"


def build_index(store: Store, model: str, params: IndexParams | None = None) -> PaperIndex:
    """A fresh index from every current vector of model in the store."""
    keys, hashes, matrix = store.vectors(model)
    dim = matrix.shape[1] if len(keys) else 0
    index = PaperIndex(model, dim or 1, params, capacity=max(len(keys), 1024))
    if keys:
        index.add(keys, hashes, matrix)
    return index


def sync_index(index: PaperIndex, store: Store) -> tuple[int, int]:
    """Bring index in line with the store's vectors: (added, removed)."""
    rows = dict(store.vector_rows(index.model))
    stale = [k for k, label in index.key_to_label.items() if rows.get(k) != index.hashes[label]]
    index.remove(stale)
    missing = [k for k, chash in rows.items() if k not in index.key_to_label]
    if missing:
        keys, hashes, matrix = store.vectors(index.model, missing)
        index.add(keys, hashes, matrix)
    return len(missing), len(stale)


def open_index(
    store: Store,
    model: str,
    directory: Path,
    *,
    params: IndexParams | None = None,
    notice: Notice | None = None,
    save: bool = True,
) -> PaperIndex:
    """Load the model's index, rebuild it if invalid, and bring it up to date with the store."""
    rows = store.vector_rows(model)
    current = rows_checksum(rows)
    try:
        index = PaperIndex.load(directory, model, params)
    except IndexInvalid as exc:
        if str(exc) != "missing" and notice:
            notice(f"index for {model} was invalid ({exc}); rebuilt from {len(rows)} vectors")
        index = build_index(store, model, params)
        if save and len(index):
            index.save(directory, current)
        return index
    if rows and (not index.labels or index.dim != len(store.vectors(model, [rows[0][0]])[2][0])):
        if notice:
            notice(f"index for {model} has the wrong dimension; rebuilt")
        index = build_index(store, model, params)
    elif index.stored_checksum != current:
        sync_index(index, store)
        if index.deleted_count > max(1000, len(index)):
            index = build_index(store, model, params)
    else:
        return index
    if save:
        index.save(directory, current)
    return index


def index_health(store: Store, model: str, directory: Path) -> tuple[str, str]:
    """('ok'|'stale'|'missing'|'invalid', detail) without changing anything."""
    try:
        index = PaperIndex.load(directory, model)
    except IndexInvalid as exc:
        state = "missing" if str(exc) == "missing" else "invalid"
        return state, str(exc)
    rows = store.vector_rows(model)
    if index.stored_checksum != rows_checksum(rows):
        return "stale", f"{len(index)} indexed, {len(rows)} stored vectors; updated on next use"
    return "ok", f"{len(index)} vectors"
