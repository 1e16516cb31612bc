"""Derived data kept beside a workspace: found again by the content it was computed from, written whole,
computed again when damaged, and gone with its workspace."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from core import derived, schema, workspaces
from core.store import open_store
from geodata import load_demo


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDWATCH_HOME", str(tmp_path))
    demo = load_demo()
    made = open_store("town")
    made.initialize({"grids": demo["grids"], "cameras": demo["cameras"]}, note="seed")
    return made


def frame(n: int = 3) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"a": pd.array(range(n), dtype="int64"), "b": pd.Series([f"x{i}" for i in range(n)], dtype="str")},
        geometry=shapely.points(range(n), range(n)),
        crs="EPSG:4326",
    )


def test_a_key_follows_the_content_of_its_layers_only(ws):
    demo = load_demo()
    first = derived.content_key(ws, ws.version(), ("cameras", "grids"))
    ws.write("service_points", demo["service_points"], note="another layer")
    assert derived.content_key(ws, ws.version(), ("cameras", "grids")) == first
    ws.write("cameras", demo["cameras"].iloc[:10], note="new cameras")
    assert derived.content_key(ws, ws.version(), ("cameras", "grids")) != first
    assert derived.content_key(ws, 1, ("cameras", "grids")) == first  # an older version keeps its key


def test_an_entry_is_computed_once_then_loaded_even_by_another_process(ws):
    calls = []

    def compute():
        calls.append(1)
        return frame()

    made = derived.cached(ws, "joined-x", "k1", compute)
    assert derived.wait_for_writes()
    loaded = derived.cached(ws, "joined-x", "k1", compute)
    assert len(calls) == 1
    pd.testing.assert_frame_equal(made, loaded)
    derived.cached(ws, "joined-x", "k2", lambda: frame(5))
    assert derived.wait_for_writes()
    names = sorted(p.name for p in derived.directory("town").iterdir())
    assert names == [f"joined-x.k2.f{derived.FORMAT}.parquet"]  # the older key of the same kind is gone


def test_a_damaged_entry_is_computed_again_and_replaced(ws):
    derived.cached(ws, "display-grids", "k", frame)
    assert derived.wait_for_writes()
    path = next(derived.directory("town").iterdir())
    path.write_bytes(b"not parquet")
    again = derived.cached(ws, "display-grids", "k", lambda: frame(4))
    assert len(again) == 4
    assert derived.wait_for_writes()
    assert len(gpd.read_parquet(path)) == 4


def test_a_deleted_workspace_takes_its_entries_and_a_new_one_of_that_name_gets_new_keys(ws, tmp_path):
    key = derived.content_key(ws, ws.version(), ("grids",))
    derived.cached(ws, "display-grids", key, frame)
    assert derived.wait_for_writes()
    workspaces.delete_workspace("town")
    assert not derived.directory("town").exists()
    again = open_store("town")
    again.initialize({"grids": load_demo()["grids"]}, note="seed")
    assert derived.content_key(again, again.version(), (schema.GRIDS.name,)) != key


def test_a_kept_grid_index_places_points_as_a_built_one(ws):
    import numpy as np

    from core import joins

    grids = ws.read("grids")
    built = derived.cached_index(ws, "k", grids)
    loaded = derived.cached_index(ws, "k", grids)
    assert isinstance(loaded.labels, np.memmap)  # read from disk, not built again
    rng = np.random.default_rng(7)
    xmin, ymin, xmax, ymax = grids.total_bounds
    x, y = rng.uniform(xmin, xmax, 5_000), rng.uniform(ymin, ymax, 5_000)
    np.testing.assert_array_equal(loaded.assign(x, y), built.assign(x, y))
    np.testing.assert_array_equal(loaded.assign(x, y), joins.GridIndex.from_grids(grids).assign(x, y))
    (derived.directory("town") / f"grid-index.k.f{derived.FORMAT}.json").write_text("{")
    again = derived.cached_index(ws, "k", grids)  # a damaged entry is built again
    assert not isinstance(again.labels, np.memmap)
    np.testing.assert_array_equal(again.assign(x, y), built.assign(x, y))
