"""Sync speed on a 10k-item fake Zotero library (real HTTP on 127.0.0.1, real SQLite store).

Measures, without embedding, for the web API: a full first sync, a no-change sync (target < 2 s
and exactly one request), and a sync after 50 changes (45 edits, 5 deletions); and for the
local API (which has no /deleted, and whose 304 would hide a trash in Zotero 10.0): a full
sync and a no-change sync (target < 2 s and two requests: the items and the trash). The reference
is the web full sync measured in the same run: the table prints each sync's ratio to it.

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

from _common import add_data_option, cpu_name  # noqa: E402
from fake_zotero import FakeZotero, synthetic_library  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=50)
    add_data_option(parser, "; unused: the library is synthetic (kept for a uniform CLI)")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="specter-desk-bench-"))
    rows = []
    with FakeZotero(api_key="bench-key") as fake, FakeZotero(local=True, api_key=None) as local:
        t0 = time.perf_counter()
        keys = synthetic_library(fake, args.items, attachment_every=20)
        synthetic_library(local, args.items, seed=1, attachment_every=20)
        build = time.perf_counter() - t0
        os.environ.update(
            SPECTER_DESK_HOME=str(home),
            SPECTER_DESK_ZOTERO_URL=fake.url,
            SPECTER_DESK_ZOTERO_LOCAL_URL=local.base,
            ZOTERO_API_KEY="bench-key",
            SPECTER_DESK_NO_KEYRING="1",
        )
        (home / "config.toml").write_text(f'[zotero]\nlibrary_id = "{fake.user_id}"\n')
        from specter_desk.desk import Desk
        from specter_desk.sync import run_sync

        desk = Desk()

        def measure(name: str, server: FakeZotero, source: str) -> None:
            before = len(server.log)
            started = time.perf_counter()
            result = run_sync(desk, source, embed=False)
            seconds = time.perf_counter() - started
            rows.append((name, seconds, len(server.log) - before, result))

        measure("web: full sync", fake, "user")
        measure("web: no-change sync", fake, "user")
        for i in range(args.changes):
            key = keys[(i * 197) % len(keys)]
            if i % 10 == 9:
                fake.delete_item(key)
            else:
                fake.update_item(key, title=f"Changed title number {i}")
        measure(f"web: {args.changes} changes", fake, "user")
        measure("web: no-change sync", fake, "user")
        measure("local API: full sync", local, "local")
        measure("local API: no-change sync", local, "local")
        desk.close()

    reference = rows[0][1]
    print(
        f"# sync speed: {args.items} items ({args.items // 20} with a PDF full text), "
        f"fake server built in {build:.1f} s"
    )
    print(f"# CPU: {cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("| sync | seconds | requests | added | updated | deleted | PDF text | ratio to full |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, seconds, requests, r in rows:
        print(
            f"| {name} | {seconds:.3f} | {requests} | {r.added} | {r.updated} | {r.deleted} | "
            f"{r.fulltext} | {seconds / reference:.4f} |"
        )
    for name, seconds, requests, _ in rows:
        if "no-change" in name:
            wanted = 2 if name.startswith("local") else 1  # local: the items and the trash
            ok = seconds < 2.0 and requests == wanted
            print(
                f"{name}: {seconds:.3f} s, {requests} request(s) -> "
                f"{'meets' if ok else 'MISSES'} the target (< 2 s, exactly {wanted} requests)"
            )


if __name__ == "__main__":
    main()
