"""Parts of the command center: its counters, the side panel for one grid and the overdue table (text
from files shown as text)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import audit, schema
from core.command import Counters, GridCard
from dashboard import data, state
from dashboard.components import signin
from dashboard.components.text import md_text
from dashboard.i18n import t


def _when(value: pd.Timestamp | None) -> str:
    return "–" if value is None or pd.isna(value) else value.strftime("%Y-%m-%d %H:%M")


def render(card: GridCard, sel=None) -> None:
    st.subheader(md_text(card.name or card.grid_id))
    st.caption(" · ".join(md_text(v) for v in (card.grid_id, card.community, card.street) if v))
    people = st.columns(2)
    people[0].markdown(f"**{t('command.leader')}**  \n{md_text(card.leader or '–')}")
    people[1].markdown(
        f"**{t('command.worker')}**  \n{md_text(card.worker or '–')}  \n{md_text(card.worker_phone or '')}"
    )
    if sel is not None and card.worker_phone and signin.may("contact"):
        reveal_phone(sel, card)
    figures = st.columns(2)
    figures[0].metric(t("command.households"), "–" if card.households is None else f"{card.households:,}")
    figures[1].metric(t("command.population"), "–" if card.population is None else f"{card.population:,}")
    figures = st.columns(2)
    figures[0].metric(t("kpi.open_tickets"), f"{len(card.open_tickets):,}")
    figures[1].metric(t("kpi.overdue_tickets"), f"{card.overdue:,}")
    figures = st.columns(2)
    figures[0].metric(t("command.cameras_online"), f"{card.cameras_online:,} / {card.cameras_total:,}")
    figures[1].metric(
        t("command.members"),
        f"{card.members:,}",
        help=t("command.linked_households", count=f"{card.linked_households:,}"),
    )
    last = (
        t("command.last_checkin_none")
        if card.last_checkin_at is None
        else t("command.last_checkin_at", when=_when(card.last_checkin_at), team=md_text(card.last_checkin_team))
    )
    st.markdown(f"**{t('command.last_checkin')}**  \n{last}")
    if card.open_tickets.empty:
        st.caption(t("command.no_open"))
        return
    tickets = card.open_tickets
    picked = st.dataframe(
        pd.DataFrame(
            {
                t("command.col.created"): tickets[schema.CREATED_AT].map(_when),
                t("command.col.category"): tickets[schema.CATEGORY],
                t("command.col.description"): tickets[schema.DESCRIPTION],
                t("command.col.stage"): tickets[schema.STAGE].map(lambda s: t(f"stage.{s}")),
                t("command.col.overdue"): tickets["overdue"].map({True: "⚠", False: ""}),
                t("command.col.ticket"): tickets[schema.TICKET_ID],
            }
        ),
        hide_index=True,
        width="stretch",
        key=state.CC_GRID_TICKETS,
        on_select="rerun",
        selection_mode="single-row",
    )
    if picked.selection.rows:  # its history and actions below the overdue list
        st.session_state[state.SELECTED_TICKET] = str(tickets[schema.TICKET_ID].iloc[picked.selection.rows[0]])


def reveal_phone(sel, card: GridCard) -> None:
    """The worker's full number, for an account with the contact right, after an explicit click that
    is audited (``unmask``); shown for this run only."""
    if st.button(t("command.reveal_phone"), key=state.key_of(state.REVEAL_PHONE, card.grid_id)):
        account = signin.require("contact")
        grids = data.layer(sel.workspace, sel.version, schema.GRIDS.name)
        phone = grids.loc[grids[schema.GRID_ID] == card.grid_id, schema.WORKER_PHONE]
        if len(phone) and isinstance(phone.iloc[0], str):
            audit.record("unmask", account.username, workspace=sel.workspace, target=f"{card.grid_id} worker_phone")
            st.info(t("command.phone_revealed", phone=md_text(phone.iloc[0])))


def overdue_table(overdue: pd.DataFrame) -> pd.DataFrame:
    """The overdue list as shown: most late first, translated headings."""
    return pd.DataFrame(
        {
            t("command.col.ticket"): overdue[schema.TICKET_ID],
            t("command.col.days_late"): (overdue["hours_late"] / 24).round(1),
            t("command.col.category"): overdue[schema.CATEGORY],
            t("command.col.description"): overdue[schema.DESCRIPTION],
            t("command.col.community"): overdue[schema.COMMUNITY].fillna(t("command.outside")),
            t("command.col.stage"): overdue[schema.STAGE].map(lambda s: t(f"stage.{s}")),
            t("command.col.deadline"): overdue[schema.DEADLINE_AT].map(_when),
        }
    )


def counter_row(c: Counters) -> None:
    row = st.columns(5)
    row[0].metric(
        t("command.new_today"),
        f"{c.new_today:,}",
        delta=f"{c.new_change:+,}",
        delta_color="off",
        help=t("command.new_today_help"),
    )
    row[1].metric(t("kpi.open_tickets"), f"{c.open:,}")
    row[2].metric(t("kpi.overdue_tickets"), f"{c.overdue:,}")
    row[3].metric(t("command.cameras_down"), f"{c.cameras_down:,} / {c.cameras_total:,}")
    row[4].metric(t("command.teams_tonight"), f"{c.teams_signed_in:,} / {c.teams_total:,}")
