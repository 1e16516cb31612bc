"""Data: upload a boundary file or a point layer, read the report, preview, activate; versions and rollback.

Nothing in the workspace changes until "Activate" succeeds; checking a file only reads it.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from core import schema
from core.errors import GridWatchError, ReadError
from core.uploads import UploadCheck, UploadOptions
from dashboard import data, state
from dashboard.components import upload, versions
from dashboard.components.map_view import show_map
from dashboard.components.text import md_text
from dashboard.i18n import message_text, show_error, t


def render() -> None:
    sel = st.session_state[state.SELECTION]
    st.title(t("data.title"))
    if state.FLASH in st.session_state:
        st.success(st.session_state.pop(state.FLASH))
    upload_tab, versions_tab = st.tabs([t("data.upload_tab"), t("data.versions_tab")])
    with upload_tab:
        upload_section(sel)
    with versions_tab:
        versions.versions_section(sel)


def upload_section(sel) -> None:
    layer_name = upload.layer_picker(key=state.DATA_LAYER)
    nonce = st.session_state.get(state.UPLOAD_NONCE, 0)
    file = st.file_uploader(
        t("data.file"), type=upload.FILE_TYPES, key=state.key_of(state.UPLOAD_FILE, layer_name, nonce)
    )
    if file is None:
        st.caption(t("data.formats"))
        return
    source = upload.session_upload(file)
    mode = upload.mode_picker(layer_name)
    first = checked(sel, layer_name, source, UploadOptions(), mode=mode)
    raw = first.read.frame if first else None
    columns = [c for c in raw.columns if c != raw.geometry.name] if raw is not None else file_columns(source)
    options = upload.options_form(
        data.file_layers(source) if first else (),
        columns,
        layer_name,
        first.read.source_crs if first else None,
        key=state.UPLOAD_OPTIONS,
    )
    if (
        first
        and first.read.confirm
        and st.checkbox(t("data.confirm_crs", crs=first.read.source_crs), key=state.CONFIRM_CRS)
    ):
        options = replace(options, crs=options.crs or first.read.source_crs)
    offset = first.offset if first else None
    if offset is not None and offset.datum:
        st.warning(t("data.datum_found", datum=offset.datum.upper(), metres=f"{offset.shift_m:,.0f}"))
        if st.checkbox(t("data.datum_convert", datum=offset.datum.upper()), key=state.DATUM):
            options = replace(options, datum=offset.datum)
    check = checked(sel, layer_name, source, options, mode=mode) if options != UploadOptions() else first
    if check is None:
        return
    columns = [c for c in check.read.frame.columns if c != check.read.frame.geometry.name]  # as read now
    with st.expander(t("data.mapping"), expanded=bool(check.errors)):
        mapping, fixed = upload.mapping_editor(check, columns, key=state.key_of(state.MAPPING, layer_name))
    if check.values:
        with st.expander(t("data.values"), expanded=True):
            values = upload.value_editor(check, key=state.key_of(state.VALUES, layer_name, source.digest[:12]))
    else:
        values = check.value_map
    if (mapping, fixed, values) != (check.mapping, check.fixed, check.value_map):
        check = checked(sel, layer_name, source, options, mapping, fixed, values, mode)
        if check is None:
            return

    for note in check.notes:
        st.info(md_text(message_text(note)))
    for item in check.read.confirm:
        st.warning(md_text(message_text(item)))
    upload.report(check)
    upload.repair_offers(check)
    upload.skip_offer(check)
    preview(sel, check)
    versions.activation(sel, check)


def file_columns(source: data.Upload) -> list[str]:
    """The header of a table whose coordinates were not found (so its columns can be picked)."""
    opts = st.session_state
    try:
        return list(
            data.file_columns(
                source,
                opts.get(state.key_of(state.UPLOAD_OPTIONS, "layer")),
                opts.get(state.key_of(state.UPLOAD_OPTIONS, "enc")) or None,
            )
        )
    except ReadError:
        return []


def checked(
    sel,
    layer_name: str,
    source: data.Upload,
    options: UploadOptions,
    mapping: dict[str, str] | None = None,
    fixed: dict[str, str] | None = None,
    values: dict[str, dict[str, str]] | None = None,
    mode: str = "replace",
) -> UploadCheck | None:
    """The check of the upload, or None after showing why the file cannot be read."""
    try:
        return data.check(sel.workspace, sel.version, layer_name, source, options, mapping, fixed, values, mode)
    except GridWatchError as exc:
        show_error(exc)
        return None


def preview(sel, check) -> None:
    if not check.geometry_usable:
        return
    st.subheader(t("data.preview"))
    if check.layer_name == schema.GRIDS.name:
        unmapped = [c for c in data.PREVIEW_LABEL_COLUMNS if c not in check.frame.columns]
        if unmapped:
            st.info(t("data.preview_unmapped", columns=", ".join(unmapped)))
        base, changes = data.boundary_preview(sel.workspace, sel.version, check, sel.language)
        show_map(base, key=state.PREVIEW_MAP, height=480, live=changes)
        if not unmapped:
            upload.diff_tables(check)
    elif check.counts is not None:
        base, counts = data.points_preview(sel.workspace, sel.version, check, sel.language)
        show_map(base, key=state.PREVIEW_MAP, height=480, live=counts)
