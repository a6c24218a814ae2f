"""The bridge's bearer token: random, created on first use, kept in a 0600 file in the data dir."""

from __future__ import annotations

import hmac
import os
import secrets
import stat
from pathlib import Path

from ..disk import write_atomic
from ..errors import ConfigError, StoreError

TOKEN_FILE = "bridge-token"  # noqa: S105 - a file name, not a secret
TOKEN_BYTES = 32


def token_path(data_dir: Path) -> Path:
    """Where the token lives."""
    return data_dir / TOKEN_FILE


def read_token(data_dir: Path) -> str | None:
    """The stored token, or None if there is none yet; refuses a file others can read."""
    path = token_path(data_dir)
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"cannot read {path} ({exc.strerror or exc})") from exc
    if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{path} is readable by other users (mode {stat.S_IMODE(info.st_mode):o}); "
            f"run `chmod 600 {path}` or delete it to get a new token"
        )
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"cannot read {path} ({exc}); delete it to get a new token") from exc
    return token or None


def ensure_token(data_dir: Path) -> str:
    """The stored token, created (atomically, mode 0600) if missing."""
    token = read_token(data_dir)
    if token:
        return token
    token = secrets.token_urlsafe(TOKEN_BYTES)
    write_atomic(token_path(data_dir), (token + "\n").encode(), mode=0o600)
    return token


def new_token(data_dir: Path) -> str:
    """Replace the token with a fresh one (old clients stop working)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    write_atomic(token_path(data_dir), (token + "\n").encode(), mode=0o600)
    return token


def token_matches(expected: str, given: str) -> bool:
    """Constant-time comparison."""
    return hmac.compare_digest(expected.encode(), given.encode())
