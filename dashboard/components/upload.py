"""Widgets of the Data page; each returns plain values (the page decides what to do with them)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import changes, schema
from core.uploads import UploadCheck, UploadOptions
from dashboard.components.text import md_text
from dashboard.i18n import problem_text, t

FILE_TYPES = ["geojson", "json", "zip", "gpkg", "kml", "kmz", "csv", "txt", "xlsx"]
ENCODINGS = ["", "utf-8", "gbk", "gb18030", "big5", "latin-1"]
UPLOAD_LAYERS = ("grids", "cameras", "service_points", "tickets", "members", "patrol_teams",
                 "patrol_checkins")


def layer_picker(key: str) -> str:
    return st.radio(t("data.layer"), UPLOAD_LAYERS, horizontal=True, key=key,
                    format_func=lambda name: t(f"layer.{name}"))


def options_form(file_layers: tuple[str, ...], columns: list[str], layer_name: str,
                 detected_crs: str | None, key: str) -> UploadOptions:
    """Reading options; empty choices mean "detect"."""
    with st.expander(t("data.options"), expanded=False):
        cols = st.columns(3)
        file_layer = (cols[0].selectbox(t("data.file_layer"), file_layers, key=f"{key}_layer")
                      if len(file_layers) > 1 else None)
        crs = cols[1].text_input(t("data.crs"), placeholder=detected_crs or "EPSG:4490",
                                 key=f"{key}_crs").strip() or None
        encoding = cols[2].selectbox(t("data.encoding"), ENCODINGS, key=f"{key}_enc",
                                     format_func=lambda e: e or t("data.detect")) or None
        choice = [""] + columns
        xy = st.columns(3)
        x_column = xy[0].selectbox(t("data.x_column"), choice, key=f"{key}_x",
                                   format_func=lambda c: c or t("data.detect")) or None
        y_column = xy[1].selectbox(t("data.y_column"), choice, key=f"{key}_y",
                                   format_func=lambda c: c or t("data.detect")) or None
        wkt_column = xy[2].selectbox(t("data.wkt_column"), choice, key=f"{key}_wkt",
                                     format_func=lambda c: c or t("data.detect")) or None
    return UploadOptions(file_layer=file_layer, crs=crs, encoding=encoding, x_column=x_column,
                         y_column=y_column, wkt_column=wkt_column,
                         repair_invalid=bool(st.session_state.get(REPAIR_KEY)),
                         polygonize=bool(st.session_state.get(POLYGONIZE_KEY)))


REPAIR_KEY, POLYGONIZE_KEY = "gw_offer_repair", "gw_offer_polygonize"


def repair_offers(check: UploadCheck) -> None:
    """Offer the repairs the report calls for, next to it; a ticked offer stays shown (and applied)."""
    if check.layer_name != schema.GRIDS.name:
        return
    geometry_errors = [p for p in check.errors if p.column == schema.GEOMETRY]
    invalid = sum(len(p.rows) for p in geometry_errors if p.what.startswith("invalid geometry"))
    lines = sum(len(p.rows) for p in geometry_errors if "LineString" in p.what)
    if invalid or st.session_state.get(REPAIR_KEY):
        st.checkbox(t("data.repair_offer"), key=REPAIR_KEY)
    if lines or st.session_state.get(POLYGONIZE_KEY):
        st.checkbox(t("data.polygonize_offer"), key=POLYGONIZE_KEY)


def mapping_editor(check: UploadCheck, columns: list[str], key: str) -> dict[str, str]:
    """The canonical field → file column table, editable; returns the mapping as edited."""
    layer = schema.LAYERS[check.layer_name]
    table = pd.DataFrame({
        "field": list(layer.column_names),
        "required": [not c.nullable for c in layer.columns],
        "column": [check.mapping.get(name, "") for name in layer.column_names],
    })
    edited = st.data_editor(
        table, key=key, hide_index=True, width="stretch", disabled=["field", "required"],
        column_config={
            "field": st.column_config.TextColumn(t("data.field")),
            "required": st.column_config.CheckboxColumn(t("data.required")),
            "column": st.column_config.SelectboxColumn(t("data.file_column"), options=[""] + columns),
        })
    hidden = {k: v for k, v in check.mapping.items() if k not in layer.column_names}  # e.g. source_grid_code
    return {**hidden, **{row.field: row.column for row in edited.itertuples() if row.column}}


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
    st.table(pd.DataFrame({
        t("data.severity"): [t(f"severity.{p.severity}") for p in rows],
        t("data.column"): [md_text(p.column or "") for p in rows],
        t("data.rows"): [md_text(", ".join(p.rows[:20]) + (" …" if len(p.rows) > 20 else "")) for p in rows],
        t("data.problem"): [md_text(what) for what, _ in texts],
        t("data.fix"): [md_text(fix) for _, fix in texts],
    }).set_index(t("data.severity")))


def diff_tables(check: UploadCheck) -> None:
    diff = check.diff
    cols = st.columns(4)
    cols[0].metric(t("data.added"), f"{len(diff.added):,}")
    cols[1].metric(t("data.removed"), f"{len(diff.removed):,}")
    cols[2].metric(t("data.changed"), f"{len(diff.changed):,}")
    cols[3].metric(t("data.unchanged"), f"{diff.unchanged:,}")
    for title, frame in ((t("data.added"), diff.added), (t("data.removed"), diff.removed),
                         (t("data.changed"), diff.changed)):
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
