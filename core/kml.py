"""KML parsing: Placemarks, their layers (Folders), ExtendedData and geometry, without GDAL.

Parsed here rather than by GDAL's KML drivers so that nothing in the file is ever followed (NetworkLink,
external styles, schemas). Any DOCTYPE or ENTITY declaration is refused before a parser sees the
bytes (UTF-16 text, with or without a byte order mark, is decoded first), and the parser (defusedxml)
refuses them again. Folders may nest ``MAX_FOLDER_DEPTH`` deep. Coordinates are WGS84 lon,lat[,alt];
altitudes are dropped and counted. A KMZ is a zip (opened by ``core.archives``) whose doc.kml (else
its first .kml) is read.

Not here: GDAL's KML drivers (never used), the coordinate system (KML is always WGS84).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_xml
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from defusedxml import DefusedXmlException

from core.archives import open_zip, read_member
from core.crs import WGS84
from core.errors import Message, ReadError
from core.formats import RawRead, ReadOptions, basename, file_stem, file_suffix, ignore_encoding, pick_layer

__all__ = [
    "MAX_FOLDER_DEPTH",
    "declared_encoding",
    "features",
    "file_layers",
    "kmz_document",
    "placemarks",
    "read_kml",
    "read_kmz",
]

_XML_DECLARATIONS = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)[\"']")
_UTF16_STARTS = {
    codecs.BOM_UTF16_LE: "utf-16",
    codecs.BOM_UTF16_BE: "utf-16",
    b"<\x00": "utf-16-le",
    b"\x00<": "utf-16-be",
}
MAX_FOLDER_DEPTH = 100


def placemarks(label: str, data: bytes, default_layer: str) -> list[tuple[str, Element]]:
    """Every Placemark of the KML document ``data`` with its layer: the path of Folders it sits in
    ("区/社区"), else the Document's name (or ``default_layer``) for Placemarks outside any Folder.
    ``label`` names the file in errors."""
    root = _root(label, data)
    document = next((e for e in root.iter() if _local(e.tag) == "Document"), None)
    top = (_name(document) if document is not None else "") or default_layer
    found: list[tuple[str, Element]] = []

    stack: list[tuple[Iterator[Element], tuple[str, ...]]] = [(iter(root), ())]
    while stack:  # depth first in document order, without recursion
        children, path = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            continue
        tag = _local(child.tag)
        if tag == "Placemark":
            found.append(("/".join(path) or top, child))
        elif tag in ("Folder", "Document"):
            inner = (*path, _name(child) or f"folder {len(found) + 1}") if tag == "Folder" else path
            if len(inner) > MAX_FOLDER_DEPTH:
                raise ReadError(
                    f"`{label}` nests Folders more than {MAX_FOLDER_DEPTH} deep; GridWatch "
                    f"reads at most {MAX_FOLDER_DEPTH} levels. Flatten the folders (e.g. one "
                    "per community) and export again.",
                    code="kml_deep",
                    params={"file": label, "depth": MAX_FOLDER_DEPTH},
                )
            stack.append((iter(child), inner))
    return found


def features(found: list[tuple[str, Element]]) -> tuple[list[dict[str, str | None]], list, int]:
    """(properties, geometries, how many had altitudes) of Placemarks: properties are name,
    description and every ExtendedData Data/SimpleData value; geometry is 2-D shapely or None."""
    rows, geoms, with_z = [], [], 0
    for _, placemark in found:
        rows.append(_properties(placemark))
        geom, has_z = _geometry(placemark)
        geoms.append(geom)
        with_z += has_z
    return rows, geoms, with_z


def declared_encoding(data: bytes) -> str:
    """The encoding in the XML declaration (UTF-8 when there is none)."""
    declared = _XML_ENCODING.match(data)
    return declared.group(1).decode().lower() if declared else "utf-8"


def file_layers(name: str, data: bytes) -> tuple[str, ...]:
    """The layers of the KML upload ``name``: its Folder paths (see :func:`placemarks`), in order."""
    found = placemarks(basename(name), data, file_stem(name))
    return tuple(dict.fromkeys(layer for layer, _ in found))


def kmz_document(name: str, data: bytes) -> bytes:
    """The KML document of the KMZ upload ``name``: its doc.kml, else its first .kml."""
    archive, members = open_zip(name, data)
    documents = [(m, info) for m, info in members if file_suffix(m) == ".kml"]
    if not documents:
        raise ReadError(
            f"`{basename(name)}` holds no .kml document. Export the KMZ again from Google Earth or your map tool.",
            code="kmz_no_kml",
            params={"name": basename(name)},
        )
    documents.sort(key=lambda item: (basename(item[0]).lower() != "doc.kml", item[0]))
    return read_member(name, archive, documents[0][1])


def read_kmz(name: str, data: bytes, options: ReadOptions) -> RawRead:
    return read_kml(name, kmz_document(name, data), options)


def read_kml(name: str, data: bytes, options: ReadOptions) -> RawRead:
    """The Placemarks of the layer ``options.file_layer`` (else the first) as WGS84 features."""
    found = placemarks(basename(name), data, file_stem(name))
    layers = tuple(dict.fromkeys(layer for layer, _ in found))
    notes: list[str] = []
    layer = pick_layer(name, layers, options.file_layer, notes)
    rows, geoms, with_z = features([item for item in found if item[0] == layer])
    frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=np.array(geoms, dtype=object))
    if with_z:
        notes.append(
            Message(
                f"dropped Z coordinates (altitude) from {with_z} features", code="dropped_z", params={"count": with_z}
            )
        )
    raw = RawRead(frame, WGS84, layers, layer, declared_encoding(data), "file", notes)
    ignore_encoding(raw, options, "KML declares its own encoding")
    return raw


def _root(label: str, data: bytes) -> Element:
    """The parsed document, after refusing any DOCTYPE/ENTITY (entity expansion, external fetches)."""
    probe = data
    utf16 = next((codec for start, codec in _UTF16_STARTS.items() if data.startswith(start)), None)
    if utf16 is not None:
        probe = data.decode(utf16, errors="replace").encode("utf-8")
    if _XML_DECLARATIONS.search(probe):
        raise ReadError(
            f"`{label}` declares a DOCTYPE or ENTITY; XML with declarations is refused for "
            "safety. Export the KML again from Google Earth or QGIS (they do not write one).",
            code="kml_doctype",
            params={"name": label},
        )
    try:
        return safe_xml.fromstring(data)
    except (ParseError, DefusedXmlException) as exc:
        raise ReadError(
            f"`{label}` is not well-formed KML ({str(exc)[:120]}). Export it again.",
            code="kml_malformed",
            params={"name": label, "reason": str(exc)[:120]},
        ) from None


def _local(tag: object) -> str:
    """A tag without its namespace ("{http://www.opengis.net/kml/2.2}Point" → "Point")."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(elem: Element | None, tag: str) -> Element | None:
    """The first child with this local tag (None under a missing element)."""
    return None if elem is None else next((c for c in elem if _local(c.tag) == tag), None)


def _text(elem: Element | None) -> str | None:
    """An element's stripped text; None for a missing element or empty text."""
    return ((elem.text or "").strip() or None) if elem is not None else None


def _name(elem: Element) -> str:
    return _text(_child(elem, "name")) or ""


def _properties(placemark: Element) -> dict[str, str | None]:
    """name, description and every ExtendedData Data/SimpleData value of a Placemark."""
    row = {tag: _text(_child(placemark, tag)) for tag in ("name", "description") if _child(placemark, tag) is not None}
    for elem in placemark.iter():
        tag = _local(elem.tag)
        name = elem.get("name")
        if tag == "Data" and name:
            row[name] = _text(_child(elem, "value"))
        elif tag == "SimpleData" and name:
            row[name] = _text(elem)
    return row


def _geometry(placemark: Element) -> tuple[shapely.Geometry | None, bool]:
    """(shapely geometry or None, has Z) of a Placemark; unreadable coordinates give None."""
    elem = next((c for c in placemark.iter() if _local(c.tag) in _GEOMETRIES), None)
    if elem is None:
        return None, False
    try:
        return _GEOMETRIES[_local(elem.tag)](elem)
    except (ValueError, IndexError, RecursionError, shapely.errors.GEOSException):
        return None, False


def _coords(elem: Element | None) -> tuple[list[tuple[float, float]], bool]:
    """The (lon, lat) pairs of a ``coordinates`` element and whether any had an altitude."""
    coords = _child(elem, "coordinates")
    pairs, has_z = [], False
    for token in (coords.text or "").split() if coords is not None else ():
        values = [float(v) for v in token.split(",")]
        pairs.append((values[0], values[1]))
        has_z = has_z or len(values) > 2
    return pairs, has_z


def _point(elem):
    pairs, has_z = _coords(elem)
    return shapely.Point(pairs[0]), has_z


def _line(elem):
    pairs, has_z = _coords(elem)
    return shapely.LineString(pairs), has_z


def _polygon(elem):
    rings, has_z = [], False
    for boundary in ("outerBoundaryIs", "innerBoundaryIs"):
        for part in (c for c in elem if _local(c.tag) == boundary):
            pairs, z = _coords(_child(part, "LinearRing"))
            rings.append(pairs)
            has_z = has_z or z
    return shapely.Polygon(rings[0], rings[1:]), has_z


def _multi(elem):
    parts = [(_GEOMETRIES[_local(c.tag)](c)) for c in elem if _local(c.tag) in _GEOMETRIES]
    geoms = [g for g, _ in parts]
    has_z = any(z for _, z in parts)
    types = {g.geom_type for g in geoms}
    multi = {"Point": shapely.MultiPoint, "LineString": shapely.MultiLineString, "Polygon": shapely.MultiPolygon}
    if len(types) == 1 and next(iter(types)) in multi:
        return multi[next(iter(types))](geoms), has_z
    return shapely.GeometryCollection(geoms), has_z


_GEOMETRIES = {"Point": _point, "LineString": _line, "LinearRing": _line, "Polygon": _polygon, "MultiGeometry": _multi}
