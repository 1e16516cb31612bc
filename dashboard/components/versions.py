"""Parts of the Data page that make versions: activating a checked upload, the history with
reactivating an earlier version, and clearing a layer (a new version without it)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import audit, schema
from core.errors import GridWatchError
from dashboard import data, state
from dashboard.components import signin
from dashboard.i18n import show_error, t


def _signer() -> tuple[str, str]:
    """(author, user name) of the account acting now, checked again at the moment it acts."""
    account = signin.require("data")
    return signin.author(account), account.username


def activation(sel, check) -> None:
    st.subheader(t("data.activate_title"))
    note = st.text_input(t("data.note"), key=state.NOTE)
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
                share=f"{shrink.removed_share:.0%}",
            )
        )
        confirmed = st.checkbox(t("data.shrink_confirm"), key=state.CONFIRM_SHRINK)
    if not check.can_activate:
        st.caption(t("data.cannot_activate"))
    if st.button(
        t("data.activate"),
        type="primary",
        disabled=not (check.can_activate and confirmed),
        key=state.ACTIVATE,
    ):
        try:
            author, username = _signer()
            version = data.activate(
                sel.workspace, check, note=note, author=author, confirm_shrink=shrink is not None and confirmed
            )
        except GridWatchError as exc:
            show_error(exc)
            return
        audit.record("activate", username, workspace=sel.workspace, target=f"v{version}", detail=note)
        st.session_state[state.FLASH] = t("data.activated", version=version)
        st.session_state[state.UPLOAD_NONCE] = st.session_state.get(state.UPLOAD_NONCE, 0) + 1
        st.rerun()


def versions_section(sel) -> None:
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
    clear_section(sel)
    earlier = [h.version for h in history[1:]]
    if not earlier:
        return
    target = st.selectbox(t("data.reactivate_which"), earlier, key=state.REACTIVATE_VERSION)
    if st.button(t("data.reactivate", version=target), key=state.REACTIVATE):
        try:
            author, username = _signer()
        except GridWatchError as exc:
            show_error(exc)
            return
        version = data.reactivate(sel.workspace, target, author=author)
        audit.record("rollback", username, workspace=sel.workspace, target=f"v{target} → v{version}")
        st.session_state[state.FLASH] = t("data.reactivated", target=target, version=version)
        st.rerun()


def clear_section(sel) -> None:
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
            t("data.clear_which"),
            choices,
            format_func=names.__getitem__,
            key=state.key_of(state.CLEAR_LAYER, sel.language),
        )
        if points and schema.GRIDS.name in held:
            st.caption(t("data.clear_grids_last"))
        typed = st.text_input(
            t("data.clear_confirm", layer=layer_name), key=state.key_of(state.CLEAR_CONFIRM, layer_name)
        )
        if st.button(
            t("data.clear", layer=t(f"layer.{layer_name}")),
            key=state.CLEAR,
            disabled=typed.strip() != layer_name,
        ):
            try:
                author, username = _signer()
                version = data.clear_layer(sel.workspace, layer_name, author=author)
            except GridWatchError as exc:
                show_error(exc)
                return
            audit.record(
                "activate", username, workspace=sel.workspace, target=f"v{version}", detail=f"clear {layer_name}"
            )
            st.session_state[state.FLASH] = t("data.cleared", layer=t(f"layer.{layer_name}"), version=version)
            st.rerun()
