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


@pytest.mark.parametrize(("group", "codes"), [
    ("stage", schema.TICKET_STAGES), ("source", schema.TICKET_SOURCES), ("site_kind", schema.SITE_KINDS),
    ("camera_status", schema.CAMERA_STATUSES), ("service_kind", schema.SERVICE_KINDS),
    ("satisfaction", schema.SATISFACTIONS), ("member_status", schema.MEMBER_STATUSES),
    ("member_kind", schema.MEMBER_KINDS), ("gender", schema.GENDERS), ("shift", schema.SHIFTS),
])
def test_every_schema_code_has_a_label_in_both_languages(group, codes):
    for lang in i18n.LANGUAGES:
        assert all(f"{group}.{code}" in i18n.catalog(lang) for code in codes)


def test_translate_fills_values_and_falls_back():
    assert i18n.translate("zh", "sidebar.as_of", date="2026-10-31", version=3) == "数据截至 2026-10-31 · 版本 3"
    assert i18n.translate("zh", "no.such.key") == "no.such.key"


@pytest.mark.parametrize(("locale", "lang"), [("zh-CN", "zh"), ("zh-TW", "zh"), ("en-GB", "en"),
                                              ("fr-FR", "zh"), (None, "zh")])
def test_browser_locale_picks_the_language(locale, lang):
    assert i18n.language_from_locale(locale) == lang
