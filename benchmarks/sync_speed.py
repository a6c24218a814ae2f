"""Sync speed on a 10k-item fake Zotero library (real HTTP on 127.0.0.1, real SQLite store).

Measures, without embedding: a full first sync, a no-change sync (target < 2 s and exactly one
request), and a sync after 50 changes. The reference is the full sync measured in the same run:
the table prints each sync's time and its ratio to the full sync.

    .venv/bin/python benchmarks/sync_speed.py [--items 10000] [--changes 50]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fake_zotero import FakeZotero, synthetic_library  # noqa: E402


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"),
                        help="unused: the library is synthetic (kept for a uniform CLI)")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="specter-desk-bench-"))
    with FakeZotero(api_key="bench-key") as fake:
        t0 = time.perf_counter()
        keys = synthetic_library(fake, args.items, attachment_every=20)
        build = time.perf_counter() - t0
        os.environ.update(SPECTER_DESK_HOME=str(home), SPECTER_DESK_ZOTERO_URL=fake.url,
                          ZOTERO_API_KEY="bench-key", SPECTER_DESK_NO_KEYRING="1")
        (home / "config.toml").write_text(f'[zotero]\nlibrary_id = "{fake.user_id}"\n')
        from specter_desk.desk import Desk
        from specter_desk.sync import run_sync

        desk = Desk()
        rows = []

        def measure(name: str) -> None:
            before = len(fake.log)
            started = time.perf_counter()
            result = run_sync(desk, "user", embed=False)
            seconds = time.perf_counter() - started
            rows.append((name, seconds, len(fake.log) - before, result))

        measure("full sync")
        measure("no-change sync")
        for i in range(args.changes):
            key = keys[(i * 197) % len(keys)]
            if i % 10 == 9:
                fake.delete_item(key)
            else:
                fake.update_item(key, title=f"Changed title number {i}")
        measure(f"{args.changes} changes")
        measure("no-change sync")
        desk.close()

    reference = rows[0][1]
    print(f"# sync speed: {args.items} items ({args.items // 20} with a PDF full text), "
          f"fake server built in {build:.1f} s")
    print(f"# CPU: {cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"| sync | seconds | requests | added | updated | deleted | ratio to full |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, seconds, requests, r in rows:
        print(f"| {name} | {seconds:.3f} | {requests} | {r.added} | {r.updated} | {r.deleted} | "
              f"{seconds / reference:.4f} |")
    no_change = rows[1]
    ok = no_change[1] < 2.0 and no_change[2] == 1
    print(f"no-change sync: {no_change[1]:.3f} s, {no_change[2]} request(s) -> "
          f"{'meets' if ok else 'MISSES'} the target (< 2 s, exactly 1 request)")


if __name__ == "__main__":
    main()
