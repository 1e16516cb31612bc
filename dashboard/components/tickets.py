"""Tickets as a reader sees them in a table: codes in words, times local to the minute."""

from __future__ import annotations

import pandas as pd

from core import schema
from dashboard.i18n import t

CODED = ((schema.STAGE, "stage"), (schema.SOURCE, "source"), (schema.SATISFACTION, "satisfaction"))


def readable(tickets: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``columns`` of ``tickets`` with stage, source and rating in the reader's language and date-times as
    local "YYYY-MM-DD HH:MM" (empty when missing); column names are left for the caller to translate."""
    shown = tickets[columns].copy()
    for column, prefix in CODED:
        if column in shown:
            shown[column] = shown[column].map(lambda v, p=prefix: "" if pd.isna(v) else t(f"{p}.{v}"))
    for column in schema.TICKETS.datetime_columns():
        if column in shown:
            shown[column] = shown[column].dt.strftime("%Y-%m-%d %H:%M").fillna("")
    return shown
