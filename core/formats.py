"""What an uploaded file is: its kind (by extension, checked against its first bytes), its size limit,
the names used for it in messages, and the contract every reader shares.

The reading room's front desk: ``core.io`` asks :func:`file_kind` which reader to call and passes each
reader a :class:`ReadOptions`; every reader returns a :class:`RawRead` (geometry in the file's own
coordinate system) that ``core.io`` finishes into EPSG:4326. Also here: :func:`pick_layer` (a file's
layer by name, or the first) and :func:`ignore_encoding` (the note when a chosen encoding cannot apply).

Not here: the readers themselves (``core.vector``, ``core.geojson``, ``core.kml``, ``core.tables``),
zip safety (``core.archives``), coordinate systems (``core.crs``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath

import geopandas as gpd
import pyproj

from core.errors import Message, ReadError

__all__ = [
    "ARCHIVE_KINDS",
    "KINDS",
    "MAX_UPLOAD_BYTES",
    "SHAPEFILE_PARTS",
    "SUPPORTED",
    "RawRead",
    "ReadOptions",
    "basename",
    "check_size",
    "file_kind",
    "file_stem",
    "file_suffix",
    "ignore_encoding",
    "megabytes",
    "pick_layer",
]

MAX_UPLOAD_BYTES = 200 * 2**20  # an upload, and any one file unpacked from a zip, is at most this big

KINDS = {
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
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".cst", ".sbn", ".sbx", ".qix", ".qpj")
SUPPORTED = "GeoJSON, a zipped shapefile, GeoPackage, KML/KMZ, or CSV/XLSX with lon/lat or WKT columns"
ARCHIVE_KINDS = ("zip", "kmz", "xlsx")  # never opened when found inside an uploaded zip
_ZIP_MAGIC = b"PK\x03\x04"
_SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class ReadOptions:
    """What the user chose for a read: the layer inside the file (sheet, folder), the text codec, the
    geometry columns. ``core.uploads.UploadOptions`` adds the rest of an upload's choices."""

    file_layer: str | None = None
    encoding: str | None = None
    x_column: str | None = None
    y_column: str | None = None
    wkt_column: str | None = None


@dataclass
class RawRead:
    """A reader's output before the coordinate system is settled: geometry in ``crs`` (None = unknown)."""

    frame: gpd.GeoDataFrame
    crs: pyproj.CRS | None
    layers: tuple[str, ...]
    layer: str | None
    encoding: str | None = None
    encoding_origin: str = "n/a"
    notes: list[str] = field(default_factory=list)
    confirm: list[str] = field(default_factory=list)


def basename(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).name or name


def file_stem(name: str) -> str:
    return PurePosixPath(basename(name)).stem


def file_suffix(name: str) -> str:
    return PurePosixPath(basename(name)).suffix.lower()


def file_kind(name: str, data: bytes) -> str:
    """The reader for ``name``, by extension (checked against the content where that is cheap)."""
    suffix = file_suffix(name)
    if suffix in SHAPEFILE_PARTS:
        raise ReadError(
            f"`{basename(name)}` is one part of a shapefile; a shapefile is several files "
            "(.shp, .shx and .dbf, usually also .prj and .cpg). Put all of them in one .zip "
            "and upload the zip.",
            code="shapefile_part",
            params={"name": basename(name)},
        )
    if suffix == ".xls":
        raise ReadError(
            f"`{basename(name)}` is an old-style Excel file (.xls). Open it in Excel or WPS "
            "and save it as .xlsx or CSV UTF-8, then upload that.",
            code="old_excel",
            params={"name": basename(name)},
        )
    if suffix not in KINDS:
        raise ReadError(
            f"`{basename(name)}` has the extension `{suffix or '(none)'}`, which GridWatch "
            f"does not read. Upload {SUPPORTED}.",
            code="unknown_extension",
            params={"name": basename(name), "suffix": suffix or "(none)", "supported": SUPPORTED},
        )
    kind = KINDS[suffix]
    if kind in ARCHIVE_KINDS and not data.startswith(_ZIP_MAGIC):
        raise ReadError(
            f"`{basename(name)}` is named {suffix} but is not a zip archive (it may be "
            "damaged or only partly uploaded). Create the file again and upload it.",
            code="not_a_zip",
            params={"name": basename(name), "suffix": suffix},
        )
    if kind == "gpkg" and not data.startswith(_SQLITE_MAGIC):
        raise ReadError(
            f"`{basename(name)}` is named .gpkg but is not a GeoPackage (SQLite) file. "
            "Export it again as GeoPackage and upload that.",
            code="not_a_geopackage",
            params={"name": basename(name)},
        )
    return kind


def megabytes(n: int) -> str:
    return f"{n / 2**20:,.1f} MB"


def check_size(name: str, data: bytes) -> None:
    if not data:
        raise ReadError(
            f"`{basename(name)}` is empty (0 bytes). Check the file and upload it again.",
            code="file_empty",
            params={"name": basename(name)},
        )
    if len(data) > MAX_UPLOAD_BYTES:
        raise ReadError(
            f"`{basename(name)}` is {megabytes(len(data))}; uploads are limited to "
            f"{megabytes(MAX_UPLOAD_BYTES)}. Split the file (e.g. by street) or simplify the "
            "geometry, then upload the parts.",
            code="file_too_large",
            params={"name": basename(name), "size": megabytes(len(data)), "limit": megabytes(MAX_UPLOAD_BYTES)},
        )


def pick_layer(name: str, layers: tuple[str, ...], wanted: str | None, raw_notes: list[str]) -> str:
    if not layers:
        raise ReadError(
            f"`{basename(name)}` holds no layer with geometry. Upload {SUPPORTED}.",
            code="no_geometry_layer",
            params={"name": basename(name), "supported": SUPPORTED},
        )
    if wanted is not None:
        if wanted not in layers:
            raise ReadError(
                f"`{basename(name)}` has no layer `{wanted}`; its layers are: {', '.join(layers)}. Pick one of those.",
                code="no_such_file_layer",
                params={"name": basename(name), "wanted": wanted, "layers": ", ".join(layers)},
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


def ignore_encoding(raw: RawRead, options: ReadOptions, why: str) -> None:
    if options.encoding:
        raw.notes.append(
            Message(
                f"the chosen encoding {options.encoding.upper()} was not used: {why}",
                code="encoding_not_used",
                params={"encoding": options.encoding.upper(), "why": why},
            )
        )
