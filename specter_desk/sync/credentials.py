"""The Zotero API key saved by `specter-desk login`: the OS keyring, else a 0600 file."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from ..config import Paths
from ..disk import write_atomic

SERVICE = "specter-desk"
ACCOUNT = "zotero"
FILE_NAME = "zotero-credentials.json"
NO_KEYRING_ENV = "SPECTER_DESK_NO_KEYRING"


def _keyring():
    """The keyring module when a real backend is available (not the 'fail' one), else None."""
    if os.environ.get(NO_KEYRING_ENV):
        return None
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:  # noqa: BLE001 - a broken keyring config must not break sync
        return None
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 1) <= 0:
        return None
    return keyring


def credentials_file(paths: Paths) -> Path:
    """Where the fallback file lives (mode 0600, in the config directory)."""
    return paths.config_dir / FILE_NAME


def save_credentials(paths: Paths, data: dict[str, Any]) -> str:
    """Store {api_key, user_id, username}; returns where ('keyring' or the file path)."""
    payload = json.dumps(data, sort_keys=True)
    ring = _keyring()
    if ring is not None:
        try:
            ring.set_password(SERVICE, ACCOUNT, payload)
            credentials_file(paths).unlink(missing_ok=True)
            return "keyring"
        except Exception:  # noqa: BLE001, S110 - a locked keyring: fall back to the file
            pass
    path = credentials_file(paths)
    write_atomic(path, payload.encode("utf-8"), mode=0o600)
    return str(path)


def load_credentials(paths: Paths) -> dict[str, Any]:
    """The saved credentials, or {} when `login` was never run."""
    ring = _keyring()
    if ring is not None:
        try:
            payload = ring.get_password(SERVICE, ACCOUNT)
            if payload:
                return json.loads(payload)
        except Exception:  # noqa: BLE001, S110 - unreadable keyring: try the file
            pass
    path = credentials_file(paths)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def delete_credentials(paths: Paths) -> None:
    """Forget the saved credentials (keyring entry and file)."""
    ring = _keyring()
    if ring is not None:
        with contextlib.suppress(Exception):
            ring.delete_password(SERVICE, ACCOUNT)
    credentials_file(paths).unlink(missing_ok=True)
