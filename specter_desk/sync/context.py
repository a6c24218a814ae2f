"""What a sync source works with: the Desk, its page writer, progress and stop callbacks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..models import LIBRARY_POOL
from ..store import Store
from .writer import Counts, PageWriter, Stopped

if TYPE_CHECKING:
    from ..desk import Desk
    from .zotero_web import ZoteroClient

Progress = Callable[[str, int, int], None]


@dataclass
class SyncContext:
    """What a source needs: the store, its page writer, progress and stop callbacks."""

    desk: Desk
    writer: PageWriter
    full: bool
    report: Progress
    should_stop: Callable[[], bool]
    pool: str = LIBRARY_POOL
    client: ZoteroClient | None = None  # a web or local API source's, for its request count
    extra: list[Counts] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    allow_shrink: bool = False  # a file may flag most of its library deleted

    @property
    def store(self) -> Store:
        return self.desk.store

    def check_stop(self) -> None:
        """Stop between pages when asked (what is committed stays committed)."""
        if self.should_stop():
            raise Stopped

    def on_wait(self, seconds: float, why: str) -> None:
        self.report(f"{why}: waiting {seconds:.0f} s", 0, 0)

    def extra_counts(self, counts: Counts) -> None:
        self.extra.append(counts)
