"""Text encodings of uploaded files: which one a file uses, read from the file or detected.

Chinese shapefiles are often GBK with no .cpg file; read with GDAL's default they turn into mojibake
without any error. A DBF's encoding is taken, in order, from the user, a .cpg/.cst file, a Chinese (or
other CJK) code page in the DBF header's language driver byte, else detected from the text itself:
strict UTF-8 first (GBK text is almost never valid UTF-8), then GBK, then GB18030. Text files (CSV,
JSON) are read the same way after looking for a byte-order mark (:func:`decode_upload` says what to
pick when neither fits).

Not here: reading the text as a table (``core.tables``) or a shapefile (``core.vector``).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass

from core.errors import Message, ReadError
from core.formats import basename

__all__ = ["codec_name", "decode_text", "decode_upload", "repair_dbf_text", "shapefile_encoding", "text_notes"]

# DBF header byte 29 (language driver id) → codec: CJK code pages are trusted, Western ones confirmed
_LDID_CJK = {
    0x4D: "gbk",
    0x7A: "gbk",
    0x4F: "big5",
    0x78: "big5",
    0x4E: "cp949",
    0x79: "cp949",
    0x13: "cp932",
    0x7B: "cp932",
}
_LDID_OTHER = {
    0x01: "cp437",
    0x02: "cp850",
    0x03: "cp1252",
    0x57: "cp1252",
    0x64: "cp852",
    0x65: "cp866",
    0xC8: "cp1250",
    0xC9: "cp1251",
    0xCA: "cp1254",
    0xCB: "cp1253",
}
_CODE_PAGE_ALIASES = {
    "65001": "utf-8",
    "936": "gbk",
    "gb2312": "gbk",
    "54936": "gb18030",
    "950": "big5",
    "88591": "latin-1",
}

_SAMPLE_RECORDS = 20_000  # DBF records looked at to detect the text encoding
_DETECTED = ("utf-8", "gbk", "gb18030")  # tried in this order
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def codec_name(label: str) -> str | None:
    """The Python codec for an encoding label ("UTF-8", "936", "ANSI 936", "CP936", "GBK" …), or None."""
    text = label.strip().lower()
    if re.search(r"\d", text):
        text = re.sub(r"^(ansi|oem|cp)[\s_-]*", "", text)
    text = _CODE_PAGE_ALIASES.get(text, text)
    try:
        return codecs.lookup(f"cp{text}" if text.isdigit() else text).name
    except LookupError:
        return None


def decode_text(data: bytes, chosen: str | None) -> tuple[str, str, str]:
    """(text, encoding, origin) of a text file: the ``chosen`` codec ("user"), a byte-order mark
    ("file"), else strict UTF-8, GBK or GB18030 ("detected"). Raises UnicodeDecodeError when the chosen
    encoding, or none of the detected ones, fits."""
    if chosen:
        bom = codecs.BOM_UTF8 if chosen == "utf-8" and data.startswith(codecs.BOM_UTF8) else b""
        return data[len(bom) :].decode(chosen), chosen, "user"
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding), encoding, "file"
    for encoding in _DETECTED[:-1]:
        try:
            return data.decode(encoding), encoding, "detected"
        except UnicodeDecodeError:
            continue
    return data.decode(_DETECTED[-1]), _DETECTED[-1], "detected"


def decode_upload(name: str, data: bytes, chosen: str | None) -> tuple[str, str, str]:
    """(text, encoding, origin) of a text upload (see ``decode_text``), or ReadError."""
    try:
        return decode_text(data, chosen)
    except UnicodeDecodeError as exc:
        if chosen:
            raise ReadError(
                f"`{basename(name)}` is not valid {chosen.upper()} text (byte {exc.start:,} "
                "does not fit). Pick another encoding, e.g. UTF-8 or GBK.",
                code="text_encoding",
                params={"name": basename(name), "encoding": chosen.upper(), "byte": f"{exc.start:,}"},
            ) from None
        raise ReadError(
            f"`{basename(name)}` is neither UTF-8 nor GBK/GB18030 text. Save it as UTF-8 (in "
            "Excel: CSV UTF-8) or pick the encoding it was saved in.",
            code="text_not_utf8_gbk",
            params={"name": basename(name)},
        ) from None


def text_notes(encoding: str, origin: str) -> list[str]:
    """A note when text was read as anything but plain UTF-8."""
    if encoding in ("utf-8", "utf-8-sig") and origin != "user":
        return []
    if origin == "user":
        return [
            Message(
                f"read as {encoding.upper()} (as chosen)", code="read_as_chosen", params={"encoding": encoding.upper()}
            )
        ]
    return [Message(f"read as {encoding.upper()}", code="read_as", params={"encoding": encoding.upper()})]


def shapefile_encoding(parts: dict[str, bytes], override: str | None) -> tuple[str, str, list[str], list[str]]:
    """(encoding, origin, notes, confirm) for a shapefile's DBF, given its parts by suffix: the user's
    codec, the .cpg/.cst file's, a CJK code page in the DBF header, else detected from the text. A
    Western code page in the header is used but must be confirmed: ArcGIS writes "ANSI" there whatever
    the writing system's code page was, GBK included."""
    if override:
        note = Message(_read_as(override, "as chosen"), code="dbf_as_chosen", params={"encoding": override.upper()})
        return override, "user", [note], []
    for suffix in (".cpg", ".cst"):
        declared = codec_name(parts[suffix][:64].decode("ascii", errors="ignore")) if suffix in parts else None
        if declared:
            params = {"encoding": declared.upper(), "file": suffix}
            note = Message(_read_as(declared, f"from the {suffix} file"), code="dbf_from_cpg", params=params)
            return declared, "file", [note], []
    dbf = parts[".dbf"]
    ldid = dbf[29] if len(dbf) > 29 else 0
    if ldid in _LDID_CJK:
        codec = _LDID_CJK[ldid]
        note = Message(
            _read_as(codec, "code page in the DBF header"), code="dbf_from_header", params={"encoding": codec.upper()}
        )
        return codec, "file", [note], []
    samples = _dbf_text(dbf)
    if all(s.isascii() for s in samples):
        return "utf-8", "detected", [], []
    detected, failures = _detect(samples)
    if ldid in _LDID_OTHER and not (detected == "utf-8" and failures == 0):
        codec = _LDID_OTHER[ldid]
        western = Message(
            f"the DBF header says its text is {codec.upper()}, a Western code page; if names look "
            "garbled, pick the encoding the file was saved in (Chinese files are often GBK)",
            code="dbf_western",
            params={"encoding": codec.upper()},
        )
        note = Message(
            _read_as(codec, "code page in the DBF header"), code="dbf_from_header", params={"encoding": codec.upper()}
        )
        return codec, "file", [note], [western]
    confirm: list[str] = (
        [
            Message(
                f"{failures} text value(s) are not valid {detected.upper()}; if names look garbled, pick "
                "the encoding the file was saved in",
                code="dbf_invalid_text",
                params={"count": failures, "encoding": detected.upper()},
            )
        ]
        if failures
        else []
    )
    how = "detected; the shapefile has no .cpg file"
    note = Message(_read_as(detected, how), code="dbf_detected", params={"encoding": detected.upper()})
    return detected, "detected", [note], confirm


def _read_as(codec: str, how: str) -> str:
    """The note that the attribute table is read as ``codec`` (found ``how``)."""
    return f"read the attribute table as {codec.upper()} ({how})"


def repair_dbf_text(dbf: bytes, encoding: str) -> tuple[bytes, int, int]:
    """(dbf, broken values, non-ASCII values) with every byte that is not valid ``encoding`` text
    replaced by "?" (or by a space where a character was cut off at the end of its field), keeping the
    DBF's layout. GDAL passes UTF-8 text through unchecked, and pyogrio refuses invalid UTF-8."""
    repaired = bytearray(dbf)
    broken = non_ascii = 0
    for part in _dbf_layout(dbf).text_slices():
        value = bytes(repaired[part]).rstrip(b" \0")
        if value.isascii():
            continue
        non_ascii += 1
        fixed = _valid_text(value, encoding)
        if fixed != value:
            broken += 1
            repaired[part.start : part.start + len(fixed)] = fixed
    return bytes(repaired), broken, non_ascii


def _detect(samples: list[bytes]) -> tuple[str, int]:
    """(encoding, values that fail to decode): UTF-8 if all decode strictly, else GBK/GB18030.

    GBK text is almost never valid UTF-8, so a clean UTF-8 decode is trusted first. A value cut in the
    middle of a character by the DBF field width still counts as valid.
    """
    text = [s for s in samples if not s.isascii()]
    failures = {enc: sum(not _decodes(s, enc) for s in text) for enc in _DETECTED}
    for encoding, failed in failures.items():
        if failed == 0:
            return encoding, 0
    best = min(failures, key=lambda encoding: failures[encoding])
    return best, failures[best]


def _decodes(value: bytes, encoding: str) -> bool:
    for cut in range(4):  # a field may end in the middle of a multi-byte character
        try:
            value[: len(value) - cut].decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


@dataclass(frozen=True)
class _DbfLayout:
    """Where a DBF keeps its records and the text (type C) fields within each record."""

    names: tuple[bytes, ...]
    text_fields: tuple[tuple[int, int], ...]  # (offset in the record, width)
    n_records: int
    header_len: int
    record_len: int

    def text_slices(self, limit: int | None = None) -> Iterator[slice]:
        """Byte ranges of every text field of the first ``limit`` records (all by default)."""
        records = self.n_records if limit is None else min(self.n_records, limit)
        for record in range(records):
            base = self.header_len + record * self.record_len
            for offset, width in self.text_fields:
                yield slice(base + offset, base + offset + width)


def _dbf_layout(dbf: bytes) -> _DbfLayout:
    if len(dbf) < 32:
        return _DbfLayout((), (), 0, 0, 0)
    header_len = int.from_bytes(dbf[8:10], "little")
    names, fields, offset = [], [], 1  # byte 0 of a record is its deletion flag
    for start in range(32, min(header_len, len(dbf)) - 31, 32):
        descriptor = dbf[start : start + 32]
        if descriptor[0] == 0x0D:
            break
        names.append(descriptor[:11].split(b"\0", 1)[0])
        if descriptor[11:12] == b"C":
            fields.append((offset, descriptor[16]))
        offset += descriptor[16]
    return _DbfLayout(
        tuple(names),
        tuple(fields),
        int.from_bytes(dbf[4:8], "little"),
        header_len,
        int.from_bytes(dbf[10:12], "little"),
    )


def _dbf_text(dbf: bytes) -> list[bytes]:
    """The non-empty text values (and field names) of a DBF's text fields, from its first records."""
    layout = _dbf_layout(dbf)
    values = [dbf[part].strip(b" \0") for part in layout.text_slices(_SAMPLE_RECORDS)]
    return [n for n in layout.names if n] + [v for v in values if v]


def _valid_text(value: bytes, encoding: str) -> bytes:
    """``value`` with invalid bytes as "?" and a cut-off last character as spaces (same length)."""
    text = bytearray(value)
    while True:
        try:
            text.decode(encoding)
            return bytes(text)
        except UnicodeDecodeError as exc:
            cut_at_end = exc.end == len(text) and "end of data" in exc.reason
            text[exc.start : exc.end] = (b" " if cut_at_end else b"?") * (exc.end - exc.start)
