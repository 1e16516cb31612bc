"""Workspaces: create one for a city (its time zone and metric CRS), list them, delete one.

A workspace is one store (``core.store``) named by letters, digits, ``_`` and ``-``. Its *profile* is
kept as a workspace setting (``store.PROFILE_SETTING``), not as data, so it does not change the version:

* ``timezone`` — an IANA zone (``Europe/Berlin``): naive times in its files are read in it, and nights,
  "today", periods and months are its calendar days;
* ``metric_crs`` — ``"auto"`` (the UTM zone of the data, ``core.geometry.metric_crs``) or a projected
  CRS in metres given by its EPSG code (``EPSG:25832``).

A workspace made before profiles existed has none and reads as ``Asia/Shanghai`` and ``auto``.

Two more settings are kept here, so the dashboard, the CLI and a notebook read and save them alike: the
Performance page's composite weights (``WEIGHTS_SETTING``) and the patrol duty roster
(``schema.PATROL_ASSIGNMENTS``: which team patrols which grid, who saved it and when).

What is NOT here: the store itself (``core.store``), reading a roster from a CSV and checking it against
the grids and teams (``core.patrol``), and the composite score (``core.metrics``).
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyproj

from core import derived, metrics, schema, store
from core.errors import WorkspaceError

__all__ = [
    "AUTO",
    "WEIGHTS_SETTING",
    "Profile",
    "WorkspaceInfo",
    "composite_weights",
    "create_workspace",
    "delete_workspace",
    "list_workspaces",
    "patrol_assignments",
    "profile_of",
    "roster_record",
    "save_composite_weights",
    "save_patrol_assignments",
    "valid_metric_crs",
    "valid_timezone",
]

AUTO = "auto"
WEIGHTS_SETTING = "composite_weights"
_EPSG = re.compile(r"^(?:epsg:)?\s*(\d{4,6})$", re.IGNORECASE)


@dataclass(frozen=True)
class Profile:
    """How a workspace reads and measures its data."""

    timezone: str = schema.DEFAULT_TIMEZONE
    metric_crs: str = AUTO

    def as_setting(self) -> dict[str, str]:
        return {"timezone": self.timezone, "metric_crs": self.metric_crs}


@dataclass(frozen=True)
class WorkspaceInfo:
    """One workspace in the data directory."""

    name: str
    profile: Profile
    version: int


def valid_timezone(name: str) -> str:
    """``name`` if it is an IANA time zone (``Europe/Berlin``, ``UTC``); raises WorkspaceError if not."""
    text = str(name).strip()
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise WorkspaceError(
            f"time zone {text!r} is not an IANA zone name; use one such as Europe/Berlin, "
            "America/Chicago or Asia/Shanghai",
            code="timezone_unknown",
            params={"zone": text},
        ) from None
    return text


def valid_metric_crs(value: str) -> str:
    """``"auto"``, or ``value`` as ``EPSG:<code>`` if it names a projected CRS in metres."""
    text = str(value).strip()
    if text.lower() == AUTO:
        return AUTO
    match = _EPSG.match(text)
    try:
        crs = pyproj.CRS.from_epsg(int(match.group(1))) if match else None
    except pyproj.exceptions.CRSError:
        crs = None
    if crs is None or match is None:
        raise WorkspaceError(
            f"metric CRS {text!r} is not a known EPSG code; give one such as EPSG:25832, "
            "or auto for the UTM zone of the data",
            code="crs_unknown",
            params={"crs": text},
        )
    code = f"EPSG:{match.group(1)}"
    units = {axis.unit_name for axis in crs.axis_info}
    if not crs.is_projected or not units <= {"metre", "meter"}:
        raise WorkspaceError(
            f"{code} ({crs.name}) does not measure in metres; pick a projected CRS in "
            "metres (a UTM or Gauss-Krüger zone), or auto",
            code="crs_not_metric",
            params={"crs": code, "name": crs.name},
        )
    return code


def profile_of(ws: store.Store) -> Profile:
    """The workspace's profile (the defaults when it has none)."""
    saved = ws.get_setting(store.PROFILE_SETTING, {})
    return Profile(ws.timezone(), saved.get("metric_crs", AUTO) if isinstance(saved, Mapping) else AUTO)


def list_workspaces(home: Path | None = None) -> list[WorkspaceInfo]:
    """Every workspace with its profile and active version, sorted by name."""
    out = []
    for name in store.list_workspaces(home):
        ws = store.open_store(name, home, create=False)
        out.append(WorkspaceInfo(name, profile_of(ws), ws.version()))
    return out


def create_workspace(
    name: str,
    profile: Profile = Profile(),
    *,
    home: Path | None = None,
    layers: Mapping[str, gpd.GeoDataFrame] | None = None,
    seed_settings: Mapping[str, object] | None = None,
    note: str = "",
) -> store.Store:
    """A new workspace ``name`` with ``profile``; with ``layers`` (e.g. the demo) they become version 1
    and ``seed_settings`` are saved with them. Raises WorkspaceError if the name is taken or bad."""
    store.check_name(name)
    profile = Profile(valid_timezone(profile.timezone), valid_metric_crs(profile.metric_crs))
    ws = store.open_store(name, home, new=True)  # WorkspaceError if the name is taken, even in a race
    try:
        ws.set_setting(store.PROFILE_SETTING, profile.as_setting())
        if layers:
            ws.initialize(layers, note=note or f"workspace {name} started")
        for key, value in (seed_settings or {}).items():
            ws.set_setting(key, value)
    except Exception:
        delete_workspace(name, home)
        raise
    return ws


def delete_workspace(name: str, home: Path | None = None) -> None:
    """Remove the workspace's file and its -wal, -shm and .lock companions (every version goes), and
    the data derived from it."""
    store.open_store(name, home, create=False).drop()
    derived.clear(name, home)


def roster_record(roster: pd.DataFrame, *, author: str, tz: str) -> dict[str, object]:
    """The patrol duty roster as the workspace setting ``schema.PATROL_ASSIGNMENTS`` keeps it (who saved it
    and when, in the workspace's zone)."""
    rows = roster[list(schema.PATROL_ASSIGNMENT_COLUMNS)].astype(str).to_numpy().tolist()
    return {"rows": rows, "author": author, "saved_at": pd.Timestamp.now(tz=tz).isoformat()}


def patrol_assignments(ws: store.Store) -> pd.DataFrame:
    """The workspace's patrol duty roster (``team_id``, ``grid_id`` as text; empty until one is saved)."""
    saved = ws.get_setting(schema.PATROL_ASSIGNMENTS, {})
    rows = saved.get("rows", []) if isinstance(saved, Mapping) else []
    return pd.DataFrame(rows, columns=list(schema.PATROL_ASSIGNMENT_COLUMNS), dtype="str")


def save_patrol_assignments(ws: store.Store, roster: pd.DataFrame, *, author: str) -> None:
    """Replace the duty roster (``roster_record``: who set it and when, in the workspace's zone)."""
    ws.set_setting(schema.PATROL_ASSIGNMENTS, roster_record(roster, author=author, tz=ws.timezone()))


def composite_weights(ws: store.Store) -> dict[str, float]:
    """The workspace's saved composite weights (``metrics.DEFAULT_WEIGHTS`` until someone saves others)."""
    saved = ws.get_setting(WEIGHTS_SETTING)
    return dict(saved) if isinstance(saved, Mapping) and saved else dict(metrics.DEFAULT_WEIGHTS)


def save_composite_weights(ws: store.Store, weights: Mapping[str, float]) -> None:
    """Keep ``weights`` as the workspace's composite weights (a setting: the version does not change)."""
    ws.set_setting(WEIGHTS_SETTING, dict(weights))
