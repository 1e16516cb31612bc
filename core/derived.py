"""Derived data computed once per data state and kept beside the workspace, so that a server restart
loads it instead of computing it again.

What is kept: the point layers joined to grids (grid, community, street, the grid at creation for
tickets, free text masked), the grids simplified for display, the raster of the grids'
``GridIndex`` and the per-grid tables of the Coverage page — what every page starts from and
what took most of a cold start (on the 20,000-grid city: reading, joining, masking and placing 1M
tickets in the boundaries of their day, and simplifying the grids, about 30 s; loading them back 2 s).

Each entry is a GeoParquet file under ``GRIDWATCH_HOME/derived/<workspace>/`` named by its **key**:
the version in which each input last changed and that version's creation time (``content_key``), so
an entry is found again after a restart, survives versions that change other layers (a roster save, a
new camera file), and is never mistaken for the data of a deleted workspace that had the same name,
or of a version number reused after a rollback; plus ``FORMAT``, raised whenever the way an entry is
computed changes. Entries are written whole (a temporary file renamed into place) in a background
thread, so the first page after a change does not wait for the write; a key nobody asks for any more
is removed when a newer entry of the same kind is saved. Any unreadable entry is computed again.

This applies to both stores: with PostGIS, the files are this machine's cache of its database.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from core import joins, settings, store

__all__ = ["FORMAT", "cached", "cached_index", "clear", "content_key", "directory", "wait_for_writes"]

FORMAT = 1
"""Raised when a derived entry's computation changes, so entries of an older GridWatch are not used."""

Frame = TypeVar("Frame", bound=pd.DataFrame)
_log = logging.getLogger(__name__)
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")
_writing: set[Path] = set()
_writing_lock = threading.Lock()


def directory(workspace: str, home: Path | None = None) -> Path:
    """Where the derived data of ``workspace`` is kept (under ``home``, by default ``GRIDWATCH_HOME``)."""
    return (home or settings.home()) / "derived" / workspace


def content_key(ws: store.Store, ver: int, layers: Sequence[str]) -> str:
    """A name for the content of ``layers`` at version ``ver``: for each, the version in which it last
    changed (at or before ``ver``) and when that version was made."""
    history = [info for info in ws.history() if info.version <= ver]  # newest first
    parts = []
    for layer in layers:
        info = next((i for i in history if layer in i.changed), None)
        parts.append(f"{layer}{info.version}-{info.created_at:%Y%m%dT%H%M%S%f}" if info else f"{layer}0")
    return _SAFE.sub("_", "_".join(parts))


def cached(ws: store.Store, kind: str, key: str, compute: Callable[[], Frame]) -> Frame:
    """The ``kind`` entry (e.g. ``joined-tickets``) of ``key`` loaded from disk, or ``compute()``d and
    saved in the background when there is none (or it cannot be read). A GeoDataFrame comes back as
    one, a DataFrame (a per-grid table) as a DataFrame."""
    folder = directory(ws.name)
    path = folder / f"{kind}.{key}.f{FORMAT}.parquet"
    if path.exists():
        try:
            if b"geo" in (pq.read_schema(path).metadata or {}):
                return gpd.read_parquet(path)
            return pd.read_parquet(path)
        except Exception:  # a damaged or foreign file is only a cache: compute again and replace it
            _log.warning("derived entry %s is unreadable; computing it again", path.name, exc_info=True)
            path.unlink(missing_ok=True)
    frame = compute()
    with _writing_lock:
        if path in _writing:
            return frame
        _writing.add(path)
    threading.Thread(target=_save, args=(frame, path, kind), name=f"derived-{kind}", daemon=True).start()
    return frame


def cached_index(ws: store.Store, key: str, grids: gpd.GeoDataFrame) -> joins.GridIndex:
    """The ``GridIndex`` of ``grids`` (whose content ``key`` names): its raster loaded (memory-mapped,
    so only the cells a lookup touches are read) when kept, else built and kept."""
    folder = directory(ws.name)
    raster, meta = folder / f"grid-index.{key}.f{FORMAT}.npy", folder / f"grid-index.{key}.f{FORMAT}.json"
    if raster.exists():
        try:
            where = json.loads(meta.read_text())
            labels = np.load(raster, mmap_mode="r")
            if labels.shape == tuple(where["shape"]):
                return joins.GridIndex.from_raster(grids, labels, tuple(where["origin"]), where["cell_size"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        _log.warning("derived entry %s is unreadable; building the index again", raster.name)
    index = joins.GridIndex.from_grids(grids)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("grid-index.*"):
            old.unlink(missing_ok=True)
        meta.write_text(json.dumps({"origin": index.origin, "cell_size": index.cell_size, "shape": index.labels.shape}))
        draft = raster.with_name(f".{raster.name}.{os.getpid()}")
        with open(draft, "wb") as f:
            np.save(f, index.labels)
        os.replace(draft, raster)  # written last: the entry exists once its raster does
    except OSError:
        _log.warning("could not keep derived entry %s", raster.name, exc_info=True)
    return index


def _save(frame: pd.DataFrame, path: Path, kind: str) -> None:
    draft = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not isinstance(frame, gpd.GeoDataFrame):
            frame.to_parquet(draft, index=True)
        else:
            try:  # GeoArrow's native points and polygons read back faster than WKB
                frame.to_parquet(draft, index=True, geometry_encoding="geoarrow")
            except (ValueError, NotImplementedError, TypeError):  # mixed geometry types: WKB holds them all
                frame.to_parquet(draft, index=True)
        os.replace(draft, path)  # readers see the whole entry or none
        for old in path.parent.glob(f"{kind}.*.parquet"):
            if old != path:
                old.unlink(missing_ok=True)
    except Exception:  # the data is served from memory all the same; it is computed again next start
        _log.warning("could not keep derived entry %s", path.name, exc_info=True)
        draft.unlink(missing_ok=True)
    finally:
        with _writing_lock:
            _writing.discard(path)


def wait_for_writes(timeout: float = 60.0) -> bool:
    """Whether every background write finished within ``timeout`` seconds (for tests and benchmarks)."""
    for thread in [t for t in threading.enumerate() if t.name.startswith("derived-")]:
        thread.join(timeout)
    with _writing_lock:
        return not _writing


def clear(workspace: str, home: Path | None = None) -> None:
    """Forget every derived entry of ``workspace`` (when it is deleted)."""
    shutil.rmtree(directory(workspace, home), ignore_errors=True)
