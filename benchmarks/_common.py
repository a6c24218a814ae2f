"""Shared helpers for the benchmarks: real texts, machine description, timing, tables."""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import platform
import random
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The shared data folder next to the repository (real data sets; see its README).
DEFAULT_DATA = REPO.parent / "shared" / "data"
if str(REPO) not in sys.path:  # runnable alone: `python benchmarks/x.py` from anywhere
    sys.path.insert(0, str(REPO))


def add_data_option(parser: argparse.ArgumentParser, used_for: str = "") -> None:
    """--data: the shared data folder, ../shared/data next to the repository by default."""
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help=f"the shared data folder (default: ../shared/data next to the repository){used_for}",
    )


def real_papers(data: Path) -> list[tuple[str, str]]:
    """(title, abstract) of the 1606 digital_work records that have an abstract (MIT)."""
    path = Path(data) / "dedup" / "bib_dedupe" / "digital_work" / "records_pre_merged.csv"
    if not path.exists() and path.with_suffix(".csv.gz").exists():  # a trimmed copy
        path = path.with_suffix(".csv.gz")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    papers = []
    for row in rows:
        abstract = " ".join((row.get("abstract") or "").split())
        if abstract and abstract != "UNKNOWN":
            papers.append((" ".join(row["title"].split()), abstract))
    return papers


def paper_texts(data: Path, n: int, sep: str, seed: int = 0) -> list[str]:
    """n texts `title SEP abstract` in a shuffled (unsorted) order, repeating the set if n is
    larger than the 1606 real records."""
    papers = real_papers(data)
    texts = [f"{t}{sep}{a}" for t, a in papers]
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < n:
        block = texts[:]
        rng.shuffle(block)
        out.extend(block)
    return out[:n]


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """One line: CPU model and cores, GPU name if torch sees one."""
    text = f"{cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    try:
        import torch

        text += f", torch {torch.__version__}"
        if torch.cuda.is_available():
            text += f", GPU {torch.cuda.get_device_name(0)}"
    except ImportError:
        pass
    return text


def rss_mb() -> float:
    """Resident memory of this process in MiB (Linux /proc; psutil elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        import psutil

        return psutil.Process().memory_info().rss / 2**20


class PeakRSS:
    """Samples the process RSS in a thread; `.peak_mb` after the with-block."""

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.peak_mb = 0.0
        self._stop = threading.Event()

    def __enter__(self) -> PeakRSS:
        self.peak_mb = rss_mb()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak_mb = max(self.peak_mb, rss_mb())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, rss_mb())


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def table(rows: list[dict], columns: list[str]) -> str:
    """A plain Markdown table (pastes into RESULTS.md)."""
    cells = [[_fmt(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=False)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines += [
        "| " + " | ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)) + " |"
        for row in cells
    ]
    return "\n".join(lines)


def _fmt(value) -> str:
    if isinstance(value, float):
        if value != value:
            return "-"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"
    return str(value)


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start
