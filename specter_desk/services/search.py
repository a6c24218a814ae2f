"""Semantic search: a free-text query embedded with the model's query encoder, optionally fused
with BM25 over title + abstract by reciprocal rank fusion."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError, NotEmbeddedError
from ..index import PaperIndex
from ..store import Store
from .related import RelatedPaper, one_per_work
from .works import Works

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

    from ..embed.protocol import PaperEncoder

MAX_QUERY_CHARS = 2000
RRF_K = 60  # the constant of Cormack et al. (2009)
_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens without English stop words or one-letter tokens."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return [t for t in _TOKEN.findall(text.lower()) if len(t) > 1 and t not in ENGLISH_STOP_WORDS]


class BM25:
    """Okapi BM25 over a fixed list of documents (sparse matrices, no per-query loops)."""

    def __init__(self, documents: Sequence[str], *, k1: float = 1.5, b: float = 0.75):
        from scipy.sparse import csr_matrix
        from sklearn.feature_extraction.text import CountVectorizer

        vectorizer = CountVectorizer(tokenizer=tokenize, lowercase=False, token_pattern=None)
        try:
            tf = csr_matrix(vectorizer.fit_transform(documents), dtype=np.float32)
        except ValueError:  # no document has a single token
            tf = csr_matrix((len(documents), 0), dtype=np.float32)
            vectorizer = None
        self.vectorizer = vectorizer
        n_docs = tf.shape[0]
        df = np.bincount(tf.indices, minlength=tf.shape[1]).astype(np.float32)
        self.idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        lengths = np.asarray(tf.sum(axis=1)).ravel()
        avg = float(lengths.mean()) if n_docs and lengths.mean() > 0 else 1.0
        norm = k1 * (1 - b + b * lengths / avg)
        weights = tf.copy()
        rows = np.repeat(np.arange(n_docs), np.diff(tf.indptr))
        weights.data = (self.idf[tf.indices] * tf.data * (k1 + 1) / (tf.data + norm[rows])).astype(
            np.float32
        )
        self.weights: csr_matrix = weights  # docs x terms

    def query_matrix(self, queries: Sequence[str]) -> csr_matrix:
        """Term counts of queries in this index's vocabulary (queries x terms)."""
        from scipy.sparse import csr_matrix

        if self.vectorizer is None:
            return csr_matrix((len(queries), 0), dtype=np.float32)
        return csr_matrix(self.vectorizer.transform(queries), dtype=np.float32)

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for every query: dense (queries x docs)."""
        q = self.query_matrix(queries)
        q.data = np.ones_like(q.data)  # each query term counts once, as in Okapi BM25
        return np.asarray((q @ self.weights.T).todense(), dtype=np.float32)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]], k: int = RRF_K
) -> list[tuple[str, float]]:
    """Fuse ranked key lists: score = sum of 1 / (k + rank), best first."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


_bm25_cache: dict[tuple[str, str], tuple[str, list[str], BM25]] = {}
_bm25_lock = threading.Lock()


def bm25_for(store: Store, index: PaperIndex) -> tuple[list[str], BM25]:
    """A BM25 index over the indexed papers' title + abstract, cached until the index changes."""
    cache_key = (str(store.path), index.model)
    checksum = index.checksum()
    with _bm25_lock:
        hit = _bm25_cache.get(cache_key)
        if hit and hit[0] == checksum:
            return hit[1], hit[2]
    keys = index.keys()
    papers = store.get_papers(keys)
    keys = [k for k in keys if k in papers]
    bm25 = BM25([f"{papers[k].title} {papers[k].abstract}" for k in keys])
    with _bm25_lock:
        _bm25_cache[cache_key] = (checksum, keys, bm25)
    return keys, bm25


def search(
    store: Store,
    index: PaperIndex,
    query_encoder: PaperEncoder,
    query: str,
    *,
    k: int = 10,
    hybrid: bool = False,
    works: Works | None = None,
) -> list[RelatedPaper]:
    """The k papers (library and candidates) best matching a free-text query, one per work
    (works: the store's, when known).

    Scores are cosine similarities; with hybrid=True they are reciprocal-rank-fusion scores of
    the dense ranking and a BM25 ranking over title + abstract.
    """
    query = " ".join((query or "").split())
    if not query:
        raise InputError("the search query is empty; pass some words to search for")
    if len(query) > MAX_QUERY_CHARS:
        raise InputError(f"the query has {len(query)} characters; at most {MAX_QUERY_CHARS}")
    if not len(index):
        raise NotEmbeddedError(
            f"nothing is embedded with {index.model} yet; run `specter-desk embed` first"
        )
    vector = query_encoder.encode([query])[0]
    if vector.shape[0] != index.dim:
        raise InputError(
            f"the query encoder {query_encoder.spec.name} gives {vector.shape[0]}-d vectors but "
            f"the {index.model} index is {index.dim}-d; use the model's own query encoder"
        )
    # over-fetch: copies of one work are shown once
    depth = max(100, 5 * k) if hybrid else k + max(5, k // 2)
    dense = index.query(vector, depth)[0]
    if not hybrid:
        hits = dense
    else:
        keys, bm25 = bm25_for(store, index)
        scores = bm25.scores([query])[0]
        top = np.argsort(-scores, kind="stable")[:depth]
        lexical = [keys[i] for i in top if scores[i] > 0]
        hits = reciprocal_rank_fusion([[key for key, _ in dense], lexical])[: k + max(5, k // 2)]
    papers = store.get_papers(key for key, _ in hits)
    listed = [(papers[key], score) for key, score in hits if key in papers]
    kept = one_per_work(store, listed, works=works)
    return [RelatedPaper.from_paper(p, score) for p, score in kept[:k]]
