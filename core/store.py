"""The workspace store: canonical layers, versioned, written atomically by one writer at a time.

A workspace is a set of canonical layers (``core.schema.LAYERS``). Every write makes a new workspace
*version* (an integer that only grows; the dashboard caches by it). A version maps each layer to an
immutable stored table, so a write never changes what an earlier version points to. Every backend
guarantees that writes are:

* **atomic** — the new layer tables are written first and one transaction makes them visible; a crash
  before it leaves the previous version active and whole.
* **serialized** — writers hold an exclusive lock around read-modify-write, so concurrent appends
  cannot lose rows.
* **kept** — every version stays readable and can be made active again (``activate``; ``rollback`` is
  activating the previous one) until ``prune`` drops the oldest. ``clear`` removes a layer as a new
  version, so a rollback brings it back.

Events (``core.events``: new tickets, stage changes, sign-ins, camera status) are not versioned: they
are appended to the workspace's event log in one transaction per batch, never rewritten and never rolled
back, each with a ``seq`` that only grows (the highest is the *event mark*). A record sent twice (same
kind, source and source id) is stored once.

Date-times are stored in UTC and read back in the workspace's time zone (its profile, a workspace
setting: ``core.workspaces``), so code downstream uses the zone the data carry (``series.dt.tz``).

Here: ``Store``, the backend-neutral interface, its ``VersionInfo``, workspace names, ``open_store``,
which opens a workspace on the configured backend (PostGIS when ``GRIDWATCH_DB`` is set, else the
embedded GeoPackage store), and what backends share (``prepare`` before writing, ``restore`` after
reading). What is NOT here: the backends, one GeoPackage per workspace (``core.geopackage``) and one
PostgreSQL schema per workspace (``core.postgis``).
"""

from __future__ import annotations

import abc
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from core import schema, settings
from core.errors import LayerNotFoundError, StoreError, WorkspaceError
from core.events import EventReceipt
from core.validate import conform, validate

__all__ = [
    "PROFILE_SETTING",
    "Store",
    "VersionInfo",
    "check_layer",
    "check_name",
    "list_workspaces",
    "no_such_layer",
    "no_such_version",
    "no_such_workspace",
    "open_store",
    "prepare",
    "restore",
    "to_multi",
    "without_layer",
    "workspaces_dir",
]

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PROFILE_SETTING = "profile"
"""The workspace setting holding its time zone and metric CRS (``core.workspaces.Profile``)."""


@dataclass(frozen=True)
class VersionInfo:
    """One workspace version: which stored table holds each layer, and why it was made."""

    version: int
    created_at: datetime
    author: str
    note: str
    tables: Mapping[str, str]
    changed: tuple[str, ...]


class Store(abc.ABC):
    """What every workspace backend offers. Layers in and out are canonical GeoDataFrames."""

    name: str

    @abc.abstractmethod
    def version(self) -> int:
        """The active version (0 for an empty workspace)."""

    @abc.abstractmethod
    def history(self) -> list[VersionInfo]:
        """Kept versions, newest first."""

    @abc.abstractmethod
    def layers(self, version: int | None = None) -> tuple[str, ...]:
        """Names of the layers ``version`` (default: the active one) holds."""

    @abc.abstractmethod
    def read(self, layer: str, version: int | None = None) -> gpd.GeoDataFrame:
        """A layer as of ``version`` (default: active)."""

    @abc.abstractmethod
    def write_layers(self, frames: Mapping[str, gpd.GeoDataFrame], *, note: str, author: str = "system") -> int:
        """Replace the given layers in one new version; returns it. Validates everything first."""

    @abc.abstractmethod
    def initialize(self, frames: Mapping[str, gpd.GeoDataFrame], *, note: str) -> bool:
        """Write ``frames`` as version 1 if the workspace is still empty; False if it was not."""

    @abc.abstractmethod
    def append(self, layer: str, rows: gpd.GeoDataFrame, *, note: str, author: str = "system") -> int:
        """Add rows to a layer (ids must stay unique) in one new version; returns it. Costs what it adds:
        the stored rows are not rewritten, and every earlier version still reads what it held."""

    @abc.abstractmethod
    def activate(self, version: int, *, author: str = "system", note: str = "") -> int:
        """Make the layers of an earlier ``version`` active again, as a new version; returns it."""

    @abc.abstractmethod
    def clear(self, layer: str, *, note: str, author: str = "system") -> int:
        """Remove ``layer`` as a new version (a rollback brings it back); returns it. The grids go only
        when no other layer is left, since every point layer is placed by them."""

    @abc.abstractmethod
    def drop(self) -> None:
        """Delete the workspace with every version and setting."""

    @abc.abstractmethod
    def prune(self, keep: int) -> int:
        """Forget all but the newest ``keep`` versions and drop their tables; returns how many went."""

    @abc.abstractmethod
    def lookup(self, layer: str, ids: Sequence[str], version: int | None = None) -> gpd.GeoDataFrame:
        """The rows of ``layer`` (as of ``version``, default active) with these ids, found by index: what
        the intake reads to check an update against the stored record. A missing layer gives no rows."""

    @abc.abstractmethod
    def distinct(self, layer: str, column: str, version: int | None = None) -> list[str]:
        """The distinct non-empty values of a text ``column`` of ``layer`` (as of ``version``, default
        active), sorted, read by the database without loading the layer; a missing layer gives none."""

    @abc.abstractmethod
    def append_events(self, events: pd.DataFrame | Sequence[Mapping[str, object]]) -> EventReceipt:
        """Store events (a frame or records of ``core.events.COLUMNS``; ``seq`` and ``received_at`` are given here) in
        one transaction, in order; a row whose (kind, source, source_id) is stored already, or came
        earlier in the batch, is not stored again. Costs what it adds."""

    @abc.abstractmethod
    def events(
        self, *, after: int = 0, upto: int | None = None, kinds: Sequence[str] = (), refs: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Stored events with ``after < seq <= upto`` (``upto`` None: all), in ``seq`` order, optionally
        only these ``kinds`` and ``refs``; times in UTC (``core.events.event_frame``)."""

    @abc.abstractmethod
    def event_mark(self) -> int:
        """The highest ``seq`` stored (0 before the first event): a cheap read, polled by the dashboard."""

    @abc.abstractmethod
    def get_setting(self, key: str, default: object = None) -> object:
        """A workspace setting (JSON value), e.g. the remembered column mapping of a layer."""

    @abc.abstractmethod
    def set_setting(self, key: str, value: object) -> None:
        """Remember a workspace setting; settings are not data and do not change the version."""

    def timezone(self) -> str:
        """The workspace's IANA time zone (``schema.DEFAULT_TIMEZONE`` until its profile names one)."""
        saved = self.get_setting(PROFILE_SETTING, {}) or {}
        return saved.get("timezone", schema.DEFAULT_TIMEZONE) if isinstance(saved, dict) else schema.DEFAULT_TIMEZONE

    def rollback(self, *, author: str = "system") -> int:
        """Make the previous version's layers active again, as a new version; returns it."""
        kept = self.history()
        if len(kept) < 2:
            raise StoreError(
                f"workspace `{self.name}` has no earlier version to roll back to",
                code="no_earlier_version",
                params={"workspace": self.name},
            )
        return self.activate(kept[1].version, author=author, note=f"rollback to version {kept[1].version}")

    def layer_history(self, layer: str) -> list[VersionInfo]:
        """The versions, oldest first, in which ``layer`` got different content (activations included)."""
        changes, table = [], None
        for info in reversed(self.history()):
            if info.tables.get(layer) not in (None, table):
                changes.append(info)
            table = info.tables.get(layer)
        return changes

    def write(self, layer: str, frame: gpd.GeoDataFrame, *, note: str, author: str = "system") -> int:
        """Replace one layer; see ``write_layers``."""
        return self.write_layers({layer: frame}, note=note, author=author)


def workspaces_dir(home: Path | None = None) -> Path:
    path = (home or settings.home()) / "workspaces"
    path.mkdir(parents=True, exist_ok=True)
    return path


def list_workspaces(home: Path | None = None) -> list[str]:
    """Names of the workspaces on the configured backend (the data directory, or the PostGIS database
    ``GRIDWATCH_DB`` names), sorted."""
    url = settings.database_url()
    if url:
        from core.postgis import list_postgis_workspaces

        return list_postgis_workspaces(url)
    return sorted(p.stem for p in workspaces_dir(home).glob("*.gpkg") if _NAME.match(p.stem))


def check_name(workspace: str) -> str:
    """``workspace`` if it is a usable name (1–64 letters, digits, '_' or '-'); raises WorkspaceError."""
    if not isinstance(workspace, str) or not _NAME.match(workspace):
        raise WorkspaceError(
            f"workspace name {workspace!r} may only use letters, digits, '_' and '-' (at most 64)",
            code="name_invalid",
            params={"name": str(workspace)},
        )
    return workspace


def open_store(workspace: str, home: Path | None = None, *, create: bool = True, new: bool = False) -> Store:
    """The store of ``workspace`` on the configured backend: created empty if new, or with
    ``create=False`` a WorkspaceError when there is no such workspace (nothing is written then); with
    ``new=True`` a WorkspaceError when it exists already (checked under the writer lock, so of two
    processes creating the same name one fails). A new workspace with a time zone and metric CRS is
    made by ``core.workspaces.create_workspace``."""
    check_name(workspace)
    url = settings.database_url()
    if url:
        from core.postgis import PostgisStore  # the backend imports this interface

        return PostgisStore(url, workspace, create=create, new=new)
    from core.geopackage import GeoPackageStore  # the backend imports this interface

    path = workspaces_dir(home) / f"{workspace}.gpkg"
    if not create and not path.exists():
        raise no_such_workspace(workspace)
    return GeoPackageStore(path, new=new)


def no_such_workspace(workspace: str) -> WorkspaceError:
    """The error for opening a workspace that does not exist (or no longer does)."""
    return WorkspaceError(
        f"there is no workspace `{workspace}`; create it with `gridwatch workspace create {workspace}`",
        code="not_found",
        params={"name": workspace},
    )


def prepare(layer: str, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Conform ``frame`` to the canonical ``layer`` and validate it (raises ValidationError)."""
    check_layer(layer)
    return validate(conform(frame, layer), layer)


def check_layer(layer: str) -> None:
    """Raise LayerNotFoundError unless ``layer`` is a canonical layer name."""
    if layer not in schema.LAYERS:
        raise LayerNotFoundError(
            f"unknown layer {layer!r}; expected one of {', '.join(schema.LAYERS)}",
            code="unknown_layer",
            params={"name": layer, "known": ", ".join(schema.LAYERS)},
        )


def no_such_layer(workspace: str, layer: str, version: int | None = None) -> LayerNotFoundError:
    """The error for reading a layer the workspace (at ``version``) does not hold."""
    return LayerNotFoundError(
        f"workspace `{workspace}` has no `{layer}` layer"
        + (f" in version {version}" if version else "")
        + "; upload it first",
        code="layer_not_found",
        params={"workspace": workspace, "layer": layer},
    )


def no_such_version(workspace: str, version: int) -> StoreError:
    """The error for a version the workspace does not keep."""
    return StoreError(
        f"workspace `{workspace}` has no version {version}; pick one from its history",
        code="no_such_version",
        params={"workspace": workspace, "version": version},
    )


def without_layer(
    workspace: str, layer: str, tables: Mapping[str, str], rows: Mapping[str, int]
) -> tuple[dict[str, str], dict[str, int]]:
    """The tables and row marks of a version once ``layer`` is cleared; raises when the workspace has no
    such layer, or when it is the grids and a point layer (which they place) is still there."""
    check_layer(layer)
    if layer not in tables:
        raise LayerNotFoundError(
            f"workspace `{workspace}` has no `{layer}` layer to clear",
            code="layer_not_found",
            params={"workspace": workspace, "layer": layer},
        )
    others = [name for name in tables if name != layer]
    if layer == schema.GRIDS.name and others:
        raise StoreError(
            f"the grids of workspace `{workspace}` place every point layer; clear "
            f"{', '.join(f'`{name}`' for name in others)} first, or upload new grids",
            code="grids_clear_last",
            params={"workspace": workspace, "layers": ", ".join(others)},
        )
    return (
        {name: table for name, table in tables.items() if name != layer},
        {name: last for name, last in rows.items() if name != layer},
    )


def to_multi(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """``geoms`` with every Polygon made a one-part MultiPolygon (how backends store polygon layers)."""
    single = geoms.geom_type == "Polygon"
    out = geoms.copy()
    out[single] = shapely.multipolygons(shapely.get_parts(geoms[single].array).reshape(-1, 1))
    return out


def restore(frame: gpd.GeoDataFrame, layer_name: str, tz: str) -> gpd.GeoDataFrame:
    """Give a frame read back from storage the canonical dtypes (times in ``tz``, nullable ints, single
    polygons): what every backend does after reading a layer."""
    layer = schema.LAYERS[layer_name]
    for col in layer.columns:
        if col.name not in frame.columns:
            continue
        if col.kind == "datetime":
            frame[col.name] = pd.to_datetime(frame[col.name], utc=True).dt.tz_convert(tz)
        elif col.kind == "int" and frame[col.name].dtype.kind == "f":
            frame[col.name] = frame[col.name].astype("Int64")
    if not layer.is_point_layer:
        geoms = frame.geometry.array
        one_part = (shapely.get_num_geometries(geoms) == 1) & (frame.geom_type == "MultiPolygon").to_numpy()
        if one_part.any():
            frame.loc[one_part, frame.geometry.name] = shapely.get_geometry(geoms[one_part], 0)
    return frame
