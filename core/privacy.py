"""Personal data hidden before it reaches a browser or a download (PIPL): phone and ID numbers.

:func:`mask_phone` hides a phone number field (138****1234). :func:`mask_text` finds the numbers inside
free text — a resident's description of a ticket — and hides them the same way: resident ID numbers
(18 digits, the last may be X; the old 15-digit ones), mobile numbers (1[3-9] and 9 digits, with or
without +86, separated by spaces, dots or dashes), landlines (0 + area code, bracketed or not, + 7–8
digits), local numbers the text calls a phone (电话 88889999) and any other run of 12 or more digits
(bank cards); full-width digits count. Only the first three and last four characters stay (the last
two of a local number). The store keeps the text as it
arrived; the dashboard masks what it reads (``dashboard.data.joined``).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["FREE_TEXT_COLUMNS", "mask_every_text", "mask_free_text", "mask_phone", "mask_text"]

FREE_TEXT_COLUMNS = ("description",)  # schema.DESCRIPTION: untrusted text in the reporter's words

_SEP = r"[\s.\-]?"
_NUMBERS = re.compile(
    r"(?<![0-9])(?:"
    r"[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]"  # ID, 18
    r"|[1-9][0-9]{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}"  # ID number, 15 (before 1999)
    rf"|(?:\+?86{_SEP})?1[3-9][0-9]{_SEP}[0-9]{{4}}{_SEP}[0-9]{{4}}"  # mobile
    rf"|\(?0[0-9]{{2,3}}\)?{_SEP}[0-9]{{3,4}}{_SEP}[0-9]{{4}}"  # landline with area code
    r"|[0-9]{12,}"  # bank cards and other long numbers
    r")(?![0-9])"
)
# A local number without area code, only where the text says it is one (电话 88889999, Tel: 8888999).
_LOCAL = re.compile(r"(?i)((?:电话|座机|固话|联系方式|联系电话|tel|phone)[:：\s]*)([0-9]{7,8})(?![0-9])")
_WIDE_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")  # typed with a Chinese input method


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
    text = re.sub(r"^\+?86[\s.\-]?(?=1)", "", match.group(0))
    characters = re.sub(r"[\s.\-()]", "", text)
    return characters[:3] + "*" * (len(characters) - 7) + characters[-4:]


def mask_text(value: object) -> object:
    """``value`` with every phone, ID and long number in it masked (full-width digits are read as digits);
    not text (None, NaN) as it is."""
    if not isinstance(value, str):
        return value
    text = _NUMBERS.sub(_hide, value.translate(_WIDE_DIGITS))
    return _LOCAL.sub(lambda m: m.group(1) + "*" * (len(m.group(2)) - 2) + m.group(2)[-2:], text)


def mask_free_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its free-text columns (:data:`FREE_TEXT_COLUMNS`) masked, each keeping its dtype
    (a text column of only missing values stays text); the same frame when it has none."""
    present = [c for c in FREE_TEXT_COLUMNS if c in frame.columns]
    if not present:
        return frame
    masked = frame.copy()
    for column in present:
        masked[column] = masked[column].map(mask_text).astype(masked[column].dtype)
    return masked


def mask_every_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text column masked: for rows of a file as it came (its own headers, so the
    free-text column is not known by name), e.g. the rows an upload left out."""
    masked = pd.DataFrame(frame).copy()
    for column in masked.columns:
        if masked[column].dtype == object or pd.api.types.is_string_dtype(masked[column]):
            masked[column] = masked[column].map(mask_text)
    return masked
