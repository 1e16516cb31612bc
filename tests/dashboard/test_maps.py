"""Map builders without a browser: offline assets, escaped strings, styles from properties, legend."""

from __future__ import annotations

import html
import re

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from folium.plugins import MarkerCluster
from shapely.geometry import box

from core import schema
from dashboard.components import maps, palettes
from dashboard.components.offline import OfflineAssetError, make_offline

LABELS = {
    "grid": "Grid",
    "tickets": "Tickets",
    "grids_layer": "Grids",
    "communities_layer": "Communities",
    "legend": "Tickets in period",
}
HOSTILE = '<img src=x onerror="alert(1)">'


def grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            schema.GRID_ID: ["g1", "g2", "g3"],
            schema.NAME: [HOSTILE, "东门网格", None],
            schema.COMMUNITY: ["<b>c</b>", "c", "c"],
            schema.STREET: ["s"] * 3,
        },
        geometry=[box(120.0, 30.0, 120.01, 30.01), box(120.01, 30.0, 120.02, 30.01), box(120.02, 30.0, 120.03, 30.01)],
        crs=schema.STORAGE_CRS,
    )


def rendered(counts=(0, 5, 12)) -> str:
    g = grids()
    communities = g.dissolve(by=schema.COMMUNITY, as_index=False)
    m = maps.district_map(g, communities, pd.Series(counts, index=g.index), labels=LABELS)
    return m.get_root().render()


def test_map_needs_nothing_from_the_network(monkeypatch):
    monkeypatch.delenv("GRIDWATCH_TILES", raising=False)
    page = rendered()
    remote = re.findall(r"""(?:src|href)\s*=\s*["'](https?:[^"']+)""", page)
    assert remote == []
    assert "data:text/javascript;base64," in page and "data:text/css;base64," in page
    assert "jquery" not in page.lower() and "bootstrap" not in page.lower()


def test_configured_tiles_are_used(monkeypatch):
    monkeypatch.setenv("GRIDWATCH_TILES", "http://tiles.example.gov/{z}/{x}/{y}.png")
    assert "http://tiles.example.gov/{z}/{x}/{y}.png" in rendered()


def test_strings_from_files_are_escaped():
    g = grids()
    communities = g.dissolve(by=schema.COMMUNITY, as_index=False)
    m = maps.district_map(g, communities, pd.Series([1, 2, 3], index=g.index), labels=LABELS)
    layers = [c for c in m._children.values() if isinstance(c, folium.GeoJson)]
    names = [f["properties"]["name"] for f in layers[0].data["features"]]
    assert names == [html.escape(HOSTILE), "东门网格", ""]
    assert [f["properties"]["label"] for f in layers[1].data["features"]] == ["&lt;b&gt;c&lt;/b&gt;", "c"]
    assert HOSTILE not in m.get_root().render()


def test_styles_travel_as_properties_not_a_switch():
    page = rendered()
    assert "switch(" not in page
    assert page.count('"fillColor"') == 3


def test_colour_classes_and_legend():
    breaks = maps.class_breaks(pd.Series([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 50]))
    assert list(breaks) == sorted(set(breaks)) and breaks[-1] == 50
    colours = maps.colors_for(pd.Series([0, 50, np.nan]), breaks)
    assert colours[0] == palettes.PALETTE[0] and colours[1] == palettes.PALETTE[-1] and colours[2] == palettes.NO_DATA
    legend = maps.legend_for("t", np.array([2.0, 5.0, 9.0]))
    assert legend.labels == ("0–2", "3–5", "6–9")
    assert len(legend.colors) == 3


def test_legend_with_one_value():
    legend = maps.legend_for("t", maps.class_breaks(pd.Series([0, 0, 0])))
    assert legend.labels == ("0",)


def test_grids_without_tickets_are_neutral_not_the_first_class():
    grids = gpd.GeoDataFrame(
        {schema.GRID_ID: ["a", "b", "c"], schema.NAME: ["A", "B", "C"]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)],
        crs=4326,
    )
    layer, legend = maps.grid_count_layer(
        grids,
        pd.Series([0, 0, 0]),
        name_label="Grid",
        count_label="Tickets",
        layer_name="Grids",
        legend_title="Tickets in period",
    )
    assert {f["properties"]["style"]["fillColor"] for f in layer.data["features"]} == {palettes.NEUTRAL}
    assert legend.labels == ("0",) and legend.colors == (palettes.NEUTRAL,)
    layer, legend = maps.grid_count_layer(
        grids,
        pd.Series([0, 3, 9]),
        name_label="Grid",
        count_label="Tickets",
        layer_name="Grids",
        legend_title="Tickets in period",
    )
    fills = [f["properties"]["style"]["fillColor"] for f in layer.data["features"]]
    assert fills[0] == palettes.NEUTRAL and palettes.NEUTRAL not in fills[1:]
    assert legend.labels[0] == "0" and legend.labels[1].startswith("1")


def test_an_element_with_a_remote_asset_is_refused():
    m = folium.Map(tiles=None)
    MarkerCluster().add_to(m)
    with pytest.raises(OfflineAssetError, match="MarkerCluster needs https://"):
        make_offline(m)


def test_choropleth_classes_run_from_worst_to_best_colour():
    import pandas as pd

    from dashboard.components import maps as m

    values = pd.Series([0.2] + [0.5] * 5 + [0.9, None])  # shares sit on the fixed 0–100 % scale
    fills, legend, text = m.choropleth_classes(values, title="t", better=True, percent=True)
    assert fills == [palettes.DIVERGING[1]] + [palettes.DIVERGING[2]] * 5 + [palettes.DIVERGING[4], palettes.NO_DATA]
    assert legend.colors == palettes.DIVERGING and legend.labels[0] == "0.0% – 20.0%" and text(0.5) == "50.0%"
    worse_high, _, _ = m.choropleth_classes(values.dropna(), title="t", better=False, percent=True)
    assert worse_high[0] == palettes.DIVERGING[3] and worse_high[-1] == palettes.DIVERGING[0]


def test_low_coverage_is_not_coloured_good_and_zero_is_neutral():
    import pandas as pd

    from dashboard.components import maps as m

    low, _, _ = m.choropleth_classes(pd.Series([0.01, 0.04, 0.08]), title="t", better=True, percent=True)
    assert low == [palettes.DIVERGING[0]] * 3  # 1–8 % covered is bad, not the best of the bunch
    none_lost, _, _ = m.choropleth_classes(pd.Series([0.0, 0.0]), title="t", better=False, percent=True)
    assert none_lost == [palettes.DIVERGING[-1]] * 2  # no coverage lost is good
    zeros, legend, _ = m.choropleth_classes(
        pd.Series([0.0, 0.0, None]), title="t", better=True, percent=False, zero_neutral=True
    )
    assert zeros == [palettes.NEUTRAL, palettes.NEUTRAL, palettes.NO_DATA] and legend.colors == (palettes.NEUTRAL,)
    counts, legend, _ = m.choropleth_classes(
        pd.Series([0.0, 1, 2, 3, 4, 5]), title="t", better=None, percent=False, zero_neutral=True
    )
    assert counts[0] == palettes.NEUTRAL and palettes.NEUTRAL not in counts[1:] and legend.labels[0] == "0"
