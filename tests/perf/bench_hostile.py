"""Hostile uploads against the read worker: what they cost the server process (issue 15).

    python tests/perf/bench_hostile.py            # not run by the test suite

The server process is this one: it calls ``core.io`` as the Data page and ``gridwatch import`` do, and
its resident memory is sampled every 20 ms. Measured:

* a 5 MB zip holding 1 GB of GeoJSON, declared honestly and with lying headers (claiming 1 MB);
* a GeoPackage whose view runs a recursive CTE for hours (listing its layers, reading its table);
* a normal 150 MB GeoJSON, read in this process (before: how reads ran until now) and through the
  worker (after), for time and memory.

Targets: peak RSS growth of the server ≤ 300 MB and the clear message within 65 s for the hostile files;
the worker no more than 20 % slower than the in-process read of the normal file.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import struct
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import geopandas as gpd  # noqa: E402
import pyogrio  # noqa: E402
import shapely  # noqa: E402

from core import formats  # noqa: E402
from core import io as gio  # noqa: E402
from core.errors import ReadError  # noqa: E402

MB = 2**20


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


class Peak:
    """Peak resident memory growth of this process while the block runs."""

    def __enter__(self):
        self.base = self.peak = rss_mb()
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        self.started = time.perf_counter()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, rss_mb())
            time.sleep(0.02)

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
        self.running = False
        self.thread.join()
        self.growth = self.peak - self.base
        return False


def feature_text(i: int) -> str:
    return json.dumps(
        {
            "type": "Feature",
            "properties": {"ticket_id": f"T{i:09d}", "category": "市容环境", "description": "占道经营，影响通行" * 6},
            "geometry": {"type": "Point", "coordinates": [120.1 + (i % 1000) * 1e-4, 30.2 + (i // 1000 % 1000) * 1e-4]},
        },
        ensure_ascii=False,
    )


def geojson_of(size: int) -> bytes:
    parts, total, i = ['{"type": "FeatureCollection", "features": ['], 0, 0
    while total < size:
        text = feature_text(i) + ","
        parts.append(text)
        total += len(text.encode())
        i += 1
    parts[-1] = parts[-1].rstrip(",")
    parts.append("]}")
    return "".join(parts).encode()


def gigabyte_zip(size: int = 10**9) -> bytes:
    """A zip of one GeoJSON member of ``size`` bytes, written in chunks (the 1 GB is never in memory)."""
    buffer = io.BytesIO()
    chunk = ("".join(feature_text(i) + "," for i in range(2_000))).encode()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("tickets.geojson", "w") as member,
    ):
        member.write(b'{"type": "FeatureCollection", "features": [')
        written = 0
        while written < size:
            member.write(chunk)
            written += len(chunk)
        member.write(feature_text(0).encode() + b"]}")
    return buffer.getvalue()


def lying(data: bytes, claimed: int) -> bytes:
    """``data`` (a one-member archive) with its local and central headers claiming ``claimed`` unpacked
    bytes."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = out.find(signature)
        out[at + offset : at + offset + 4] = struct.pack("<I", claimed)
    return bytes(out)


def cte_gpkg() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cte.gpkg"
        frame = gpd.GeoDataFrame({"code": ["a"]}, geometry=[shapely.box(120, 30, 120.01, 30.01)], crs=4326)
        pyogrio.write_dataframe(frame, path, layer="grids")
        with sqlite3.connect(path) as db:
            db.execute(
                "CREATE VIEW slow AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                "WHERE i < 10000000000) SELECT i AS fid, (SELECT geom FROM grids) AS geom FROM n"
            )
            db.execute(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
                "VALUES ('slow', 'features', 'slow', 4326)"
            )
            db.execute("INSERT INTO gpkg_geometry_columns VALUES ('slow', 'geom', 'POINT', 4326, 0, 0)")
        return path.read_bytes()


def attempt(label: str, call) -> None:
    with Peak() as peak:
        try:
            result = call()
            outcome = f"read {len(result.frame):,} features" if hasattr(result, "frame") else f"layers {result}"
        except ReadError as exc:
            outcome = f"ReadError: {str(exc)[:110]}"
    print(f"{label:38} {peak.seconds:7.2f} s   peak RSS +{peak.growth:7.1f} MB   {outcome}")


def main() -> None:
    print(
        f"read worker limits: {os.environ.get('GRIDWATCH_READ_MEMORY_MB', '1024')} MB, "
        f"{os.environ.get('GRIDWATCH_READ_SECONDS', '60')} s"
    )
    gio.list_layers("warm.csv", b"lon,lat\n120,30\n")  # the fork server starts once per process
    bomb = gigabyte_zip()
    print(f"zip of 1 GB GeoJSON: {len(bomb) / MB:.1f} MB")
    attempt("1 GB zip, honest headers", lambda: gio.read_upload("bomb.zip", bomb))  # noqa: F821 (deleted below, after the call)
    liar = lying(bomb, MB)
    attempt("1 GB zip, headers claim 1 MB", lambda: gio.read_upload("liar.zip", liar))  # noqa: F821 (deleted below, after the call)
    del bomb, liar
    gpkg = cte_gpkg()
    attempt("CTE-view GeoPackage: list layers", lambda: gio.list_layers("cte.gpkg", gpkg))
    attempt("CTE-view GeoPackage: read", lambda: gio.read_upload("cte.gpkg", gpkg))
    attempt("CTE-view GeoPackage: read the view", lambda: gio.read_upload("cte.gpkg", gpkg, layer="slow"))
    normal = geojson_of(150 * MB)
    print(f"normal GeoJSON: {len(normal) / MB:.0f} MB")
    with Peak() as after:
        frame = gio.read_upload("normal.geojson", normal).frame
    del frame
    with Peak() as before:
        frame = gio._read("normal.geojson", normal, formats.ReadOptions(), None).frame
    del frame
    print(f"{'150 MB GeoJSON, in process (before)':38} {before.seconds:7.2f} s   peak RSS +{before.growth:7.1f} MB")
    print(
        f"{'150 MB GeoJSON, read worker (after)':38} {after.seconds:7.2f} s   peak RSS +{after.growth:7.1f} MB"
        f"   {after.seconds / before.seconds - 1:+.0%} time against in process"
    )


if __name__ == "__main__":
    main()
