"""Read an uploaded file (a name and its bytes) into a lon/lat GeoDataFrame, and map its columns.

Accepted: GeoJSON, zipped shapefiles, GeoPackage, KML/KMZ, CSV/XLSX with WKT or lon/lat columns, and
Open311 GeoReport v2 JSON. :func:`read_upload` returns a :class:`ReadResult`: the features in EPSG:4326
with their raw columns, plus what was assumed (coordinate system, text encoding) and what the user should
confirm. :func:`suggest_mapping` and :func:`apply_mapping` then turn raw columns into a canonical layer
(``core.schema``) that ``core.validate`` checks.

How Chinese files are handled:

- Text encoding: a shapefile's .cpg (or .cst), else its DBF language driver byte, else its text is
  tried as strict UTF-8 and then GBK/GB18030. CSV/JSON: a BOM, else strict UTF-8, else GBK/GB18030.
  ``encoding=`` overrides all of this.
- Coordinate system: the file's own (.prj, GeoPackage, GeoJSON = WGS84), else inferred from the numbers:
  degrees → EPSG:4326, CGCS2000 Gauss-Krüger metres with a zone prefix → that zone; the user confirms.
  ``crs=`` overrides. Everything is converted to EPSG:4326. GCJ-02/BD-09 data cannot be told from the
  numbers alone; ``core.coords.detect_datum_offset`` compares it with a trusted layer (re-exported here).

Helpers live beside it: ``core.encodings`` (text encodings), ``core.kml`` (KML parsing),
``core.columns`` (the column mapping, re-exported here) and ``core.coords`` (GCJ-02/BD-09, re-exported).

Safety: GDAL never opens a user-supplied name. Bytes go to GDAL in memory (pyogrio) or into a private
temporary directory under names generated here; zip members are extracted by this module after checking
their paths, count, sizes and compression ratios, and no member may unpack to more than
``MAX_UPLOAD_BYTES`` (counted while unpacking, whatever the archive claims); nested archives are not
opened; XML with a DOCTYPE or ENTITY declaration is refused before any parser sees it (also in UTF-16).
GDAL is configured offline (:data:`OFFLINE_GDAL`: every HTTP request goes to a closed local port,
/vsicurl/ opens nothing), and GeoJSON reaches it without any ``crs`` member. GeoPackage layers are listed
from ``gpkg_contents`` by SQLite, tables only: views are never run. Every read runs in a worker process
with a memory and a time limit (``core.sandbox``).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import struct
import tempfile
import time
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from io import BytesIO, StringIO
from pathlib import Path, PurePosixPath

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import pyproj
import shapely

from core import encodings, kml, sandbox
from core.columns import apply_mapping, normalised_header, suggest_mapping
from core.coords import OffsetGuess, bd09_to_wgs84, convert_datum, detect_datum_offset, gcj02_to_wgs84, wgs84_to_gcj02
from core.errors import Message, ReadError

__all__ = [
    "MAX_COMPRESSION_RATIO",
    "MAX_UNZIPPED_BYTES",
    "MAX_UPLOAD_BYTES",
    "MAX_ZIP_MEMBERS",
    "OFFLINE_GDAL",
    "OffsetGuess",
    "ReadResult",
    "apply_mapping",
    "bd09_to_wgs84",
    "convert_datum",
    "detect_datum_offset",
    "gcj02_to_wgs84",
    "list_layers",
    "read_upload",
    "suggest_mapping",
    "table_columns",
    "wgs84_to_gcj02",
]

# ---- limits -------------------------------------------------------------------------------------
MAX_UPLOAD_BYTES = 200 * 2**20
MAX_ZIP_MEMBERS = 2_000
MAX_UNZIPPED_BYTES = 2**30
MAX_COMPRESSION_RATIO = 200
_RATIO_FLOOR_BYTES = 2**20  # members smaller than this may compress as well as they like
_MAX_BROKEN_SHARE = 0.5  # above this share of undecodable text values the encoding must be wrong

_CHUNK_BYTES = 2**20  # zip members are unpacked this much at a time, counting

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

# ---- formats ------------------------------------------------------------------------------------
_KINDS = {
    ".zip": "zip",
    ".kmz": "kmz",
    ".kml": "kml",
    ".gpkg": "gpkg",
    ".geojson": "json",
    ".json": "json",
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
}
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".cst", ".sbn", ".sbx", ".qix", ".qpj")
_SHAPEFILE_READ = (".shp", ".shx", ".dbf", ".prj")  # the parts GDAL is given; encodings are ours
_SUPPORTED = "GeoJSON, a zipped shapefile, GeoPackage, KML/KMZ, or CSV/XLSX with lon/lat or WKT columns"
_ARCHIVE_KINDS = ("zip", "kmz", "xlsx")  # never opened when found inside an uploaded zip
_ZIP_MAGIC = b"PK\x03\x04"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_UTF8_NAME_FLAG = 0x800

# ---- coordinate systems -------------------------------------------------------------------------
_WGS84 = pyproj.CRS.from_epsg(4326)
_GK_NORTHING = (1_800_000, 6_100_000)  # Gauss-Krüger northings across China (about 16°N–55°N)
_GK_EASTING = (100_000, 900_000)  # eastings within a zone, false easting 500 km
_GK3_ZONES = (25, 45, 4513)  # prefixed 3° zones 25–45 → EPSG:4513–4533
_GK6_ZONES = (13, 23, 4491)  # prefixed 6° zones 13–23 → EPSG:4491–4501

# ---- columns that carry geometry ----------------------------------------------------------------
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
_DELIMITERS = (",", "\t", ";", "|")

_CRS_NAME = re.compile(r"^(urn:ogc:def:crs:|EPSG:|OGC:|https?://www\.opengis\.net/def/crs/)", re.I)
_OPEN311_KEYS = {"service_request_id", "requested_datetime", "service_name", "service_code"}


@dataclass(frozen=True)
class ReadResult:
    """An uploaded file read into EPSG:4326, with everything that was assumed along the way.

    ``frame`` keeps the file's own column names (see :func:`suggest_mapping`), 2-D geometry in a column
    named ``geometry``. ``source_crs`` is the coordinate system the numbers were in ("EPSG:2263", or a
    name when it has no code), None if unknown. ``crs_origin`` says where it came from: "file", "inferred"
    from the numbers, "user", or "none" (no coordinates at all). ``encoding``/``encoding_origin``
    likewise for text ("file" = .cpg/.cst/DBF header/BOM; "n/a" for binary formats). ``notes`` say in
    plain words what was done; ``confirm`` lists guesses the user must check before storing, each
    settled by reading again with the value chosen (``crs=`` or ``encoding=``).
    """

    frame: gpd.GeoDataFrame
    source_crs: str | None
    crs_origin: str
    encoding: str | None
    encoding_origin: str
    layers: tuple[str, ...]
    layer: str | None
    notes: tuple[str, ...]
    confirm: tuple[str, ...]


@dataclass(frozen=True)
class _Options:
    layer: str | None = None
    encoding: str | None = None
    x_column: str | None = None
    y_column: str | None = None
    wkt_column: str | None = None


@dataclass
class _Raw:
    """A reader's output before the coordinate system is settled: geometry in ``crs`` (None = unknown)."""

    frame: gpd.GeoDataFrame
    crs: pyproj.CRS | None
    layers: tuple[str, ...]
    layer: str | None
    encoding: str | None = None
    encoding_origin: str = "n/a"
    notes: list[str] = field(default_factory=list)
    confirm: list[str] = field(default_factory=list)


# ================================================================================================
# public API
# ================================================================================================


def list_layers(name: str, data: bytes) -> tuple[str, ...]:
    """The layers ``data`` holds: GeoPackage layers, shapefiles in a zip, KML folders, XLSX sheets.

    Single-layer formats (GeoJSON, CSV, …) hold one layer named after the file. Runs in a worker with
    the read limits (``core.sandbox``).
    """
    _check_size(name, data)
    return sandbox.run(_basename(name), _layers, name, data)


def _layers(name: str, data: bytes) -> tuple[str, ...]:
    kind = _kind(name, data)
    if kind == "zip":
        return _zip_layers(name, data)
    if kind == "gpkg":
        with _saved(data, ".gpkg") as path:
            return _gpkg_layers(name, path)
    if kind == "kml":
        found = kml.placemarks(_basename(name), data, _stem(name))
        return tuple(dict.fromkeys(layer for layer, _ in found))
    if kind == "kmz":
        return _layers("doc.kml", _kmz_document(name, data))
    if kind == "xlsx":
        return _xlsx_sheets(name, data)
    return (_stem(name),)


def table_columns(name: str, data: bytes, *, layer: str | None = None, encoding: str | None = None) -> tuple[str, ...]:
    """The header of a CSV or XLSX table (``layer``: the sheet), read without looking for coordinates, so
    the user can pick the geometry columns of a table GridWatch could not place; () for other formats.
    Runs in a worker with the read limits (``core.sandbox``)."""
    _check_size(name, data)
    return sandbox.run(_basename(name), _table_columns, name, data, layer, encoding)


def _table_columns(name: str, data: bytes, layer: str | None, encoding: str | None) -> tuple[str, ...]:
    kind = _kind(name, data)
    if kind == "csv":
        text, _, _ = _decoded(name, data, _codec(name, encoding) if encoding else None)
        first_line = text.split("\n", 1)[0]
        header = pd.read_csv(StringIO(first_line), sep=max(_DELIMITERS, key=first_line.count), nrows=0, dtype=str)
    elif kind == "xlsx":
        sheets = _xlsx_sheets(name, data)
        with _opening_xlsx(name, data):
            header = pd.read_excel(
                BytesIO(data), sheet_name=layer if layer in sheets else sheets[0], nrows=0, engine="openpyxl"
            )
    else:
        return ()
    return tuple(str(c).strip() for c in header.columns)


def read_upload(
    name: str,
    data: bytes,
    *,
    layer: str | None = None,
    crs: str | None = None,
    encoding: str | None = None,
    x_column: str | None = None,
    y_column: str | None = None,
    wkt_column: str | None = None,
) -> ReadResult:
    """Read an uploaded file into EPSG:4326.

    ``name`` is only used to tell the format (by its extension) and in messages; it never reaches the
    file system. ``layer`` picks a layer (default: the first), ``crs`` the coordinate system the
    numbers are in (overrides the file's), ``encoding`` the text encoding, ``x_column``/``y_column`` or
    ``wkt_column`` the geometry columns of a table. Raises ``ReadError`` saying what to do otherwise.
    The file is read in a worker with the read limits (``core.sandbox``).
    """
    _check_size(name, data)
    if encoding is not None:
        encoding = _codec(name, encoding)
    user_crs = _user_crs(name, crs) if crs else None
    options = _Options(layer, encoding, x_column, y_column, wkt_column)
    result = sandbox.run(_basename(name), _read_for_transfer, name, data, options, user_crs)
    if isinstance(result.frame, _ArrowFrame):
        result = replace(result, frame=result.frame.restored())
    return result


def _read(name: str, data: bytes, options: _Options, user_crs: pyproj.CRS | None) -> ReadResult:
    return _finish(name, _read_raw(name, data, options), user_crs)


def _read_for_transfer(name: str, data: bytes, options: _Options, user_crs: pyproj.CRS | None) -> ReadResult:
    """``_read`` in the worker, its frame packed as Arrow (sent back faster than pickled geometries)."""
    result = _read(name, data, options, user_crs)
    return replace(result, frame=_ArrowFrame.of(result.frame))


@dataclass(frozen=True)
class _ArrowFrame:
    """A GeoDataFrame as an Arrow IPC stream (geometry as WKB): on the way back from the read worker it
    pickles and unpickles ~40 % faster than the frame itself. ``of`` keeps a frame Arrow cannot hold
    (a column of mixed Python types) as it is."""

    stream: bytes

    @classmethod
    def of(cls, frame: gpd.GeoDataFrame) -> _ArrowFrame | gpd.GeoDataFrame:
        try:
            table = pa.table(frame.to_arrow(index=None, geometry_encoding="WKB"))
        except (pa.ArrowException, TypeError, ValueError):
            return frame
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return cls(sink.getvalue().to_pybytes())

    def restored(self) -> gpd.GeoDataFrame:
        with warnings.catch_warnings():  # NaN vertices warn as WKB is read back; validation reports them
            warnings.simplefilter("ignore", RuntimeWarning)
            return gpd.GeoDataFrame.from_arrow(pa.ipc.open_stream(self.stream).read_all())


def _codec(name: str, encoding: str) -> str:
    """The Python codec for a user's encoding name, or ReadError."""
    codec = encodings.codec_name(encoding)
    if codec is None:
        raise ReadError(
            f"`{encoding[:40]}` is not a text encoding GridWatch knows (for "
            f"`{_basename(name)}`). Use e.g. UTF-8, GBK or GB18030.",
            code="unknown_encoding",
            params={"encoding": encoding[:40], "name": _basename(name)},
        )
    return codec


def _read_raw(name: str, data: bytes, options: _Options) -> _Raw:
    readers = {
        "zip": _read_zip,
        "kmz": _read_kmz,
        "kml": _read_kml,
        "gpkg": _read_gpkg,
        "json": _read_json,
        "csv": _read_csv,
        "xlsx": _read_xlsx,
    }
    return readers[_kind(name, data)](name, data, options)


# ================================================================================================
# formats, sizes, archives
# ================================================================================================


def _basename(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).name or name


def _stem(name: str) -> str:
    return PurePosixPath(_basename(name)).stem


def _suffix(name: str) -> str:
    return PurePosixPath(_basename(name)).suffix.lower()


def _kind(name: str, data: bytes) -> str:
    """The reader for ``name``, by extension (checked against the content where that is cheap)."""
    suffix = _suffix(name)
    if suffix in _SHAPEFILE_PARTS:
        raise ReadError(
            f"`{_basename(name)}` is one part of a shapefile; a shapefile is several files "
            "(.shp, .shx and .dbf, usually also .prj and .cpg). Put all of them in one .zip "
            "and upload the zip.",
            code="shapefile_part",
            params={"name": _basename(name)},
        )
    if suffix == ".xls":
        raise ReadError(
            f"`{_basename(name)}` is an old-style Excel file (.xls). Open it in Excel or WPS "
            "and save it as .xlsx or CSV UTF-8, then upload that.",
            code="old_excel",
            params={"name": _basename(name)},
        )
    if suffix not in _KINDS:
        raise ReadError(
            f"`{_basename(name)}` has the extension `{suffix or '(none)'}`, which GridWatch "
            f"does not read. Upload {_SUPPORTED}.",
            code="unknown_extension",
            params={"name": _basename(name), "suffix": suffix or "(none)", "supported": _SUPPORTED},
        )
    kind = _KINDS[suffix]
    if kind in _ARCHIVE_KINDS and not data.startswith(_ZIP_MAGIC):
        raise ReadError(
            f"`{_basename(name)}` is named {suffix} but is not a zip archive (it may be "
            "damaged or only partly uploaded). Create the file again and upload it.",
            code="not_a_zip",
            params={"name": _basename(name), "suffix": suffix},
        )
    if kind == "gpkg" and not data.startswith(_SQLITE_MAGIC):
        raise ReadError(
            f"`{_basename(name)}` is named .gpkg but is not a GeoPackage (SQLite) file. "
            "Export it again as GeoPackage and upload that.",
            code="not_a_geopackage",
            params={"name": _basename(name)},
        )
    return kind


def _mb(n: int) -> str:
    return f"{n / 2**20:,.1f} MB"


def _check_size(name: str, data: bytes) -> None:
    if not data:
        raise ReadError(
            f"`{_basename(name)}` is empty (0 bytes). Check the file and upload it again.",
            code="file_empty",
            params={"name": _basename(name)},
        )
    if len(data) > MAX_UPLOAD_BYTES:
        raise ReadError(
            f"`{_basename(name)}` is {_mb(len(data))}; uploads are limited to "
            f"{_mb(MAX_UPLOAD_BYTES)}. Split the file (e.g. by street) or simplify the "
            "geometry, then upload the parts.",
            code="file_too_large",
            params={"name": _basename(name), "size": _mb(len(data)), "limit": _mb(MAX_UPLOAD_BYTES)},
        )


def _open_zip(name: str, data: bytes) -> tuple[zipfile.ZipFile, list[tuple[str, zipfile.ZipInfo]]]:
    """The archive and its file members as (decoded name, info), after every safety check."""
    try:
        archive = zipfile.ZipFile(BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ReadError(
            f"`{_basename(name)}` is not a readable zip archive ({exc}). Create the archive again and upload it.",
            code="zip_unreadable",
            params={"name": _basename(name), "reason": str(exc)},
        ) from None
    if len(infos) > MAX_ZIP_MEMBERS:
        raise ReadError(
            f"`{_basename(name)}` holds {len(infos):,} files; archives are limited to "
            f"{MAX_ZIP_MEMBERS:,}. Upload only the files of the layer you need.",
            code="zip_too_many_files",
            params={"name": _basename(name), "count": f"{len(infos):,}", "limit": f"{MAX_ZIP_MEMBERS:,}"},
        )
    total = sum(info.file_size for info in infos)
    if total > MAX_UNZIPPED_BYTES:
        raise ReadError(
            f"`{_basename(name)}` unpacks to {_mb(total)}; the limit is "
            f"{_mb(MAX_UNZIPPED_BYTES)} unpacked. Upload fewer or smaller layers.",
            code="zip_too_large",
            params={"name": _basename(name), "size": _mb(total), "limit": _mb(MAX_UNZIPPED_BYTES)},
        )
    members = []
    for info in infos:
        member = _member_name(info)
        _check_member(name, member, info)
        if not info.is_dir() and not _is_junk(member):
            members.append((member, info))
    return archive, members


def _member_name(info: zipfile.ZipInfo) -> str:
    """The member's name, also when a Chinese Windows zip tool stored it in GBK without saying so."""
    if info.flag_bits & _UTF8_NAME_FLAG:
        return info.filename
    raw = info.filename.encode("cp437")
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _check_member(name: str, member: str, info: zipfile.ZipInfo) -> None:
    parts = member.replace("\\", "/").split("/")
    if member.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", member) or ".." in parts:
        raise ReadError(
            f"`{_basename(name)}` contains a file with an unsafe path (`{member[:80]}`): "
            "archives may not point outside themselves. Re-create the zip from the layer's "
            "files only.",
            code="zip_unsafe_path",
            params={"name": _basename(name), "member": member[:80]},
        )
    if info.file_size > MAX_UPLOAD_BYTES:
        raise ReadError(
            f"`{_basename(name)}` contains `{_basename(member)[:80]}`, which unpacks to "
            f"{_mb(info.file_size)}; a file may unpack to at most {_mb(MAX_UPLOAD_BYTES)}. "
            "Split the layer (e.g. by street) or simplify its geometry, then upload the parts.",
            code="member_too_big",
            params={
                "file": _basename(name),
                "member": _basename(member)[:80],
                "size": _mb(info.file_size),
                "limit": _mb(MAX_UPLOAD_BYTES),
            },
        )
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > _RATIO_FLOOR_BYTES and ratio > MAX_COMPRESSION_RATIO:
        raise ReadError(
            f"`{_basename(name)}` contains `{_basename(member)[:80]}`, compressed "
            f"{ratio:,.0f}:1 (the limit is {MAX_COMPRESSION_RATIO}:1), which is how zip "
            "bombs look. Upload the layer's files zipped normally.",
            code="zip_bomb",
            params={
                "name": _basename(name),
                "member": _basename(member)[:80],
                "ratio": f"{ratio:,.0f}",
                "limit": MAX_COMPRESSION_RATIO,
            },
        )


def _is_junk(member: str) -> bool:
    """macOS resource forks and folders that zip tools add."""
    return member.startswith("__MACOSX/") or _basename(member).startswith("._")


def _read_member(name: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int | None = None) -> bytes:
    """The member's bytes, unpacked a chunk at a time: more than ``limit`` (what it declares, at most
    ``MAX_UPLOAD_BYTES``) stops the unpacking with ReadError, whatever the archive's headers claim."""
    limit = min(info.file_size, MAX_UPLOAD_BYTES) if limit is None else limit
    chunks, total = [], 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(_CHUNK_BYTES):
                total += len(chunk)
                if total > limit:
                    raise ReadError(
                        f"`{_basename(name)}`: the member `{_basename(_member_name(info))[:80]}` unpacks to "
                        f"more than {_mb(limit)} (it declares {_mb(info.file_size)}), so unpacking was "
                        "stopped. The archive is damaged or built to exhaust memory; create the zip again "
                        "from the layer's files.",
                        code="zip_lies",
                        params={
                            "file": _basename(name),
                            "member": _basename(_member_name(info))[:80],
                            "size": _mb(limit),
                        },
                    )
                chunks.append(chunk)
        return b"".join(chunks)
    except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as exc:
        raise ReadError(
            f"`{_basename(name)}`: the member `{_basename(_member_name(info))[:80]}` cannot "
            f"be unpacked ({exc}). Create the zip again (without a password) and upload "
            "it.",
            code="zip_member_unreadable",
            params={"name": _basename(name), "member": _basename(_member_name(info))[:80], "reason": str(exc)},
        ) from None


@contextmanager
def _saved(data: bytes, suffix: str) -> Iterator[Path]:
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


def _scrub(text: str, name: str, source) -> str:
    """A GDAL message without the temporary directory (the user knows the file by its own name)."""
    if isinstance(source, Path):
        text = text.replace(str(source), _basename(name)).replace(f"{source.parent}/", "")
    return text[:300]


def _gdal(name: str, call, source, **kwargs) -> tuple[object, list[str]]:
    """``call(source, **kwargs)`` (a pyogrio function) with GDAL errors as ReadError and GDAL's
    warnings returned as plain notes."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = call(source, **kwargs)
        except _GDAL_ERRORS as exc:
            raise ReadError(
                f"`{_basename(name)}` could not be read: {_scrub(str(exc), name, source)}. "
                "Check that the file opens in QGIS, then export it again.",
                code="file_unreadable",
                params={"name": _basename(name), "reason": _scrub(str(exc), name, source)},
            ) from None
    notes = [
        Message("dropped the measure (M) values", code="dropped_m")
        if "Measured (M)" in str(w.message)
        else _scrub(str(w.message), name, source)
        for w in caught
    ]
    return result, notes


# ================================================================================================
# readers
# ================================================================================================


def _pick_layer(name: str, layers: tuple[str, ...], wanted: str | None, raw_notes: list[str]) -> str:
    if not layers:
        raise ReadError(
            f"`{_basename(name)}` holds no layer with geometry. Upload {_SUPPORTED}.",
            code="no_geometry_layer",
            params={"name": _basename(name), "supported": _SUPPORTED},
        )
    if wanted is not None:
        if wanted not in layers:
            raise ReadError(
                f"`{_basename(name)}` has no layer `{wanted}`; its layers are: {', '.join(layers)}. Pick one of those.",
                code="no_such_file_layer",
                params={"name": _basename(name), "wanted": wanted, "layers": ", ".join(layers)},
            )
        return wanted
    if len(layers) > 1:
        raw_notes.append(
            Message(
                f"the file holds {len(layers)} layers ({', '.join(layers)}); read the first, `{layers[0]}`",
                code="first_layer",
                params={"count": len(layers), "layers": ", ".join(layers), "first": layers[0]},
            )
        )
    return layers[0]


# ---- zip: shapefiles, or one file of another format ---------------------------------------------


def _shapefiles(members: list[tuple[str, zipfile.ZipInfo]]) -> dict[str, dict[str, zipfile.ZipInfo]]:
    """Shapefile layers in an archive: layer name (member path without extension) → {suffix: member}."""
    by_stem: dict[str, dict[str, zipfile.ZipInfo]] = {}
    for member, info in members:
        suffix = PurePosixPath(member).suffix.lower()
        if suffix in _SHAPEFILE_PARTS:
            stem = member[: -len(suffix)]
            by_stem.setdefault(stem.lower(), {"": stem})[suffix] = info
    return {parts.pop(""): parts for parts in by_stem.values() if ".shp" in parts}


def _zip_layers(name: str, data: bytes) -> tuple[str, ...]:
    archive, members = _open_zip(name, data)
    shapefiles = _shapefiles(members)
    if shapefiles:
        return tuple(shapefiles)
    inner_name, inner = _single_inner_file(name, archive, members)
    return _layers(inner_name, inner)


def _read_zip(name: str, data: bytes, options: _Options) -> _Raw:
    archive, members = _open_zip(name, data)
    shapefiles = _shapefiles(members)
    if not shapefiles:
        inner_name, inner = _single_inner_file(name, archive, members)
        return _read_raw(inner_name, inner, options)
    notes: list[str] = []
    layer = _pick_layer(name, tuple(shapefiles), options.layer, notes)
    parts = shapefiles[layer]
    missing = [suffix for suffix in (".shx", ".dbf") if suffix not in parts]
    if missing:
        raise ReadError(
            f"`{_basename(name)}`: the shapefile `{layer}` has no {' or '.join(missing)} "
            "file in the zip. Zip all of the layer's files (.shp, .shx, .dbf, .prj, .cpg) "
            "together and upload again.",
            code="shapefile_incomplete",
            params={"name": _basename(name), "layer": layer, "missing": " / ".join(missing)},
        )
    blobs = {suffix: _read_member(name, archive, info) for suffix, info in parts.items()}
    raw = _read_shapefile(name, blobs, options)
    raw.layers, raw.layer, raw.notes = tuple(shapefiles), layer, notes + raw.notes
    nested = [member for member, _ in members if _KINDS.get(_suffix(member)) in _ARCHIVE_KINDS]
    if nested:
        raw.notes.append(
            Message(
                f"did not open {len(nested)} archive(s) inside the zip",
                code="nested_archives",
                params={"count": len(nested)},
            )
        )
    return raw


def _single_inner_file(name: str, archive: zipfile.ZipFile, members) -> tuple[str, bytes]:
    """The one readable non-shapefile member of an archive (a .txt beside it is taken for a readme;
    archives inside the archive are never opened)."""
    usable = [(m, info) for m, info in members if _KINDS.get(_suffix(m)) not in (None, *_ARCHIVE_KINDS)]
    if len(usable) > 1:
        usable = [(m, info) for m, info in usable if _suffix(m) != ".txt"]
    if len(usable) == 1:
        member, info = usable[0]
        return member, _read_member(name, archive, info)
    listed = ", ".join(_basename(m)[:60] for m, _ in members[:8]) or "nothing"
    if not usable and any(_KINDS.get(_suffix(m)) in _ARCHIVE_KINDS for m, _ in members):
        raise ReadError(
            f"`{_basename(name)}` holds only other zip archives ({listed}); archives inside "
            "archives are not opened. Unzip it and upload the inner file.",
            code="zip_only_archives",
            params={"name": _basename(name), "listed": listed},
        )
    if not usable:
        raise ReadError(
            f"`{_basename(name)}` holds no shapefile (.shp with .shx and .dbf) and no other "
            f"readable layer (it holds: {listed}). Upload {_SUPPORTED}.",
            code="zip_no_layer",
            params={"name": _basename(name), "listed": listed, "supported": _SUPPORTED},
        )
    raise ReadError(
        f"`{_basename(name)}` holds several layers in different files ({listed}). Upload them one at a time.",
        code="zip_several_layers",
        params={"name": _basename(name), "listed": listed},
    )


# ---- shapefile ----------------------------------------------------------------------------------


def _check_dbf_records(name: str, dbf: bytes) -> None:
    """Refuse a .dbf whose header's record count disagrees with its size: GDAL would read only as many
    records as the header says (or fail), silently losing the rest."""
    if len(dbf) < 12:
        raise ReadError(
            f"`{_basename(name)}`: the .dbf file is cut off ({len(dbf)} bytes). Export the "
            "shapefile again and zip all of its files.",
            code="dbf_short",
            params={"file": _basename(name)},
        )
    said, header, width = struct.unpack_from("<IHH", dbf, 4)
    held = (len(dbf) - header) // width if width and len(dbf) >= header else 0
    if said != held:
        raise ReadError(
            f"`{_basename(name)}`: the .dbf header says it holds {said:,} records, but the file "
            f"holds {held:,}. The attribute table is damaged or was cut off; export the "
            "shapefile again and zip all of its files.",
            code="dbf_count",
            params={"file": _basename(name), "said": f"{said:,}", "held": f"{held:,}"},
        )


def _read_shapefile(name: str, blobs: dict[str, bytes], options: _Options) -> _Raw:
    _check_dbf_records(name, blobs[".dbf"])
    encoding, origin, enc_notes, enc_confirm = encodings.shapefile_encoding(blobs, options.encoding)
    with _saved(blobs[".shp"], ".shp") as path:
        for suffix in _SHAPEFILE_READ[1:]:
            if suffix in blobs:
                path.with_suffix(suffix).write_bytes(blobs[suffix])
        try:
            frame, notes = _gdal(name, pyogrio.read_dataframe, path, encoding=encoding)
        except UnicodeDecodeError:
            repaired, broken, total = encodings.repair_dbf_text(blobs[".dbf"], encoding)
            if broken > _MAX_BROKEN_SHARE * total:
                raise ReadError(
                    f"`{_basename(name)}`: {broken} of {total} text values in the attribute "
                    f"table are not valid {encoding.upper()}. Pick the encoding the file was "
                    "saved in (often GBK for Chinese shapefiles).",
                    code="dbf_encoding",
                    params={"name": _basename(name), "broken": broken, "total": total, "encoding": encoding.upper()},
                ) from None
            path.with_suffix(".dbf").write_bytes(repaired)
            frame, notes = _gdal(name, pyogrio.read_dataframe, path, encoding=encoding)
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
    return _Raw(frame, crs, (), None, encoding, origin, enc_notes + notes, confirm)


# ---- GeoPackage ---------------------------------------------------------------------------------


_GPKG_SECONDS = 10.0  # SQLite work allowed for listing a GeoPackage's layers
_GPKG_TABLES = ("gpkg_contents", "gpkg_geometry_columns", "gpkg_spatial_ref_sys")


def _gpkg_layers(name: str, path: Path) -> tuple[str, ...]:
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
                f"`{_basename(name)}` is not a GeoPackage GridWatch can read: its "
                f"{', '.join(_GPKG_TABLES)} must be tables. Export the layer again from QGIS "
                "or ArcGIS as GeoPackage.",
                code="gpkg_not_tables",
                params={"file": _basename(name)},
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
        f"`{_basename(name)}` is not a readable GeoPackage ({str(exc)[:120]}). Export the layer "
        "again as GeoPackage and upload that.",
        code="gpkg_unreadable",
        params={"file": _basename(name)},
    )


def _read_gpkg(name: str, data: bytes, options: _Options) -> _Raw:
    with _saved(data, ".gpkg") as path:
        layers = _gpkg_layers(name, path)
        notes: list[str] = []
        layer = _pick_layer(name, layers, options.layer, notes)
        frame, gdal_notes = _gdal(name, pyogrio.read_dataframe, path, layer=layer)
    crs = pyproj.CRS.from_user_input(frame.crs) if frame.crs is not None else None
    raw = _Raw(frame, crs, layers, layer, notes=notes + gdal_notes)
    _ignore_encoding(raw, options, "GeoPackage text is always UTF-8")
    return raw


def _ignore_encoding(raw: _Raw, options: _Options, why: str) -> None:
    if options.encoding:
        raw.notes.append(
            Message(
                f"the chosen encoding {options.encoding.upper()} was not used: {why}",
                code="encoding_not_used",
                params={"encoding": options.encoding.upper(), "why": why},
            )
        )


# ---- JSON: GeoJSON or Open311 -------------------------------------------------------------------


def _read_json(name: str, data: bytes, options: _Options) -> _Raw:
    text, encoding, origin = _decoded(name, data, options.encoding)
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


def _read_json_document(name: str, text: str, encoding: str, options: _Options) -> _Raw:
    try:
        document, declared = _without_crs(text)
    except json.JSONDecodeError as exc:
        raise ReadError(
            f"`{_basename(name)}` is not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}). Export the file again as GeoJSON.",
            code="json_invalid",
            params={"name": _basename(name), "line": exc.lineno, "column": exc.colno, "reason": exc.msg},
        ) from None
    if isinstance(document, dict) and isinstance(document.get("service_requests"), list):
        document = document["service_requests"]
    if isinstance(document, list):
        return _read_open311(name, document, options)
    if isinstance(document, dict) and "type" in document:
        return _read_geojson(name, declared, json.dumps(document, ensure_ascii=False), encoding)
    raise ReadError(
        f'`{_basename(name)}` is JSON but neither GeoJSON (no "type" member) nor an '
        "Open311 list of service requests. Export it as GeoJSON.",
        code="json_not_geojson",
        params={"name": _basename(name)},
    )


def _read_geojson(name: str, declared: object, text: str, encoding: str) -> _Raw:
    """GeoJSON through GDAL, from memory. The legacy ``crs`` member (``declared``) has been taken out of
    ``text`` and is interpreted here: GDAL never sees it (a "link" crs would make GDAL fetch a URL)."""
    crs, confirm = _geojson_crs(name, declared)
    frame, notes = _gdal(name, pyogrio.read_dataframe, text.encode("utf-8"))
    return _Raw(frame, crs, (_stem(name),), _stem(name), notes=notes, confirm=confirm)


def _geojson_crs(name: str, declared) -> tuple[pyproj.CRS, list[str]]:
    """A GeoJSON's coordinate system: WGS84 (RFC 7946) unless an old-style named ``crs`` says otherwise."""
    if declared is None:
        return _WGS84, []
    properties = declared.get("properties") if isinstance(declared, dict) else None
    named = properties.get("name") if isinstance(properties, dict) else None
    if declared.get("type") == "name" and isinstance(named, str) and _CRS_NAME.match(named):
        try:
            return pyproj.CRS.from_user_input(named), []
        except pyproj.exceptions.CRSError:
            pass
    return _WGS84, ['the file\'s "crs" member could not be used, so WGS84 (EPSG:4326) was assumed as GeoJSON requires']


def _read_open311(name: str, requests: list, options: _Options) -> _Raw:
    """An Open311 GeoReport v2 list of service requests → points (lat/long are WGS84)."""
    if not requests or not all(isinstance(r, dict) for r in requests):
        raise ReadError(
            f"`{_basename(name)}` is a JSON list, but not of Open311 service requests "
            "(objects with service_request_id, lat, long, …). Upload GeoJSON instead.",
            code="json_not_open311",
            params={"name": _basename(name)},
        )
    if not _OPEN311_KEYS & set().union(*requests):
        raise ReadError(
            f"`{_basename(name)}` is a JSON list without Open311 fields "
            "(service_request_id, requested_datetime, service_name). Upload GeoJSON "
            "or a CSV with lon/lat columns instead.",
            code="json_no_open311_fields",
            params={"name": _basename(name)},
        )
    rows = [
        {k: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v for k, v in r.items()}
        for r in requests
    ]
    table = pd.DataFrame.from_records(rows)
    frame, crs, notes = _table_geometry(name, table, options)
    raw = _Raw(frame, crs or _WGS84, (_stem(name),), _stem(name), notes=notes)
    raw.notes.insert(0, f"read {len(table)} Open311 service requests")
    return raw


# ---- KML / KMZ ----------------------------------------------------------------------------------


def _kmz_document(name: str, data: bytes) -> bytes:
    archive, members = _open_zip(name, data)
    kml = [(m, info) for m, info in members if _suffix(m) == ".kml"]
    if not kml:
        raise ReadError(
            f"`{_basename(name)}` holds no .kml document. Export the KMZ again from Google Earth or your map tool.",
            code="kmz_no_kml",
            params={"name": _basename(name)},
        )
    kml.sort(key=lambda item: (_basename(item[0]).lower() != "doc.kml", item[0]))
    return _read_member(name, archive, kml[0][1])


def _read_kmz(name: str, data: bytes, options: _Options) -> _Raw:
    return _read_kml(name, _kmz_document(name, data), options)


def _read_kml(name: str, data: bytes, options: _Options) -> _Raw:
    found = kml.placemarks(_basename(name), data, _stem(name))
    layers = tuple(dict.fromkeys(layer for layer, _ in found))
    notes: list[str] = []
    layer = _pick_layer(name, layers, options.layer, notes)
    rows, geoms, with_z = kml.features([item for item in found if item[0] == layer])
    frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=np.array(geoms, dtype=object))
    if with_z:
        notes.append(
            Message(
                f"dropped Z coordinates (altitude) from {with_z} features", code="dropped_z", params={"count": with_z}
            )
        )
    raw = _Raw(frame, _WGS84, layers, layer, kml.declared_encoding(data), "file", notes)
    _ignore_encoding(raw, options, "KML declares its own encoding")
    return raw


# ---- CSV / XLSX tables --------------------------------------------------------------------------


def _decoded(name: str, data: bytes, chosen: str | None) -> tuple[str, str, str]:
    """(text, encoding, origin) of a text upload (see ``encodings.decode_text``), or ReadError."""
    try:
        return encodings.decode_text(data, chosen)
    except UnicodeDecodeError as exc:
        if chosen:
            raise ReadError(
                f"`{_basename(name)}` is not valid {chosen.upper()} text (byte {exc.start:,} "
                "does not fit). Pick another encoding, e.g. UTF-8 or GBK.",
                code="text_encoding",
                params={"name": _basename(name), "encoding": chosen.upper(), "byte": f"{exc.start:,}"},
            ) from None
        raise ReadError(
            f"`{_basename(name)}` is neither UTF-8 nor GBK/GB18030 text. Save it as UTF-8 (in "
            "Excel: CSV UTF-8) or pick the encoding it was saved in.",
            code="text_not_utf8_gbk",
            params={"name": _basename(name)},
        ) from None


def _read_csv(name: str, data: bytes, options: _Options) -> _Raw:
    text, encoding, origin = _decoded(name, data, options.encoding)
    first_line = text.split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=first_line.count)
    try:
        table = pd.read_csv(StringIO(text), sep=delimiter, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ReadError(
            f"`{_basename(name)}` is not a readable table ({str(exc).strip()[:160]}). Check "
            "that every row has the same columns as the header, then upload again.",
            code="table_unreadable",
            params={"name": _basename(name), "reason": str(exc).strip()[:160]},
        ) from None
    table.columns = [str(c).strip() for c in table.columns]
    frame, crs, notes = _table_geometry(name, table, options)
    return _Raw(
        frame, crs, (_stem(name),), _stem(name), encoding, origin, encodings.text_notes(encoding, origin) + notes
    )


@contextmanager
def _opening_xlsx(name: str, data: bytes) -> Iterator[None]:
    """Guard an openpyxl read: the archive is checked like any zip first; broken workbooks become
    ReadError. openpyxl's UserWarnings are about styles and extensions it skips (no default style, data
    validation, …); they do not change cell values, so they are not passed on."""
    _open_zip(name, data)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
        try:
            yield
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise ReadError(
                f"`{_basename(name)}` is not a readable Excel workbook ({str(exc)[:120]}). Save it again as .xlsx.",
                code="excel_unreadable",
                params={"name": _basename(name), "reason": str(exc)[:120]},
            ) from None


def _xlsx_sheets(name: str, data: bytes) -> tuple[str, ...]:
    with _opening_xlsx(name, data):
        return tuple(str(s) for s in pd.ExcelFile(BytesIO(data), engine="openpyxl").sheet_names)


def _read_xlsx(name: str, data: bytes, options: _Options) -> _Raw:
    sheets = _xlsx_sheets(name, data)
    notes: list[str] = []
    sheet = _pick_layer(name, sheets, options.layer, notes)
    with _opening_xlsx(name, data):
        table = pd.read_excel(BytesIO(data), sheet_name=sheet, dtype=str, engine="openpyxl")
    table.columns = [str(c).strip() for c in table.columns]
    frame, crs, table_notes = _table_geometry(name, table, options)
    raw = _Raw(frame, crs, sheets, sheet, notes=notes + table_notes)
    _ignore_encoding(raw, options, "Excel workbooks store text as Unicode")
    return raw


def _table_geometry(
    name: str, table: pd.DataFrame, options: _Options
) -> tuple[gpd.GeoDataFrame, pyproj.CRS | None, list[str]]:
    """Geometry for a table: the named columns, else a WKT column, lon/lat columns, or "(lat, lon)" text.

    Returns (frame without CRS, the CRS an EWKT prefix declares or None, notes).
    """
    if table.empty:
        raise ReadError(
            f"`{_basename(name)}` has a header but no rows. Upload the file with its data.",
            code="table_no_rows",
            params={"name": _basename(name)},
        )
    for given in (options.wkt_column, options.x_column, options.y_column):
        if given is not None and given not in table.columns:
            raise ReadError(
                f"`{_basename(name)}` has no column `{given}`; its columns are: "
                f"{', '.join(map(str, table.columns[:30]))}. Pick one of those.",
                code="no_such_column",
                params={"name": _basename(name), "column": given, "columns": ", ".join(map(str, table.columns[:30]))},
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
        f"`{_basename(name)}` has no columns GridWatch recognises as coordinates (columns: "
        f"{', '.join(map(str, table.columns[:30]))}). Name the longitude and latitude "
        "columns (e.g. 经度/纬度, lon/lat) or the WKT column.",
        code="no_coordinate_columns",
        params={"name": _basename(name), "columns": ", ".join(map(str, table.columns[:30]))},
    )


def _sample(series: pd.Series) -> pd.Series:
    return series.dropna().astype(str).head(_SAMPLE_ROWS)


def _find_wkt_column(table: pd.DataFrame) -> str | None:
    """A column named like a geometry column whose values are mostly WKT, else any column of WKT."""

    def wkt_share(column) -> float:
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


def _wkt_geometry(table: pd.DataFrame, column: str):
    text = table[column].astype("str").str.strip()
    srids = text.str.extract(_SRID, expand=False).dropna().unique()
    geoms = shapely.from_wkt(text.str.replace(_SRID, "", regex=True).to_numpy(dtype=object), on_invalid="ignore")
    notes = [Message(f"read geometry from the WKT column `{column}`", code="wkt_column", params={"column": column})]
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


def _points(table: pd.DataFrame, x: np.ndarray, y: np.ndarray, label: str):
    """Points from coordinate arrays; rows without both numbers get no geometry (and a note)."""
    ok = np.isfinite(x) & np.isfinite(y)
    geoms = np.full(len(table), None, dtype=object)
    geoms[ok] = shapely.points(x[ok], y[ok])
    notes = [Message(f"made points from {label}", code="made_points", params={"source": label})]
    if not ok.all():
        notes.append(
            Message(
                f"{int((~ok).sum())} row(s) have no usable coordinates and no geometry",
                code="no_coordinates",
                params={"count": int((~ok).sum())},
            )
        )
    return _frame(table, geoms), notes


def _xy_geometry(name: str, table: pd.DataFrame, x_column: str, y_column: str):
    x, y = _numbers(table[x_column]), _numbers(table[y_column])
    if not (np.isfinite(x) & np.isfinite(y)).any():
        raise ReadError(
            f"`{_basename(name)}`: columns `{x_column}` and `{y_column}` hold no numbers. "
            "Pick the columns that hold the coordinates.",
            code="xy_not_numbers",
            params={"name": _basename(name), "x": x_column, "y": y_column},
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


def _pair_geometry(table: pd.DataFrame, column: str):
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


# ================================================================================================
# coordinate systems
# ================================================================================================


def _user_crs(name: str, crs: str) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError:
        raise ReadError(
            f"`{crs[:80]}` is not a coordinate system GridWatch knows (for "
            f"`{_basename(name)}`). Give an EPSG code such as EPSG:4490 (CGCS2000) or "
            "EPSG:4549 (CGCS2000 Gauss-Krüger 120°E).",
            code="unknown_crs",
            params={"crs": crs[:80], "name": _basename(name)},
        ) from None


def _crs_label(crs: pyproj.CRS) -> str:
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.name


def _crs_description(crs: pyproj.CRS) -> str:
    label = _crs_label(crs)
    return label if label == crs.name else f"{label} ({crs.name})"


def _finish(name: str, raw: _Raw, user_crs: pyproj.CRS | None) -> ReadResult:
    """Settle the coordinate system, drop Z, convert to EPSG:4326 and check the result is lon/lat."""
    frame = _two_d(raw.frame, raw.notes)
    bounds = _bounds(frame)
    if user_crs is not None:
        source, origin = user_crs, "user"
    elif raw.crs is not None:
        source, origin = raw.crs, "file"
    elif bounds is None:
        source, origin = None, "none"
    else:
        source, origin = _infer_crs(name, bounds, raw.confirm), "inferred"
    if source is not None and source.is_geographic and len(source.axis_info) == 3:
        source = source.to_2d()
    if source is None or source.equals(_WGS84, ignore_axis_order=True):
        frame = frame.set_crs(_WGS84, allow_override=True)
    else:
        frame = frame.set_crs(source, allow_override=True).to_crs(_WGS84)
        raw.notes.append(
            Message(
                f"converted from {_crs_description(source)} to WGS84 lon/lat (EPSG:4326)",
                code="converted_crs",
                params={"crs": _crs_description(source)},
            )
        )
    _check_lonlat(name, frame, source, origin)
    return ReadResult(
        frame,
        _crs_label(source) if source is not None else None,
        origin,
        raw.encoding,
        raw.encoding_origin,
        raw.layers,
        raw.layer,
        tuple(raw.notes),
        tuple(raw.confirm),
    )


def _two_d(frame: gpd.GeoDataFrame, notes: list[str]) -> gpd.GeoDataFrame:
    geoms = frame.geometry.array
    with_z = int(shapely.has_z(geoms).sum())
    if not with_z:
        return frame
    notes.append(Message(f"dropped Z coordinates from {with_z} features", code="dropped_z", params={"count": with_z}))
    return frame.set_geometry(gpd.GeoSeries(shapely.force_2d(geoms), index=frame.index, crs=frame.crs))


def _bounds(frame: gpd.GeoDataFrame) -> tuple[float, float, float, float] | None:
    coords = shapely.get_coordinates(frame.geometry.array)
    coords = coords[np.isfinite(coords).all(axis=1)]
    if not len(coords):
        return None
    (x0, y0), (x1, y1) = coords.min(axis=0), coords.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


def _infer_crs(name: str, bounds: tuple[float, float, float, float], confirm: list[str]) -> pyproj.CRS:
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
        return _WGS84
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
                            f"number {zone} in front, so {_crs_description(crs)} was assumed",
                            code="assumed_gauss_kruger",
                            params={"where": where, "zone": zone, "crs": _crs_description(crs)},
                        )
                    )
                    return crs
        if _GK_EASTING[0] <= x0 and x1 <= _GK_EASTING[1]:
            raise ReadError(
                f"`{_basename(name)}` does not say its coordinate system, and its "
                f"coordinates ({where}) look like Gauss-Krüger or UTM metres without a zone "
                "number, so the zone cannot be told. Pick it: CGCS2000 3° zones are "
                "EPSG:4534 (central meridian 75°E) to EPSG:4554 (135°E), e.g. EPSG:4548 "
                "(117°E, Beijing) or EPSG:4549 (120°E, Hangzhou, Shanghai); 6° zones are "
                "EPSG:4502 (75°E) to EPSG:4512 (135°E).",
                code="crs_zone_unknown",
                params={"name": _basename(name), "where": where},
            )
    raise ReadError(
        f"`{_basename(name)}` does not say its coordinate system, and its coordinates "
        f"({where}) are neither longitude/latitude degrees nor Chinese Gauss-Krüger metres. "
        "Pick the coordinate system it was drawn in (e.g. EPSG:4490 for CGCS2000 lon/lat).",
        code="crs_unknown_numbers",
        params={"name": _basename(name), "where": where},
    )


def _check_lonlat(name: str, frame: gpd.GeoDataFrame, source: pyproj.CRS | None, origin: str) -> None:
    bounds = _bounds(frame)
    if bounds is None:
        return
    x0, y0, x1, y1 = bounds
    if x0 >= -180 and x1 <= 180 and y0 >= -90 and y1 <= 90:
        return
    said = {"file": "the file says", "user": "you chose", "inferred": "it looked like"}[origin]
    raise ReadError(
        f"`{_basename(name)}`: {said} its coordinates are in {_crs_description(source)}, but "
        f"read that way they run from x {x0:,.6g} to {x1:,.6g} and y {y0:,.6g} to {y1:,.6g}, "
        "which is not on Earth. Pick the coordinate system it was really drawn in (e.g. "
        "EPSG:4549 for CGCS2000 Gauss-Krüger 120°E).",
        code="crs_not_on_earth",
        params={
            "name": _basename(name),
            "origin": origin,
            "crs": _crs_description(source),
            "where": f"x {x0:,.6g} to {x1:,.6g}, y {y0:,.6g} to {y1:,.6g}",
        },
    )
