"""Commands for the localhost bridge: serve, bridge token, service install|uninstall|status."""

from __future__ import annotations

import logging

import typer

from ..config import Config
from ..server.client import daemon_url
from ..server.client import health as client_health
from ..server.lock import DaemonLock, read_owner
from ..server.token import ensure_token, new_token, token_path
from .app import app, console, err_console, notice, open_desk, print_json

bridge_app = typer.Typer(
    help="The localhost bridge the Zotero plugin talks to.", no_args_is_help=True
)
app.add_typer(bridge_app, name="bridge")
service_app = typer.Typer(
    help="Run `specter-desk serve` at login (systemd user unit or launchd agent).",
    no_args_is_help=True,
)
app.add_typer(service_app, name="service")


PlatformOpt = typer.Option(None, "--platform", help="systemd or launchd (default: this system's).")


@app.command("serve")
def serve_cmd(
    host: str = typer.Option(
        None, "--host", help="Address to listen on (default from config: 127.0.0.1, plus ::1)."
    ),
    port: int = typer.Option(
        None, "--port", min=1, max=65535, help="Port (default from config: 23120)."
    ),
    foreground: bool = typer.Option(
        False, "--foreground", help="Log to the terminal instead of the log file."
    ),
    allow_remote: bool = typer.Option(
        False,
        "--allow-remote",
        help="Allow a non-loopback --host (the token is then the only protection).",
    ),
    verbose: bool = typer.Option(False, "--verbose", help="Debug logging."),
) -> None:
    """Run the bridge for the Zotero plugin and the sync daemon until stopped."""
    from ..server.daemon import Daemon

    config = Config.load()
    daemon = Daemon(
        config,
        host=host,
        port=port,
        allow_remote=allow_remote,
        foreground=foreground,
        log_level=logging.DEBUG if verbose else logging.INFO,
        announce=None if foreground else _announce,
    )
    if daemon.warning:
        notice(daemon.warning)
    daemon.run()


def _announce(message: str) -> None:
    err_console.print(message, highlight=False, soft_wrap=True)


@bridge_app.command("token")
def token_cmd(
    new: bool = typer.Option(
        False,
        "--new",
        help="Replace the token (restart `serve` and paste the new one into the plugin).",
    ),
    path: bool = typer.Option(False, "--path", help="Print the token file's path instead."),
) -> None:
    """Print the bridge's bearer token (created on first use, kept in a 0600 file)."""
    data_dir = Config.load().paths.data_dir
    if path:
        typer.echo(str(token_path(data_dir)))
        return
    typer.echo(new_token(data_dir) if new else ensure_token(data_dir))


@service_app.command("install")
def service_install(
    platform: str = PlatformOpt,
    start: bool = typer.Option(
        True, "--start/--no-start", help="Enable and start it now (else only write the file)."
    ),
) -> None:
    """Write the service file for this user and (by default) enable and start it."""
    from ..server import units

    config = Config.load()
    unit = units.render_unit(platform or units.detect_platform(), config.paths)
    units.install_unit(unit)
    console.print(f"wrote {unit.path}", highlight=False)
    commands = units.activation_commands(unit, start=start)
    failed = units.run_commands(commands) if start else []
    if failed:
        notice("could not run: " + "; ".join(failed) + " — run it yourself")
    elif start:
        console.print("enabled and started; check with `specter-desk service status`")
    else:
        todo = units.activation_commands(unit, start=True)
        console.print("to start it: " + " && ".join(" ".join(c) for c in todo), highlight=False)


@service_app.command("uninstall")
def service_uninstall(platform: str = PlatformOpt) -> None:
    """Stop and disable the service and remove its file."""
    from ..server import units

    config = Config.load()
    unit = units.render_unit(platform or units.detect_platform(), config.paths)
    if not unit.path.exists():
        console.print(f"not installed ({unit.path} does not exist)", highlight=False)
        return
    failed = units.run_commands(units.deactivation_commands(unit))
    unit.path.unlink()
    console.print(f"removed {unit.path}", highlight=False)
    if failed:
        notice("could not run: " + "; ".join(failed))


@service_app.command("status")
def service_status(
    platform: str = PlatformOpt,
    json_out: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Is the service installed, is a daemon running for this data dir, does it answer?"""
    from ..server import units

    config = Config.load()
    unit = units.render_unit(platform or units.detect_platform(), config.paths)
    owner = read_owner(config.paths.data_dir)
    url = daemon_url(config.paths)
    running = url is not None or _lock_held(config)
    health = client_health(url) if url else None
    data = {
        "platform": unit.platform,
        "unit": str(unit.path),
        "installed": unit.path.exists(),
        "service_state": units.service_state(unit) if unit.path.exists() else None,
        "daemon": {
            "running": running,
            "pid": owner.get("pid") if owner and running else None,
            "url": f"http://{owner['host']}:{owner['port']}" if owner and running else None,
            "answers": health is not None,
        },
        "data_dir": str(config.paths.data_dir),
        "log_dir": str(config.paths.log_dir),
    }
    if json_out:
        print_json(data)
        return
    service = "installed" if data["installed"] else "not installed"
    if data["service_state"]:
        service += f", {data['service_state']}"
    console.print(f"service   {service} ({data['unit']})", highlight=False)
    daemon = data["daemon"]
    if daemon["running"]:
        console.print(
            f"daemon    running, pid {daemon['pid']}, {daemon['url']}, "
            f"{'answers' if daemon['answers'] else 'does not answer /v1/health'}",
            highlight=False,
        )
    else:
        console.print("daemon    not running for this data dir", highlight=False)
    console.print(f"logs      {data['log_dir']}", highlight=False)


def _lock_held(config: Config) -> bool:
    """True when another process holds the data dir's daemon lock."""
    return DaemonLock(config.paths.data_dir).held_elsewhere()


@app.command("mcp")
def mcp_cmd() -> None:
    """Serve the library to an agent over MCP (stdio): read-only tools related, recommend,
    search, duplicates and status. Configure your MCP client to run `specter-desk mcp`."""
    from ..server.mcp_tools import create_mcp

    desk = open_desk()  # a bad data dir or model name fails here, not at the first tool call
    desk.model_spec()
    create_mcp(lambda: desk).run("stdio")
