"""Whole-corpus embedding: shards on disk, the local and Ray engines, an index, the pool.

Python API (the CLI is a thin layer over it)::

    from specter_desk.corpus import embed_corpus, build_corpus_index, import_corpus

    run = embed_corpus("arxiv.jsonl", "out/", model="specter2", engine="ray")  # CorpusOptions
    build_corpus_index("out/")
    import_corpus(store, "out/")   # pool="candidates" with vectors: recommend uses them
"""

from .embed import ENGINES, CorpusRun, embed_corpus
from .index import build_corpus_index, open_corpus_index
from .options import CorpusOptions
from .pool import CorpusImport, import_corpus
from .reader import ReadStats, read_corpus
from .shards import DEFAULT_SHARD_SIZE, iter_shards, load_shard, plan_corpus, read_manifest

__all__ = [
    "DEFAULT_SHARD_SIZE",
    "ENGINES",
    "CorpusImport",
    "CorpusOptions",
    "CorpusRun",
    "ReadStats",
    "build_corpus_index",
    "embed_corpus",
    "import_corpus",
    "iter_shards",
    "load_shard",
    "open_corpus_index",
    "plan_corpus",
    "read_corpus",
    "read_manifest",
]
