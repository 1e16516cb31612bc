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

This module is the façade: the public reading API, the dispatch by format, and the last step every
read shares (the coordinate system settled, Z dropped, everything converted to EPSG:4326). The rooms
behind it: ``core.formats`` (which reader; the upload size limit), ``core.archives`` (zip safety), the
readers ``core.vector`` (zipped shapefiles, GeoPackage; GDAL kept offline), ``core.geojson`` (GeoJSON,
Open311), ``core.kml`` (KML/KMZ) and ``core.tables`` (CSV/XLSX), ``core.table_geometry`` (lon/lat or WKT
columns), ``core.crs`` (coordinate systems inferred and checked) and ``core.encodings``. The column
mapping (``core.columns``) and GCJ-02/BD-09 (``core.coords``) are re-exported here. Not here: validating
a layer (``core.validate``) or storing it (``core.uploads``, ``core.store``).

Safety: GDAL never opens a user-supplied name. Bytes go to GDAL in memory (pyogrio) or into a private
temporary directory under generated names (``core.vector``); zip members are extracted by
``core.archives`` after checking their paths, count, sizes and compression ratios, and no member may
unpack to more than ``core.formats.MAX_UPLOAD_BYTES`` (counted while unpacking, whatever the archive
claims); nested archives are not opened; XML with a DOCTYPE or ENTITY declaration is refused before any
parser sees it (also in UTF-16). GDAL is configured offline (``core.vector.OFFLINE_GDAL``: every HTTP
request goes to a closed local port, /vsicurl/ opens nothing), and GeoJSON reaches it without any ``crs``
member. GeoPackage layers are listed from ``gpkg_contents`` by SQLite, tables only: views are never run.
Every read runs in a worker process with a memory and a time limit (``core.sandbox``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import geopandas as gpd
import pyarrow as pa
import pyproj
import shapely

from core import encodings, kml, sandbox, tables, vector
from core.archives import open_zip, single_inner_file
from core.columns import apply_mapping, suggest_mapping
from core.coords import OffsetGuess, bd09_to_wgs84, convert_datum, detect_datum_offset, gcj02_to_wgs84, wgs84_to_gcj02
from core.crs import WGS84, check_lonlat, coordinate_bounds, crs_description, crs_label, infer_crs, user_crs
from core.errors import Message, ReadError
from core.formats import RawRead, ReadOptions, basename, check_size, file_kind, file_stem, ignore_encoding, pick_layer
from core.geojson import read_json
from core.table_geometry import table_geometry

__all__ = [
    "OffsetGuess",
    "ReadResult",
    "apply_mapping",
    "bd09_to_wgs84",
    "convert_datum",
    "detect_datum_offset",
    "gcj02_to_wgs84",
    "list_layers",
    "read_upload",
    "read_with_options",
    "suggest_mapping",
    "table_columns",
    "wgs84_to_gcj02",
]


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


# ================================================================================================
# public API
# ================================================================================================


def list_layers(name: str, data: bytes) -> tuple[str, ...]:
    """The layers ``data`` holds: GeoPackage layers, shapefiles in a zip, KML folders, XLSX sheets.

    Single-layer formats (GeoJSON, CSV, …) hold one layer named after the file. Runs in a worker with
    the read limits (``core.sandbox``).
    """
    check_size(name, data)
    return sandbox.run(basename(name), _layers, name, data)


def _layers(name: str, data: bytes) -> tuple[str, ...]:
    kind = file_kind(name, data)
    if kind == "zip":
        archive, members = open_zip(name, data)
        shapefiles = vector.shapefile_layers(members)
        if shapefiles:
            return tuple(shapefiles)
        return _layers(*single_inner_file(name, archive, members))
    if kind == "gpkg":
        with vector.saved(data, ".gpkg") as path:
            return vector.gpkg_layers(name, path)
    if kind == "kml":
        return kml.file_layers(name, data)
    if kind == "kmz":
        return _layers("doc.kml", kml.kmz_document(name, data))
    if kind == "xlsx":
        return tables.xlsx_sheets(name, data)
    return (file_stem(name),)


def table_columns(name: str, data: bytes, *, layer: str | None = None, encoding: str | None = None) -> tuple[str, ...]:
    """The header of a CSV or XLSX table (``layer``: the sheet), read without looking for coordinates, so
    the user can pick the geometry columns of a table GridWatch could not place; () for other formats.
    Runs in a worker with the read limits (``core.sandbox``)."""
    check_size(name, data)
    return sandbox.run(basename(name), _table_columns, name, data, layer, encoding)


def _table_columns(name: str, data: bytes, layer: str | None, encoding: str | None) -> tuple[str, ...]:
    codec = _codec(name, encoding) if encoding else None
    return tables.table_header(name, data, file_kind(name, data), layer, codec)


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
    return read_with_options(name, data, ReadOptions(layer, encoding, x_column, y_column, wkt_column), crs)


def read_with_options(name: str, data: bytes, options: ReadOptions, crs: str | None = None) -> ReadResult:
    """:func:`read_upload` with the layer, encoding and geometry columns as one ``options`` (an upload's
    ``core.uploads.UploadOptions`` is one)."""
    check_size(name, data)
    encoding = None if options.encoding is None else _codec(name, options.encoding)
    chosen_crs = user_crs(name, crs) if crs else None
    reading = ReadOptions(options.file_layer, encoding, options.x_column, options.y_column, options.wkt_column)
    result = sandbox.run(basename(name), _read_for_transfer, name, data, reading, chosen_crs)
    if isinstance(result.frame, _ArrowFrame):
        result = replace(result, frame=result.frame.restored())
    return result


def _read(name: str, data: bytes, options: ReadOptions, chosen_crs: pyproj.CRS | None) -> ReadResult:
    return _finish(name, _read_raw(name, data, options), chosen_crs)


def _read_for_transfer(name: str, data: bytes, options: ReadOptions, chosen_crs: pyproj.CRS | None) -> ReadResult:
    """``_read`` in the worker, its frame packed as Arrow (sent back faster than pickled geometries)."""
    result = _read(name, data, options, chosen_crs)
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
            f"`{basename(name)}`). Use e.g. UTF-8, GBK or GB18030.",
            code="unknown_encoding",
            params={"encoding": encoding[:40], "name": basename(name)},
        )
    return codec


def _read_raw(name: str, data: bytes, options: ReadOptions) -> RawRead:
    readers = {
        "zip": _read_zip,
        "kmz": kml.read_kmz,
        "kml": kml.read_kml,
        "gpkg": vector.read_gpkg,
        "json": read_json,
        "csv": _read_csv,
        "xlsx": _read_xlsx,
    }
    return readers[file_kind(name, data)](name, data, options)


def _read_zip(name: str, data: bytes, options: ReadOptions) -> RawRead:
    """A zip's shapefile layer, else the one file of another format it holds (read as if uploaded alone)."""
    archive, members = open_zip(name, data)
    shapefiles = vector.shapefile_layers(members)
    if not shapefiles:
        inner_name, inner = single_inner_file(name, archive, members)
        return _read_raw(inner_name, inner, options)
    return vector.read_zipped_shapefile(name, archive, members, shapefiles, options)


def _read_csv(name: str, data: bytes, options: ReadOptions) -> RawRead:
    table, encoding, origin = tables.read_csv_table(name, data, options.encoding)
    frame, crs, notes = table_geometry(name, table, options)
    return RawRead(
        frame,
        crs,
        (file_stem(name),),
        file_stem(name),
        encoding,
        origin,
        encodings.text_notes(encoding, origin) + notes,
    )


def _read_xlsx(name: str, data: bytes, options: ReadOptions) -> RawRead:
    sheets = tables.xlsx_sheets(name, data)
    notes: list[str] = []
    sheet = pick_layer(name, sheets, options.file_layer, notes)
    table = tables.read_xlsx_table(name, data, sheet)
    frame, crs, table_notes = table_geometry(name, table, options)
    raw = RawRead(frame, crs, sheets, sheet, notes=notes + table_notes)
    ignore_encoding(raw, options, "Excel workbooks store text as Unicode")
    return raw


# ================================================================================================
# the coordinate system settled
# ================================================================================================


def _finish(name: str, raw: RawRead, chosen_crs: pyproj.CRS | None) -> ReadResult:
    """Settle the coordinate system, drop Z, convert to EPSG:4326 and check the result is lon/lat."""
    frame = _two_d(raw.frame, raw.notes)
    bounds = coordinate_bounds(frame)
    if chosen_crs is not None:
        source, origin = chosen_crs, "user"
    elif raw.crs is not None:
        source, origin = raw.crs, "file"
    elif bounds is None:
        source, origin = None, "none"
    else:
        source, origin = infer_crs(name, bounds, raw.confirm), "inferred"
    if source is not None and source.is_geographic and len(source.axis_info) == 3:
        source = source.to_2d()
    if source is None or source.equals(WGS84, ignore_axis_order=True):
        frame = frame.set_crs(WGS84, allow_override=True)
    else:
        frame = frame.set_crs(source, allow_override=True).to_crs(WGS84)
        raw.notes.append(
            Message(
                f"converted from {crs_description(source)} to WGS84 lon/lat (EPSG:4326)",
                code="converted_crs",
                params={"crs": crs_description(source)},
            )
        )
    check_lonlat(name, frame, source, origin)
    return ReadResult(
        frame,
        crs_label(source) if source is not None else None,
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
