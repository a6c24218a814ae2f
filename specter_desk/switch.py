"""`model use`: switch the active model without a gap in related papers.

The active model is config.toml's `[model] name`; every process reads it from there (a daemon
re-reads the file when it changes). A switch to a model that lacks vectors is first recorded
as pending in the store (`meta` row `model_switch`); whoever runs it next — `model use` in the
foreground, or the daemon's worker after its sync — embeds the library with the new model in
committed chunks while the old model and its index keep answering. Only when every live paper
has a vector and the new index is saved is config.toml rewritten (one atomic write): from
then on CLI and daemon both answer from the new model.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from .clock import now_iso
from .config import overridden, save_settings
from .desk import Desk
from .embed.installed import locate
from .embed.registry import get_model
from .errors import ConfigError, ModelNotFoundError

META = "model_switch"


@dataclass
class SwitchState:
    """Where a switch stands: 'switched' (done now), 'active' (nothing to do) or 'pending'."""

    state: str
    model: str  # the model switched (or switching) to
    previous: str
    embedded: int = 0
    total: int = 0
    started_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _request(desk: Desk) -> dict[str, str] | None:
    """The switch asked for (the store's meta row), finished or not."""
    raw = desk.store.get_meta(META)
    return json.loads(raw) if raw else None


def pending_switch(desk: Desk) -> SwitchState | None:
    """The switch in progress, if any, with how many papers the new model has embedded.

    A request whose model is already active is finished: config.toml is written before the
    request is cleared, so no reader sees the new model and a pending switch at once."""
    data = _request(desk)
    if data is None or data["model"] == desk.active_model:
        return None
    embedded, total = _coverage(desk, data["model"])
    return SwitchState(
        "pending", data["model"], data["previous"], embedded, total, data.get("started_at")
    )


def request_switch(desk: Desk, name: str) -> SwitchState:
    """Make name the active model: at once when its vectors are complete, else pending."""
    spec = get_model(name)
    env = overridden("model", "name")
    if env:
        raise ConfigError(
            f"{env}={os.environ[env]} is set and overrides the configured model; unset it to "
            "use `model use`"
        )
    active = desk.active_model
    if spec.name == active:
        desk.store.set_meta(META, "")
        return SwitchState("active", spec.name, active)
    if not locate(desk.paths, spec, desk.configured_path(spec.name)).installed:
        raise ModelNotFoundError(
            f"{spec.name} is not installed: run `specter-desk model download "
            f"{spec.install_name}` (or `... --from DIR` from a copy) first"
        )
    desk.store.set_meta(
        META, json.dumps({"model": spec.name, "previous": active, "started_at": now_iso()})
    )
    embedded, total = _coverage(desk, spec.name)
    if embedded >= total:
        return _finish(desk, spec.name, active)
    state = pending_switch(desk)
    assert state is not None
    return state


def advance_switch(
    desk: Desk,
    on_progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> SwitchState | None:
    """Embed what the pending switch still lacks; switch when complete. None: no switch."""
    data = _request(desk)
    if data is None:
        return None
    model, previous = data["model"], data["previous"]
    if model == desk.active_model:  # finished by a process stopped before it cleared the row
        desk.store.set_meta(META, "")
        return SwitchState("active", model, previous)
    desk.embed_missing(model, on_progress=on_progress, should_stop=should_stop)
    embedded, total = _coverage(desk, model)
    if embedded < total:  # stopped, or papers arrived meanwhile
        return pending_switch(desk)
    return _finish(desk, model, previous)


def cancel_switch(desk: Desk) -> SwitchState | None:
    """Forget a pending switch (vectors already made are kept for a later switch)."""
    state = pending_switch(desk)
    desk.store.set_meta(META, "")
    return state


def _coverage(desk: Desk, model: str) -> tuple[int, int]:
    """(live papers with a current vector of model, live papers)."""
    return desk.store.vector_counts().get(model, 0), desk.store.count_papers(pool=None)


def _finish(desk: Desk, model: str, previous: str) -> SwitchState:
    """Save the new model's complete index, then point config.toml at it."""
    desk.index(model, refresh=True)
    save_settings(desk.paths, {"model": {"name": model}})
    desk.config.refresh(force=True)
    desk.store.set_meta(META, "")
    total = desk.store.count_papers(pool=None)
    return SwitchState("switched", model, previous, total, total)
