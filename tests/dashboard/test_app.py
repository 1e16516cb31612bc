"""The frame and the Overview page run headless (streamlit.testing), in both languages."""

from __future__ import annotations

from pathlib import Path

import pytest
from signed import sign_in
from streamlit.testing.v1 import AppTest

from core import schema
from dashboard import state
from dashboard.components.text import md_text

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


@pytest.fixture(scope="module", autouse=True)
def home(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("GRIDWATCH_HOME", str(tmp_path_factory.mktemp("home")))
    yield
    mp.undo()


def run(language: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[state.LANGUAGE] = language
    sign_in(at)
    return at.run()


def test_overview_runs_and_shows_headline_figures():
    at = run("en")
    assert not at.exception
    assert not at.error
    values = {m.label: m.value for m in at.metric}
    assert values["Grids"] == "130"
    assert values["Communities"] == "12"
    assert values["Party members"] == "1,938"
    assert at.sidebar.selectbox(key=state.WORKSPACE).value == "demo"


def test_period_change_updates_the_period_count():
    at = run("en")
    before = [c.value for c in at.caption if "tickets in the period" in c.value]
    at.session_state[state.PERIOD_PRESET] = "365d"
    at.run()
    after = [c.value for c in at.caption if "tickets in the period" in c.value]
    assert before and after and before != after


def test_chinese_labels():
    at = run("zh")
    assert not at.exception
    assert {m.label for m in at.metric} >= {"网格数", "社区数", "在线摄像头", "在办事件", "超期事件", "党员数"}
    assert at.title[0].value == "辖区总览"


def test_a_bug_shows_a_notice_not_a_traceback(monkeypatch):
    from dashboard import data

    def broken(*args, **kwargs):
        raise RuntimeError("internal detail that must not reach the reader")

    monkeypatch.setattr(data, "overview", broken)
    at = run("en")
    assert not at.exception
    assert [e.value for e in at.error] == ["Something went wrong. The details have been logged."]


def test_a_gridwatch_error_is_shown_as_it_is(monkeypatch):
    from core.errors import StoreError
    from dashboard import data

    def unreadable(*args, **kwargs):
        raise StoreError("layer `tickets` of workspace `demo` could not be read")

    monkeypatch.setattr(data, "overview", unreadable)
    at = run("en")
    assert [e.value for e in at.error] == [md_text("layer `tickets` of workspace `demo` could not be read")]


def analysis_pages():
    """The sidebar and one analysis page (``st.session_state["page"]``), as app.py runs them."""
    import streamlit as st

    from dashboard import state
    from dashboard.components.sidebar import render_sidebar
    from dashboard.views import coverage, hotspots, patrols

    st.session_state[state.SELECTION] = render_sidebar()
    {"coverage": coverage, "hotspots": hotspots, "patrols": patrols}[st.session_state["page"]].render()


@pytest.mark.parametrize("page", ["coverage", "hotspots", "patrols"])
def test_analysis_pages_on_a_workspace_with_only_grids(page):
    """A workspace that holds nothing but boundaries: each page says what is missing, never fails."""
    import os

    from core import store
    from geodata import load_demo

    home = Path(os.environ["GRIDWATCH_HOME"])
    run("en")  # seeds the demo workspace first, as a first visit does
    if "grids-only" not in store.list_workspaces(home):
        store.open_store("grids-only", home).initialize({"grids": load_demo()["grids"]}, note="boundaries only")
    at = AppTest.from_function(analysis_pages, default_timeout=120)
    at.session_state[state.LANGUAGE] = "en"
    at.session_state[state.WORKSPACE] = "grids-only"
    at.session_state["page"] = page
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.sidebar.selectbox(key=state.WORKSPACE).value == "grids-only"
    infos, labels = " ".join(x.value for x in at.info), {m.label for m in at.metric}
    if page == "coverage":  # staffing needs only the grids; the camera, service and member figures are left out
        assert "Grids outside the staffing target" in labels and "Area seen by online cameras" not in labels
    else:
        assert {"hotspots": "This page needs Tickets", "patrols": "This page needs Patrol teams"}[page] in infos


def test_a_chinese_page_shows_a_core_error_in_chinese(monkeypatch):
    from core.errors import LayerNotFoundError
    from dashboard import data

    def missing(*args, **kwargs):
        raise LayerNotFoundError(
            "workspace `demo` has no `cameras` layer; upload it first",
            code="layer_not_found",
            params={"workspace": "demo", "layer": "cameras"},
        )

    monkeypatch.setattr(data, "overview", missing)
    at = run("zh")
    assert [e.value for e in at.error] == [md_text("工作区 `demo` 还没有“摄像头”图层，请先导入。")]
    assert [link.proto.label for link in at.get("page_link")] == ["前往“数据管理”页面导入图层"], [
        i.value for i in at.info
    ]


def data_page():
    """The sidebar and the Data page, as app.py runs them."""
    import streamlit as st

    from dashboard import state
    from dashboard.components.sidebar import render_sidebar
    from dashboard.views import data

    st.session_state[state.SELECTION] = render_sidebar()
    data.render()


def labelled(widgets, label: str):
    return next(w for w in widgets if w.label == label)


def test_clearing_a_layer_on_the_data_page_needs_its_name_typed_again():
    import os

    from core import store, workspaces
    from geodata import demo_seed

    home = Path(os.environ["GRIDWATCH_HOME"])
    layers, seed_settings = demo_seed()
    workspaces.create_workspace("clear-me", home=home, layers=layers, seed_settings=seed_settings)
    at = AppTest.from_function(data_page, default_timeout=120)
    at.session_state[state.LANGUAGE] = "en"
    at.session_state[state.WORKSPACE] = "clear-me"
    sign_in(at, "wang.fang", ["data_admin"], display_name="王芳")
    at.run()
    labelled(at.selectbox, "Layer to remove").select("tickets").run()
    button = at.button(key="gw_clear")
    assert button.disabled and button.label == "Clear Tickets"
    assert "The grids can be cleared only when no other layer is left" in " ".join(c.value for c in at.caption)
    labelled(at.text_input, "Type tickets to confirm").input("ticket").run()
    assert at.button(key="gw_clear").disabled
    labelled(at.text_input, "Type tickets to confirm").input("tickets").run()
    at.button(key="gw_clear").click().run()
    assert not at.exception and not at.error
    assert [s.value for s in at.success] == [
        "Tickets removed as version 2; re-activate the version before it to bring it back."
    ]
    ws = store.open_store("clear-me", home, create=False)
    assert schema.TICKETS.name not in ws.layers()
    assert ws.history()[0].author == "王芳 (wang.fang)"


def every_page():
    """The sidebar and any page (``st.session_state["page"]``), as app.py runs them."""
    import streamlit as st

    from dashboard import state
    from dashboard.components.sidebar import render_sidebar
    from dashboard.views import command, coverage, hotspots, overview, patrols, performance

    st.session_state[state.SELECTION] = render_sidebar()
    pages = {
        "overview": overview,
        "command": command,
        "performance": performance,
        "coverage": coverage,
        "hotspots": hotspots,
        "patrols": patrols,
    }
    pages[st.session_state["page"]].render()


@pytest.mark.parametrize("page", ["overview", "command", "performance", "hotspots"])
def test_pages_work_on_a_workspace_with_zero_tickets(page):
    """Tickets replaced by an empty layer (confirmed on purpose): no page fails."""
    import os

    from core import store
    from geodata import load_demo

    home = Path(os.environ["GRIDWATCH_HOME"])
    run("en")
    if "no-tickets" not in store.list_workspaces(home):
        demo = load_demo()
        store.open_store("no-tickets", home).initialize({**demo, "tickets": demo["tickets"].iloc[:0]}, note="empty")
    at = AppTest.from_function(every_page, default_timeout=120)
    at.session_state[state.LANGUAGE] = "en"
    at.session_state[state.WORKSPACE] = "no-tickets"
    at.session_state["page"] = page
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error] + [e.value for e in at.exception]


def test_ticket_text_is_masked_for_the_pages_and_kept_in_the_store():
    import os

    from core import schema, store
    from dashboard import data
    from geodata import load_demo

    home = Path(os.environ["GRIDWATCH_HOME"])
    demo = load_demo()
    tickets = demo["tickets"].copy()
    tickets.loc[tickets.index[0], schema.DESCRIPTION] = "请回电13812345678，身份证110101199003071234"
    ws = store.open_store("pii", home)
    ws.initialize({**demo, "tickets": tickets}, note="pii")
    shown = data.joined("pii", ws.version(), schema.TICKETS.name)
    first = shown.loc[shown[schema.TICKET_ID] == tickets[schema.TICKET_ID].iloc[0], schema.DESCRIPTION].iloc[0]
    assert first == "请回电138****5678，身份证110***********1234"
    assert ws.read(schema.TICKETS.name)[schema.DESCRIPTION].iloc[0] == tickets[schema.DESCRIPTION].iloc[0]


def test_an_analyst_may_try_roster_changes_but_not_save_them():
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state[state.LANGUAGE] = "en"
    sign_in(at, "ana.lyst", ["analyst"])
    at.switch_page("views/patrols.py")
    at.run()
    assert not at.exception and not at.error
    assert "Saving the roster is for duty staff and leaders" in " ".join(c.value for c in at.caption)
    keys = {b.key for b in at.button}
    assert not keys & {state.ROSTER_SAVE, state.ROSTER_IMPORT, state.PATROL_ADOPT}
    assert not [u for u in at.get("file_uploader") if u.proto.id.endswith(state.ROSTER_UPLOAD)]
