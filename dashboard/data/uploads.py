"""Caches of the Data page (views/data.py): reading and checking uploads, activation, history, previews."""

from __future__ import annotations

from dataclasses import dataclass, field

import folium
import geopandas as gpd
import streamlit as st

from core import io, schema, uploads
from dashboard.components import map_builders, maps
from dashboard.data import shared
from dashboard.i18n import translate


@dataclass(frozen=True)
class Upload:
    """A file read for the session (a road network or key points): cached work is keyed by its name and
    digest, never by hashing its bytes again on every rerun."""

    name: str
    digest: str
    payload: bytes = field(repr=False)


UPLOAD_HASH = {Upload: lambda upload: (upload.name, upload.digest)}


@st.cache_resource(show_spinner=False, max_entries=2, hash_funcs=UPLOAD_HASH)  # a road network and key points
def extra_layer(upload: Upload, geometry_types: tuple[str, ...]) -> tuple[gpd.GeoDataFrame, int, str]:
    """The features of ``upload`` whose geometry is one of ``geometry_types`` (EPSG:4326), how many other
    features were left out, and the geometry types the file holds."""
    frame = io.read_upload(upload.name, upload.payload).frame
    keep = frame.geom_type.isin(geometry_types).to_numpy()
    found = ", ".join(sorted(set(frame.geom_type.dropna()))) or "–"
    return frame[keep].reset_index(drop=True), int((~keep).sum()), found


def extra_frame(upload: Upload | None, geometry_types: tuple[str, ...]) -> gpd.GeoDataFrame | None:
    return extra_layer(upload, geometry_types)[0] if upload is not None else None


# ---- Data page -----------------------------------------------------------------------------------
# Uploads are keyed by their name and digest (``Upload``), not by hashing up to 200 MB on every call.
@st.cache_data(show_spinner=False, max_entries=8, hash_funcs=UPLOAD_HASH)
def file_layers(upload: Upload) -> tuple[str, ...]:
    return io.list_layers(upload.name, upload.payload)


@st.cache_data(show_spinner=False, max_entries=8, hash_funcs=UPLOAD_HASH)
def file_columns(upload: Upload, file_layer: str | None, encoding: str | None) -> tuple[str, ...]:
    """The header of a table upload, for the geometry-column pickers when its coordinates were not found."""
    return io.table_columns(upload.name, upload.payload, layer=file_layer, encoding=encoding)


@st.cache_resource(show_spinner=False, max_entries=2)
def active_state(name: str, ver: int) -> uploads.Active:
    """The active layers, outline and grid index that upload checks compare against (from the caches
    above, so nothing is read or indexed twice)."""
    held = shared.workspace(name).layers(ver)
    points = {p: shared.layer(name, ver, p) for p in schema.POINT_LAYERS if p in held}
    if schema.GRIDS.name not in held:
        return uploads.Active.of(None, points)
    return uploads.Active.of(shared.layer(name, ver, schema.GRIDS.name), points, shared.grid_index(name, ver))


DEFAULT_UPLOAD_OPTIONS = uploads.UploadOptions()


@st.cache_resource(show_spinner=False, max_entries=3, hash_funcs=UPLOAD_HASH)
def check(
    name: str,
    ver: int,
    layer_name: str,
    upload: Upload,
    options: uploads.UploadOptions = DEFAULT_UPLOAD_OPTIONS,
    mapping: dict[str, str] | None = None,
    fixed: dict[str, str] | None = None,
    values: dict[str, dict[str, str]] | None = None,
    mode: uploads.Mode = "replace",
) -> uploads.UploadCheck:
    """The report on an upload against version ``ver`` (read-only; nothing is stored). Three are kept
    (the check as read, with the reading options, and as re-mapped: a page run asks for all three):
    each holds a frame that fit in a read worker's memory (``GRIDWATCH_READ_MEMORY_MB``), so the cache
    holds at most three times that, however many files are dropped."""
    return uploads.check_upload(
        shared.workspace(name),
        layer_name,
        upload.name,
        upload.payload,
        options,
        mapping,
        active=active_state(name, ver),
        fixed=fixed,
        values=values,
        mode=mode,
    )


def activate(
    name: str, upload_check: uploads.UploadCheck, *, note: str, author: str, confirm_shrink: bool = False
) -> int:
    return uploads.activate_upload(
        shared.workspace(name), upload_check, note=note, author=author, confirm_shrink=confirm_shrink
    )


def reactivate(name: str, version_number: int, *, author: str) -> int:
    return shared.workspace(name).activate(version_number, author=author)


def clear_layer(name: str, layer_name: str, *, author: str) -> int:
    return shared.workspace(name).clear(layer_name, note=f"clear {layer_name}", author=author)


def layers_held(name: str, ver: int) -> tuple[str, ...]:
    return shared.workspace(name).layers(ver)


PREVIEW_LABEL_COLUMNS = (schema.GRID_ID, schema.NAME)  # the boundary preview's tooltip and change colours


def boundary_preview(
    name: str, ver: int, upload_check: uploads.UploadCheck, lang: str
) -> tuple[folium.Map, folium.FeatureGroup]:
    """New boundaries, coloured by what the change does to them, over the active ones (built per run:
    st_folium must get a fresh map)."""
    state = active_state(name, ver)
    keys = ("active_layer", "new_layer", "outline_layer", "status.added", "status.changed", "status.unchanged")
    labels = {key: translate(lang, f"map.{key}") for key in keys}
    frame = upload_check.frame
    if any(c not in frame.columns for c in PREVIEW_LABEL_COLUMNS):  # ids not mapped yet: nothing can be matched
        return map_builders.unmapped_preview_map(frame, state.outline, labels=labels)
    return map_builders.boundary_change_map(state.grids, frame, upload_check.diff, state.outline, labels=labels)


def points_preview(
    name: str, ver: int, upload_check: uploads.UploadCheck, lang: str
) -> tuple[folium.Map, folium.FeatureGroup]:
    """The uploaded points counted per active grid."""
    boundary_ver = shared.boundary_version(name, ver)
    grids, _ = shared.display_boundaries(name, boundary_ver)
    counts = upload_check.counts.reindex(grids[schema.GRID_ID]).fillna(0).set_axis(grids.index)
    points = translate(lang, "map.points")
    return maps.choropleth_base_map(shared.district_base(name, boundary_ver)), map_builders.district_counts(
        counts, labels={"tickets": points, "legend": points}
    )
