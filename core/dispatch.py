"""What duty staff do to an open ticket from the command center, as ticket events.

``action_events`` turns one action on one ticket into the ``stage`` event that records it (the event
log is the ticket's history: ``core.events.ticket_history``), signed by the person who acted:

* ``dispatch`` — to a grid worker or a department (``to``; kept as ``handled_by``); moves a received or
  registered ticket to ``dispatched`` (a dispatched one is dispatched again, to someone else);
* ``deadline`` — sets or extends the deadline (``deadline``), with a ``reason``;
* ``escalate`` — to the leader on duty, with a ``reason``; the stage stays;
* ``verify`` — the handling was checked on site (``verified``);
* ``close`` — closed (``closed``).

Every action needs an open ticket; a stage only moves forward (``core.events.stage_problem``). A refused
action raises ``DispatchError`` saying what to do instead, and nothing is stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import pandas as pd

from core import events as ev
from core import schema
from core.errors import DispatchError

__all__ = ["ACTIONS", "action_events"]

ACTIONS = ("dispatch", "deadline", "escalate", "verify", "close")
_STAGE_OF = {"verify": "verified", "close": "closed"}
_DISPATCH_FROM = ("received", "registered", "dispatched")
_MAX_TEXT = 200


def _text(value: str | None) -> str | None:
    text = (value or "").strip()
    return text[:_MAX_TEXT] or None


def action_events(
    ticket: Mapping[str, object],
    action: str,
    *,
    by: str,
    at: pd.Timestamp,
    to: str | None = None,
    deadline: pd.Timestamp | None = None,
    reason: str | None = None,
) -> list[dict[str, object]]:
    """The event recording ``action`` on ``ticket`` (a row of the tickets layer) by ``by`` at ``at``."""
    ticket_id = str(ticket[schema.TICKET_ID])
    current = str(ticket[schema.STAGE])
    params = {"ticket": ticket_id[:64], "stage": current}
    if action not in ACTIONS:
        raise DispatchError(f"unknown action {action!r}", code="dispatch_action", params={"action": action[:40]})
    if current in ("closed", "cancelled"):
        raise DispatchError(
            f"ticket `{ticket_id}` is {current}; there is nothing left to do on it",
            code="dispatch_final",
            params=params,
        )
    to, reason = _text(to), _text(reason)
    stage, note = current, reason
    if action == "dispatch":
        if not to:
            raise DispatchError("name who the ticket goes to (a grid worker or a department)", code="dispatch_to")
        if current not in _DISPATCH_FROM:
            raise DispatchError(
                f"ticket `{ticket_id}` is being handled ({current}); escalate it instead of dispatching it again",
                code="dispatch_handling",
                params=params,
            )
        stage, note = "dispatched", f"→ {to}" + (f": {reason}" if reason else "")
    elif action in ("deadline", "escalate") and not reason:
        raise DispatchError("give the reason (it is kept in the ticket's history)", code="dispatch_reason")
    if action == "deadline":
        if deadline is None or pd.isna(deadline):
            raise DispatchError("pick the new deadline", code="dispatch_deadline")
        if deadline <= pd.Timestamp(ticket[schema.CREATED_AT]):
            raise DispatchError(
                "the deadline must be after the ticket was created", code="dispatch_deadline_early", params=params
            )
    if action == "escalate":
        note = f"escalated: {reason}"
    if action in _STAGE_OF:
        stage = _STAGE_OF[action]
        why = ev.stage_problem(current, stage)
        if why is not None:
            raise DispatchError(
                f"ticket `{ticket_id}` is at `{current}` and cannot move to `{stage}` ({why})",
                code="dispatch_stage",
                params={**params, "new": stage},
            )
    return [
        {
            "kind": ev.STAGE,
            "source": "dashboard",
            "source_id": uuid.uuid4().hex,
            "ref": ticket_id,
            "stage": stage,
            "at": at,
            "by": by,
            "note": note,
            "handled_by": to if action == "dispatch" else None,
            "deadline_at": deadline if action == "deadline" else None,
            "rework": False,
        }
    ]
