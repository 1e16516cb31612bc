"""Tables as pages show them: percent and rounding, without a browser."""

from __future__ import annotations

import pandas as pd

from dashboard.components import tables


def test_rates_become_percent_and_floats_are_rounded():
    frame = pd.DataFrame({"on_time_rate": [0.12345, None], "per_km2": [3.14159, 2.0], "registered": [7, 8]})
    shown = tables.percent_rounded(frame, ("rate",))
    assert shown["on_time_rate"].iloc[0] == 12.3 and pd.isna(shown["on_time_rate"].iloc[1])
    assert shown["per_km2"].tolist() == [3.1, 2.0] and shown["registered"].tolist() == [7, 8]
    assert frame["on_time_rate"].iloc[0] == 0.12345  # the input is left as it was


def test_chosen_columns_are_rounded_each_to_its_decimals():
    frame = pd.DataFrame({"gap": [0.012345], "z": [1.23456], "p": [0.000123456], "n": [3]})
    shown = tables.rounded(frame, {"gap": 2, "z": 2, "p": 4, "absent": 1}, percent=("gap",))
    assert shown.iloc[0].tolist() == [1.23, 1.23, 0.0001, 3]
