"""`specter-desk graph` opened in headless Debian Chromium: the page renders every node with no
console error and no network, and a screenshot comes out (the README's image).

Needs Debian's chromium (`apt-get install -y chromium`, or $CHROMIUM). With
$SPECTER_DESK_SCREENSHOT_DIR set, the screenshot is also copied there (docs/images).
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from citation_helpers import NOW, library_papers, settings_for, sources_for
from fake_citations import FakeCitations
from typer.testing import CliRunner

from specter_desk.cli import app
from specter_desk.embed.pipeline import embed_missing
from specter_desk.services.citations.fetch import sync_citations

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--hide-scrollbars",
    "--window-size=1400,900",
    "--virtual-time-budget=8000",
]


def chromium() -> str:
    found = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not found:
        pytest.fail(
            "the map test needs Debian's chromium: apt-get install -y chromium (or set $CHROMIUM)"
        )
    return found


def run_chromium(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    profile = tmp / "chromium-profile"
    return subprocess.run(
        [
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def map_page(tmp_path_factory):
    """A real map: the recorded works, synced from the fake, embedded with MiniLM."""
    tmp = tmp_path_factory.mktemp("map")
    home = tmp / "home"
    old = os.environ.get("SPECTER_DESK_HOME")
    os.environ["SPECTER_DESK_HOME"] = str(home)
    try:
        from specter_desk.config import Config
        from specter_desk.desk import Desk

        desk = Desk(Config.load())
        papers = library_papers()
        for i, paper in enumerate(papers):
            paper.collections = ["EMICIZ01"] if i < 8 else ["OTHERS01"]
        desk.store.upsert_papers(papers)
        with FakeCitations() as server:
            sync_citations(
                desk.store,
                settings_for(server, recent_days=5000),
                sources=sources_for(server),
                now=NOW,
            )
        embed_missing(desk.store, desk.encoder("minilm", device="cpu"))
        desk.close()
        out = tmp / "map.html"
        result = CliRunner().invoke(
            app, ["graph", "LIB00000", "--out", str(out), "--model", "minilm", "--similar", "2"]
        )
        assert result.exit_code == 0, result.output
        return out
    finally:
        if old is None:
            os.environ.pop("SPECTER_DESK_HOME", None)
        else:
            os.environ["SPECTER_DESK_HOME"] = old


@pytest.mark.slow
def test_the_map_renders_every_node_without_console_errors(map_page, tmp_path):
    page = map_page.read_text(encoding="utf-8")
    nodes = len(re.findall(r'"kind": "(?:library|candidate|outside)"', page))
    similar = page.count('"kind": "similar"')
    assert nodes > 20 and similar > 5
    result = run_chromium("--dump-dom", map_page.as_uri(), tmp=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    body = re.search(r"<body([^>]*)>", result.stdout).group(1)
    attrs = dict(re.findall(r'data-(\w+)="([^"]*)"', body))
    assert attrs["rendered"] == "yes" and attrs["errors"] == "0"
    assert int(attrs["nodes"]) == nodes and int(attrs["visible"]) == nodes
    assert int(attrs["edges"]) > nodes  # citations and similarity links
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if re.search(r"error|uncaught", line, re.I)], console
    assert "net::" not in result.stderr  # nothing was fetched


@pytest.mark.slow
def test_a_screenshot_of_the_map(map_page, tmp_path):
    shot = tmp_path / "citation-map.png"
    result = run_chromium(f"--screenshot={shot}", map_page.as_uri(), tmp=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1400, 900)
    assert len(data) > 40_000  # a drawn map, not a blank page (~5 kB)
    target = os.environ.get("SPECTER_DESK_SCREENSHOT_DIR")
    if target:
        shutil.copyfile(shot, Path(target) / "citation-map.png")
