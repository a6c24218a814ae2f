"""Every error class carries its stable code, its exit code and its HTTP status, and the bridge
answers with exactly those (there is no second table)."""

from __future__ import annotations

import inspect

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from specter_desk import errors
from specter_desk.errors import SpecterDeskError
from specter_desk.server.handlers import GuardedRoute, install_error_handlers

CLASSES = [
    cls
    for _, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, SpecterDeskError) and cls is not SpecterDeskError
]


def test_each_error_has_its_own_stable_code():
    codes = [cls.code for cls in CLASSES]
    assert len(CLASSES) >= 15
    assert sorted(codes) == sorted(set(codes))
    assert all(cls.__dict__.get("code") for cls in CLASSES), "each class names its own code"
    assert all(isinstance(cls.exit_code, int) and cls.exit_code > 0 for cls in CLASSES)
    assert all(400 <= cls.http_status < 600 for cls in CLASSES)


def test_the_table_the_plugin_relies_on():
    answers = {cls.__name__: (cls.http_status, cls.code) for cls in CLASSES}
    assert answers["ItemNotFoundError"] == (404, "not_found")
    assert answers["NotEmbeddedError"] == (409, "not_embedded")
    assert answers["InputError"] == (400, "bad_request")
    assert answers["ModelNotFoundError"] == (503, "model_not_found")
    assert answers["SyncNotConfiguredError"] == (409, "not_configured")


@pytest.fixture(scope="module")
def client():
    api = FastAPI()
    api.state.ctx = None
    api.router.route_class = GuardedRoute

    @api.get("/raise/{name}")
    def raise_it(name: str):
        raise getattr(errors, name)(f"{name} happened; do this instead")

    install_error_handlers(api)
    with TestClient(api) as test_client:
        yield test_client


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_the_bridge_answers_each_error_with_its_status_and_code(client, cls):
    response = client.get(f"/raise/{cls.__name__}")
    assert response.status_code == cls.http_status
    assert response.json() == {
        "error": {"code": cls.code, "message": f"{cls.__name__} happened; do this instead"}
    }
