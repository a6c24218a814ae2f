"""An HNSW index over a finished corpus: the same PaperIndex file format as the library's.

``corpus index DIR`` writes ``DIR/index/{model}.hnsw`` + ``{model}.json`` with
``PaperIndex.save`` (so the same header checks apply on load: size, sha256, dim, counts,
label -> key map), and records in the manifest which shards (by checksum) and how many keys
it covers, so an index built before a shard was re-embedded is detected as stale.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..clock import now_iso
from ..disk import SHARED, write_atomic
from ..errors import CorpusError
from ..index import IndexInvalid, IndexParams, PaperIndex, paths_for
from .shards import MANIFEST, finished_manifest, iter_shards

INDEX_DIR = "index"


@dataclass
class CorpusIndexInfo:
    """What `corpus index` built."""

    out: str
    model: str
    count: int
    dim: int
    path: str

    def to_dict(self) -> dict[str, Any]:
        return vars(self).copy()


def build_corpus_index(out: Path | str, params: IndexParams | None = None) -> CorpusIndexInfo:
    """Build and save the HNSW index over every shard of a finished run."""
    out = Path(out)
    manifest = finished_manifest(out)
    model = manifest["model"]
    dim = int(manifest["dim"])
    index = PaperIndex(model, dim, params, capacity=max(int(manifest["papers"]), 16))
    for shard in iter_shards(out):
        clash = [k for k in shard.keys if k in index]
        if clash:
            raise CorpusError(f"{out}: id {clash[0]} appears in two shards; re-run corpus embed")
        index.add(shard.keys, shard.hashes, shard.vectors)
    index.save(out / INDEX_DIR)
    manifest["index"] = {
        "path": str(paths_for(out / INDEX_DIR, model)[0].relative_to(out)),
        "count": len(index),
        "checksum": index.checksum(),
        "shards": [s["checksum"] for s in manifest["shards"]],
        "params": vars(index.params),
        "built_at": now_iso(),
    }
    write_atomic(out / MANIFEST, json.dumps(manifest, indent=1).encode("utf-8"), mode=SHARED)
    return CorpusIndexInfo(str(out), model, len(index), dim, manifest["index"]["path"])


def open_corpus_index(out: Path | str, params: IndexParams | None = None) -> PaperIndex:
    """The corpus's index, validated against its header and the manifest."""
    out = Path(out)
    manifest = finished_manifest(out)
    recorded = manifest.get("index")
    if not recorded:
        raise CorpusError(f"{out} has no index yet; run `specter-desk corpus index {out}`")
    if recorded.get("shards") != [s["checksum"] for s in manifest["shards"]]:
        raise CorpusError(
            f"the index in {out} predates re-embedded shards; run `specter-desk corpus index {out}`"
        )
    try:
        index = PaperIndex.load(out / INDEX_DIR, manifest["model"], params)
    except IndexInvalid as exc:
        raise CorpusError(
            f"the index in {out} is invalid ({exc}); run `specter-desk corpus index {out}`"
        ) from exc
    if len(index) != recorded.get("count") or index.checksum() != recorded.get("checksum"):
        raise CorpusError(
            f"the index in {out} does not match its manifest; run `specter-desk corpus index {out}`"
        )
    return index
