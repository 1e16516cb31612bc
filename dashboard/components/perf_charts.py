"""Charts and exports of the Performance page. Altair specs render with the Vega bundled in Streamlit's
own frontend, so they need no CDN."""

from __future__ import annotations

import altair as alt
import pandas as pd

from core import schema


def trend_lines(monthly: pd.DataFrame, column: str, title: str, unit_title: str) -> alt.FacetChart:
    """One small line chart per unit (month on x, ``column`` on y)."""
    data = monthly[["unit", "month", column]].dropna()
    line = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("month:O", title=None),
            y=alt.Y(f"{column}:Q", title=title),
            tooltip=["unit", "month", alt.Tooltip(f"{column}:Q", format=".3~f")],
        )
    )
    return line.properties(width=170, height=110).facet(facet=alt.Facet("unit:N", title=unit_title), columns=4)


def heat_table(tickets: pd.DataFrame, key: str, key_title: str, count_title: str, top: int = 25) -> alt.Chart:
    """Registered tickets per category × unit, for the ``top`` busiest units."""
    counts = tickets.groupby([key, schema.CATEGORY]).size().rename("tickets").reset_index()
    busiest = counts.groupby(key)["tickets"].sum().nlargest(top).index
    data = counts[counts[key].isin(busiest)]
    return (
        alt.Chart(data)
        .mark_rect()
        .encode(
            x=alt.X(f"{schema.CATEGORY}:N", title=None),
            y=alt.Y(f"{key}:N", title=key_title, sort=list(busiest)),
            color=alt.Color("tickets:Q", title=count_title, scale=alt.Scale(scheme="orangered")),
            tooltip=[key, schema.CATEGORY, "tickets"],
        )
    )


def hour_weekday(matrix: pd.DataFrame, weekdays: list[str], count_title: str) -> alt.Chart:
    """Tickets by hour of day × weekday, from ``core.hotspots.hour_weekday``'s table."""
    data = matrix.rename(index=dict(enumerate(weekdays))).rename_axis(index="weekday", columns="hour")
    data = data.stack().rename("tickets").reset_index()
    return (
        alt.Chart(data)
        .mark_rect()
        .encode(
            x=alt.X("hour:O", title=None),
            y=alt.Y("weekday:O", title=None, sort=weekdays),
            color=alt.Color("tickets:Q", title=count_title, scale=alt.Scale(scheme="blues")),
            tooltip=["weekday", "hour", "tickets"],
        )
    )
