"""What a data dir holds: papers per pool, libraries, vectors per model and (on request) the
health of each model's index. One answer for `specter-desk status` and GET /v1/status."""

from __future__ import annotations

from typing import Any

from .. import __version__
from ..desk import Desk
from ..index import index_health
from ..models import CANDIDATE_POOL, LIBRARY_POOL
from .citations.fetch import citation_status


def library_status(desk: Desk, *, indexes: bool = True) -> dict[str, Any]:
    """Counts from the store; with indexes, each model's index state ("ok", "stale", ...)."""
    store = desk.store
    data: dict[str, Any] = {
        "version": __version__,
        "model": desk.model_spec().name,  # an unknown model (SPECTER_DESK_MODEL=foo) fails
        "model_switch": _switch(desk),
        "data_dir": str(desk.paths.data_dir),
        "store": str(desk.paths.store_path),
        "schema_version": store.schema_version,
        "papers": store.count_papers(pool=LIBRARY_POOL),
        "candidates": store.count_papers(pool=CANDIDATE_POOL),
        "deleted": store.count_deleted(),
        "title_only": store.count_papers(pool=LIBRARY_POOL, title_only=True),
        "libraries": store.libraries(),
        "vectors": store.vector_counts(),
        "citations": citation_status(store),
    }
    if indexes:  # reads every stored vector's hash: for the CLI, not for each bridge request
        data["indexes"] = {}
        for model in sorted(set(data["vectors"]) | {data["model"]}):
            state, detail = index_health(store, model, desk.paths.index_dir)
            data["indexes"][model] = {"state": state, "detail": detail}
    return data


def _switch(desk: Desk) -> dict[str, Any] | None:
    """A `model use` switch in progress: to which model, how far."""
    from ..switch import pending_switch

    switch = pending_switch(desk)
    if switch is None:
        return None
    return {k: v for k, v in switch.to_dict().items() if k != "state"}
