"""From an uploaded file to an activated version: the steps the Data page and ``gridwatch import`` share.

::

    bytes ──io.read_with_options──> raw frame (EPSG:4326) ──[datum fix]──[repairs]──io.apply_mapping──> canonical
          ──validate.problems_in (+ boundaries.boundary_problems for grids)──> one report
          ──changes.diff_grids / join_impact (grids) or grid assignment (points)──> preview
          ──activate_upload──> new workspace version (only if the report has no errors)

Nothing here writes to the workspace except ``activate_upload``; checking a file never changes what is
active. Mappings that were activated are remembered per workspace and layer.

Not here: the problems the upload step adds to validation, the shrink rule and the gates before storing
(``core.upload_rules``); reading the file (``core.io``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal, cast

import geopandas as gpd
import pandas as pd
import shapely

from core import boundaries, changes, io, joins, repairs, schema, upload_rules
from core.errors import GridWatchError, Message, Problem, ReadError
from core.formats import ReadOptions
from core.store import Store
from core.upload_rules import Shrink
from core.validate import conform, problems_in, row_labels, with_defaults
from core.values import apply_values, suggest_code, unknown_values

__all__ = [
    "Active",
    "Mode",
    "UploadCheck",
    "UploadOptions",
    "ValueChoice",
    "activate_upload",
    "check_upload",
    "mapping_key",
    "proposed_mapping",
    "remembered_values",
    "report_lines",
    "values_key",
]

Mode = Literal["replace", "append"]


@dataclass(frozen=True)
class UploadOptions(ReadOptions):
    """What the user chose about an upload (everything optional: detection fills the rest): how to read
    the file (``ReadOptions``), the coordinate system its numbers are in, and what to convert or repair."""

    crs: str | None = None
    datum: str | None = None  # "gcj02" / "bd09": convert to WGS84
    repair_invalid: bool = False
    polygonize: bool = False
    skip_missing_coordinates: bool = False  # point layers: leave out the rows without coordinates


@dataclass(frozen=True)
class ValueChoice:
    """A value of an enumerated field that is not one of its codes: how many rows hold it, the code it is
    read as (``code``: chosen now or remembered; None = still unknown) and the code suggested for it."""

    column: str
    value: str
    count: int
    code: str | None
    suggestion: str | None


@dataclass(frozen=True)
class UploadCheck:
    """Everything known about an upload before activation."""

    layer_name: str
    read: io.ReadResult
    offset: io.OffsetGuess | None
    mapping: dict[str, str]
    frame: gpd.GeoDataFrame
    problems: tuple[Problem, ...]
    notes: tuple[str, ...]
    diff: changes.GridDiff | None = None
    impact: changes.Impact | None = None
    counts: pd.Series | None = field(default=None, repr=False)  # points per active grid (point layers)
    shrink: Shrink | None = None  # replacing the active layer would empty it or more than halve it
    fixed: dict[str, str] = field(default_factory=dict)  # canonical field → the value every row gets
    values: tuple[ValueChoice, ...] = ()  # the value-mapping step: file values that are not codes
    left_out: pd.DataFrame | None = field(default=None, repr=False)  # rows left out (no coordinates)
    mode: Mode = "replace"

    @property
    def value_map(self) -> dict[str, dict[str, str]]:
        """The recoding applied: canonical field → {file value: code}."""
        return _chosen(self.values)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity != "error")

    @property
    def can_activate(self) -> bool:
        return not self.errors and not self.read.confirm

    @property
    def geometry_usable(self) -> bool:
        """No geometry errors, so topology checks and joins can run."""
        return not any(p.column == schema.GEOMETRY for p in self.errors)


@dataclass(frozen=True, eq=False)
class Active:
    """What checks need from the active workspace. Build it once per workspace version and reuse it
    (the dashboard caches it): reading the layers and indexing the grids is the costly part."""

    grids: gpd.GeoDataFrame | None
    outline: shapely.Geometry | None
    index: joins.GridIndex | None
    points: dict[str, gpd.GeoDataFrame]

    @classmethod
    def of(
        cls, grids: gpd.GeoDataFrame | None, points: dict[str, gpd.GeoDataFrame], index: joins.GridIndex | None = None
    ) -> Active:
        """The snapshot of these layers; pass a grid ``index`` already built for ``grids`` to reuse it."""
        if grids is None:
            return cls(None, None, None, points)
        return cls(grids, boundaries.district_outline(grids), index or joins.GridIndex.from_grids(grids), points)

    @classmethod
    def from_store(cls, store: Store, version: int | None = None) -> Active:
        held = store.layers(version)
        grids = store.read(schema.GRIDS.name, version) if schema.GRIDS.name in held else None
        return cls.of(grids, {name: store.read(name, version) for name in schema.POINT_LAYERS if name in held})


def mapping_key(layer_name: str) -> str:
    return f"mapping.{layer_name}"


def values_key(layer_name: str) -> str:
    return f"values.{layer_name}"


def remembered_values(store: Store, layer_name: str) -> dict[str, dict[str, str]]:
    """The value recodings activated before for this layer: canonical field → {file value: code}."""
    return cast(dict[str, dict[str, str]], store.get_setting(values_key(layer_name), {}) or {})


def proposed_mapping(store: Store, layer_name: str, columns: list[str]) -> dict[str, str]:
    """Suggested canonical→file column mapping: remembered choices first, then name-based guesses."""
    remembered = cast(dict[str, str], store.get_setting(mapping_key(layer_name), {}) or {})
    mapping = io.suggest_mapping(columns, layer_name)
    mapping.update({canon: col for canon, col in remembered.items() if col in columns})
    return mapping


def check_upload(
    store: Store,
    layer_name: str,
    name: str,
    data: bytes,
    options: UploadOptions = UploadOptions(),
    mapping: dict[str, str] | None = None,
    overrides: dict[str, str] | None = None,
    active: Active | None = None,
    *,
    fixed: dict[str, str] | None = None,
    values: dict[str, dict[str, str]] | None = None,
    mode: Mode = "replace",
) -> UploadCheck:
    """Read, map, repair and check an upload against the active workspace; changes nothing.

    ``mapping`` (canonical field → file column) replaces the proposed mapping; ``overrides`` change
    single fields of it; ``fixed`` (canonical field → value) gives a field one value in every row.
    ``values`` (canonical field → {file value: code}) recodes values of enumerated fields, on top of the
    recodings remembered for the layer. ``mode`` is how the rows would be stored: in "append" mode ids
    that are already stored are errors. ``active`` is the cached state of the workspace (read from
    ``store`` if not given). Raises ``ReadError`` when the file cannot be read at all; every other
    problem is in the result.
    """
    if layer_name not in schema.LAYERS:
        raise ReadError(
            f"unknown layer {layer_name!r}; expected one of {', '.join(schema.LAYERS)}",
            code="unknown_layer",
            params={"name": layer_name, "known": ", ".join(schema.LAYERS)},
        )
    layer = schema.LAYERS[layer_name]
    read = io.read_with_options(name, data, options, options.crs)
    active = active if active is not None else Active.from_store(store)
    grids = active.grids
    frame, notes = read.frame, list(read.notes)
    offset = io.detect_datum_offset(frame, grids) if grids is not None else None
    if options.datum:
        frame = io.convert_datum(frame, options.datum)
        notes.append(
            Message(
                f"converted from {options.datum.upper()} to WGS84",
                code="converted_datum",
                params={"datum": options.datum.upper()},
            )
        )
    if mapping is None:
        mapping = proposed_mapping(store, layer_name, [c for c in frame.columns if c != frame.geometry.name])
    mapping = {**mapping, **(overrides or {})}
    upload_rules.check_mapping(name, layer_name, mapping, [c for c in frame.columns if c != frame.geometry.name])
    fixed = {k: str(v) for k, v in (fixed or {}).items() if str(v).strip()}
    unknown = [k for k in fixed if k not in layer.column_names]
    if unknown:
        raise GridWatchError(
            f"`{layer_name}` has no field {', '.join(map(repr, unknown))} to set; its "
            f"fields are: {', '.join(layer.column_names)}",
            code="fixed_unknown_field",
            params={"layer": layer_name, "fields": ", ".join(unknown), "known": ", ".join(layer.column_names)},
        )
    frame, repair_notes = _repairs(frame, layer_name, options)
    notes += repair_notes
    frame, left_out, extra = upload_rules.without_coordinates(frame, layer, options)
    canonical = io.apply_mapping(frame, mapping, layer_name, fixed, store.timezone())
    choices = _value_choices(canonical, layer_name, {**_merged(remembered_values(store, layer_name), values)})
    canonical = apply_values(canonical, layer_name, _chosen(choices))
    canonical, defaulted = with_defaults(canonical, layer_name)
    canonical = conform(canonical, layer_name)
    problems = upload_rules.reworded(problems_in(canonical, layer_name), canonical, layer, choices, left_out is None)
    problems += extra + tuple(defaulted) + upload_rules.stacked_warnings(canonical, layer)
    if mode == "append":
        problems += upload_rules.id_clashes(canonical, layer, active)
    check = UploadCheck(
        layer_name,
        read,
        offset,
        dict(mapping),
        canonical,
        tuple(problems),
        tuple(notes),
        fixed=fixed,
        values=choices,
        left_out=left_out,
        mode=mode,
        shrink=upload_rules.shrink_of(layer_name, len(canonical), active) if mode == "replace" else None,
    )
    if layer_name == schema.GRIDS.name:
        return _with_boundary_checks(check, active)
    return _with_point_preview(check, active)


def _merged(first: dict[str, dict[str, str]], then: dict[str, dict[str, str]] | None) -> dict[str, dict[str, str]]:
    out = {column: dict(recode) for column, recode in first.items()}
    for column, recode in (then or {}).items():
        out.setdefault(column, {}).update(recode)
    return out


def _chosen(choices: tuple[ValueChoice, ...]) -> dict[str, dict[str, str]]:
    chosen: dict[str, dict[str, str]] = {}
    for choice in choices:
        if choice.code is not None:
            chosen.setdefault(choice.column, {})[choice.value] = choice.code
    return chosen


def _value_choices(
    canonical: gpd.GeoDataFrame, layer_name: str, recode: dict[str, dict[str, str]]
) -> tuple[ValueChoice, ...]:
    layer = schema.LAYERS[layer_name]
    choices = []
    for column, counts in unknown_values(canonical, layer_name).items():
        allowed = layer.column(column).allowed or ()
        for file_value, count in counts.items():
            value = str(file_value)  # counted as text (``unknown_values``)
            code = recode.get(column, {}).get(value)
            choices.append(
                ValueChoice(
                    column,
                    value,
                    int(count),
                    code if code in allowed else None,
                    suggest_code(layer_name, column, value),
                )
            )
    return tuple(choices)


def _repairs(frame: gpd.GeoDataFrame, layer_name: str, options: UploadOptions) -> tuple[gpd.GeoDataFrame, list[str]]:
    notes: list[str] = []
    if layer_name == schema.GRIDS.name and options.polygonize:
        result = repairs.polygonize_lines(frame)
        frame, notes = result.frame, notes + [result.description]
    if layer_name == schema.GRIDS.name and options.repair_invalid:
        result = repairs.repair_invalid(frame)
        frame, notes = result.frame, notes + [result.description]
    return frame, notes


def _with_boundary_checks(check: UploadCheck, active: Active) -> UploadCheck:
    if not check.geometry_usable:
        return check
    problems = check.problems + tuple(boundaries.boundary_problems(check.frame, outline=active.outline))
    return replace(
        check,
        problems=problems,
        diff=changes.diff_grids(active.grids, check.frame),
        impact=changes.join_impact(active.points, active.grids, check.frame, active_index=active.index),
    )


def _with_point_preview(check: UploadCheck, active: Active) -> UploadCheck:
    if active.grids is None or not check.geometry_usable:
        return check
    joined = joins.join_to_grids(check.frame, active.grids, active.index)
    outside = ~joined[schema.ASSIGNED]
    problems = check.problems
    if outside.any():
        layer = schema.LAYERS[check.layer_name]
        rows = row_labels(check.frame, layer, check.frame.index[outside.to_numpy()])
        problems += (
            Problem(
                check.layer_name,
                schema.GEOMETRY,
                rows,
                f"{int(outside.sum())} of {len(joined)} points lie outside every active grid",
                "check the coordinates and the coordinate system; they are kept and counted as unassigned",
                severity="warning",
                code="outside_grids",
                params={"count": int(outside.sum()), "total": len(joined)},
            ),
        )
    counts = joined[schema.GRID_ID].value_counts().reindex(active.grids[schema.GRID_ID], fill_value=0)
    return replace(check, problems=problems, counts=counts)


def activate_upload(
    store: Store, check: UploadCheck, *, note: str, author: str, mode: Mode | None = None, confirm_shrink: bool = False
) -> int:
    """Store a checked upload as a new version (all or nothing) in the mode it was checked for, and
    remember its column mapping and value recodings. Replacing a layer with an upload that empties it or
    more than halves it (``check.shrink``) needs ``confirm_shrink``."""
    mode = mode or check.mode
    upload_rules.check_activation(check, mode, confirm_shrink)
    keep = {*schema.LAYERS[check.layer_name].column_names, schema.SOURCE_GRID_CODE, check.frame.geometry.name}
    frame = check.frame[[c for c in check.frame.columns if c in keep]]
    if mode == "append":
        version = store.append(check.layer_name, frame, note=note, author=author)
    else:
        version = store.write(check.layer_name, frame, note=note, author=author)
    store.set_setting(mapping_key(check.layer_name), check.mapping)
    if check.value_map:
        store.set_setting(
            values_key(check.layer_name), _merged(remembered_values(store, check.layer_name), check.value_map)
        )
    return version


def report_lines(check: UploadCheck) -> list[str]:
    """The check as plain text (the command line's report); a shrink counts as an error."""
    read = check.read
    lines = [
        f"{check.layer_name}: {len(check.frame)} features"
        + (f" from layer `{read.layer}`" if read.layer else "")
        + f"; CRS {read.source_crs or 'unknown'} ({read.crs_origin})"
        + (f"; encoding {read.encoding} ({read.encoding_origin})" if read.encoding else "")
    ]
    lines += [f"  note: {n}" for n in check.notes]
    lines += [f"  confirm: {c} (pass --crs to confirm)" for c in read.confirm]
    if check.offset is not None and check.offset.datum:
        lines.append(f"  datum: {check.offset.explanation} (pass --datum {check.offset.datum} to convert)")
    lines.append("  mapping: " + ", ".join(f"{k}←{v}" for k, v in check.mapping.items()))
    if check.fixed:
        lines.append("  fixed values: " + ", ".join(f"{k}={v}" for k, v in check.fixed.items()))
    lines += [
        f"  value: {c.column} '{c.value}' ({c.count:,} rows) → "
        + (c.code or "unknown" + (f" (suggested: {c.suggestion})" if c.suggestion else ""))
        for c in check.values
    ]
    if check.left_out is not None and len(check.left_out):
        lines.append(f"  left out: {len(check.left_out):,} row(s) without coordinates")
    lines.append(f"{len(check.errors) + (check.shrink is not None)} error(s), {len(check.warnings)} warning(s)")
    lines += [f"  - {p}" for p in check.problems]
    if check.shrink is not None:
        lines.append(f"  - {check.shrink} (pass --confirm-shrink if it is)")
    if check.diff is not None:
        d = check.diff
        lines.append(
            f"diff: {len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed, {d.unchanged} unchanged"
        )
    if check.impact is not None:
        lines += [f"impact: {line}" for line in check.impact.summary_lines()]
    return lines
