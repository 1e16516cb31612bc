"""The i18n catalog: every user-visible string, in English and Simplified Chinese.

Strings live in ``dashboard/locales/<lang>.json`` with the same keys in every language (a test checks).
``translate`` is pure; ``t`` uses the language picked in the sidebar, which defaults to the browser's.
Enumerated codes from ``core.schema`` (``stage.closed``, ``site_kind.intersection``…) have entries too,
so data values can be shown in the reader's language. Errors and notes from ``core`` carry a ``code``
and ``params``: ``error_text``/``message_text`` word them from ``error.<code>``/``message.<code>``, and
``show_error`` is the one way a page shows a ``GridWatchError``.
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


PLURAL_VALUES = ("count", "n")
"""The value that picks a plural form: an entry may be ``{"one": …, "other": …}`` (English counts);
``one`` is used when that value is 1."""


def translate(lang: str, key: str, **values: object) -> str:
    """The text for ``key`` in ``lang`` with ``values`` filled in; the key itself if it is unknown."""
    text = catalog(lang).get(key)
    if text is None:
        text = catalog("en").get(key, key)
    if isinstance(text, dict):
        count = next((values[v] for v in PLURAL_VALUES if v in values), None)
        text = text["one" if str(count).replace(",", "") == "1" else "other"]
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


def _layer_name(lang: str, layer: str) -> str:
    return catalog(lang).get(f"layer.{layer}", f"`{layer}`")


def _coded(prefix: str, code: str, params: dict, english: str) -> str:
    """The catalog's ``<prefix>.<code>`` in the reader's language; ``english`` where there is none.
    A ``layer`` parameter is shown by its name in the catalog (``layer.tickets`` → "Tickets")."""
    lang, key = current_language(), f"{prefix}.{code}"
    if not code or key not in catalog(lang):
        return english
    if "layer" in params:
        params = {**params, "layer": _layer_name(lang, params["layer"])}
    try:
        return translate(lang, key, **params)
    except (KeyError, IndexError, ValueError):  # a wording that wants a parameter this raise site lacks
        return english


def error_text(exc: BaseException) -> str:
    """A ``core.errors.GridWatchError`` worded in the reader's language (a ``ValidationError`` lists its
    problems, each in the reader's language)."""
    text = _coded("error", getattr(exc, "code", ""), getattr(exc, "params", {}), str(exc))
    problems = getattr(exc, "problems", None)
    if problems and getattr(exc, "code", "") and f"error.{exc.code}" in catalog(current_language()):
        lines = []
        for problem in problems:
            what, fix = problem_text(problem)
            where = _layer_name(current_language(), problem.layer) + (f" `{problem.column}`" if problem.column else "")
            if problem.rows:
                where += " (" + ", ".join(problem.rows[:10]) + ("…" if len(problem.rows) > 10 else "") + ")"
            lines.append(t("error.problem_line", where=where, what=what, fix=fix))
        text = "\n\n".join([text, *lines])
    return text


def message_text(message: object) -> str:
    """A note or confirmation from ``core`` (a ``core.errors.Message``, or plain English text) in the
    reader's language."""
    return _coded("message", getattr(message, "code", ""), getattr(message, "params", {}), str(message))


def show_error(exc: BaseException, box=None) -> None:
    """Show ``exc`` (a ``GridWatchError``) with ``st.error`` (or ``box.error``) in the reader's language,
    as literal text."""
    from dashboard.components.text import md_text

    (box or st).error(md_text(error_text(exc)))


def problem_text(problem) -> tuple[str, str]:
    """A ``core.errors.Problem`` as (what, fix) in the reader's language; the English wording from
    ``core`` where the catalog has no entry for its code."""
    lang = current_language()
    what_key, fix_key = f"problem.{problem.code}.what", f"problem.{problem.code}.fix"
    if lang == "en" or not problem.code or what_key not in catalog(lang):
        return problem.what, problem.fix
    return (translate(lang, what_key, **problem.params), translate(lang, fix_key, **problem.params))
