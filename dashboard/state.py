"""Session-state keys, in one place (pages never use raw string keys)."""

from collections.abc import Callable

import streamlit as st

LANGUAGE = "gw_language"
WORKSPACE = "gw_workspace"
NEW_WORKSPACE = "gw_new_workspace"  # a workspace just made or left: selected on the next run
WORKSPACE_FLASH = "gw_workspace_flash"
PERIOD_PRESET = "gw_period_preset"
PERIOD_RANGE = "gw_period_range"
SELECTION = "gw_selection"
AUTHOR = "gw_author"
AUTHOR_INPUT = "gw_author_input"
FLASH = "gw_flash"
UPLOAD_NONCE = "gw_upload_nonce"
UPLOAD_DIGEST = "gw_upload_digest"
SELECTED_GRID = "gw_selected_grid"
LAST_MAP_CLICK = "gw_last_map_click"
FOCUS = "gw_focus"
PROPOSAL = "gw_patrol_proposal"
SITING = "gw_siting_run"


def kept(key: str, widget_key: str, default: object) -> Callable[[], None]:
    """Keep a widget's value under ``key``, which outlives the widget: Streamlit forgets a widget's state
    when a run does not draw it (another page) or when its options are new (a selectbox stores the
    *translated* option, so a language switch loses the choice). Call before drawing the widget (keyed
    ``widget_key``) and pass the result as its ``on_change``."""
    st.session_state[widget_key] = st.session_state.get(key, default)
    return lambda: st.session_state.update({key: st.session_state[widget_key]})
