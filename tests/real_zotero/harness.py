"""The real-Zotero harness: a real Zotero (ZOTERO_APP) headless with the product .xpi and the
test-only helper plugin, and a real `specter-desk serve`. No Zotero code lives here.

- `ZoteroApp` starts Zotero the way ../shared/zotero-real/run.sh does (a profile whose user.js
  turns on the local API and lets unsigned plugins load, the plugins dropped into
  PROFILE/extensions/<id>.xpi, `xvfb-run zotero -profile P -datadir D -ZoteroDebugText`), in its
  own process group so it can be stopped cleanly, killed or restarted. `eval()` runs privileged
  JavaScript inside Zotero through the helper plugin's endpoint; `save_items()` saves through
  the connector as a browser would; `api()` reads the local API; `screenshot()` pictures the
  main window (or one element) with drawWindow.
- `Daemon` runs `specter-desk serve` (and the CLI) with SPECTER_DESK_HOME in a temp dir.

See tests/real_zotero/README.md for how to use these from a new test.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
HELPER_DIR = HERE / "helper_plugin"
JS = HERE / "js"  # snippets run inside Zotero by ZoteroApp.run()
HELPER_ID = "specter-desk-test-helper@specter-desk.org"
PRODUCT_ID = "specter-desk@specter-desk.org"
EVAL_PATH = "/specter-desk-test/eval"
PRODUCT_XPI = REPO / "dist" / "specter-desk.xpi"
# The pane ids Zotero 8+ gives our sections: CSS.escape(pluginID + "-" + paneID).
SECTION_ID = "specter-desk\\@specter-desk\\.org-specter-desk-related"
CITATIONS_ID = "specter-desk\\@specter-desk\\.org-specter-desk-citations"


def free_port() -> int:
    """A TCP port nothing listens on right now (127.0.0.1)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def wait_until(check: Callable[[], Any], timeout: float, what: str, every: float = 0.25) -> Any:
    """Poll check() until it returns something truthy; AssertionError naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
        except (httpx.HTTPError, ZoteroEvalError) as exc:
            value, last_error = None, exc
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} ({last_error})")


def build_product_xpi() -> Path:
    """`make xpi`, the same code path a user runs; returns dist/specter-desk.xpi."""
    subprocess.run(["make", "-s", "xpi"], cwd=REPO, check=True, capture_output=True)
    return PRODUCT_XPI


def build_helper_xpi(out: Path) -> Path:
    """Zip the test-only helper plugin (never part of the product)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w") as archive:
        for name in ("manifest.json", "bootstrap.js"):
            archive.write(HELPER_DIR / name, name)
    return out


def xpi_id(xpi: Path) -> str:
    with zipfile.ZipFile(xpi) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    return manifest["applications"]["zotero"]["id"]


class ZoteroEvalError(Exception):
    """A script run inside Zotero threw; the message carries Zotero's error and stack."""


STARTUP_RACE = "this.itemsView.collectionTreeRows is undefined"


class StartupRace(AssertionError):
    """Zotero logged its own start-up race: this process will never be ready."""


@dataclass
class ZoteroApp:
    """One real Zotero with its own profile and data directory under `root`."""

    app: Path
    root: Path
    port: int
    xpis: list[Path]
    env: dict[str, str] = field(default_factory=dict)
    prefs: dict[str, Any] = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    starts: int = 0

    @property
    def profile(self) -> Path:
        return self.root / "profile"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.root / f"zotero-{self.starts}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "zotero.sqlite"

    # -- lifecycle --------------------------------------------------------------------

    def _write_profile(self) -> None:
        (self.profile / "extensions").mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        prefs = {
            "extensions.zotero.httpServer.enabled": True,
            "extensions.zotero.httpServer.localAPI.enabled": True,
            "extensions.zotero.httpServer.port": self.port,
            "extensions.zotero.dataDir": str(self.data_dir),
            "extensions.zotero.useDataDir": True,
            "extensions.zotero.firstRunGuidance": False,
            "extensions.zotero.sync.autoSync": False,
            "extensions.zotero.automaticScraperUpdates": False,
            "extensions.autoDisableScopes": 0,
            "extensions.enabledScopes": 15,
            "xpinstall.signatures.required": False,
            "app.update.enabled": False,
            **self.prefs,
        }
        lines = [f"user_pref({json.dumps(k)}, {json.dumps(v)});" for k, v in prefs.items()]
        (self.profile / "user.js").write_text("\n".join(lines) + "\n")
        if self.starts == 0:
            for xpi in self.xpis:
                shutil.copy2(xpi, self.profile / "extensions" / f"{xpi_id(xpi)}.xpi")

    def start(self, timeout: float = 180, *, retry: bool = True) -> ZoteroApp:
        """Start Zotero and return once the helper endpoint answers and the main window is up.

        3-5 s on a quiet machine; the limit is wide because on a loaded 2-core machine a start
        after a killed session (an integrity check first) took more than 90 s."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("Zotero is already running")
        self._write_profile()
        self.starts += 1
        command = [
            "xvfb-run", "-a", "-s", "-screen 0 1280x1024x24",
            str(self.app / "zotero"), "-profile", str(self.profile),
            "-datadir", str(self.data_dir), "-ZoteroDebugText",
        ]  # fmt: skip
        env = {**os.environ, **self.env}
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=env, start_new_session=True,
            )  # fmt: skip

        seen: list[Any] = [None]

        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"Zotero exited ({self.proc.returncode}); see {self.log_path}")
            if STARTUP_RACE in self.log_path.read_text(errors="replace"):
                raise StartupRace(f"{STARTUP_RACE} (log {self.log_path})")
            seen[0] = self.run("ready")
            return bool(seen[0]["ready"])

        try:
            wait_until(
                ready, timeout, f"Zotero on :{self.port} (log {self.log_path}; {seen})", every=0.5
            )
        except StartupRace:
            self.kill()
            if not retry:
                raise
            # Zotero 10.0.0's own start-up race (zoteroPane.js, logged before any plugin runs;
            # seen only on a loaded machine): that process's items view never comes up. A
            # second start is a fresh process; a second race fails the test.
            print(f"\nZotero hit its start-up race ({STARTUP_RACE}); starting it again")
            return self.start(timeout, retry=False)
        except BaseException:
            self.kill()  # leave nothing running behind a failed start
            raise
        return self

    def _zotero_processes(self) -> list[psutil.Process]:
        if self.proc is None:
            return []
        try:
            children = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        return [p for p in children if p.name().startswith("zotero")]

    def stop(self, timeout: float = 30) -> None:
        """Quit Zotero cleanly (SIGTERM to the app: it closes its database), then its X server."""
        if self.proc is None:
            return
        apps = self._zotero_processes()
        for proc in apps:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.terminate()
        psutil.wait_procs(apps, timeout=timeout)
        self._end_group(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL Zotero and its X server at once (a crash: nothing is closed or flushed)."""
        if self.proc is None:
            return
        self._end_group(signal.SIGKILL)

    def _end_group(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)
        self.proc = None

    def restart(self) -> ZoteroApp:
        self.stop()
        return self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    # -- talking to it ----------------------------------------------------------------

    def eval(self, script: str, args: dict[str, Any] | None = None, timeout: float = 60) -> Any:
        """Run `script` as the body of an async function(args) inside Zotero; its return value
        (JSON) comes back. Zotero, Services, ChromeUtils... are in scope."""
        response = httpx.post(
            self.url + EVAL_PATH, json={"script": script, "args": args or {}}, timeout=timeout
        )
        if response.status_code == 404:
            raise ZoteroEvalError("the test helper plugin is not loaded (yet)")
        response.raise_for_status()
        reply = response.json()
        if not reply["ok"]:
            raise ZoteroEvalError(f"{reply['error']}\n{reply['stack']}")
        return reply["value"]

    def run(self, name: str, **args: Any) -> Any:
        """eval() a snippet of tests/real_zotero/js/ (NAME.js) with args."""
        return self.eval((JS / f"{name}.js").read_text(), args)

    def save_items(
        self, items: Iterable[dict[str, Any]], uri: str = "https://example.org/"
    ) -> None:
        """Save items (Zotero translator JSON) through the connector, as the browser does."""
        items = list(items)
        for number, item in enumerate(items):
            item.setdefault("id", f"item{number}")
        body = {"items": items, "uri": uri, "sessionID": f"specter-desk-test-{time.time_ns()}"}
        response = httpx.post(self.url + "/connector/saveItems", json=body, timeout=60)
        assert response.status_code == 201, response.text

    def api(self, path: str, **params: Any) -> httpx.Response:
        """GET on the local API (`/api/users/0/...`)."""
        return httpx.get(f"{self.url}/api/users/0/{path.lstrip('/')}", params=params, timeout=60)

    def item_keys(self, title: str) -> list[str]:
        """Keys of the regular items whose title contains `title` (trash included)."""
        return self.run("item_keys", title=title)

    def select_item(self, key: str) -> int:
        """Select the item in the main window's items list (as a click does); returns its id."""
        return self.run("select_item", key=key)

    def show_section(self, pane_id: str = SECTION_ID) -> None:
        """Bring an item-pane section into view, as clicking its side-nav icon does."""
        self.run("show_section", pane=pane_id)

    def section(self, pane_id: str = SECTION_ID) -> dict[str, Any] | None:
        """What a custom section shows: header label/summary, the body's data-sd-state and
        text, and one row per result (key, pool, title, meta, score, badge, button, link)."""
        return self.run("section", pane=pane_id)

    def show_related(self, key: str, states: Iterable[str] = ("results",)) -> dict[str, Any]:
        """Show the Related papers section of an item (see show_item)."""
        return self.show_item(key, states, SECTION_ID)

    def show_item(
        self, key: str, states: Iterable[str], pane_id: str = SECTION_ID
    ) -> dict[str, Any]:
        """Show a section of an item as a user does with the section pinned: select it (another
        item first when it is already selected, so the pane renders it afresh) and wait until
        the section shows a new answer for it in one of `states`."""
        self.show_section(pane_id)
        if self.run("selected_keys") == [key]:
            other = self.eval(
                "return (await Zotero.Items.getAll(Zotero.Libraries.userLibraryID, true))"
                ".find((i) => i.isRegularItem() && i.key !== args.key).key;",
                {"key": key},
            )
            self.select_item(other)
        before = (self.section(pane_id) or {}).get("request", 0)
        self.select_item(key)
        self.show_section(pane_id)
        return self.wait_section(states, item=key, newer_than=before, pane_id=pane_id)

    def click_in_section(
        self, selector: str, text: str | None = None, pane_id: str = SECTION_ID
    ) -> str:
        """Click an element of a section (a Retry button, a title...)."""
        return self.run("click_in_section", pane=pane_id, selector=selector, text=text)

    def set_prefs(self, prefs: dict[str, Any]) -> None:
        """Set global preferences by full name (None clears the user value)."""
        self.run("set_prefs", prefs=prefs)

    def wait_section(
        self,
        states: Iterable[str],
        timeout: float = 60,
        item: str | None = None,
        newer_than: int = -1,
        pane_id: str = SECTION_ID,
    ) -> dict[str, Any]:
        """Wait until the section's body is in one of `states`, showing `item` (when given) from
        an answer newer than request number `newer_than`."""
        wanted = set(states)
        seen: list[Any] = [None]

        def shown() -> dict[str, Any] | None:
            seen[0] = section = self.section(pane_id)
            if not section or section["state"] not in wanted or section["request"] <= newer_than:
                return None
            return section if item is None or section["item"] == item else None

        try:
            return wait_until(shown, timeout, f"the section to show {sorted(wanted)}")
        except AssertionError as exc:
            last = seen[0] and {k: seen[0][k] for k in ("item", "request", "state", "text")}
            raise AssertionError(f"{exc}; it shows {last}") from None

    def screenshot(
        self, out: Path, selector: str | None = None, pad: int = 0, href: str | None = None
    ) -> Path:
        """A PNG of the main window (or the window at `href`) as Zotero draws it (drawWindow),
        or of one of its elements."""
        data_url = self.run("screenshot", selector=selector, pad=pad, href=href)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(data_url.split(",", 1)[1]))
        return out


@dataclass
class Daemon:
    """`specter-desk serve` on a free port, and the CLI, with SPECTER_DESK_HOME = home."""

    home: Path
    port: int
    env: dict[str, str]
    proc: subprocess.Popen | None = None

    @classmethod
    def create(cls, home: Path, zotero: ZoteroApp | None = None, **extra: str) -> Daemon:
        home.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "SPECTER_DESK_HOME": str(home),
            "SPECTER_DESK_MODEL": "minilm",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            **extra,
        }
        if zotero is not None:
            env["SPECTER_DESK_ZOTERO_LOCAL_URL"] = zotero.url
            (home / "config.toml").write_text(
                f'[zotero]\nsqlite_path = "{zotero.sqlite_path}"\n\n'
                "[bridge]\nsync_interval_minutes = 0\n"
            )
        return cls(home=home, port=free_port(), env=env)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        return (self.home / "bridge-token").read_text().strip()

    def cli(
        self, *args: str, check: bool = True, timeout: float = 300
    ) -> subprocess.CompletedProcess:
        """Run `specter-desk ARGS` (this checkout's) with the daemon's environment."""
        result = subprocess.run(
            [sys.executable, "-m", "specter_desk", *args],
            env=self.env, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        if check and result.returncode != 0:
            raise AssertionError(f"specter-desk {' '.join(args)} failed:\n{result.stderr}")
        return result

    def cli_json(self, *args: str) -> Any:
        return json.loads(self.cli(*args, "--json").stdout)

    def popen(self, *args: str) -> subprocess.Popen:
        """Start `specter-desk ARGS` without waiting (for kill-mid-sync tests)."""
        return subprocess.Popen(
            [sys.executable, "-m", "specter_desk", *args], env=self.env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def start(self, timeout: float = 120) -> Daemon:
        log = (self.home / "serve-test.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "specter_desk", "serve", "--port", str(self.port),
             "--foreground"],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip

        def healthy() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited; see {self.home / 'serve-test.log'}")
            return httpx.get(self.url + "/v1/health", timeout=2).status_code == 200

        wait_until(healthy, timeout, "specter-desk serve")
        return self

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def get(self, path: str, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.get(self.url + path, params=params, headers=headers, timeout=60)

    def requests(self, path_part: str) -> list[str]:
        """Access-log lines of the daemon that mention path_part."""
        text = (self.home / "serve-test.log").read_text(errors="replace")
        return [
            line for line in text.splitlines() if "uvicorn.access" in line and path_part in line
        ]

    def wait_idle(self, timeout: float = 120) -> dict[str, Any]:
        """Wait until the daemon's sync worker is idle; returns GET /v1/sync."""

        def idle() -> dict[str, Any] | None:
            sync = self.get("/v1/sync").json()
            return sync if sync["state"] in ("idle", "failed") else None

        return wait_until(idle, timeout, "the daemon's sync to finish")
