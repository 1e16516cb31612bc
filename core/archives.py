"""Zip archives opened safely: member paths, count, sizes and compression ratios checked before
anything is unpacked, and every member unpacked a chunk at a time, counting, so that no member can
unpack to more than it declares (at most ``core.formats.MAX_UPLOAD_BYTES``) whatever its headers claim.

Used for zipped shapefiles, KMZ and XLSX (``core.vector``, ``core.kml``, ``core.tables``). Member names
that a Chinese Windows zip tool stored in GBK are decoded. Nested archives are never opened:
:func:`single_inner_file` refuses them.

Not here: what is in the members (the readers), the upload's own size (``core.formats.check_size``).
"""

from __future__ import annotations

import re
import zipfile
from io import BytesIO

from core import formats
from core.errors import ReadError
from core.formats import ARCHIVE_KINDS, KINDS, SUPPORTED, basename, file_suffix, megabytes

__all__ = [
    "MAX_COMPRESSION_RATIO",
    "MAX_UNZIPPED_BYTES",
    "MAX_ZIP_MEMBERS",
    "member_name",
    "open_zip",
    "read_member",
    "single_inner_file",
]

MAX_ZIP_MEMBERS = 2_000
MAX_UNZIPPED_BYTES = 2**30
MAX_COMPRESSION_RATIO = 200
_RATIO_FLOOR_BYTES = 2**20  # members smaller than this may compress as well as they like
_CHUNK_BYTES = 2**20  # zip members are unpacked this much at a time, counting
_UTF8_NAME_FLAG = 0x800


def open_zip(name: str, data: bytes) -> tuple[zipfile.ZipFile, list[tuple[str, zipfile.ZipInfo]]]:
    """The archive and its file members as (decoded name, info), after every safety check."""
    try:
        archive = zipfile.ZipFile(BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ReadError(
            f"`{basename(name)}` is not a readable zip archive ({exc}). Create the archive again and upload it.",
            code="zip_unreadable",
            params={"name": basename(name), "reason": str(exc)},
        ) from None
    if len(infos) > MAX_ZIP_MEMBERS:
        raise ReadError(
            f"`{basename(name)}` holds {len(infos):,} files; archives are limited to "
            f"{MAX_ZIP_MEMBERS:,}. Upload only the files of the layer you need.",
            code="zip_too_many_files",
            params={"name": basename(name), "count": f"{len(infos):,}", "limit": f"{MAX_ZIP_MEMBERS:,}"},
        )
    total = sum(info.file_size for info in infos)
    if total > MAX_UNZIPPED_BYTES:
        raise ReadError(
            f"`{basename(name)}` unpacks to {megabytes(total)}; the limit is "
            f"{megabytes(MAX_UNZIPPED_BYTES)} unpacked. Upload fewer or smaller layers.",
            code="zip_too_large",
            params={"name": basename(name), "size": megabytes(total), "limit": megabytes(MAX_UNZIPPED_BYTES)},
        )
    members = []
    for info in infos:
        member = member_name(info)
        _check_member(name, member, info)
        if not info.is_dir() and not _is_junk(member):
            members.append((member, info))
    return archive, members


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's name, also when a Chinese Windows zip tool stored it in GBK without saying so."""
    if info.flag_bits & _UTF8_NAME_FLAG:
        return info.filename
    raw = info.filename.encode("cp437")
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _check_member(name: str, member: str, info: zipfile.ZipInfo) -> None:
    parts = member.replace("\\", "/").split("/")
    archive, inner = basename(name), basename(member)[:80]
    if member.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", member) or ".." in parts:
        raise ReadError(
            f"`{archive}` contains a file with an unsafe path (`{member[:80]}`): archives may not point outside "
            "themselves. Re-create the zip from the layer's files only.",
            code="zip_unsafe_path",
            params={"name": archive, "member": member[:80]},
        )
    if info.file_size > formats.MAX_UPLOAD_BYTES:
        size, limit = megabytes(info.file_size), megabytes(formats.MAX_UPLOAD_BYTES)
        raise ReadError(
            f"`{archive}` contains `{inner}`, which unpacks to {size}; a file may unpack to at most {limit}. "
            "Split the layer (e.g. by street) or simplify its geometry, then upload the parts.",
            code="member_too_big",
            params={"file": archive, "member": inner, "size": size, "limit": limit},
        )
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > _RATIO_FLOOR_BYTES and ratio > MAX_COMPRESSION_RATIO:
        shown = f"{ratio:,.0f}"
        raise ReadError(
            f"`{archive}` contains `{inner}`, compressed {shown}:1 (the limit is {MAX_COMPRESSION_RATIO}:1), "
            "which is how zip bombs look. Upload the layer's files zipped normally.",
            code="zip_bomb",
            params={"name": archive, "member": inner, "ratio": shown, "limit": MAX_COMPRESSION_RATIO},
        )


def _is_junk(member: str) -> bool:
    """macOS resource forks and folders that zip tools add."""
    return member.startswith("__MACOSX/") or basename(member).startswith("._")


def read_member(name: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int | None = None) -> bytes:
    """The member's bytes, unpacked a chunk at a time: more than ``limit`` (what it declares, at most
    ``formats.MAX_UPLOAD_BYTES``) stops the unpacking with ReadError, whatever the archive's headers claim."""
    limit = min(info.file_size, formats.MAX_UPLOAD_BYTES) if limit is None else limit
    chunks, total = [], 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(_CHUNK_BYTES):
                total += len(chunk)
                if total > limit:
                    raise ReadError(
                        f"`{basename(name)}`: the member `{basename(member_name(info))[:80]}` unpacks to "
                        f"more than {megabytes(limit)} (it declares {megabytes(info.file_size)}), so unpacking was "
                        "stopped. The archive is damaged or built to exhaust memory; create the zip again "
                        "from the layer's files.",
                        code="zip_lies",
                        params={
                            "file": basename(name),
                            "member": basename(member_name(info))[:80],
                            "size": megabytes(limit),
                        },
                    )
                chunks.append(chunk)
        return b"".join(chunks)
    except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as exc:
        raise ReadError(
            f"`{basename(name)}`: the member `{basename(member_name(info))[:80]}` cannot "
            f"be unpacked ({exc}). Create the zip again (without a password) and upload "
            "it.",
            code="zip_member_unreadable",
            params={"name": basename(name), "member": basename(member_name(info))[:80], "reason": str(exc)},
        ) from None


def single_inner_file(
    name: str, archive: zipfile.ZipFile, members: list[tuple[str, zipfile.ZipInfo]]
) -> tuple[str, bytes]:
    """The one readable non-shapefile member of an archive (a .txt beside it is taken for a readme;
    archives inside the archive are never opened)."""
    usable = [(m, info) for m, info in members if KINDS.get(file_suffix(m)) not in (None, *ARCHIVE_KINDS)]
    if len(usable) > 1:
        usable = [(m, info) for m, info in usable if file_suffix(m) != ".txt"]
    if len(usable) == 1:
        member, info = usable[0]
        return member, read_member(name, archive, info)
    listed = ", ".join(basename(m)[:60] for m, _ in members[:8]) or "nothing"
    if not usable and any(KINDS.get(file_suffix(m)) in ARCHIVE_KINDS for m, _ in members):
        raise ReadError(
            f"`{basename(name)}` holds only other zip archives ({listed}); archives inside "
            "archives are not opened. Unzip it and upload the inner file.",
            code="zip_only_archives",
            params={"name": basename(name), "listed": listed},
        )
    if not usable:
        raise ReadError(
            f"`{basename(name)}` holds no shapefile (.shp with .shx and .dbf) and no other "
            f"readable layer (it holds: {listed}). Upload {SUPPORTED}.",
            code="zip_no_layer",
            params={"name": basename(name), "listed": listed, "supported": SUPPORTED},
        )
    raise ReadError(
        f"`{basename(name)}` holds several layers in different files ({listed}). Upload them one at a time.",
        code="zip_several_layers",
        params={"name": basename(name), "listed": listed},
    )
