"""The bridge's error answers: every error is JSON `{"error": {"code", "message"}}`.

A SpecterDeskError is answered with its class's `http_status` and `code` (errors.py); an
unexpected exception is logged with its traceback and answered as `internal` without one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import SpecterDeskError

log = logging.getLogger("specter_desk.server")


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
        if exc.http_status >= 500:
            log.error("%s on %s: %s", exc.code, request.url.path, exc)
        return error_response(exc.http_status, exc.code, str(exc))

    @api.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        return internal_error(request, exc)


def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """Log the traceback; answer `internal` without it."""
    log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    ctx = request.app.state.ctx
    where = ctx.log_file if ctx is not None else None
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
