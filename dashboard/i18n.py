"""The i18n catalog: every user-visible string, in English and Simplified Chinese.

Strings live in ``dashboard/locales/<lang>.json`` with the same keys in every language (a test checks).
``translate`` is pure; ``t`` uses the language picked in the sidebar, which defaults to the browser's.
Enumerated codes from ``core.schema`` (``stage.closed``, ``site_kind.intersection``…) have entries too,
so data values can be shown in the reader's language.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import streamlit as st

from dashboard import state

LANGUAGES = {"zh": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh"
_LOCALES = Path(__file__).parent / "locales"


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    return json.loads((_LOCALES / f"{lang}.json").read_text(encoding="utf-8"))


def translate(lang: str, key: str, **values: object) -> str:
    """The text for ``key`` in ``lang`` with ``values`` filled in; the key itself if it is unknown."""
    text = catalog(lang).get(key)
    if text is None:
        text = catalog("en").get(key, key)
    return text.format(**values) if values else text


def language_from_locale(locale: str | None) -> str:
    """Map a browser locale (``zh-CN``, ``en-US``…) to a catalog language."""
    if locale:
        prefix = locale.split("-")[0].lower()
        if prefix in LANGUAGES:
            return prefix
    return DEFAULT_LANGUAGE


def current_language() -> str:
    if state.LANGUAGE not in st.session_state:
        st.session_state[state.LANGUAGE] = language_from_locale(st.context.locale)
    return st.session_state[state.LANGUAGE]


def t(key: str, **values: object) -> str:
    """The text for ``key`` in the reader's language."""
    return translate(current_language(), key, **values)



def problem_text(problem) -> tuple[str, str]:
    """A ``core.errors.Problem`` as (what, fix) in the reader's language; the English wording from
    ``core`` where the catalog has no entry for its code."""
    lang = current_language()
    what_key, fix_key = f"problem.{problem.code}.what", f"problem.{problem.code}.fix"
    if lang == "en" or not problem.code or what_key not in catalog(lang):
        return problem.what, problem.fix
    return (translate(lang, what_key, **problem.params), translate(lang, fix_key, **problem.params))


def error_text(exc: Exception) -> str:
    """A ``GridWatchError`` in the reader's language: a ``ReadError`` with a ``code`` the catalog knows
    (``readerror.<code>``) is translated with its ``params``; any other error keeps its English message."""
    key = f"readerror.{getattr(exc, 'code', '')}"
    lang = current_language()
    if key in catalog(lang):
        return translate(lang, key, **getattr(exc, "params", {}))
    return str(exc)
