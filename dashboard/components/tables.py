"""Tables as a page shows them: rates and shares in percent, figures rounded. Presentation only; the
figures themselves come from ``core``."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from core import metrics


def percent_rounded(frame: pd.DataFrame, percent: tuple[str, ...], decimals: int = 1) -> pd.DataFrame:
    """A copy of ``frame`` with the columns whose names end in one of ``percent`` (e.g. ``("_share",)``)
    as percent and every float column rounded to ``decimals``."""
    shown = frame.copy()
    for column in shown.columns:
        if column.endswith(percent):
            shown[column] = (shown[column] * 100).round(decimals)
        elif shown[column].dtype.kind == "f":
            shown[column] = shown[column].round(decimals)
    return shown


def rounded(frame: pd.DataFrame, decimals: dict[str, int], percent: tuple[str, ...] = ()) -> pd.DataFrame:
    """A copy of ``frame`` with each column of ``decimals`` that it holds rounded to its decimals, those
    also in ``percent`` as percent first."""
    shown = frame.copy()
    for column, places in decimals.items():
        if column in shown.columns:
            shown[column] = ((shown[column] * 100) if column in percent else shown[column]).round(places)
    return shown


def rate_formula(tr: Callable[..., str], rate: str, counts: pd.Series) -> str:
    """How a rate of ``metrics.RATES`` is worked out from the district's ``counts``, worded by ``tr``
    ("on-time rate = on time ÷ due = 8 ÷ 10")."""
    numerator, denominator = metrics.RATES[rate]
    return tr(
        "perf.formula",
        rate=tr(f"perf.col.{rate}"),
        numerator=tr(f"perf.col.{numerator}"),
        denominator=tr(f"perf.col.{denominator}"),
        n=f"{int(counts[numerator]):,}",
        d=f"{int(counts[denominator]):,}",
    )
