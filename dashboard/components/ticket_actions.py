"""The ticket picked on the Command center (in the grid card or the overdue list): its history and,
for an account with the ``dispatch`` right, the actions duty staff take on it — dispatch, set or extend
the deadline, escalate, verify, close (``core.dispatch``). Each action is a ticket event signed by the
signed-in account and audited; the map and counters show it on the next run."""

from __future__ import annotations

from datetime import datetime, time

import pandas as pd
import streamlit as st

from core import audit, dispatch, schema
from core.errors import GridWatchError
from dashboard import data, state
from dashboard.components import signin
from dashboard.components.text import md_text
from dashboard.i18n import show_error, t


def render(sel, ticket: pd.Series, worker: str | None) -> None:
    """History and actions of ``ticket`` (a row of the live tickets); ``worker`` is its grid's worker,
    the default target of a dispatch."""
    ticket_id = str(ticket[schema.TICKET_ID])
    st.subheader(t("dispatch.title", ticket=md_text(ticket_id)))
    st.caption(
        " · ".join(
            md_text(str(v))
            for v in (ticket[schema.CATEGORY], t(f"stage.{ticket[schema.STAGE]}"), ticket.get(schema.COMMUNITY))
            if isinstance(v, str) and v
        )
    )
    history = data.ticket_history(sel.workspace, ticket_id)
    if history.empty or history["stage"].iloc[0] != "received":  # a ticket from a file: no event of its arrival
        created = pd.DataFrame({"at": [ticket[schema.CREATED_AT]], "stage": ["received"], "by": [""], "note": [""]})
        history = created if history.empty else pd.concat([created, history[created.columns]], ignore_index=True)
    zone = data.workspace_timezone(sel.workspace)
    st.dataframe(
        pd.DataFrame(
            {
                t("dispatch.col.at"): pd.to_datetime(history["at"], utc=True)
                .dt.tz_convert(zone)
                .dt.strftime("%Y-%m-%d %H:%M"),
                t("dispatch.col.stage"): history["stage"].map(lambda s: t(f"stage.{s}")),
                t("dispatch.col.by"): history["by"].fillna(""),
                t("dispatch.col.note"): history["note"].fillna(""),
            }
        ),
        hide_index=True,
        width="stretch",
        key=state.CC_TICKET_HISTORY,
    )
    if signin.may("dispatch"):
        actions(sel, ticket, worker, zone)


def actions(sel, ticket: pd.Series, worker: str | None, zone: str) -> None:
    deadline = ticket[schema.DEADLINE_AT]
    with st.form(state.DISPATCH_FORM, clear_on_submit=True):
        action = st.radio(
            t("dispatch.action"),
            dispatch.ACTIONS,
            format_func=lambda a: t(f"dispatch.action.{a}"),
            horizontal=True,
            key=state.DISPATCH_ACTION,
        )
        to = st.text_input(t("dispatch.to"), value=worker or "", key=state.DISPATCH_TO, help=t("dispatch.to_help"))
        when = st.columns(2)
        day = when[0].date_input(
            t("dispatch.deadline"), value=deadline.date() if pd.notna(deadline) else None, key=state.DISPATCH_DATE
        )
        hour = when[1].time_input(
            t("dispatch.deadline_time"),
            value=deadline.time() if pd.notna(deadline) else time(18),
            key=state.DISPATCH_TIME,
        )
        reason = st.text_input(t("dispatch.reason"), key=state.DISPATCH_REASON, max_chars=200)
        submitted = st.form_submit_button(t("dispatch.submit"), type="primary")
    if not submitted:
        return
    try:
        account = signin.require("dispatch")  # checked again at the moment it acts
        new_deadline = pd.Timestamp(datetime.combine(day, hour), tz=zone) if day else None
        rows = dispatch.action_events(
            ticket,
            action,
            by=signin.author(account),
            at=pd.Timestamp.now(tz=zone),
            to=to,
            deadline=new_deadline,
            reason=reason,
        )
        data.record_action(sel.workspace, rows)
    except GridWatchError as exc:
        show_error(exc)
        return
    audit.record(
        "dispatch", account.username, workspace=sel.workspace, target=str(ticket[schema.TICKET_ID]), detail=action
    )
    st.session_state[state.FLASH] = t(
        "dispatch.done", ticket=str(ticket[schema.TICKET_ID]), action=t(f"dispatch.action.{action}")
    )
    st.rerun()
