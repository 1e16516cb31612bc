"""Parts of the Coverage page: its settings (walk, staffing range, a road network and key points read
for the session), the community the map layers are drawn for, the exports, and the siting panel."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from core import coverage, exports, reach, schema, siting
from core.errors import GridWatchError
from dashboard import data, state
from dashboard.components.downloads import Download, file_downloads
from dashboard.components.filters import category_weights
from dashboard.components.maps import Overlay
from dashboard.components.palettes import SITE_COLOR
from dashboard.i18n import message_text, show_error, t

ALL = "__all__"
WALK = reach.WalkSettings()  # the walk inputs start at core's defaults
CAMERA_RADIUS_M = 60.0  # a typical useful camera range: what a new camera is taken to cover

TABLE = (  # the grid table's columns, in order
    "name",
    "community",
    "cameras_online",
    "cameras_total",
    "covered_share",
    "lost_share",
    "tickets_in_view_share",
    "key_points_covered_share",
    "any_share",
    "members",
    "in_service_members",
    "linked_share",
    "households",
    "households_per_worker",
    "status",
)


@dataclass(frozen=True)
class Settings:
    walk: reach.WalkSettings
    households_per_worker: tuple[float, float]
    roads: data.Upload | None
    key_points: data.Upload | None


def settings(sel) -> Settings:
    with st.expander(t("cov.settings")):
        cols = st.columns(4)
        walk = reach.WalkSettings(
            minutes=cols[0].number_input(t("cov.minutes"), 5, 30, int(WALK.minutes), key=state.COV_MINUTES),
            speed_kmh=cols[1].number_input(t("cov.speed"), 2.0, 8.0, WALK.speed_kmh, 0.5, key=state.COV_SPEED),
            detour_factor=cols[2].number_input(
                t("cov.detour"), 1.0, 2.0, WALK.detour_factor, 0.05, key=state.COV_DETOUR, help=t("cov.detour_help")
            ),
            off_road_m=cols[3].number_input(
                t("cov.off_road"), 0, 300, int(WALK.off_road_m), 10, key=state.COV_OFF_ROAD
            ),
        )
        st.caption(t("cov.radius", radius=f"{walk.radius_m:,.0f}", walk=f"{walk.walk_m:,.0f}"))
        low, high = st.slider(
            t("cov.target"),
            50,
            1500,
            coverage.HOUSEHOLDS_PER_WORKER,
            10,
            key=state.COV_TARGET,
            help=t("cov.target_help"),
        )
        left, right = st.columns(2)
        roads = session_file(left, "roads", data.LINE_TYPES)
        key_points = session_file(right, "key_points", data.POINT_TYPES)
    return Settings(walk, (float(low), float(high)), roads, key_points)


def session_file(box, kind: str, types: tuple[str, ...]) -> data.Upload | None:
    """A file read for this session only; None (with the reason shown) if it has nothing usable."""
    upload = box.file_uploader(
        t(f"cov.upload.{kind}"),
        key=state.key_of(state.COV_FILE, kind),
        help=t(f"cov.upload.{kind}_help"),
        type=["zip", "geojson", "json", "gpkg", "kml", "kmz", "csv"],
    )
    if upload is None:
        return None
    payload = upload.getvalue()
    file = data.Upload(upload.name, hashlib.sha256(payload).hexdigest(), payload)
    try:
        frame, left_out, found = data.extra_layer(file, types)
    except GridWatchError as exc:
        show_error(exc, box)
        return None
    if frame.empty:
        box.error(t(f"cov.upload.{kind}_wrong", found=found))
        return None
    box.caption(
        t("cov.upload.read", n=f"{len(frame):,}") + (t("cov.upload.left_out", n=f"{left_out:,}") if left_out else "")
    )
    return file


def layer_community(sel, box, table: pd.DataFrame) -> str | None:
    """The community whose camera layers are drawn: any (all) on a district, one at a time on a city."""
    communities = sorted(table["community"].dropna().unique())
    cameras = int(table["cameras_total"].sum()) if "cameras_total" in table else 0
    options = communities if cameras > data.MAX_DRAWN_CAMERAS else [ALL, *communities]
    chosen = box.selectbox(
        t("cov.layers_for"),
        options,
        key=state.COV_COMMUNITY,
        format_func=lambda c: t("cov.all_communities") if c == ALL else c,
        help=t("cov.layers_for_help", n=f"{data.MAX_DRAWN_CAMERAS:,}"),
    )
    return None if chosen == ALL else chosen


def proposed_sites(sel) -> Overlay | None:
    """The sites of the last siting run on this version, as circles of their radius."""
    run = st.session_state.get(state.SITING)
    if not run or run["key"] != (sel.workspace, sel.version):
        return None
    sites = run["sites"]
    circles = siting.site_circles(sites, run["radius_m"])
    tips = tuple(t("cov.site_tip", rank=r, adds=f"{a:,.0f}") for r, a in zip(sites["rank"], sites["adds"]))
    return Overlay(np.asarray(circles.array, dtype=object), t("cov.layer.sites"), SITE_COLOR, 0.35, tips=tips)


def siting_panel(sel, settings_: Settings) -> None:
    """Where should the next K cameras or service points go (maximal covering location)?"""
    st.subheader(t("cov.siting"))
    st.caption(t("cov.siting_help"))
    cols = st.columns(4)
    target = cols[0].radio(
        t("cov.site_what"), ("cameras", "service"), key=state.SITE_TARGET, format_func=lambda v: t(f"cov.site_what.{v}")
    )
    kind = cols[0].selectbox(
        t("cov.kind"),
        [reach.ANY_KIND, *schema.SERVICE_KINDS],
        key=state.SITE_KIND,
        disabled=target == "cameras",
        format_func=lambda k: t("cov.any_kind") if k == reach.ANY_KIND else t(f"service_kind.{k}"),
    )
    k = cols[1].number_input(t("cov.k"), 1, 50, 5, key=state.SITE_K)
    default_radius = CAMERA_RADIUS_M if target == "cameras" else settings_.walk.radius_m
    radius = cols[1].number_input(
        t("cov.site_radius"), 10.0, 3000.0, float(default_radius), 10.0, key=state.key_of(state.SITE_RADIUS, target)
    )
    demand_kind = cols[2].radio(
        t("cov.demand"),
        ("tickets", "population"),
        key=state.SITE_DEMAND,
        index=0 if target == "cameras" else 1,
        format_func=lambda v: t(f"cov.demand.{v}"),
    )
    candidates_kind = cols[3].radio(
        t("cov.candidates"),
        ("lattice", "intersections"),
        key=state.SITE_CANDIDATES,
        format_func=lambda v: t(f"cov.candidates.{v}"),
    )
    spacing = cols[3].number_input(
        t("cov.spacing"),
        20.0,
        1000.0,
        50.0 if target == "cameras" else 200.0,
        10.0,
        key=state.key_of(state.SITE_SPACING, target),
        disabled=candidates_kind != "lattice",
    )
    weights = category_weights(sel, state.SITE_WEIGHTS, t("cov.weights")) if demand_kind == "tickets" else ()
    if st.button(t("cov.run"), type="primary", key=state.SITE_RUN):
        bar = st.progress(0.0, text=t("cov.stage.distances"))
        try:
            demand, candidates, existing = data.siting_inputs(
                sel.workspace,
                sel.version,
                target,
                kind,
                demand_kind,
                weights,
                candidates_kind,
                float(spacing),
                settings_.roads,
            )
            result = data.run_siting(
                demand,
                candidates,
                existing,
                float(radius),
                int(k),
                lambda stage, f: bar.progress(f, text=t(f"cov.stage.{stage}")),
            )
        except GridWatchError as exc:
            bar.empty()
            show_error(exc)
            return
        bar.empty()
        sites = result.sites(candidates)
        st.session_state[state.SITING] = {
            "key": (sel.workspace, sel.version),
            "result": result,
            "sites": sites,
            "radius_m": float(radius),
            "demand": demand_kind,
        }
        st.rerun()
    run = st.session_state.get(state.SITING)
    if run and run["key"] == (sel.workspace, sel.version):
        siting_result(run)


def percent(share: float) -> str:
    return "–" if np.isnan(share) else f"{share:.1%}"


def siting_result(run: dict) -> None:
    result: siting.SitingResult = run["result"]
    unit = t(f"cov.unit.{run['demand']}")
    row = st.columns(4)
    row[0].metric(
        t("cov.before"),
        percent(result.share_before),
        help=t("cov.of_total", total=f"{result.total:,.0f}", unit=unit),
    )
    row[1].metric(
        t("cov.after"),
        percent(result.share_after),
        delta=f"+{result.objective:,.0f} {unit}",
    )
    row[2].metric(t("cov.greedy"), f"{result.greedy_objective:,.0f}", help=t("cov.greedy_help"))
    row[3].metric(
        t("cov.gap"),
        f"{result.gap:.2%}",
        help=t("cov.gap_help", bound=f"{result.upper_bound:,.0f}", how=message_text(result.bound)),
    )
    st.caption(t(f"cov.solve.{result.status}", seconds=f"{result.solve_seconds:.1f}"))
    sites: gpd.GeoDataFrame = run["sites"]
    table = pd.DataFrame(
        {
            "rank": sites["rank"],
            "candidate_id": sites[siting.CANDIDATE_ID],
            "lon": sites.geometry.x.round(6),
            "lat": sites.geometry.y.round(6),
            "adds": sites["adds"].round(1),
        }
    )
    shown = table.rename(columns=lambda c: t(f"cov.site.{c}"))
    st.dataframe(shown, hide_index=True, width="stretch", key=state.SITE_TABLE)
    geojson = sites[["rank", siting.CANDIDATE_ID, "adds", "geometry"]].to_json(drop_id=True)
    files = (
        Download(t("cov.sites_csv"), exports.csv_bytes(shown), "csv", "text/csv"),
        Download(t("cov.sites_geojson"), geojson.encode("utf-8"), "geojson", "application/geo+json"),
    )
    file_downloads("gridwatch_sites", state.SITE_DOWNLOADS, files)
