"""The audit log: who did what, when, to what — append-only, in the account book's database.

Every sign-in (and refused sign-in), sign-out, activation, rollback, roster save, dispatch, account or
key change, download and unmasking is one row: ``at`` (UTC), ``account`` (the user name, or the name
tried for a refused sign-in), ``action`` (one of ``ACTIONS``), ``workspace``, ``target`` (what it
touched: a layer and version, a ticket id, an account) and ``detail`` (a short free text). Nothing in
GridWatch updates or deletes a row; ``entries`` reads them back newest first, filtered, for the Data
admin's view and its export.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa

from core import accounts

__all__ = ["ACTIONS", "entries", "record"]

ACTIONS = (
    "signin",
    "signin_refused",
    "signout",
    "password_changed",
    "activate",
    "rollback",
    "roster_saved",
    "weights_saved",
    "dispatch",
    "account_changed",
    "key_changed",
    "download",
    "unmask",
    "workspace_changed",
)


def record(
    action: str,
    account: str,
    *,
    workspace: str | None = None,
    target: str | None = None,
    detail: str | None = None,
    book: accounts.AccountBook | None = None,
) -> None:
    """Append one entry (``action`` must be one of ``ACTIONS``)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")  # a bug: callers name actions as constants
    engine = (book or accounts.book()).engine
    with engine.begin() as c:
        c.execute(
            accounts.audit_table.insert().values(
                at=datetime.now(UTC),
                account=account[:64],
                action=action,
                workspace=workspace,
                target=(target or "")[:200] or None,
                detail=(detail or "")[:500] or None,
            )
        )


def entries(
    *,
    account: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 10_000,
    book: accounts.AccountBook | None = None,
) -> pd.DataFrame:
    """Entries newest first (at most ``limit``), optionally of one account, one action, from ``since``
    and before ``until``."""
    engine = (book or accounts.book()).engine
    query = sa.select(accounts.audit_table).order_by(accounts.audit_table.c.id.desc()).limit(limit)
    if account:
        query = query.where(accounts.audit_table.c.account == account)
    if action:
        query = query.where(accounts.audit_table.c.action == action)
    if since is not None:
        query = query.where(accounts.audit_table.c.at >= since)
    if until is not None:
        query = query.where(accounts.audit_table.c.at < until)
    with engine.connect() as c:
        frame = pd.DataFrame(
            c.execute(query).mappings().all(), columns=[col.name for col in accounts.audit_table.columns]
        )
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame
