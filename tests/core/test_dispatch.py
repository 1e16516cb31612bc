"""Actions on a ticket as stage events: what each records, what is refused, and the fold applying them."""

from __future__ import annotations

import pandas as pd
import pytest

from core import dispatch, schema
from core import events as ev
from core.errors import DispatchError

AT = pd.Timestamp("2026-10-31 10:00", tz="Asia/Shanghai")


def ticket(stage: str = "received") -> dict:
    return {schema.TICKET_ID: "t1", schema.STAGE: stage, schema.CREATED_AT: AT - pd.Timedelta(days=2)}


def test_dispatch_moves_a_new_ticket_to_dispatched_and_names_the_target():
    [row] = dispatch.action_events(ticket(), "dispatch", by="王芳", at=AT, to="网格员 李雷", reason="尽快")
    assert row["kind"] == ev.STAGE and row["stage"] == "dispatched" and row["by"] == "王芳"
    assert row["handled_by"] == "网格员 李雷" and row["note"] == "→ 网格员 李雷: 尽快"


def test_deadline_escalate_keep_the_stage_and_record_the_reason():
    new = AT + pd.Timedelta(days=3)
    [row] = dispatch.action_events(ticket("handling"), "deadline", by="w", at=AT, deadline=new, reason="等配件")
    assert row["stage"] == "handling" and row["deadline_at"] == new and row["note"] == "等配件"
    [row] = dispatch.action_events(ticket("handling"), "escalate", by="w", at=AT, reason="居民多次投诉")
    assert row["stage"] == "handling" and row["note"] == "escalated: 居民多次投诉"


@pytest.mark.parametrize(
    ("stage", "action", "kw", "code"),
    [
        ("closed", "escalate", {"reason": "x"}, "dispatch_final"),
        ("received", "dispatch", {}, "dispatch_to"),
        ("handling", "dispatch", {"to": "城管"}, "dispatch_handling"),
        ("received", "deadline", {"reason": "x"}, "dispatch_deadline"),
        ("received", "deadline", {"reason": "x", "deadline": AT - pd.Timedelta(days=5)}, "dispatch_deadline_early"),
        ("received", "escalate", {"reason": "  "}, "dispatch_reason"),
        ("verified", "verify", {}, None),  # verified again: allowed (not backwards)
        ("received", "reopen", {}, "dispatch_action"),
    ],
)
def test_refused_actions_say_why(stage, action, kw, code):
    if code is None:
        assert dispatch.action_events(ticket(stage), action, by="w", at=AT, **kw)[0]["stage"] == "verified"
        return
    with pytest.raises(DispatchError) as caught:
        dispatch.action_events(ticket(stage), action, by="w", at=AT, **kw)
    assert caught.value.code == code


def test_the_fold_applies_dispatch_deadline_and_close():
    import geopandas as gpd
    from shapely.geometry import Point

    tickets = gpd.GeoDataFrame(
        {
            schema.TICKET_ID: ["t1"],
            schema.STAGE: ["received"],
            schema.CREATED_AT: [AT - pd.Timedelta(days=2)],
            schema.DISPATCHED_AT: pd.Series([pd.NaT], dtype="datetime64[ns, Asia/Shanghai]"),
            schema.DEADLINE_AT: [AT],
            schema.CLOSED_AT: pd.Series([pd.NaT], dtype="datetime64[ns, Asia/Shanghai]"),
            schema.REWORK_COUNT: pd.array([0], dtype="Int64"),
            schema.SATISFACTION: [None],
            schema.HANDLED_BY: [None],
        },
        geometry=[Point(0, 0)],
        crs=schema.STORAGE_CRS,
    )
    later = AT + pd.Timedelta(days=4)
    steps = [
        ("dispatch", {"at": AT, "to": "城管中队"}),
        ("deadline", {"at": AT, "deadline": later, "reason": "等配件"}),
        ("close", {"at": AT + pd.Timedelta(hours=5)}),
    ]
    out, rows = tickets, []
    for seq, (action, kw) in enumerate(steps, start=1):  # each action on the ticket as it stands
        rows += dispatch.action_events(out.iloc[0], action, by="w", **kw)
        out = ev.apply_stages(out, ev.event_frame(rows[-1:]).assign(seq=[seq]), "Asia/Shanghai")
    events = ev.event_frame(rows).assign(seq=[1, 2, 3])
    assert out[schema.STAGE].iloc[0] == "closed" and out[schema.HANDLED_BY].iloc[0] == "城管中队"
    assert out[schema.DEADLINE_AT].iloc[0] == later and out[schema.DISPATCHED_AT].iloc[0] == AT
    assert tickets[schema.DEADLINE_AT].iloc[0] == AT  # the layer itself is not changed
    history = ev.ticket_history(events.assign(kind=ev.STAGE), "t1")
    assert history["stage"].tolist() == ["dispatched", "dispatched", "closed"]
