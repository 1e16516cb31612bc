"""components.map_builders without a browser: what each page's map draws (features, legends, colours)."""

from __future__ import annotations

import html
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point, box
from test_map_encoding import decode
from test_maps import HOSTILE, grids

from core import hotspots, schema
from core.changes import GridDiff
from dashboard.components import map_builders, maps, palettes


def base_config(m) -> dict:
    """The configuration a base map's drawing script was given."""
    (script,) = [c for c in m._children.values() if type(c).__name__ == "_Script"]
    return json.loads(script.code.split("var cfg = ", 1)[1].split(";\n", 1)[0])


def update_payload(group) -> dict:
    """The payload a live part hands to ``gwp.update`` / ``gw.update``."""
    (update,) = [c for c in group._children.values() if type(c).__name__ == "_Update"]
    return json.loads(update.payload_json)


# ---- Overview ------------------------------------------------------------------------------------
def test_district_map_draws_every_grid_under_the_community_outlines():
    g = grids()
    communities = g.dissolve(by=schema.COMMUNITY, as_index=False)
    config = map_builders.district_config(g, communities)
    assert len(config["rings"]) == 3 and config["layer"] == ""
    assert config["names"] == [html.escape(HOSTILE), "东门网格", ""]
    (outline,) = config["outlines"]
    assert len(outline["rings"]) == 2 and outline["color"] == palettes.COMMUNITY_OUTLINE and not outline["below"]
    assert HOSTILE not in maps.choropleth_base_map(config).get_root().render()


def test_district_counts_colour_the_grids_and_give_the_legend():
    payload = update_payload(
        map_builders.district_counts(
            pd.Series([0, 5, 12]), labels={"tickets": "Tickets", "legend": "Tickets in period"}
        )
    )
    assert payload["fills"][0] == palettes.NEUTRAL and palettes.NEUTRAL not in payload["fills"][1:]
    assert payload["values"] == ["0", "5", "12"] and payload["title"] == "Tickets" and payload["fillOpacity"] == 0.75
    assert payload["legend"].startswith("<b>Tickets in period</b>") and payload["legend"].count("<span") == 1 + len(
        maps.class_breaks(pd.Series([5, 12]))
    )
    assert payload["lines"] is None


# ---- Data page -----------------------------------------------------------------------------------
LABELS = {
    "active_layer": "Active boundaries",
    "new_layer": "New boundaries",
    "outline_layer": "District outline",
    "status.added": "Added",
    "status.changed": "Changed",
    "status.unchanged": "Unchanged",
}


def preview_frames() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, GridDiff]:
    """Active grids g1–g3; the upload keeps g1, widens g3 and replaces g2 by g9."""
    active = grids()
    new = active.copy()
    new.loc[1, schema.GRID_ID] = "g9"
    new.loc[2, "geometry"] = box(120.02, 30.0, 120.04, 30.01)
    diff = GridDiff(added=new.iloc[[1]], removed=active.iloc[[1]], changed=new.iloc[[2]], unchanged=1)
    return active, new, diff


def test_boundary_preview_colours_each_grid_by_its_change_over_the_active_grids():
    active, new, diff = preview_frames()
    status = map_builders.change_status(new, diff)
    assert list(status) == ["unchanged", "added", "changed"]
    outline = gpd.GeoSeries([box(120.0, 30.0, 120.04, 30.01)], crs=schema.STORAGE_CRS)
    base, changes = map_builders.boundary_preview_map(active, new, status, labels=LABELS, outline=outline)
    config = base_config(base)
    assert len(config["rings"]) == 3 and config["layer"] == "New boundaries"
    assert config["names"] == [f"g1 · {html.escape(HOSTILE)}", "g9 · 东门网格", "g3"]
    assert [(o["label"], o["color"], o["below"], len(o["rings"])) for o in config["outlines"]] == [
        ("District outline", palettes.DISTRICT_OUTLINE, True, 1),
        ("Active boundaries", palettes.ACTIVE_OUTLINE, True, 3),
    ]
    assert config["bounds"] == [120.0, 30.0, 120.04, 30.01]
    payload = update_payload(changes)
    assert payload["fills"] == [palettes.CHANGE_COLORS[s] for s in ("unchanged", "added", "changed")]
    assert payload["lines"] == payload["fills"] and payload["weight"] == 1.2 and payload["fillOpacity"] == 0.35
    assert payload["values"] == ["Unchanged", "Added", "Changed"] and payload["title"] == ""
    assert payload["legend"].startswith("<b>New boundaries</b>") and payload["legend"].count("<span") == 3
    assert HOSTILE not in base.get_root().render()


def test_a_city_preview_draws_only_the_grids_the_change_touches(monkeypatch):
    active, new, diff = preview_frames()
    monkeypatch.setattr(map_builders, "PREVIEW_ALL_MAX", 2)
    base, changes = map_builders.boundary_change_map(
        active, new, diff, shapely.box(120.0, 30.0, 120.04, 30.01), labels=LABELS
    )
    config = base_config(base)
    assert config["names"] == ["g9 · 东门网格", "g3"]  # the unchanged g1 is left out
    assert [len(o["rings"]) for o in config["outlines"]] == [1, 2]  # the outline; the removed g2 and changed g3
    assert update_payload(changes)["legend"].count("<span") == 2


def test_a_preview_before_the_ids_are_mapped_shows_the_shapes_as_added():
    frame = grids().drop(columns=[schema.GRID_ID, schema.NAME])
    base, changes = map_builders.unmapped_preview_map(frame, None, labels=LABELS)
    assert base_config(base)["names"] == ["", "", ""] and base_config(base)["outlines"] == []
    assert set(update_payload(changes)["fills"]) == {palettes.CHANGE_COLORS["added"]}


# ---- Command center ------------------------------------------------------------------------------
def test_command_outlines_add_streets_only_when_there_are_several():
    g = grids()
    communities = g.dissolve(by=schema.COMMUNITY, as_index=False)
    assert [o.group for o in map_builders.command_outlines(g, communities)] == ["communities"]
    two = g.assign(**{schema.STREET: ["s", "s", "t"]})
    outlines = map_builders.command_outlines(two, communities)
    assert [(o.group, o.color) for o in outlines] == [
        ("communities", palettes.COMMUNITY_OUTLINE),
        ("streets", palettes.STREET_OUTLINE),
    ]


def test_payload_escapes_every_file_string():
    hostile = "<img src=x onerror=alert(1)>"
    grids = pd.Series(["g1", "g2"])
    measures = pd.DataFrame(
        {"open": [1, 0], "overdue": [1, 0], "members": [3, 0], "on_time_rate": [0.5, np.nan]}, index=["g1", "g2"]
    )
    point = gpd.GeoSeries([Point(120.1, 30.2)], crs=4326)
    cameras = gpd.GeoDataFrame(
        {
            schema.CAMERA_ID: [hostile],
            schema.STATUS: ["fault"],
            schema.AZIMUTH_DEG: [None],
            schema.FOV_DEG: [360.0],
            schema.RANGE_M: [50.0],
        },
        geometry=point,
    )
    services = gpd.GeoDataFrame({schema.NAME: [hostile], schema.KIND: ["police_room"]}, geometry=point)
    tickets = gpd.GeoDataFrame(
        {
            schema.TICKET_ID: ["T1"],
            schema.CATEGORY: [hostile],
            schema.DESCRIPTION: [hostile + " ${alert(1)}"],
            schema.STAGE: ["handling"],
            schema.DEADLINE_AT: [pd.Timestamp("2026-10-31 12:00", tz=schema.DEFAULT_TIMEZONE)],
            "overdue": [True],
        },
        geometry=point,
    )
    checkins = gpd.GeoDataFrame(
        {
            schema.TEAM_ID: ["A"],
            "team_name": [hostile],
            schema.CHECKED_AT: [pd.Timestamp("2026-10-31 20:05", tz=schema.DEFAULT_TIMEZONE)],
        },
        geometry=point,
    )
    labels = {"measure": "按期结案率", "deadline": "时限", "stage": {"handling": "处置中"}}
    payload = map_builders.live_payload(
        grids,
        map_builders.ticket_payload(grids, measures, "on_time_rate", "rate", open_tickets=tickets, labels=labels),
        map_builders.asset_payload(cameras, services, checkins),
        map_builders.density_payload([], pd.Series(dtype=int)),
        selected="g2",
    )
    text = json.dumps(payload, ensure_ascii=False)
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert payload["grid"]["values"] == ["50.0%", "–"] and payload["grid"]["fill"] == [0, -1]
    assert payload["cameras"]["az"] == [-1] and payload["cameras"]["status"] == [2]
    assert payload["cameras"]["ids"] == {"0": "&lt;img src=x onerror=alert(1)&gt;"}  # down cameras only
    assert payload["tickets"]["overdue"] == [1] and "${alert(1)}" in payload["tickets"]["tips"][0]
    assert payload["checkins"]["tips"] == ["&lt;img src=x onerror=alert(1)&gt; · 20:05"]
    assert payload["selected"] == 1
    assert decode(payload["cameras"]["pts"]) == [(30.2, 120.1)]


def test_density_hexagons_are_encoded_in_one_pass():
    rings = [np.array([[120.1, 30.2], [120.2, 30.2], [120.2, 30.3]]), np.array([[121.0, 31.0], [121.1, 31.1]])]
    payload = map_builders.density_payload(rings, pd.Series([1, 9]))
    assert [decode(r) for r in payload["rings"]] == [
        [(30.2, 120.1), (30.2, 120.2), (30.3, 120.2)],
        [(31.0, 121.0), (31.1, 121.1)],
    ]
    assert payload["counts"] == [1, 9] and payload["cls"] == [0, len(payload["palette"]) - 1]
    assert payload["palette"][0] == palettes.DENSITY_PALETTE[0]  # the lightest colour for the fewest


# ---- Performance, Hotspots, Coverage, Patrols ----------------------------------------------------
def test_performance_rates_sit_on_the_fixed_scale_and_counts_run_light_to_dark():
    rates = update_payload(map_builders.performance_update(pd.Series([0.1, 0.95]), "on_time_rate", title="On time"))
    assert rates["fills"] == [palettes.DIVERGING[0], palettes.DIVERGING[-1]] and rates["values"] == ["10.0%", "95.0%"]
    counts = update_payload(map_builders.performance_update(pd.Series([1.0, 50.0]), "registered", title="Registered"))
    assert counts["fills"][0] == palettes.PALETTE[0] and counts["title"] == "Registered"


HOT_LABELS = {
    "title": "Hot spots",
    "tickets": "Tickets",
    "class": {c: f"class {c}" for c in palettes.HOT_COLORS},
    "pattern": {p: f"pattern {p}" for p in palettes.EMERGING_COLORS},
    "density_legend": "Tickets per km²",
}


def test_hotspot_classes_and_patterns_have_a_legend_entry_each():
    rows = pd.DataFrame(
        {
            "confidence": [3, 0, np.nan],
            "z": [3.1, 0.2, np.nan],
            "tickets": [40, 2, 0],
            "pattern": ["new", None, "none"],
        }
    )
    gi = update_payload(map_builders.hotspot_update(rows, "gi", labels=HOT_LABELS))
    assert gi["fills"] == [palettes.HOT_COLORS[3], palettes.HOT_COLORS[0], palettes.HOT_COLORS[0]]
    assert gi["values"][0] == "class 3 (z = 3.10, 40)" and gi["legend"].count("<span") == len(palettes.HOT_COLORS)
    emerging = update_payload(map_builders.hotspot_update(rows, "emerging", labels=HOT_LABELS))
    assert emerging["fills"] == [palettes.EMERGING_COLORS[p] for p in ("new", "none", "none")]
    assert emerging["legend"].count("<span") == len(hotspots.EMERGING_CLASSES)
    counts = update_payload(map_builders.hotspot_update(rows, "tickets", labels=HOT_LABELS))
    assert counts["fills"][2] == palettes.NEUTRAL and counts["title"] == "Hot spots"


def test_the_density_map_draws_the_surface_over_bare_outlines():
    rows = pd.DataFrame({"tickets": [4, 0]})
    surface = hotspots.DensitySurface(np.array([[100.0, 1.0], [0.0, 10.0]]), (120.0, 30.0, 120.1, 30.1), 50.0, 250.0)
    group = map_builders.hotspot_update(rows, "density", labels=HOT_LABELS, surface=surface)
    payload = update_payload(group)
    assert payload["fillOpacity"] == 0.0 and payload["values"] == ["4", "0"] and payload["title"] == "Tickets"
    assert payload["legend"].startswith("<b>Tickets per km²</b>") and palettes.DENSITY_LEGEND[0] in payload["legend"]
    assert any(type(c).__name__ == "ImageOverlay" for c in group._children.values())


COVERAGE_LABELS = {
    "views": "Views",
    "down": "Down",
    "lost": "Lost",
    "gap": "Gaps",
    "reach": "Reach",
    "unserved": "Unserved",
    "status": {"online": "online", "offline": "offline", "fault": "fault"},
}


def test_coverage_layers_start_on_for_the_chosen_kind_of_map():
    square = np.array([box(120.0, 30.0, 120.001, 30.001)], dtype=object)
    cameras = {
        "views": square,
        "down": square,
        "names": (np.array(["A"]), np.array([HOSTILE])),
        "status": np.array(["fault"]),
        "lost": square,
        "gap": np.array([], dtype=object),
    }
    layers = map_builders.coverage_overlays(cameras, (square, square), labels=COVERAGE_LABELS, cameras_on=True)
    assert [(o.label, o.color, o.on) for o in layers] == [
        ("Views", palettes.COVERAGE_COLORS["views"], True),
        ("Down", palettes.COVERAGE_COLORS["down"], True),
        ("Lost", palettes.COVERAGE_COLORS["lost"], True),
        ("Gaps", palettes.COVERAGE_COLORS["gap"], False),
        ("Reach", palettes.COVERAGE_COLORS["reach"], False),
        ("Unserved", palettes.COVERAGE_COLORS["unserved"], False),
    ]
    assert layers[1].tips == (f"{HOSTILE} · fault",)
    payload = update_payload(
        map_builders.coverage_update(pd.Series([0.1, 0.9]), "camera_share", title="Covered", overlays=layers)
    )
    assert len(payload["overlays"]) == 6 and payload["overlays"][1]["tips"] == [f"{html.escape(HOSTILE)} · fault"]
    assert payload["fills"] == [palettes.DIVERGING[0], palettes.DIVERGING[-1]]
    assert [o.label for o in map_builders.coverage_overlays(None, None, labels=COVERAGE_LABELS, cameras_on=False)] == []


def test_teams_colour_their_grids_and_their_bases_are_marked():
    teams = gpd.GeoDataFrame(
        {schema.TEAM_ID: ["A", "B"], schema.NAME: ["Team A", "Team B"]},
        geometry=[Point(120.005, 30.005), Point(120.025, 30.005)],
        crs=schema.STORAGE_CRS,
    )
    roster = pd.DataFrame({schema.TEAM_ID: ["A", "B"], schema.GRID_ID: ["g1", "g3"]})
    labels = {"legend": "Teams", "team": "Team", "no_team": "none", "bases": "Bases", "base_of": {"A": "a", "B": "b"}}
    payload = update_payload(map_builders.team_update(grids()[schema.GRID_ID], roster, teams, labels=labels))
    assert payload["fills"] == [palettes.TEAM_COLORS[0], palettes.UNASSIGNED, palettes.TEAM_COLORS[1]]
    assert payload["values"] == ["Team A", "none", "Team B"] and payload["title"] == "Team"
    assert payload["legend"].count("<span") == 2
    (bases,) = payload["overlays"]
    assert bases["label"] == "Bases" and bases["color"] == palettes.BASE_MARK and bases["tips"] == ["a", "b"]
    assert len(bases["rings"]) == 2
