"""The repository itself: nothing in it names the machine it was made on."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A machine's own folders: the project checkouts, root's and a user's home, a temp folder.
# (A path inside a URL or after a word, like https://host/tmp/x or data/work/x, is not one.)
MACHINE_PATH = re.compile(
    r"(?<![\w.~/:-])(?:/(?:work|root)(?![\w-])|/home/[A-Za-z_][\w.-]*|/tmp/[\w.-]+)"
)
# Files that must name such a path, and why.
ALLOWED = {
    "bridge/test/helpers/fakeZotero.js": "the fake Zotero's profile directory, /home/tester",
    "bridge/test/section.test.js": "the token path the plugin builds from that fake profile",
    "tests/test_server.py": "a fake path in an exception message the bridge must not repeat",
    "tests/test_repo.py": "the examples below that the pattern must find",
}


def tracked_text_files() -> dict[str, str]:
    """{path: text} of every file git tracks that is text (no NUL byte)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    texts = {}
    for name in filter(None, listed.split("\0")):
        path = ROOT / name
        if not path.is_file():  # deleted in the work tree, not yet committed
            continue
        data = path.read_bytes()
        if b"\0" not in data[:8192]:
            texts[name] = data.decode("utf-8", errors="replace")
    return texts


def test_the_pattern_finds_machine_paths_and_nothing_else():
    found = [
        "ExecStart=/work/main/.venv/bin/python",
        "copied from `/work/shared/data/x`",
        "logs: /tmp/sdemo/logs/serve.log",
        "--json /tmp/embed.json",
        "HOME=/root",
        "/home/alice/.local/share",
    ]
    not_found = [
        "../shared/data",
        "https://example.org/tmp/x and https://example.org/home/x",
        "data/work/x, ~/work, a /tmp folder",
        "tests/fixtures/work/x.json",
        "/v1/papers/{key}/related",
    ]
    assert all(MACHINE_PATH.search(text) for text in found), found
    assert [text for text in not_found if MACHINE_PATH.search(text)] == []


def test_no_tracked_file_names_a_machine_path():
    files = tracked_text_files()
    assert "README.md" in files and "specter_desk/cli/app.py" in files
    offending = {
        name: sorted(set(MACHINE_PATH.findall(text)))
        for name, text in files.items()
        if name not in ALLOWED and MACHINE_PATH.search(text)
    }
    assert offending == {}, "use repo-relative paths and name sources by their origin"
    stale = [name for name in ALLOWED if not MACHINE_PATH.search(files.get(name, ""))]
    assert stale == [], "these allowed files no longer need to be: drop them from ALLOWED"
