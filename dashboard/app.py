"""The frame: page config, sign-in, the shared sidebar, navigation. Run with ``gridwatch serve``
(``server.py`` serves it inside ``st.App`` with the Host check).

Nobody gets past ``signin.gate()`` without a session; the menu lists the pages the account's rights
allow, and each page checks its right again when it runs (``signin.page``).

A ``GridWatchError`` is shown in the reader's language (its message says what to do; a missing layer
also gets a link to the Data page); anything else is a bug: it is logged with its traceback on the
server and the reader sees a short notice, never the traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import streamlit as st

from core import geometry
from core.errors import GridWatchError, LayerNotFoundError
from dashboard import data, state
from dashboard.components import hints, signin
from dashboard.components.sidebar import render_sidebar
from dashboard.i18n import show_error, t
from dashboard.views import admin, command, coverage, hotspots, overview, patrols, performance

log = logging.getLogger("gridwatch")


def guarded(part: Callable[[], object], name: str) -> bool:
    """Run ``part``; show its failure to the reader and report whether it succeeded."""
    try:
        part()
        return True
    except LayerNotFoundError as exc:
        show_error(exc)
        hints.data_link()
    except GridWatchError as exc:
        show_error(exc)
    except Exception:
        log.exception("%s failed", name)
        st.error(t("error.unexpected"))
    return False


WALL_CSS = """<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"]
    {display: none !important;}
.block-container {padding: 0.6rem 1.4rem !important; max-width: 100% !important;}
html {font-size: 19px;}
[data-testid="stMetricValue"] {font-size: 2.6rem;}
</style>"""

st.set_page_config(page_title="GridWatch", page_icon="🗺️", layout="wide")
wall = st.query_params.get("wall") == "1"
if wall:
    st.html(WALL_CSS)

account = signin.gate()  # the sign-in form, until someone is signed in
if not guarded(lambda: st.session_state.update({state.SELECTION: render_sidebar()}), "sidebar"):
    st.stop()
signin.sign_out(account)

PAGES = (  # (render, the right it needs, st.Page options); the menu lists only what the account may open
    # The default page is served at / only; a hidden twin keeps the Overview's own address /overview working.
    (overview.render, None, dict(title=t("page.overview"), icon=":material/map:", url_path="home", default=True)),
    (
        overview.render,
        None,
        dict(title=t("page.overview"), icon=":material/map:", url_path="overview", visibility="hidden"),
    ),
    (command.render, "command", dict(title=t("page.command"), icon=":material/crisis_alert:", url_path="command")),
    (
        performance.render,
        "performance",
        dict(title=t("page.performance"), icon=":material/leaderboard:", url_path="performance"),
    ),
    (coverage.render, "coverage", dict(title=t("page.coverage"), icon=":material/videocam:", url_path="coverage")),
    (
        hotspots.render,
        "hotspots",
        dict(title=t("page.hotspots"), icon=":material/local_fire_department:", url_path="hotspots"),
    ),
    (patrols.render, "patrols", dict(title=t("page.patrols"), icon=":material/local_police:", url_path="patrols")),
)
ADMIN = (admin.render, "audit", dict(title=t("page.admin"), icon=":material/admin_panel_settings:", url_path="admin"))
pages = [signin.page(render, right, **options) for render, right, options in PAGES]
pages += [hints.data_page(), signin.page(ADMIN[0], ADMIN[1], **ADMIN[2])]
page = st.navigation(pages, position="hidden" if wall else "sidebar")
with geometry.measuring_in(data.workspace_metric_crs(st.session_state[state.SELECTION].workspace)):
    guarded(page.run, f"page {page.title}")
