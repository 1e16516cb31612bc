"""The dashboard's loaders keep what they derive (``core.derived``): after a restart (the caches
cleared) the joined layers and the display boundaries are loaded, not computed, and equal what was
computed."""

from __future__ import annotations

import pandas as pd
import pytest

from core import derived, schema
from core.accounts import Scope
from dashboard.data import shared

POINT_LAYERS = (schema.TICKETS.name, schema.MEMBERS.name, schema.CAMERAS.name, schema.PATROL_CHECKINS.name)


@pytest.fixture
def demo_home(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDWATCH_HOME", str(tmp_path))
    for cache in (shared.joined, shared.display_boundaries, shared.layer, shared.grid_index, shared._store):
        cache.clear()
    shared.workspace_names()  # seeds the demo
    yield shared.version("demo")
    for cache in (shared.joined, shared.display_boundaries, shared.layer, shared.grid_index, shared._store):
        cache.clear()


def test_after_a_restart_the_joined_layers_and_display_boundaries_are_loaded_equal(demo_home, monkeypatch):
    ver = demo_home
    computed = {name: shared.joined("demo", ver, name) for name in POINT_LAYERS}
    boundaries = shared.display_boundaries("demo", ver)
    assert derived.wait_for_writes()
    shared.joined.clear()
    shared.display_boundaries.clear()

    def never(*args, **kwargs):
        raise AssertionError("computed again after the restart")

    monkeypatch.setattr(shared, "_joined", never)
    monkeypatch.setattr(shared.geometry, "simplify_for_display", never)
    for name, frame in computed.items():
        pd.testing.assert_frame_equal(shared.joined("demo", ver, name), frame)
    for loaded, made in zip(shared.display_boundaries("demo", ver), boundaries, strict=True):
        pd.testing.assert_frame_equal(loaded, made)


def test_the_servers_warm_up_loads_what_the_pages_start_from(demo_home, monkeypatch):
    ver = demo_home
    shared.warm()
    assert derived.wait_for_writes()

    def never(*args, **kwargs):
        raise AssertionError("not warmed")

    monkeypatch.setattr(shared, "_joined", never)
    monkeypatch.setattr(shared.derived, "cached", never)
    for name in POINT_LAYERS:
        assert len(shared.live_joined("demo", ver, shared.event_mark("demo"), name)) > 0
    assert len(shared.display_boundaries("demo", shared.boundary_version("demo", ver))[0]) == 130


def test_a_scoped_view_keeps_nothing_that_a_district_view_would_load(demo_home):
    ver = demo_home
    community = shared.layer("demo", ver, schema.GRIDS.name)[schema.COMMUNITY].iloc[0]
    view = shared.scoped("demo", Scope("community", community))
    scoped_grids, _ = shared.display_boundaries(view, ver)
    shared.joined(view, ver, schema.TICKETS.name)
    shared.grid_index(view, ver)
    assert derived.wait_for_writes()
    assert set(scoped_grids[schema.COMMUNITY]) == {community}
    assert not derived.directory("demo").exists() or not any(derived.directory("demo").glob("display-*"))
    whole, _ = shared.display_boundaries("demo", ver)
    assert len(whole) == 130
