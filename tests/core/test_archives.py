"""core.archives: unsafe paths, zip bombs, member counts and unpacked sizes, nested archives."""

from __future__ import annotations

import pytest
from test_io import (
    shapefile_parts,
    zipped,
)

from core import archives
from core.errors import ReadError
from core.io import read_upload


@pytest.mark.parametrize("member", ["../evil.shp", "a/../../evil.shp", "/etc/evil.shp", "C:/evil.shp", "..\\evil.shp"])
def test_zip_slip_is_refused(member, tmp_path, provinces):
    parts = shapefile_parts(provinces, tmp_path)
    data = zipped({**{f"layer{s}": b for s, b in parts.items()}, member: b"x"})
    with pytest.raises(ReadError, match="unsafe path"):
        read_upload("slip.zip", data)


def test_zip_bomb_is_refused():
    data = zipped({"bomb.shp": b"\0" * (20 * 2**20), "bomb.shx": b"", "bomb.dbf": b""})
    assert len(data) < 100_000
    with pytest.raises(ReadError, match=r"compressed .*:1 \(the limit is 200:1\)"):
        read_upload("bomb.zip", data)


def test_zip_member_count_and_unpacked_size_limits(monkeypatch, in_process):
    data = zipped({f"f{i}.txt": b"x" * 100 for i in range(5)})
    monkeypatch.setattr(archives, "MAX_ZIP_MEMBERS", 4)
    with pytest.raises(ReadError, match="holds 5 files; archives are limited to 4"):
        read_upload("many.zip", data)
    monkeypatch.setattr(archives, "MAX_ZIP_MEMBERS", 2000)
    monkeypatch.setattr(archives, "MAX_UNZIPPED_BYTES", 400)
    with pytest.raises(ReadError, match="unpacks to"):
        read_upload("big.zip", data)


def test_nested_zip_is_not_opened():
    inner = zipped({"a.csv": b"lon,lat\n1,2\n"})
    with pytest.raises(ReadError, match="archives inside archives are not opened"):
        read_upload("outer.zip", zipped({"inner.zip": inner}))
