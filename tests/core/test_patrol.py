"""core.patrol: nightly compliance against a hand count, nights missed and called off, grids nobody
visited, and visits against tickets."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from patrol_cases import TZ, small_assignments, small_grids, small_teams, ts

from core import metrics, patrol, schema
from core.roster import TEAM_NAME


def checkins() -> pd.DataFrame:
    """Sign-ins with a known count (comments: the night each one counts for, and why)."""
    rows = [
        ("A", "2026-10-01 21:00", "g1"),  # Oct 1, inside
        ("A", "2026-10-02 00:40", "g2"),  # Oct 1 (before noon: the night before), inside
        ("A", "2026-10-02 20:00", "g3"),  # Oct 2, outside (B's grid)
        ("A", "2026-10-03 22:00", "g1"),  # Oct 3, inside
        ("A", "2026-10-03 23:00", None),  # Oct 3, outside every grid            -> partly outside
        # A misses Oct 4
        ("B", "2026-10-01 20:00", "g3"),  # Oct 1
        ("B", "2026-10-03 21:00", "g3"),  # Oct 3 (B misses Oct 2)
        ("B", "2026-10-04 19:00", "g3"),  # Oct 4
        ("C", "2026-10-02 23:30", "g4"),  # Oct 2 (C misses Oct 1 and Oct 3)
        ("C", "2026-10-04 12:30", "g4"),  # Oct 4 (just after noon)
        ("C", "2026-10-05 11:59", "g5"),  # Oct 4 (just before noon)
        ("C", "2026-10-01 11:00", "g4"),  # Sep 30: not one of the nights asked for
        ("Z", "2026-10-02 21:00", "g1"),  # a team not in the teams layer: ignored
    ]
    frame = pd.DataFrame(rows, columns=[schema.TEAM_ID, schema.CHECKED_AT, schema.GRID_ID])
    frame[schema.CHECKED_AT] = pd.to_datetime(frame[schema.CHECKED_AT]).dt.tz_localize(TZ)
    frame[schema.CHECKIN_ID] = [f"k{i}" for i in range(len(frame))]
    return frame


NIGHTS = pd.date_range("2026-10-01", "2026-10-04", freq="D")


def test_compliance_equals_a_hand_count():
    table = patrol.compliance(checkins(), small_assignments(), small_teams(), NIGHTS)
    assert len(table) == 12
    got = {
        (r.night.strftime("%m-%d"), r.team_id): (r.sign_ins, r.inside, r.outside, r.status) for r in table.itertuples()
    }
    assert got == {
        ("10-01", "A"): (2, 2, 0, "inside"),
        ("10-01", "B"): (1, 1, 0, "inside"),
        ("10-01", "C"): (0, 0, 0, "missed"),
        ("10-02", "A"): (1, 0, 1, "outside"),
        ("10-02", "B"): (0, 0, 0, "missed"),
        ("10-02", "C"): (1, 1, 0, "inside"),
        ("10-03", "A"): (2, 1, 1, "partly_outside"),
        ("10-03", "B"): (1, 1, 0, "inside"),
        ("10-03", "C"): (0, 0, 0, "missed"),
        ("10-04", "A"): (0, 0, 0, "missed"),
        ("10-04", "B"): (1, 1, 0, "inside"),
        ("10-04", "C"): (2, 2, 0, "inside"),
    }
    a_oct1 = table[(table[patrol.NIGHT] == "2026-10-01") & (table[schema.TEAM_ID] == "A")].iloc[0]
    assert a_oct1[patrol.FIRST_AT] == ts("2026-10-01 21:00")
    assert a_oct1[patrol.LAST_AT] == ts("2026-10-02 00:40")
    assert a_oct1[TEAM_NAME] == "甲队"
    missed = table[table["status"] == "missed"]
    assert missed[patrol.FIRST_AT].isna().all() and not missed[patrol.SIGNED_IN].any()
    assert not table[patrol.CALLED_OFF].any()


def test_nights_missed_per_team():
    summary = patrol.nights_missed(patrol.compliance(checkins(), small_assignments(), small_teams(), NIGHTS))
    assert summary.index.tolist() == ["A", "B", "C"]
    assert summary["signed_in"].tolist() == [3, 3, 2]
    assert summary["missed"].tolist() == [1, 1, 2]
    assert summary["compliance_rate"].tolist() == [0.75, 0.75, 0.5]
    assert summary["sign_ins"].tolist() == [5, 3, 3]
    assert summary["outside_sign_ins"].tolist() == [2, 0, 0]
    assert summary["nights_outside"].tolist() == [2, 0, 0]


def test_a_night_no_team_went_out_is_called_off_not_missed():
    nights = pd.date_range("2026-10-01", "2026-10-05", freq="D")
    table = patrol.compliance(checkins(), small_assignments(), small_teams(), nights)
    oct5 = table[table[patrol.NIGHT] == "2026-10-05"]
    assert oct5[patrol.CALLED_OFF].all() and (oct5["status"] == "missed").all()
    assert not table.loc[table[patrol.NIGHT] != "2026-10-05", patrol.CALLED_OFF].any()
    summary = patrol.nights_missed(table)
    assert summary["called_off"].tolist() == [1, 1, 1]
    assert summary["missed"].tolist() == [1, 1, 2]
    assert summary["compliance_rate"].tolist() == [0.75, 0.75, 0.5]


def test_compliance_summary_counts_the_district_and_leaves_called_off_nights_out():
    nights = pd.date_range("2026-10-01", "2026-10-05", freq="D")  # Oct 5: called off
    table = patrol.compliance(checkins(), small_assignments(), small_teams(), nights)
    summary = patrol.ComplianceSummary.of(table, patrol.nights_missed(table))
    assert summary == patrol.ComplianceSummary(
        teams=3, compliance_rate=8 / 12, missed=4, outside_sign_ins=2, called_off=1
    )
    every_night_off = table.assign(**{patrol.CALLED_OFF: True})
    assert np.isnan(patrol.ComplianceSummary.of(every_night_off, patrol.nights_missed(every_night_off)).compliance_rate)


def test_nights_in_a_period_start_at_noon_inside_it():
    october = metrics.Period(ts("2026-10-01"), ts("2026-11-01"))
    nights = patrol.nights_in(october)
    assert nights[0] == pd.Timestamp("2026-10-01") and nights[-1] == pd.Timestamp("2026-10-31")
    assert len(nights) == 31
    assert len(patrol.nights_in(metrics.Period(ts("2026-10-01 12:00"), ts("2026-10-02 12:00")))) == 1


def test_unvisited_grids_worst_first():
    gaps = patrol.unvisited_grids(
        checkins(), small_assignments(), small_grids(), ts("2026-10-05 12:00"), days=2, teams=small_teams()
    )
    # g5 was visited at Oct 5 11:59; g2 last on Oct 2 00:40; every other grid within two days
    assert gaps[schema.GRID_ID].tolist() == ["g2"]
    assert gaps.loc[0, "last_visit"] == ts("2026-10-02 00:40")
    assert gaps.loc[0, "days_since_visit"] == pytest.approx(3 + 11.33 / 24, abs=1e-3)
    assert gaps.loc[0, TEAM_NAME] == "甲队"
    early = patrol.unvisited_grids(checkins(), small_assignments(), small_grids(), ts("2026-10-02 12:00"), days=1)
    # by Oct 2 noon: g5 never visited; g4 last at Oct 1 11:00, 25 hours before
    assert early[schema.GRID_ID].tolist() == ["g5", "g4"]
    assert pd.isna(early.loc[0, "last_visit"]) and math.isnan(early.loc[0, "days_since_visit"])
    assert early.loc[1, "days_since_visit"] == pytest.approx(25 / 24)
    none_yet = patrol.unvisited_grids(checkins().iloc[:0], small_assignments(), small_grids(), ts("2026-10-02 12:00"))
    assert len(none_yet) == len(small_assignments()) and none_yet["last_visit"].isna().all()


def test_visits_against_tickets_put_hot_grids_with_few_visits_first():
    grids = small_grids().iloc[:4]
    tickets = pd.DataFrame(
        {
            schema.GRID_ID: ["g1"] * 5 + ["g2"] * 3 + ["g4", "g4", None],
            schema.CREATED_AT: [ts("2026-10-10")] * 10 + [ts("2026-10-10")],
            schema.STAGE: ["closed"] * 10 + ["closed"],
        }
    )
    tickets.loc[9, schema.STAGE] = "cancelled"  # one of g4's: not registered, not counted
    visits = pd.DataFrame({schema.GRID_ID: ["g2"] * 4 + ["g3"] * 2 + ["g4"], schema.CHECKED_AT: [ts("2026-10-11")] * 7})
    out = patrol.visits_vs_tickets(grids, tickets, visits, metrics.Period(ts("2026-10-01"), ts("2026-11-01")))
    assert out.index.tolist() == ["g1", "g4", "g2", "g3"]
    assert out["tickets"].tolist() == [5, 1, 3, 0]
    assert out["visits"].tolist() == [0, 1, 4, 2]
    assert out["hot"].tolist() == [True, False, False, False]
    assert out["ticket_rank"].tolist() == [1, 3, 2, 4]
    assert out["gap_rank"].tolist() == [1, 2, 3, 4]
    assert out.loc["g1", "gap"] == pytest.approx(5 / 9)
    assert out.loc["g4", "gap"] == pytest.approx(1 / 9 - 1 / 7)
    assert out.loc["g2", "visits_per_100_tickets"] == pytest.approx(400 / 3)
    assert math.isnan(out.loc["g3", "visits_per_100_tickets"])


# ---- assignment tables ------------------------------------------------------------------------------
