"""Personal data hidden before it reaches a browser or a download (PIPL): phone and ID numbers.

:func:`mask_phone` hides a phone number field (138****1234). :func:`mask_text` finds the numbers inside
free text — a resident's description of a ticket — and hides them the same way: resident ID numbers
(18 digits, the last may be X; the old 15-digit ones), mobile numbers (1[3-9] and 9 digits, with or
without +86 and separators), landlines (0 + area code + 7–8 digits) and any other run of 12 or more
digits (bank cards). Only the first three and last four characters stay. The store keeps the text as it
arrived; the dashboard masks what it reads (``dashboard.data.joined``).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["FREE_TEXT_COLUMNS", "mask_phone", "mask_text", "mask_free_text"]

FREE_TEXT_COLUMNS = ("description",)  # schema.DESCRIPTION: untrusted text in the reporter's words

_NUMBERS = re.compile(
    r"(?<![0-9A-Za-z])(?:"
    r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"  # ID number, 18
    r"|[1-9]\d{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}"  # ID number, 15 (before 1999)
    r"|(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}"  # mobile
    r"|0\d{2,3}[\s-]?\d{7,8}"  # landline with area code
    r"|\d{12,}"  # bank cards and other long numbers
    r")(?![0-9A-Za-z])")


def mask_phone(value: object) -> str:
    """A phone number with all but its first three and last four digits hidden (138****1234).

    A +86 prefix is dropped first. Numbers of fewer than eight digits keep only their last two;
    anything that is not a number is hidden entirely. Empty values give "".
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    digits = re.sub(r"\D", "", str(value))
    if len(digits) == 13 and digits.startswith("86"):  # +86 country code
        digits = digits[2:]
    if len(digits) >= 8:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    if len(digits) >= 3:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "****" if str(value).strip() else ""


def _hide(match: re.Match) -> str:
    text = re.sub(r"^\+?86[\s-]?(?=1)", "", match.group(0))
    characters = re.sub(r"[\s-]", "", text)
    return characters[:3] + "*" * (len(characters) - 7) + characters[-4:]


def mask_text(value: object) -> object:
    """``value`` with every phone, ID and long number in it masked; not text (None, NaN) as it is."""
    return _NUMBERS.sub(_hide, value) if isinstance(value, str) else value


def mask_free_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its free-text columns (:data:`FREE_TEXT_COLUMNS`) masked; the same frame when it
    has none."""
    present = [c for c in FREE_TEXT_COLUMNS if c in frame.columns]
    if not present:
        return frame
    masked = frame.copy()
    for column in present:
        masked[column] = masked[column].map(mask_text)
    return masked
