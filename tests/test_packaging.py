"""Packaging: the wheel ships the Zotero plugin; the wheel check resolves each platform with
that platform's environment markers (pip alone would use this machine's)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name.replace("-", "_"), ROOT / "packaging" / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_wheel(folder: Path, name: str, tag: str, requires: list[str] = ()) -> None:
    """A minimal wheel: METADATA (with Requires-Dist), WHEEL, RECORD."""
    dist = f"{name.replace('-', '_')}-1.0"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires
    )
    path = folder / f"{dist}-{tag}.whl"
    with zipfile.ZipFile(path, "w") as whl:
        whl.writestr(f"{dist}.dist-info/METADATA", metadata)
        whl.writestr(f"{dist}.dist-info/WHEEL", f"Wheel-Version: 1.0\nTag: {tag}\n")
        whl.writestr(f"{dist}.dist-info/RECORD", "")


def test_each_platform_is_resolved_with_its_own_markers(tmp_path, monkeypatch):
    """torch's CUDA libraries are marked platform_system == "Linux": checking Windows must
    not ask for them, checking Linux must."""
    check = load_script("check-wheels.py")
    index = tmp_path / "index"
    index.mkdir()
    fake_wheel(index, "app-demo", "py3-none-any", [
        'winhelper; platform_system == "Windows"', 'linuxhelper; platform_system == "Linux"',
    ])  # fmt: skip
    fake_wheel(index, "winhelper", "py3-none-win_amd64")
    fake_wheel(index, "linuxhelper", "py3-none-manylinux_2_17_x86_64")
    monkeypatch.setattr(check, "PIP_ARGS", ["--no-index", f"--find-links={index}"])
    wheels = tmp_path / "built"
    wheels.mkdir()
    win = check.check("dry-run", "win_amd64", "3.12", ["app-demo"], wheels)
    assert win["ok"] and set(win["packages"]) == {"app-demo", "winhelper"}
    linux = check.check("dry-run", "manylinux_2_28_x86_64", "3.12", ["app-demo"], wheels)
    assert linux["ok"] and set(linux["packages"]) == {"app-demo", "linuxhelper"}
    mac = check.check("dry-run", "macosx_14_0_arm64", "3.13", ["app-demo", "winhelper"], wheels)
    assert not mac["ok"] and mac["missing"] == ["winhelper"]


def test_a_known_gap_is_reported_and_the_rest_still_checked(tmp_path, monkeypatch):
    """No torch for Intel Macs: the cell says so, and still checks everything else, including
    packages that depend on torch themselves."""
    check = load_script("check-wheels.py")
    index = tmp_path / "index"
    index.mkdir()
    fake_wheel(index, "torch", "py3-none-manylinux_2_17_x86_64")
    fake_wheel(index, "numpy", "py3-none-any")
    fake_wheel(index, "needs-torch", "py3-none-any", ["torch>=2.4"])
    monkeypatch.setattr(check, "PIP_ARGS", ["--no-index", f"--find-links={index}"])
    wheels = tmp_path / "built"
    wheels.mkdir()
    reqs = ["torch>=2.4", "numpy", "needs-torch"]
    cell = check.check("dry-run", "macosx_14_0_x86_64", "3.12", reqs, wheels)
    assert cell["ok"] and "Intel-Mac" in cell["gap"]
    assert set(cell["packages"]) == {"numpy", "needs-torch"}
    cell = check.check("dry-run", "win_amd64", "3.12", ["torch", "numpy"], wheels)
    assert not cell["ok"] and cell["missing"] == ["torch"]


def test_the_package_needs_no_compiled_index_library():
    check = load_script("check-wheels.py")
    names = {check.requirement_name(r) for r in check.requirements(["minilm"])}
    assert "usearch" in names and "hnswlib" not in names


@pytest.mark.slow
def test_the_wheel_ships_the_plugin_built_from_bridge(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("specter_desk-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read("specter_desk/plugin/specter-desk.xpi")
    built = load_script("build-xpi.py").build(ROOT / "bridge", tmp_path / "fresh.xpi", 315532800)
    assert shipped == built.read_bytes()  # reproducible: the same sources, the same bytes
