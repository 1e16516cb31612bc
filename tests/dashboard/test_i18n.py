"""The i18n catalog: both languages complete, every key the pages use exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core import schema
from dashboard import i18n

DASHBOARD = Path(i18n.__file__).parent
USED = re.compile(r"""\bt\(\s*f?["']([a-z0-9_.{}]+)["']""")


def test_languages_have_the_same_keys():
    assert i18n.catalog("en").keys() == i18n.catalog("zh").keys()


def test_every_static_key_used_by_the_dashboard_exists():
    keys = set()
    for path in DASHBOARD.rglob("*.py"):
        keys |= {k for k in USED.findall(path.read_text(encoding="utf-8")) if "{" not in k}
    assert keys, "the pattern found no keys; it is broken"
    missing = sorted(k for k in keys if k not in i18n.catalog("en"))
    assert missing == []


@pytest.mark.parametrize(
    ("group", "codes"),
    [
        ("stage", schema.TICKET_STAGES),
        ("source", schema.TICKET_SOURCES),
        ("site_kind", schema.SITE_KINDS),
        ("camera_status", schema.CAMERA_STATUSES),
        ("service_kind", schema.SERVICE_KINDS),
        ("satisfaction", schema.SATISFACTIONS),
        ("member_status", schema.MEMBER_STATUSES),
        ("member_kind", schema.MEMBER_KINDS),
        ("gender", schema.GENDERS),
        ("shift", schema.SHIFTS),
    ],
)
def test_every_schema_code_has_a_label_in_both_languages(group, codes):
    for lang in i18n.LANGUAGES:
        assert all(f"{group}.{code}" in i18n.catalog(lang) for code in codes)


def test_translate_fills_values_and_falls_back():
    assert (
        i18n.translate("zh", "sidebar.as_of", date="2026-10-31", version=3, zone="Asia/Shanghai")
        == "数据截至 2026-10-31（最新事件）· Asia/Shanghai · 版本 3"
    )
    assert i18n.translate("zh", "no.such.key") == "no.such.key"


@pytest.mark.parametrize(
    ("locale", "lang"), [("zh-CN", "zh"), ("zh-TW", "zh"), ("en-GB", "en"), ("fr-FR", "zh"), (None, "zh")]
)
def test_browser_locale_picks_the_language(locale, lang):
    assert i18n.language_from_locale(locale) == lang


def test_problems_are_worded_in_the_readers_language(monkeypatch):
    import geopandas as gpd
    from shapely.geometry import Point

    from core.validate import problems_in

    frame = gpd.GeoDataFrame(
        {
            schema.CAMERA_ID: ["c1", "c1"],
            schema.SITE_KIND: ["路口", "intersection"],
            schema.STATUS: ["online", "online"],
            schema.FOV_DEG: [90.0, 90.0],
            schema.RANGE_M: [50.0, 50.0],
        },
        geometry=[Point(120, 30), None],
        crs=schema.STORAGE_CRS,
    )
    problems = problems_in(frame, schema.CAMERAS.name)
    assert {p.code for p in problems} == {"not_unique", "unknown_values", "missing_geometry"}
    monkeypatch.setattr(i18n, "current_language", lambda: "zh")
    worded = {p.code: i18n.problem_text(p) for p in problems}
    assert worded["not_unique"] == ("编号重复（'c1'）", "每行使用唯一的 `camera_id`")
    assert worded["unknown_values"][0] == "无法识别的取值 '路口'"
    monkeypatch.setattr(i18n, "current_language", lambda: "en")
    assert i18n.problem_text(problems[0]) == (problems[0].what, problems[0].fix)


def test_every_problem_code_has_both_texts_in_every_language():
    codes = {k.split(".")[1] for k in i18n.catalog("en") if k.startswith("problem.")}
    for lang in i18n.LANGUAGES:
        for code in codes:
            assert f"problem.{code}.what" in i18n.catalog(lang) and f"problem.{code}.fix" in i18n.catalog(lang)


def coded_calls(kind: str) -> set[str]:
    """The ``code=`` literals core passes to calls of ``kind``: "error" (``…Error(...)``) or "message"
    (``Message(...)``); both branches of a conditional code count."""
    import ast

    import core

    found = set()
    for path in Path(core.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            is_error = name.endswith("Error") or name == "__init__"  # an error class's super().__init__
            if (kind == "error" and is_error) or (kind == "message" and name == "Message"):
                for keyword in node.keywords:
                    if keyword.arg == "code":
                        found |= {
                            c.value
                            for c in ast.walk(keyword.value)
                            if isinstance(c, ast.Constant) and isinstance(c.value, str)
                        }
    return found


@pytest.mark.parametrize("kind", ["error", "message"])
def test_every_error_and_message_code_core_raises_is_in_both_catalogs(kind):
    codes = coded_calls(kind)
    assert len(codes) > (60 if kind == "error" else 10), "the scan found too few codes; it is broken"
    for lang in i18n.LANGUAGES:
        assert sorted(c for c in codes if f"{kind}.{c}" not in i18n.catalog(lang)) == [], lang


def test_errors_and_messages_are_worded_in_the_readers_language(monkeypatch):
    from core.errors import LayerNotFoundError, Message, ReadError

    empty = ReadError(
        "`a.csv` is empty (0 bytes). Check the file and upload it again.", code="file_empty", params={"name": "a.csv"}
    )
    missing = LayerNotFoundError(
        "workspace `w` has no `tickets` layer; upload it first",
        code="layer_not_found",
        params={"workspace": "w", "layer": "tickets"},
    )
    note = Message("dropped Z coordinates from 3 features", code="dropped_z", params={"count": 3})
    monkeypatch.setattr(i18n, "current_language", lambda: "zh")
    assert i18n.error_text(empty) == "`a.csv` 是空文件（0 字节），请检查文件后重新上传。"
    assert i18n.error_text(missing) == "工作区 `w` 还没有“事件”图层，请先导入。"
    assert i18n.message_text(note) == "已去除 3 个要素的 Z 坐标（高程）"
    assert i18n.error_text(ReadError("no code yet")) == "no code yet"  # English until it gets a code
    monkeypatch.setattr(i18n, "current_language", lambda: "en")
    assert i18n.error_text(missing) == "Workspace `w` has no Tickets layer yet; load it first."
    assert str(empty).startswith("`a.csv` is empty") and str(note) == "dropped Z coordinates from 3 features"


def test_a_validation_error_lists_its_problems_in_chinese(monkeypatch):
    from core.errors import Problem, ValidationError

    exc = ValidationError(
        "cameras",
        [
            Problem(
                "cameras",
                "camera_id",
                ("c1",),
                "value is missing",
                "fill it in",
                code="missing_value",
                params={"column": "camera_id"},
            )
        ],
    )
    monkeypatch.setattr(i18n, "current_language", lambda: "zh")
    lines = i18n.error_text(exc).split("\n\n")
    assert lines[0] == "摄像头有 1 处问题："
    assert lines[1].startswith("摄像头 `camera_id` (c1)：" + i18n.translate("zh", "problem.missing_value.what"))


def test_every_problem_code_core_emits_is_in_the_catalog():
    import core

    core_dir = Path(core.__file__).parent
    emitted = set()
    for path in core_dir.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        emitted |= set(re.findall(r'code="([a-z_]+)"', text))
        emitted |= set(re.findall(r'"([a-z_]+)",\s*(?:params|\{)', path.read_text(encoding="utf-8")))
    emitted -= coded_calls("error") | coded_calls("message")
    emitted |= {f"wrong_kind_{kind}" for kind in ("str", "int", "float", "datetime", "bool")}
    emitted |= {"gap_inside", "gap_enclosed", "outside_reach", "unknown_team", "unknown_grid"}  # chosen in expressions
    emitted |= {"more_overlaps", "more_gaps_enclosed"}
    emitted |= {"wrong_geometry_polygon", "wrong_geometry_point"}
    assert "not_unique" in emitted
    emitted.discard("wrong_geometry_")  # the prefix of the two codes above
    assert sorted(c for c in emitted if f"problem.{c}.what" not in i18n.catalog("zh")) == []


def test_every_error_and_problem_core_builds_carries_a_code():
    """Every ``GridWatchError`` (of any class) and every ``Problem`` that core builds has a ``code=``:
    without one the reader sees core's English in every language. (``ValidationError`` codes itself.)"""
    import ast
    import importlib
    import pkgutil

    import core
    from core.errors import GridWatchError

    for module in pkgutil.iter_modules(core.__path__):  # subclasses defined anywhere in core
        importlib.import_module(f"core.{module.name}")

    def subclasses(cls: type) -> set[type]:
        return {cls, *(s for c in cls.__subclasses__() for s in subclasses(c))}

    names = {c.__name__ for c in subclasses(GridWatchError)} - {"ValidationError"} | {"Problem"}
    built, uncoded = 0, []
    for path in sorted(Path(core.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(node.func, "id", getattr(node.func, "attr", "")) if isinstance(node, ast.Call) else ""
            if name in names:
                built += 1
                if not any(keyword.arg == "code" for keyword in node.keywords):
                    uncoded.append(f"{path.name}:{node.lineno} {name}")
    assert built > 130, "the scan found too few errors and problems; it is broken"
    assert uncoded == []


def test_the_summary_of_unlisted_topology_findings_is_worded_in_chinese(monkeypatch):
    import geopandas as gpd
    from shapely.geometry import box

    from core.boundaries import boundary_problems

    cells = [box(120 + i * 0.01, 30.0, 120.011 + i * 0.01, 30.01) for i in range(30)]  # each overlaps the next
    grids = gpd.GeoDataFrame(
        {schema.GRID_ID: [f"g{i}" for i in range(30)], schema.COMMUNITY: "c"}, geometry=cells, crs=schema.STORAGE_CRS
    )
    (summary,) = [p for p in boundary_problems(grids) if p.code == "more_overlaps"]
    monkeypatch.setattr(i18n, "current_language", lambda: "zh")
    what, fix = i18n.problem_text(summary)
    assert what.startswith(f"另有 {summary.params['count']} 对网格相互重叠，共 ") and fix.startswith("重新绘制公共边界")


def test_topology_findings_are_worded_in_chinese(monkeypatch):
    import geopandas as gpd
    from shapely.geometry import box

    from core.boundaries import boundary_problems

    grids = gpd.GeoDataFrame(
        {schema.GRID_ID: ["a", "b"], schema.COMMUNITY: ["东社区", "西社区"]},
        geometry=[box(120.0, 30.0, 120.01, 30.01), box(120.009, 30.0, 120.02, 30.01)],
        crs=schema.STORAGE_CRS,
    )
    (crossing,) = [p for p in boundary_problems(grids) if p.code == "community_crossing"]
    monkeypatch.setattr(i18n, "current_language", lambda: "zh")
    what, fix = i18n.problem_text(crossing)
    assert what.startswith("网格 a（东社区）与 b（西社区）重叠") and "跨越了社区界线" in what
    assert "位于 120.0" in what and fix.startswith("从不属于该社区的网格中切除")


def test_read_errors_are_worded_in_the_readers_language(monkeypatch):
    from core.errors import ReadError

    error = ReadError(
        "`a.kml` nests Folders more than 100 deep", code="kml_deep", params={"file": "a.kml", "depth": 100}
    )
    monkeypatch.setattr(i18n, "current_language", lambda: "zh")
    assert i18n.error_text(error) == i18n.translate("zh", "error.kml_deep", file="a.kml", depth=100)
    assert "嵌套超过 100 层" in i18n.error_text(error)
    assert i18n.error_text(ReadError("plain")) == "plain"
    monkeypatch.setattr(i18n, "current_language", lambda: "en")
    assert i18n.error_text(error).startswith("`a.kml` nests Folders more than 100 deep")


@pytest.mark.parametrize(
    ("lang", "headers", "layer"),
    [
        (
            "en",
            ["Layer", "Points", "Move to another grid", "Fall outside every grid", "Newly inside a grid"],
            "Tickets",
        ),
        ("zh", ["图层", "点数", "改属其他网格", "落到所有网格之外", "新落入网格"], "事件"),
    ],
)
def test_the_change_impact_table_has_headers_in_the_readers_language(monkeypatch, lang, headers, layer):
    import pandas as pd

    from core.changes import Impact, ImpactCounts
    from dashboard.components.upload import impact_table

    monkeypatch.setattr(i18n, "current_language", lambda: lang)
    impact = Impact({"tickets": ImpactCounts(total=10, moved=2, newly_unassigned=1, newly_assigned=0)}, pd.DataFrame())
    table = impact_table(impact)
    assert table.columns.tolist() == headers
    assert table.iloc[0].tolist() == [layer, 10, 2, 1, 0]


@pytest.mark.parametrize(
    ("count", "text"),
    [(1, "1 ticket in the period"), (2, "2 tickets in the period"), ("1,000", "1,000 tickets in the period")],
)
def test_english_counts_have_plural_forms(count, text):
    assert i18n.translate("en", "overview.tickets_in_period", count=count) == text
    assert i18n.translate("zh", "overview.tickets_in_period", count=count) == f"本时段事件 {count} 件"


def test_a_redesign_without_a_current_roster_says_so_not_zero_changes(monkeypatch):
    from dashboard.components.patrol_panels import proposal_text

    monkeypatch.setattr(i18n, "current_language", lambda: "en")
    none = proposal_text(
        2.0, dict.fromkeys(("max_min_ratio", "changed_grids")), {"max_min_ratio": 1.5, "changed_grids": None}
    )
    assert "covers none of these grids" in none and "change team" not in none
    one = proposal_text(2.0, {"max_min_ratio": 3.0}, {"max_min_ratio": 1.5, "changed_grids": 1})
    assert one.endswith("3.000 → 1.500; 1 grid changes team.")


def test_every_coded_wording_gets_the_parameters_it_names():
    """A raise site with ``code=`` and literal ``params`` gives every placeholder its wording uses, in
    both languages (else the reader would see English: ``_coded`` falls back rather than fail)."""
    import ast
    import string

    import core

    checked, wrong = 0, []
    for path in Path(core.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            kind = "message" if name == "Message" else "error" if name.endswith("Error") or name == "__init__" else ""
            keywords = {k.arg: k.value for k in node.keywords}
            params = keywords.get("params")
            literal = params is None or (
                isinstance(params, ast.Dict) and all(isinstance(k, ast.Constant) for k in params.keys)
            )
            if not kind or "code" not in keywords or not literal:
                continue
            given = {k.value for k in params.keys} if params is not None else set()
            for code in (c.value for c in ast.walk(keywords["code"]) if isinstance(c, ast.Constant)):
                for lang in i18n.LANGUAGES:
                    text = i18n.catalog(lang).get(f"{kind}.{code}")
                    for wording in text.values() if isinstance(text, dict) else [text] if text else []:
                        checked += 1
                        needed = {f for _, f, _, _ in string.Formatter().parse(wording) if f}
                        if needed - given:
                            wrong.append((path.name, node.lineno, code, lang, sorted(needed - given)))
    assert checked > 100 and wrong == []
