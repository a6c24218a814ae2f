"""Daemon logging: a rotating file in the user log dir, or the terminal with --foreground."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from ..disk import ensure_dir

LOG_FILE = "serve.log"
MAX_BYTES = 2 * 1024 * 1024
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(log_dir: Path, *, foreground: bool, level: int = logging.INFO) -> Path | None:
    """Route specter_desk and uvicorn loggers; returns the log file (None in the foreground)."""
    handler: logging.Handler
    path: Path | None = None
    if foreground:
        handler = logging.StreamHandler(sys.stderr)
    else:
        ensure_dir(log_dir)
        path = log_dir / LOG_FILE
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    handler.setFormatter(logging.Formatter(FORMAT))
    for name in ("specter_desk", "uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.propagate = False
        logger.setLevel(level)
        if name in ("specter_desk", "uvicorn"):
            logger.addHandler(handler)
        else:
            logger.propagate = True  # up to "uvicorn"
    return path
