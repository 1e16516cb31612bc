"""The dashboard as an ASGI app (``st.App``), what ``gridwatch serve`` runs with ``streamlit run``.

Around Streamlit it adds one guard: a request (page, WebSocket, anything) whose Host header is not one
of ``settings.allowed_hosts()`` is answered 400, so a page on another site cannot reach the dashboard
through a DNS name that it points at 127.0.0.1 (DNS rebinding: Streamlit alone accepts a WebSocket
whenever Origin equals Host, and answers ``GET /`` for any Host).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from core import settings

app = st.App(
    str(Path(__file__).with_name("app.py")),
    middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts())],
)
