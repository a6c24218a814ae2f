"""The bridge's HTTP app: FastAPI routes under /v1 behind the BridgeGuard middleware.

Every answer is JSON. Errors are `{"error": {"code", "message"}}` with a stable code; an
unexpected exception is logged with its traceback and answered as `internal` without one.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..desk import Desk
from ..errors import (
    AmbiguousItemError,
    ConfigError,
    InputError,
    ItemNotFoundError,
    ModelNotFoundError,
    NoCitationDataError,
    NotEmbeddedError,
    SpecterDeskError,
    StoreError,
)
from .security import BridgeGuard
from .worker import SyncWorker

log = logging.getLogger("specter_desk.server")


class NotAvailableError(SpecterDeskError):
    """A feature whose service is not installed in this build."""

    code = "not_available"


class SyncNotConfiguredError(SpecterDeskError):
    """POST /v1/sync on a daemon that has no sync source."""

    code = "not_configured"


# SpecterDeskError subclass -> (HTTP status, stable code); the first match wins.
ERROR_STATUS: list[tuple[type[SpecterDeskError], int, str]] = [
    (ItemNotFoundError, 404, "not_found"),
    (NotEmbeddedError, 409, "not_embedded"),
    (NoCitationDataError, 409, "no_citations"),
    (AmbiguousItemError, 409, "ambiguous"),
    (ModelNotFoundError, 503, "model_not_found"),
    (NotAvailableError, 503, "not_available"),
    (SyncNotConfiguredError, 409, "not_configured"),
    (InputError, 400, "bad_request"),
    (ConfigError, 400, "bad_request"),
    (StoreError, 503, "store_error"),
]


@dataclass
class BridgeContext:
    """What the routes work on: one Desk, the sync worker and a lock serialising store reads."""

    desk: Desk
    worker: SyncWorker | None = None
    log_file: Path | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)


def error_response(status: int, code: str, message: str, headers: dict | None = None):
    return JSONResponse(
        {"error": {"code": code, "message": " ".join(str(message).split())[:1000]}},
        status_code=status,
        headers=headers,
    )


def _validation_message(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "invalid request"
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}"


def _allowed_methods(request: Request) -> list[str]:
    """Every method the schema documents at this path (Starlette names only one route's)."""
    methods: set[str] = set()
    for template, operations in request.app.openapi()["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, request.url.path):
            methods |= {m.upper() for m in operations}
    return sorted(methods) or ["GET"]


def install_error_handlers(api: FastAPI) -> None:
    """JSON errors with stable codes for everything, including unknown routes and bad JSON."""

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            return error_response(404, "not_found", f"no such endpoint: {request.url.path}")
        if exc.status_code == 405:
            allowed = _allowed_methods(request)
            return error_response(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed on {request.url.path}; use {', '.join(allowed)}",
                headers={"Allow": ", ".join(allowed)},
            )
        return error_response(exc.status_code, "bad_request", str(exc.detail))

    @api.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        return error_response(422, "bad_request", _validation_message(exc))

    @api.exception_handler(SpecterDeskError)
    async def desk_error(request: Request, exc: SpecterDeskError):
        for cls, status, code in ERROR_STATUS:
            if isinstance(exc, cls):
                return error_response(status, code, str(exc))
        log.error("unmapped error on %s: %s", request.url.path, exc)
        return error_response(500, exc.code or "internal", str(exc))

    @api.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        return internal_error(request, exc)


def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """Log the traceback; answer `internal` without it."""
    log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    where = request.app.state.ctx.log_file if hasattr(request.app.state, "ctx") else None
    hint = f"; details in {where}" if where else ""
    return error_response(500, "internal", f"internal error ({type(exc).__name__}){hint}")


class GuardedRoute(APIRoute):
    """A route that turns an unexpected exception into a 500 JSON answer itself.

    (Starlette's last-resort handler answers too, but then re-raises, and uvicorn drops the
    keep-alive connection; the plugin's next request would see a reset.)
    """

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def guarded(request: Request):
            try:
                return await handler(request)
            except (StarletteHTTPException, RequestValidationError, SpecterDeskError):
                raise
            except Exception as exc:  # noqa: BLE001 - answered as `internal`, logged
                return internal_error(request, exc)

        return guarded


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
                if path != "/v1/health":
                    operation["security"] = [{"bearer": []}]
        schema["servers"] = [{"url": "http://127.0.0.1:23120"}]
        api.openapi_schema = schema
        return schema

    return build


def create_api() -> FastAPI:
    """The FastAPI app without security middleware (also what openapi.json is made from)."""
    from .routes import router

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
    api.include_router(router)
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
