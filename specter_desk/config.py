"""Paths (platformdirs), the TOML config file and environment overrides."""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from .disk import HOME_ENV, write_atomic
from .errors import ConfigError, StoreError

APP_NAME = "specter-desk"

# Every config key with its default and type. Sections are TOML tables.
DEFAULTS: dict[str, dict[str, Any]] = {
    "model": {
        "name": "specter2",
        "device": "auto",
        "precision": "auto",
        "batch_size": 0,
        "paths": {},
    },
    "zotero": {
        "library_id": "",
        "library_type": "user",
        "api_key": "",
        "url": "https://api.zotero.org",
        "local_url": "http://localhost:23119",
        "sqlite_path": "",
        "source": "",  # what `sync` and the daemon read: local, sqlite, user, group:ID; "": auto
        "profile": "",  # the Zotero profile folder `setup` put the plugin into ("": find it)
    },
    # ef_search 0: auto; dtype f16 halves the index's size and memory (recall measured in
    # benchmarks/RESULTS.md)
    "index": {"m": 16, "ef_construction": 200, "ef_search": 0, "dtype": "f32"},
    "bridge": {"host": "127.0.0.1", "port": 23120, "sync_interval_minutes": 15},
    "daemon": {"nice": 10, "pause_on_battery": False, "threads": 0},
    "citations": {
        "mailto": "",  # OpenAlex's and Crossref's polite pools want a contact address
        "openalex_api_key": "",
        "openalex_url": "https://api.openalex.org",
        "crossref_url": "https://api.crossref.org",
        "semanticscholar_url": "https://api.semanticscholar.org",
        "semantic_scholar": False,  # the last fallback for references (1 request a second)
        "after_sync": False,  # the daemon fetches citations after each sync
        "ttl_days": 30,  # fetched lists older than this are fetched again
        "cited_by_max": 200,  # citing works fetched per library paper, newest first
        "recent_days": 365,  # "new papers citing your library": published in this window
    },
}

LIBRARY_TYPES = ("user", "group")
# Whole-number settings: (lowest, highest, what 0 means if 0 is allowed as well).
LIMITS: dict[tuple[str, str], tuple[int, int, str | None]] = {
    ("model", "batch_size"): (1, 4096, "automatic"),
    ("index", "m"): (2, 100, None),
    ("index", "ef_construction"): (1, 10_000, None),
    ("index", "ef_search"): (1, 10_000, "automatic"),
    ("bridge", "port"): (1, 65535, None),
    ("bridge", "sync_interval_minutes"): (1, 7 * 24 * 60, "off"),
    ("daemon", "nice"): (0, 19, None),
    ("daemon", "threads"): (1, 1024, "every core"),
}
URL_SETTINGS = (("zotero", "url"), ("zotero", "local_url"))  # [citations] URLs: check_base_url
TYPE_NAMES = {"dict": "table", "str": "string", "int": "whole number", "bool": "true or false"}

ENV_OVERRIDES = {
    "SPECTER_DESK_ZOTERO_URL": ("zotero", "url"),
    "SPECTER_DESK_ZOTERO_LOCAL_URL": ("zotero", "local_url"),
    "ZOTERO_API_KEY": ("zotero", "api_key"),
    # the names pyzotero and zotero-mcp users already have set
    "ZOTERO_LIBRARY_ID": ("zotero", "library_id"),
    "ZOTERO_LIBRARY_TYPE": ("zotero", "library_type"),
    "SPECTER_DESK_ZOTERO_SOURCE": ("zotero", "source"),
    "SPECTER_DESK_MODEL": ("model", "name"),
    "SPECTER_DESK_DEVICE": ("model", "device"),
    "SPECTER_DESK_PRECISION": ("model", "precision"),
    "SPECTER_DESK_OPENALEX_URL": ("citations", "openalex_url"),
    "SPECTER_DESK_CROSSREF_URL": ("citations", "crossref_url"),
    "SPECTER_DESK_SEMANTICSCHOLAR_URL": ("citations", "semanticscholar_url"),
    "SPECTER_DESK_MAILTO": ("citations", "mailto"),
    "OPENALEX_API_KEY": ("citations", "openalex_api_key"),
}


@dataclass
class Paths:
    """Where specter-desk keeps its files."""

    data_dir: Path
    config_dir: Path
    cache_dir: Path
    log_dir: Path

    @property
    def store_path(self) -> Path:
        return self.data_dir / "library.db"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    def check(self) -> None:
        """StoreError (exit 5) when a file stands where one of our folders is or would go, or
        a folder on the way cannot be looked into."""
        for folder in (self.data_dir, self.config_dir, self.cache_dir, self.log_dir):
            try:
                place = next((p for p in (folder, *folder.parents) if p.exists()), None)
            except OSError as exc:
                raise StoreError(
                    f"cannot use {folder} as a folder: {exc.filename} cannot be read "
                    f"({exc.strerror}); point {HOME_ENV} at a folder you can write to"
                ) from exc
            if place is not None and not place.is_dir():
                raise StoreError(
                    f"cannot use {folder} as a folder: {place} is a file; point "
                    f"{HOME_ENV} at a folder (or move the file)"
                )

    @classmethod
    def at(cls, root: Path) -> Paths:
        """Everything under one folder (what $SPECTER_DESK_HOME does)."""
        return cls(root, root, root / "cache", root / "logs")

    @classmethod
    def resolve(cls) -> Paths:
        """Platform dirs, or everything under $SPECTER_DESK_HOME when it is set."""
        home = os.environ.get(HOME_ENV)
        if home:
            return cls.at(Path(home).expanduser())
        return cls(
            Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
            Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
            Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        )


@dataclass
class Config:
    """The merged configuration: defaults < config file < environment."""

    paths: Paths
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    stamp: tuple[int, int] | None = None  # the config file's (mtime, size) when read

    def get(self, section: str, key: str) -> Any:
        return self.values[section][key]

    @property
    def model(self) -> str:
        return self.values["model"]["name"]

    @classmethod
    def load(cls, paths: Paths | None = None) -> Config:
        """Read the config file (if any) and apply environment overrides."""
        paths = paths or Paths.resolve()
        paths.check()
        return cls(paths, *_read(paths.config_file))

    def refresh(self, *, force: bool = False) -> bool:
        """Read the config file again if it changed since it was read (`model use` switched
        the model, say); True when it did. A long-running process calls this before it
        decides which model is active; a file that became invalid leaves the last good
        values in place (every CLI command still reports it)."""
        stamp = _stamp(self.paths.config_file)
        if not force and stamp == self.stamp:
            return False
        try:
            self.values, self.stamp = _read(self.paths.config_file)
        except ConfigError:
            self.stamp = stamp
            return False
        return True


def _stamp(file: Path) -> tuple[int, int] | None:
    try:
        stat = file.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _read(file: Path) -> tuple[dict[str, dict[str, Any]], tuple[int, int] | None]:
    """(values: defaults < file < environment, the file's stamp)."""
    values = {section: dict(keys) for section, keys in DEFAULTS.items()}
    sources: dict[tuple[str, str], str] = {}  # where a value came from, for error messages
    stamp = _stamp(file)
    if stamp is not None:
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: invalid TOML ({exc}); fix or delete the file") from exc
        except OSError as exc:
            raise ConfigError(f"{file}: cannot read ({exc.strerror or exc})") from exc
        _merge(values, data, str(file))
        sources = {(s, k): f"{file}: {s}.{k}" for s, keys in data.items() for k in keys}
    for env, (section, key) in ENV_OVERRIDES.items():
        if os.environ.get(env):
            values[section][key] = os.environ[env]
            sources[(section, key)] = env
    check_values(values, sources)
    if values["zotero"]["library_type"] not in LIBRARY_TYPES:
        raise ConfigError(
            f"zotero.library_type (or ZOTERO_LIBRARY_TYPE) must be user or group, "
            f"not {values['zotero']['library_type']!r}"
        )
    return values, stamp


def overridden(section: str, key: str) -> str | None:
    """The environment variable that overrides a config key right now, if any."""
    for env, target in ENV_OVERRIDES.items():
        if target == (section, key) and os.environ.get(env):
            return env
    return None


def save_settings(paths: Paths, updates: dict[str, dict[str, Any]]) -> None:
    """Set keys in config.toml (checked like the file is), keeping its other lines and comments."""
    import tomlkit

    file = paths.config_file
    try:
        document = tomlkit.parse(file.read_text(encoding="utf-8") if file.exists() else "")
    except (tomlkit.exceptions.TOMLKitError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: invalid TOML ({exc}); fix or delete the file") from exc
    for section, keys in updates.items():
        if section not in document:
            document[section] = tomlkit.table()
        for key, value in keys.items():
            document[section][key] = value
    _merge({s: dict(k) for s, k in DEFAULTS.items()}, document.unwrap(), str(file))
    write_atomic(file, tomlkit.dumps(document).encode("utf-8"))


def check_values(values: dict[str, dict[str, Any]], sources: dict[tuple[str, str], str]) -> None:
    """ConfigError naming the setting (file and key, or environment variable) whose value is
    out of range: a graph connectivity of 0 cannot be built, a port of 99999 cannot be bound, a file://
    Zotero URL would read local files."""
    for (section, key), (low, high, zero) in LIMITS.items():
        value = values[section][key]
        if low <= value <= high or (zero and value == 0):
            continue
        where = sources.get((section, key), f"{section}.{key}")
        allowed = f"0 ({zero}) or from {low} to {high}" if zero else f"from {low} to {high}"
        raise ConfigError(f"{where} must be {allowed}, got {value}")
    for section, key in URL_SETTINGS:
        url = urlsplit(values[section][key])
        if url.scheme not in ("http", "https") or not url.hostname:
            where = sources.get((section, key), f"{section}.{key}")
            raise ConfigError(
                f"{where} must be an http:// or https:// URL, got {values[section][key]!r}"
            )
    for name, folder in values["model"]["paths"].items():
        if not isinstance(folder, str):
            raise ConfigError(
                f"{sources.get(('model', 'paths'), 'model.paths')}.{name} must be a folder "
                f"(a string), got {folder!r}"
            )


def _merge(values: dict[str, dict[str, Any]], data: dict[str, Any], source: str) -> None:
    for section, keys in data.items():
        if section not in DEFAULTS or not isinstance(keys, dict):
            raise ConfigError(f"{source}: unknown section [{section}]")
        for key, value in keys.items():
            if key not in DEFAULTS[section]:
                raise ConfigError(f"{source}: unknown key {section}.{key}")
            default = DEFAULTS[section][key]
            if not isinstance(value, type(default)) or (
                isinstance(value, bool) and not isinstance(default, bool)
            ):
                kind = TYPE_NAMES.get(type(default).__name__, type(default).__name__)
                raise ConfigError(f"{source}: {section}.{key} must be a {kind}, got {value!r}")
            values[section][key] = value


_SECTION = re.compile(r"(?m)^\[([^\]]+)\]\s*$")
_NAME = re.compile(r"(?m)^name\s*=.*$")


def remember_model(paths: Paths, name: str) -> None:
    """Make name the model of this data dir (config.toml's [model] name), keeping the rest of
    the file as it is, so later commands need no --model."""
    file = paths.config_file
    text = file.read_text(encoding="utf-8") if file.exists() else ""
    line = f"name = {json.dumps(name)}"
    sections = list(_SECTION.finditer(text))
    model = next((i for i, m in enumerate(sections) if m.group(1).strip() == "model"), None)
    if model is None:
        text = text + ("\n" if text and not text.endswith("\n") else "") + f"[model]\n{line}\n"
    else:
        start = sections[model].end()
        end = sections[model + 1].start() if model + 1 < len(sections) else len(text)
        body = text[start:end]
        body = _NAME.sub(line, body, count=1) if _NAME.search(body) else f"\n{line}{body}"
        text = text[:start] + body + text[end:]
    tomllib.loads(text)  # what was written must read back
    try:
        paths.config_dir.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise StoreError(
            f"cannot write {file} ({exc.strerror or exc}); the data dir must be a folder you "
            "can write to"
        ) from exc
