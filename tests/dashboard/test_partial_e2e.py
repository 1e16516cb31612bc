"""Every page on partial workspaces — only grids, and everything but party members (and patrol data) —
in English and Chinese: each shows what it can, names the layer to load next with a link to the Data
page, and never fails. Headless (streamlit.testing) for the whole matrix; one real browser follows the
link."""

from __future__ import annotations

import pytest
import streamlit as st
from signed import sign_in
from streamlit.testing.v1 import AppTest

from core import schema, store
from dashboard import i18n, state
from geodata import load_demo

PAGES = ("overview", "command", "performance", "coverage", "hotspots", "patrols", "data")
WORKSPACES = {
    "grids-only": (schema.GRIDS.name,),
    "no-members": (schema.GRIDS.name, schema.TICKETS.name, schema.CAMERAS.name, schema.SERVICE_POINTS.name),
}
# What each page says on each workspace: ("next", layer) = shows what it can and names the layer to load
# next; ("needs", layer) = cannot work without the layer; None = nothing missing that it uses.
EXPECTED = {
    "grids-only": {
        "overview": ("next", "tickets"),
        "command": ("next", "tickets"),
        "performance": ("needs", "tickets"),
        "coverage": ("next", "cameras"),
        "hotspots": ("needs", "tickets"),
        "patrols": ("needs", "patrol_teams"),
        "data": None,
    },
    "no-members": {
        "overview": ("next", "members"),
        "command": ("next", "members"),
        "performance": None,
        "coverage": ("next", "members"),
        "hotspots": None,
        "patrols": ("needs", "patrol_teams"),
        "data": None,
    },
}


@pytest.fixture(scope="module", autouse=True)
def home(tmp_path_factory):
    path = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("GRIDWATCH_HOME", str(path))
    layers = load_demo()
    for name, held in WORKSPACES.items():
        store.open_store(name, home=path).write_layers({k: layers[k] for k in held}, note="partial")
    clear_caches()
    yield path
    mp.undo()
    clear_caches()


def clear_caches() -> None:
    """Workspaces are cached by name, and another module's home holds others."""
    st.cache_data.clear()
    st.cache_resource.clear()


def one_page():
    """The sidebar and one page (``st.session_state["page"]``), as app.py runs them (unguarded, so any
    failure is an exception the test sees)."""
    import streamlit as st

    from dashboard import state
    from dashboard.components.sidebar import render_sidebar
    from dashboard.views import command, coverage, data, hotspots, overview, patrols, performance

    views = {
        "overview": overview,
        "command": command,
        "performance": performance,
        "coverage": coverage,
        "hotspots": hotspots,
        "patrols": patrols,
        "data": data,
    }
    st.session_state[state.SELECTION] = render_sidebar()
    views[st.session_state["page"]].render()


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("workspace", list(WORKSPACES))
@pytest.mark.parametrize("page", PAGES)
def test_every_page_on_a_partial_workspace(page, workspace, lang):
    at = AppTest.from_function(one_page, default_timeout=180)
    at.session_state[state.LANGUAGE] = lang
    at.session_state[state.WORKSPACE] = workspace
    at.session_state["page"] = page
    sign_in(at)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    infos = [x.value for x in at.info]
    links = [x.proto.label for x in at.get("page_link")]
    expected = EXPECTED[workspace][page]
    if expected is None:
        assert not any(i18n.translate(lang, "hint.open_data") == label for label in links)
        return
    kind, layer = expected
    name = i18n.translate(lang, f"layer.{layer}")
    wording = {
        "next": {"en": f"load {name} next", "zh": f"下一步请导入{name}"},
        "needs": {"en": f"This page needs {name}", "zh": f"本页面需要{name}"},
    }[kind][lang]
    assert any(wording in text for text in infos), infos
    assert links == [i18n.translate(lang, "hint.open_data")]


def test_the_data_link_opens_the_data_page_in_a_browser(browser, app_url):
    """Chinese reader, grids-only workspace: Overview draws the grids with zero counts, names tickets as the
    next layer, and the link opens the Data page."""
    layers = load_demo()
    store.open_store("grids-only", home=app_url.home).write_layers({"grids": layers["grids"]}, note="partial")
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, locale="zh-CN")
    app_url.sign_in(context)
    page = context.new_page()
    try:
        page.goto(app_url, wait_until="domcontentloaded")
        page.get_by_text("下一步请导入事件").wait_for(timeout=120_000)
        page.wait_for_selector('iframe[title="streamlit_folium.st_folium"]', timeout=120_000)
        assert "出现意外错误" not in page.inner_text("body") and "Traceback" not in page.inner_text("body")
        page.get_by_text(i18n.translate("zh", "hint.open_data")).click()
        page.wait_for_url("**/data", timeout=60_000)
        page.get_by_role("heading", name=i18n.translate("zh", "data.title")).wait_for(timeout=60_000)
    finally:
        context.close()
