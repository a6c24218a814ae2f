"""The /v1 routes: each parses, calls a service through its thread's reader, returns a model.

No route holds a lock that another route needs (see BridgeContext); duplicates over the
whole library are made in the context's worker process and kept until the store changes.
"""

from __future__ import annotations

import re
from dataclasses import astuple
from datetime import date
from typing import Annotated, Any, Literal

from anyio import to_thread
from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import AfterValidator, WithJsonSchema

from .. import __version__
from ..desk import Desk
from ..embed.registry import query_model
from ..errors import ConfigError, InputError, ItemNotFoundError, SyncNotConfiguredError
from ..models import Paper
from ..services.citations.lists import citation_lists
from ..services.citations.related import related_by
from ..services.digest import to_atom
from ..services.duplicates import check_papers, distinct_pairs, mark_distinct
from ..services.feedback import record_feedback
from ..services.feeds import (
    ATOM_PATH,
    feed_for_token,
    feed_url,
    served_recommendations,
    subscribe_collection,
)
from ..services.recommend import recommend
from ..services.search import search as search_papers
from ..services.seeds import parse_datetime
from ..services.status import library_status
from ..sync.zotero_items import paper_from_item
from .context import BridgeContext
from .handlers import GuardedRoute
from .schemas import (
    MAX_CITATION_ROWS,
    MAX_K,
    MAX_N,
    Citations,
    Distinct,
    DistinctPairs,
    DistinctRequest,
    DuplicateCheck,
    DuplicateCheckRequest,
    Duplicates,
    ErrorBody,
    Feedback,
    FeedbackRequest,
    FeedSubscribeRequest,
    FeedSubscription,
    Health,
    Recommendations,
    Related,
    SearchRequest,
    SearchResults,
    Status,
    SyncRequest,
    SyncStatus,
)
from .slow_work import duplicates_json


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI docs for the error answers a route can give (all share one schema)."""
    described = {
        400: "Bad input (a value the service cannot use)",
        401: "Missing or wrong bearer token",
        403: "Host or Origin not allowed",
        404: "Unknown paper key",
        408: "Request body not complete in time",
        409: "Conflict (e.g. the paper waits for its vector)",
        413: "Request body over the cap",
        422: "Request does not match the schema",
        500: "Internal error (logged; no traceback in the answer)",
        503: "Model or feature not available",
    }
    return {s: {"model": ErrorBody, "description": described[s]} for s in sorted(set(statuses))}


COMMON = (400, 401, 403, 413, 422, 500)
WITH_BODY = (*COMMON, 408)  # a POST's body must arrive in time


def known_query_parameters(request: Request) -> None:
    """Refuse query parameters a route does not declare (a typo like ?K=5 is an error)."""
    route = request.scope.get("route")
    declared = {p.alias for p in route.dependant.query_params} if route is not None else set()
    unknown = sorted(set(request.query_params) - declared)
    if unknown:
        raise InputError(
            f"unknown query parameter {unknown[0]!r}"
            + (f"; this endpoint takes {', '.join(sorted(declared))}" if declared else "")
        )


router = APIRouter(
    prefix="/v1", dependencies=[Depends(known_query_parameters)], route_class=GuardedRoute
)


def _ctx(request: Request) -> BridgeContext:
    return request.app.state.ctx


def _dicts(items: Any) -> list[dict[str, Any]]:
    return [item.to_dict() for item in items]


def _model(desk: Desk, name: str | None) -> str:
    """The registry name of a model; an unknown name is a 404 (like an unknown paper)."""
    try:
        return desk.model_spec(name).name
    except ConfigError as exc:
        raise ItemNotFoundError(str(exc)) from None


@router.get(
    "/health",
    response_model=Health,
    responses=_errors(400, 403, 500),
    summary="Is the bridge up (no auth, no data)",
)
def health() -> dict[str, Any]:
    return {"status": "ok", "version": __version__}


@router.get(
    "/status",
    response_model=Status,
    responses=_errors(*COMMON, 503),
    summary="Library counts, vectors per model and the sync state",
)
def status(request: Request) -> dict[str, Any]:
    ctx = _ctx(request)
    data = library_status(ctx.reader(), indexes=False)
    data["sync"] = _sync_status(ctx)
    return data


def _paper(desk: Desk, key: str) -> Paper:
    paper = desk.store.get_paper(key)
    if paper is None or paper.deleted:
        raise ItemNotFoundError(f"no paper with key {key!r} in the store; sync first")
    return paper


@router.get(
    "/papers/{key}/related",
    response_model=Related,
    responses=_errors(*COMMON, 400, 404, 409, 503),
    summary="Papers most related to one paper: by meaning, citations or both",
)
async def related(
    request: Request,
    key: str,
    k: int = Query(10, ge=1, le=MAX_K),
    model: str | None = Query(
        None, min_length=1, max_length=100, description="A model name (`specter-desk models`)"
    ),
    by: Literal["auto", "meaning", "citations", "both"] = Query(
        "auto",
        description="auto: both when the paper has citation data (`specter-desk citations "
        "sync`), else meaning",
    ),
) -> dict[str, Any]:
    ctx = _ctx(request)
    return await to_thread.run_sync(_related, ctx, key, k, model, by, limiter=ctx.quick_readers())


def _related(ctx: BridgeContext, key: str, k: int, model: str | None, by: str) -> dict[str, Any]:
    desk = ctx.reader()
    name = _model(desk, model)
    paper = _paper(desk, key)
    index = desk.index(name) if by != "citations" else None
    answer = related_by(desk.store, index, paper, k, by=by, works=ctx.works())
    data = {
        "item": {
            "key": paper.key,
            "title": paper.title,
            "year": paper.year,
            "has_abstract": bool(paper.abstract),
        },
        "model": name if index is not None else None,
        "by": answer.by,
        "related": [r.to_dict() for r in answer.rows],
    }
    if answer.message:
        data["message"] = answer.message
    return data


@router.get(
    "/papers/{key}/citations",
    response_model=Citations,
    responses=_errors(*COMMON, 404),
    summary="What a paper cites and what cites it, library papers marked (stored lists)",
)
def citations(
    request: Request,
    key: str,
    limit: int = Query(100, ge=1, le=MAX_CITATION_ROWS, description="Rows per list"),
) -> dict[str, Any]:
    desk = _ctx(request).reader()
    return citation_lists(desk.store, _paper(desk, key), limit=limit).to_dict()


@router.post(
    "/search",
    response_model=SearchResults,
    responses=_errors(*WITH_BODY, 400, 409, 503),
    summary="Free-text search over the library (and candidate pools)",
)
def search(request: Request, body: SearchRequest) -> dict[str, Any]:
    ctx = _ctx(request)
    desk = ctx.reader()
    spec = desk.model_spec()
    encoder = desk.encoder(query_model(spec).name)  # encodes holding no lock of the bridge
    hits = search_papers(
        desk.store,
        desk.index(spec.name),
        encoder,
        body.query,
        k=body.k,
        hybrid=body.hybrid,
        works=ctx.works(),
    )
    return {"query": body.query, "model": spec.name, "results": _dicts(hits)}


SINCE_PATTERN = r"^(day|week|month|year|[1-9][0-9]{0,3}[hdwm]|[1-9][0-9]?y)$"


def _check_since(value: str) -> str:
    if re.match(SINCE_PATTERN, value):
        return value
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        date.fromisoformat(value)  # ValueError (e.g. 2024-02-31) -> 422
        return value
    raise ValueError("use day, week, month, year, Nh/Nd/Nw/Nm (e.g. 14d), Ny or a date")


Since = Annotated[
    str,
    AfterValidator(_check_since),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date"},
                {"type": "string", "pattern": SINCE_PATTERN},
            ]
        }
    ),
]


@router.get(
    "/recommendations",
    response_model=Recommendations,
    responses=_errors(*COMMON, 400, 404, 409, 503),
    summary="New papers worth reading, seeded by what was added recently",
)
def recommendations(
    request: Request,
    since: Annotated[
        Since,
        Query(description="day, week, month, year, Nh/Nd/Nw/Nm (e.g. 14d), Ny or an ISO date"),
    ] = "week",
    n: int = Query(10, ge=1, le=MAX_N),
    collection: str | None = Query(
        None,
        min_length=1,
        max_length=500,
        pattern=r"\S",
        description="Seeds: a collection (name, path or key)",
    ),
    tag: str | None = Query(
        None,
        min_length=1,
        max_length=500,
        pattern=r"\S",
        description="Seeds: a tag (with collection: its papers with this tag)",
    ),
    by: Literal["auto", "meaning", "citations", "both"] = Query(
        "auto",
        description="meaning, citations to your seeds, both fused, or auto (both when "
        "the seeds have citation data)",
    ),
) -> dict[str, Any]:
    desk = _ctx(request).reader()
    result = recommend(
        desk.store, desk.index(), since=since, n=n, collection=collection, tag=tag, by=by
    )
    return result.to_dict()


@router.get(
    "/duplicates",
    response_model=Duplicates,
    responses=_errors(*COMMON, 503),
    summary="Duplicate clusters (merge) and groups of versions of one work (merge or relate)",
)
async def duplicates(
    request: Request,
    min_score: float = Query(0.9, ge=0.0, le=1.0),
) -> Response:
    ctx = _ctx(request)
    # a kept answer is a quick read and takes its turn with the related lists (a client
    # asking for it in a loop gets its share of turns, not more); making one waits for the
    # worker process outside the turns
    answer = await to_thread.run_sync(
        _duplicates, ctx, min_score, False, limiter=ctx.quick_readers()
    )
    if answer is None:
        answer = await to_thread.run_sync(_duplicates, ctx, min_score, True)
    # the worker validated the answer against Duplicates already: sent as it is
    return Response(answer, media_type="application/json")


def _duplicates(ctx: BridgeContext, min_score: float, make: bool) -> bytes | None:
    """The duplicates answer kept for the store's version now, else (make) a new one from the
    worker process, else None."""
    desk = ctx.reader()  # opens (or creates) the store before the worker reads it
    model, params = _model(desk, None), desk.index_params
    key = ("duplicates", model, astuple(params), min_score)
    if not make:
        return ctx.report_cache().kept(key)
    return ctx.report_cache().get(
        key,
        lambda: ctx.slow.run(
            duplicates_json,
            str(desk.store.path),
            str(desk.paths.index_dir),
            model,
            params,
            min_score,
        ),
    )


@router.post(
    "/duplicates/distinct",
    response_model=Distinct,
    responses=_errors(*WITH_BODY, 404, 503),
    summary='Mark papers as "not duplicates" (or forget the mark); remembered in the store',
)
def duplicates_distinct(request: Request, body: DistinctRequest) -> dict[str, Any]:
    return mark_distinct(_ctx(request).reader().store, body.keys, distinct=body.distinct)


@router.get(
    "/duplicates/distinct",
    response_model=DistinctPairs,
    responses=_errors(*COMMON, 503),
    summary='Every pair of papers marked "not duplicates"',
)
def duplicates_distinct_list(request: Request) -> dict[str, Any]:
    return {"pairs": distinct_pairs(_ctx(request).reader().store)}


@router.post(
    "/duplicates/check",
    response_model=DuplicateCheck,
    responses=_errors(*WITH_BODY, 503),
    summary="Is an item being added already in the library?",
)
def duplicates_check(request: Request, body: DuplicateCheckRequest) -> dict[str, Any]:
    incoming = [_incoming_paper(i, item) for i, item in enumerate(body.items)]
    own_keys = [_own_key(item) for item in body.items]
    desk = _ctx(request).reader()
    matches = check_papers(desk.store, incoming, index=desk.index(), own_keys=own_keys)
    return {"matches": _dicts(matches)}


def _own_key(item: dict[str, Any]) -> str | None:
    """The key an item being added already has in Zotero (item JSON's `key`), if any."""
    data = item.get("data") if isinstance(item.get("data"), dict) else item
    key = data.get("key", item.get("key"))
    return key if isinstance(key, str) and key else None


_INCOMING_ALIASES = {"doi": "DOI", "abstract": "abstractNote", "year": "date", "isbn": "ISBN"}


def _incoming_paper(position: int, item: dict[str, Any]) -> Paper:
    """A Paper from Zotero item JSON (or a flat record); odd values are dropped, not fatal."""
    data = item.get("data") if isinstance(item.get("data"), dict) else item
    data = {
        **{_INCOMING_ALIASES[k]: v for k, v in data.items() if k in _INCOMING_ALIASES},
        **{k: v for k, v in data.items() if k not in _INCOMING_ALIASES},
    }
    clean: dict[str, Any] = {}
    for name, value in data.items():
        if name == "creators":
            value = [c for c in value if isinstance(c, dict)] if isinstance(value, list) else []
            value = [{k: str(v) for k, v in c.items() if isinstance(v, str | int)} for c in value]
        elif name in ("tags", "collections"):
            value = (
                [v for v in value if isinstance(v, str | dict)] if isinstance(value, list) else []
            )
        elif isinstance(value, bool) or not isinstance(value, str | int | float):
            continue
        clean[name] = value
    clean["key"] = f"incoming-{position}"
    clean.pop("deleted", None)
    clean.setdefault("itemType", "journalArticle")
    if not isinstance(clean["itemType"], str):
        clean["itemType"] = "journalArticle"
    try:
        paper = paper_from_item(clean, library="incoming")
    except (ValueError, TypeError, KeyError):
        paper = None
    return paper or Paper(key=clean["key"], title="", library="incoming")


@router.post(
    "/sync",
    response_model=SyncStatus,
    status_code=202,
    responses=_errors(*WITH_BODY, 409),
    summary="Start or queue a sync; returns at once",
)
def sync_start(request: Request, body: SyncRequest | None = Body(None)) -> dict[str, Any]:
    ctx = _ctx(request)
    if ctx.worker is None:
        raise SyncNotConfiguredError(
            "this bridge runs without a sync worker; start it with `specter-desk serve`"
        )
    return ctx.worker.request(body.library if body else None)


@router.get(
    "/sync",
    response_model=SyncStatus,
    responses=_errors(*COMMON),
    summary="Progress of the running sync and the last result",
)
def sync_status(request: Request) -> dict[str, Any]:
    return _sync_status(_ctx(request))


def _sync_status(ctx: BridgeContext) -> dict[str, Any]:
    if ctx.worker is None:
        return {
            "state": "idle",
            "library": None,
            "stage": None,
            "progress": None,
            "started_at": None,
            "finished_at": None,
            "last_result": None,
            "last_error": None,
        }
    return ctx.worker.status()


@router.post(
    "/feedback",
    response_model=Feedback,
    responses=_errors(*WITH_BODY, 400, 404, 503),
    summary="Thumbs up or down on a paper (trains the recommendation ranker)",
)
def feedback(request: Request, body: FeedbackRequest) -> dict[str, Any]:
    return record_feedback(_ctx(request).reader().store, body.key, body.vote)


@router.post(
    "/feeds",
    response_model=FeedSubscription,
    responses=_errors(*WITH_BODY, 404, 409, 503),
    summary="The feed for a collection (made when there is none) and its Atom URL, to "
    "subscribe Zotero to",
)
def feeds_subscribe(request: Request, body: FeedSubscribeRequest) -> dict[str, Any]:
    desk = _ctx(request).reader()
    found = subscribe_collection(desk.store, desk.index, body.collection)
    return {
        "feed": found.feed.to_dict(),
        "url": feed_url(found.feed, "127.0.0.1", request.url.port or 80),
        "created": found.created,
        "entries": found.entries,
        "message": found.message,
    }


feeds_router = APIRouter()


@feeds_router.get(
    ATOM_PATH,
    response_class=Response,
    responses={200: {"content": {"application/atom+xml": {}}}, **_errors(403, 404, 422, 500)},
    summary="A feed as Atom, for Zotero's feed reader (its own read-only token, in the URL)",
)
def feed_atom(request: Request, feed_id: str, token: str) -> Response:
    desk = _ctx(request).reader()
    feed = feed_for_token(desk.store, feed_id, token)
    answer = served_recommendations(desk.store, feed)
    body = to_atom(
        desk.store,
        answer,
        feed_id=f"urn:specter-desk:feed:{feed.id}",
        title=f"specter-desk: {feed.name}",
        self_link=str(request.url),
        now=parse_datetime(feed.refreshed_at) if feed.refreshed_at else None,
        zotero=True,
    )
    return Response(body, media_type="application/atom+xml; charset=utf-8")
