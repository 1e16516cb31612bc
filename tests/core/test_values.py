"""core.values: column values converted to the schema's types and codes; the value-mapping step's suggestions."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from core.columns import apply_mapping
from core.schema import DEFAULT_TIMEZONE
from core.values import apply_values, as_code, as_datetime, as_number, as_text, suggest_code, unknown_values


def test_open_data_wordings_are_suggested_not_applied():
    assert suggest_code("tickets", "source", "Phone Call") == "hotline"
    assert suggest_code("tickets", "source", "Internet") == "resident"
    assert suggest_code("tickets", "source", "Mobile Device") == "resident"
    assert suggest_code("tickets", "stage", "Closd") == "closed", "close to a code"
    assert suggest_code("tickets", "stage", "Completed - Dup") == "closed"
    assert suggest_code("cameras", "status", "inactive") == "offline"
    assert suggest_code("members", "status", "inactive") is None, "only codes the layer's field allows"
    assert suggest_code("tickets", "source", "Pigeon") is None
    frame = gpd.GeoDataFrame({"o": ["Phone Call", "12345", None]}, geometry=[shapely.Point(0, 0)] * 3)
    mapped = apply_mapping(frame, {"source": "o"}, "tickets")
    assert mapped["source"].tolist()[:2] == ["Phone Call", "hotline"], "a suggestion is never applied unasked"
    assert unknown_values(mapped, "tickets")["source"].to_dict() == {"Phone Call": 1}


def test_apply_values_recodes_only_to_allowed_codes():
    frame = gpd.GeoDataFrame({"source": ["Phone Call", "Internet", "Fax"]}, geometry=[shapely.Point(0, 0)] * 3)
    out = apply_values(frame, "tickets", {"source": {"Phone Call": "hotline", "Internet": "website"}})
    assert out["source"].tolist() == ["hotline", "Internet", "Fax"]


def test_each_conversion_on_its_own():
    whole = as_text(pd.Series([1001.0, None, 7.0]))
    assert (whole[0], whole[2]) == ("1001", "7") and pd.isna(whole[1]), "whole-number floats lose their .0"
    assert as_text(pd.Series([" a ", ""])).tolist()[0] == "a" and pd.isna(as_text(pd.Series([" a ", ""]))[1])
    assert as_number(pd.Series(["1,200", "3"]), integer=True).tolist() == [1200, 3]
    assert as_number(pd.Series(["1", "x"]), integer=False).tolist() == ["1", "x"], "left for validation"
    assert as_code(pd.Series(["已结案", "closed", "挂起"]), "stage", ("closed", "accepted")).tolist() == [
        "closed",
        "closed",
        "挂起",
    ]
    stamps = as_datetime(pd.Series(["2018/9/24 14:03", "20180924"]), DEFAULT_TIMEZONE)
    assert stamps.tolist() == [
        pd.Timestamp("2018-09-24 14:03", tz=DEFAULT_TIMEZONE),
        pd.Timestamp("2018-09-24", tz=DEFAULT_TIMEZONE),
    ]
