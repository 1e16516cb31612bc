"""The shared sidebar: language, workspace and period, the same on every page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import streamlit as st

from dashboard import data, i18n, state
from dashboard.i18n import t

PRESETS = {"1d": 1, "7d": 7, "30d": 30, "90d": 90, "365d": 365, "custom": None}
DEFAULT_PRESET = "30d"


@dataclass(frozen=True)
class Selection:
    """What the sidebar selected; every page reads this."""

    workspace: str
    version: int
    first: date
    last: date
    as_of: date
    language: str


def language_picker() -> str:
    current = i18n.current_language()
    codes = list(i18n.LANGUAGES)
    chosen = st.sidebar.radio(
        "Language / 语言", codes, index=codes.index(current), horizontal=True,
        format_func=i18n.LANGUAGES.get, key="gw_language_widget",
    )
    st.session_state[state.LANGUAGE] = chosen
    return chosen


def workspace_picker() -> str:
    names = data.workspace_names()
    if st.session_state.get(state.WORKSPACE) not in names:
        st.session_state[state.WORKSPACE] = names[0]
    return st.sidebar.selectbox(t("sidebar.workspace"), names, key=state.WORKSPACE)


def period_picker(as_of: date) -> tuple[date, date]:
    """Whole days ending at the data's ``as_of`` date, or a custom range."""
    names = {code: t(f"period.{code}") for code in PRESETS}
    preset = st.sidebar.selectbox(
        t("sidebar.period"), list(PRESETS), index=list(PRESETS).index(DEFAULT_PRESET),
        format_func=names.__getitem__, key=state.PERIOD_PRESET,
    )
    days = PRESETS[preset]
    if days is not None:
        return as_of - timedelta(days=days - 1), as_of
    chosen = st.sidebar.date_input(t("sidebar.range"), value=(as_of - timedelta(days=29), as_of),
                                   max_value=as_of, key=state.PERIOD_RANGE)
    if isinstance(chosen, tuple) and len(chosen) == 2:
        return chosen
    st.sidebar.caption(t("sidebar.range_incomplete"))
    start = chosen[0] if isinstance(chosen, tuple) and chosen else as_of
    return start, start


def render_sidebar() -> Selection:
    st.sidebar.title("GridWatch")
    language = language_picker()
    name = workspace_picker()
    ver = data.version(name)
    latest = data.as_of(name, ver)
    as_of = latest.date() if latest is not None else date.today()
    first, last = period_picker(as_of)
    st.sidebar.caption(t("sidebar.as_of", date=as_of.isoformat(), version=ver))
    return Selection(name, ver, first, last, as_of, language)
