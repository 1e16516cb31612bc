"""The dashboard as an ASGI app (``st.App``), what ``gridwatch serve`` runs with ``streamlit run``.

Around Streamlit it adds one guard: a request (page, WebSocket, anything) whose Host header is not one
of ``settings.allowed_hosts()`` is answered 400, so a page on another site cannot reach the dashboard
through a DNS name that it points at 127.0.0.1 (DNS rebinding: Streamlit alone accepts a WebSocket
whenever Origin equals Host, and answers ``GET /`` for any Host).

When the server starts, a background thread imports the pages and loads the data every page starts
from (``dashboard.data.shared.warm``), so the first visitor after a restart does not wait for it.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import threading
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from core import settings

PAGES = ("admin", "command", "coverage", "hotspots", "overview", "patrols", "performance")


def _warm() -> None:
    try:
        importlib.import_module("dashboard.components.sidebar")  # what app.py imports: every page
        for page in PAGES:
            importlib.import_module(f"dashboard.views.{page}")
        from dashboard.data import shared

        shared.warm()
    except Exception:  # the pages load it themselves then, and show what went wrong
        logging.getLogger("gridwatch").warning("warming the caches failed", exc_info=True)


@contextlib.asynccontextmanager
async def _lifespan(_app: st.App):
    threading.Thread(target=_warm, name="gridwatch-warm", daemon=True).start()
    yield None


app = st.App(
    str(Path(__file__).with_name("app.py")),
    lifespan=_lifespan,
    middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts())],
)
