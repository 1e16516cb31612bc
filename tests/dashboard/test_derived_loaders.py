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


def test_the_coverage_tables_are_kept_and_an_uploads_are_not(demo_home, monkeypatch):
    from core.reach import WalkSettings
    from dashboard.data import coverage

    ver, walk = demo_home, WalkSettings()
    cameras, services = coverage.camera_table("demo", ver, None), coverage.service_table("demo", ver, walk, None)
    assert derived.wait_for_writes()
    kinds = sorted(p.name.split(".")[0] for p in derived.directory("demo").glob("*.parquet"))
    assert "camera-table" in kinds and "service-table" in kinds
    coverage.camera_table.clear()
    coverage.service_table.clear()

    def never(*args, **kwargs):
        raise AssertionError("computed again after the restart")

    monkeypatch.setattr(coverage.viewsheds, "camera_coverage", never)
    monkeypatch.setattr(coverage, "service_reach", never)
    pd.testing.assert_frame_equal(coverage.camera_table("demo", ver, None), cameras)
    pd.testing.assert_frame_equal(coverage.service_table("demo", ver, walk, None), services)
    with pytest.raises(AssertionError, match="computed again"):
        coverage.service_table("demo", ver, WalkSettings(minutes=10.0), None)  # other settings: another entry


def test_the_grid_contiguity_graph_is_kept(demo_home, monkeypatch):
    from core import hotspots
    from dashboard.data import hotspots as hotspot_data

    ver = demo_home
    made = hotspots.grid_graph(shared.layer("demo", ver, schema.GRIDS.name))
    first = hotspot_data.hotspot_graph("demo", ver, "grid", 9)
    assert derived.wait_for_writes()
    hotspot_data.hotspot_graph.clear()
    monkeypatch.setattr(hotspots, "grid_graph", lambda *a: (_ for _ in ()).throw(AssertionError("computed again")))
    loaded = hotspot_data.hotspot_graph("demo", ver, "grid", 9)
    for graph in (first, loaded):
        pd.testing.assert_series_equal(graph.adjacency, made.adjacency)
        assert list(graph.unique_ids) == list(made.unique_ids)


def test_the_unfiltered_hotspot_table_is_kept_equal(demo_home, monkeypatch):
    from datetime import date

    from core import command, hotspot_units
    from dashboard.data import hotspots as hotspot_data

    ver, everything = demo_home, command.TicketFilter()
    args = ("demo", ver, date(2026, 8, 1), date(2026, 10, 31), everything, "grid", 9, False)
    made = hotspot_data.hotspot_table(*args)
    assert derived.wait_for_writes()
    hotspot_data.hotspot_table.clear()
    monkeypatch.setattr(hotspot_units, "unit_table", lambda *a, **k: (_ for _ in ()).throw(AssertionError("again")))
    pd.testing.assert_frame_equal(hotspot_data.hotspot_table(*args), made)
    with pytest.raises(AssertionError, match="again"):  # a filtered table is computed (and not kept)
        hotspot_data.hotspot_table(*args[:4], command.TicketFilter(categories=("噪音扰民",)), *args[5:])
