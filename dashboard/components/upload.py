"""Widgets of the Data page; each returns plain values (the page decides what to do with them)."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from core import changes, exports, privacy, schema
from core.uploads import Mode, UploadCheck, UploadOptions
from dashboard import data, state
from dashboard.components.text import md_text
from dashboard.i18n import current_language, problem_text, t

FILE_TYPES = ["geojson", "json", "zip", "gpkg", "kml", "kmz", "csv", "txt", "xlsx"]
ENCODINGS = ["", "utf-8", "gbk", "gb18030", "big5", "latin-1"]
UPLOAD_LAYERS = ("grids", "cameras", "service_points", "tickets", "members", "patrol_teams", "patrol_checkins")


def layer_picker(key: str) -> str:
    """The layer to upload; the choice (under ``key``) survives a language switch (``state.kept``)."""
    widget_key = state.key_of(key, current_language())
    names = {name: t(f"layer.{name}") for name in UPLOAD_LAYERS}
    return st.radio(
        t("data.layer"),
        UPLOAD_LAYERS,
        horizontal=True,
        key=widget_key,
        on_change=state.kept(key, widget_key, UPLOAD_LAYERS[0]),
        format_func=names.__getitem__,
    )


def session_upload(file) -> data.Upload:
    """The uploaded file with its digest, computed once per upload (not on every rerun)."""
    known = st.session_state.get(state.UPLOAD_DIGEST)
    if known is None or known[0] != file.file_id:
        known = (file.file_id, hashlib.sha256(file.getvalue()).hexdigest())
        st.session_state[state.UPLOAD_DIGEST] = known
    return data.Upload(file.name, known[1], file.getvalue())


def mode_picker(layer_name: str) -> Mode:
    """Replace the layer or add the rows (boundaries are always replaced); the check depends on it."""
    if layer_name == schema.GRIDS.name:
        return "replace"
    return st.radio(
        t("data.mode"),
        ["replace", "append"],
        horizontal=True,
        key=state.UPLOAD_MODE,
        format_func=lambda m: t(f"data.mode_{m}"),
    )


def options_form(
    file_layers: tuple[str, ...], columns: list[str], layer_name: str, detected_crs: str | None, key: str
) -> UploadOptions:
    """Reading options; empty choices mean "detect"."""
    with st.expander(t("data.options"), expanded=False):
        cols = st.columns(3)
        file_layer = (
            cols[0].selectbox(t("data.file_layer"), file_layers, key=state.key_of(key, "layer"))
            if len(file_layers) > 1
            else None
        )
        crs = (
            cols[1]
            .text_input(t("data.crs"), placeholder=detected_crs or "EPSG:4490", key=state.key_of(key, "crs"))
            .strip()
            or None
        )
        encoding = (
            cols[2].selectbox(
                t("data.encoding"), ENCODINGS, key=state.key_of(key, "enc"), format_func=lambda e: e or t("data.detect")
            )
            or None
        )
        choice = [""] + columns
        xy = st.columns(3)
        x_column = (
            xy[0].selectbox(
                t("data.x_column"), choice, key=state.key_of(key, "x"), format_func=lambda c: c or t("data.detect")
            )
            or None
        )
        y_column = (
            xy[1].selectbox(
                t("data.y_column"), choice, key=state.key_of(key, "y"), format_func=lambda c: c or t("data.detect")
            )
            or None
        )
        wkt_column = (
            xy[2].selectbox(
                t("data.wkt_column"), choice, key=state.key_of(key, "wkt"), format_func=lambda c: c or t("data.detect")
            )
            or None
        )
    return UploadOptions(
        file_layer=file_layer,
        crs=crs,
        encoding=encoding,
        x_column=x_column,
        y_column=y_column,
        wkt_column=wkt_column,
        repair_invalid=bool(st.session_state.get(state.OFFER_REPAIR)),
        polygonize=bool(st.session_state.get(state.OFFER_POLYGONIZE)),
        skip_missing_coordinates=bool(st.session_state.get(state.OFFER_SKIP)),
    )


def skip_offer(check: UploadCheck) -> None:
    """Offer to leave out the rows without coordinates; once ticked, the rows left out download as CSV."""
    missing = sum(len(p.rows) for p in check.errors if p.code == "missing_coordinates")
    left_out = check.left_out
    if missing:
        st.checkbox(t("data.skip_offer", count=f"{missing:,}"), key=state.OFFER_SKIP)
    elif st.session_state.get(state.OFFER_SKIP):
        st.checkbox(
            t("data.skip_offer", count=f"{len(left_out) if left_out is not None else 0:,}"), key=state.OFFER_SKIP
        )
    if left_out is not None and len(left_out):
        st.download_button(
            t("data.skip_download", count=f"{len(left_out):,}"),
            exports.csv_bytes(privacy.mask_every_text(left_out)),
            file_name="left_out_rows.csv",
            mime="text/csv",
            key=state.LEFT_OUT_CSV,
        )


def repair_offers(check: UploadCheck) -> None:
    """Offer the repairs the report calls for, next to it; a ticked offer stays shown (and applied)."""
    if check.layer_name != schema.GRIDS.name:
        return
    geometry_errors = [p for p in check.errors if p.column == schema.GEOMETRY]
    invalid = sum(len(p.rows) for p in geometry_errors if p.what.startswith("invalid geometry"))
    lines = sum(len(p.rows) for p in geometry_errors if "LineString" in p.what)
    if invalid or st.session_state.get(state.OFFER_REPAIR):
        st.checkbox(t("data.repair_offer"), key=state.OFFER_REPAIR)
    if lines or st.session_state.get(state.OFFER_POLYGONIZE):
        st.checkbox(t("data.polygonize_offer"), key=state.OFFER_POLYGONIZE)


def mapping_editor(check: UploadCheck, columns: list[str], key: str) -> tuple[dict[str, str], dict[str, str]]:
    """The canonical field → file column table, editable, with a fixed value per field (which wins over
    the column); returns (mapping, fixed values) as edited."""
    layer = schema.LAYERS[check.layer_name]
    table = pd.DataFrame(
        {
            "field": list(layer.column_names),
            "required": [not c.nullable for c in layer.columns],
            "column": [check.mapping.get(name, "") for name in layer.column_names],
            "fixed": [check.fixed.get(name, "") for name in layer.column_names],
        }
    )
    edited = st.data_editor(
        table,
        key=key,
        hide_index=True,
        width="stretch",
        disabled=["field", "required"],
        column_config={
            "field": st.column_config.TextColumn(t("data.field")),
            "required": st.column_config.CheckboxColumn(t("data.required")),
            "column": st.column_config.SelectboxColumn(t("data.file_column"), options=[""] + columns),
            "fixed": st.column_config.TextColumn(t("data.fixed_value"), help=t("data.fixed_value_help")),
        },
    )
    hidden = {k: v for k, v in check.mapping.items() if k not in layer.column_names}  # e.g. source_grid_code
    mapping = {**hidden, **{row.field: row.column for row in edited.itertuples() if row.column}}
    fixed = {
        row.field: str(row.fixed).strip()
        for row in edited.itertuples()
        if isinstance(row.fixed, str) and row.fixed.strip()
    }
    return mapping, fixed


def value_editor(check: UploadCheck, key: str) -> dict[str, dict[str, str]]:
    """The value-mapping step: per enumerated field, each file value that is not a code, with its row
    count, → a code (prefilled with the remembered or suggested one); returns {field: {value: code}}."""
    if not check.values:
        return {}
    layer = schema.LAYERS[check.layer_name]
    st.caption(t("data.values_help"))
    chosen: dict[str, dict[str, str]] = {}
    for column in dict.fromkeys(c.column for c in check.values):
        choices = [c for c in check.values if c.column == column]
        codes = list(layer.column(column).allowed or ())
        table = pd.DataFrame(
            {
                "value": [c.value for c in choices],
                "rows": [c.count for c in choices],
                "code": [c.code or c.suggestion or "" for c in choices],
            }
        )
        st.markdown(f"**{md_text(column)}**")
        edited = st.data_editor(
            table,
            key=state.key_of(key, column),
            hide_index=True,
            width="stretch",
            disabled=["value", "rows"],
            column_config={
                "value": st.column_config.TextColumn(t("data.file_value")),
                "rows": st.column_config.NumberColumn(t("data.rows"), format="%d"),
                "code": st.column_config.SelectboxColumn(t("data.code"), options=[""] + codes),
            },
        )
        picked = {row.value: row.code for row in edited.itertuples() if row.code}
        if picked:
            chosen[column] = picked
    return chosen


def report(check: UploadCheck) -> None:
    """Counts and the table of every problem, errors first (a plain table: readable, copyable)."""
    errors, warnings = len(check.errors), len(check.warnings)
    if errors:
        st.error(t("data.errors_block", errors=errors, warnings=warnings))
    elif warnings:
        st.warning(t("data.warnings_only", warnings=warnings))
    else:
        st.success(t("data.no_problems", count=f"{len(check.frame):,}"))
    if check.problems:
        problem_table(list(check.problems))


def problem_table(problems: list) -> None:
    """Every problem as a row (severity, column, rows, what, fix), errors first, in the reader's language."""
    rows = sorted(problems, key=lambda p: p.severity != "error")
    texts = [problem_text(p) for p in rows]
    st.table(
        pd.DataFrame(
            {
                t("data.severity"): [t(f"severity.{p.severity}") for p in rows],
                t("data.column"): [md_text(p.column or "") for p in rows],
                t("data.rows"): [md_text(", ".join(p.rows[:20]) + (" …" if len(p.rows) > 20 else "")) for p in rows],
                t("data.problem"): [md_text(what) for what, _ in texts],
                t("data.fix"): [md_text(fix) for _, fix in texts],
            }
        ).set_index(t("data.severity"))
    )


def diff_tables(check: UploadCheck) -> None:
    diff = check.diff
    cols = st.columns(4)
    cols[0].metric(t("data.added"), f"{len(diff.added):,}")
    cols[1].metric(t("data.removed"), f"{len(diff.removed):,}")
    cols[2].metric(t("data.changed"), f"{len(diff.changed):,}")
    cols[3].metric(t("data.unchanged"), f"{diff.unchanged:,}")
    for title, frame in (
        (t("data.added"), diff.added),
        (t("data.removed"), diff.removed),
        (t("data.changed"), diff.changed),
    ):
        if len(frame):
            with st.expander(f"{title} ({len(frame):,})"):
                st.dataframe(frame, hide_index=True, width="stretch")
    if check.impact is not None:
        st.dataframe(impact_table(check.impact), hide_index=True, width="stretch")


def impact_table(impact) -> pd.DataFrame:
    """``core.changes`` impact of a boundary change, one row per point layer, in the reader's words."""
    table = impact.table()
    table[changes.LAYER] = [t(f"layer.{name}") for name in table[changes.LAYER]]
    return table.rename(columns={c: t(f"data.impact.{c}") for c in table.columns})
