"""What every page shares: workspaces and their store, versions, layers, the point→grid join and display
boundaries — each seen through the signed-in account's scope.

**Scopes.** Every loader takes the *view* name of a workspace: its name, or for an account scoped to a
street or community the name with the scope after ``|`` (``scoped``: ``demo|community:城东社区``). A
scoped view's grids are the scope's grids and its point layers the points joined — against *all* the
grids, so a point is placed where it is — into the scope's grids. Every page reads through these
loaders, so every count, map, drill-down and download of a scoped account holds only its scope, and
the caches keep each view apart because the view is part of every key. The store itself (version,
events, history, settings) is the workspace's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

import geopandas as gpd
import pandas as pd
import streamlit as st

from core import derived, geometry, joins, live, metrics, privacy, schema, store, validate, workspaces
from core.accounts import Scope
from core.errors import WorkspaceError
from dashboard.components import map_builders, maps
from geodata import demo_seed

DEMO_WORKSPACE = "demo"

Frame = TypeVar("Frame", bound=pd.DataFrame)

DISPLAY_VERTICES = 250_000  # grid vertices sent to a map: ~1 MB encoded, drawn in about a second


def workspace_names() -> list[str]:
    """Workspaces under the data directory, read on every run (a directory listing: cheap), so one made
    by ``gridwatch workspace create`` shows without a restart; seeds the demo district when there is none."""
    names = store.list_workspaces()
    if not names:
        try:
            create_workspace(DEMO_WORKSPACE, workspaces.Profile(), from_demo=True)
        except WorkspaceError as exc:
            if exc.code != "exists":  # another session seeded it first
                raise
        names = store.list_workspaces()
    return names


def create_workspace(name: str, profile: workspaces.Profile, *, from_demo: bool) -> None:
    layers, seed_settings = demo_seed() if from_demo else (None, None)
    workspaces.create_workspace(
        name, profile, layers=layers, seed_settings=seed_settings, note="demo district (synthetic)" if from_demo else ""
    )


def delete_workspace(name: str) -> None:
    """Delete the workspace and forget everything cached about it (a new one may take its name)."""
    workspaces.delete_workspace(name)
    st.cache_data.clear()
    st.cache_resource.clear()


def scoped(name: str, scope: Scope) -> str:
    """The view name of workspace ``name`` seen in ``scope``."""
    return name if scope.name is None else f"{name}|{scope}"


def view_of(name: str) -> tuple[str, Scope]:
    """(workspace name, scope) of a view name (workspace names never hold ``|``)."""
    base, _, scope = name.partition("|")
    return base, Scope.parse(scope) if scope else Scope()


def workspace(name: str) -> store.Store:
    """The store of the workspace a view name names."""
    return _store(view_of(name)[0])


@st.cache_resource(show_spinner=False)
def _store(name: str) -> store.Store:
    return store.open_store(name, create=False)


def workspace_timezone(name: str) -> str:
    """The workspace's IANA time zone (its profile; a cheap read)."""
    return workspace(name).timezone()


def workspace_metric_crs(name: str) -> str:
    """The workspace's metric CRS: an EPSG code, or "auto" for the UTM zone of its data (a cheap read)."""
    return workspaces.profile_of(workspace(name)).metric_crs


def version(name: str) -> int:
    """The workspace's active version (a cheap read; the key of every cache below)."""
    return workspace(name).version()


@st.cache_resource(show_spinner=False, max_entries=32)
def layer(name: str, ver: int, layer_name: str) -> gpd.GeoDataFrame:
    """A stored layer, shared by every session: treat it as read-only. (``cache_data`` would hand out
    a copy on every call, and unpickling a million tickets takes seconds.) A point layer the workspace
    does not hold yet is empty, so pages show zeros for it (and ``missing`` names it); without grids
    there is nothing to join to, and reading them raises ``LayerNotFoundError``."""
    base, scope = view_of(name)
    if scope.name is not None:
        whole = layer(base, ver, layer_name)
        if layer_name == schema.GRIDS.name:
            return scope.select(whole)
        return whole[scope.mask(joined(base, ver, layer_name))]  # joined: the same rows, in order
    if layer_name != schema.GRIDS.name and layer_name not in workspace(name).layers(ver):
        return validate.empty_layer(layer_name, workspace(name).timezone())
    return workspace(name).read(layer_name, ver)


def missing(name: str, ver: int, layer_names: tuple[str, ...]) -> tuple[str, ...]:
    """Those of ``layer_names`` the workspace does not hold at ``ver``, in the order given."""
    held = workspace(name).layers(ver)
    return tuple(n for n in layer_names if n not in held)


@st.cache_resource(show_spinner=False, max_entries=4)
def grid_index(name: str, ver: int) -> joins.GridIndex:
    grids = layer(name, ver, schema.GRIDS.name)
    if view_of(name)[1].name is not None:
        return joins.GridIndex.from_grids(grids)  # a scope's few grids: quick to index
    return derived.cached_index(workspace(name), derived.content_key(workspace(name), ver, (schema.GRIDS.name,)), grids)


@st.cache_resource(show_spinner=False, max_entries=16)
def joined(name: str, ver: int, layer_name: str) -> gpd.GeoDataFrame:
    """A point layer with grid_id/community/street from the active grids; tickets also carry the grid
    they had under the boundaries active when they were created. Free text has its phone and ID numbers
    masked (``core.privacy``): everything shown or downloaded reads points from here. Shared and
    read-only, like ``layer``."""
    base, scope = view_of(name)
    if scope.name is not None:
        return scope.select(joined(base, ver, layer_name))
    if layer_name not in workspace(name).layers(ver):
        return _joined(name, ver, layer_name)  # an empty layer: nothing worth keeping
    return kept(
        name, ver, f"joined-{layer_name}", (layer_name, schema.GRIDS.name), lambda: _joined(name, ver, layer_name)
    )


def kept(
    name: str, ver: int, kind: str, inputs: tuple[str, ...], compute: Callable[[], Frame], params: object = ""
) -> Frame:
    """``compute()`` — a frame derived from the layers ``inputs`` of view ``name`` at ``ver`` and from
    ``params`` — kept beside the workspace (``core.derived``) so that a restart loads it. Only the whole
    workspace's view is kept: a scope's is computed from it (and small), and never stored where the
    whole workspace's would be found."""
    if view_of(name)[1].name is not None:
        return compute()
    ws = workspace(name)
    key = derived.content_key(ws, ver, inputs)
    if params != "":
        key += "_" + hashlib.sha256(repr(params).encode()).hexdigest()[:12]
    return derived.cached(ws, kind, key, compute)


def _joined(name: str, ver: int, layer_name: str) -> gpd.GeoDataFrame:
    grids = layer(name, ver, schema.GRIDS.name)
    points = privacy.mask_free_text(joins.join_to_grids(layer(name, ver, layer_name), grids, grid_index(name, ver)))
    if layer_name == schema.TICKETS.name:
        eras = [
            (pd.Timestamp(info.created_at), layer(name, info.version, schema.GRIDS.name))
            for info in workspace(name).layer_history(schema.GRIDS.name)
            if info.version <= ver
        ]
        points[schema.GRID_ID_AT_CREATION] = joins.grid_at_time(points, points[schema.CREATED_AT], eras)
    return points


def event_mark(name: str) -> int:
    """The workspace's event mark (a cheap read; with the version, the key of every live cache)."""
    return workspace(name).event_mark()


@st.cache_resource(show_spinner=False, max_entries=4)
def live_layers(name: str, ver: int) -> live.LiveLayers:
    """The point layers of ``ver`` extended by events as they arrive (one per version, shared)."""
    log = workspace(name)
    return live.LiveLayers(
        layer(name, ver, schema.GRIDS.name),
        grid_index(name, ver),
        log.timezone(),
        lambda after, upto, kinds: log.events(after=after, upto=upto, kinds=kinds),
    )


@st.cache_resource(show_spinner=False, max_entries=16)
def live_joined(name: str, ver: int, mark: int, layer_name: str) -> gpd.GeoDataFrame:
    """``joined`` with the events up to ``mark`` folded in (new tickets, stages, sign-ins, camera
    status); other layers, and mark 0, are ``joined`` itself. Shared and read-only."""
    base, scope = view_of(name)
    if scope.name is not None:
        return scope.select(live_joined(base, ver, mark, layer_name))
    if layer_name not in live.LIVE_KINDS or mark == 0:
        return joined(name, ver, layer_name)
    return live_layers(name, ver).at(layer_name, mark, lambda: joined(name, ver, layer_name))


def warm() -> None:
    """Load what every page starts from for the workspace a new session opens (the first one): its
    grids and their index, its point layers joined with the events so far, its display boundaries —
    from the derived data kept beside it when there is some. ``dashboard.server`` runs this when the
    server starts, so the first visitor after a restart finds it in memory or nearly; a visitor who
    comes sooner waits for the same computation (the caches compute a value once), not for a second."""
    names = store.list_workspaces()
    if not names:
        return
    name = names[0]
    ver = version(name)
    grid_index(name, ver)
    display_boundaries(name, boundary_version(name, ver))
    mark = event_mark(name)
    held = workspace(name).layers(ver)
    for layer_name in (schema.TICKETS.name, schema.CAMERAS.name, schema.MEMBERS.name, schema.PATROL_CHECKINS.name):
        if layer_name in held:  # the layers the pages read joined
            live_joined(name, ver, mark, layer_name)
    live_as_of(name, ver, mark)


def boundary_version(name: str, ver: int) -> int:
    """The version in which the grids active at ``ver`` were stored: the key of display geometry, so a
    ticket written to the store does not re-simplify the boundaries."""
    changes = [info.version for info in history(name, ver) if schema.GRIDS.name in info.changed and info.version <= ver]
    return max(changes, default=ver)


@st.cache_data(show_spinner=False, max_entries=4)
def display_boundaries(name: str, boundary_ver: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Grids and community outlines simplified for the web map (at most ``DISPLAY_VERTICES`` vertices;
    kept beside the workspace, like ``joined``, for the whole workspace; a scope's few are computed)."""

    def simplified() -> gpd.GeoDataFrame:
        return geometry.simplify_for_display(
            layer(name, boundary_ver, schema.GRIDS.name), max_vertices=DISPLAY_VERTICES
        )

    grids = kept(name, boundary_ver, "display-grids", (schema.GRIDS.name,), simplified, DISPLAY_VERTICES)
    communities = kept(
        name,
        boundary_ver,
        "display-communities",
        (schema.GRIDS.name,),
        lambda: geometry.communities_from_grids(grids),
        DISPLAY_VERTICES,
    )
    return grids, communities


@st.cache_data(show_spinner=False, max_entries=8)
def as_of(name: str, ver: int) -> pd.Timestamp | None:
    """The data's own "now": the latest ticket creation time (None for a workspace without tickets)."""
    if schema.TICKETS.name not in workspace(name).layers(ver):
        return None
    return metrics.data_as_of(joined(view_of(name)[0], ver, schema.TICKETS.name))  # the data's date, not the scope's


@st.cache_data(show_spinner=False, max_entries=8)
def live_as_of(name: str, ver: int, mark: int) -> pd.Timestamp | None:
    """``as_of`` with the tickets that arrived as events up to ``mark``."""
    if mark == 0:
        return as_of(name, ver)
    return metrics.data_as_of(live_joined(view_of(name)[0], ver, mark, schema.TICKETS.name))


@st.cache_data(show_spinner=False, max_entries=4)
def grid_base(name: str, boundary_ver: int) -> dict:
    """The grids' display outlines for an indicator map (drawn once per boundary version)."""
    grids, _ = display_boundaries(name, boundary_ver)
    return maps.choropleth_config(grids, schema.NAME)


@st.cache_data(show_spinner=False, max_entries=4)
def district_base(name: str, boundary_ver: int) -> dict:
    """The grids with the community outlines over them (Overview, the Data page's points preview)."""
    return map_builders.district_config(*display_boundaries(name, boundary_ver))


@st.cache_data(show_spinner=False, max_entries=4)
def history(name: str, ver: int) -> list[store.VersionInfo]:
    return workspace(name).history()
