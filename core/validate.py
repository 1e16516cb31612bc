"""Check a GeoDataFrame against its canonical layer and report every problem at once.

Column checks (presence, type, missing values, allowed codes, ranges, unique ids) run through a pandera
schema built from ``core.schema``; geometry checks (CRS, missing/empty, type, validity) are done here with
shapely because their fixes need a GIS vocabulary pandera does not have. Every failure becomes a
``Problem`` naming the rows (by id where the row has one, :func:`row_labels`), what is wrong, and how to
fix it.

Not here: the topology of a grid layer (``core.boundaries``), the rules an upload adds
(``core.upload_rules``), the layers' declarations (``core.schema``).
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pandera.pandas as pa
import shapely
from pandera.errors import SchemaErrors

from core import schema
from core.errors import Problem, ValidationError

__all__ = [
    "conform",
    "empty_layer",
    "id_frame",
    "labels_where",
    "problems_in",
    "row_labels",
    "validate",
    "with_defaults",
]

_KIND_CHECKS = {
    "str": lambda s: s.map(lambda v: isinstance(v, str)),
    "int": lambda s: s.map(_is_integral),
    "float": lambda s: s.map(
        lambda v: isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
    ),
    "datetime": lambda s: (
        pd.Series(isinstance(s.dtype, pd.DatetimeTZDtype), index=s.index) if len(s) else s.astype(bool)
    ),
    "bool": lambda s: s.map(lambda v: isinstance(v, (bool, np.bool_))),
}

_KIND_FIX = {
    "str": "store it as text",
    "int": "use whole numbers only",
    "float": "use numbers only",
    "datetime": "use timezone-aware date-times, e.g. 2026-03-01T08:30:00+08:00",
    "bool": "use true/false",
}


def _is_integral(v: object) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, np.integer)):
        return True
    return isinstance(v, (float, np.floating)) and float(v).is_integer()


def _pandera_schema(layer: schema.Layer) -> pa.DataFrameSchema:
    columns = {}
    for col in layer.columns:
        checks = [pa.Check(_KIND_CHECKS[col.kind], element_wise=False, ignore_na=True, name=f"kind:{col.kind}")]
        if col.allowed is not None:
            checks.append(pa.Check.isin(col.allowed, name="allowed", ignore_na=True))
        if col.min is not None:
            checks.append(
                pa.Check(lambda s, lo=col.min: pd.to_numeric(s, errors="coerce") >= lo, name="min", ignore_na=True)
            )
        if col.max is not None:
            checks.append(
                pa.Check(lambda s, hi=col.max: pd.to_numeric(s, errors="coerce") <= hi, name="max", ignore_na=True)
            )
        columns[col.name] = pa.Column(
            checks=checks,
            nullable=col.nullable,
            required=not col.nullable,
            unique=col.name == layer.id_column,
            coerce=False,
        )
    return pa.DataFrameSchema(columns, strict=False)


_SCHEMAS: dict[str, pa.DataFrameSchema] = {}


def _schema_for(layer: schema.Layer) -> pa.DataFrameSchema:
    if layer.name not in _SCHEMAS:
        _SCHEMAS[layer.name] = _pandera_schema(layer)
    return _SCHEMAS[layer.name]


def row_labels(gdf: pd.DataFrame, layer: schema.Layer, index: pd.Index) -> tuple[str, ...]:
    """Name rows by their id where it is present and unique, else by their 1-based position (#n)."""
    positions = gdf.index.get_indexer(index)
    ids = gdf[layer.id_column] if layer.id_column in gdf.columns else None
    repeated = ids.duplicated(keep=False).to_numpy() if ids is not None else np.zeros(len(gdf), dtype=bool)
    labels = []
    for label, pos in zip(index, positions):
        value = ids.iloc[pos] if ids is not None and pos >= 0 else None
        if isinstance(value, str) and value.strip() and repeated is not None and not repeated[pos]:
            labels.append(value)
        elif isinstance(value, str) and value.strip():
            labels.append(f"{value} (#{pos + 1})")
        else:
            labels.append(f"#{pos + 1 if pos >= 0 else label}")
    return tuple(dict.fromkeys(labels))


def id_frame(frame: pd.DataFrame, layer: schema.Layer) -> pd.DataFrame:
    """The layer's id column (if the frame has it) on a fresh 0..n-1 index, for ``row_labels``."""
    columns = [layer.id_column] if layer.id_column in frame.columns else []
    return pd.DataFrame(frame[columns]).reset_index(drop=True)


def labels_where(frame: pd.DataFrame, layer: schema.Layer, mask: np.ndarray) -> tuple[str, ...]:
    """Labels (``core.validate.row_labels``) of the rows where ``mask`` is set, in row order."""
    ids = id_frame(frame, layer)
    return row_labels(ids, layer, ids.index[mask])


def _column_problems(gdf: gpd.GeoDataFrame, layer: schema.Layer) -> list[Problem]:
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _schema_for(layer).validate(frame, lazy=True)
        return []
    except SchemaErrors as exc:
        cases = exc.failure_cases
    problems = []
    for missing in cases.loc[cases["check"] == "column_in_dataframe", "failure_case"].unique():
        spec = layer.column(str(missing))
        fix = f"add a `{spec.name}` column, or map one of the file's columns to it"
        problems.append(Problem.missing_column(layer.name, spec.name, fix, doc=spec.doc))
    cases = cases[cases["check"] != "column_in_dataframe"]
    for (column, check), group in cases.groupby(["column", "check"], sort=False, dropna=False):
        problems.append(_problem_from_check(gdf, layer, column, str(check), group))
    return problems


def _problem_from_check(
    gdf: gpd.GeoDataFrame, layer: schema.Layer, column: str, check: str, group: pd.DataFrame
) -> Problem:
    rows = row_labels(gdf, layer, pd.Index(group["index"].dropna()))
    spec = layer.column(column)
    examples = ", ".join(repr(v) for v in group["failure_case"].dropna().unique()[:3])

    def problem(what: str, fix: str, *, code: str, **params: str) -> Problem:
        return Problem(layer.name, column, rows, what, fix, code=code, params=params)

    def out_of_range(side: str, bound: str, value: float | None, *, code: str) -> Problem:
        limit = f"{value:g}"
        what, fix = f"value(s) {examples} {side} {limit}", f"use values of {bound} {limit}"
        return problem(what, fix, code=code, examples=examples, limit=limit)

    if check == "not_nullable":
        return problem("value is missing", f"fill in `{column}` ({spec.doc})", code="missing_value", column=column)
    if check == "field_uniqueness":
        what, fix = f"ids are not unique ({examples})", f"give every row its own `{column}`"
        return problem(what, fix, code="not_unique", column=column, examples=examples)
    if check.startswith(("allowed", "isin")):
        allowed = ", ".join(spec.allowed or ())
        what, fix = f"unknown value(s) {examples}", f"use one of: {allowed}"
        return problem(what, fix, code="unknown_values", examples=examples, allowed=allowed)
    if check.startswith("min"):
        return out_of_range("below", "at least", spec.min, code="below_min")
    if check.startswith("max"):
        return out_of_range("above", "at most", spec.max, code="above_max")
    if check.startswith("kind"):
        what = f"expected {spec.kind} values, got {examples}"
        return problem(what, _KIND_FIX[spec.kind], code=f"wrong_kind_{spec.kind}", examples=examples)
    what = f"failed check {check} ({examples})"
    return problem(what, "correct the values", code="failed_check", check=check, examples=examples)


def _geometry_problems(gdf: gpd.GeoDataFrame, layer: schema.Layer) -> list[Problem]:
    problems: list[Problem] = []
    if gdf.crs is None:
        problems.append(
            Problem(
                layer.name,
                None,
                (),
                "the layer has no coordinate system",
                f"set the CRS it was drawn in (e.g. CGCS2000 / EPSG:4490) and convert to {schema.STORAGE_CRS}",
                code="no_crs",
            )
        )
    elif not gdf.crs.equals(schema.STORAGE_CRS):
        problems.append(
            Problem(
                layer.name,
                None,
                (),
                f"coordinates are in {gdf.crs.to_string()}",
                f"convert to {schema.STORAGE_CRS} before storing (core.io does this)",
                code="wrong_crs",
                params={"crs": gdf.crs.to_string()},
            )
        )
    geoms = gdf.geometry.array
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        problems.append(
            Problem(
                layer.name,
                schema.GEOMETRY,
                row_labels(gdf, layer, gdf.index[missing]),
                "geometry is missing or empty",
                "draw the feature or remove the row",
                code="missing_geometry",
            )
        )
    present = ~missing
    types = gdf.geom_type.to_numpy()
    wrong = present & ~np.isin(types, list(layer.geometry_types))
    if wrong.any():
        found = sorted(set(types[wrong]))
        fix = (
            "convert boundary lines into polygons (close the rings), or upload the polygon layer"
            if "Polygon" in layer.geometry_types
            else "use one point per row"
        )
        problems.append(
            Problem(
                layer.name,
                schema.GEOMETRY,
                row_labels(gdf, layer, gdf.index[wrong]),
                f"geometry is {'/'.join(found)}, expected {' or '.join(layer.geometry_types)}",
                fix,
                code="wrong_geometry_" + ("polygon" if "Polygon" in layer.geometry_types else "point"),
                params={"found": "/".join(found)},
            )
        )
    invalid = present & ~wrong & ~shapely.is_valid(geoms)
    if invalid.any():
        reasons = shapely.is_valid_reason(geoms[invalid])
        problems.append(
            Problem(
                layer.name,
                schema.GEOMETRY,
                row_labels(gdf, layer, gdf.index[invalid]),
                f"invalid geometry ({'; '.join(dict.fromkeys(reasons[:3]))})",
                "repair it (shapely.make_valid or QGIS 'Fix geometries') and check the result",
                code="invalid_geometry",
                params={"reasons": "; ".join(dict.fromkeys(reasons[:3]))},
            )
        )
    return problems


def problems_in(gdf: gpd.GeoDataFrame, layer_name: str) -> list[Problem]:
    """Every problem of ``gdf`` as the canonical layer ``layer_name`` (empty list when it conforms)."""
    layer = schema.LAYERS[layer_name]
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        return [
            Problem(
                layer_name,
                schema.GEOMETRY,
                (),
                "the table has no geometry column",
                "upload a spatial file, or name the longitude/latitude columns",
                code="no_geometry_column",
            )
        ]
    return _column_problems(gdf, layer) + _geometry_problems(gdf, layer)


def conform(gdf: gpd.GeoDataFrame, layer_name: str) -> gpd.GeoDataFrame:
    """Add the optional (nullable) columns ``gdf`` lacks, empty, and order columns as in the schema.

    Columns the schema does not know are kept after the canonical ones; empty date-times take the time
    zone of the layer's other date-times (the workspace's), ``schema.DEFAULT_TIMEZONE`` if it has none.
    """
    layer = schema.LAYERS[layer_name]
    out = gdf.copy()
    zones = [
        str(out[c].dt.tz)
        for c in layer.datetime_columns()
        if c in out.columns and isinstance(out[c].dtype, pd.DatetimeTZDtype)
    ]
    tz = zones[0] if zones else schema.DEFAULT_TIMEZONE
    for col in layer.columns:
        if col.name not in out.columns and col.nullable:
            out[col.name] = _empty_column(col, len(out), out.index, tz)
    known = [c for c in layer.column_names if c in out.columns]
    extra = [c for c in out.columns if c not in known and c != out.geometry.name]
    return out[known + extra + [out.geometry.name]]


def with_defaults(gdf: gpd.GeoDataFrame, layer_name: str) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """``gdf`` with the required columns it lacks that have a ``default`` in the schema filled with it,
    and a warning for each naming the column, the value and the rows filled."""
    layer = schema.LAYERS[layer_name]
    out, notes = gdf, []
    for col in layer.columns:
        if col.name in gdf.columns or col.default is None:
            continue
        out = out.assign(
            **{
                col.name: pd.Series(col.default, index=gdf.index).astype(
                    {"int": "Int64", "float": "float64"}.get(col.kind, "str")
                )
            }
        )
        value = f"{col.default:g}" if isinstance(col.default, float) else str(col.default)
        notes.append(
            Problem(
                layer_name,
                col.name,
                (),
                f"the file has no `{col.name}` column; all {len(gdf):,} rows get {value}",
                f"map a column to `{col.name}` or set a fixed value if {value} is wrong",
                severity="warning",
                code="defaulted_column",
                params={"column": col.name, "value": value, "count": f"{len(gdf):,}"},
            )
        )
    return out, notes


def empty_layer(layer_name: str, tz: str = schema.DEFAULT_TIMEZONE) -> gpd.GeoDataFrame:
    """A canonical ``layer_name`` with no rows (every column, in EPSG:4326): what a workspace that
    does not hold the layer has of it."""
    index = pd.RangeIndex(0)
    columns = {col.name: _empty_column(col, 0, index, tz) for col in schema.LAYERS[layer_name].columns}
    return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries([], index=index, crs=schema.STORAGE_CRS))


def _empty_column(col: schema.Column, n: int, index: pd.Index, tz: str) -> pd.Series:
    if col.kind == "datetime":
        return pd.Series(pd.NaT, index=index, dtype=f"datetime64[ns, {tz}]")
    if col.kind in ("int", "float"):
        return pd.Series(np.nan, index=index, dtype="float64" if col.kind == "float" else "Int64")
    return pd.Series(None, index=index, dtype="object" if col.kind != "str" else "str")


def validate(gdf: gpd.GeoDataFrame, layer_name: str) -> gpd.GeoDataFrame:
    """Return ``gdf`` unchanged if it conforms to ``layer_name``; else raise one ``ValidationError``."""
    problems = problems_in(gdf, layer_name)
    if problems:
        raise ValidationError(layer_name, problems)
    return gdf
