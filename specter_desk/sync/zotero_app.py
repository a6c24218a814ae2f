"""The Zotero app on this computer: is it running with the local API on, where are its
profiles, and putting the specter-desk plugin (.xpi) into one."""

from __future__ import annotations

import configparser
import http.client
import json
import os
import sys
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..config import Paths
from ..disk import write_atomic
from ..errors import InputError

PLUGIN_FILE = "specter-desk.xpi"
PLUGIN_ID = "specter-desk@specter-desk.org"  # bridge/manifest.json
LOCAL_API_HELP = (
    'in Zotero open Settings -> Advanced and tick "Allow other applications on this computer '
    'to communicate with Zotero"'
)


@dataclass
class LocalZotero:
    """What answers at Zotero's local address."""

    url: str
    # "on" (local API answers), "off" (Zotero runs, local API off), "busy" (something accepts
    # connections but does not answer in time: Zotero still starting, say), "absent"
    state: str
    version: str = ""

    @property
    def explanation(self) -> str:
        """One line for the user: what was found and what to do."""
        zotero = f"Zotero {self.version}" if self.version else "Zotero"
        if self.state == "on":
            return f"{zotero} answers at {self.url} with its local API on"
        if self.state == "off":
            return f"{zotero} runs at {self.url} but its local API is off: {LOCAL_API_HELP}"
        if self.state == "busy":
            return (
                f"something listens at {self.url} but did not answer in time (Zotero still "
                "starting?); try again in a minute"
            )
        return f"no Zotero answers at {self.url}: start Zotero 7 or later (and {LOCAL_API_HELP})"


def probe_local_api(url: str, timeout: float = 10.0, attempts: int = 2) -> LocalZotero:
    """Ask Zotero's local server whether its local API is on (GET /api/). A busy Zotero (just
    after saving items, say) can take seconds to answer: a timeout or a dropped connection is
    asked again; a refused connection (Zotero not running) answers at once."""
    base = url.rstrip("/")
    request = urllib.request.Request(base + "/api/")  # noqa: S310 - the configured local URL
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return LocalZotero(base, "on", response.headers.get("X-Zotero-Version", ""))
        except urllib.error.HTTPError as exc:
            version = exc.headers.get("X-Zotero-Version", "") if exc.headers else ""
            body = exc.read().decode("utf-8", "replace").lower()
            if exc.code == 403 and "not enabled" in body:
                return LocalZotero(base, "off", version)
            if version:  # Zotero 6 has a connector server but no local API
                return LocalZotero(base, "off", version)
            return LocalZotero(base, "absent")
        except (TimeoutError, ConnectionResetError, http.client.RemoteDisconnected):
            continue
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError | ConnectionResetError):
                continue
            return LocalZotero(base, "absent")
        except (OSError, ValueError):
            return LocalZotero(base, "absent")
    return LocalZotero(base, "busy")


# -- profiles and the plugin -------------------------------------------------------------


@dataclass
class ZoteroProfile:
    path: Path
    name: str
    default: bool


def profile_roots() -> list[Path]:
    """Where Zotero keeps profiles.ini on this system."""
    home = Path.home()
    if sys.platform == "darwin":
        return [home / "Library" / "Application Support" / "Zotero"]
    if os.name == "nt":
        appdata = os.environ.get("APPDATA") or str(home / "AppData" / "Roaming")
        return [Path(appdata) / "Zotero" / "Zotero"]
    return [home / ".zotero" / "zotero"]


def find_profiles() -> list[ZoteroProfile]:
    """Zotero profiles listed in profiles.ini, the default one first."""
    profiles = []
    for root in profile_roots():
        ini = configparser.ConfigParser(interpolation=None)
        try:
            ini.read(root / "profiles.ini", encoding="utf-8")
        except (OSError, configparser.Error):
            continue
        for section in ini.sections():
            if not section.startswith("Profile") or "Path" not in ini[section]:
                continue
            entry = ini[section]
            path = Path(entry["Path"])
            if entry.get("IsRelative", "1") == "1":
                path = root / path
            if path.is_dir():
                profiles.append(
                    ZoteroProfile(path, entry.get("Name", path.name), entry.get("Default") == "1")
                )
    return sorted(profiles, key=lambda p: not p.default)


def plugin_id(xpi: Path) -> str:
    """The add-on id from the .xpi's manifest.json."""
    try:
        with zipfile.ZipFile(xpi) as archive:
            manifest = json.loads(archive.read("manifest.json"))
        apps = manifest.get("applications") or manifest.get("browser_specific_settings")
        return str(apps["zotero"]["id"])
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile) as exc:
        raise InputError(f"{xpi} is not a Zotero plugin ({exc})") from exc


def plugin_xpi(paths: Paths) -> Path | None:
    """The plugin file: shipped inside the package, else built from a source checkout's
    bridge/ (into the cache dir); None when neither is there."""
    shipped = resources.files("specter_desk") / "plugin" / PLUGIN_FILE
    if shipped.is_file():
        return Path(str(shipped))
    root = Path(__file__).resolve().parents[2]
    builder = root / "packaging" / "build-xpi.py"
    if not (root / "bridge" / "manifest.json").is_file() or not builder.is_file():
        return None
    import importlib.util

    spec = importlib.util.spec_from_file_location("specter_desk_build_xpi", builder)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = paths.cache_dir / PLUGIN_FILE
    return Path(module.build(root / "bridge", out, 315532800))


def installed_plugin(profile: Path) -> Path | None:
    """The plugin file in a profile's extensions folder, if it is there."""
    target = profile / "extensions" / f"{PLUGIN_ID}.xpi"
    return target if target.is_file() else None


def registered_addons(profile: Path) -> dict[str, dict]:
    """{add-on id: Zotero's record} from the profile's extensions.json (what Zotero knows)."""
    try:
        data = json.loads((profile / "extensions.json").read_text(encoding="utf-8"))
        return {a["id"]: a for a in data.get("addons", []) if isinstance(a, dict) and "id" in a}
    except (OSError, ValueError, TypeError, KeyError):
        return {}


def plugin_state(profile: Path) -> str:
    """The plugin in a profile as Zotero recorded it at its last start: "active", "off"
    (switched off by the user, or not yet switched on), "incompatible" (this Zotero version is
    outside the plugin's range), "pending" (the file is there, Zotero has not registered it),
    or "absent"."""
    record = registered_addons(profile).get(PLUGIN_ID)
    if record is None:
        return "pending" if installed_plugin(profile) else "absent"
    if record.get("appDisabled"):
        return "incompatible"
    if record.get("active"):
        return "active"
    return "off"


def other_plugins(profile: Path) -> list[str]:
    """Plugins (other than ours) that Zotero has registered from this profile's folder."""
    return sorted(
        addon_id
        for addon_id, record in registered_addons(profile).items()
        if addon_id != PLUGIN_ID and record.get("location") == "app-profile"
    )


def install_plugin(profile: Path, xpi: Path) -> Path:
    """Copy the .xpi into the profile as extensions/<id>.xpi (Zotero loads it at start)."""
    if not profile.is_dir():
        raise InputError(f"{profile} is not a Zotero profile folder")
    target = profile / "extensions" / f"{plugin_id(xpi)}.xpi"
    write_atomic(target, xpi.read_bytes())
    return target
