"""The setuptools hook that ships the Zotero plugin: while building, bridge/ is packed into
specter_desk/plugin/specter-desk.xpi (reproducibly, packaging/build-xpi.py), so `specter-desk
setup` can put it into the user's Zotero profile. Everything else is in pyproject.toml."""

import importlib.util
import os
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithPlugin(build_py):
    def run(self) -> None:
        super().run()
        builder = ROOT / "packaging" / "build-xpi.py"
        spec = importlib.util.spec_from_file_location("build_xpi", builder)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        out = Path(self.build_lib) / "specter_desk" / "plugin" / "specter-desk.xpi"
        epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))
        module.build(ROOT / "bridge", out, epoch)


setup(cmdclass={"build_py": BuildWithPlugin})
