"""The intake API: Open311 GeoReport v2 and GridWatch's own routes, writing events into a workspace.

``create_app(workspace)`` builds the FastAPI app; ``gridwatch api`` serves it with uvicorn on 127.0.0.1.
Handlers are thin: read the body (at most ``MAX_BODY`` bytes, refused by Content-Length and while
streaming), check the caller's key (``core.apikeys``: ``api_key`` parameter or ``X-API-Key`` header),
let ``core.intake`` turn the input into events, store them, answer JSON.

Writes are group-committed: every write hands its events to the workspace's one writer task, which
takes everything queued and stores it in one ``append_events`` call (in a worker thread), so many
single posts cost one transaction. A record sent twice (same source and ``Idempotency-Key`` /
``source_id``) is stored once and answered with the stored id; the writer remembers the keys it stored
(the event log is never rewritten), so a retry is answered without a store round trip.

Every error answers ``{"error": {"code", "message", "problems": [{"record", "field", "code",
"message"}]}}`` worded in English, or Chinese when ``Accept-Language`` starts with ``zh`` (catalog
keys ``intake.*``); anything unexpected is a generic 500, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core import apikeys, intake, schema
from core import events as ev
from core.errors import GridWatchError, IntakeError, WorkspaceError
from core.store import Store, list_workspaces, open_store

MAX_BODY = 10 * 2**20
DEMO = "demo"
DEFAULT_DAYS = 90
MAX_LISTED = 1000
_REMEMBERED = 200_000  # stored (source, source id) keys a writer remembers, to answer retries at once
_LOCALES = Path(__file__).parent / "locales"
_NOT_FOUND_CODES = ("ticket_unknown", "camera_unknown")
_BAD_INPUT_CODES = ("json_invalid", "not_an_object", "empty", "too_many_records")
log = logging.getLogger("gridwatch.api")


@functools.cache
def _catalog(lang: str) -> dict[str, str]:
    return json.loads((_LOCALES / f"{lang}.json").read_text(encoding="utf-8"))


def _words(lang: str, key: str, english: str, params: Mapping[str, object]) -> str:
    text = _catalog(lang).get(key) if lang != "en" else None  # English: core's wording, with its details
    if not isinstance(text, str):
        return english
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return english


class ApiError(Exception):
    """An answer other than success: HTTP ``status``, a ``code`` and its English ``message``."""

    def __init__(self, status: int, code: str, message: str, problems: tuple = (), params: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.problems = status, code, message, problems
        self.params = params or {}


def _language(request: Request) -> str:
    return "zh" if request.headers.get("accept-language", "").strip().lower().startswith("zh") else "en"


def _error_response(request: Request, error: ApiError) -> JSONResponse:
    lang = _language(request)
    problems = [
        {
            "record": p.record,
            "field": p.field,
            "code": p.code,
            "message": _words(lang, f"intake.problem.{p.code}", p.message, p.params),
        }
        for p in error.problems
    ]
    body = {
        "error": {
            "code": error.code,
            "message": _words(lang, f"intake.error.{error.code}", error.message, error.params),
            "problems": problems,
        }
    }
    return JSONResponse(body, status_code=error.status)


def _intake_error(exc: IntakeError) -> ApiError:
    codes = {p.code for p in exc.problems}
    status = 404 if codes & set(_NOT_FOUND_CODES) else 400 if codes <= set(_BAD_INPUT_CODES) else 422
    code = "not_found" if status == 404 else "bad_request" if status == 400 else "invalid"
    return ApiError(status, code, str(exc).split("\n")[0], exc.problems, {"count": len(exc.problems)})


class _Writer:
    """One workspace's writer: stores what is queued in one ``append_events`` per drain."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.queue: asyncio.Queue[tuple[tuple, asyncio.Future]] = asyncio.Queue()
        self.task: asyncio.Task | None = None
        self.stored: OrderedDict[tuple, tuple[int, str]] = OrderedDict()  # (kind, source, source id) -> seq, ref
        self.mark = 0

    async def store_events(self, rows: tuple) -> ev.EventReceipt:
        keys = [(r.get("kind"), r.get("source"), r.get("source_id")) for r in rows]
        if rows and all(k[2] and k in self.stored for k in keys):  # a retry of what this process stored
            known = [self.stored[k] for k in keys]  # the log is never rewritten, so this stays true
            return ev.EventReceipt([s for s, _ in known], [r for _, r in known], [True] * len(known), self.mark)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())
        done: asyncio.Future = asyncio.get_running_loop().create_future()
        await self.queue.put((rows, done))
        return await done

    def _append(self, rows: list) -> ev.EventReceipt:
        receipt = self.store.append_events(rows)
        for row, seq, ref in zip(rows, receipt.seqs, receipt.refs, strict=True):
            if row.get("source_id"):
                self.stored[(row.get("kind"), row.get("source"), row.get("source_id"))] = (seq, ref)
        while len(self.stored) > _REMEMBERED:
            self.stored.popitem(last=False)
        self.mark = max(self.mark, receipt.mark)
        return receipt

    async def _run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while not self.queue.empty() and sum(len(f) for f, _ in batch) < 50_000:
                batch.append(self.queue.get_nowait())
            rows = [row for part, _ in batch for row in part]
            try:
                receipt = await asyncio.to_thread(self._append, rows)
            except Exception as exc:  # every waiter learns; the writer goes on
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            start = 0
            for frame, done in batch:
                end = start + len(frame)
                part = ev.EventReceipt(
                    receipt.seqs[start:end], receipt.refs[start:end], receipt.duplicate[start:end], receipt.mark
                )
                if not done.done():
                    done.set_result(part)
                start = end


def create_app(workspace: str | None = None) -> FastAPI:
    """The intake API over ``workspace`` (default: ``GRIDWATCH_WORKSPACE``, else "demo", or the only
    workspace when there is one and it is not the demo); a request may pick another with ``?workspace=``."""
    configured = workspace or os.environ.get("GRIDWATCH_WORKSPACE")
    stores: dict[str, Store] = {}
    writers: dict[str, _Writer] = {}
    found: list[str] = []  # the default once it exists

    def default_name() -> str:
        if configured:
            return configured
        if not found:
            names = list_workspaces()
            if DEMO in names or len(names) == 1:
                found.append(DEMO if DEMO in names else names[0])
        return found[0] if found else DEMO

    def store_for(request: Request) -> Store:
        name = request.query_params.get("workspace") or default_name()
        if name not in stores:
            try:
                stores[name] = open_store(name, create=False)
            except WorkspaceError as exc:
                raise ApiError(404, "workspace_unknown", str(exc), params={"name": name[:64]}) from None
        return stores[name]

    def warm() -> None:
        """What the first write would otherwise wait for: the default workspace's grid index (1.6 s on a
        city) and service codes."""
        try:
            store = open_store(default_name(), create=False)
            intake.grid_index(store)
            intake.service_code_map(store)
        except GridWatchError:
            pass  # no workspace yet: the first request builds what it needs

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI):
        warming = asyncio.create_task(asyncio.to_thread(warm))
        yield
        warming.cancel()

    app = FastAPI(title="GridWatch intake API", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)

    def writer_for(store: Store) -> _Writer:
        if store.name not in writers:
            writers[store.name] = _Writer(store)
        return writers[store.name]

    def source_for(request: Request, store: Store, fields: Mapping[str, object] | None = None) -> str:
        key = request.headers.get("x-api-key") or request.query_params.get("api_key")
        if not key and fields is not None and isinstance(fields.get("api_key"), str):
            key = str(fields["api_key"])
        if not key:
            raise ApiError(401, "key_missing", "send your API key as the `api_key` parameter or the X-API-Key header")
        source, revoked = apikeys.key_state(store, key)
        if revoked:
            raise ApiError(403, "key_revoked", "this API key was revoked; ask for a new one")
        if source is None:
            raise ApiError(401, "key_invalid", "this API key is not valid for this workspace")
        return source

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error_response(request, exc)

    @app.exception_handler(IntakeError)
    async def _rejected(request: Request, exc: IntakeError) -> JSONResponse:
        return _error_response(request, _intake_error(exc))

    @app.exception_handler(GridWatchError)
    async def _gridwatch(request: Request, exc: GridWatchError) -> JSONResponse:
        return _error_response(request, ApiError(422, exc.code or "invalid", str(exc), params=exc.params))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "route_unknown", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error_response(request, ApiError(exc.status_code, code, str(exc.detail)))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error_response(request, ApiError(422, "invalid", "the request's parameters are not valid"))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        return _error_response(request, ApiError(500, "internal", "something went wrong on our side; try again later"))

    async def body_of(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
            raise ApiError(413, "body_too_large", f"the body is over {MAX_BODY // 2**20} MB; send it in parts")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                raise ApiError(413, "body_too_large", f"the body is over {MAX_BODY // 2**20} MB; send it in parts")
            chunks.append(chunk)
        return b"".join(chunks)

    async def json_of(request: Request) -> object:
        body = await body_of(request)
        try:
            return json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ApiError(400, "json_invalid", f"the body is not JSON ({exc})"[:200]) from None

    def idempotency_key(request: Request) -> str | None:
        return request.headers.get("idempotency-key") or None

    # ---- Open311 --------------------------------------------------------------------------------
    @app.get("/open311/v2/services.json")
    async def services(request: Request) -> JSONResponse:
        store = store_for(request)
        codes = await asyncio.to_thread(intake.service_code_map, store)
        return JSONResponse(
            [
                {
                    "service_code": c["service_code"],
                    "service_name": c["service_name"],
                    "description": c["description"],
                    "metadata": False,
                    "type": "realtime",
                    "keywords": "",
                    "group": c["category"],
                }
                for c in codes
            ]
        )

    @app.post("/open311/v2/requests.json")
    async def post_request(request: Request) -> JSONResponse:
        store = store_for(request)
        body = await body_of(request)
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                fields = json.loads(body)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise ApiError(400, "json_invalid", f"the body is not JSON ({exc})"[:200]) from None
            if not isinstance(fields, dict):
                raise ApiError(400, "json_invalid", "the body must be one JSON object")
        else:
            fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        source = source_for(request, store, fields)
        batch = await asyncio.to_thread(
            intake.open311_events, store, fields, source=source, source_id=idempotency_key(request)
        )
        receipt = await writer_for(store).store_events(batch.rows)
        answer = [{"service_request_id": receipt.refs[0], "service_notice": "", "account_id": None}]
        return JSONResponse(answer, status_code=200 if receipt.duplicate[0] else 201)

    def open311_rows(tickets, events: pd.DataFrame, codes: list[dict]) -> list[dict]:
        by_category = {c["category"]: c for c in codes}
        updated = events.groupby("ref")["at"].max() if len(events) else pd.Series(dtype=object)
        out = []
        for row in tickets.itertuples(index=False):
            tid = str(getattr(row, schema.TICKET_ID))
            category = getattr(row, schema.CATEGORY)
            code = by_category.get(category, {})
            created = getattr(row, schema.CREATED_AT)
            last = updated.get(tid, created)
            point = row.geometry
            stage = getattr(row, schema.STAGE)
            out.append(
                {
                    "service_request_id": tid,
                    "status": "open" if stage in schema.OPEN_STAGES else "closed",
                    "stage": stage,
                    "service_name": code.get("service_name", category),
                    "service_code": code.get("service_code"),
                    "description": _plain(getattr(row, schema.DESCRIPTION)),
                    "requested_datetime": _iso(created),
                    "updated_datetime": _iso(max(last, created) if pd.notna(last) and pd.notna(created) else created),
                    "lat": None if point is None or point.is_empty else point.y,
                    "long": None if point is None or point.is_empty else point.x,
                }
            )
        return out

    @app.get("/open311/v2/requests.json")
    async def list_requests(request: Request) -> JSONResponse:
        store = store_for(request)
        source_for(request, store)
        q = request.query_params
        ids = [i.strip() for i in q.get("service_request_id", "").split(",") if i.strip()] or None
        now = datetime.now(UTC)
        try:
            start = intake.parse_time(q["start_date"]) if q.get("start_date") else now - timedelta(days=DEFAULT_DAYS)
            end = intake.parse_time(q["end_date"]) if q.get("end_date") else None
        except ValueError as exc:
            raise ApiError(
                422,
                "time_without_zone" if str(exc) == "no_zone" else "time_invalid",
                "start_date and end_date must be ISO 8601 times with a zone, e.g. 2026-03-01T00:00:00+08:00",
            ) from None
        status = q.get("status")
        if status not in (None, "", "open", "closed"):
            raise ApiError(422, "status_invalid", "status must be open or closed")
        tickets, events = await asyncio.to_thread(intake.ticket_requests, store, ids)
        codes = await asyncio.to_thread(intake.service_code_map, store)
        created = pd.to_datetime(tickets[schema.CREATED_AT], utc=True)
        keep = pd.Series(True, index=tickets.index)
        if ids is None or q.get("start_date"):
            keep &= created >= pd.Timestamp(start)
        if end is not None:
            keep &= created <= pd.Timestamp(end)
        if q.get("service_code"):
            wanted = {c["category"] for c in codes if c["service_code"] in q["service_code"].split(",")}
            keep &= tickets[schema.CATEGORY].isin(wanted)
        if status:
            is_open = tickets[schema.STAGE].isin(schema.OPEN_STAGES)
            keep &= is_open if status == "open" else ~is_open
        chosen = tickets[keep.to_numpy()].assign(_c=created[keep]).sort_values("_c", ascending=False)
        return JSONResponse(open311_rows(chosen.head(MAX_LISTED), events, codes))

    @app.get("/open311/v2/requests/{ticket_id}.json")
    async def one_request(ticket_id: str, request: Request) -> JSONResponse:
        store = store_for(request)
        source_for(request, store)
        tickets, events = await asyncio.to_thread(intake.ticket_requests, store, [ticket_id])
        if not len(tickets):
            raise ApiError(
                404,
                "request_unknown",
                f"there is no service request `{ticket_id[:64]}`",
                params={"ticket": ticket_id[:64]},
            )
        codes = await asyncio.to_thread(intake.service_code_map, store)
        rows = open311_rows(tickets, events, codes)
        history = ev.ticket_history(events, ticket_id)
        rows[0]["stage_history"] = [
            {"at": _iso(h.at), "stage": h.stage, "by": _plain(h.by), "note": _plain(h.note), "rework": bool(h.rework)}
            for h in history.itertuples(index=False)
        ]
        return JSONResponse(rows)

    # ---- GridWatch routes -----------------------------------------------------------------------
    @app.post("/api/v1/tickets/bulk")
    async def bulk(request: Request) -> JSONResponse:
        store = store_for(request)
        source = source_for(request, store)
        body = await body_of(request)
        batch = await asyncio.to_thread(intake.bulk_events, store, body, source=source)
        receipt = await writer_for(store).store_events(batch.rows)
        return JSONResponse(
            {
                "stored": receipt.stored,
                "duplicates": sum(receipt.duplicate),
                "ticket_ids": receipt.refs,
                "event_mark": receipt.mark,
            },
            status_code=201 if receipt.stored else 200,
        )

    async def store_batch(store: Store, batch: intake.IntakeBatch) -> JSONResponse:
        receipt = await writer_for(store).store_events(batch.rows)
        return JSONResponse(
            {
                "stored": receipt.stored,
                "duplicates": sum(receipt.duplicate),
                "refs": receipt.refs,
                "event_mark": receipt.mark,
            },
            status_code=201 if receipt.stored else 200,
        )

    def with_key(payload: object, key: str | None) -> object:
        """A single record without its own source_id takes the Idempotency-Key."""
        if key and isinstance(payload, dict) and not payload.get("source_id"):
            return {**payload, "source_id": key}
        return payload

    async def intake_one(request: Request, read) -> JSONResponse:
        """Check and store one record (or a list) of a single-record route: ``read(store, payload, source)``
        turns it into events; an Idempotency-Key is the source id of a record without one."""
        store = store_for(request)
        source = source_for(request, store)
        payload = with_key(await json_of(request), idempotency_key(request))
        return await store_batch(store, await asyncio.to_thread(read, store, payload, source))

    @app.post("/api/v1/tickets/{ticket_id}/stages")
    async def stages(ticket_id: str, request: Request) -> JSONResponse:
        return await intake_one(request, lambda st, p, src: intake.stage_events(st, ticket_id, p, source=src))

    @app.post("/api/v1/checkins")
    async def checkins(request: Request) -> JSONResponse:
        return await intake_one(request, lambda st, p, src: intake.checkin_events(st, p, source=src))

    @app.post("/api/v1/cameras/{camera_id}/status")
    async def camera(camera_id: str, request: Request) -> JSONResponse:
        return await intake_one(request, lambda st, p, src: intake.camera_events(st, camera_id, p, source=src))

    @app.get("/api/v1/events/mark")
    async def mark(request: Request) -> JSONResponse:
        store = store_for(request)
        source_for(request, store)
        return JSONResponse({"workspace": store.name, "event_mark": await asyncio.to_thread(store.event_mark)})

    return app


def _iso(value: object) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).isoformat()


def _plain(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def serve_api(port: int, workspace: str | None = None) -> None:
    """Serve the API with uvicorn on 127.0.0.1:``port``."""
    import uvicorn

    uvicorn.run(create_app(workspace), host="127.0.0.1", port=port, log_level="warning", access_log=False)
