"""Reading what the intake API receives into events (``core.events``), or saying what is wrong with it.

Five kinds of input, each turned into an event frame (``core.events.event_frame``) or an
``IntakeError`` listing every problem of the request — record (``#n`` position or the sender's id),
field, code and what to send instead — so that nothing of a request with any problem is stored:

* ``open311_events``: one Open311 GeoReport v2 POST (service_code, lat, long, description,
  address_string, attribute[…], optional requested_datetime);
* ``bulk_events``: JSON lines, one ticket each (source_id, service_code or category, lat, long,
  description, requested_datetime, optional deadline and channel);
* ``stage_events``: stage updates of one stored ticket, checked against its current stage;
* ``checkin_events``: patrol sign-ins of known teams;
* ``camera_events``: heartbeats of known cameras.

Every time must carry a zone (``2026-03-01T08:30:00+08:00`` or ``…Z``). A point in no active grid is
stored with ``outside=True``. A ticket's id is ``<source>-<source id>`` when the sender gives an id,
else ``<source>-<12 hex digits>``. Open311 service codes map to GridWatch categories through the
workspace setting ``service_codes`` (``service_code_map``; by default one code per category found in
the tickets layer, ``c01``…). ``ticket_requests`` reads tickets back in Open311's shape.

What is NOT here: HTTP (``dashboard.api``), keys (``core.apikeys``), storing (``core.store``).
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from core import events as ev
from core import schema
from core.errors import GridWatchError, IntakeError, IntakeProblem, LayerNotFoundError
from core.joins import GridIndex
from core.store import Store

__all__ = [
    "MAX_BULK_RECORDS",
    "SERVICE_CODES_SETTING",
    "IntakeBatch",
    "bulk_events",
    "camera_events",
    "check_service_codes",
    "checkin_events",
    "default_service_codes",
    "grid_index",
    "open311_events",
    "parse_time",
    "service_code_map",
    "set_service_codes",
    "stage_events",
    "ticket_requests",
]

SERVICE_CODES_SETTING = "service_codes"
MAX_BULK_RECORDS = 10_000
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_MAX_TEXT = 4000
_SERVICE_FIELDS = ("service_code", "service_name", "category", "description")
_RECHECK_S = 1.0  # how long a read of the workspace's version or service codes is reused
_lock = threading.Lock()
_indexes: dict[tuple[str, int], GridIndex | None] = {}
_versions: dict[str, tuple[float, int]] = {}
_codes: dict[str, tuple[float, list[dict[str, str]]]] = {}
_defaults: dict[tuple[str, int], list[dict[str, str]]] = {}


def _where(store: Store) -> str:
    return str(getattr(store, "path", store.name))


def _version(store: Store) -> int:
    """The store's version, read at most once a second per workspace."""
    now = time.monotonic()
    seen = _versions.get(_where(store))
    if seen is None or now - seen[0] > _RECHECK_S:
        seen = (now, store.version())
        _versions[_where(store)] = seen
    return seen[1]


@dataclass(frozen=True)
class IntakeBatch:
    """Events ready to store, one ``rows`` mapping each (``frame`` gives them as an event frame), and per
    record the ref (ticket, sign-in or camera id) it got. Rows of several batches can be stored as one
    frame, which is what a writer grouping requests does."""

    rows: tuple[Mapping[str, object], ...]
    refs: tuple[str, ...]

    @property
    def frame(self) -> pd.DataFrame:
        return ev.event_frame(self.rows)


class _Problems:
    """Collects problems; ``raise_if_any`` raises them all as one IntakeError."""

    def __init__(self) -> None:
        self.items: list[IntakeProblem] = []

    def add(self, record: str, field: str, code: str, message: str, **params: object) -> None:
        self.items.append(IntakeProblem(record, field, code, message, {"record": record, "field": field, **params}))

    def raise_if_any(self) -> None:
        if self.items:
            raise IntakeError(self.items, code="intake_rejected")


# ---- values -----------------------------------------------------------------------------------------
def parse_time(value: object) -> datetime:
    """An ISO 8601 time that carries a zone, in UTC; ValueError("no_zone") or ValueError("bad_time")."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("bad_time")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("bad_time") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("no_zone")
    return moment.astimezone(UTC)


def _time(problems: _Problems, record: str, field: str, value: object, *, required: bool) -> datetime | None:
    if value is None or value == "":
        if required:
            problems.add(record, field, "missing", f"`{field}` is missing; send an ISO 8601 time with its zone")
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        if str(exc) == "no_zone":
            problems.add(
                record,
                field,
                "time_without_zone",
                f"`{field}` {str(value)[:40]!r} has no time zone; add one, e.g. 2026-03-01T08:30:00+08:00 or …Z",
                value=str(value)[:40],
            )
        else:
            problems.add(
                record,
                field,
                "time_invalid",
                f"`{field}` {str(value)[:40]!r} is not an ISO 8601 time; send e.g. 2026-03-01T08:30:00+08:00",
                value=str(value)[:40],
            )
        return None


def _coordinate(problems: _Problems, record: str, field: str, value: object, limit: float) -> float | None:
    if value is None or value == "":
        problems.add(record, field, "missing", f"`{field}` is missing; send it in decimal degrees (WGS 84)")
        return None
    try:
        number = float(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else math.nan
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or abs(number) > limit:
        problems.add(
            record,
            field,
            "not_a_coordinate",
            f"`{field}` {str(value)[:40]!r} is not a number between -{limit:g} and {limit:g}; send decimal degrees",
            value=str(value)[:40],
            limit=f"{limit:g}",
        )
        return None
    return number


def _text(problems: _Problems, record: str, field: str, value: object, *, required: bool = False) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.add(record, field, "missing", f"`{field}` is missing")
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        problems.add(record, field, "not_text", f"`{field}` must be text")
        return None
    text = str(value).strip()
    if len(text) > _MAX_TEXT:
        problems.add(record, field, "too_long", f"`{field}` is longer than {_MAX_TEXT} characters", limit=_MAX_TEXT)
        return None
    return text


def _source_id(problems: _Problems, record: str, field: str, value: object, *, required: bool) -> str | None:
    text = _text(problems, record, field, value, required=required)
    if text is not None and not _ID.match(text):
        problems.add(
            record,
            field,
            "id_invalid",
            f"`{field}` may only use letters, digits, '_', '.', ':' and '-' (at most 64)",
        )
        return None
    return text


def _ticket_ref(source: str, source_id: str | None) -> str:
    return f"{source}-{source_id}" if source_id else f"{source}-{uuid.uuid4().hex[:12]}"


# ---- grids and service codes ----------------------------------------------------------------------
def grid_index(store: Store) -> GridIndex | None:
    """The point-in-grid index of the active grids (None when there are none), cached per
    (workspace, version)."""
    key = (_where(store), _version(store))
    with _lock:
        if key in _indexes:
            return _indexes[key]
    try:
        grids = store.read(schema.GRIDS.name) if schema.GRIDS.name in store.layers() else None
    except LayerNotFoundError:
        grids = None
    index = GridIndex.from_grids(grids) if grids is not None and len(grids) else None
    with _lock:
        if len(_indexes) > 16:
            _indexes.clear()
        _indexes[key] = index
    return index


def _outside(store: Store, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    index = grid_index(store)
    if index is None:
        return np.ones(len(lon), dtype=bool)
    return index.assign(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)) < 0


def default_service_codes(store: Store) -> list[dict[str, str]]:
    """One service code per category in the workspace's tickets layer, sorted: ``c01``, ``c02``…
    (cached per workspace version)."""
    key = (_where(store), _version(store))
    if key not in _defaults:
        if len(_defaults) > 16:
            _defaults.clear()
        _defaults[key] = _default_codes(store)
    return _defaults[key]


def _default_codes(store: Store) -> list[dict[str, str]]:
    categories = store.distinct(schema.TICKETS.name, schema.CATEGORY)
    return [
        {"service_code": f"c{i:02d}", "service_name": name, "category": name, "description": name}
        for i, name in enumerate(categories, start=1)
    ]


def check_service_codes(entries: object) -> list[dict[str, str]]:
    """``entries`` as a service code list, or a GridWatchError saying what is wrong with it."""
    if not isinstance(entries, list):
        raise GridWatchError(
            "the service code map must be a JSON list of {service_code, service_name, category, description}",
            code="service_codes_invalid",
        )
    out, seen = [], set()
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k), str) and entry[k] for k in _SERVICE_FIELDS[:3]
        ):
            raise GridWatchError(
                f"service code entry #{n} needs service_code, service_name and category as text",
                code="service_code_entry",
                params={"n": n},
            )
        if entry["service_code"] in seen:
            raise GridWatchError(
                f"service code `{entry['service_code']}` is listed twice",
                code="service_code_twice",
                params={"code": entry["service_code"]},
            )
        seen.add(entry["service_code"])
        out.append({k: str(entry.get(k) or "") for k in _SERVICE_FIELDS})
    return out


def set_service_codes(store: Store, entries: object) -> list[dict[str, str]]:
    """Check ``entries`` (``check_service_codes``) and save them as the workspace's service codes."""
    checked = check_service_codes(entries)
    store.set_setting(SERVICE_CODES_SETTING, checked)
    _codes.pop(_where(store), None)
    return checked


def service_code_map(store: Store) -> list[dict[str, str]]:
    """The workspace's service codes: the ``service_codes`` setting, or the default list (read at most
    once a second per workspace, so a change is seen within a second)."""
    now = time.monotonic()
    seen = _codes.get(_where(store))
    if seen is None or now - seen[0] > _RECHECK_S:
        saved = store.get_setting(SERVICE_CODES_SETTING)
        seen = (now, check_service_codes(saved) if saved is not None else default_service_codes(store))
        _codes[_where(store)] = seen
    return seen[1]


# ---- tickets ----------------------------------------------------------------------------------------
def _ticket_record(
    problems: _Problems, record: str, fields: Mapping[str, object], codes: Mapping[str, dict], *, bulk: bool
) -> dict[str, object]:
    code = _text(problems, record, "service_code", fields.get("service_code"))
    category = _text(problems, record, "category", fields.get("category")) if bulk else None
    subcategory = None
    if code is not None:
        if code not in codes:
            shown = ", ".join(list(codes)[:20]) or "(none yet)"
            problems.add(
                record,
                "service_code",
                "service_code_unknown",
                f"service code {code[:40]!r} is unknown; GET /open311/v2/services.json lists them ({shown})",
                value=code[:40],
                known=shown,
            )
        else:
            category, subcategory = codes[code]["category"], codes[code]["service_name"]
    elif category is None:
        field = "service_code" if not bulk else "service_code/category"
        problems.add(record, field, "missing", "send a `service_code` (or, in bulk, a `category`)")
    lon = _coordinate(problems, record, "long", fields.get("long", fields.get("lon")), 180)
    lat = _coordinate(problems, record, "lat", fields.get("lat"), 90)
    at = _time(problems, record, "requested_datetime", fields.get("requested_datetime"), required=bulk)
    deadline = _time(problems, record, "deadline", fields.get("deadline"), required=False) if bulk else None
    description = _text(problems, record, "description", fields.get("description"))
    address = _text(problems, record, "address_string", fields.get("address_string"))
    attributes = {k[10:-1]: v for k, v in fields.items() if k.startswith("attribute[") and k.endswith("]")}
    given = fields.get("attribute")
    if isinstance(given, dict):
        attributes.update(given)
    note = "; ".join(p for p in (address, *(f"{k}={v}" for k, v in attributes.items())) if p) or None
    channel = _text(problems, record, "channel", fields.get("channel")) or "resident"
    if channel not in schema.TICKET_SOURCES:
        problems.add(
            record,
            "channel",
            "not_a_code",
            f"`channel` {channel[:40]!r} is not one of {', '.join(schema.TICKET_SOURCES)}",
            value=channel[:40],
            allowed=", ".join(schema.TICKET_SOURCES),
        )
    return {
        "kind": ev.TICKET,
        "at": at or datetime.now(UTC),
        "category": category,
        "subcategory": subcategory,
        "description": description,
        "note": note,
        "channel": channel,
        "deadline_at": deadline,
        "stage": "received",
        "lon": lon,
        "lat": lat,
    }


def _finish(store: Store, rows: Sequence[dict[str, Any]]) -> IntakeBatch:
    if rows:
        lon = np.array([r.get("lon") for r in rows], dtype=float)
        lat = np.array([r.get("lat") for r in rows], dtype=float)
        for row, outside in zip(rows, _outside(store, lon, lat), strict=True):
            row["outside"] = bool(outside)
    return IntakeBatch(tuple(rows), tuple(str(r["ref"]) for r in rows))


def open311_events(store: Store, fields: Mapping[str, object], *, source: str, source_id: str | None) -> IntakeBatch:
    """One Open311 ``POST requests`` (its fields, form-decoded or JSON) as a ticket event; ``source_id``
    is the request's Idempotency-Key, if it sent one."""
    problems = _Problems()
    record = source_id or "#1"
    if source_id is not None and not _ID.match(source_id):
        problems.add(
            record,
            "Idempotency-Key",
            "id_invalid",
            "the Idempotency-Key may only use letters, digits, '_', '.', ':' and '-' (at most 64)",
        )
    codes = {c["service_code"]: c for c in service_code_map(store)}
    row = _ticket_record(problems, record, fields, codes, bulk=False)
    problems.raise_if_any()
    row.update(source=source, source_id=source_id, ref=_ticket_ref(source, source_id))
    return _finish(store, [row])


def _json_lines(problems: _Problems, body: str | bytes) -> list[tuple[str, object]]:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append((f"line {n}", json.loads(line)))
        except json.JSONDecodeError as exc:
            problems.add(
                f"line {n}",
                "",
                "json_invalid",
                f"line {n} is not JSON ({exc.msg} at column {exc.colno})",
                line=n,
                reason=exc.msg,
                column=exc.colno,
            )
    return out


def bulk_events(store: Store, body: str | bytes, *, source: str) -> IntakeBatch:
    """JSON lines, one ticket each, as ticket events (at most ``MAX_BULK_RECORDS``)."""
    problems = _Problems()
    records = _json_lines(problems, body)
    if len(records) > MAX_BULK_RECORDS:
        problems.add(
            "",
            "",
            "too_many_records",
            f"{len(records)} records in one request; send at most {MAX_BULK_RECORDS}",
            count=len(records),
            limit=MAX_BULK_RECORDS,
        )
        problems.raise_if_any()
    if not records and not problems.items:
        problems.add("", "", "empty", "the request holds no records; send one JSON object per line")
    codes = {c["service_code"]: c for c in service_code_map(store)}
    rows = []
    for record, fields in records:
        if not isinstance(fields, dict):
            problems.add(record, "", "not_an_object", f"{record} is not a JSON object")
            continue
        source_id = _source_id(problems, record, "source_id", fields.get("source_id"), required=True)
        name = f"{record} ({source_id})" if source_id else record
        row = _ticket_record(problems, name, fields, codes, bulk=True)
        row.update(source=source, source_id=source_id, ref=_ticket_ref(source, source_id))
        rows.append(row)
    problems.raise_if_any()
    return _finish(store, rows)


# ---- stages, sign-ins, cameras ----------------------------------------------------------------------
def _records(problems: _Problems, payload: object) -> list[tuple[str, dict]]:
    items = payload if isinstance(payload, list) else [payload]
    out = []
    for n, item in enumerate(items, start=1):
        if isinstance(item, dict):
            out.append((f"#{n}", item))
        else:
            problems.add(f"#{n}", "", "not_an_object", f"record #{n} is not a JSON object")
    if not items:
        problems.add("", "", "empty", "the request holds no records")
    return out


def _current_stages(store: Store, ids: Sequence[str]) -> dict[str, str]:
    """The stage each stored ticket of ``ids`` is at now (its layer row with its events folded in)."""
    stored = store.lookup(schema.TICKETS.name, ids)
    events = store.events(kinds=[ev.STAGE, ev.TICKET], refs=ids)
    if schema.TICKET_ID in stored.columns:
        folded = ev.fold_tickets(stored, events, store.timezone())
        return dict(zip(folded[schema.TICKET_ID].astype(str), folded[schema.STAGE].astype(str), strict=True))
    stages: dict[str, str] = {}  # no tickets layer: the same rule over the events alone
    for row in events.itertuples(index=False):
        if row.kind == ev.TICKET:
            stages.setdefault(str(row.ref), str(row.stage) if isinstance(row.stage, str) else "received")
        elif str(row.ref) in stages:
            stages[str(row.ref)] = str(row.stage)
    return stages


def stage_events(store: Store, ticket_id: str, payload: object, *, source: str) -> IntakeBatch:
    """Stage updates of ticket ``ticket_id`` (one JSON object or a list, applied in order). The ticket
    must be stored; each stage must follow from the one before (``core.events.stage_problem``)."""
    problems = _Problems()
    records = _records(problems, payload)
    current = _current_stages(store, [ticket_id]).get(ticket_id)
    if current is None:
        problems.add(
            "#1",
            "ticket_id",
            "ticket_unknown",
            f"there is no ticket `{ticket_id[:64]}`; post the ticket first",
            ticket=ticket_id[:64],
        )
        problems.raise_if_any()
    rows = []
    for record, fields in records:
        stage = _text(problems, record, "stage", fields.get("stage"), required=True)
        at = _time(problems, record, "at", fields.get("at"), required=True)
        rework = fields.get("rework", False)
        if not isinstance(rework, bool):
            problems.add(record, "rework", "not_a_bool", "`rework` must be true or false")
            rework = False
        satisfaction = _text(problems, record, "satisfaction", fields.get("satisfaction"))
        if satisfaction is not None and satisfaction not in schema.SATISFACTIONS:
            problems.add(
                record,
                "satisfaction",
                "not_a_code",
                f"`satisfaction` {satisfaction[:40]!r} is not one of {', '.join(schema.SATISFACTIONS)}",
                value=satisfaction[:40],
                allowed=", ".join(schema.SATISFACTIONS),
            )
        source_id = _source_id(problems, record, "source_id", fields.get("source_id"), required=False)
        if stage is not None and current is not None:
            why = ev.stage_problem(current, stage, rework=rework)
            if why is not None:
                problems.add(
                    record,
                    "stage",
                    why,
                    f"ticket `{ticket_id[:64]}` is at `{current}` and cannot move to `{stage[:40]}` ({why}); "
                    "stages move forward, and going back to dispatched or handling needs rework=true",
                    current=current,
                    stage=stage[:40],
                    ticket=ticket_id[:64],
                )
            else:
                current = stage
        rows.append(
            {
                "kind": ev.STAGE,
                "source": source,
                "source_id": source_id,
                "ref": ticket_id,
                "stage": stage,
                "at": at,
                "by": _text(problems, record, "by", fields.get("by")),
                "note": _text(problems, record, "note", fields.get("note")),
                "rework": rework,
                "satisfaction": satisfaction,
                "handled_by": _text(problems, record, "handled_by", fields.get("handled_by")),
            }
        )
    problems.raise_if_any()
    return IntakeBatch(tuple(rows), tuple(ticket_id for _ in rows))


def _known(store: Store, layer: str, column: str, ids: Iterable[str]) -> set[str]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return set()
    found = store.lookup(layer, wanted)
    return set(found[column].astype(str)) if column in found.columns else set()


def checkin_events(store: Store, payload: object, *, source: str) -> IntakeBatch:
    """Patrol sign-ins (one JSON object or a list): team_id of a stored patrol team, lat/long, at."""
    problems = _Problems()
    records = _records(problems, payload)
    teams = [str(f.get("team_id") or "") for _, f in records]
    known = _known(store, schema.PATROL_TEAMS.name, schema.TEAM_ID, teams)
    rows = []
    for record, fields in records:
        team = _text(problems, record, "team_id", fields.get("team_id"), required=True)
        if team is not None and team not in known:
            problems.add(record, "team_id", "team_unknown", f"there is no patrol team `{team[:64]}`", team=team[:64])
        source_id = _source_id(problems, record, "source_id", fields.get("source_id"), required=False)
        rows.append(
            {
                "kind": ev.CHECKIN,
                "source": source,
                "source_id": source_id,
                "team_id": team,
                "ref": _ticket_ref(source, source_id),
                "at": _time(problems, record, "at", fields.get("at"), required=True),
                "lon": _coordinate(problems, record, "long", fields.get("long", fields.get("lon")), 180),
                "lat": _coordinate(problems, record, "lat", fields.get("lat"), 90),
            }
        )
    problems.raise_if_any()
    return _finish(store, rows)


def camera_events(store: Store, camera_id: str, payload: object, *, source: str) -> IntakeBatch:
    """Heartbeats of camera ``camera_id`` (one JSON object or a list): status, at."""
    problems = _Problems()
    records = _records(problems, payload)
    if camera_id not in _known(store, schema.CAMERAS.name, schema.CAMERA_ID, [camera_id]):
        problems.add(
            "#1", "camera_id", "camera_unknown", f"there is no camera `{camera_id[:64]}`", camera=camera_id[:64]
        )
        problems.raise_if_any()
    rows = []
    for record, fields in records:
        status = _text(problems, record, "status", fields.get("status"), required=True)
        if status is not None and status not in schema.CAMERA_STATUSES:
            problems.add(
                record,
                "status",
                "not_a_code",
                f"`status` {status[:40]!r} is not one of {', '.join(schema.CAMERA_STATUSES)}",
                value=status[:40],
                allowed=", ".join(schema.CAMERA_STATUSES),
            )
        rows.append(
            {
                "kind": ev.CAMERA,
                "source": source,
                "ref": camera_id,
                "status": status,
                "source_id": _source_id(problems, record, "source_id", fields.get("source_id"), required=False),
                "at": _time(problems, record, "at", fields.get("at"), required=True),
            }
        )
    problems.raise_if_any()
    return IntakeBatch(tuple(rows), tuple(camera_id for _ in rows))


# ---- reading back -----------------------------------------------------------------------------------
def ticket_requests(store: Store, ids: Sequence[str] | None = None) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Tickets (the layer's rows folded with the ticket and stage events; only ``ids`` if given) and the
    ticket and stage events they come from, for Open311 ``GET requests``."""
    tz = store.timezone()
    events = store.events(kinds=[ev.TICKET, ev.STAGE], refs=ids)
    if ids is not None:
        tickets = store.lookup(schema.TICKETS.name, ids)
    else:
        tickets = store.read(schema.TICKETS.name) if schema.TICKETS.name in store.layers() else gpd.GeoDataFrame()
    if schema.TICKET_ID not in tickets.columns:
        tickets = _empty_tickets(tz)
    return ev.fold_tickets(tickets, events, tz), events


def _empty_tickets(tz: str) -> gpd.GeoDataFrame:
    times = {
        c: pd.Series([], dtype=f"datetime64[ns, {tz}]")
        for c in (schema.CREATED_AT, schema.DISPATCHED_AT, schema.DEADLINE_AT, schema.CLOSED_AT)
    }
    text = {
        c: pd.Series([], dtype=object)
        for c in (
            schema.TICKET_ID,
            schema.CATEGORY,
            schema.SUBCATEGORY,
            schema.DESCRIPTION,
            schema.SOURCE,
            schema.STAGE,
            schema.SATISFACTION,
            schema.HANDLED_BY,
        )
    }
    return gpd.GeoDataFrame(
        {**text, **times, schema.REWORK_COUNT: pd.Series([], dtype="Int64")}, geometry=[], crs=schema.STORAGE_CRS
    )
