"""Every colour the dashboard draws with: map fills, outlines, legends, layer colours and the report's charts.

One room so that a colour means one thing on every page (green is good, red is bad, grey is "no data").
The map scripts get ``SCRIPT_COLORS`` with their configuration (only the white and shadow of marker
badges stay in their inline styles). Not here: which value gets which colour (``components.maps``
classes values into these palettes; the page builders in ``components.map_builders`` pick a palette per
layer).
"""

from __future__ import annotations

from core import hotspots

__all__ = [
    "ACTIVE_OUTLINE",
    "BASE_MARK",
    "CAMERA_COLORS",
    "CHANGE_COLORS",
    "COMMUNITY_OUTLINE",
    "COVERAGE_COLORS",
    "DENSITY_LEGEND",
    "DENSITY_PALETTE",
    "DENSITY_RAMP",
    "DISTRICT_OUTLINE",
    "DIVERGING",
    "EMERGING_COLORS",
    "FLAG_COLORS",
    "HOT_COLORS",
    "NEUTRAL",
    "NO_DATA",
    "PALETTE",
    "REPORT_HEADER",
    "SCRIPT_COLORS",
    "SERVICE_COLORS",
    "SITE_COLOR",
    "STREET_OUTLINE",
    "TEAM_COLORS",
    "TREND_COLORS",
    "UNASSIGNED",
]

# ---- value classes -------------------------------------------------------------------------------
PALETTE: tuple[str, ...] = (
    "#ffffb2",
    "#fed976",
    "#feb24c",
    "#fd8d3c",
    "#f03b20",
    "#bd0026",
)  # ColorBrewer YlOrRd, 6 classes
DIVERGING: tuple[str, ...] = ("#d73027", "#fc8d59", "#fee08b", "#91cf60", "#1a9850")  # worse → better
NO_DATA = "#f0f0f0"
NEUTRAL = "#ffffff"  # zero of a count, or a map with nothing to compare: neither good nor bad
DENSITY_PALETTE: tuple[str, ...] = ("#fee5d9", "#fcbba1", "#fc9272", "#fb6a4a", "#de2d26", "#a50f15")  # ticket hexagons
DENSITY_RAMP: tuple[str, ...] = (
    "#ffffb2",
    "#fecc5c",
    "#fd8d3c",
    "#f03b20",
    "#bd0026",
)  # the kernel density raster, low → high
DENSITY_LEGEND: tuple[str, ...] = ("#bd0026", "#fd8d3c", "#ffffb2")  # its legend: the peak, a tenth, a hundredth

# ---- outlines ------------------------------------------------------------------------------------
COMMUNITY_OUTLINE = "#1f3b73"
STREET_OUTLINE = "#08306b"
DISTRICT_OUTLINE = "#1f3b73"
ACTIVE_OUTLINE = "#888888"  # the boundaries an upload would replace

# ---- layers --------------------------------------------------------------------------------------
CHANGE_COLORS = {"added": "#1a9850", "changed": "#f46d43", "unchanged": "#74add1"}  # a boundary upload's grids
CAMERA_COLORS = {"online": "#1a9850", "offline": "#d7301f", "fault": "#e6550d"}  # a camera down is red
SERVICE_COLORS: tuple[str, ...] = (
    "#6a51a3",
    "#2171b5",
    "#cb181d",
    "#238b45",
    "#d94801",
    "#8c6d31",
    "#e7298a",
    "#525252",
)
HOT_COLORS = {-3: "#2166ac", -2: "#67a9cf", -1: "#d1e5f0", 0: "#f7f7f7", 1: "#fddbc7", 2: "#ef8a62", 3: "#b2182b"}
EMERGING_COLORS = dict(
    zip(
        hotspots.EMERGING_CLASSES,
        (  # new … historical, none
            "#fed976",
            "#fd8d3c",
            "#bd0026",
            "#800026",
            "#fc9272",
            "#c994c7",
            "#807dba",
            "#bdbdbd",
            "#f7f7f7",
        ),
        strict=True,
    )
)
COVERAGE_COLORS = {
    "views": "#1a9850",
    "down": "#d73027",
    "lost": "#d73027",
    "gap": "#fee08b",
    "reach": "#4575b4",
    "unserved": "#f46d43",
}
SITE_COLOR = "#6a3d9a"  # proposed camera or service sites
TEAM_COLORS: tuple[str, ...] = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
    "#aec7e8",
    "#ffbb78",
    "#98df8a",
    "#ff9896",
    "#c5b0d5",
    "#c49c94",
    "#f7b6d2",
    "#9edae5",
    "#dbdb8d",
    "#393b79",
)
UNASSIGNED = "#f0f0f0"  # a grid no patrol team covers
BASE_MARK = "#222222"  # a patrol team's base

# ---- inside the map scripts (live_map.js, choropleth.js get them as ``cfg.colors``) ---------------
SCRIPT_COLORS = {
    "line": "#555555",  # unit borders
    "noData": NO_DATA,
    "selected": "#08306b",  # the clicked grid's border
    "alert": "#d7301f",  # overdue tickets, cameras down (cluster badges), the focus ring
    "ticket": "#fd8d3c",  # an open ticket on time
    "fresh": "#6a00a8",  # the ring of a ticket that arrived since the page was opened
    "checkin": "#238b45",
    "halo": "#ffffff",  # marker borders, density hexagon borders
    "clusters": {"cameras": "#3b6fb6", "services": "#6a51a3", "tickets": "#e6550d", "checkins": "#238b45"},
}

# ---- the meeting report --------------------------------------------------------------------------
FLAG_COLORS = {"red": "#d73027", "yellow": "#fdae61"}
TREND_COLORS: tuple[str, ...] = ("#2171b5", "#d94801", "#238b45", "#6a51a3")
REPORT_HEADER = "#eef2f7"
