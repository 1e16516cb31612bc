"""Fixtures shared by the tests of the reading room (core.io and the modules behind it)."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from core import sandbox


@pytest.fixture
def provinces() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"名称": ["北京市", "浙江省", "广东省"], "代码": [110000, 330000, 440000]},
        geometry=[shapely.Point(116.4, 39.9), shapely.Point(120.15, 30.27), shapely.Point(113.26, 23.13)],
        crs="EPSG:4326",
    )


@pytest.fixture
def in_process(monkeypatch):
    """Reads run in this process, so that monkeypatched limits and spies apply (the worker is forked
    from a fork server that imported ``core.io`` unpatched)."""
    monkeypatch.setattr(sandbox, "run", lambda label, function, *args: function(*args))
