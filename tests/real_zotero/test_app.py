"""The Zotero the suite drives: ZOTERO_APP is a Zotero 10 release build that xvfb-run can start.

Without ZOTERO_APP this module skips, and conftest.py collects no other module here, so the
whole real-Zotero suite shows up as this one skip.
"""

from __future__ import annotations

import configparser
import os
import shutil
from pathlib import Path

import pytest

if not os.environ.get("ZOTERO_APP"):
    pytest.skip(
        "real-Zotero suite: ZOTERO_APP is unset (a Zotero 10 folder; tests/real_zotero/README.md)",
        allow_module_level=True,
    )


def test_zotero_app_is_a_zotero_10_release_build(zotero_app):
    ini = configparser.ConfigParser()
    ini.read(next(Path(zotero_app).glob("**/application.ini")))
    version = ini["App"]["Version"]
    assert version.startswith("10.0"), version
    # beta, dev and source builds ignore strict_max_version: the suite must run on a release
    assert not any(tag in version for tag in ("beta", "dev", "SOURCE")), version


def test_xvfb_run_is_installed():
    assert shutil.which("xvfb-run"), "apt-get install xvfb xauth"
