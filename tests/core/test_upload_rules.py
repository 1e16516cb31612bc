"""core.upload_rules: the shrink rule, mapping names, stacked points, id clashes and rows without
coordinates, on small hand-built layers (the whole upload is in test_uploads.py)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from core import hotspots, schema, upload_rules, uploads
from core.errors import ReadError


def cameras(n: int, *, x: float = 120.15) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {schema.CAMERA_ID: [f"C{i}" for i in range(n)]},
        geometry=[shapely.Point(x + i * 1e-3, 30.27) for i in range(n)],
        crs=schema.STORAGE_CRS,
    )


def test_replacing_with_half_or_less_is_a_shrink_to_confirm():
    active = uploads.Active.of(None, {"cameras": cameras(10)})
    assert upload_rules.shrink_of("cameras", 6, active) is None
    shrink = upload_rules.shrink_of("cameras", 5, active)
    assert (shrink.active, shrink.new, shrink.removed) == (10, 5, 5)
    assert "would remove 5 (50%)" in str(shrink)
    assert upload_rules.shrink_of("tickets", 0, active) is None, "nothing held, nothing to shrink"
    assert upload_rules.SHRINK_LIMIT == 0.5


def test_a_mapping_must_name_a_field_and_a_column():
    upload_rules.check_mapping("c.csv", "cameras", {schema.CAMERA_ID: "编号"}, ["编号"])
    with pytest.raises(ReadError, match="`colour` is not a field of cameras") as caught:
        upload_rules.check_mapping("c.csv", "cameras", {"colour": "编号"}, ["编号"])
    assert caught.value.code == "map_field"
    with pytest.raises(ReadError, match="has no column `id`") as caught:
        upload_rules.check_mapping("c.csv", "cameras", {schema.CAMERA_ID: "id"}, ["编号"])
    assert caught.value.code == "map_column"


def test_ids_already_stored_clash_only_when_appending_to_them():
    active = uploads.Active.of(None, {"cameras": cameras(3)})
    layer = schema.LAYERS["cameras"]
    (clash,) = upload_rules.id_clashes(cameras(5), layer, active)
    assert clash.code == "id_clash" and clash.params["count"] == "3"
    assert upload_rules.id_clashes(cameras(5), schema.LAYERS["tickets"], active) == ()


def test_rows_without_coordinates_are_left_out_only_when_asked():
    frame = cameras(3)
    frame.loc[1, "geometry"] = None
    layer = schema.LAYERS["cameras"]
    kept, left_out, problems = upload_rules.without_coordinates(frame, layer, uploads.UploadOptions())
    assert kept is frame and left_out is None and problems == ()
    asked = uploads.UploadOptions(skip_missing_coordinates=True)
    kept, left_out, (problem,) = upload_rules.without_coordinates(frame, layer, asked)
    assert kept[schema.CAMERA_ID].tolist() == ["C0", "C2"] and left_out[schema.CAMERA_ID].tolist() == ["C1"]
    assert (problem.code, problem.rows, problem.severity) == ("rows_left_out", ("#2",), "warning")


def test_points_stacked_on_one_coordinate_are_a_warning_for_point_layers_only():
    spread = cameras(200)  # one point per coordinate: nothing stacked …
    assert upload_rules.stacked_warnings(spread, schema.LAYERS["cameras"]) == ()
    stacked = pd.concat([spread, *[cameras(1)] * hotspots.STACKED_MIN_POINTS], ignore_index=True)  # … until now
    (warning,) = upload_rules.stacked_warnings(stacked, schema.LAYERS["cameras"])
    assert warning.code == "stacked_points" and warning.severity == "warning"
    assert upload_rules.stacked_warnings(stacked, schema.GRIDS) == ()
