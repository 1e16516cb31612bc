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
    keep = state.kept(state.AUTHOR, state.AUTHOR_INPUT, "")  # survives a language switch and other pages
    author = st.text_input(t("data.author"), key=state.AUTHOR_INPUT, on_change=keep, help=t("data.author_help")).strip()
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
        key="gw_opts",
    )
    if (
        first
        and first.read.confirm
        and st.checkbox(t("data.confirm_crs", crs=first.read.source_crs), key="gw_confirm_crs")
    ):
        options = replace(options, crs=options.crs or first.read.source_crs)
    offset = first.offset if first else None
    if offset is not None and offset.datum:
        st.warning(t("data.datum_found", datum=offset.datum.upper(), metres=f"{offset.shift_m:,.0f}"))
        if st.checkbox(t("data.datum_convert", datum=offset.datum.upper()), key="gw_datum"):
            options = replace(options, datum=offset.datum)
    check = checked(sel, layer_name, source, options, mode=mode) if options != UploadOptions() else first
    if check is None:
        return
    columns = [c for c in check.read.frame.columns if c != check.read.frame.geometry.name]  # as read now
    with st.expander(t("data.mapping"), expanded=bool(check.errors)):
        mapping, fixed = upload.mapping_editor(check, columns, key=f"gw_mapping_{layer_name}")
    if check.values:
        with st.expander(t("data.values"), expanded=True):
            values = upload.value_editor(check, key=f"gw_values_{layer_name}_{source.digest[:12]}")
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
    activation(sel, check, author)


def file_columns(source: data.Upload) -> list[str]:
    """The header of a table whose coordinates were not found (so its columns can be picked)."""
    opts = st.session_state
    try:
        return list(data.file_columns(source, opts.get("gw_opts_layer"), opts.get("gw_opts_enc") or None))
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
        show_map(base, key="gw_preview_map", height=480, live=changes)
        if not unmapped:
            upload.diff_tables(check)
    elif check.counts is not None:
        base, counts = data.points_preview(sel.workspace, sel.version, check, sel.language)
        show_map(base, key="gw_preview_map", height=480, live=counts)


def activation(sel, check, author: str) -> None:
    st.subheader(t("data.activate_title"))
    note = st.text_input(t("data.note"), key="gw_note")
    shrink = check.shrink
    confirmed = shrink is None
    if shrink is not None:
        st.error(
            t(
                "data.shrink",
                layer=t(f"layer.{shrink.layer_name}"),
                active=f"{shrink.active:,}",
                new=f"{shrink.new:,}",
                removed=f"{shrink.removed:,}",
                share=f"{shrink.removed / shrink.active:.0%}",
            )
        )
        confirmed = st.checkbox(t("data.shrink_confirm"), key="gw_confirm_shrink")
    if not check.can_activate:
        st.caption(t("data.cannot_activate"))
    elif not author:
        st.caption(t("data.author_needed"))
    if st.button(
        t("data.activate"),
        type="primary",
        disabled=not (check.can_activate and author and confirmed),
        key="gw_activate",
    ):
        try:
            version = data.activate(
                sel.workspace, check, note=note, author=author, confirm_shrink=shrink is not None and confirmed
            )
        except GridWatchError as exc:
            show_error(exc)
            return
        st.session_state[state.FLASH] = t("data.activated", version=version)
        st.session_state[state.UPLOAD_NONCE] = st.session_state.get(state.UPLOAD_NONCE, 0) + 1
        st.rerun()


def versions_section(sel, author: str) -> None:
    history = data.history(sel.workspace, sel.version)
    zone = data.workspace_timezone(sel.workspace)
    st.caption(t("data.active_version", version=sel.version) + " · " + t("data.times_in", zone=zone))
    st.dataframe(
        pd.DataFrame(
            {
                t("data.version"): [h.version for h in history],
                t("data.when"): [
                    pd.Timestamp(h.created_at).tz_convert(zone).strftime("%Y-%m-%d %H:%M") for h in history
                ],
                t("data.author"): [h.author for h in history],
                t("data.note"): [h.note for h in history],
                t("data.changed_layers"): [", ".join(t(f"layer.{n}") for n in h.changed) for h in history],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    clear_section(sel, author)
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


def clear_section(sel, author: str) -> None:
    """Remove a layer as a new version, after the layer's name is typed again (a rollback brings it back).
    The grids go last: every point layer is placed by them."""
    held = data.layers_held(sel.workspace, sel.version)
    if not held:
        return
    with st.expander(t("data.clear_title")):
        points = [name for name in held if name != schema.GRIDS.name]
        choices = points or list(held)
        names = {name: t(f"layer.{name}") for name in choices}
        layer_name = st.selectbox(
            t("data.clear_which"), choices, format_func=names.__getitem__, key=f"gw_clear_layer_{sel.language}"
        )
        if points and schema.GRIDS.name in held:
            st.caption(t("data.clear_grids_last"))
        typed = st.text_input(t("data.clear_confirm", layer=layer_name), key=f"gw_clear_confirm_{layer_name}")
        if not author:
            st.caption(t("data.author_needed"))
        if st.button(
            t("data.clear", layer=t(f"layer.{layer_name}")),
            key="gw_clear",
            disabled=not author or typed.strip() != layer_name,
        ):
            try:
                version = data.clear_layer(sel.workspace, layer_name, author=author)
            except GridWatchError as exc:
                show_error(exc)
                return
            st.session_state[state.FLASH] = t("data.cleared", layer=t(f"layer.{layer_name}"), version=version)
            st.rerun()
