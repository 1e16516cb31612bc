"""components.maps without a browser: offline assets, escaped strings, colours as arrays, classes and legends."""

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
    """A map of ``grids`` with community outlines, coloured by ``counts``, as st_folium sends it."""
    g = grids()
    communities = g.dissolve(by=schema.COMMUNITY, as_index=False)
    config = maps.choropleth_config(
        g, schema.NAME, outlines=(maps.Outline(communities, "communities", palettes.COMMUNITY_OUTLINE, 2.2),)
    )
    m = maps.choropleth_base_map(config)
    fills, legend = maps.count_classes(pd.Series(counts), "Tickets in period")
    maps.colour_update(fills, [str(c) for c in counts], legend).add_to(m)
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
    outline = maps.Outline(communities, "communities", "#000000", 1.0, label=HOSTILE)
    config = maps.choropleth_config(g, schema.NAME, outlines=(outline,), layer=HOSTILE)
    assert config["names"] == [html.escape(HOSTILE), "东门网格", ""]
    assert config["layer"] == config["outlines"][0]["label"] == html.escape(HOSTILE)
    assert HOSTILE not in maps.choropleth_base_map(config).get_root().render()
    assert HOSTILE not in rendered()


def test_colours_travel_as_one_array_not_a_switch():
    page = rendered()
    assert "switch(" not in page and '"fillColor"' not in page
    assert page.count('"fills":[') == 1
    assert f'"colors":{{"line":"{palettes.SCRIPT_COLORS["line"]}"' in page  # the script's own colours, from palettes


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
    fills, legend = maps.count_classes(pd.Series([0, 0, 0]), "Tickets in period")
    assert set(fills) == {palettes.NEUTRAL}
    assert legend.labels == ("0",) and legend.colors == (palettes.NEUTRAL,)
    fills, legend = maps.count_classes(pd.Series([0, 3, 9]), "Tickets in period")
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
