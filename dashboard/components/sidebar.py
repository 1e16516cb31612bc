"""The shared sidebar: language, workspace (new, delete) and period, the same on every page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
import streamlit as st

from core import audit, workspaces
from core.errors import GridWatchError
from dashboard import data, i18n, state
from dashboard.components import signin
from dashboard.i18n import show_error, t

PRESETS = {"1d": 1, "7d": 7, "30d": 30, "90d": 90, "365d": 365, "custom": None}
DEFAULT_PRESET = "30d"
COMMON_ZONES = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Urumqi",
    "Asia/Tokyo",
    "Asia/Singapore",
    "Asia/Kolkata",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Moscow",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Africa/Nairobi",
    "Australia/Sydney",
    "UTC",
)


@dataclass(frozen=True)
class Selection:
    """What the sidebar selected; every page reads this."""

    workspace: str
    """The workspace as the signed-in account sees it (``data.scoped``): the name every loader takes."""
    version: int
    first: date
    last: date
    as_of: date
    language: str
    mark: int = 0
    """The event mark: events (``core.events``) up to it are shown."""


def language_picker() -> str:
    current = i18n.current_language()
    codes = list(i18n.LANGUAGES)
    chosen = st.sidebar.radio(
        "Language / 语言",
        codes,
        index=codes.index(current),
        horizontal=True,
        format_func=i18n.LANGUAGES.get,
        key=state.LANGUAGE_WIDGET,
    )
    st.session_state[state.LANGUAGE] = chosen
    return chosen


def workspace_picker() -> str:
    names = data.workspace_names()  # read each run: a workspace made by the CLI shows up at once
    if state.NEW_WORKSPACE in st.session_state:
        st.session_state[state.WORKSPACE] = st.session_state.pop(state.NEW_WORKSPACE)
    if st.session_state.get(state.WORKSPACE) not in names:
        st.session_state[state.WORKSPACE] = names[0]
    return st.sidebar.selectbox(t("sidebar.workspace"), names, key=state.WORKSPACE)


def new_workspace() -> None:
    """The "New workspace" form: name, time zone, metric CRS, start from the demo; selects it when made."""
    with st.sidebar.expander(t("sidebar.ws_new")), st.form(state.NEW_WORKSPACE_FORM, border=False):
        name = st.text_input(t("sidebar.ws_name"), help=t("sidebar.ws_name_help"), key=state.NEW_WORKSPACE_NAME)
        zone = st.selectbox(
            t("sidebar.ws_timezone"),
            COMMON_ZONES,
            index=0,
            accept_new_options=True,
            help=t("sidebar.ws_timezone_help"),
            key=state.NEW_WORKSPACE_ZONE,
        )
        crs = st.text_input(
            t("sidebar.ws_metric_crs"),
            value=workspaces.AUTO,
            help=t("sidebar.ws_metric_crs_help"),
            key=state.NEW_WORKSPACE_CRS,
        )
        from_demo = st.checkbox(t("sidebar.ws_from_demo"), key=state.NEW_WORKSPACE_DEMO)
        if not st.form_submit_button(t("sidebar.ws_create"), type="primary"):
            return
        name = name.strip()
        try:
            account = signin.require("workspaces")
            data.create_workspace(name, workspaces.Profile(zone or "", crs), from_demo=from_demo)
        except GridWatchError as exc:  # a bad name or zone, or another writer holds the data directory
            show_error(exc)
            return
        audit.record("workspace_changed", account.username, workspace=name, detail="created")
    st.session_state[state.NEW_WORKSPACE] = name
    st.session_state[state.WORKSPACE_FLASH] = t("sidebar.ws_created", name=name)
    st.rerun()


def delete_workspace(name: str, names: list[str]) -> None:
    """ "Delete workspace": only after its name is typed again; never the last one (the demo would
    come back in its place)."""
    with st.sidebar.expander(t("sidebar.ws_delete")):
        if len(names) < 2:
            st.caption(t("sidebar.ws_delete_last"))
            return
        st.caption(t("sidebar.ws_delete_warning", name=name))
        typed = st.text_input(t("sidebar.ws_delete_confirm", name=name), key=state.key_of(state.DELETE_WORKSPACE, name))
        if st.button(
            t("sidebar.ws_delete_button", name=name), disabled=typed.strip() != name, key=state.DELETE_WORKSPACE
        ):
            try:
                account = signin.require("workspaces")
                data.delete_workspace(name)
            except GridWatchError as exc:
                show_error(exc)
                return
            audit.record("workspace_changed", account.username, workspace=name, detail="deleted")
            st.session_state[state.NEW_WORKSPACE] = next(n for n in names if n != name)
            st.session_state[state.WORKSPACE_FLASH] = t("sidebar.ws_deleted", name=name)
            st.rerun()


def period_picker(as_of: date) -> tuple[date, date]:
    """Whole days ending at the data's ``as_of`` date, or a custom range. The choice survives a language
    switch (``state.kept``)."""
    names = {code: t(f"period.{code}") for code in PRESETS}
    widget_key = state.key_of(state.PERIOD_PRESET, i18n.current_language())
    keep = state.kept(state.PERIOD_PRESET, widget_key, DEFAULT_PRESET)
    preset = st.sidebar.selectbox(
        t("sidebar.period"), list(PRESETS), format_func=names.__getitem__, key=widget_key, on_change=keep
    )
    days = PRESETS[preset]
    if days is not None:
        return as_of - timedelta(days=days - 1), as_of
    chosen = st.sidebar.date_input(
        t("sidebar.range"), value=(as_of - timedelta(days=29), as_of), max_value=as_of, key=state.PERIOD_RANGE
    )
    if isinstance(chosen, tuple) and len(chosen) == 2:
        return chosen
    st.sidebar.caption(t("sidebar.range_incomplete"))
    start = chosen[0] if isinstance(chosen, tuple) and chosen else as_of
    return start, start


def render_sidebar() -> Selection:
    st.sidebar.title("GridWatch")
    language = language_picker()
    name = workspace_picker()
    if state.WORKSPACE_FLASH in st.session_state:
        st.sidebar.success(st.session_state.pop(state.WORKSPACE_FLASH))
    if signin.may("workspaces"):
        new_workspace()
    ver, mark = data.version(name), data.event_mark(name)
    latest = data.live_as_of(name, ver, mark)
    zone = data.workspace_timezone(name)
    as_of = latest.date() if latest is not None else pd.Timestamp.now(tz=zone).date()
    first, last = period_picker(as_of)
    st.sidebar.caption(
        t(
            "sidebar.as_of" if latest is not None else "sidebar.as_of_today",
            date=as_of.isoformat(),
            version=ver,
            zone=zone,
        )
    )
    if signin.may("workspaces"):
        delete_workspace(name, data.workspace_names())
    account = st.session_state.get(state.ACCOUNT)
    view = data.scoped(name, account.scope) if account is not None else name  # what every page reads
    return Selection(view, ver, first, last, as_of, language, mark)
