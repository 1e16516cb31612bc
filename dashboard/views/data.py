"""Data: upload a boundary file or a point layer, read the report, preview, activate; versions and rollback.

Nothing in the workspace changes until "Activate" succeeds; checking a file only reads it.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from core import schema
from core.errors import GridWatchError, ReadError
from core.uploads import UploadCheck, UploadOptions
from dashboard import data, state
from dashboard.components import upload
from dashboard.components.map_view import show_map
from dashboard.components.text import md_text
from dashboard.i18n import message_text, show_error, t


def render() -> None:
    sel = st.session_state[state.SELECTION]
    st.title(t("data.title"))
    if state.FLASH in st.session_state:
        st.success(st.session_state.pop(state.FLASH))
    author = st.text_input(t("data.author"), key=state.AUTHOR, help=t("data.author_help")).strip()
    upload_tab, versions_tab = st.tabs([t("data.upload_tab"), t("data.versions_tab")])
    with upload_tab:
        upload_section(sel, author)
    with versions_tab:
        versions_section(sel, author)


def upload_section(sel, author: str) -> None:
    layer_name = upload.layer_picker(key="gw_data_layer")
    nonce = st.session_state.get(state.UPLOAD_NONCE, 0)
    file = st.file_uploader(t("data.file"), type=upload.FILE_TYPES, key=f"gw_upload_{layer_name}_{nonce}")
    if file is None:
        st.caption(t("data.formats"))
        return
    name, payload = file.name, file.getvalue()
    first = checked(sel, layer_name, name, payload, UploadOptions())
    raw = first.read.frame if first else None
    columns = [c for c in raw.columns if c != raw.geometry.name] if raw is not None else []
    options = upload.options_form(data.file_layers(name, payload) if first else (), columns, layer_name,
                                  first.read.source_crs if first else None, key="gw_opts")
    if first and first.read.confirm and st.checkbox(t("data.confirm_crs", crs=first.read.source_crs),
                                                    key="gw_confirm_crs"):
        options = replace(options, crs=options.crs or first.read.source_crs)
    offset = first.offset if first else None
    if offset is not None and offset.datum:
        st.warning(t("data.datum_found", datum=offset.datum.upper(), metres=f"{offset.shift_m:,.0f}"))
        if st.checkbox(t("data.datum_convert", datum=offset.datum.upper()), key="gw_datum"):
            options = replace(options, datum=offset.datum)
    check = checked(sel, layer_name, name, payload, options) if options != UploadOptions() else first
    if check is None:
        return
    with st.expander(t("data.mapping"), expanded=bool(check.errors)):
        mapping = upload.mapping_editor(check, columns, key=f"gw_mapping_{layer_name}")
    if mapping != check.mapping:
        check = checked(sel, layer_name, name, payload, options, mapping)
        if check is None:
            return

    for note in check.notes:
        st.info(md_text(message_text(note)))
    for item in check.read.confirm:
        st.warning(md_text(message_text(item)))
    upload.report(check)
    upload.repair_offers(check)
    preview(sel, check)
    activation(sel, check, layer_name, author)


def checked(sel, layer_name: str, name: str, payload: bytes, options: UploadOptions,
            mapping: dict[str, str] | None = None) -> UploadCheck | None:
    """The check of the upload, or None after showing why the file cannot be read."""
    try:
        return data.check(sel.workspace, sel.version, layer_name, name, payload, options, mapping)
    except ReadError as exc:
        show_error(exc)
        return None


def preview(sel, check) -> None:
    if not check.geometry_usable:
        return
    st.subheader(t("data.preview"))
    if check.layer_name == schema.GRIDS.name:
        show_map(data.boundary_preview(sel.workspace, sel.version, check, sel.language),
                 key="gw_preview_map", height=480)
        upload.diff_tables(check)
    elif check.counts is not None:
        show_map(data.points_preview(sel.workspace, sel.version, check, sel.language),
                 key="gw_preview_map", height=480)


def activation(sel, check, layer_name: str, author: str) -> None:
    st.subheader(t("data.activate_title"))
    mode = "replace"
    if layer_name != schema.GRIDS.name:
        mode = st.radio(t("data.mode"), ["replace", "append"], horizontal=True, key="gw_mode",
                        format_func=lambda m: t(f"data.mode_{m}"))
    note = st.text_input(t("data.note"), key="gw_note")
    if not check.can_activate:
        st.caption(t("data.cannot_activate"))
    elif not author:
        st.caption(t("data.author_needed"))
    if st.button(t("data.activate"), type="primary", disabled=not (check.can_activate and author),
                 key="gw_activate"):
        try:
            version = data.activate(sel.workspace, check, note=note, author=author, mode=mode)
        except GridWatchError as exc:
            show_error(exc)
            return
        st.session_state[state.FLASH] = t("data.activated", version=version)
        st.session_state[state.UPLOAD_NONCE] = st.session_state.get(state.UPLOAD_NONCE, 0) + 1
        st.rerun()


def versions_section(sel, author: str) -> None:
    history = data.history(sel.workspace, sel.version)
    st.caption(t("data.active_version", version=sel.version))
    st.dataframe(pd.DataFrame({
        t("data.version"): [h.version for h in history],
        t("data.when"): [h.created_at.astimezone(pd.Timestamp.now(schema.TIMEZONE).tz).strftime(
            "%Y-%m-%d %H:%M") for h in history],
        t("data.author"): [h.author for h in history],
        t("data.note"): [h.note for h in history],
        t("data.changed_layers"): [", ".join(t(f"layer.{n}") for n in h.changed) for h in history],
    }), hide_index=True, width="stretch")
    earlier = [h.version for h in history[1:]]
    if not earlier:
        return
    target = st.selectbox(t("data.reactivate_which"), earlier, key="gw_reactivate_version")
    if not author:
        st.caption(t("data.author_needed"))
    if st.button(t("data.reactivate", version=target), disabled=not author, key="gw_reactivate"):
        version = data.reactivate(sel.workspace, target, author=author)
        st.session_state[state.FLASH] = t("data.reactivated", target=target, version=version)
        st.rerun()
