"""Administration, for data admins of the whole district: the audit log (filtered, exported), the
accounts (add, roles and scope, disable, unlock, reset a password) and the intake API's keys of the
workspace (create, revoke). Every change is audited; nothing here edits or deletes an audit entry."""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from core import accounts, apikeys, audit
from core.errors import GridWatchError
from dashboard import data, state
from dashboard.components import signin
from dashboard.components.downloads import table_downloads
from dashboard.i18n import show_error, t


def render() -> None:
    sel = st.session_state[state.SELECTION]
    st.title(t("admin.title"))
    if state.FLASH in st.session_state:
        st.success(st.session_state.pop(state.FLASH))
    log_tab, people_tab, keys_tab = st.tabs(
        [t("admin.tab.audit"), t("admin.tab.accounts"), t("admin.tab.keys")], key=state.ADMIN_TABS
    )
    with log_tab:
        audit_log(sel)
    with people_tab:
        if signin.may("users"):
            accounts_section()
    with keys_tab:
        if signin.may("keys"):
            keys_section(sel)


def audit_log(sel) -> None:
    signin.require("audit")
    zone = data.workspace_timezone(sel.workspace)
    cols = st.columns([1.2, 1.2, 1.6])
    who = cols[0].text_input(t("admin.filter.account"), key=state.AUDIT_ACCOUNT).strip()
    action = cols[1].selectbox(
        t("admin.filter.action"),
        ("", *audit.ACTIONS),
        format_func=lambda a: t(f"audit.{a}") if a else t("command.all"),
        key=state.AUDIT_ACTION,
    )
    today = pd.Timestamp.now(tz=zone).date()
    days = cols[2].date_input(t("admin.filter.days"), value=(today - timedelta(days=30), today), key=state.AUDIT_DAYS)
    first, last = (days[0], days[-1]) if isinstance(days, tuple) and days else (today, today)
    start = pd.Timestamp(datetime.combine(first, time()), tz=zone)
    entries = audit.entries(
        account=who or None,
        action=action or None,
        since=start,
        until=pd.Timestamp(datetime.combine(last, time()), tz=zone) + pd.Timedelta(days=1),
    )
    shown = pd.DataFrame(
        {
            t("admin.col.at"): entries["at"].dt.tz_convert(zone).dt.strftime("%Y-%m-%d %H:%M:%S"),
            t("admin.col.account"): entries["account"],
            t("admin.col.action"): entries["action"].map(lambda a: t(f"audit.{a}")),
            t("admin.col.workspace"): entries["workspace"].fillna(""),
            t("admin.col.target"): entries["target"].fillna(""),
            t("admin.col.detail"): entries["detail"].fillna(""),
        }
    )
    st.caption(t("admin.count", count=f"{len(shown):,}"))
    st.dataframe(shown, hide_index=True, width="stretch", key=state.AUDIT_TABLE)
    table_downloads(shown, f"gridwatch_audit_{first}_{last}", state.AUDIT_DOWNLOADS, "audit")


def accounts_section() -> None:
    book = accounts.book()
    listed = book.accounts()
    linked = book.identities()
    st.dataframe(
        pd.DataFrame(
            {
                t("admin.col.username"): [a.username for a in listed],
                t("admin.col.name"): [a.display_name for a in listed],
                t("admin.col.roles"): [", ".join(t(f"role.{r}") for r in sorted(a.roles)) for a in listed],
                t("admin.col.scope"): [signin.scope_text(a.scope) for a in listed],
                t("admin.col.state"): [
                    t("admin.state.disabled")
                    if a.disabled
                    else t("admin.state.locked")
                    if a.locked
                    else t("admin.state.active")
                    for a in listed
                ],
                t("admin.col.sso"): [", ".join(linked.get(a.username, [])) for a in listed],
            }
        ),
        hide_index=True,
        width="stretch",
        key=state.ACCOUNTS_TABLE,
    )
    with st.expander(t("admin.add_title")), st.form(state.ACCOUNT_FORM, clear_on_submit=True):
        username = st.text_input(t("signin.username"), key=state.ACCOUNT_NAME)
        display = st.text_input(t("admin.col.name"), key=state.ACCOUNT_DISPLAY)
        roles = st.multiselect(
            t("admin.col.roles"), accounts.ROLES, format_func=lambda r: t(f"role.{r}"), key=state.ACCOUNT_ROLES
        )
        scope = st.text_input(
            t("admin.col.scope"), value="district", help=t("admin.scope_help"), key=state.ACCOUNT_SCOPE
        )
        sso = st.text_input(t("admin.sso"), help=t("admin.sso_help"), key=state.ACCOUNT_SSO).strip()
        if st.form_submit_button(t("admin.add"), type="primary"):
            name = username.strip()
            password = None if sso else secrets.token_urlsafe(12)
            change(
                lambda: book.add(
                    name,
                    password,
                    roles,
                    display_name=display.strip() or None,
                    scope=accounts.Scope.parse(scope),
                    sso=sso or None,
                ),
                name,
                f"added; sso {sso}" if sso else "added",
                t("admin.added_sso", name=name, identity=sso.casefold())
                if sso
                else t("admin.added", name=name, password=password),
            )
    names = [a.username for a in listed]
    if not names:
        return
    who = st.selectbox(t("admin.which"), names, key=state.ACCOUNT_PICK)
    buttons = st.columns(4)
    actions = {
        "disable": lambda: book.update(who, disabled=True),
        "enable": lambda: book.update(who, disabled=False),
        "unlock": lambda: book.unlock(who),
    }
    for box, (name, run) in zip(buttons, actions.items(), strict=False):
        if box.button(t(f"admin.{name}"), key=state.key_of(state.ACCOUNT_ACTION, name)):
            change(run, who, name, t("admin.done", name=who, action=t(f"admin.{name}")))
    if buttons[3].button(t("admin.reset"), key=state.key_of(state.ACCOUNT_ACTION, "reset")):
        password = secrets.token_urlsafe(12)
        change(
            lambda: book.set_password(who, password, must_change=True),
            who,
            "password reset",
            t("admin.reset_done", name=who, password=password),
        )
    identity = st.text_input(t("admin.identity"), help=t("admin.sso_help"), key=state.ACCOUNT_IDENTITY).strip()
    link, unlink = st.columns(2)
    if link.button(t("admin.link"), key=state.key_of(state.ACCOUNT_ACTION, "link")):
        change(
            lambda: book.link(who, identity),
            who,
            f"sso linked: {identity}",
            t("admin.linked", identity=identity.casefold(), name=who),
        )
    if unlink.button(t("admin.unlink"), key=state.key_of(state.ACCOUNT_ACTION, "unlink")):
        owner = {i: name for name, ids in linked.items() for i in ids}.get(identity.casefold(), who)
        change(
            lambda: book.unlink(identity),
            owner,
            f"sso unlinked: {identity}",
            t("admin.unlinked", identity=identity.casefold(), name=owner),
        )


def change(run, target: str, detail: str, done: str) -> None:
    """Run an account change as the signed-in data admin (checked now), audit it, say it is done."""
    try:
        account = signin.require("users")
        run()
    except GridWatchError as exc:
        show_error(exc)
        return
    audit.record("account_changed", account.username, target=target, detail=detail)
    st.session_state[state.FLASH] = done
    st.rerun()


def keys_section(sel) -> None:
    store = data.workspace(sel.workspace)
    keys = apikeys.list_keys(store)
    st.caption(t("admin.keys_of", workspace=store.name))
    st.dataframe(
        pd.DataFrame(
            {
                t("admin.col.source"): [k.source for k in keys],
                t("admin.col.created"): [k.created_at[:19] for k in keys],
                t("admin.col.state"): [
                    t("admin.state.revoked") if k.revoked else t("admin.state.active") for k in keys
                ],
                t("admin.col.last4"): [f"…{k.last4}" for k in keys],
            }
        ),
        hide_index=True,
        width="stretch",
        key=state.KEYS_TABLE,
    )
    cols = st.columns([2, 1, 1], vertical_alignment="bottom")
    source = cols[0].text_input(t("admin.col.source"), key=state.KEY_SOURCE, help=t("admin.source_help")).strip()
    for box, name in zip(cols[1:], ("create", "revoke"), strict=True):
        if box.button(t(f"admin.key_{name}"), key=state.key_of(state.KEY_ACTION, name), disabled=not source):
            try:
                account = signin.require("keys")
                key = apikeys.create_key(store, source) if name == "create" else apikeys.revoke_key(store, source)
            except GridWatchError as exc:
                show_error(exc)
                return
            audit.record("key_changed", account.username, workspace=store.name, target=source, detail=name)
            st.session_state[state.FLASH] = (
                t("admin.key_created", source=source, secret=key)
                if name == "create"
                else t("admin.key_revoked", source=source)
            )
            st.rerun()
