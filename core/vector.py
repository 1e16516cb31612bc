"""The formats GDAL reads: zipped shapefiles and GeoPackages, and GDAL itself kept offline.

GDAL never opens a user-supplied name: bytes go to it in memory (pyogrio) or into a private temporary
directory under names generated here (:func:`saved`), and its errors come back as ``ReadError`` with the
temporary paths replaced by the file's own name (:func:`gdal`). Importing this module configures GDAL
offline (:data:`OFFLINE_GDAL`: every HTTP request goes to a closed local port, /vsicurl/ opens nothing,
PROJ fetches no grids). A shapefile's text encoding is settled by ``core.encodings``; a .dbf whose header
miscounts its records is refused. GeoPackage layers are listed from ``gpkg_contents`` by SQLite, tables
only: views are never run.

Not here: opening the zip (``core.archives``), GeoJSON (``core.geojson``, which also reads through
:func:`gdal`), the coordinate system the numbers end up in (``core.crs``).
"""

from __future__ import annotations

import os
import sqlite3
import struct
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

import pyogrio
import pyproj

from core import encodings
from core.archives import read_member
from core.errors import Message, ReadError
from core.formats import (
    ARCHIVE_KINDS,
    KINDS,
    SHAPEFILE_PARTS,
    RawRead,
    ReadOptions,
    basename,
    file_suffix,
    ignore_encoding,
    pick_layer,
)

__all__ = [
    "OFFLINE_GDAL",
    "gdal",
    "gpkg_layers",
    "read_gpkg",
    "read_zipped_shapefile",
    "saved",
    "shapefile_layers",
]

_MAX_BROKEN_SHARE = 0.5  # above this share of undecodable text values the encoding must be wrong
_SHAPEFILE_READ = (".shp", ".shx", ".dbf", ".prj")  # the parts GDAL is given; encodings are ours

# ---- GDAL without network or server files -------------------------------------------------------
_CLOSED_PORT = "http://127.0.0.1:9"  # the discard port: nothing listens, every request fails at once


OFFLINE_GDAL = {
    "GDAL_HTTP_PROXY": _CLOSED_PORT,
    "GDAL_HTTPS_PROXY": _CLOSED_PORT,  # CPLHTTPFetch: crs links, WFS…
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_MAX_RETRY": "0",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".gridwatch-never",  # /vsicurl/ and friends open no name at all
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",  # no listing of the directory beside a file
    "PROJ_NETWORK": "OFF",  # no PROJ grids fetched from its CDN
    "CPL_CURL_ENABLE_VSIMEM": "NO",
}


_PROXY_BYPASS = ("no_proxy", "NO_PROXY")  # curl would skip the proxy for the hosts named there


def _offline() -> None:
    """Configure this process's GDAL (and PROJ) so that no read of a file can reach the network."""
    for variable in _PROXY_BYPASS:
        os.environ.pop(variable, None)
    pyogrio.set_gdal_config_options(OFFLINE_GDAL)
    pyproj.network.set_network_enabled(False)


_offline()


@contextmanager
def saved(data: bytes, suffix: str) -> Iterator[Path]:
    """``data`` written as ``upload<suffix>`` in a private temporary directory, removed afterwards.

    Only this generated name ever reaches GDAL; a shapefile's other parts are written beside it.
    """
    with tempfile.TemporaryDirectory(prefix="gridwatch-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        yield path


_GDAL_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.FieldError,
    pyogrio.errors.CRSError,
)


def _scrub(text: str, name: str, source: object) -> str:
    """A GDAL message without the temporary directory (the user knows the file by its own name)."""
    if isinstance(source, Path):
        text = text.replace(str(source), basename(name)).replace(f"{source.parent}/", "")
    return text[:300]


def gdal(name: str, call: Callable[..., Any], source: object, **kwargs: object) -> tuple[Any, list[str]]:
    """``call(source, **kwargs)`` (a pyogrio function) with GDAL errors as ReadError and GDAL's
    warnings returned as plain notes."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = call(source, **kwargs)
        except _GDAL_ERRORS as exc:
            raise ReadError(
                f"`{basename(name)}` could not be read: {_scrub(str(exc), name, source)}. "
                "Check that the file opens in QGIS, then export it again.",
                code="file_unreadable",
                params={"name": basename(name), "reason": _scrub(str(exc), name, source)},
            ) from None
    notes = [
        Message("dropped the measure (M) values", code="dropped_m")
        if "Measured (M)" in str(w.message)
        else _scrub(str(w.message), name, source)
        for w in caught
    ]
    return result, notes


def shapefile_layers(members: list[tuple[str, zipfile.ZipInfo]]) -> dict[str, dict[str, zipfile.ZipInfo]]:
    """Shapefile layers in an archive: layer name (member path without extension) → {suffix: member}."""
    stems: dict[str, str] = {}
    by_stem: dict[str, dict[str, zipfile.ZipInfo]] = {}
    for member, info in members:
        suffix = PurePosixPath(member).suffix.lower()
        if suffix in SHAPEFILE_PARTS:
            stem = member[: -len(suffix)]
            stems.setdefault(stem.lower(), stem)
            by_stem.setdefault(stem.lower(), {})[suffix] = info
    return {stems[key]: parts for key, parts in by_stem.items() if ".shp" in parts}


def read_zipped_shapefile(
    name: str,
    archive: zipfile.ZipFile,
    members: list[tuple[str, zipfile.ZipInfo]],
    shapefiles: dict[str, dict[str, zipfile.ZipInfo]],
    options: ReadOptions,
) -> RawRead:
    """The shapefile layer ``options.file_layer`` (else the first) of an opened archive, whose
    ``shapefile_layers`` are ``shapefiles``; archives beside it are noted, never opened."""
    notes: list[str] = []
    layer = pick_layer(name, tuple(shapefiles), options.file_layer, notes)
    parts = shapefiles[layer]
    missing = [suffix for suffix in (".shx", ".dbf") if suffix not in parts]
    if missing:
        raise ReadError(
            f"`{basename(name)}`: the shapefile `{layer}` has no {' or '.join(missing)} "
            "file in the zip. Zip all of the layer's files (.shp, .shx, .dbf, .prj, .cpg) "
            "together and upload again.",
            code="shapefile_incomplete",
            params={"name": basename(name), "layer": layer, "missing": " / ".join(missing)},
        )
    blobs = {suffix: read_member(name, archive, info) for suffix, info in parts.items()}
    raw = _read_shapefile(name, blobs, options)
    raw.layers, raw.layer, raw.notes = tuple(shapefiles), layer, notes + raw.notes
    nested = [member for member, _ in members if KINDS.get(file_suffix(member)) in ARCHIVE_KINDS]
    if nested:
        raw.notes.append(
            Message(
                f"did not open {len(nested)} archive(s) inside the zip",
                code="nested_archives",
                params={"count": len(nested)},
            )
        )
    return raw


def _check_dbf_records(name: str, dbf: bytes) -> None:
    """Refuse a .dbf whose header's record count disagrees with its size: GDAL would read only as many
    records as the header says (or fail), silently losing the rest."""
    if len(dbf) < 12:
        raise ReadError(
            f"`{basename(name)}`: the .dbf file is cut off ({len(dbf)} bytes). Export the "
            "shapefile again and zip all of its files.",
            code="dbf_short",
            params={"file": basename(name)},
        )
    said, header, width = struct.unpack_from("<IHH", dbf, 4)
    held = (len(dbf) - header) // width if width and len(dbf) >= header else 0
    if said != held:
        raise ReadError(
            f"`{basename(name)}`: the .dbf header says it holds {said:,} records, but the file "
            f"holds {held:,}. The attribute table is damaged or was cut off; export the "
            "shapefile again and zip all of its files.",
            code="dbf_count",
            params={"file": basename(name), "said": f"{said:,}", "held": f"{held:,}"},
        )


def _read_shapefile(name: str, blobs: dict[str, bytes], options: ReadOptions) -> RawRead:
    _check_dbf_records(name, blobs[".dbf"])
    encoding, origin, enc_notes, enc_confirm = encodings.shapefile_encoding(blobs, options.encoding)
    with saved(blobs[".shp"], ".shp") as path:
        for suffix in _SHAPEFILE_READ[1:]:
            if suffix in blobs:
                path.with_suffix(suffix).write_bytes(blobs[suffix])
        try:
            frame, notes = gdal(name, pyogrio.read_dataframe, path, encoding=encoding)
        except UnicodeDecodeError:
            repaired, broken, total = encodings.repair_dbf_text(blobs[".dbf"], encoding)
            if broken > _MAX_BROKEN_SHARE * total:
                raise ReadError(
                    f"`{basename(name)}`: {broken} of {total} text values in the attribute "
                    f"table are not valid {encoding.upper()}. Pick the encoding the file was "
                    "saved in (often GBK for Chinese shapefiles).",
                    code="dbf_encoding",
                    params={"name": basename(name), "broken": broken, "total": total, "encoding": encoding.upper()},
                ) from None
            path.with_suffix(".dbf").write_bytes(repaired)
            frame, notes = gdal(name, pyogrio.read_dataframe, path, encoding=encoding)
            notes.append(
                Message(
                    f"{broken} text value(s) held bytes that are not valid {encoding.upper()} (e.g. "
                    "a character cut off by the field width); those bytes were dropped or shown as ?",
                    code="bytes_dropped",
                    params={"count": broken, "encoding": encoding.upper()},
                )
            )
    crs = pyproj.CRS.from_user_input(frame.crs) if frame.crs is not None else None
    confirm = list(enc_confirm)
    if ".prj" in blobs and crs is None:
        confirm.append(
            Message(
                "the .prj file could not be understood, so the coordinate system was inferred",
                code="prj_not_understood",
            )
        )
    return RawRead(frame, crs, (), None, encoding, origin, enc_notes + notes, confirm)


_GPKG_SECONDS = 10.0  # SQLite work allowed for listing a GeoPackage's layers


_GPKG_TABLES = ("gpkg_contents", "gpkg_geometry_columns", "gpkg_spatial_ref_sys")


def gpkg_layers(name: str, path: Path) -> tuple[str, ...]:
    """The feature layers of a GeoPackage that are tables, from ``gpkg_contents`` read by SQLite (read
    only, ``trusted_schema`` off, stopped after ``_GPKG_SECONDS``): views are never listed or run, and
    GDAL never enumerates the layers itself."""
    deadline = time.monotonic() + _GPKG_SECONDS
    try:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as exc:
        raise _not_a_gpkg(name, exc) from None
    try:
        connection.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
        connection.execute("PRAGMA trusted_schema = OFF")
        kinds = {
            str(table).lower(): kind
            for table, kind in connection.execute(
                "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view')"
            )
        }
        if any(kinds.get(table) != "table" for table in _GPKG_TABLES):
            raise ReadError(
                f"`{basename(name)}` is not a GeoPackage GridWatch can read: its "
                f"{', '.join(_GPKG_TABLES)} must be tables. Export the layer again from QGIS "
                "or ArcGIS as GeoPackage.",
                code="gpkg_not_tables",
                params={"file": basename(name)},
            )
        listed = [
            str(row[0])
            for row in connection.execute(
                "SELECT c.table_name FROM gpkg_contents c JOIN gpkg_geometry_columns g "
                "ON lower(g.table_name) = lower(c.table_name) WHERE c.data_type = 'features' ORDER BY c.rowid"
            )
        ]
    except sqlite3.Error as exc:
        raise _not_a_gpkg(name, exc) from None
    finally:
        connection.close()
    return tuple(layer for layer in listed if kinds.get(layer.lower()) == "table")


def _not_a_gpkg(name: str, exc: sqlite3.Error) -> ReadError:
    return ReadError(
        f"`{basename(name)}` is not a readable GeoPackage ({str(exc)[:120]}). Export the layer "
        "again as GeoPackage and upload that.",
        code="gpkg_unreadable",
        params={"file": basename(name)},
    )


def read_gpkg(name: str, data: bytes, options: ReadOptions) -> RawRead:
    with saved(data, ".gpkg") as path:
        layers = gpkg_layers(name, path)
        notes: list[str] = []
        layer = pick_layer(name, layers, options.file_layer, notes)
        frame, gdal_notes = gdal(name, pyogrio.read_dataframe, path, layer=layer)
    crs = pyproj.CRS.from_user_input(frame.crs) if frame.crs is not None else None
    raw = RawRead(frame, crs, layers, layer, notes=notes + gdal_notes)
    ignore_encoding(raw, options, "GeoPackage text is always UTF-8")
    return raw
