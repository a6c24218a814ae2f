"""The repository itself: nothing in it names the machine it was made on, every import is a
declared dependency, and every test runs in a temp home."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

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


# -- dependencies ---------------------------------------------------------------------------


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> dict[str, set[str]]:
    """{"dependencies" or an extra's name: the distributions it declares} from pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    groups = {"dependencies": project["dependencies"], **project["optional-dependencies"]}
    return {
        group: {_normalise(re.match(r"[A-Za-z0-9._-]+", spec).group()) for spec in specs}
        for group, specs in groups.items()
    }


def imported(folder: str) -> dict[str, set[str]]:
    """{top-level module: files importing it} for the third-party imports under a folder."""
    local = {"specter_desk"} | {
        p.stem for d in ("tests", "benchmarks") for p in (ROOT / d).glob("*.py")
    }
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in local:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize(
    ("folder", "groups"),
    [
        ("specter_desk", ("dependencies", "minilm", "corpus")),
        ("tests", ("dependencies", "minilm", "corpus", "dev")),
        ("benchmarks", ("dependencies", "minilm", "corpus", "dev", "compare")),
    ],
)
def test_every_module_imported_is_a_declared_dependency(folder, groups):
    allowed = set().union(*(declared()[group] for group in groups))
    providers = packages_distributions()
    modules = imported(folder)
    assert "numpy" in modules  # the scan sees imports at all
    undeclared = {
        module: sorted(files)
        for module, files in modules.items()
        # a module of a package not installed here (an optional extra) is checked by its name
        if not ({_normalise(d) for d in providers.get(module, [])} | {_normalise(module)}) & allowed
    }
    assert undeclared == {}, f"declare these in pyproject.toml ({' or '.join(groups)})"


def test_every_test_runs_in_a_temp_home(tmp_path):
    import platformdirs

    from specter_desk.config import Paths

    assert Paths.resolve().data_dir == tmp_path / "home"
    assert Path.home().is_relative_to(tmp_path)
    assert Path(platformdirs.user_data_dir("specter-desk")).is_relative_to(tmp_path)
    assert os.environ["SPECTER_DESK_NO_KEYRING"] == "1"


# -- the package's shape ------------------------------------------------------------------------


def _imports_of(path: Path, module: str) -> set[str]:
    """Modules of specter_desk that a module imports anywhere (lazily too; not for typing only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in ast.walk(block)
    }
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return found


def test_no_module_imports_a_module_that_imports_it_back():
    modules = {}
    for path in (ROOT / "specter_desk").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {
        name: {m for m in _imports_of(path, name) if m in modules and m != name}
        for name, path in modules.items()
    }
    assert "specter_desk.server.routes" in graph["specter_desk.server.app"]

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()] - seen:
                if nxt == goal:
                    return True
                seen.add(nxt)
                todo.append(nxt)
        return False

    cycles = sorted((a, b) for a in graph for b in graph[a] if a < b and reaches(b, a))
    assert cycles == []


# The floors of the package (README, Development): a module imports only from its own floor or
# below. Within a floor, anything goes except a cycle (the test above).
FLOORS = [
    {"errors", "models", "clock", "disk", "blas"},
    {"config", "store", "store_citations", "store_feeds"},
    {"embed", "index"},
    {"desk", "switch"},
    {"sync"},
    {"services"},
    {"server", "corpus", "doctor"},
    {"cli", "__main__"},
]


def test_no_import_runs_upward():
    floor = {part: number for number, parts in enumerate(FLOORS) for part in parts}
    upward = []
    for path in sorted((ROOT / "specter_desk").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if module == "specter_desk":
            continue
        here = floor[module.split(".")[1]]
        for target in _imports_of(path, module):
            names = target.split(".")
            if names[0] == "specter_desk" and floor.get(names[1] if names[1:] else "", -1) > here:
                upward.append(f"{module} -> {target}")
    assert upward == []
