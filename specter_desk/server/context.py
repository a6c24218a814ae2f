"""What the bridge's routes work on: one Desk, the sync worker and the read lock."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..desk import Desk
from .worker import SyncWorker


@dataclass
class BridgeContext:
    """What the routes work on: one Desk, the sync worker and a lock serialising store reads."""

    desk: Desk
    worker: SyncWorker | None = None
    log_file: Path | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)
