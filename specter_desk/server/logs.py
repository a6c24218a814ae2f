"""Daemon logging: a rotating file in the user log dir (0600), or the terminal with --foreground.

Every logger of the process ends there (uvicorn's, asyncio's, a library's warning), secrets
are redacted from each line (a token in a query string, the bridge token anywhere), and an
error repeated many times a minute (asyncio's accept error under a connection flood) is
logged a few times, then counted, not written 70,000 times.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from ..disk import PRIVATE, ensure_dir, make_private

LOG_FILE = "serve.log"
MAX_BYTES = 2 * 1024 * 1024
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
OURS = ("specter_desk", "uvicorn", "uvicorn.error", "uvicorn.access")
REPEATS_PER_WINDOW = 10  # the same warning or error at most this often per window...
REPEAT_WINDOW = 60.0  # ...of seconds; the rest are counted
REDACTED = "[redacted]"
# A query parameter whose name says it holds a secret: ?token=..., &api_key=..., ?key=...
SECRET_PARAMETER = re.compile(
    r"(?i)([?&;][\w.-]*(?:token|key|auth|secret|passw|bearer)[\w.-]*=)[^&#;\s\"']*"
)


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log file that only its owner can read (also after each rotation)."""

    def _open(self):
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE)
        make_private(Path(self.baseFilename))
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)  # noqa: SIM115


class RedactingFormatter(logging.Formatter):
    """Formats a record, then blanks out secrets; says how many repeats were not logged."""

    def __init__(self, fmt: str, secrets: Iterable[str] = ()):
        super().__init__(fmt)
        self.secrets = [s for s in secrets if len(s) >= 8]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        dropped = getattr(record, "repeats_dropped", 0)
        if dropped:
            text += f" ({dropped} more like this in the last {REPEAT_WINDOW:.0f} s not logged)"
        return redact(text, self.secrets)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """text without secret query parameters' values and without the given secrets."""
    text = SECRET_PARAMETER.sub(rf"\1{REDACTED}", text)
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


class RepeatLimit(logging.Filter):
    """Lets the same warning or error (logger, message, exception type) through at most
    REPEATS_PER_WINDOW times per REPEAT_WINDOW seconds; the next one through says how many
    were dropped."""

    def __init__(self, clock=time.monotonic):
        super().__init__()
        self.clock = clock
        self.seen: dict[tuple, list] = {}  # key -> [window start, count, dropped]

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        kind = type(record.exc_info[1]).__name__ if record.exc_info else None
        key = (record.name, record.levelno, str(record.msg), kind)
        now = self.clock()
        entry = self.seen.get(key)
        if entry is None or now - entry[0] > REPEAT_WINDOW:
            dropped = entry[2] if entry else 0
            self.seen[key] = [now, 1, 0]
            if len(self.seen) > 1000:  # forget old keys; a flood has one or a few
                self.seen = {k: v for k, v in self.seen.items() if now - v[0] <= REPEAT_WINDOW}
            record.repeats_dropped = dropped
            return True
        entry[1] += 1
        if entry[1] <= REPEATS_PER_WINDOW:
            return True
        entry[2] += 1
        return False


def setup_logging(
    log_dir: Path,
    *,
    foreground: bool,
    level: int = logging.INFO,
    secrets: Iterable[str] = (),
) -> Path | None:
    """Route every logger of the process to one handler (the log file, or stderr in the
    foreground): ours and uvicorn's at `level`, everything else's warnings and errors.
    Returns the log file (None in the foreground)."""
    handler: logging.Handler
    path: Path | None = None
    if foreground:
        handler = logging.StreamHandler(sys.stderr)
    else:
        ensure_dir(log_dir)
        path = log_dir / LOG_FILE
        handler = PrivateRotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    handler.setFormatter(RedactingFormatter(FORMAT, secrets))
    handler.addFilter(RepeatLimit())
    handler.specter_desk = True  # type: ignore[attr-defined] - replaced by the next setup
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "specter_desk", False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)
    for name in OURS:
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.setLevel(level)
        logger.propagate = True
    return path
