"""China's obfuscated datums: GCJ-02 (Gaode, Tencent) and BD-09 (Baidu), and how to spot them.

Web maps in China publish coordinates in GCJ-02, a WGS84 lon/lat with a deliberate, smoothly varying
offset of 265–620 m; Baidu adds its own shift on top (BD-09, about 1 km from WGS84). Files cut from those
maps usually carry no .prj, or a .prj that says WGS84. Nothing in the file tells them apart, so
:func:`detect_datum_offset` compares the data with a layer the user trusts: the data as it is, and the
data converted from GCJ-02 and from BD-09, are each laid over the reference, and the best fit wins when
it is clearly better. Conversion is never applied silently; :func:`convert_datum` does it on request.

The forward GCJ-02 formula is the published one; its inverse has no closed form and is solved by fixed-
point iteration, which converges to ~1e-9° in a few steps. Points outside China are never shifted (the
formula itself leaves them alone).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike

__all__ = [
    "OffsetGuess",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "convert_datum",
    "detect_datum_offset",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

GCJ02 = "gcj02"
BD09 = "bd09"
DATUMS = (GCJ02, BD09)

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by the GCJ-02 formula
_EE = 0.00669342162296594323  # its first eccentricity squared
_BD_X_PI = np.pi * 3000.0 / 180.0
_BD_DX, _BD_DY = 0.0065, 0.006
_CHINA = (72.004, 0.8293, 137.8347, 55.8271)  # lon/lat box where the GCJ-02 shift applies
_INVERSE_TOLERANCE_DEG = 1e-10
_INVERSE_MAX_STEPS = 30

_MAX_SAMPLE = 2000  # features (or points) of each layer compared; enough for a stable share
_MIN_GAIN = 0.02  # a shifted fit must beat the as-is fit by this share to be suggested
_MIN_FIT = 0.5  # ... and reach at least this share
_NEAR_M = 3000.0  # frame features farther than this from the reference are ignored
_GEOD = pyproj.Geod(ellps="WGS84")
_POINT_TYPES = ("Point", "MultiPoint")
_AREA_TYPES = ("Polygon", "MultiPolygon")


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    west, south, east, north = _CHINA
    return (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 offset (degrees) at WGS84 ``lon``/``lat``; zero outside China."""
    x, y = lon - 105.0, lat - 35.0
    ripple = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0  # in both offsets
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x)) + ripple
    dlat = dlat + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat = dlat + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + ripple
    dlon = dlon + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon = dlon + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (_A / sqrt_magic * np.cos(rad) * np.pi)
    inside = _in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def _arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lon/lat arrays → GCJ-02 (what Gaode/Tencent maps show)."""
    lon, lat = _arrays(lon, lat)
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 lon/lat arrays → WGS84 by fixed-point iteration of the forward formula (~1e-9°)."""
    gcj_lon, gcj_lat = _arrays(lon, lat)
    return _invert(wgs84_to_gcj02, gcj_lon, gcj_lat, gcj_lon.copy(), gcj_lat.copy())


def _invert(
    forward: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    lon: np.ndarray,
    lat: np.ndarray,
    guess_lon: np.ndarray,
    guess_lat: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``forward(x, y) == (lon, lat)`` by fixed-point iteration from the guess.

    Both datum shifts change slowly with position, so each step removes almost all of the error.
    """
    for _ in range(_INVERSE_MAX_STEPS):
        fwd_lon, fwd_lat = forward(guess_lon, guess_lat)
        err_lon, err_lat = fwd_lon - lon, fwd_lat - lat
        guess_lon, guess_lat = guess_lon - err_lon, guess_lat - err_lat
        err = np.abs(np.concatenate([err_lon.ravel(), err_lat.ravel()]))
        err = err[np.isfinite(err)]
        if err.size == 0 or err.max() <= _INVERSE_TOLERANCE_DEG:
            break
    return guess_lon, guess_lat


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 lon/lat arrays → BD-09 (what Baidu maps show)."""
    x, y = _arrays(lon, lat)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta) + _BD_DX, z * np.sin(theta) + _BD_DY


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 lon/lat arrays → GCJ-02 by fixed-point iteration of :func:`gcj02_to_bd09`."""
    bd_lon, bd_lat = _arrays(lon, lat)
    return _invert(gcj02_to_bd09, bd_lon, bd_lat, bd_lon - _BD_DX, bd_lat - _BD_DY)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 lon/lat arrays → WGS84."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lon/lat arrays → BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


_TO_WGS84 = {GCJ02: gcj02_to_wgs84, BD09: bd09_to_wgs84}
_DATUM_NAMES = {GCJ02: "GCJ-02 (Gaode/Tencent)", BD09: "BD-09 (Baidu)"}


def convert_datum(frame: gpd.GeoDataFrame, datum: str) -> gpd.GeoDataFrame:
    """A copy of ``frame`` (lon/lat) with every coordinate converted from ``datum`` to WGS84.

    ``datum`` is ``"gcj02"`` or ``"bd09"``. The CRS label stays EPSG:4326: GCJ-02 and BD-09 are
    offsets applied to WGS84 lon/lat, not coordinate systems with codes of their own.
    """
    if datum not in _TO_WGS84:
        raise ValueError(f"datum must be one of {DATUMS}, got {datum!r}")
    convert = _TO_WGS84[datum]
    geoms = shapely.transform(frame.geometry.array, lambda xy: np.column_stack(convert(xy[:, 0], xy[:, 1])))
    return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))


@dataclass(frozen=True)
class OffsetGuess:
    """What :func:`detect_datum_offset` found.

    ``datum`` is the datum the data seems to be in (``"gcj02"`` / ``"bd09"``), or None when the data fits
    as it is or nothing can be said. ``shift_m`` is how far converting would move the data (median, metres).
    The scores are the share of the data that fits the reference (0–1; see ``explanation``) as it is
    and after the best conversion.
    """

    datum: str | None
    shift_m: float
    score_wgs84: float
    score_shifted: float
    explanation: str


def detect_datum_offset(frame: gpd.GeoDataFrame, reference: gpd.GeoDataFrame | None) -> OffsetGuess:
    """Guess whether lon/lat ``frame`` is really GCJ-02 or BD-09 by laying it over a trusted ``reference``.

    Both layers are in EPSG:4326. Polygons are compared by nesting: the area-weighted share of each
    feature that lies inside a single feature of the other layer (streets in one district, grids in one
    community), taking whichever direction nests. Points are compared by the share that falls inside the
    reference polygons. The data as it is, converted from GCJ-02, and converted from BD-09 are scored; a
    conversion is suggested only when it fits clearly better (by at least 2 percentage points).
    """
    if reference is None or reference.empty:
        return _no_guess(
            "there is no reference layer to compare with; load the active grids or another "
            "layer you trust, then check again"
        )
    lon, lat = _sample_coords(frame)
    if len(lon) == 0:
        return _no_guess("the layer has no coordinates to compare")
    if _in_china(lon, lat).mean() <= 0.5:
        return _no_guess("the data lies outside China, where GCJ-02 and BD-09 are not used")
    data, ref = _valid(frame), _valid(reference)
    data = data.iloc[:: max(1, len(data) // _MAX_SAMPLE)]  # an even sample is enough to score
    if not ref.geom_type.isin(_AREA_TYPES).any():
        return _no_guess("the reference layer has no polygons to compare with; use grids or boundaries")
    score = _scorer(data, ref)
    if score is None:
        return _no_guess("only polygons and points can be compared; convert boundary lines to polygons first")
    as_is = score(data)
    shifted = {datum: score(convert_datum(data, datum)) for datum in DATUMS}
    best = max(shifted, key=lambda datum: shifted[datum])
    shift_m = _shift_m(lon, lat, best)
    if as_is == 0 and shifted[best] == 0:
        return OffsetGuess(
            None,
            shift_m,
            as_is,
            shifted[best],
            "the layer and the reference do not overlap, so no datum can be inferred",
        )
    if shifted[best] >= max(as_is + _MIN_GAIN, _MIN_FIT):
        return OffsetGuess(
            best,
            shift_m,
            as_is,
            shifted[best],
            f"the data fits the reference better as {_DATUM_NAMES[best]}: "
            f"{shifted[best]:.0%} fits after converting to WGS84 against {as_is:.0%} as it "
            f"is; converting would move it about {shift_m:.0f} m",
        )
    return OffsetGuess(
        None,
        shift_m,
        as_is,
        shifted[best],
        f"the data fits the reference as it is ({as_is:.0%}; {shifted[best]:.0%} if it "
        f"were {_DATUM_NAMES[best]}); no conversion needed",
    )


def _no_guess(why: str) -> OffsetGuess:
    return OffsetGuess(None, 0.0, 0.0, 0.0, why)


def _valid(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Present, non-empty, valid geometries only (invalid polygons are repaired for measuring)."""
    geoms = frame.geometry.array
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    finite = np.ones(len(geoms), dtype=bool)  # a NaN or infinite vertex cannot be measured
    finite[owner[~np.isfinite(coords).all(axis=1)]] = False
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) & finite
    out = frame.loc[keep, [frame.geometry.name]]
    return out.set_geometry(gpd.GeoSeries(shapely.make_valid(out.geometry.array), index=out.index, crs=frame.crs))


def _sample_coords(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``_MAX_SAMPLE`` representative coordinates of ``frame``, evenly spread over its vertices."""
    coords = shapely.get_coordinates(frame.geometry.array)
    coords = _thin(coords[np.isfinite(coords).all(axis=1)])
    return coords[:, 0], coords[:, 1]


def _shift_m(lon: np.ndarray, lat: np.ndarray, datum: str) -> float:
    """Median distance in metres that converting ``lon``/``lat`` from ``datum`` would move them."""
    if len(lon) == 0:
        return 0.0
    new_lon, new_lat = _TO_WGS84[datum](lon, lat)
    _, _, dist = _GEOD.inv(lon, lat, new_lon, new_lat)
    return float(np.median(dist))


def _scorer(data: gpd.GeoDataFrame, ref: gpd.GeoDataFrame) -> Callable[[gpd.GeoDataFrame], float] | None:
    """The fit measure for this pair of layers, or None when their geometry types cannot be compared."""
    types = set(data.geom_type)
    ref_areas = ref[ref.geom_type.isin(_AREA_TYPES)].geometry.array
    if types <= set(_POINT_TYPES):
        return lambda candidate: _points_inside_share(candidate.geometry.array, ref_areas)
    if types <= set(_AREA_TYPES):
        return lambda candidate: _nesting_share(candidate.geometry.array, ref_areas)
    return None


def _thin(geoms: np.ndarray) -> np.ndarray:
    """At most about ``_MAX_SAMPLE`` of ``geoms``, evenly spread."""
    return geoms[:: max(1, len(geoms) // _MAX_SAMPLE)]


def _points_inside_share(points: np.ndarray, areas: np.ndarray) -> float:
    """Share of ``points`` that fall inside any of ``areas``."""
    tree = shapely.STRtree(areas)
    hits = tree.query(points, predicate="intersects")
    return float(len(np.unique(hits[0])) / len(points)) if len(points) else 0.0


def _nesting_share(a: np.ndarray, b: np.ndarray) -> float:
    """How well polygons ``a`` and ``b`` nest: the better of both directions (see ``_one_way_nesting``)."""
    near = _near(a, b)
    return max(_one_way_nesting(a[near], b), _one_way_nesting(_thin(b), a[near]))


def _near(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mask of ``a`` features within ``_NEAR_M`` of the bounding box of ``b`` (degrees, roughly)."""
    west, south, east, north = shapely.total_bounds(b)
    margin = _NEAR_M / 111_000.0 / max(np.cos(np.radians((south + north) / 2)), 0.1)
    box = shapely.box(west - margin, south - margin, east + margin, north + margin)
    return shapely.intersects(a, box)


def _one_way_nesting(inner: np.ndarray, outer: np.ndarray) -> float:
    """Share of the ``inner`` polygons' total area that lies inside, for each, its best-matching
    ``outer`` polygon (1.0: every inner polygon sits wholly in one outer polygon).

    Areas are in square degrees: only ratios within one feature are used, so the scale cancels.
    """
    if len(inner) == 0 or len(outer) == 0:
        return 0.0
    tree = shapely.STRtree(outer)
    i, j = tree.query(inner, predicate="intersects")
    areas = shapely.area(inner)
    best = np.zeros(len(inner))
    if len(i):
        overlap = shapely.area(shapely.intersection(inner[i], outer[j]))
        np.maximum.at(best, i, overlap)
    total = areas.sum()
    return float(best.sum() / total) if total > 0 else 0.0
