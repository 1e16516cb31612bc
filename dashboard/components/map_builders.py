"""What each page puts on its map: pure builders from frames, tables and translated labels to the parts of
``components.maps`` (a base-map configuration, a base map, a live part). No Streamlit, no caching: the
caches in ``dashboard/data/`` fetch their inputs and call these, and tests call them without a browser.

One section per page: Overview (and the Data page's points preview), the Data page's boundary preview,
Command center, Performance, Hotspots, Coverage, Patrols. Strings from files are HTML-escaped (here or in
``components.maps``), because Leaflet tooltips render HTML. Not here: how a map is drawn and swapped
(``components.maps``), the colours (``components.palettes``), translation (``labels`` arrive translated).
"""

from __future__ import annotations

import html

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from core import geometry, hotspots, metrics, schema
from core.changes import GridDiff
from dashboard.components import maps
from dashboard.components.map_encoding import encode_polyline, escaped, points_code, polygon_rings
from dashboard.components.palettes import (
    ACTIVE_OUTLINE,
    BASE_MARK,
    CAMERA_COLORS,
    CHANGE_COLORS,
    COMMUNITY_OUTLINE,
    COVERAGE_COLORS,
    DENSITY_LEGEND,
    DENSITY_PALETTE,
    DISTRICT_OUTLINE,
    EMERGING_COLORS,
    HOT_COLORS,
    NEUTRAL,
    SERVICE_COLORS,
    STREET_OUTLINE,
    TEAM_COLORS,
    UNASSIGNED,
)

__all__ = [
    "BASE_MARK_M",
    "DETAIL_ZOOM",
    "PREVIEW_ALL_MAX",
    "VIEW_ZOOM",
    "asset_payload",
    "base_config",
    "boundary_change_map",
    "boundary_preview_map",
    "change_status",
    "command_outlines",
    "coverage_overlays",
    "coverage_update",
    "density_payload",
    "district_config",
    "district_counts",
    "hotspot_update",
    "live_payload",
    "performance_update",
    "team_update",
    "ticket_payload",
    "unmapped_preview_map",
]

DETAIL_ZOOM = 16  # Command center: cameras one by one from here
VIEW_ZOOM = 17  # Command center: camera view sectors from here
PREVIEW_ALL_MAX = 2_000  # above this many grids a change preview shows only the grids it touches
BASE_MARK_M = 90.0  # radius of the disc that marks a team's base on the district map


# ---- Overview, and the Data page's points preview ------------------------------------------------
def district_config(grids: gpd.GeoDataFrame, communities: gpd.GeoDataFrame) -> dict:
    """The grids (display-simplified) with the community outlines over them."""
    return maps.choropleth_config(
        grids, schema.NAME, outlines=(maps.Outline(communities, "communities", COMMUNITY_OUTLINE, 2.2),)
    )


def district_counts(counts: pd.Series, *, labels: dict[str, str]) -> folium.FeatureGroup:
    """The grids (in ``district_config``'s order) filled by ``counts``, a hover count and the legend.
    ``labels``: ``tickets`` (the hover title) and ``legend`` (its title)."""
    fills, legend = maps.count_classes(counts, labels["legend"])
    values = ["–" if pd.isna(c) else str(int(c)) for c in counts]
    return maps.colour_update(fills, values, legend, fill_opacity=0.75, hover_title=labels["tickets"])


# ---- Data page: the boundary preview -------------------------------------------------------------
def change_status(new: gpd.GeoDataFrame, diff: GridDiff) -> pd.Series:
    """ "added", "changed" or "unchanged" per grid of ``new``."""
    status = pd.Series("unchanged", index=new.index)
    status[new[schema.GRID_ID].isin(diff.added[schema.GRID_ID])] = "added"
    status[new[schema.GRID_ID].isin(diff.changed[schema.GRID_ID])] = "changed"
    return status


def boundary_change_map(
    active: gpd.GeoDataFrame | None,
    new: gpd.GeoDataFrame,
    diff: GridDiff,
    outline: shapely.Geometry | None,
    *,
    labels: dict[str, str],
) -> tuple[folium.Map, folium.FeatureGroup]:
    """The preview of a boundary upload: every grid for a district; for a city (more than
    ``PREVIEW_ALL_MAX`` grids) only the added, changed and removed grids over the district outline.

    ``active`` and ``new`` are the grids as stored and as checked; only what is drawn is simplified.
    """
    status = change_status(new, diff)
    outline_shown = None
    if len(new) > PREVIEW_ALL_MAX:
        touched = (status != "unchanged").to_numpy()
        new, status = new[touched], status[touched]
        if active is not None:
            gone = set(diff.removed[schema.GRID_ID]) | set(diff.changed[schema.GRID_ID])
            active = active[active[schema.GRID_ID].isin(gone)]
        if outline is not None:
            outline_shown = _simplified_outline(outline)
    active_shown = geometry.simplify_for_display(active) if active is not None and len(active) else None
    shown = geometry.simplify_for_display(new) if len(new) else new
    return boundary_preview_map(active_shown, shown, status, labels=labels, outline=outline_shown)


def unmapped_preview_map(
    frame: gpd.GeoDataFrame, outline: shapely.Geometry | None, *, labels: dict[str, str]
) -> tuple[folium.Map, folium.FeatureGroup]:
    """The preview before the ids and names are mapped: nothing can be matched, so the shapes as they
    are (all "added") over the district outline."""
    unmapped = [c for c in (schema.GRID_ID, schema.NAME) if c not in frame.columns]
    shown = geometry.simplify_for_display(frame.assign(**dict.fromkeys(unmapped, "")))
    outline_shown = None if outline is None else _simplified_outline(outline)
    status = pd.Series("added", index=shown.index)
    return boundary_preview_map(None, shown, status, labels=labels, outline=outline_shown)


def _simplified_outline(outline: shapely.Geometry) -> gpd.GeoSeries:
    return geometry.simplify_for_display(gpd.GeoDataFrame(geometry=[outline], crs=schema.STORAGE_CRS)).geometry


def boundary_preview_map(
    active: gpd.GeoDataFrame | None,
    new: gpd.GeoDataFrame,
    status: pd.Series,
    *,
    labels: dict[str, str],
    outline: gpd.GeoSeries | None = None,
) -> tuple[folium.Map, folium.FeatureGroup]:
    """New boundaries coloured by ``status`` (added / changed / unchanged, aligned with ``new``) over the
    active ones (grey) and the district ``outline``, each a layer of the layer switch, with a hover of
    id, name and status.

    Pass display-simplified frames. For a whole city pass only the grids the change touches plus the
    district ``outline``; drawing 20,000 grids twice makes a page of tens of megabytes.
    ``labels`` holds ``active_layer``, ``new_layer``, ``outline_layer`` and ``status.<code>``.
    """
    frames = [f for f in (active, new, outline) if f is not None and len(f)]
    bounds = np.array([f.total_bounds for f in frames])
    outlines = []
    if outline is not None:
        frame = outline.to_frame("geometry")
        outlines.append(
            maps.Outline(frame, "outline", DISTRICT_OUTLINE, 2.5, label=labels["outline_layer"], below=True)
        )
    if active is not None and len(active):
        outlines.append(maps.Outline(active, "active", ACTIVE_OUTLINE, 3.0, label=labels["active_layer"], below=True))
    ids, names = new[schema.GRID_ID].fillna("").astype(str), new[schema.NAME].fillna("").astype(str)
    tips = [" · ".join(part for part in pair if part) for pair in zip(ids, names, strict=True)]
    config = maps.choropleth_config(
        new.assign(_preview_tip=tips),  # a column of its own: the upload may have any other
        "_preview_tip",
        outlines=tuple(outlines),
        layer=labels["new_layer"],
        bounds=(bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max()),
    )
    fills = [CHANGE_COLORS[code] for code in status]
    codes = [code for code in CHANGE_COLORS if code in set(status)]
    legend = maps.Legend(
        labels["new_layer"], tuple(labels[f"status.{c}"] for c in codes), tuple(CHANGE_COLORS[c] for c in codes)
    )
    update = maps.colour_update(
        fills,
        [labels[f"status.{code}"] for code in status],
        legend,
        fill_opacity=0.35,
        hover_title="",
        lines=fills,
        line_weight=1.2,
    )
    return maps.choropleth_base_map(config), update


# ---- Command center (live_map.js) ----------------------------------------------------------------
def command_outlines(grids: gpd.GeoDataFrame, communities: gpd.GeoDataFrame) -> list[maps.Outline]:
    """Community outlines, and street outlines when the grids lie in more than one street."""
    outlines = [maps.Outline(communities, "communities", COMMUNITY_OUTLINE, 2.2)]
    if grids[schema.STREET].nunique() > 1:
        outlines.append(maps.Outline(geometry.streets_from_grids(grids), "streets", STREET_OUTLINE, 3.4))
    return outlines


def base_config(grids: gpd.GeoDataFrame, outlines: list[maps.Outline], labels: dict) -> dict:
    """What the Command center's static part draws (``maps.live_base_map``). ``grids``
    (display-simplified) fix the order of every per-grid array sent later. ``labels`` holds the translated strings: ``layer.<group>`` for each layer,
    ``status`` (code → text), ``service_kinds`` (code → (label, symbol)), and ``cameras``, ``down``,
    ``services``, ``open``, ``overdue``, ``tickets``, ``members``, ``checkins``."""
    kinds = labels["service_kinds"]
    return {
        "bounds": [float(v) for v in grids.total_bounds],
        "grids": {"rings": polygon_rings(grids.geometry.array), "names": escaped(grids[schema.NAME])},
        "outlines": [
            {"rings": polygon_rings(o.frame.geometry.array), "group": o.group, "color": o.color, "weight": o.weight}
            for o in outlines
        ],
        "layers": [
            {"group": group, "label": html.escape(labels[f"layer.{group}"]), "on": on}
            for group, on in (
                ("grids", True),
                ("communities", True),
                ("streets", True),
                ("density", False),
                ("cameras", True),
                ("views", True),
                ("services", True),
                ("tickets", True),
                ("checkins", True),
            )
            if group not in ("communities", "streets") or any(o.group == group for o in outlines)
        ],
        "labels": {
            key: html.escape(labels[key])
            for key in ("cameras", "down", "services", "open", "overdue", "tickets", "members", "checkins")
        }
        | {"status": [html.escape(labels["status"][s]) for s in schema.CAMERA_STATUSES]},
        "cameraColors": [CAMERA_COLORS[s] for s in schema.CAMERA_STATUSES],
        "serviceKinds": [
            {
                "label": html.escape(kinds[k][0]),
                "symbol": html.escape(kinds[k][1]),
                "color": SERVICE_COLORS[i % len(SERVICE_COLORS)],
            }
            for i, k in enumerate(schema.SERVICE_KINDS)
        ],
        "detailZoom": DETAIL_ZOOM,
        "viewZoom": VIEW_ZOOM,
    }


def density_payload(rings: list[np.ndarray], counts: pd.Series) -> dict:
    """Hexagons (lon/lat outlines) with their counts, in six quantile classes."""
    breaks = maps.class_breaks(counts)
    palette = maps.spread(DENSITY_PALETTE, len(breaks))
    cls = np.minimum(np.searchsorted(breaks, counts.to_numpy(dtype=float), side="left"), len(palette) - 1)
    lengths = np.array([len(r) for r in rings], dtype=np.int64)
    coords = np.concatenate(rings) if rings else np.empty((0, 2))
    encoded = (
        encode_polyline(coords[:, 1], coords[:, 0], np.concatenate([[0], np.cumsum(lengths)[:-1]])) if rings else []
    )
    return {"rings": encoded, "counts": counts.astype(int).tolist(), "cls": cls.tolist(), "palette": list(palette)}


def _value_text(value: float, kind: str) -> str:
    if pd.isna(value):
        return "–"
    return f"{value:.1%}" if kind == "rate" else f"{value:.1f}" if kind == "ratio" else f"{int(value):,}"


def asset_payload(cameras: gpd.GeoDataFrame, services: gpd.GeoDataFrame, checkins: gpd.GeoDataFrame) -> dict:
    """The layers that no ticket filter changes: cameras, service points, tonight's sign-ins
    (``checkins`` carries a ``team_name``). Camera ids travel only for cameras that are down."""
    service_kind = {k: i for i, k in enumerate(schema.SERVICE_KINDS)}
    status = {s: i for i, s in enumerate(schema.CAMERA_STATUSES)}
    down = np.flatnonzero((cameras[schema.STATUS] != "online").to_numpy())
    return {
        "cameras": {
            "pts": points_code(cameras),
            "ids": dict(zip(map(str, down), escaped(cameras[schema.CAMERA_ID].iloc[down]), strict=True)),
            "status": cameras[schema.STATUS].map(status).fillna(0).astype(int).tolist(),
            "az": cameras[schema.AZIMUTH_DEG].astype(float).fillna(-1).round().astype(int).tolist(),
            "fov": cameras[schema.FOV_DEG].astype(float).round().astype(int).tolist(),
            "range": cameras[schema.RANGE_M].astype(float).round().astype(int).tolist(),
        },
        "services": {
            "pts": points_code(services),
            "names": escaped(services[schema.NAME]),
            "kind": services[schema.KIND].map(service_kind).fillna(len(service_kind) - 1).astype(int).tolist(),
        },
        "checkins": {
            "pts": points_code(checkins),
            "tips": [
                f"{html.escape(str(team))} · {at.strftime('%H:%M')}"
                for team, at in zip(
                    checkins["team_name"].fillna(checkins[schema.TEAM_ID]), checkins[schema.CHECKED_AT], strict=True
                )
            ],
        },
    }


def ticket_payload(
    grid_ids: pd.Series,
    measures: pd.DataFrame,
    measure: str,
    kind: str,
    *,
    open_tickets: gpd.GeoDataFrame,
    labels: dict,
) -> dict:
    """Grid colours and tooltips for ``measure`` and the open-ticket markers. ``grid_ids`` is the
    base map's grid order; ``measures`` is ``core.command.grid_measures``; ``kind`` is "count",
    "ratio" or "rate"; ``open_tickets`` carries an ``overdue`` flag and may carry ``new`` (arrived
    since the page was opened). ``labels``: ``measure`` (the
    legend title), ``stage`` (code → text) and ``deadline``."""
    rows = measures.reindex(grid_ids.to_numpy())
    values = rows[measure]
    fill, palette, legend = maps.measure_colors(values, kind)
    legend = maps.Legend(labels["measure"], legend.labels, legend.colors)
    stages = labels["stage"]
    ticket_tips = [
        f"<b>{html.escape(str(tid))}</b> · {html.escape(str(cat))}<br>{html.escape(str(desc)[:80])}<br>"
        f"{html.escape(stages.get(stage, str(stage)))} · {html.escape(labels['deadline'])} "
        f"{'' if pd.isna(deadline) else deadline.strftime('%m-%d %H:%M')}"
        for tid, cat, desc, stage, deadline in zip(
            open_tickets[schema.TICKET_ID],
            open_tickets[schema.CATEGORY],
            open_tickets[schema.DESCRIPTION].fillna(""),
            open_tickets[schema.STAGE],
            open_tickets[schema.DEADLINE_AT],
            strict=True,
        )
    ]
    return {
        "grid": {
            "fill": fill,
            "palette": list(palette),
            "legend": maps.legend_html(legend),
            "measure": html.escape(labels["measure"]),
            "values": [_value_text(v, kind) for v in values],
            "open": rows["open"].fillna(0).astype(int).tolist(),
            "overdue": rows["overdue"].fillna(0).astype(int).tolist(),
            "members": rows["members"].fillna(0).astype(int).tolist(),
        },
        "tickets": {
            "pts": points_code(open_tickets),
            "tips": ticket_tips,
            "overdue": open_tickets["overdue"].astype(int).tolist(),
            "fresh": (open_tickets["new"] if "new" in open_tickets else pd.Series(False, index=open_tickets.index))
            .astype(int)
            .tolist(),
        },
    }


def live_payload(
    grid_ids: pd.Series,
    tickets: dict,
    assets: dict,
    density: dict,
    *,
    focus: tuple[float, float] | None = None,
    selected: str | None = None,
) -> dict:
    """What ``gw.update`` draws (``maps.live_update``): ``ticket_payload`` + ``asset_payload`` +
    ``density_payload``, the ``focus`` (lat, lon) to ring and the ``selected`` grid to outline."""
    ids = grid_ids.to_numpy()
    return {
        **tickets,
        **assets,
        "density": density,
        "focus": list(focus) if focus else None,
        "selected": int(np.flatnonzero(ids == selected)[0]) if selected is not None and selected in ids else -1,
    }


# ---- Performance ---------------------------------------------------------------------------------
def performance_update(values: pd.Series, column: str, *, title: str) -> folium.FeatureGroup:
    """The units coloured by ``column`` of the ranking table (``values``, in the units' order): rates on
    the fixed scale red to green, the composite score higher = better, counts light to dark."""
    base = column.removesuffix("_smoothed")
    better = True if base == "composite_score" else metrics.HIGHER_IS_BETTER.get(base)
    return maps.choropleth_update(values, title=title, better=better, percent=base in metrics.RATES)


# ---- Hotspots ------------------------------------------------------------------------------------
def hotspot_update(
    rows: pd.DataFrame, show: str, *, labels: dict, surface: hotspots.DensitySurface | None = None
) -> folium.FeatureGroup:
    """The analysis units (``rows`` of the hotspot table, in the units' order) coloured by ``show``:
    ``gi`` hot/cold classes, ``emerging`` classes, ``tickets``/``per_1000`` quantiles, or ``density``
    (the kernel ``surface`` over bare outlines). ``labels``: ``title``, ``class`` (confidence → text),
    ``pattern`` (pattern → text), ``tickets`` and, for the density, ``density_legend``."""
    title = labels["title"]
    if show == "gi":
        levels = sorted(HOT_COLORS, reverse=True)
        classes = labels["class"]
        legend = maps.Legend(title, tuple(classes[c] for c in levels), tuple(HOT_COLORS[c] for c in levels))
        confidence = rows["confidence"].fillna(0)
        fills = [HOT_COLORS[int(c)] for c in confidence]
        values = [
            f"{classes[int(c)]} (z = {z:.2f}, {n:,})"
            for c, z, n in zip(confidence, rows["z"].fillna(0), rows["tickets"].fillna(0))
        ]
        return maps.colour_update(fills, values, legend)
    if show == "emerging":
        names = labels["pattern"]
        legend = maps.Legend(title, tuple(names[p] for p in EMERGING_COLORS), tuple(EMERGING_COLORS.values()))
        patterns = rows["pattern"].fillna("none")
        return maps.colour_update([EMERGING_COLORS[p] for p in patterns], [names[p] for p in patterns], legend)
    if show == "density":
        if surface is None:
            raise ValueError("the density map needs the kernel density surface")
        peak = surface.values.max()
        legend = maps.Legend(
            labels["density_legend"], (f"{peak:,.0f}", f"{peak / 10:,.0f}", f"{peak / 100:,.0f}"), DENSITY_LEGEND
        )
        return maps.colour_update(
            [NEUTRAL] * len(rows),
            [f"{int(n):,}" for n in rows["tickets"].fillna(0)],
            legend,
            fill_opacity=0.0,
            hover_title=labels["tickets"],
            overlay=maps.density_overlay(surface.values, surface.bounds),
        )
    return maps.choropleth_update(rows[show], title=title, better=None, percent=False, zero_neutral=True)


# ---- Coverage ------------------------------------------------------------------------------------
def coverage_overlays(
    cameras: dict | None, services: tuple[np.ndarray, np.ndarray] | None, *, labels: dict, cameras_on: bool
) -> tuple[maps.Overlay, ...]:
    """The Coverage map's layers: camera views (online / down), coverage lost while cameras are down,
    camera gaps (``cameras``: ``data.camera_layers``), the 15-minute reach and what it leaves unserved
    (``services``: ``data.service_layers``). The camera layers start switched on when ``cameras_on``,
    the service layers otherwise. ``labels``: ``views``, ``down``, ``lost``, ``gap``, ``reach``,
    ``unserved`` (the layer names) and ``status`` (camera status → text)."""
    layers = []
    if cameras is not None:
        online_names, down_names = cameras["names"]
        status = labels["status"]
        down_tips = tuple(f"{n} · {status[s]}" for n, s in zip(down_names, cameras["status"], strict=True))
        for key, tips in (("views", tuple(online_names)), ("down", down_tips), ("lost", None), ("gap", None)):
            layers.append(
                maps.Overlay(
                    cameras[key],
                    labels[key],
                    COVERAGE_COLORS[key],
                    fill_opacity=0.25 if key == "views" else 0.45,
                    on=cameras_on and key != "gap",
                    tips=tips,
                )
            )
    if services is not None:
        reach, unserved = services
        layers.append(maps.Overlay(reach, labels["reach"], COVERAGE_COLORS["reach"], 0.12, on=not cameras_on))
        layers.append(maps.Overlay(unserved, labels["unserved"], COVERAGE_COLORS["unserved"], 0.5, on=not cameras_on))
    return tuple(layers)


def coverage_update(
    values: pd.Series, measure: str, *, title: str, overlays: tuple[maps.Overlay, ...]
) -> folium.FeatureGroup:
    """Grids coloured by ``measure`` (``values`` in the grids' order; more coverage green, more coverage
    lost red; legend ``title``), with the coverage ``overlays``."""
    share = measure.endswith("_share")
    better = False if measure == "lost_share" else True if share or measure == "members" else None
    fills, legend, text = maps.choropleth_classes(
        values, title=title, better=better, percent=share, zero_neutral=not share
    )
    return maps.colour_update(fills, ["–" if pd.isna(v) else text(v) for v in values], legend, overlays=overlays)


# ---- Patrols -------------------------------------------------------------------------------------
def team_update(
    grid_ids: pd.Series, roster: pd.DataFrame, teams: gpd.GeoDataFrame, *, labels: dict
) -> folium.FeatureGroup:
    """Grids (``grid_ids``, in the base map's order) coloured by the team the ``roster`` gives them, with
    the teams' bases marked. ``labels``: ``legend``, ``team`` (the hover title), ``no_team``, ``bases``
    (the layer name) and ``base_of`` (team id → hover text of its base)."""
    team_ids = list(teams[schema.TEAM_ID])
    colour = {tid: TEAM_COLORS[i % len(TEAM_COLORS)] for i, tid in enumerate(team_ids)}
    names = dict(zip(teams[schema.TEAM_ID], teams[schema.NAME], strict=True))
    owner = (
        grid_ids.map(roster.drop_duplicates(schema.GRID_ID).set_index(schema.GRID_ID)[schema.TEAM_ID])
        if not roster.empty
        else pd.Series(index=grid_ids.index, dtype=object)
    )
    fills = [colour.get(o, UNASSIGNED) for o in owner]
    none = labels["no_team"]
    values = [names.get(o, none) if isinstance(o, str) else none for o in owner]
    legend = maps.Legend(
        labels["legend"], tuple(names[tid] for tid in team_ids), tuple(colour[tid] for tid in team_ids)
    )
    crs = geometry.metric_crs(teams)
    bases = teams.to_crs(crs).buffer(BASE_MARK_M).to_crs(schema.STORAGE_CRS)
    marks = maps.Overlay(
        bases.array, labels["bases"], BASE_MARK, fill_opacity=0.9, tips=tuple(labels["base_of"][t] for t in team_ids)
    )
    return maps.colour_update(fills, values, legend, overlays=(marks,), hover_title=labels["team"])
