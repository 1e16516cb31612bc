"""A community-scoped account sees its community only: the Overview's and Performance's figures are the
community's (compared with core's numbers for it), and no other community's grid or name is shown."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from signed import sign_in
from streamlit.testing.v1 import AppTest

from core import joins, metrics, schema
from core.accounts import Scope
from dashboard import state
from geodata import load_demo

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
COMMUNITY = "柳岸社区"


@pytest.fixture(scope="module", autouse=True)
def home(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("GRIDWATCH_HOME", str(tmp_path_factory.mktemp("home")))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def demo():
    layers = load_demo()
    grids = layers["grids"]
    index = joins.GridIndex.from_grids(grids)
    return grids, {name: joins.join_to_grids(layers[name], grids, index) for name in ("tickets", "members")}


def run(page: str | None, username: str, scope: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state[state.LANGUAGE] = "en"
    sign_in(at, username, ["leader"], scope=Scope.parse(scope))
    if page:
        at.switch_page(page)
    return at.run()


def figures(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_overview_of_a_community_leader_counts_that_community(demo):
    grids, joined = demo
    whole = figures(run(None, "district.leader", "district"))
    at = run(None, "liuan.leader", f"community:{COMMUNITY}")
    assert not at.exception and not at.error
    mine = figures(at)
    assert mine["Grids"] == str((grids[schema.COMMUNITY] == COMMUNITY).sum()) == "15"
    assert mine["Communities"] == "1" and whole["Communities"] == "12"
    members = joined["members"]
    assert mine["Party members"] == f"{(members[schema.COMMUNITY] == COMMUNITY).sum():,}"
    tickets = joined["tickets"]
    open_here = int(metrics.open_mask(tickets[tickets[schema.COMMUNITY] == COMMUNITY]).sum())
    assert mine["Open tickets"] == f"{open_here:,}" != whole["Open tickets"]


def test_a_community_leader_sees_no_other_community(demo):
    grids, _ = demo
    others = set(grids[schema.COMMUNITY]) - {COMMUNITY}
    for page in ("views/performance.py", None):
        at = run(page, "liuan.leader", f"community:{COMMUNITY}")
        assert at.title[0].value == ("Performance" if page else "District overview")
        shown = " ".join(
            str(x.value)
            for kind in ("markdown", "caption", "metric", "text", "dataframe", "table")
            for x in at.get(kind)
        )
        assert not [name for name in others if name in shown], page


def test_performance_totals_of_a_community_leader_are_cores_numbers_for_that_community(demo):
    grids, joined = demo
    at = run("views/performance.py", "liuan.leader", f"community:{COMMUNITY}")
    assert not at.exception and not at.error
    tickets = joined["tickets"]
    as_of = metrics.data_as_of(tickets)
    last = as_of.date()
    period = metrics.Period.from_dates(last - timedelta(days=29), last, schema.DEFAULT_TIMEZONE)
    here = grids[grids[schema.COMMUNITY] == COMMUNITY]
    expected = metrics.district_counts(
        metrics.indicators(tickets[tickets[schema.COMMUNITY] == COMMUNITY], here, period, as_of)
    )
    shown = figures(at)
    assert shown["Registered (立案)"] == f"{int(expected['registered']):,}"
    assert shown["Closed (结案)"] == f"{int(expected['closed']):,}"
    whole = metrics.district_counts(metrics.indicators(tickets, grids, period, as_of))
    assert int(expected["registered"]) < int(whole["registered"])
