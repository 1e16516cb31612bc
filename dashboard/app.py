"""The frame: page config, the shared sidebar, navigation. Run with ``gridwatch serve``."""

from __future__ import annotations

import streamlit as st

from core.errors import GridWatchError
from dashboard import state
from dashboard.components.sidebar import render_sidebar
from dashboard.i18n import t
from dashboard.views import overview

st.set_page_config(page_title="GridWatch", page_icon="🗺️", layout="wide")

try:
    st.session_state[state.SELECTION] = render_sidebar()
except GridWatchError as exc:
    st.error(str(exc))
    st.stop()

page = st.navigation([
    st.Page(overview.render, title=t("page.overview"), icon="🗺️", url_path="overview", default=True),
])
page.run()
