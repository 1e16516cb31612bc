"""The pages' charts as pure builders: a table and the words to show in, an Altair chart out (testable
without a browser; the page calls ``st.altair_chart``). Altair specs render with the Vega bundled in
Streamlit's own frontend, so they need no CDN. Maps are not here (``components.maps``)."""

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


def season_lines(season: pd.DataFrame, top: int, title: str, count_title: str, category_title: str) -> alt.Chart:
    """Tickets per month of the ``top`` busiest categories, from ``core.hotspots.monthly_seasonality``'s
    table (month × category)."""
    busiest = season.sum().sort_values(ascending=False).index[:top]
    data = season[busiest].reset_index().melt(id_vars="month", var_name="category", value_name="tickets")
    return (
        alt.Chart(data, title=title)
        .mark_line(point=True)
        .encode(
            x=alt.X("month:O", title=None),
            y=alt.Y("tickets:Q", title=count_title),
            color=alt.Color("category:N", title=category_title),
            tooltip=["category", "month", "tickets"],
        )
    )


COMPLIANCE_COLORS = {
    "inside": "#1a9850",
    "partly_outside": "#fdae61",
    "outside": "#d73027",
    "missed": "#4d4d4d",
    "called_off": "#bdbdbd",
}
"""The compliance calendar's colours, in legend order."""


def compliance_calendar(
    nights: pd.DataFrame, teams: list[str], labels: dict[str, str], titles: dict[str, str], title: str
) -> alt.Chart:
    """Night × team of ``core.patrol.compliance``'s table, coloured by status (a called-off night as
    such), teams in the order ``teams``. ``labels``: the words for each of ``COMPLIANCE_COLORS``; ``titles``:
    the tooltip's for ``team_name``, ``night``, ``label``, ``sign_ins`` and ``first``."""
    shown = nights.assign(state=nights["status"].where(~nights["called_off"], "called_off"))
    shown["label"] = shown["state"].map(labels)
    shown["night"] = shown["night"].dt.strftime("%Y-%m-%d")
    shown["first"] = shown["first_at"].dt.strftime("%H:%M").fillna("")
    order = list(COMPLIANCE_COLORS)
    return (
        alt.Chart(shown, title=title)
        .mark_rect(stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X("night:O", title=None, axis=alt.Axis(labelAngle=-60)),
            y=alt.Y("team_name:N", title=None, sort=teams),
            color=alt.Color(
                "label:N",
                title=None,
                scale=alt.Scale(domain=[labels[s] for s in order], range=[COMPLIANCE_COLORS[s] for s in order]),
            ),
            tooltip=[
                alt.Tooltip("team_name:N", title=titles["team_name"]),
                alt.Tooltip("night:O", title=titles["night"]),
                alt.Tooltip("label:N", title=titles["label"]),
                alt.Tooltip("sign_ins:Q", title=titles["sign_ins"]),
                alt.Tooltip("first:N", title=titles["first"]),
            ],
        )
    )
