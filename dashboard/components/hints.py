"""What a page says on a partial workspace: which layer is missing, which to load next, and a link to
the Data page (the one place layers are loaded). Every page uses these; none words its own.

``core`` never names a place in the interface; ``data_link`` is how the dashboard adds one.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from dashboard import data
from dashboard.i18n import t

DATA_URL_PATH = "data"


def data_page() -> st.Page:
    """The Data page as ``app.py`` registers it (a link to it must name the same page)."""
    from dashboard.components import signin
    from dashboard.views import data as data_view

    return signin.page(
        data_view.render, "data", title=t("page.data"), icon=":material/database:", url_path=DATA_URL_PATH
    )


def data_link(box=None) -> None:
    """A link to the Data page (for an account that may open it)."""
    from dashboard.components import signin

    if signin.may("data"):
        (box or st).page_link(data_page(), label=t("hint.open_data"), icon=":material/database:")


def layer_names(layers: Sequence[str]) -> str:
    return t("hint.separator").join(t(f"layer.{name}") for name in layers)


def needs(sel, layers: Sequence[str]) -> bool:
    """Say that this page cannot work without ``layers`` if the workspace lacks any of them (with a link
    to the Data page); whether one is missing, so the page can stop."""
    lacking = data.missing(sel.workspace, sel.version, tuple(layers))
    if lacking:
        st.info(t("hint.needs", layers=layer_names(lacking), first=t(f"layer.{lacking[0]}")))
        data_link()
    return bool(lacking)


def load_next(sel, layers: Sequence[str], box=None) -> tuple[str, ...]:
    """Of ``layers`` (most useful first), name those the workspace lacks, the one to load next, and link
    to the Data page; the page shows zeros for them. Returns the missing ones."""
    lacking = data.missing(sel.workspace, sel.version, tuple(layers))
    if lacking:
        box = box or st
        box.info(t("hint.load_next", layers=layer_names(lacking), first=t(f"layer.{lacking[0]}")))
        data_link(box)
    return lacking
