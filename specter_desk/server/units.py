"""Service units that run `specter-desk serve` at login: a systemd user unit or a launchd agent."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from xml.sax.saxutils import escape

from ..config import HOME_ENV, Paths
from ..disk import write_atomic
from ..errors import InputError

SYSTEMD_UNIT = "specter-desk.service"
LAUNCHD_LABEL = "org.specter-desk.serve"
LAUNCHD_PLIST = f"{LAUNCHD_LABEL}.plist"
# Environment passed on to the service when set at install time.
PASSED_ENV = (HOME_ENV, "HF_HOME", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


@dataclass
class Unit:
    """One service definition for this user."""

    platform: str  # "systemd" or "launchd"
    path: Path
    text: str


def detect_platform() -> str:
    if sys.platform == "darwin":
        return "launchd"
    if sys.platform.startswith("linux"):
        return "systemd"
    raise InputError(
        f"no service manager support on {sys.platform}; run `specter-desk serve` at login "
        "yourself (e.g. Task Scheduler on Windows)"
    )


def serve_command() -> list[str]:
    """The command the service runs: this Python, this package."""
    return [sys.executable, "-m", "specter_desk", "serve"]


def _template(name: str) -> Template:
    text = (resources.files("specter_desk.server") / "units" / name).read_text(encoding="utf-8")
    return Template(text)


def unit_path(platform: str) -> Path:
    if platform == "systemd":
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        return base / "systemd" / "user" / SYSTEMD_UNIT
    if platform == "launchd":
        return Path.home() / "Library" / "LaunchAgents" / LAUNCHD_PLIST
    raise InputError(f"unknown service platform {platform!r}; use systemd or launchd")


def render_unit(platform: str, paths: Paths) -> Unit:
    """The unit text for this user, filled in from the current environment."""
    env = {name: os.environ[name] for name in PASSED_ENV if os.environ.get(name)}
    command = serve_command()
    values = {**env, "the Python command": " ".join(command), "the log folder": str(paths.log_dir)}
    for name, value in values.items():
        _check_value(name, value)
    if platform == "systemd":
        environment = "\n".join(
            f"Environment={_systemd_quote(f'{k}={v}')}" for k, v in sorted(env.items())
        )
        text = _template(SYSTEMD_UNIT).substitute(
            exec_start=" ".join(_systemd_quote(part, command=True) for part in command),
            environment=environment,
            log_dir=str(paths.log_dir),
        )
    elif platform == "launchd":
        text = _template(LAUNCHD_PLIST).substitute(
            program_arguments="\n".join(
                f"        <string>{escape(part)}</string>" for part in command
            ),
            environment="\n".join(
                f"        <key>{escape(k)}</key>\n        <string>{escape(v)}</string>"
                for k, v in sorted(env.items())
            ),
            stderr_path=escape(str(paths.log_dir / "launchd-stderr.log")),
        )
    else:
        raise InputError(f"unknown service platform {platform!r}; use systemd or launchd")
    return Unit(platform, unit_path(platform), text)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _check_value(name: str, value: str) -> None:
    """InputError for a value that would change a unit's meaning: a newline starts a new
    directive in a systemd unit (and control characters are not allowed in a plist)."""
    found = _CONTROL.search(value)
    if found:
        raise InputError(
            f"cannot write {name} into a service unit: it holds a control character "
            f"({found.group()!r} at position {found.start()}); use a value without one"
        )


def _systemd_quote(value: str, *, command: bool = False) -> str:
    """Quote one word for a systemd command line (command: `$` doubled, as systemd expands
    $VAR there) or an Environment= line; `%` specifiers are doubled in both."""
    if value and all(c.isalnum() or c in "/._-=:+,@" for c in value):
        return value
    quoted = value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    return '"' + (quoted.replace("$", "$$") if command else quoted) + '"'


def activation_commands(unit: Unit, *, start: bool) -> list[list[str]]:
    """What enables (and starts) the unit with the platform's tool."""
    if unit.platform == "systemd":
        cmds = [["systemctl", "--user", "daemon-reload"]]
        cmds.append(["systemctl", "--user", "enable", *(["--now"] if start else []), SYSTEMD_UNIT])
        return cmds
    domain = f"gui/{os.getuid()}"
    return [["launchctl", "bootstrap", domain, str(unit.path)]] if start else []


def deactivation_commands(unit: Unit) -> list[list[str]]:
    if unit.platform == "systemd":
        return [
            ["systemctl", "--user", "disable", "--now", SYSTEMD_UNIT],
            ["systemctl", "--user", "daemon-reload"],
        ]
    return [["launchctl", "bootout", f"gui/{os.getuid()}/{LAUNCHD_LABEL}"]]


def run_commands(commands: list[list[str]]) -> list[str]:
    """Run each command if its tool exists; returns the ones that could not run or failed."""
    failed = []
    for cmd in commands:
        if shutil.which(cmd[0]) is None:
            failed.append(shlex.join(cmd))
            continue
        result = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=60)
        if result.returncode != 0:
            failed.append(f"{shlex.join(cmd)}  ({(result.stderr or result.stdout).strip()})")
    return failed


def install_unit(unit: Unit) -> None:
    write_atomic(unit.path, unit.text.encode(), mode=0o644)


def service_state(unit: Unit) -> str | None:
    """systemctl/launchctl's view of the service, when the tool exists."""
    if unit.platform == "systemd" and shutil.which("systemctl"):
        cmd = ["systemctl", "--user", "is-active", SYSTEMD_UNIT]
    elif unit.platform == "launchd" and shutil.which("launchctl"):
        cmd = ["launchctl", "print", f"gui/{os.getuid()}/{LAUNCHD_LABEL}"]
    else:
        return None
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=30)
    if unit.platform == "systemd":
        if result.stdout.strip():
            return result.stdout.strip()  # active, inactive, failed, ...
        return f"unknown (systemctl: {result.stderr.strip()[:100]})" if result.stderr else None
    if result.returncode != 0:
        return "not loaded"
    for line in result.stdout.splitlines():
        if line.strip().startswith("state ="):
            return line.split("=", 1)[1].strip()
    return "loaded"
