"""The pages' chart builders, without a browser: the data each chart is drawn from and its encodings."""

from __future__ import annotations

import pandas as pd

from dashboard.components import charts


def rows(chart) -> list[dict]:
    return chart.to_dict()["datasets"].popitem()[1]


def test_season_lines_draw_the_busiest_categories_month_by_month():
    season = pd.DataFrame(
        {"roads": [5, 7], "noise": [1, 0], "waste": [3, 3]}, index=pd.Index(["2026-01", "2026-02"], name="month")
    )
    chart = charts.season_lines(season, 2, "Season", "Tickets", "Category")
    spec = chart.to_dict()
    assert spec["title"] == "Season" and spec["encoding"]["y"]["title"] == "Tickets"
    assert spec["encoding"]["color"]["title"] == "Category"
    assert sorted((r["category"], r["month"], r["tickets"]) for r in rows(chart)) == [
        ("roads", "2026-01", 5),
        ("roads", "2026-02", 7),
        ("waste", "2026-01", 3),
        ("waste", "2026-02", 3),
    ]


def test_compliance_calendar_shows_called_off_nights_as_such_in_the_legend_order():
    nights = pd.DataFrame(
        {
            "night": pd.to_datetime(["2026-03-01", "2026-03-01", "2026-03-02"]),
            "team_name": ["A", "B", "A"],
            "status": ["inside", "missed", "missed"],
            "called_off": [False, False, True],
            "sign_ins": [2, 0, 0],
            "first_at": pd.to_datetime(["2026-03-01 21:05", None, None]),
        }
    )
    labels = {s: s.upper() for s in charts.COMPLIANCE_COLORS}
    titles = {k: k.title() for k in ("team_name", "night", "label", "sign_ins", "first")}
    chart = charts.compliance_calendar(nights, ["B", "A"], labels, titles, "Calendar")
    spec = chart.to_dict()
    assert spec["encoding"]["y"]["sort"] == ["B", "A"]
    assert spec["encoding"]["color"]["scale"]["domain"] == [s.upper() for s in charts.COMPLIANCE_COLORS]
    assert spec["encoding"]["color"]["scale"]["range"] == list(charts.COMPLIANCE_COLORS.values())
    assert [(r["night"], r["label"], r["first"]) for r in rows(chart)] == [
        ("2026-03-01", "INSIDE", "21:05"),
        ("2026-03-01", "MISSED", ""),
        ("2026-03-02", "CALLED_OFF", ""),
    ]
    assert [t["title"] for t in spec["encoding"]["tooltip"]] == ["Team_Name", "Night", "Label", "Sign_Ins", "First"]


def test_hour_weekday_names_the_weekdays():
    matrix = pd.DataFrame([[1, 0], [0, 2]], index=[0, 1], columns=[8, 9])
    chart = charts.hour_weekday(matrix, ["Mon", "Tue"], "Tickets")
    assert sorted((r["weekday"], r["hour"], r["tickets"]) for r in rows(chart)) == [
        ("Mon", 8, 1),
        ("Mon", 9, 0),
        ("Tue", 8, 0),
        ("Tue", 9, 2),
    ]
