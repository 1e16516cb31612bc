"""JSON uploads: GeoJSON (through GDAL, from memory) and Open311 GeoReport v2 lists of service requests.

GDAL never sees a ``crs`` member: the legacy member is taken out of the text (cheaply when it sits
plainly at the top, else by parsing the whole document and removing every spelling of it) and
interpreted here, since a "link" crs would make GDAL fetch a URL. A GeoJSON is WGS84 (RFC 7946) unless
an old-style named ``crs`` says otherwise. Open311 requests become points from their lat/long.

Not here: the GDAL call itself (``core.vector.gdal``), geometry from table columns
(``core.table_geometry``), text decoding (``core.encodings``).
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pyogrio
import pyproj

from core import encodings
from core.crs import WGS84
from core.errors import ReadError
from core.formats import RawRead, ReadOptions, basename, file_stem
from core.table_geometry import table_geometry
from core.vector import gdal

__all__ = ["read_json"]

_CRS_NAME = re.compile(r"^(urn:ogc:def:crs:|EPSG:|OGC:|https?://www\.opengis\.net/def/crs/)", re.I)
_OPEN311_KEYS = {"service_request_id", "requested_datetime", "service_name", "service_code"}


def read_json(name: str, data: bytes, options: ReadOptions) -> RawRead:
    text, encoding, origin = encodings.decode_upload(name, data, options.encoding)
    raw = None
    if text.lstrip()[:1] == "{" and '"type"' in text and '"service_requests"' not in text:
        leading = _leading_crs(text)
        if leading is not None:  # GeoJSON GDAL can parse alone: the file is parsed once, not twice
            try:
                raw = _read_geojson(name, leading[0], leading[1], encoding)
            except ReadError:
                raw = None  # parsed below, for the clearer message
    if raw is None:
        raw = _read_json_document(name, text, encoding, options)
    raw.encoding, raw.encoding_origin = encoding, origin
    raw.notes[:0] = encodings.text_notes(encoding, origin)
    return raw


_CRS_MEMBER = re.compile(r'"crs"\s*:\s*')


# a key a JSON parser reads as "crs" in any case, letters written plainly or as \u escapes
_CRS_SPELLING = re.compile(r'"(?:c|\\u00[46]3)(?:r|\\u00[57]2)(?:s|\\u00[57]3)"\s*:', re.IGNORECASE)


_HEAD = 4096


def _leading_crs(text: str) -> tuple[object, str] | None:
    """``(crs member or None, text without it)`` when the text holds at most one ``crs`` member, written
    plainly at the top of the FeatureCollection before its features (as GDAL and QGIS write it), and
    nothing else that could spell one (another case, a JSON escape); None when only parsing the whole
    document can tell."""
    match = _CRS_MEMBER.search(text, 0, _HEAD)
    if match is None:
        return (None, text) if _CRS_SPELLING.search(text) is None else None
    features = text.find('"features"', 0, _HEAD)
    if -1 < features < match.start() or text.count("{", 0, match.start()) - text.count("}", 0, match.start()) != 1:
        return None
    try:
        declared, end = json.JSONDecoder().raw_decode(text, match.end())
    except json.JSONDecodeError:
        return None
    rest = text[end:].lstrip()
    rest = rest[1:] if rest.startswith(",") else rest
    if _CRS_SPELLING.search(text, 0, match.start()) or _CRS_SPELLING.search(rest):
        return None
    return declared, text[: match.start()] + rest


def _without_crs(text: str) -> tuple[object, object]:
    """``(document, its top-level crs or None)`` with every ``crs`` member removed, however it is spelt
    (any case, JSON escapes, repeated keys), from every object but feature properties (where it is an
    attribute GDAL reads as such): GDAL would follow a "link" crs."""
    removed: dict[int, list[tuple[str, object]]] = {}

    def members(pairs: list[tuple[str, object]]) -> dict:
        kept: dict = {}
        for key, value in pairs:
            if key.strip().lower() == "crs":
                removed.setdefault(id(kept), []).append((key, value))
            else:
                kept[key] = value
        properties = kept.get("properties")
        if isinstance(properties, dict):
            properties.update(removed.pop(id(properties), ()))
        return kept

    document = json.loads(text, object_pairs_hook=members)
    top = removed.get(id(document), [])
    return document, (top[0][1] if top else None)


def _read_json_document(name: str, text: str, encoding: str, options: ReadOptions) -> RawRead:
    try:
        document, declared = _without_crs(text)
    except json.JSONDecodeError as exc:
        raise ReadError(
            f"`{basename(name)}` is not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}). Export the file again as GeoJSON.",
            code="json_invalid",
            params={"name": basename(name), "line": exc.lineno, "column": exc.colno, "reason": exc.msg},
        ) from None
    if isinstance(document, dict) and isinstance(document.get("service_requests"), list):
        document = document["service_requests"]
    if isinstance(document, list):
        return _read_open311(name, document, options)
    if isinstance(document, dict) and "type" in document:
        return _read_geojson(name, declared, json.dumps(document, ensure_ascii=False), encoding)
    raise ReadError(
        f'`{basename(name)}` is JSON but neither GeoJSON (no "type" member) nor an '
        "Open311 list of service requests. Export it as GeoJSON.",
        code="json_not_geojson",
        params={"name": basename(name)},
    )


def _read_geojson(name: str, declared: object, text: str, encoding: str) -> RawRead:
    """GeoJSON through GDAL, from memory. The legacy ``crs`` member (``declared``) has been taken out of
    ``text`` and is interpreted here: GDAL never sees it (a "link" crs would make GDAL fetch a URL)."""
    crs, confirm = _geojson_crs(name, declared)
    frame, notes = gdal(name, pyogrio.read_dataframe, text.encode("utf-8"))
    return RawRead(frame, crs, (file_stem(name),), file_stem(name), notes=notes, confirm=confirm)


def _geojson_crs(name: str, declared: object) -> tuple[pyproj.CRS, list[str]]:
    """A GeoJSON's coordinate system: WGS84 (RFC 7946) unless an old-style named ``crs`` says otherwise."""
    if declared is None:
        return WGS84, []
    properties = declared.get("properties") if isinstance(declared, dict) else None
    named = properties.get("name") if isinstance(properties, dict) else None
    if (
        isinstance(declared, dict)
        and declared.get("type") == "name"
        and isinstance(named, str)
        and _CRS_NAME.match(named)
    ):
        try:
            return pyproj.CRS.from_user_input(named), []
        except pyproj.exceptions.CRSError:
            pass
    return WGS84, ['the file\'s "crs" member could not be used, so WGS84 (EPSG:4326) was assumed as GeoJSON requires']


def _read_open311(name: str, requests: list, options: ReadOptions) -> RawRead:
    """An Open311 GeoReport v2 list of service requests → points (lat/long are WGS84)."""
    if not requests or not all(isinstance(r, dict) for r in requests):
        raise ReadError(
            f"`{basename(name)}` is a JSON list, but not of Open311 service requests "
            "(objects with service_request_id, lat, long, …). Upload GeoJSON instead.",
            code="json_not_open311",
            params={"name": basename(name)},
        )
    if not _OPEN311_KEYS & set().union(*requests):
        raise ReadError(
            f"`{basename(name)}` is a JSON list without Open311 fields "
            "(service_request_id, requested_datetime, service_name). Upload GeoJSON "
            "or a CSV with lon/lat columns instead.",
            code="json_no_open311_fields",
            params={"name": basename(name)},
        )
    rows = [
        {k: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v for k, v in r.items()}
        for r in requests
    ]
    table = pd.DataFrame.from_records(rows)
    frame, crs, notes = table_geometry(name, table, options)
    raw = RawRead(frame, crs or WGS84, (file_stem(name),), file_stem(name), notes=notes)
    raw.notes.insert(0, f"read {len(table)} Open311 service requests")
    return raw
