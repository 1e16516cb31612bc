"""Overview: the district map (grids coloured by tickets in the period) and the headline figures."""

from __future__ import annotations

import streamlit as st

from core import schema
from dashboard import data, state
from dashboard.components import hints
from dashboard.components.map_view import show_map
from dashboard.i18n import t


def render() -> None:
    sel = st.session_state[state.SELECTION]
    st.title(t("overview.title"))
    st.caption(t("overview.caption", first=sel.first.isoformat(), last=sel.last.isoformat()))
    if hints.needs(sel, (schema.GRIDS.name,)):
        return
    hints.load_next(sel, (schema.TICKETS.name, schema.CAMERAS.name, schema.MEMBERS.name))
    figures, _ = data.overview(sel.workspace, sel.version, sel.first, sel.last)
    district_map, counts = data.overview_map(sel.workspace, sel.version, sel.first, sel.last, sel.language)

    row = st.columns([1, 1, 1.5, 1, 1, 1])
    row[0].metric(t("kpi.grids"), f"{figures.grids:,}")
    row[1].metric(t("kpi.communities"), f"{figures.communities:,}")
    row[2].metric(t("kpi.cameras_online"), f"{figures.cameras_online:,} / {figures.cameras_total:,}")
    row[3].metric(t("kpi.open_tickets"), f"{figures.open_tickets:,}")
    row[4].metric(t("kpi.overdue_tickets"), f"{figures.overdue_tickets:,}")
    row[5].metric(t("kpi.members"), f"{figures.members:,}")

    show_map(district_map, key=state.OVERVIEW_MAP, height=620, live=counts)
    notes = [t("overview.tickets_in_period", count=f"{figures.tickets_in_period:,}")]
    if figures.unassigned_tickets:
        notes.append(t("overview.unassigned", count=f"{figures.unassigned_tickets:,}"))
    st.caption(" · ".join(notes))
