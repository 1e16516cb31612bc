"""Command center: the live map duty staff watch all shift, the counters, the overdue list and the card
of the grid they click.

The map is drawn once per boundary version; live data is swapped into it (``components.maps``), so
neither a filter change nor a refresh reloads it or loses its zoom. Only clicks come back from the map.
A fragment checks the store every ``GRIDWATCH_REFRESH_SECONDS`` and reruns the page when the workspace
version or its event mark changed (tickets, stages, sign-ins or camera status arrived through the
intake API); tickets that arrived since the page was opened are ringed on the map. A ticket picked in the grid card
or the overdue list shows its history and, for duty staff, the actions on it
(``components.ticket_actions``). ``?wall=1`` is the wall-screen mode (``app.py`` hides the sidebar).
"""

from __future__ import annotations

import streamlit as st

from core import command, schema, settings
from dashboard import data, state
from dashboard.components import grid_panel, hints, ticket_actions
from dashboard.components.filters import ticket_filter
from dashboard.components.map_view import show_prepared_map
from dashboard.components.maps import live_script
from dashboard.i18n import t

FOCUS_ZOOM = 17
LIVE_LAYERS = (
    schema.TICKETS.name,
    schema.CAMERAS.name,
    schema.MEMBERS.name,
    schema.SERVICE_POINTS.name,
    schema.PATROL_TEAMS.name,
    schema.PATROL_CHECKINS.name,
)
"""The layers the command center draws or counts besides the grids, most useful first."""


def render() -> None:
    sel = st.session_state[state.SELECTION]
    wall = st.query_params.get("wall") == "1"
    head, mode = st.columns([5, 1], vertical_alignment="bottom")
    head.title(t("command.title"))
    if mode.toggle(t("command.wall"), value=wall, key=state.WALL_TOGGLE) != wall:
        if wall:
            del st.query_params["wall"]
        else:
            st.query_params["wall"] = "1"
        st.rerun()
    st.caption(
        t(
            "command.caption",
            as_of=sel.as_of.isoformat(),
            version=sel.version,
            seconds=f"{settings.refresh_seconds():g}",
        )
    )
    if state.FLASH in st.session_state:
        st.success(st.session_state.pop(state.FLASH))
    since = opened_at(sel)
    if hints.needs(sel, (schema.GRIDS.name,)):
        return
    hints.load_next(sel, LIVE_LAYERS)
    flt, measure = filters(sel)
    _, counters, overdue = data.command_state(sel.workspace, sel.version, sel.mark, sel.first, sel.last, flt)
    grid_panel.counter_row(counters)

    focus = st.session_state.get(state.FOCUS)
    grid_id = st.session_state.get(state.SELECTED_GRID)
    map_side, panel_side = st.columns([3, 1.25])
    with map_side:
        payload = data.command_payload(
            sel.workspace, sel.version, sel.mark, since, sel.first, sel.last, flt, measure, sel.language, focus, grid_id
        )
        clicked = show_prepared_map(
            data.command_map(sel.workspace, sel.version, sel.language),
            key=state.COMMAND_MAP,
            height=760 if wall else 620,
            returned_objects=["last_clicked"],
            live=live_script(payload),
            center=focus,
            zoom=FOCUS_ZOOM if focus else None,
        )
        select_clicked_grid(sel, clicked.get("last_clicked"))
    with panel_side:
        card = selected_card(sel, grid_id)
        if card is None:
            st.info(t("command.click_hint"))
        else:
            grid_panel.render(card, sel)
    overdue_section(sel, overdue)
    selected_ticket(sel)
    watch_for_new_data(sel.workspace, (sel.version, sel.mark))


def filters(sel) -> tuple[command.TicketFilter, str]:
    cols = st.columns([1.2, 1.3, 1, 1, 1.3])
    measure = cols[0].selectbox(
        t("command.colour_by"), command.MEASURES, key=state.CC_MEASURE, format_func=lambda m: t(f"command.measure.{m}")
    )
    return ticket_filter(sel, state.CC_FILTER, cols[1:]), measure


def select_clicked_grid(sel, click: dict | None) -> None:
    """A new click on the map selects the grid under it (a click outside every grid clears it)."""
    if not click or click == st.session_state.get(state.LAST_MAP_CLICK):
        return
    st.session_state[state.LAST_MAP_CLICK] = click
    st.session_state[state.SELECTED_GRID] = data.grid_at(sel.workspace, sel.version, click["lng"], click["lat"])
    st.rerun()


def selected_card(sel, grid_id: str | None) -> command.GridCard | None:
    """The clicked grid's card; None when nothing is selected or the grid is gone from the boundaries."""
    if not grid_id:
        return None
    try:
        return data.grid_card(sel.workspace, sel.version, sel.mark, grid_id)
    except KeyError as exc:
        if exc.args != (grid_id,):  # core.command.grid_card's "no such grid"; any other KeyError is a bug
            raise
        st.session_state[state.SELECTED_GRID] = None
        return None


def overdue_section(sel, overdue) -> None:
    st.subheader(t("command.overdue_title", count=f"{len(overdue):,}"))
    if overdue.empty:
        st.caption(t("command.no_overdue"))
        return
    event = st.dataframe(
        grid_panel.overdue_table(overdue),
        key=state.CC_OVERDUE,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        height=320,
        width="stretch",
    )
    rows = event.selection.rows
    if rows:
        ticket = overdue.iloc[rows[0]]
        st.session_state[state.SELECTED_TICKET] = str(ticket[schema.TICKET_ID])
        focus = (float(ticket.geometry.y), float(ticket.geometry.x))
        if st.session_state.get(state.FOCUS) != focus:
            st.session_state[state.FOCUS] = focus
            st.session_state[state.SELECTED_GRID] = ticket[schema.GRID_ID] if ticket[schema.ASSIGNED] else None
            st.rerun()


def opened_at(sel) -> int:
    """The event mark when this session opened the command center on this version: what arrived later
    is new. A new version (a file stored) starts the count again."""
    opened = st.session_state.get(state.CC_SINCE)
    if opened is None or opened[:2] != (sel.workspace, sel.version) or opened[2] > sel.mark:
        opened = (sel.workspace, sel.version, sel.mark)
        st.session_state[state.CC_SINCE] = opened
    return opened[2]


def selected_ticket(sel) -> None:
    """The history and actions of the ticket picked in the grid card or the overdue list."""
    ticket_id = st.session_state.get(state.SELECTED_TICKET)
    ticket = data.ticket(sel.workspace, sel.version, sel.mark, ticket_id) if ticket_id else None
    if ticket is None:
        return
    grids = data.layer(sel.workspace, sel.version, schema.GRIDS.name)
    worker = grids.loc[grids[schema.GRID_ID] == ticket[schema.GRID_ID], schema.WORKER]
    ticket_actions.render(sel, ticket, str(worker.iloc[0]) if len(worker) and isinstance(worker.iloc[0], str) else None)


def watch_for_new_data(name: str, shown: tuple[int, int]) -> None:
    @st.fragment(run_every=settings.refresh_seconds())
    def check() -> None:
        if (data.version(name), data.event_mark(name)) != shown:
            st.rerun(scope="app")

    check()
