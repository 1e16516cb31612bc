"""Caches of the Command center (views/command.py): its live map's base and payload, the grid card."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import streamlit as st

from core import command, hexes, live, metrics, privacy, schema
from core import events as ev
from dashboard.components import map_builders, map_view, maps
from dashboard.data import shared
from dashboard.i18n import translate


# ---- Command center ------------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=4)
def command_base(name: str, boundary_ver: int, lang: str) -> dict:
    """The static map's configuration: encoded boundaries and translated labels."""
    grids, communities = shared.display_boundaries(name, boundary_ver)
    return map_builders.base_config(grids, map_builders.command_outlines(grids, communities), command_labels(lang))


def command_labels(lang: str) -> dict:
    words = {
        key: translate(lang, f"command.map.{key}")
        for key in ("cameras", "down", "services", "open", "overdue", "tickets", "members", "checkins")
    }
    layers = {
        f"layer.{group}": translate(lang, f"command.layer.{group}")
        for group in (
            "grids",
            "communities",
            "streets",
            "density",
            "cameras",
            "views",
            "services",
            "tickets",
            "checkins",
        )
    }
    return (
        words
        | layers
        | {
            "status": {s: translate(lang, f"camera_status.{s}") for s in schema.CAMERA_STATUSES},
            "service_kinds": {
                k: (translate(lang, f"service_kind.{k}"), translate(lang, f"command.symbol.{k}"))
                for k in schema.SERVICE_KINDS
            },
        }
    )


def command_map(name: str, ver: int, lang: str) -> map_view.PreparedMap:
    """The Command center's base map, rendered once per boundary version and language."""
    return _prepared_command_map(name, shared.boundary_version(name, ver), lang)


@st.cache_resource(show_spinner=False, max_entries=4)
def _prepared_command_map(name: str, boundary_ver: int, lang: str) -> map_view.PreparedMap:
    return map_view.prepare_map(maps.live_base_map(command_base(name, boundary_ver, lang)))


@st.cache_data(show_spinner=False, max_entries=16)
def command_state(
    name: str, ver: int, mark: int, first: date, last: date, flt: command.TicketFilter
) -> tuple[pd.DataFrame, command.Counters, pd.DataFrame]:
    """Per-grid measures, the counters and the overdue list for the filter."""
    period = metrics.Period.from_dates(first, last, shared.workspace_timezone(name))
    clock = shared.live_as_of(name, ver, mark) or period.end
    tickets = flt.apply(shared.live_joined(name, ver, mark, schema.TICKETS.name))
    measures = command.grid_measures(
        shared.layer(name, ver, schema.GRIDS.name),
        tickets,
        shared.joined(name, ver, schema.MEMBERS.name),
        period,
        clock,
    )
    counters = command.counters(
        tickets,
        shared.live_joined(name, ver, mark, schema.CAMERAS.name),
        shared.layer(name, ver, schema.PATROL_TEAMS.name),
        shared.live_joined(name, ver, mark, schema.PATROL_CHECKINS.name),
        clock,
    )
    return measures, counters, command.overdue_list(tickets, clock)


@st.cache_data(show_spinner=False, max_entries=16)
def command_density(name: str, ver: int, mark: int, first: date, last: date, flt: command.TicketFilter) -> dict:
    """H3 hexagons of the tickets created in the period."""
    period = metrics.Period.from_dates(first, last, shared.workspace_timezone(name))
    tickets = flt.apply(shared.live_joined(name, ver, mark, schema.TICKETS.name))
    flow = tickets[period.contains(tickets[schema.CREATED_AT]) & metrics.registered_mask(tickets)]
    resolution = hexes.hex_resolution_for(tuple(shared.layer(name, ver, schema.GRIDS.name).total_bounds))
    counts = hexes.hex_counts(flow, resolution)
    return map_builders.density_payload(hexes.hex_boundaries(counts.index), counts)


MEASURE_KINDS = {"open": "count", "overdue": "count", "per_1000": "ratio", "on_time_rate": "rate", "members": "count"}


@st.cache_data(show_spinner=False, max_entries=4)
def command_assets(name: str, ver: int, mark: int) -> dict:
    """Cameras, service points and tonight's sign-ins as the map draws them (no filter changes them)."""
    clock = shared.live_as_of(name, ver, mark) or pd.Timestamp.now(tz=shared.workspace_timezone(name))
    return map_builders.asset_payload(
        shared.live_joined(name, ver, mark, schema.CAMERAS.name),
        shared.layer(name, ver, schema.SERVICE_POINTS.name),
        command.tonight_checkins(
            shared.live_joined(name, ver, mark, schema.PATROL_CHECKINS.name),
            shared.layer(name, ver, schema.PATROL_TEAMS.name),
            clock,
        ),
    )


@st.cache_data(show_spinner=False, max_entries=16)
def command_tickets(
    name: str,
    ver: int,
    mark: int,
    first: date,
    last: date,
    flt: command.TicketFilter,
    measure: str,
    lang: str,
    since: int,
) -> dict:
    """Grid colours for ``measure`` and the open-ticket markers for this filter; tickets that arrived
    after event ``since`` are marked new."""
    measures, _, _ = command_state(name, ver, mark, first, last, flt)
    grids, _ = shared.display_boundaries(name, shared.boundary_version(name, ver))
    clock = (
        shared.live_as_of(name, ver, mark)
        or metrics.Period.from_dates(first, last, shared.workspace_timezone(name)).end
    )
    tickets = flt.apply(shared.live_joined(name, ver, mark, schema.TICKETS.name))
    open_now = tickets[metrics.open_mask(tickets)]
    arrived = open_now[live.EVENT_SEQ].fillna(0) if live.EVENT_SEQ in open_now else pd.Series(0, index=open_now.index)
    open_now = open_now.assign(overdue=metrics.overdue_mask(open_now, clock), new=arrived > since)
    labels = {
        "measure": translate(lang, f"command.measure.{measure}"),
        "deadline": translate(lang, "command.deadline"),
        "stage": {s: translate(lang, f"stage.{s}") for s in schema.TICKET_STAGES},
    }
    return map_builders.ticket_payload(
        grids[schema.GRID_ID], measures, measure, MEASURE_KINDS[measure], open_tickets=open_now, labels=labels
    )


def command_payload(
    name: str,
    ver: int,
    mark: int,
    since: int,
    first: date,
    last: date,
    flt: command.TicketFilter,
    measure: str,
    lang: str,
    focus: tuple[float, float] | None,
    selected: str | None,
) -> dict:
    """Everything the live layers draw for this selection (from the cached parts above)."""
    grids, _ = shared.display_boundaries(name, shared.boundary_version(name, ver))
    return map_builders.live_payload(
        grids[schema.GRID_ID],
        command_tickets(name, ver, mark, first, last, flt, measure, lang, since),
        command_assets(name, ver, mark),
        command_density(name, ver, mark, first, last, flt),
        focus=focus,
        selected=selected,
    )


@st.cache_data(show_spinner=False, max_entries=32)
def grid_card(name: str, ver: int, mark: int, grid_id: str) -> command.GridCard:
    return command.grid_card(
        grid_id,
        shared.layer(name, ver, schema.GRIDS.name),
        shared.live_joined(name, ver, mark, schema.TICKETS.name),
        shared.live_joined(name, ver, mark, schema.CAMERAS.name),
        shared.live_joined(name, ver, mark, schema.PATROL_CHECKINS.name),
        shared.layer(name, ver, schema.PATROL_TEAMS.name),
        shared.joined(name, ver, schema.MEMBERS.name),
        shared.live_as_of(name, ver, mark) or pd.Timestamp.now(tz=shared.workspace_timezone(name)),
    )


def grid_at(name: str, ver: int, lon: float, lat: float) -> str | None:
    """The grid under a map click (None outside every grid)."""
    position = shared.grid_index(name, ver).assign(np.array([lon]), np.array([lat]))[0]
    return None if position < 0 else str(shared.layer(name, ver, schema.GRIDS.name)[schema.GRID_ID].iloc[position])


@st.cache_data(show_spinner=False, max_entries=8)
def ticket_choices(name: str, ver: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Categories and communities present, for the filters."""
    grids = shared.layer(name, ver, schema.GRIDS.name)
    categories = ()
    if schema.TICKETS.name in shared.workspace(name).layers(ver):
        categories = tuple(sorted(shared.joined(name, ver, schema.TICKETS.name)[schema.CATEGORY].dropna().unique()))
    return categories, tuple(sorted(grids[schema.COMMUNITY].dropna().unique()))


def ticket(name: str, ver: int, mark: int, ticket_id: str) -> pd.Series | None:
    """Ticket ``ticket_id`` as it stands at ``mark`` (None when it is not in the view: another scope,
    or gone)."""
    tickets = shared.live_joined(name, ver, mark, schema.TICKETS.name)
    rows = tickets[tickets[schema.TICKET_ID] == ticket_id]
    return None if rows.empty else rows.iloc[0]


def ticket_history(name: str, ticket_id: str) -> pd.DataFrame:
    """The recorded events of one ticket, oldest first (``core.events.ticket_history``), free text
    masked."""
    events = shared.workspace(name).events(kinds=(ev.TICKET, ev.STAGE), refs=[ticket_id])
    history = ev.ticket_history(events, ticket_id)
    return history.assign(by=history["by"].map(privacy.mask_text), note=history["note"].map(privacy.mask_text))


def record_action(name: str, rows: list[dict]) -> int:
    """Store the events of an action on a ticket; the new event mark."""
    return shared.workspace(name).append_events(rows).mark
