"""components.palettes: every colour is a plain hex colour, and every class has its colour."""

from __future__ import annotations

import re

from core import hotspots, schema
from dashboard.components import palettes


def colours(value) -> list:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [c for v in value.values() for c in colours(v)]
    return [c for v in value for c in colours(v)]


def test_every_colour_is_a_six_digit_hex_colour():
    for name in palettes.__all__:
        for colour in colours(getattr(palettes, name)):
            assert re.fullmatch(r"#[0-9a-f]{6}", colour), f"{name}: {colour}"


def test_every_class_has_a_colour():
    assert list(palettes.EMERGING_COLORS) == list(hotspots.EMERGING_CLASSES)
    assert set(palettes.CAMERA_COLORS) == set(schema.CAMERA_STATUSES)
    assert sorted(palettes.HOT_COLORS) == list(range(-3, 4))
    assert set(palettes.CHANGE_COLORS) == {"added", "changed", "unchanged"}
    assert len(set(palettes.TEAM_COLORS)) == len(palettes.TEAM_COLORS)
