"""Event data: what flows in all day — new tickets, ticket stage changes, patrol sign-ins, camera status.

Layers (``core.schema.LAYERS``) are versioned: a write makes a version that can be rolled back. Events
are not: they are appended to the workspace's event log, one row each, and never rewritten, so writing
N events costs N rows and every stage a ticket went through stays on record (who, when, note). Each
stored event gets ``seq``, a number that only grows; the highest is the workspace's *event mark*, and
what the dashboard shows is keyed by (version, event mark).

An event is one row of ``COLUMNS``:

* ``ticket`` — a new ticket: ``ref`` is its ticket id, ``at`` when it was received, the ticket's fields,
  ``lon``/``lat`` (WGS 84) and ``outside`` (the point lies in no grid: stored, and flagged as the file
  import flags it).
* ``stage`` — ticket ``ref`` reached ``stage`` at ``at``, by ``by`` (``note``); ``rework`` when it was
  sent back to handling; it may carry ``satisfaction``, ``handled_by`` and a new ``deadline_at``
  (``core.dispatch``: dispatch, deadline, escalate, verify, close from the command center).
* ``checkin`` — patrol team ``team_id`` signed in at ``lon``/``lat`` at ``at`` (``ref``: sign-in id).
* ``camera`` — camera ``ref`` reported ``status`` at ``at``.

``source`` names who sent the event (an API key's source); ``source_id`` is the sender's own id for the
record: a record sent twice (same kind, source and source id) is stored once.

A ticket's current state is derived from its events (``fold_tickets``): the last stage reached, when it
was first dispatched, when it closed, how often it was reworked. Folding the events after a mark onto
what was folded up to it gives what folding everything gives, so the dashboard extends its state as
events arrive instead of starting over (``core.live``).

What is NOT here: storing events (``core.store``), reading API requests into events (``core.intake``).
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from core import schema

__all__ = [
    "CAMERA",
    "CHECKIN",
    "COLUMNS",
    "KINDS",
    "STAGE",
    "TICKET",
    "TIME_COLUMNS",
    "EventReceipt",
    "apply_stages",
    "event_frame",
    "event_rows",
    "fold_cameras",
    "fold_checkins",
    "fold_tickets",
    "new_checkins",
    "new_tickets",
    "row_positions",
    "stage_problem",
    "ticket_history",
]

TICKET, STAGE, CHECKIN, CAMERA = "ticket", "stage", "checkin", "camera"
KINDS = (TICKET, STAGE, CHECKIN, CAMERA)

COLUMNS: dict[str, str] = {
    "seq": "int",
    "kind": "str",
    "source": "str",
    "source_id": "str",
    "received_at": "datetime",
    "at": "datetime",
    "ref": "str",
    "team_id": "str",
    "stage": "str",
    "status": "str",
    "by": "str",
    "note": "str",
    "category": "str",
    "subcategory": "str",
    "description": "str",
    "channel": "str",
    "deadline_at": "datetime",
    "satisfaction": "str",
    "handled_by": "str",
    "rework": "bool",
    "lon": "float",
    "lat": "float",
    "outside": "bool",
}
"""Every event column and its kind; ``seq`` and ``received_at`` are given by the store."""
TIME_COLUMNS = tuple(name for name, kind in COLUMNS.items() if kind == "datetime")

_ORDER = {stage: rank for rank, stage in enumerate(schema.TICKET_STAGES)}
_FINAL = ("closed", "cancelled")
_REWORK_FROM = ("feedback", "verified")
_REWORK_TO = ("dispatched", "handling")


class EventReceipt:
    """What storing a batch of events did, row by row in the order given: the ``seq`` each row has in
    the log, its ``ref``, and whether it was a ``duplicate`` of a stored row (then ``seq`` and ``ref``
    are the stored row's); ``mark`` is the event mark after the write."""

    def __init__(self, seqs: Sequence[int], refs: Sequence[str], duplicate: Sequence[bool], mark: int) -> None:
        self.seqs, self.refs, self.duplicate, self.mark = list(seqs), list(refs), list(duplicate), mark

    @property
    def stored(self) -> int:
        return len(self.duplicate) - sum(self.duplicate)

    def __repr__(self) -> str:
        return f"EventReceipt(stored={self.stored}, duplicates={sum(self.duplicate)}, mark={self.mark})"


def event_frame(records: Sequence[Mapping[str, object]] | pd.DataFrame) -> pd.DataFrame:
    """Events with every column of ``COLUMNS`` in its dtype (times in UTC); missing columns are empty."""
    frame = records if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    size = len(frame)
    out: dict[str, object] = {}
    for name, kind in COLUMNS.items():
        given = frame[name] if name in frame.columns else pd.Series([None] * size, dtype="object")
        given = given.reset_index(drop=True)
        if kind == "datetime":
            out[name] = (
                pd.to_datetime(given, utc=True, format="ISO8601") if size else given.astype("datetime64[ns, UTC]")
            )
        elif kind == "int":
            out[name] = pd.to_numeric(given, errors="coerce").astype("Int64")
        elif kind == "float":
            out[name] = pd.to_numeric(given, errors="coerce").astype("float64")
        elif kind == "bool":
            missing = pd.isna(given.to_numpy(dtype=object))
            out[name] = pd.Series(np.where(missing, False, given.to_numpy(dtype=object)).astype(bool))
        else:  # text: str values, None where missing (one pass over the values, not per-column masks)
            values = given.to_numpy(dtype=object)
            missing = pd.isna(values)
            out[name] = pd.Series(
                [None if gone else str(v) for v, gone in zip(values, missing, strict=True)], dtype=object
            )
    return pd.DataFrame(out, index=pd.RangeIndex(size))


def event_rows(records: Sequence[Mapping[str, object]] | pd.DataFrame) -> list[dict[str, object]]:
    """Events as rows of every ``COLUMNS`` column, values as ``event_frame`` gives them but in plain
    Python (times as UTC ``Timestamp``; None where missing, False for a missing flag). A frame is
    converted column by column; a short list of records (one API request's) without pandas, which
    is what keeps storing one event cheap."""
    if isinstance(records, pd.DataFrame):
        frame = event_frame(records)
        return [
            dict(zip(frame.columns, (_plain(v) for v in row), strict=True)) for row in frame.itertuples(index=False)
        ]
    return [{name: _coerce(kind, record.get(name)) for name, kind in COLUMNS.items()} for record in records]


def _missing(value: object) -> bool:
    return value is None or value is pd.NaT or value is pd.NA or (isinstance(value, float) and value != value)


def _plain(value: object) -> object:
    return None if _missing(value) else value


def _coerce(kind: str, value: object) -> object:
    if kind == "bool":
        return False if _missing(value) else bool(value)
    if _missing(value):
        return None
    if kind == "datetime":
        stamp = pd.Timestamp(value)
        return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    if kind == "int":
        return int(value)  # type: ignore[call-overload]
    if kind == "float":
        return float(value)  # type: ignore[arg-type]
    return str(value)


def stage_problem(current: str, new: str, *, rework: bool = False) -> str | None:
    """Why a ticket at stage ``current`` cannot move to ``new`` (a problem code), or None if it can.

    Stages only move forward (``core.schema.TICKET_STAGES``); a closed or cancelled ticket takes no more
    stages; going back to dispatched or handling from feedback or verified is rework and must say so."""
    if new not in _ORDER:
        return "stage_unknown"
    if current in _FINAL:
        return "stage_after_final"
    if rework:
        return None if current in _REWORK_FROM and new in _REWORK_TO else "rework_not_allowed"
    if new == "cancelled" or _ORDER[new] >= _ORDER.get(current, 0):
        return None
    return "stage_backwards"


def fold_tickets(tickets: gpd.GeoDataFrame, events: pd.DataFrame, tz: str) -> gpd.GeoDataFrame:
    """``tickets`` (a canonical layer, or what an earlier fold returned) with ``events`` applied: new
    tickets appended (one whose id is held already is the stored record, and is left as it is), then
    stage changes in ``seq`` order. Returns a new frame; ``tickets`` is not changed."""
    positions = row_positions(tickets, schema.TICKET_ID)
    new = new_tickets(events, positions, tickets, tz)
    out = tickets.copy(deep=False) if new.empty else pd.concat([tickets, new], ignore_index=True)
    positions.update(zip(new[schema.TICKET_ID], range(len(tickets), len(out)), strict=True))
    return apply_stages(out, events, tz, positions)


def row_positions(frame: pd.DataFrame, id_column: str) -> dict[str, int]:
    """Each id of ``frame[id_column]`` and its row position (the first, if an id repeats): what
    ``new_tickets``, ``new_checkins`` and ``apply_stages`` look ids up in. A caller folding batch after
    batch keeps it and extends it with the rows it appends, so no fold reads every id again."""
    ids = frame[id_column].tolist()
    return dict(zip(reversed(ids), range(len(ids) - 1, -1, -1), strict=True))


def new_tickets(events: pd.DataFrame, held: Container[str], like: gpd.GeoDataFrame, tz: str) -> gpd.GeoDataFrame:
    """The tickets the ``ticket`` events of ``events`` bring whose ids ``held`` does not hold, once
    each, as canonical ``tickets`` rows in the dtypes of ``like`` (the layer they will join)."""
    rows = events[events["kind"] == TICKET]
    rows = rows[[ref not in held for ref in rows["ref"]]].drop_duplicates("ref")
    if rows.empty:
        return like.iloc[:0]
    at = pd.DatetimeIndex(rows["at"]).tz_convert(tz)
    stage = rows["stage"].fillna("received").to_numpy(dtype=object)
    columns = {
        schema.TICKET_ID: rows["ref"].to_numpy(dtype=object),
        schema.CREATED_AT: at,
        schema.CATEGORY: rows["category"].to_numpy(dtype=object),
        schema.SUBCATEGORY: rows["subcategory"].to_numpy(dtype=object),
        schema.DESCRIPTION: rows["description"].to_numpy(dtype=object),
        schema.SOURCE: rows["channel"].to_numpy(dtype=object),
        schema.STAGE: stage,
        schema.DISPATCHED_AT: pd.NaT,
        schema.DEADLINE_AT: pd.DatetimeIndex(rows["deadline_at"]).tz_convert(tz),
        schema.CLOSED_AT: pd.NaT,
        schema.REWORK_COUNT: pd.array(np.zeros(len(rows), dtype=int), dtype="Int64"),
        schema.SATISFACTION: rows["satisfaction"].to_numpy(dtype=object),
        schema.HANDLED_BY: rows["handled_by"].to_numpy(dtype=object),
    }
    new = gpd.GeoDataFrame(columns, geometry=gpd.points_from_xy(rows["lon"], rows["lat"]), crs=like.crs)
    for column in (schema.DISPATCHED_AT, schema.CLOSED_AT):
        new[column] = pd.Series(pd.NaT, index=new.index, dtype=f"datetime64[ns, {tz}]")
    return new.astype({c: like[c].dtype for c in new.columns if c in like.columns and c != new.geometry.name})


def fold_cameras(cameras: gpd.GeoDataFrame, events: pd.DataFrame) -> gpd.GeoDataFrame:
    """``cameras`` with each camera's status from its latest heartbeat in ``events`` (by report time,
    then ``seq``); cameras that reported nothing keep theirs."""
    beats = events[(events["kind"] == CAMERA) & events["status"].isin(schema.CAMERA_STATUSES)]
    out = cameras.copy()
    if beats.empty:
        return out
    latest = beats.sort_values(["at", "seq"]).drop_duplicates("ref", keep="last").set_index("ref")["status"]
    ids = out[schema.CAMERA_ID]
    reported = ids.isin(latest.index)
    out.loc[reported, schema.STATUS] = ids[reported].map(latest).to_numpy()
    return out


def fold_checkins(checkins: gpd.GeoDataFrame, events: pd.DataFrame, tz: str) -> gpd.GeoDataFrame:
    """``checkins`` with the sign-in events appended (as canonical ``patrol_checkins`` rows)."""
    new = new_checkins(events, set(checkins[schema.CHECKIN_ID]), tz)
    return checkins.copy(deep=False) if new.empty else pd.concat([checkins, new], ignore_index=True)


def new_checkins(events: pd.DataFrame, held: Container[str], tz: str) -> gpd.GeoDataFrame:
    """The sign-ins the ``checkin`` events of ``events`` bring whose ids ``held`` does not hold, once
    each, as canonical ``patrol_checkins`` rows."""
    rows = events[events["kind"] == CHECKIN]
    rows = rows[[ref not in held for ref in rows["ref"]]].drop_duplicates("ref")
    new = gpd.GeoDataFrame(
        {
            schema.CHECKIN_ID: rows["ref"].to_numpy(dtype=object),
            schema.TEAM_ID: rows["team_id"].to_numpy(dtype=object),
            schema.CHECKED_AT: pd.DatetimeIndex(rows["at"]).tz_convert(tz),
        },
        geometry=gpd.points_from_xy(rows["lon"], rows["lat"]),
        crs=schema.STORAGE_CRS,
    )
    return new.astype({schema.CHECKIN_ID: "str", schema.TEAM_ID: "str"})


def ticket_history(events: pd.DataFrame, ticket_id: str) -> pd.DataFrame:
    """The stages ``ticket_id`` went through as recorded events, oldest first: at, stage, by, note,
    rework and who sent each (``source``)."""
    rows = events[(events["kind"].isin((TICKET, STAGE))) & (events["ref"] == ticket_id)].sort_values("seq")
    stage = rows["stage"].where(rows["kind"] == STAGE, rows["stage"].fillna("received"))
    return pd.DataFrame(
        {
            "at": rows["at"].to_numpy(),
            "stage": stage.to_numpy(),
            "by": rows["by"].to_numpy(),
            "note": rows["note"].to_numpy(),
            "rework": rows["rework"].to_numpy(),
            "source": rows["source"].to_numpy(),
        }
    )


def _times(values: object, like: pd.Series) -> pd.DatetimeIndex:
    """Event times in the zone and unit of the layer column ``like`` (rounded down to its unit)."""
    dtype = like.dtype
    unit = getattr(dtype, "unit", "ns")
    index = pd.DatetimeIndex(values).tz_convert(getattr(dtype, "tz", "UTC"))
    return index.floor({"s": "s", "ms": "ms", "us": "us"}.get(unit, "ns")).as_unit(unit)


def apply_stages(
    tickets: gpd.GeoDataFrame, events: pd.DataFrame, tz: str, positions: Mapping[str, int] | None = None
) -> gpd.GeoDataFrame:
    """``tickets`` with the ``stage`` events of ``events`` applied in ``seq`` order; ``positions`` is
    ``row_positions(tickets, ticket_id)`` (read from ``tickets`` when not given). Returns a new frame
    that shares every column no stage changed (copy-on-write: ``tickets`` is not changed)."""
    stages = events[events["kind"] == STAGE].sort_values("seq")
    if positions is None:
        positions = row_positions(tickets, schema.TICKET_ID)
    position = np.array([positions.get(ref, -1) for ref in stages["ref"]], dtype=np.int64)
    stages = stages[position >= 0].assign(_row=position[position >= 0])
    tickets = tickets.copy(deep=False)
    if stages.empty:
        return tickets
    rows = stages.groupby("_row", sort=False)
    last = rows.last()  # the latest stage reached, per ticket (events in seq order)
    at = _times(last["at"], tickets[schema.CLOSED_AT])
    index = tickets.index[last.index.to_numpy()]
    tickets.loc[index, schema.STAGE] = last["stage"].to_numpy()
    dispatched = stages[stages["stage"] == "dispatched"].groupby("_row")["at"].first()
    if len(dispatched):
        first = tickets.index[dispatched.index.to_numpy()]
        empty = tickets.loc[first, schema.DISPATCHED_AT].isna().to_numpy()
        tickets.loc[first[empty], schema.DISPATCHED_AT] = _times(
            dispatched.iloc[np.flatnonzero(empty)],
            tickets[schema.DISPATCHED_AT],  # a Series keeps its zone
        )
    closed = last["stage"].isin(_FINAL).to_numpy()
    tickets.loc[index[closed], schema.CLOSED_AT] = at[closed]
    reworks = stages.groupby("_row")["rework"].sum()
    reworked = reworks[reworks > 0]
    if len(reworked):
        where = tickets.index[reworked.index.to_numpy()]
        tickets.loc[where, schema.REWORK_COUNT] = (
            tickets.loc[where, schema.REWORK_COUNT].fillna(0) + reworked.to_numpy()
        )
    deadlines = stages[stages["deadline_at"].notna()].groupby("_row")["deadline_at"].last()
    if len(deadlines):  # a deadline set or extended (core.dispatch)
        where = tickets.index[deadlines.index.to_numpy()]
        tickets.loc[where, schema.DEADLINE_AT] = _times(deadlines, tickets[schema.DEADLINE_AT])
    for column in (schema.SATISFACTION, schema.HANDLED_BY):
        given = stages[stages[column].notna()].groupby("_row")[column].last()
        if len(given):
            tickets.loc[tickets.index[given.index.to_numpy()], column] = given.to_numpy()
    return tickets
