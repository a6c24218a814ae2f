"""Fuzzing the committed OpenAPI schema (bridge/openapi.json) with schemathesis against a real
bridge on 127.0.0.1: no 500, every answer matches its documented schema and status code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from server_helpers import Bridge, free_port
from test_server import demo_papers_once, running_bridge

OPENAPI = Path(__file__).resolve().parents[1] / "bridge" / "openapi.json"
schema = schemathesis.openapi.from_path(str(OPENAPI))
EXAMPLES = 20


@pytest.fixture(scope="module")
def fuzz_bridge(tmp_path_factory, tiny_model) -> Iterator[Bridge]:
    from specter_desk.config import Config
    from specter_desk.desk import Desk
    from specter_desk.server.daemon import default_sync_runner

    root = tmp_path_factory.mktemp("fuzz")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SPECTER_DESK_HOME", str(root / "home"))
        mp.setenv("SPECTER_DESK_NO_KEYRING", "1")
        config = Config.load()
        config.values["model"]["name"] = "tiny"
        # syncs the fuzzer starts fail fast (nothing listens there) and must not hurt the bridge
        config.values["zotero"].update(
            url=f"http://127.0.0.1:{free_port()}", api_key="k", library_id="1"
        )
        desk = Desk(config, notice=lambda message: None)
        runner = default_sync_runner(desk.sibling())
        with running_bridge(desk, demo_papers_once(), root, runner=runner) as (bridge, _gate):
            yield bridge
        desk.close()


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
def test_fuzzing_finds_no_500_and_no_schema_violation(case, fuzz_bridge):
    case.call_and_validate(
        base_url=fuzz_bridge.url, headers={"Authorization": f"Bearer {fuzz_bridge.token}"}
    )
