"""Widget and session-state keys live in ``dashboard.state``: no page or component spells one out."""

from __future__ import annotations

import re
from pathlib import Path

from dashboard import state

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"
SOURCES = sorted([*(DASHBOARD / "views").glob("*.py"), *(DASHBOARD / "components").glob("*.py")])
RAW_KEY = re.compile(r"""\bkey\s*=\s*[rbfu]*["']""")  # key="…", key=f"…", key='…'
RAW_GW = re.compile(r"""[rbfu]*["']gw_""")  # a "gw_…" literal passed as a key or a key prefix


def test_no_widget_key_is_a_string_literal_in_views_or_components():
    assert SOURCES
    found = [
        f"{path.relative_to(DASHBOARD)}:{number}: {line.strip()}"
        for path in SOURCES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if RAW_KEY.search(line) or RAW_GW.search(line)
    ]
    assert found == [], "use a constant of dashboard/state.py:\n" + "\n".join(found)


def test_a_family_key_is_its_prefix_and_parts_joined():
    assert state.key_of(state.HOT_FILTER, "category") == "gw_hot_category"
    assert state.key_of(state.HOT_MAP, "hex", 9) == "hot_map_hex_9"
    assert state.key_of(state.UPLOAD_FILE, "tickets", 0) == "gw_upload_tickets_0"
