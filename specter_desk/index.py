"""The HNSW index: a cache derived from stored vectors, validated before every load.

The graph is usearch's (wheels for every platform, so `pip install` needs no compiler; the
measured comparison with hnswlib is in benchmarks/RESULTS.md). Files per model in the index
directory: ``{model}.hnsw`` (the usearch file) and ``{model}.json`` (header: dim, counts,
file size and sha256, the label -> key map and a checksum of the store's vectors). An ANN
library can load flipped bytes silently or fail on a torn file, so the header is checked
first, then the file's own header (dimensions, count) against ours; anything that does not
match is rebuilt. A header of format 1 (hnswlib, earlier versions) is rebuilt the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Set
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .disk import PRIVATE, ensure_dir, fsync_dir, remove_stale_temps, temp_path, write_temp
from .errors import SpecterDeskError, StoreError
from .store import Store

FORMAT = 2  # 1: hnswlib files
DTYPES = ("f32", "f16")  # how vectors are kept in the graph: f16 halves its size
EXACT_LIMIT = 20_000  # a filter admitting at most this many papers: exact search over them
Notice = Callable[[str], None]
Allow = Callable[[str], bool] | Set[str]


class IndexInvalid(Exception):
    """The index files are missing or do not match their header (internal; never shown)."""


class RWLock:
    """Many readers or one writer: an HNSW graph is not safe to search during insert/resize."""

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
    dtype: str = "f32"

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            from .errors import ConfigError

            raise ConfigError(f"index.dtype must be one of {', '.join(DTYPES)}, not {self.dtype!r}")

    def ef_for(self, size: int) -> int:
        return self.ef_search or auto_ef(size)


def auto_ef(size: int) -> int:
    """The search breadth for an index of size vectors: 64 up to 100k, then growing as
    size^0.6. Measured with M=16 on 768-d clustered vectors (benchmarks/RESULTS.md): ef 64
    kept recall@10 at 1.0 at 100k but 0.878 at 1M, where ef 256 gave 0.998 (p95 4.5 ms)."""
    return max(64, round(64 * (size / 100_000) ** 0.6))


def rows_checksum(rows: Iterable[tuple[str, str]]) -> str:
    """A checksum over sorted (key, content_hash) rows."""
    digest = hashlib.sha256()
    for key, chash in rows:
        digest.update(f"{key}\x1f{chash}\x1e".encode())
    return digest.hexdigest()


def map_checksum(labels: list[str | None], hashes: list[str | None]) -> str:
    """A checksum of the header's label -> (key, content hash) map, in label order: a label
    that moved to another paper no longer matches (the data file's sha256 cannot see it)."""
    return hashlib.sha256(json.dumps([labels, hashes]).encode()).hexdigest()


def file_sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def backend_name() -> str:
    """The ANN library behind the index, with its version (raises ImportError if missing)."""
    import usearch

    return f"usearch {usearch.__version__}"


def _new_graph(dim: int, params: IndexParams):
    """An empty usearch cosine graph (imported late: shard code on GPU hosts needs none)."""
    from usearch.index import Index

    return Index(
        ndim=dim,
        metric="cos",
        dtype=params.dtype,
        connectivity=params.m,
        expansion_add=params.ef_construction,
        expansion_search=params.ef_for(0),
    )


class PaperIndex:
    """A cosine HNSW index over paper vectors of one model, addressed by paper key."""

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
        self._graph = _new_graph(dim, self.params)  # grows as vectors are added
        # one call into the graph at a time: its search contexts are per call, not per
        # Python thread (the RWLock still keeps readers off a graph being changed)
        self._graph_lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.key_to_label)

    def __contains__(self, key: str) -> bool:
        return key in self.key_to_label

    @property
    def ef(self) -> int:
        """The search breadth the last query used (ef_search, or auto_ef of the live size)."""
        return int(self._graph.expansion_search)

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
            labels = np.arange(start, start + len(keys), dtype=np.uint64)
            with self._graph_lock:
                self._graph.add(labels, np.ascontiguousarray(vectors, dtype=np.float32))
            for offset, (key, chash) in enumerate(zip(keys, hashes, strict=True)):
                self.labels.append(key)
                self.hashes.append(chash)
                self.key_to_label[key] = start + offset

    def remove(self, keys: Iterable[str]) -> int:
        """Mark keys deleted; returns how many were present."""
        with self.lock.write():
            return self._remove_locked(list(keys))

    def _remove_locked(self, keys: list[str]) -> int:
        gone = []
        for key in keys:
            label = self.key_to_label.pop(key, None)
            if label is not None:
                self.labels[label] = None
                self.hashes[label] = None
                gone.append(label)
        if gone:
            with self._graph_lock:
                self._graph.remove(np.asarray(gone, dtype=np.uint64))
        return len(gone)

    # -- reads ----------------------------------------------------------------------

    def vector(self, key: str) -> np.ndarray | None:
        """The stored vector for key (as indexed), or None."""
        with self.lock.read():
            label = self.key_to_label.get(key)
            if label is None:
                return None
            with self._graph_lock:
                return np.asarray(self._graph.get(label, dtype=np.float32), dtype=np.float32)

    def vectors(self, keys: Iterable[str]) -> tuple[list[str], np.ndarray]:
        """(the indexed ones of keys, their vectors as indexed), one call into the graph."""
        with self.lock.read():
            found = [k for k in keys if k in self.key_to_label]
            if not found:
                return [], np.zeros((0, self.dim), dtype=np.float32)
            labels = np.fromiter((self.key_to_label[k] for k in found), np.uint64, len(found))
            with self._graph_lock:
                rows = self._graph.get(labels, dtype=np.float32)
        return found, np.vstack(rows).astype(np.float32, copy=False)

    def query(
        self,
        vectors: np.ndarray,
        k: int,
        *,
        exclude: set[str] | frozenset[str] = frozenset(),
        allow: Allow | None = None,
        threads: int = 1,
    ) -> list[list[tuple[str, float]]]:
        """Top-k (key, cosine similarity) per query row, skipping excluded keys; allow (a set
        of keys, or a test on a key) keeps only the papers it admits; threads 0 searches the
        rows on every core."""
        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        with self.lock.read():
            live = len(self.key_to_label)
            if live == 0 or k <= 0:
                return [[] for _ in range(len(vectors))]
            want = min(live, k + len(exclude))
            if allow is None:
                rows = self._search(vectors, want, live, threads)
            else:
                rows = self._search_allowed(vectors, want, live, allow)
            labels_of = self.labels
            results = []
            for row in rows:
                hits = []
                for label, similarity in row:
                    key = labels_of[label]
                    if key is None or key in exclude:
                        continue
                    hits.append((key, similarity))
                    if len(hits) == k:
                        break
                results.append(hits)
        return results

    def nearest_keys(self, vectors: np.ndarray, k: int, *, threads: int = 1) -> list[list[str]]:
        """The keys of each query row's k nearest papers, nearest first (query() without the
        similarities: no per-hit tuples, for callers that rescore what they keep)."""
        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        with self.lock.read():
            live = len(self.key_to_label)
            if live == 0 or k <= 0:
                return [[] for _ in range(len(vectors))]
            labels, _, counts = self._graph_rows(vectors, min(live, k), live, threads)
            labels_of = self.labels
            rows = [[labels_of[label] for label in labels[i, :n].tolist()] for i, n in counts]
        return [[key for key in row if key is not None] for row in rows]

    def _graph_rows(
        self, vectors: np.ndarray, count: int, live: int, threads: int
    ) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
        """The graph's (labels, distances) matrices and (row, valid matches) per query."""
        with self._graph_lock:
            self._graph.expansion_search = max(self.params.ef_for(live), count)
            found = self._graph.search(vectors, count, threads=threads)
        labels = np.atleast_2d(found.keys)
        counts = getattr(found, "counts", None)
        if counts is None:  # one query: only the valid matches come back
            counts = [labels.shape[1]]
        return labels, np.atleast_2d(found.distances), list(enumerate(np.asarray(counts).tolist()))

    def _search(
        self, vectors: np.ndarray, count: int, live: int, threads: int = 1
    ) -> list[list[tuple[int, float]]]:
        """(label, cosine) rows from the graph, nearest first."""
        labels, distances, counts = self._graph_rows(vectors, count, live, threads)
        return [
            list(zip(labels[i, :n].tolist(), (1.0 - distances[i, :n]).tolist(), strict=True))
            for i, n in counts
        ]

    def _search_allowed(
        self, vectors: np.ndarray, want: int, live: int, allow: Allow
    ) -> list[list[tuple[int, float]]]:
        """Rows of admitted papers only: exact search over a small admitted set, else a
        search that fetches more (in proportion to what the filter drops) and filters."""
        admits = allow.__contains__ if isinstance(allow, Set) else allow
        if isinstance(allow, Set) and len(allow) <= EXACT_LIMIT:
            labels = [self.key_to_label[k] for k in allow if k in self.key_to_label]
            return self._exact(vectors, labels, want)
        fetch = min(live, want * 4)
        while True:
            rows = self._search(vectors, fetch, live)
            kept = [
                [(label, sim) for label, sim in row if admits(self.labels[label] or "")]
                for row in rows
            ]
            if all(len(row) >= want for row in kept):
                return [row[:want] for row in kept]
            if fetch >= live:
                break
            fetch = min(live, fetch * 4)
        labels = [label for key, label in self.key_to_label.items() if admits(key)]
        return self._exact(vectors, labels, want)

    def _exact(
        self, vectors: np.ndarray, labels: list[int], want: int
    ) -> list[list[tuple[int, float]]]:
        """Exact cosine search over the given labels."""
        if not labels:
            return [[] for _ in range(len(vectors))]
        ids = np.asarray(labels, dtype=np.uint64)
        with self._graph_lock:
            matrix = np.asarray(self._graph.get(ids, dtype=np.float32), dtype=np.float32)
        matrix = matrix.reshape(len(labels), self.dim)
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        queries = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        sims = queries @ matrix.T
        top = min(want, len(labels))
        rows = []
        for row in sims:
            best = np.argpartition(-row, top - 1)[:top]
            best = best[np.argsort(-row[best])]
            rows.append([(labels[int(j)], float(row[j])) for j in best])
        return rows

    # -- files ----------------------------------------------------------------------

    def save(self, directory: Path, store_checksum: str | None = None) -> None:
        """Write the index atomically: both files to temp files first, checked whole, then
        the data file and the header that vouches for it. One that cannot be written (a full
        disk) is a StoreError, and the index that was there stays."""
        ensure_dir(directory)
        data_path, header_path = paths_for(directory, self.model)
        tmp = temp_path(data_path)
        try:
            with self.lock.read():
                with self._graph_lock:
                    self._graph.save(str(tmp))
                    expected_size = self._graph.serialized_length
                header = {
                    "format": FORMAT,
                    "backend": "usearch",
                    "model": self.model,
                    "dim": self.dim,
                    "count": len(self.key_to_label),
                    "elements": len(self.labels),
                    "params": vars(self.params),
                    "store_checksum": store_checksum or self.checksum(),
                    "labels": list(self.labels),
                    "hashes": list(self.hashes),
                }
            os.chmod(tmp, PRIVATE)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            # a failed write (a full disk) may leave the file short: check it whole
            if tmp.stat().st_size != expected_size:
                raise IndexInvalid("data file cut short while writing")
            _check_layout(tmp, self.dim, header["count"], self.params.dtype)
            header["size"] = tmp.stat().st_size
            header["sha256"] = file_sha256(tmp)
            header["map_sha256"] = map_checksum(header["labels"], header["hashes"])
            header_tmp = write_temp(header_path, json.dumps(header).encode())
            os.replace(tmp, data_path)
            os.replace(header_tmp, header_path)
        except (OSError, RuntimeError, IndexInvalid, StoreError) as exc:
            tmp.unlink(missing_ok=True)
            temp_path(header_path).unlink(missing_ok=True)
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise StoreError(
                f"cannot save the {self.model} index in {directory} ({why}; is the disk full?); "
                "what was there before is kept"
            ) from exc
        fsync_dir(directory)

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
        if isinstance(header, dict) and header.get("format") == 1:
            raise IndexInvalid("made by an older specter-desk (hnswlib)")
        try:
            dim = int(header["dim"])
            labels = header["labels"]
            hashes = header["hashes"]
            stored_params = IndexParams(**header.get("params", {}))
            checks = (
                header.get("format") == FORMAT,
                header.get("model") == model,
                isinstance(labels, list) and isinstance(hashes, list),
                len(labels) == len(hashes) == int(header["elements"]),
                sum(1 for k in labels if k is not None) == int(header["count"]),
                0 < dim <= 65536,
            )
        except (KeyError, TypeError, ValueError, SpecterDeskError) as exc:
            raise IndexInvalid("malformed header") from exc
        if not all(checks):
            raise IndexInvalid("header does not describe this model")
        if header.get("map_sha256") != map_checksum(labels, hashes):
            raise IndexInvalid("the label map does not match its checksum (edited or corrupt)")
        if not data_path.exists():
            raise IndexInvalid("missing data file")
        if data_path.stat().st_size != header.get("size"):
            raise IndexInvalid("data file size differs from header (truncated?)")
        if file_sha256(data_path) != header.get("sha256"):
            raise IndexInvalid("data file checksum differs from header (corrupt)")
        _check_layout(data_path, dim, int(header["count"]), stored_params.dtype)
        from usearch.index import Index

        index = cls.__new__(cls)
        index.model = model
        index.dim = dim
        # the graph keeps how its vectors were stored; the rest may come from the caller
        index.params = params or stored_params
        if index.params.dtype != stored_params.dtype:
            raise IndexInvalid(
                f"built with {stored_params.dtype} vectors, {index.params.dtype} asked"
            )
        index.lock = RWLock()
        index._graph_lock = threading.Lock()
        index.labels = labels
        index.hashes = hashes
        index.key_to_label = {k: i for i, k in enumerate(labels) if k is not None}
        try:
            index._graph = Index.restore(str(data_path))
        except (RuntimeError, ValueError) as exc:
            raise IndexInvalid(f"usearch refused the file: {exc}") from exc
        if index._graph is None or len(index._graph) != len(index.key_to_label):
            raise IndexInvalid("element count differs from header")
        index._graph.expansion_search = index.params.ef_for(len(index.key_to_label))
        index.stored_checksum = header.get("store_checksum")
        return index


def _check_layout(path: Path, dim: int, count: int, dtype: str) -> None:
    """Check the usearch file's own header (read alone) against ours before loading it."""
    from usearch.index import Index

    try:
        meta = Index.metadata(str(path))
    except (RuntimeError, ValueError) as exc:
        raise IndexInvalid(f"not a usearch file ({exc})") from exc
    if not meta:
        raise IndexInvalid("not a usearch file")
    if int(meta["dimensions"]) != dim:
        raise IndexInvalid(f"data file holds vectors of another dimension than {dim}")
    if int(meta["count_present"]) != count:
        raise IndexInvalid("element counts in the data file differ from header")
    if str(meta["kind_scalar"]).rsplit(".", 1)[-1].lower() != dtype:
        raise IndexInvalid(f"data file holds other than {dtype} vectors")


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
    remove_stale_temps(directory)  # what a save killed half-way left behind
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
