"""The rules an upload must pass beyond its layer's schema, and the gates before it is stored.

Problems the upload step adds to ``core.validate``'s: a mapping that names no field or column
(:func:`check_mapping`), enumerated values not yet mapped (:func:`reworded`, which also offers leaving out
rows without coordinates, :func:`without_coordinates`), points stacked on one coordinate
(:func:`stacked_warnings`), ids already stored when appending (:func:`id_clashes`). The shrink rule: replacing
a layer with an upload that empties it or more than halves it (:data:`SHRINK_LIMIT`) needs an explicit yes
(:class:`Shrink`, :func:`shrink_of`). :func:`check_activation` is every gate ``core.uploads.activate_upload``
applies before it writes: the mode the upload was checked for, the shrink confirmed, no errors, nothing
left to confirm.

Not here: reading, mapping and previewing the upload, and storing it (``core.uploads``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from core import hotspots, schema
from core.errors import GridWatchError, Problem, ReadError
from core.validate import row_labels

if TYPE_CHECKING:
    from core.uploads import Active, Mode, UploadCheck, UploadOptions, ValueChoice

__all__ = [
    "SHRINK_LIMIT",
    "Shrink",
    "check_activation",
    "check_mapping",
    "id_clashes",
    "reworded",
    "shrink_of",
    "stacked_warnings",
    "without_coordinates",
]

SHRINK_LIMIT = 0.5  # replacing a layer with fewer than this share of its features needs an explicit yes


@dataclass(frozen=True)
class Shrink:
    """Replacing the active layer with the upload would empty it or cut it by more than half: stored only
    when the user confirms that this is meant (``activate_upload(..., confirm_shrink=True)``)."""

    layer_name: str
    active: int
    new: int

    @property
    def removed(self) -> int:
        return self.active - self.new

    @property
    def removed_share(self) -> float:
        """The share of the active features the upload would remove (the active layer is never empty)."""
        return self.removed / self.active

    def __str__(self) -> str:
        return (
            f"replacing the active `{self.layer_name}` ({self.active:,} features) with this file "
            f"({self.new:,} features) would remove {self.removed:,} ({self.removed_share:.0%}); "
            "check that the file is complete, or confirm that the layer is meant to shrink"
        )


def shrink_of(layer_name: str, new: int, active: Active) -> Shrink | None:
    held = active.grids if layer_name == schema.GRIDS.name else active.points.get(layer_name)
    if held is None or not len(held) or new > SHRINK_LIMIT * len(held):
        return None
    return Shrink(layer_name, len(held), new)


def check_activation(check: UploadCheck, mode: Mode, confirm_shrink: bool) -> None:
    """GridWatchError unless ``check`` may be stored in ``mode``: the mode it was checked for, a shrink
    confirmed, no errors in its report and no detected setting left to confirm."""
    if mode != check.mode:
        raise GridWatchError(
            f"this upload of `{check.layer_name}` was checked to {check.mode} the layer, "
            f"not to {mode} it: check it again in that mode",
            code="upload_mode_changed",
            params={"layer": check.layer_name},
        )
    if check.shrink is not None and not confirm_shrink:
        raise GridWatchError(
            f"not activated: {check.shrink}",
            code="shrink_unconfirmed",
            params={"layer": check.layer_name, "active": f"{check.shrink.active:,}", "new": f"{check.shrink.new:,}"},
        )
    if not check.can_activate:
        raise GridWatchError(
            f"this upload of `{check.layer_name}` cannot be activated: fix the "
            f"{len(check.errors)} error(s) in the report"
            + (" and confirm the detected settings" if check.read.confirm else ""),
            code="upload_blocked_confirm" if check.read.confirm else "upload_blocked",
            params={"layer": check.layer_name, "count": len(check.errors)},
        )


def check_mapping(name: str, layer_name: str, mapping: dict[str, str], columns: list[str]) -> None:
    """ReadError naming what is wrong when a chosen mapping names a field or a file column that does not
    exist (``gridwatch import --map FIELD=COLUMN``, or a column of the file as it was read before)."""
    layer = schema.LAYERS[layer_name]
    fields = (*layer.column_names, *((schema.SOURCE_GRID_CODE,) if layer.is_point_layer else ()))
    for target, column in mapping.items():
        if target not in fields:
            raise ReadError(
                f"`{target}` is not a field of {layer_name}; its fields are: {', '.join(fields)}. Map one of those.",
                code="map_field",
                params={"field": target, "layer": layer_name, "fields": ", ".join(fields)},
            )
        if column not in columns:
            raise ReadError(
                f"`{name}` has no column `{column}` (mapped to `{target}`); its columns are: "
                f"{', '.join(columns[:30])}. Map one of those.",
                code="map_column",
                params={"file": name, "column": column, "field": target, "columns": ", ".join(columns[:30])},
            )


def without_coordinates(
    frame: gpd.GeoDataFrame, layer: schema.Layer, options: UploadOptions
) -> tuple[gpd.GeoDataFrame, pd.DataFrame | None, tuple[Problem, ...]]:
    """Leave out the rows of a point layer that have no geometry, when the user chose so."""
    if not (layer.is_point_layer and options.skip_missing_coordinates):
        return frame, None, ()
    geoms = frame.geometry.array
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    left_out = pd.DataFrame(frame[missing].drop(columns=frame.geometry.name))
    if not missing.any():
        return frame, left_out, ()
    rows = tuple(f"#{i + 1}" for i in np.flatnonzero(missing))
    count = int(missing.sum())
    return (
        frame[~missing],
        left_out,
        (
            Problem(
                layer.name,
                schema.GEOMETRY,
                rows,
                f"{count:,} row(s) without coordinates are left out",
                "download them, add their coordinates and append them later",
                severity="warning",
                code="rows_left_out",
                params={"count": f"{count:,}"},
            ),
        ),
    )


def reworded(
    problems: list[Problem],
    canonical: gpd.GeoDataFrame,
    layer: schema.Layer,
    choices: tuple[ValueChoice, ...],
    may_skip: bool,
) -> tuple[Problem, ...]:
    """The validation problems with the fixes an upload offers: the value-mapping step for unknown
    values (each with its rows) and leaving out rows without coordinates."""
    out = []
    unknown = {c.column for c in choices if c.code is None}
    for problem in problems:
        if problem.code == "unknown_values" and problem.column in unknown:
            continue
        if problem.code == "missing_geometry" and layer.is_point_layer and may_skip:
            count = len(problem.rows)
            problem = replace(
                problem,
                what=f"{count:,} row(s) have no usable coordinates",
                fix="add their coordinates, or tick “leave out the rows without coordinates” "
                "(command line: --skip-missing-coordinates)",
                code="missing_coordinates",
                params={"count": f"{count:,}"},
            )
        out.append(problem)
    for column in dict.fromkeys(c.column for c in choices if c.code is None):
        left = [c for c in choices if c.column == column and c.code is None]
        rows = row_labels(canonical, layer, canonical.index[canonical[column].isin([c.value for c in left])])
        listed = ", ".join(f"'{c.value}' ({c.count:,})" for c in left[:8]) + (" …" if len(left) > 8 else "")
        example = left[0]
        code = example.suggestion or (layer.column(column).allowed or ("",))[0]
        allowed = ", ".join(layer.column(column).allowed or ())
        out.append(
            Problem(
                layer.name,
                column,
                rows,
                f"unknown value(s) {listed}",
                f"map each value to one of {allowed} in the value mapping (command line: "
                f'--value {column}:"{example.value}"={code})',
                code="unmapped_values",
                params={"values": listed, "allowed": allowed, "column": column, "value": example.value, "code": code},
            )
        )
    return tuple(out)


def stacked_warnings(canonical: gpd.GeoDataFrame, layer: schema.Layer) -> tuple[Problem, ...]:
    if not layer.is_point_layer:
        return ()
    stacked = hotspots.stacked_coordinates(canonical)
    if stacked.empty:
        return ()
    total = int(stacked["count"].sum())
    where = ", ".join(f"{row.lon:.6f}, {row.lat:.6f} ({row.count:,})" for row in stacked.head(5).itertuples())
    return (
        Problem(
            layer.name,
            schema.GEOMETRY,
            (),
            f"{total:,} points are stacked on {len(stacked)} coordinate(s): {where}",
            "these are usually a geocoder's or call centre's default point, not real places; "
            "hot-spot and repeat-case analyses leave them out",
            severity="warning",
            code="stacked_points",
            params={"count": f"{total:,}", "places": len(stacked), "where": where},
        ),
    )


def id_clashes(canonical: gpd.GeoDataFrame, layer: schema.Layer, active: Active) -> tuple[Problem, ...]:
    stored = active.points.get(layer.name)
    if stored is None or layer.id_column not in canonical.columns:
        return ()
    clash = canonical[layer.id_column].isin(stored[layer.id_column]).to_numpy()
    if not clash.any():
        return ()
    ids = canonical[layer.id_column][clash]
    examples = ", ".join(map(str, ids.head(5))) + (" …" if len(ids) > 5 else "")
    return (
        Problem(
            layer.name,
            layer.id_column,
            row_labels(canonical, layer, canonical.index[clash]),
            f"{len(ids):,} id(s) are already stored: {examples}",
            "choose “Replace the layer” to store the file as the whole layer, or drop those rows "
            "from the file before adding it",
            code="id_clash",
            params={"count": f"{len(ids):,}", "examples": examples},
        ),
    )
