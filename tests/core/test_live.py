"""core.live: the joined point layers extended by events give what joining the folded layers gives."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from store_cases import grids_frame, tickets_frame

from core import events as ev
from core import joins, live, privacy, schema
from core.store import open_store

AT = pd.Timestamp("2026-03-02 09:00", tz="UTC")


@pytest.fixture
def ws(tmp_path: Path):
    store = open_store("live", tmp_path)
    store.write_layers({"grids": grids_frame(), "tickets": tickets_frame(["t1", "t2"])}, note="seed")
    return store


def ticket(i: int, lon: float = 0.5, description: str = "") -> dict:
    return {
        "kind": ev.TICKET,
        "source": "app",
        "source_id": str(i),
        "at": AT + pd.Timedelta(minutes=i),
        "ref": f"app-{i}",
        "category": "市容环境",
        "channel": "resident",
        "description": description,
        "lon": lon,
        "lat": 0.5,
    }


def test_events_extend_the_joined_layer_step_by_step(ws):
    grids = ws.read("grids")
    index = joins.GridIndex.from_grids(grids)
    reads: list[tuple[int, int]] = []

    def read(after, upto, kinds):
        reads.append((after, upto))
        return ws.events(after=after, upto=upto, kinds=kinds)

    state = live.LiveLayers(grids, index, ws.timezone(), read)
    base = joins.join_to_grids(ws.read("tickets"), grids, index)
    first = state.at("tickets", 0, lambda: base)
    assert len(first) == 2 and first[live.EVENT_SEQ].isna().all()

    ws.append_events(pd.DataFrame([ticket(1), ticket(2, lon=9.0, description="call 13812345678")]))
    second = state.at("tickets", 2, lambda: base)
    assert reads == [(0, 2)]
    by_id = second.set_index(schema.TICKET_ID)
    assert by_id.loc["app-1", schema.GRID_ID] == "g1" and bool(by_id.loc["app-1", schema.ASSIGNED])
    assert by_id.loc["app-1", schema.GRID_ID_AT_CREATION] == "g1"
    assert not bool(by_id.loc["app-2", schema.ASSIGNED])  # outside every grid: kept, unassigned
    assert "13812345678" not in by_id.loc["app-2", schema.DESCRIPTION], "phone numbers are masked"
    assert list(second[live.EVENT_SEQ].iloc[2:]) == [1.0, 2.0]
    assert {c: second[c].dtype for c in base.columns} == {c: base[c].dtype for c in base.columns}, "no column upcast"

    ws.append_events(pd.DataFrame([{"kind": ev.STAGE, "source": "app", "at": AT, "ref": "app-1", "stage": "closed"}]))
    third = state.at("tickets", 3, lambda: base)
    assert reads[-1] == (2, 3), "only the new event is read"
    assert third.set_index(schema.TICKET_ID).loc["app-1", schema.STAGE] == "closed"
    assert second.set_index(schema.TICKET_ID).loc["app-1", schema.STAGE] == "received", "handed-out frames stay"
    assert len(base) == 2 and list(base[schema.STAGE]) == list(ws.read("tickets")[schema.STAGE])

    whole = privacy.mask_free_text(
        joins.join_to_grids(ev.fold_tickets(ws.read("tickets"), ws.events(), ws.timezone()), grids, index)
    )
    columns = [*schema.TICKETS.column_names, *schema.JOINED_COLUMNS, schema.ASSIGNED]
    pd.testing.assert_frame_equal(
        third[columns].reset_index(drop=True), whole[columns].reset_index(drop=True), check_dtype=False
    )
    assert len(state.at("tickets", 1, lambda: base)) == 3, "an earlier mark starts again from the stored layer"


def test_tickets_without_any_optional_text_extend_the_layer(ws):
    """An Open311 post without description: the batch's text columns hold only missing values, read
    back as text or as floats, and still fill the stored layer's text columns."""
    grids = ws.read("grids")
    index = joins.GridIndex.from_grids(grids)

    def read(after, upto, kinds):  # the events as the GeoPackage gives them back: text columns as text
        events = ws.events(after=after, upto=upto, kinds=kinds)
        return events.astype({"description": "str", "channel": "str"})

    state = live.LiveLayers(grids, index, ws.timezone(), read)
    stored = ws.read("tickets").assign(**{schema.DESCRIPTION: ["井盖", "路灯"]})  # a text column
    base = privacy.mask_free_text(joins.join_to_grids(stored, grids, index))
    state.at("tickets", 0, lambda: base)
    bare = {k: v for k, v in ticket(1).items() if k not in ("description", "channel")}
    ws.append_events([bare])
    frame = state.at("tickets", ws.event_mark(), lambda: base).set_index(schema.TICKET_ID)
    assert pd.isna(frame.loc["app-1", schema.DESCRIPTION]) and frame.loc["app-1", schema.GRID_ID] == "g1"
    assert frame[schema.DESCRIPTION].dtype == base[schema.DESCRIPTION].dtype
