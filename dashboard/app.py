"""The frame: page config, the shared sidebar, navigation. Run with ``gridwatch serve``.

A ``GridWatchError`` is shown as it is (its message says what to do); anything else is a bug: it is
logged with its traceback on the server and the reader sees a short notice, never the traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import streamlit as st

from core.errors import GridWatchError
from dashboard import state
from dashboard.components.sidebar import render_sidebar
from dashboard.components.text import md_text
from dashboard.i18n import t
from dashboard.views import data, overview

log = logging.getLogger("gridwatch")


def guarded(part: Callable[[], object], name: str) -> bool:
    """Run ``part``; show its failure to the reader and report whether it succeeded."""
    try:
        part()
        return True
    except GridWatchError as exc:
        st.error(md_text(exc))
    except Exception:
        log.exception("%s failed", name)
        st.error(t("error.unexpected"))
    return False


st.set_page_config(page_title="GridWatch", page_icon="🗺️", layout="wide")

if not guarded(lambda: st.session_state.update({state.SELECTION: render_sidebar()}), "sidebar"):
    st.stop()

page = st.navigation([
    st.Page(overview.render, title=t("page.overview"), icon=":material/map:", url_path="overview", default=True),
    st.Page(data.render, title=t("page.data"), icon=":material/database:", url_path="data"),
])
guarded(page.run, f"page {page.title}")
