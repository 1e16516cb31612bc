"""Map builders: pure functions from frames to ``folium.Map`` (no Streamlit; testable without a browser).

Every builder returns an offline map (``offline.make_offline``): no CDN, and no basemap unless
``GRIDWATCH_TILES`` names a tile server. Feature styles travel as the GeoJSON property ``style``, which
folium applies with one ``setStyle`` call, instead of a ``style_function`` (folium turns that into a
JavaScript ``switch`` with a case per feature, which dominates drawing time on large layers).
Strings from files are HTML-escaped here, because Leaflet tooltips render HTML.
"""

from __future__ import annotations

import html
import itertools
import json
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.utilities import JsCode
from jinja2 import Template

from core import schema, settings
from core.changes import GridDiff
from core.geometry import simplify_for_display
from dashboard.components.offline import make_offline
from dashboard.components.palettes import (
    ACTIVE_OUTLINE,
    CHANGE_COLORS,
    COMMUNITY_OUTLINE,
    DISTRICT_OUTLINE,
    DIVERGING,
    NEUTRAL,
    NO_DATA,
    PALETTE,
)


@dataclass(frozen=True)
class Legend:
    title: str
    labels: tuple[str, ...]
    colors: tuple[str, ...]


def class_breaks(values: pd.Series, classes: int = len(PALETTE)) -> np.ndarray:
    """Whole-number upper bounds of up to ``classes`` quantile classes of counts (distinct, increasing)."""
    finite = values.dropna().to_numpy(dtype=float)
    if finite.size == 0:
        return np.array([0.0])
    return np.unique(np.ceil(np.quantile(finite, np.linspace(0, 1, classes + 1)[1:])))


def colors_for(values: pd.Series, breaks: np.ndarray) -> list[str]:
    palette = PALETTE[-len(breaks) :] if len(breaks) < len(PALETTE) else PALETTE
    idx = np.searchsorted(breaks, values.to_numpy(dtype=float), side="left")
    return [NO_DATA if pd.isna(v) else palette[min(i, len(palette) - 1)] for v, i in zip(values, idx)]


def legend_for(title: str, breaks: np.ndarray, lowest: int = 0) -> Legend:
    palette = PALETTE[-len(breaks) :] if len(breaks) < len(PALETTE) else PALETTE
    lows = np.concatenate([[lowest], np.floor(breaks[:-1]) + 1])
    labels = tuple(f"{int(lo)}–{int(hi)}" if int(lo) < int(hi) else f"{int(hi)}" for lo, hi in zip(lows, breaks))
    return Legend(title, labels, tuple(palette[: len(breaks)]))


def base_map(bounds: tuple[float, float, float, float]) -> folium.Map:
    """An empty map fitted to ``bounds`` (minx, miny, maxx, maxy), offline unless tiles are configured."""
    minx, miny, maxx, maxy = bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], tiles=None, prefer_canvas=True, zoom_snap=0.25)
    MetricScale().add_to(m)
    tile_url = settings.tile_url()
    if tile_url:
        folium.TileLayer(tile_url, attr=settings.tile_attribution() or " ", name="basemap").add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m


_HOVER_OUTLINE = JsCode("""
function(feature, layer) {
    var s = feature.properties.style;
    layer.on('mouseover', function() { layer.setStyle({weight: s.weight + 2}); });
    layer.on('mouseout', function() { layer.setStyle({weight: s.weight}); });
}""")


def _feature_collection(gdf: gpd.GeoDataFrame, properties: pd.DataFrame, styles: list[dict]) -> dict:
    """A GeoJSON FeatureCollection; geometry JSON comes from shapely in one vectorised call."""
    geometries = shapely.to_geojson(gdf.geometry.array)
    records = json.loads(properties.to_json(orient="records", force_ascii=False))
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": json.loads(geometry), "properties": {**props, "style": style}}
            for geometry, props, style in zip(geometries, records, styles)
        ],
    }


def grid_count_layer(
    grids: gpd.GeoDataFrame, counts: pd.Series, *, name_label: str, count_label: str, layer_name: str, legend_title: str
) -> tuple[folium.GeoJson, Legend]:
    """Grids filled by ``counts`` (indexed like ``grids``), with a hover tooltip of name and count. A grid
    with no tickets is neutral grey, not the palette's lightest class: zero is not "a few"."""
    zero = (counts == 0).to_numpy()
    breaks = class_breaks(counts[~zero])
    fills = [NEUTRAL if z else f for f, z in zip(colors_for(counts, breaks), zero, strict=True)]
    props = pd.DataFrame(
        {
            "grid_id": grids[schema.GRID_ID].map(html.escape).to_numpy(),
            "name": grids[schema.NAME].fillna("").map(html.escape).to_numpy(),
            "count": counts.to_numpy(),
        }
    )
    styles = [{"fillColor": f, "fillOpacity": 0.75, "color": "#555555", "weight": 0.6, "opacity": 0.9} for f in fills]
    layer = folium.GeoJson(
        _feature_collection(grids, props, styles),
        name=layer_name,
        on_each_feature=_HOVER_OUTLINE,
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "count"], aliases=[html.escape(name_label), html.escape(count_label)], sticky=True
        ),
    )
    legend = legend_for(legend_title, breaks, lowest=1) if (~zero).any() else Legend(legend_title, (), ())
    if zero.any():
        legend = Legend(legend_title, ("0", *legend.labels), (NEUTRAL, *legend.colors))
    return layer, legend


def outline_layer(
    outlines: gpd.GeoDataFrame,
    label_column: str,
    *,
    layer_name: str,
    color: str = COMMUNITY_OUTLINE,
    weight: float = 2.2,
) -> folium.GeoJson:
    """Unfilled outlines (communities, streets) that let clicks and hovers through to grids below."""
    props = pd.DataFrame({"label": outlines[label_column].map(html.escape).to_numpy()})
    styles = [{"fill": False, "color": color, "weight": weight, "opacity": 1.0}] * len(outlines)
    return folium.GeoJson(_feature_collection(outlines, props, styles), name=layer_name, interactive=False)


class MetricScale(MacroElement):
    """A metric-only scale bar (folium's ``control_scale`` also shows feet and miles)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        L.control.scale({metric: true, imperial: false}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self):
        super().__init__()
        self._name = "MetricScale"


class LegendControl(MacroElement):
    """A legend drawn as a Leaflet control (no branca colormap: under st_folium that pulls d3 from a CDN)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function() {
            var legend = L.control({position: 'bottomright'});
            legend.onAdd = function() {
                var div = L.DomUtil.create('div', 'gw-legend');
                div.style.cssText = 'background:rgba(255,255,255,.92);padding:6px 9px;border-radius:4px;'
                    + 'font:12px/1.5 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)';
                div.innerHTML = {{ this.html|tojson }};
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
    """)

    def __init__(self, legend: Legend):
        super().__init__()
        self._name = "LegendControl"
        self.html = legend_html(legend)


def legend_html(legend: Legend) -> str:
    """The legend's title and colour swatches as HTML (text escaped)."""
    rows = "".join(
        f'<div><span style="display:inline-block;width:14px;height:10px;margin-right:6px;'
        f'background:{c};border:1px solid #999"></span>{html.escape(lbl)}</div>'
        for lbl, c in zip(legend.labels, legend.colors)
    )
    return f"<b>{html.escape(legend.title)}</b>{rows}"


def district_map(
    grids: gpd.GeoDataFrame, communities: gpd.GeoDataFrame, counts: pd.Series, *, labels: dict[str, str]
) -> folium.Map:
    """The Overview map: grids coloured by ticket count, community outlines on top, a legend.

    ``grids`` should already be simplified for display; ``labels`` holds the translated strings
    ``grid``, ``tickets``, ``grids_layer``, ``communities_layer`` and ``legend``.
    """
    m = base_map(tuple(grids.total_bounds))
    layer, legend = grid_count_layer(
        grids,
        counts,
        name_label=labels["grid"],
        count_label=labels["tickets"],
        layer_name=labels["grids_layer"],
        legend_title=labels["legend"],
    )
    layer.add_to(m)
    outline_layer(communities, schema.COMMUNITY, layer_name=labels["communities_layer"]).add_to(m)
    LegendControl(legend).add_to(m)
    return make_offline(m)


PREVIEW_ALL_MAX = 2_000  # above this many grids a change preview shows only the grids it touches


def boundary_change_map(
    active: gpd.GeoDataFrame | None,
    new: gpd.GeoDataFrame,
    diff: GridDiff,
    outline: shapely.Geometry | None,
    *,
    labels: dict[str, str],
) -> folium.Map:
    """The Data page preview of a boundary upload: every grid for a district; for a city (more than
    ``PREVIEW_ALL_MAX`` grids) only the added, changed and removed grids over the district outline.

    ``active`` and ``new`` are the grids as stored and as checked; only what is drawn is simplified.
    """
    status = pd.Series("unchanged", index=new.index)
    status[new[schema.GRID_ID].isin(diff.added[schema.GRID_ID])] = "added"
    status[new[schema.GRID_ID].isin(diff.changed[schema.GRID_ID])] = "changed"
    outline_shown = None
    if len(new) > PREVIEW_ALL_MAX:
        touched = (status != "unchanged").to_numpy()
        new, status = new[touched], status[touched]
        if active is not None:
            gone = set(diff.removed[schema.GRID_ID]) | set(diff.changed[schema.GRID_ID])
            active = active[active[schema.GRID_ID].isin(gone)]
        if outline is not None:
            outline_shown = simplify_for_display(gpd.GeoDataFrame(geometry=[outline], crs=schema.STORAGE_CRS)).geometry
    active_shown = simplify_for_display(active) if active is not None and len(active) else None
    shown = simplify_for_display(new) if len(new) else new
    return boundary_preview_map(active_shown, shown, status, labels=labels, outline=outline_shown)


def boundary_preview_map(
    active: gpd.GeoDataFrame | None,
    new: gpd.GeoDataFrame,
    status: pd.Series,
    *,
    labels: dict[str, str],
    outline: gpd.GeoSeries | None = None,
) -> folium.Map:
    """New boundaries coloured by ``status`` (added / changed / unchanged, aligned with ``new``) over the
    active ones (grey), with a hover tooltip, for the Data page.

    Pass display-simplified frames. For a whole city pass only the grids the change touches plus the
    district ``outline``; drawing 20,000 grids twice makes a page of tens of megabytes.
    ``labels`` holds ``grid``, ``active_layer``, ``new_layer``, ``outline_layer`` and ``status.<code>``.
    """
    frames = [f for f in (active, new, outline) if f is not None and len(f)]
    bounds = np.array([f.total_bounds for f in frames])
    m = base_map((bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max()))
    if outline is not None:
        folium.GeoJson(
            _feature_collection(
                outline.to_frame("geometry"),
                pd.DataFrame(index=outline.index),
                [{"fill": False, "color": DISTRICT_OUTLINE, "weight": 2.5}] * len(outline),
            ),
            name=labels["outline_layer"],
            interactive=False,
        ).add_to(m)
    if active is not None and len(active):
        outline_layer(
            active, schema.GRID_ID, layer_name=labels["active_layer"], color=ACTIVE_OUTLINE, weight=3.0
        ).add_to(m)
    props = pd.DataFrame(
        {
            "grid_id": new[schema.GRID_ID].fillna("").map(html.escape).to_numpy(),
            "name": new[schema.NAME].fillna("").map(html.escape).to_numpy(),
            "status": [labels[f"status.{code}"] for code in status],
        }
    )
    styles = [
        {
            "fillColor": CHANGE_COLORS[code],
            "fillOpacity": 0.35,
            "color": CHANGE_COLORS[code],
            "weight": 1.2,
            "opacity": 1,
        }
        for code in status
    ]
    folium.GeoJson(
        _feature_collection(new, props, styles),
        name=labels["new_layer"],
        on_each_feature=_HOVER_OUTLINE,
        tooltip=folium.GeoJsonTooltip(
            fields=["grid_id", "name", "status"], aliases=["ID", html.escape(labels["grid"]), ""], sticky=True
        ),
    ).add_to(m)
    codes = [code for code in CHANGE_COLORS if code in set(status)]
    LegendControl(
        Legend(labels["new_layer"], tuple(labels[f"status.{c}"] for c in codes), tuple(CHANGE_COLORS[c] for c in codes))
    ).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return make_offline(m)


def spread(palette: tuple[str, ...], classes: int) -> tuple[str, ...]:
    """``classes`` colours spread over a sequential ``palette``, lightest and darkest kept, so that
    two classes are not two shades of dark red."""
    if classes >= len(palette):
        return palette
    return tuple(palette[i] for i in np.linspace(0, len(palette) - 1, max(classes, 1)).round().astype(int))


def choropleth_classes(
    values: pd.Series, *, title: str, better: bool | None, percent: bool, zero_neutral: bool = False
):
    """(fill colour per value, the legend, the value formatter) for ``values``, coloured for what they
    mean. A share with a direction (``better``: True = higher is better) sits on the fixed 0–100 %
    scale in five classes, red to green, so 8 % coverage is red however the other grids do. Other
    measures get quintile classes of the values, red to green when ``better`` says which way is
    better, else light to dark; ``zero_neutral`` (counts) shows 0 as its own neutral class, and a
    map where every value is the same shows it neutral (there is nothing to compare)."""

    def text(v: float) -> str:
        return f"{v:.1%}" if percent else f"{v:,.1f}"

    numbers = values.to_numpy(dtype=float)
    if percent and better is not None:
        palette = DIVERGING if better else DIVERGING[::-1]
        idx = np.minimum(np.floor(np.nan_to_num(numbers, nan=0.0).clip(0, 1) * len(palette)), len(palette) - 1)
        edges = np.linspace(0, 1, len(palette) + 1)
        labels = tuple(f"{text(lo)} – {text(hi)}" for lo, hi in itertools.pairwise(edges))
        fills = [NO_DATA if np.isnan(v) else palette[int(i)] for v, i in zip(numbers, idx, strict=True)]
        return fills, Legend(title, labels, tuple(palette)), text
    zero = (numbers == 0) if zero_neutral else np.zeros(len(numbers), bool)
    finite = numbers[np.isfinite(numbers) & ~zero]
    if finite.size == 0 or finite.min() == finite.max():
        labels = (text(finite[0]),) if finite.size else ()
        labels = (("0",) if zero.any() else ()) + labels
        fills = [NO_DATA if np.isnan(v) else NEUTRAL for v in numbers]
        return fills, Legend(title, labels, (NEUTRAL,) * len(labels)), text
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, 6)))
    inner = edges[1:-1]
    idx = np.searchsorted(inner, numbers, side="right")
    classes = len(inner) + 1
    if better is None:
        palette = spread(PALETTE, classes)
    else:
        palette = spread(DIVERGING if better else DIVERGING[::-1], classes)
    bounds = np.concatenate([edges[:1], inner, edges[-1:]])
    labels = tuple(f"{text(lo)} – {text(hi)}" for lo, hi in itertools.pairwise(bounds))
    fills = [
        NO_DATA if np.isnan(v) else NEUTRAL if z else palette[min(i, len(palette) - 1)]
        for v, i, z in zip(numbers, idx, zero, strict=True)
    ]
    legend = Legend(
        title,
        (("0",) if zero.any() else ()) + labels[: len(palette)],
        ((NEUTRAL,) if zero.any() else ()) + tuple(palette),
    )
    return fills, legend, text
