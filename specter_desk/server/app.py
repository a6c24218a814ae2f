"""The bridge's HTTP app: FastAPI routes under /v1 behind the BridgeGuard middleware.

Every answer is JSON; errors are answered by handlers.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from .. import __version__
from .context import BridgeContext
from .handlers import install_error_handlers
from .routes import feeds_router, router
from .security import BridgeGuard


def _openapi(api: FastAPI) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        if api.openapi_schema:
            return api.openapi_schema
        schema = get_openapi(
            title=api.title,
            version=api.version,
            description=api.description,
            routes=api.routes,
        )
        schema.setdefault("components", {})["securitySchemes"] = {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "The token printed by `specter-desk bridge token`.",
            }
        }
        for path, operations in schema["paths"].items():
            for operation in operations.values():
                if path != "/v1/health" and not path.startswith("/feeds/"):
                    operation["security"] = [{"bearer": []}]
        schema["servers"] = [{"url": "http://127.0.0.1:23120"}]
        api.openapi_schema = schema
        return schema

    return build


def create_api() -> FastAPI:
    """The FastAPI app without security middleware (also what openapi.json is made from)."""
    api = FastAPI(
        title="specter-desk bridge",
        version=__version__,
        description=(
            "The localhost bridge between specter-desk and the Zotero plugin. Every endpoint "
            "except /v1/health needs `Authorization: Bearer <token>`; every error is "
            '`{"error": {"code", "message"}}`.'
        ),
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        generate_unique_id_function=lambda route: route.name,
    )
    api.state.ctx = None  # create_app gives it the Desk; alone, this app only makes the schema
    api.include_router(router)
    api.include_router(feeds_router)
    install_error_handlers(api)
    api.openapi = _openapi(api)  # type: ignore[method-assign]
    return api


def create_app(
    ctx: BridgeContext, *, token: Callable[[], str], port: int, any_host: bool = False
) -> BridgeGuard:
    """The ASGI app that `serve` runs: Host/Origin/token/body checks, then the API."""
    api = create_api()
    api.state.ctx = ctx
    return BridgeGuard(api, token=token, port=port, any_host=any_host)
