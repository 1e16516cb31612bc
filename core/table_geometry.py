"""Geometry for the rows of a table (CSV, XLSX, Open311): from the columns the user named, else a WKT
column, lon/lat columns (经度/纬度, lng/lat, x/y …), or text holding a "(lat, lon)" pair.

Columns are recognised by their normalised header (``core.tables.normalised_header``) and by what a
sample of their values holds; x/y columns that hold state-plane feet give way to a column of degree
pairs. Swapped lon/lat columns are told by their ranges. An EWKT ``SRID=…;`` prefix gives the
coordinate system; otherwise the frame comes back without one, for ``core.io`` to settle.

Not here: reading the table (``core.tables``), settling or inferring the coordinate system
(``core.crs``), mapping the other columns (``core.columns``).
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from core.errors import Message, ReadError
from core.formats import ReadOptions, basename
from core.tables import normalised_header

__all__ = ["table_geometry"]

_X_NAMES = (
    "lon",
    "lng",
    "long",
    "longitude",
    "x",
    "xcoord",
    "xcoordinate",
    "pointx",
    "gpslon",
    "gpslng",
    "gpslongitude",
    "经度",
    "东经",
    "x坐标",
    "横坐标",
    "gps经度",
    "经度坐标",
)
_Y_NAMES = (
    "lat",
    "latitude",
    "y",
    "ycoord",
    "ycoordinate",
    "pointy",
    "gpslat",
    "gpslatitude",
    "纬度",
    "北纬",
    "y坐标",
    "纵坐标",
    "gps纬度",
    "纬度坐标",
)
_X_PARTS, _Y_PARTS = ("经度", "longitude"), ("纬度", "latitude")
_WKT_NAMES = ("wkt", "geometry", "geom", "thegeom", "shape", "geometrywkt", "几何", "空间信息", "坐标串")
_WKT_VALUE = re.compile(
    r"^\s*(SRID=\d+;)?\s*(POINT|LINESTRING|POLYGON|MULTIPOINT|MULTILINESTRING"
    r"|MULTIPOLYGON|GEOMETRYCOLLECTION)\b",
    re.IGNORECASE,
)
_SRID = re.compile(r"^\s*SRID=(\d+);", re.IGNORECASE)
# a coordinate pair alone ("41.88,-87.63", "(41.88, -87.63)") or ending a text, as in Chicago-style
# "Location" columns ("1 N STATE ST, CHICAGO (41.88, -87.63)")
_PAIR_VALUE = re.compile(r"^(?:.*[(\[])?\s*(-?\d+(?:\.\d+)?)\s*[,，]\s*(-?\d+(?:\.\d+)?)\s*[)\]]?\s*$", re.DOTALL)
_SAMPLE_ROWS = 50  # values of a column looked at to tell what it holds
_MIN_SHARE = 0.8  # share of sampled values that must look like WKT / a coordinate pair
_MIN_NAMED_SHARE = 0.5  # ... in a column named like a geometry column (wkt, shape, 几何)


def table_geometry(
    name: str, table: pd.DataFrame, options: ReadOptions
) -> tuple[gpd.GeoDataFrame, pyproj.CRS | None, list[str]]:
    """Geometry for a table: the named columns, else a WKT column, lon/lat columns, or "(lat, lon)" text.

    Returns (frame without CRS, the CRS an EWKT prefix declares or None, notes).
    """
    if table.empty:
        raise ReadError(
            f"`{basename(name)}` has a header but no rows. Upload the file with its data.",
            code="table_no_rows",
            params={"name": basename(name)},
        )
    for given in (options.wkt_column, options.x_column, options.y_column):
        if given is not None and given not in table.columns:
            raise ReadError(
                f"`{basename(name)}` has no column `{given}`; its columns are: "
                f"{', '.join(map(str, table.columns[:30]))}. Pick one of those.",
                code="no_such_column",
                params={"name": basename(name), "column": given, "columns": ", ".join(map(str, table.columns[:30]))},
            )
    if options.wkt_column:
        return _wkt_geometry(table, options.wkt_column)
    if options.x_column or options.y_column:
        if not (options.x_column and options.y_column):
            raise ReadError("Give both the x (longitude) and the y (latitude) column, or neither.", code="xy_both")
        return _xy_geometry(name, table, options.x_column, options.y_column)
    wkt = _find_wkt_column(table)
    if wkt is not None:
        return _wkt_geometry(table, wkt)
    x, y = _find_xy_columns(table)
    pair = _find_pair_column(table)
    if x is not None and y is not None and not (pair is not None and not _degrees(table, x, y)):
        return _xy_geometry(name, table, x, y)
    if pair is not None:
        return _pair_geometry(table, pair)
    raise ReadError(
        f"`{basename(name)}` has no columns GridWatch recognises as coordinates (columns: "
        f"{', '.join(map(str, table.columns[:30]))}). Name the longitude and latitude "
        "columns (e.g. 经度/纬度, lon/lat) or the WKT column.",
        code="no_coordinate_columns",
        params={"name": basename(name), "columns": ", ".join(map(str, table.columns[:30]))},
    )


def _sample(series: pd.Series) -> pd.Series:
    return series.dropna().astype(str).head(_SAMPLE_ROWS)


def _find_wkt_column(table: pd.DataFrame) -> str | None:
    """A column named like a geometry column whose values are mostly WKT, else any column of WKT."""

    def wkt_share(column: str) -> float:
        sample = _sample(table[column])
        return sample.str.match(_WKT_VALUE).mean() if len(sample) else 0.0

    named = (c for c in table.columns if normalised_header(c) in _WKT_NAMES and wkt_share(c) >= _MIN_NAMED_SHARE)
    others = (c for c in table.columns if wkt_share(c) >= _MIN_SHARE)
    return next(named, None) or next(others, None)


def _find_xy_columns(table: pd.DataFrame) -> tuple[str | None, str | None]:
    return _find_named(table, _X_NAMES, _X_PARTS), _find_named(table, _Y_NAMES, _Y_PARTS)


def _find_named(table: pd.DataFrame, names: tuple[str, ...], parts: tuple[str, ...]) -> str | None:
    """The first column whose normalised header is one of ``names`` (in their order), else contains one
    of ``parts``; it must hold numbers."""
    headers = {normalised_header(c): c for c in reversed(table.columns)}
    candidates = [headers[n] for n in names if n in headers]
    candidates += [c for c in table.columns if any(p in normalised_header(c) for p in parts)]
    for column in candidates:
        if pd.to_numeric(_sample(table[column]), errors="coerce").notna().mean() >= _MIN_SHARE:
            return column
    return None


def _find_pair_column(table: pd.DataFrame) -> str | None:
    """The first column whose values mostly hold a pair of degrees (one of them a latitude)."""
    for column in table.columns:
        parts = _sample(table[column]).str.extract(_PAIR_VALUE).astype("float64")
        if not len(parts):
            continue
        a, b = parts[0].abs(), parts[1].abs()
        degrees = (a <= 180) & (b <= 180) & ((a <= 90) | (b <= 90))
        if degrees.mean() >= _MIN_SHARE:
            return column
    return None


def _degrees(table: pd.DataFrame, x_column: str, y_column: str) -> bool:
    """Whether the sampled x/y values look like longitude/latitude degrees (not, e.g., state-plane feet)."""
    x = pd.to_numeric(_sample(table[x_column]), errors="coerce").abs()
    y = pd.to_numeric(_sample(table[y_column]), errors="coerce").abs()
    return bool(((x <= 180) & (y <= 180)).mean() >= _MIN_SHARE)


def _frame(table: pd.DataFrame, geoms: np.ndarray) -> gpd.GeoDataFrame:
    if "geometry" in table.columns:
        table = table.rename(columns={"geometry": "geometry_text"})
    return gpd.GeoDataFrame(table.reset_index(drop=True), geometry=geoms)


def _wkt_geometry(table: pd.DataFrame, column: str) -> tuple[gpd.GeoDataFrame, pyproj.CRS | None, list[str]]:
    text = table[column].astype("str").str.strip()
    srids = text.str.extract(_SRID, expand=False).dropna().unique()
    geoms = shapely.from_wkt(text.str.replace(_SRID, "", regex=True).to_numpy(dtype=object), on_invalid="ignore")
    notes: list[str] = [
        Message(f"read geometry from the WKT column `{column}`", code="wkt_column", params={"column": column})
    ]
    bad = int((table[column].notna().to_numpy() & shapely.is_missing(geoms)).sum())
    if bad:
        notes.append(
            Message(
                f"{bad} value(s) in `{column}` are not valid WKT; those rows have no geometry",
                code="wkt_invalid",
                params={"count": bad, "column": column},
            )
        )
    crs = _srid_crs(column, srids[0]) if len(srids) == 1 else None
    return _frame(table.drop(columns=[column]), geoms), crs, notes


def _srid_crs(column: str, srid: str) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_epsg(int(srid))
    except pyproj.exceptions.CRSError:
        raise ReadError(
            f"the WKT in column `{column}` says SRID={srid[:12]}, which is not an EPSG code "
            "GridWatch knows. Remove the SRID=…; prefix and pick the coordinate system, or use a "
            "real code such as 4490 (CGCS2000).",
            code="wkt_srid",
            params={"column": column, "srid": srid[:12]},
        ) from None


def _numbers(series: pd.Series) -> np.ndarray:
    text = series.astype("str").str.strip().str.replace("°", "", regex=False)
    return pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64")


def _points(table: pd.DataFrame, x: np.ndarray, y: np.ndarray, label: str) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Points from coordinate arrays; rows without both numbers get no geometry (and a note)."""
    ok = np.isfinite(x) & np.isfinite(y)
    geoms = np.full(len(table), None, dtype=object)
    geoms[ok] = shapely.points(x[ok], y[ok])
    notes: list[str] = [Message(f"made points from {label}", code="made_points", params={"source": label})]
    if not ok.all():
        notes.append(
            Message(
                f"{int((~ok).sum())} row(s) have no usable coordinates and no geometry",
                code="no_coordinates",
                params={"count": int((~ok).sum())},
            )
        )
    return _frame(table, geoms), notes


def _xy_geometry(
    name: str, table: pd.DataFrame, x_column: str, y_column: str
) -> tuple[gpd.GeoDataFrame, None, list[str]]:
    x, y = _numbers(table[x_column]), _numbers(table[y_column])
    if not (np.isfinite(x) & np.isfinite(y)).any():
        raise ReadError(
            f"`{basename(name)}`: columns `{x_column}` and `{y_column}` hold no numbers. "
            "Pick the columns that hold the coordinates.",
            code="xy_not_numbers",
            params={"name": basename(name), "x": x_column, "y": y_column},
        )
    swapped = np.nanmax(np.abs(y)) > 90 >= np.nanmax(np.abs(x))
    if swapped:
        x, y, x_column, y_column = y, x, y_column, x_column
    frame, notes = _points(table, x, y, f"columns `{x_column}` (x) and `{y_column}` (y)")
    if swapped:
        notes.append(
            Message(
                f"`{x_column}` holds the longitudes (values above 90 cannot be latitudes)",
                code="xy_swapped",
                params={"column": x_column},
            )
        )
    return frame, None, notes


def _pair_geometry(table: pd.DataFrame, column: str) -> tuple[gpd.GeoDataFrame, None, list[str]]:
    """Points from text like "(41.85, -87.62)": the order is told by the ranges (|lat| ≤ 90)."""
    parts = table[column].astype("str").str.extract(_PAIR_VALUE)
    first, second = (pd.to_numeric(parts[i], errors="coerce").to_numpy(dtype="float64") for i in (0, 1))
    if np.nanmax(np.abs(first), initial=0) > 90 >= np.nanmax(np.abs(second), initial=0):
        lon, lat, order = first, second, "(lon, lat)"
    else:
        lon, lat, order = second, first, "(lat, lon)"
    frame, notes = _points(table, lon, lat, f"the {order} pairs in `{column}`")
    if order == "(lat, lon)" and np.nanmax(np.abs(second), initial=0) <= 90:
        notes.append(
            Message(
                f"both numbers in `{column}` could be latitudes; read as (latitude, longitude), the "
                "usual order of such text (open data portals, Google)",
                code="pair_order",
                params={"column": column},
            )
        )
    return frame, None, notes
