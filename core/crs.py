"""Coordinate systems of uploads: the user's choice parsed, a missing one inferred from the numbers,
and the result checked to be lon/lat on Earth.

Degrees → WGS84 (EPSG:4326), to be confirmed by the user (GCJ-02/BD-09 cannot be told from the numbers;
``core.coords`` compares with a trusted layer); CGCS2000 Gauss-Krüger metres with a zone number in front
→ that zone (EPSG:4513–4533 for 3° zones, 4491–4501 for 6°); metres without a zone, or anything else →
``ReadError`` asking the user to pick one. ``core.io`` settles which of file, user or inference applies.

Not here: a GeoJSON's ``crs`` member (``core.geojson``), an EWKT SRID (``core.table_geometry``),
GCJ-02/BD-09 datums (``core.coords``).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from core.errors import Message, ReadError
from core.formats import basename

__all__ = [
    "WGS84",
    "check_lonlat",
    "coordinate_bounds",
    "crs_description",
    "crs_label",
    "infer_crs",
    "user_crs",
]

WGS84 = pyproj.CRS.from_epsg(4326)
_GK_NORTHING = (1_800_000, 6_100_000)  # Gauss-Krüger northings across China (about 16°N–55°N)
_GK_EASTING = (100_000, 900_000)  # eastings within a zone, false easting 500 km
_GK3_ZONES = (25, 45, 4513)  # prefixed 3° zones 25–45 → EPSG:4513–4533
_GK6_ZONES = (13, 23, 4491)  # prefixed 6° zones 13–23 → EPSG:4491–4501


def user_crs(name: str, crs: str) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError:
        raise ReadError(
            f"`{crs[:80]}` is not a coordinate system GridWatch knows (for "
            f"`{basename(name)}`). Give an EPSG code such as EPSG:4490 (CGCS2000) or "
            "EPSG:4549 (CGCS2000 Gauss-Krüger 120°E).",
            code="unknown_crs",
            params={"crs": crs[:80], "name": basename(name)},
        ) from None


def crs_label(crs: pyproj.CRS) -> str:
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.name


def crs_description(crs: pyproj.CRS) -> str:
    label = crs_label(crs)
    return label if label == crs.name else f"{label} ({crs.name})"


def coordinate_bounds(frame: gpd.GeoDataFrame) -> tuple[float, float, float, float] | None:
    coords = shapely.get_coordinates(frame.geometry.array)
    coords = coords[np.isfinite(coords).all(axis=1)]
    if not len(coords):
        return None
    (x0, y0), (x1, y1) = coords.min(axis=0), coords.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


def infer_crs(name: str, bounds: tuple[float, float, float, float], confirm: list[str]) -> pyproj.CRS:
    """The coordinate system the numbers must be in, or ReadError asking the user to pick one."""
    x0, y0, x1, y1 = bounds
    where = f"x {x0:,.6g} to {x1:,.6g}, y {y0:,.6g} to {y1:,.6g}"
    if x0 >= -180 and x1 <= 180 and y0 >= -90 and y1 <= 90:
        confirm.append(
            Message(
                f"the file does not say its coordinate system; the coordinates ({where}) look like "
                "longitude/latitude degrees, so WGS84 (EPSG:4326) was assumed. Data copied "
                "from Gaode/Tencent (GCJ-02) or Baidu (BD-09) maps is off by 300 m–1 km: check "
                "the datum against your grids",
                code="assumed_wgs84",
                params={"where": where},
            )
        )
        return WGS84
    if _GK_NORTHING[0] <= y0 and y1 <= _GK_NORTHING[1]:
        zone = int(x0 // 1_000_000)
        if zone == int(x1 // 1_000_000) and _GK_EASTING[0] <= x0 - zone * 1e6 and x1 - zone * 1e6 <= _GK_EASTING[1]:
            for first, last, epsg in (_GK3_ZONES, _GK6_ZONES):
                if first <= zone <= last:
                    crs = pyproj.CRS.from_epsg(epsg + zone - first)
                    confirm.append(
                        Message(
                            f"the file does not say its coordinate system; the coordinates "
                            f"({where}) look like CGCS2000 Gauss-Krüger metres with the zone "
                            f"number {zone} in front, so {crs_description(crs)} was assumed",
                            code="assumed_gauss_kruger",
                            params={"where": where, "zone": zone, "crs": crs_description(crs)},
                        )
                    )
                    return crs
        if _GK_EASTING[0] <= x0 and x1 <= _GK_EASTING[1]:
            raise ReadError(
                f"`{basename(name)}` does not say its coordinate system, and its "
                f"coordinates ({where}) look like Gauss-Krüger or UTM metres without a zone "
                "number, so the zone cannot be told. Pick it: CGCS2000 3° zones are "
                "EPSG:4534 (central meridian 75°E) to EPSG:4554 (135°E), e.g. EPSG:4548 "
                "(117°E, Beijing) or EPSG:4549 (120°E, Hangzhou, Shanghai); 6° zones are "
                "EPSG:4502 (75°E) to EPSG:4512 (135°E).",
                code="crs_zone_unknown",
                params={"name": basename(name), "where": where},
            )
    raise ReadError(
        f"`{basename(name)}` does not say its coordinate system, and its coordinates "
        f"({where}) are neither longitude/latitude degrees nor Chinese Gauss-Krüger metres. "
        "Pick the coordinate system it was drawn in (e.g. EPSG:4490 for CGCS2000 lon/lat).",
        code="crs_unknown_numbers",
        params={"name": basename(name), "where": where},
    )


def check_lonlat(name: str, frame: gpd.GeoDataFrame, source: pyproj.CRS | None, origin: str) -> None:
    bounds = coordinate_bounds(frame)
    if bounds is None or source is None:  # no coordinates, or (the same) no coordinate system to blame
        return
    x0, y0, x1, y1 = bounds
    if x0 >= -180 and x1 <= 180 and y0 >= -90 and y1 <= 90:
        return
    said = {"file": "the file says", "user": "you chose", "inferred": "it looked like"}[origin]
    raise ReadError(
        f"`{basename(name)}`: {said} its coordinates are in {crs_description(source)}, but "
        f"read that way they run from x {x0:,.6g} to {x1:,.6g} and y {y0:,.6g} to {y1:,.6g}, "
        "which is not on Earth. Pick the coordinate system it was really drawn in (e.g. "
        "EPSG:4549 for CGCS2000 Gauss-Krüger 120°E).",
        code="crs_not_on_earth",
        params={
            "name": basename(name),
            "origin": origin,
            "crs": crs_description(source),
            "where": f"x {x0:,.6g} to {x1:,.6g}, y {y0:,.6g} to {y1:,.6g}",
        },
    )
