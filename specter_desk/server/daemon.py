"""`specter-desk serve`: the bridge plus the daemon loop (periodic and requested syncs).

One process per data dir (file lock). The HTTP server answers from one Desk; the sync worker
writes through a sibling Desk in a low-priority thread. SIGTERM/SIGINT stop the server, ask
the sync to stop at its next transaction boundary, wait for it, and release the lock.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import signal
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn

from ..config import Config
from ..desk import Desk
from ..embed.registry import get_model
from ..errors import BindError, ConfigError, SpecterDeskError
from ..services.feeds import refresh_feeds
from ..switch import advance_switch, pending_switch
from ..sync import configured_source, run_sync
from .app import create_app
from .connections import ConnectionGuard, guarded_protocol
from .context import BridgeContext
from .lock import DaemonLock
from .logs import setup_logging
from .slow_work import SlowWork
from .token import ensure_token
from .worker import SyncRunner, SyncWorker

log = logging.getLogger("specter_desk.server")

STOP_TIMEOUT = 30.0
WATCH_SECONDS = 2.0  # how often the daemon looks for commits made by other processes


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind_host(host: str, allow_remote: bool) -> str | None:
    """Refuse a non-loopback address unless allowed; returns a warning to show, if any."""
    if is_loopback(host):
        return None
    if not allow_remote:
        raise ConfigError(
            f"refusing to listen on {host}: the bridge serves your library to anything that "
            "can reach it; use 127.0.0.1, or pass --allow-remote if you really mean it"
        )
    return (
        f"listening on {host}: other machines can reach the bridge; only the bearer token "
        "protects it (Host checks are relaxed). Use a firewall."
    )


def bind_sockets(host: str, port: int) -> list[socket.socket]:
    """Listening sockets: 127.0.0.1 and ::1 for the default host, else just host."""
    targets: list[tuple[int, str]]
    if host in ("127.0.0.1", "localhost"):
        targets = [(socket.AF_INET, "127.0.0.1")]
        if socket.has_ipv6:
            targets.append((socket.AF_INET6, "::1"))
    else:
        bare = host.strip("[]")
        family = socket.AF_INET6 if ":" in bare else socket.AF_INET
        targets = [(family, bare)]
    sockets: list[socket.socket] = []
    for number, (family, address) in enumerate(targets):
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # accepted connections inherit it: without it a keep-alive request waits ~40 ms
            # (Nagle + delayed ACK); uvicorn sets it only on sockets it binds itself
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((address, port))
            sock.listen(128)
            sock.set_inheritable(True)
        except OSError as exc:
            sock.close()
            if number > 0:  # ::1 is a bonus; IPv6 may be off
                log.info("not listening on [%s]:%s (%s)", address, port, exc)
                continue
            for s in sockets:
                s.close()
            raise BindError(
                f"cannot listen on {address}:{port} ({exc.strerror or exc}); is another program "
                "using the port? Change [bridge] port in config.toml or pass --port"
            ) from exc
        sockets.append(sock)
    return sockets


ZOTERO_SOURCES = re.compile(r"^(user|local|sqlite|user:\d+|group:\d+)$")


def zotero_sources(desk: Desk) -> list[str]:
    """What a periodic sync covers: every Zotero library synced before, else the configured one.

    Files are left out: re-reading a file is the user's move (`specter-desk sync FILE`).
    """
    sources = []
    for lib in desk.store.libraries():
        name = lib["library"]
        if lib["version"] is None or not ZOTERO_SOURCES.match(name):
            continue
        source = "user" if name.startswith("user") else name
        if source not in sources:
            sources.append(source)
    if not sources:
        configured = configured_source(desk)  # the same rule as `specter-desk sync`
        if configured:
            sources.append(configured)
    return sources


def default_sync_runner(desk: Desk) -> SyncRunner:
    """Syncs with `run_sync` on the worker's Desk: the library asked for, or every known one."""

    def run(library: str | None, on_progress, should_stop) -> dict:
        if library is not None:
            sources = ["user" if library.startswith("user") else library]
        else:
            sources = zotero_sources(desk)
        if not sources and pending_switch(desk) is None:
            raise ConfigError(
                "nothing to sync yet: run `specter-desk sync --library user|group:ID|local|"
                "sqlite` once (the daemon then keeps that library up to date)"
            )
        total: dict[str, Any] = dict.fromkeys(("added", "updated", "deleted", "embedded"), 0)
        started = time.perf_counter()
        for number, source in enumerate(sources, start=1):
            if should_stop():
                break
            result = run_sync(  # the last one embeds what every source brought
                desk,
                source,
                embed=number == len(sources),
                on_progress=on_progress,
                should_stop=should_stop,
            )
            total["added"] += result.added
            total["updated"] += result.updated
            total["deleted"] += result.deleted
            total["embedded"] += result.embedded
            if result.stopped:
                break
        citations = citations_after_sync(desk, on_progress, should_stop)
        if citations is not None:
            total["citations"] = citations
            if citations.get("citing_candidates") and not should_stop():
                # the new papers citing the library (the library sync embedded before them)
                stage = f"embedding ({desk.model_spec().name})"
                total["embedded"] += desk.embed_missing(
                    on_progress=lambda done, all_: on_progress(stage, done, all_),
                    should_stop=should_stop,
                ).embedded
        total["switch"] = carry_on_switch(desk, on_progress, should_stop)
        total["stopped"] = should_stop()
        return {**total, "seconds": round(time.perf_counter() - started, 2)}

    return run


def citations_after_sync(
    desk: Desk, on_progress: Callable[[str, int, int], None], should_stop: Callable[[], bool]
) -> dict[str, Any] | None:
    """`citations sync` after a library sync when [citations] after_sync is on (None if off).

    A citation source failing is logged and reported, never a failed sync: the library sync
    has committed already, and the citations keep what they fetched before.
    """
    if not desk.config.get("citations", "after_sync") or should_stop():
        return None
    from ..services.citations.fetch import CitationSettings, sync_citations

    try:
        result = sync_citations(
            desk.store,
            CitationSettings.from_config(desk.config),
            on_progress=lambda stage, done, total: on_progress(f"citations: {stage}", done, total),
            should_stop=should_stop,
        )
    except SpecterDeskError as exc:
        log.warning("citations after sync: %s", exc)
        return {"error": str(exc)}
    log.info(
        "citations: %d of %d papers matched, %d new papers citing the library",
        result.matched,
        result.items,
        result.citing_candidates,
    )
    return result.to_dict()


def carry_on_switch(
    desk: Desk, on_progress: Callable[[str, int, int], None], should_stop: Callable[[], bool]
) -> dict[str, Any] | None:
    """Embed for a pending `model use` (the old index keeps answering); switch when done."""
    pending = pending_switch(desk)
    if pending is None:
        advance_switch(desk)  # clears a request a stopped process had finished, if any
        return None
    if should_stop():
        return None
    stage = f"embedding for the switch to {pending.model}"
    state = advance_switch(
        desk, lambda done, total: on_progress(stage, done, total), should_stop=should_stop
    )
    if state is not None and state.state == "switched":
        log.info("switched the active model from %s to %s", state.previous, state.model)
    return state.to_dict() if state is not None else None


class _Server(uvicorn.Server):
    """uvicorn.Server that also tells the sync worker to stop when a signal arrives."""

    def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None]):
        super().__init__(config)
        self._on_exit = on_exit

    def handle_exit(self, sig: int, frame: Any) -> None:
        self._on_exit()
        super().handle_exit(sig, frame)


def embedding_threads(config: Config) -> int | None:
    """`[daemon] threads`: CPU threads the daemon embeds with (0: every core -> None; the
    range is checked when the config is read)."""
    return int(config.get("daemon", "threads")) or None


class Daemon:
    """Everything `specter-desk serve` runs."""

    def __init__(
        self,
        config: Config,
        *,
        host: str | None = None,
        port: int | None = None,
        allow_remote: bool = False,
        foreground: bool = False,
        sync_runner: SyncRunner | None = None,
        log_level: int = logging.INFO,
        announce: Callable[[str], None] | None = None,
    ):
        self.config = config
        self.host = host or config.get("bridge", "host")
        self.port = int(port or config.get("bridge", "port"))
        self.allow_remote = allow_remote
        self.foreground = foreground
        self.sync_runner = sync_runner
        self.log_level = log_level
        self.announce = announce
        self.log_file: Path | None = None
        self.warning = check_bind_host(self.host, allow_remote)
        get_model(config.model)  # a daemon for an unknown model would answer every request 400
        self.threads = embedding_threads(config)
        self._stop = threading.Event()
        self.server: _Server | None = None
        self.worker: SyncWorker | None = None

    def stop(self) -> None:
        """Ask everything to stop (from a signal handler or another thread)."""
        self._stop.set()
        if self.worker is not None:
            self.worker.stop_soon()
        if self.server is not None:
            self.server.should_exit = True

    def run(self) -> None:
        paths = self.config.paths
        lock = DaemonLock(paths.data_dir)
        lock.acquire(host=self.host, port=self.port)
        desk = worker_desk = ctx = None
        sockets: list[socket.socket] = []
        try:
            token = ensure_token(paths.data_dir)
            self.log_file = setup_logging(
                paths.log_dir, foreground=self.foreground, level=self.log_level, secrets=[token]
            )
            if self.warning:
                log.warning(self.warning)
            sockets = bind_sockets(self.host, self.port)
            desk = Desk(self.config, notice=log.info, threads=self.threads)
            worker_desk = desk.sibling()
            self.worker = SyncWorker(
                self.sync_runner or default_sync_runner(worker_desk),
                nice=int(self.config.get("daemon", "nice")),
                on_committed=lambda: _refresh_indexes(worker_desk),
                on_synced=lambda: _refresh_feeds(worker_desk),
            )
            ctx = BridgeContext(
                desk,
                self.worker,
                self.log_file,
                slow=SlowWork(nice=int(self.config.get("daemon", "nice"))),
            )
            app = create_app(ctx, token=lambda: token, port=self.port, any_host=self.allow_remote)
            uv_config = uvicorn.Config(
                app,
                host=self.host,
                port=self.port,
                http=guarded_protocol(ConnectionGuard()),  # header timeout, connection cap
                log_config=None,
                lifespan="off",
                server_header=False,
                date_header=False,
                timeout_graceful_shutdown=5,
            )
            self.server = _Server(uv_config, on_exit=self.stop)
            self.worker.start()

            def has_sources() -> bool:
                if self.sync_runner is not None:
                    return True
                reader = ctx.reader()
                return bool(zotero_sources(reader)) or pending_switch(reader) is not None

            periodic = threading.Thread(
                target=self._periodic,
                args=(self.worker, has_sources),
                daemon=True,
                name="specter-desk-periodic",
            )
            periodic.start()
            threading.Thread(
                target=self._watch, args=(desk.sibling(),), daemon=True, name="specter-desk-watch"
            ).start()
            self._install_signal_handlers()
            where = ", ".join(_address(s) for s in sockets)
            log.info("specter-desk bridge listening on %s (data dir %s)", where, paths.data_dir)
            if self.announce:
                logs = "this terminal" if self.log_file is None else str(self.log_file)
                self.announce(
                    f"specter-desk bridge on {where}; logs: {logs}; stop with Ctrl-C or SIGTERM"
                )
            self.server.run(sockets=sockets)
            log.info("stopping")
        finally:
            self._stop.set()
            stopped = self.worker is None or self.worker.stop(STOP_TIMEOUT)
            if not stopped:
                log.warning(
                    "the sync did not stop within %s s; what it has not committed is "
                    "dropped and the next sync resumes",
                    STOP_TIMEOUT,
                )
            for sock in sockets:
                sock.close()
            if ctx is not None:
                ctx.close()
            # a worker still inside a chunk keeps its connection until the process exits
            for d in (worker_desk if stopped else None, desk):
                if d is not None:
                    d.close()
            lock.release()
            log.info("stopped")

    def _install_signal_handlers(self) -> None:
        """Our handlers stay in place after uvicorn restores what it found (it re-raises)."""
        if threading.current_thread() is not threading.main_thread():
            return

        def handler(sig: int, frame: Any) -> None:
            self.stop()

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, handler)

    def _periodic(self, worker: SyncWorker, has_sources: Callable[[], bool]) -> None:
        """A sync of every known Zotero library at start and then every interval."""
        minutes = float(self.config.get("bridge", "sync_interval_minutes") or 0)
        if minutes <= 0:
            return
        if self._stop.wait(2.0):
            return
        while not self._stop.is_set():
            if self._on_battery():
                log.info("on battery: periodic sync skipped")
            elif not worker.busy and has_sources():
                worker.request(None)
            if self._stop.wait(minutes * 60):
                return

    def _watch(self, desk: Desk) -> None:
        """Follow what other processes commit (an `embed` or `sync` run beside the daemon):
        the loaded indexes take their new vectors within WATCH_SECONDS. While the sync worker
        runs, it keeps the indexes in step itself; the watcher catches up after it."""
        try:
            seen = desk.store.data_version()
            while not self._stop.wait(WATCH_SECONDS):
                version = desk.store.data_version()
                if version == seen or (self.worker is not None and self.worker.busy):
                    continue
                seen = version
                try:
                    _refresh_indexes(desk)
                except SpecterDeskError as exc:
                    log.warning("index refresh after another process's change failed: %s", exc)
        except Exception:  # noqa: BLE001 - the bridge keeps serving without the watcher
            log.exception("the store watcher stopped")
        finally:
            desk.close()

    def _on_battery(self) -> bool:
        if not self.config.get("daemon", "pause_on_battery"):
            return False
        try:
            import psutil

            battery = psutil.sensors_battery()
        except Exception:  # noqa: BLE001 - no battery information is "not on battery"
            return False
        return bool(battery is not None and not battery.power_plugged)


def _refresh_indexes(desk: Desk) -> None:
    """Bring every loaded index (and the default model's) up to date with the store."""
    for model in {desk.active_model, *desk.loaded_models}:
        added, removed = desk.refresh_index(model)
        if added or removed:
            log.info("index %s: %s added, %s removed", model, added, removed)


def _refresh_feeds(desk: Desk) -> None:
    """Recompute every feed after a sync (new seeds, new candidates)."""
    if not desk.store.feeds():
        return
    report = refresh_feeds(desk.store, desk.index())
    log.info("feeds refreshed: %s", report.refreshed or "none")
    for feed_id, message in report.failed.items():
        log.warning("feed %s not refreshed: %s", feed_id, message)


def _address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
