"""The one place that hands a folium map to the browser (st_folium's component).

``show_map`` renders the map on every rerun (st_folium). A map too big for that — the Command center's
20,000 grids take seconds through folium's Jinja templates — is rendered once with ``prepare_map`` and
shown with ``show_prepared_map``, whose live part is a plain script rather than a folium element. Both
give the browser the same component, so the map in the page behaves the same either way.

``prepare_map`` reads streamlit-folium's own rendering helpers (private; the version is locked in
``requirements.lock``, and the browser tests fail if they change).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import folium
import folium.elements
import streamlit as st


def show_map(
    m: folium.Map,
    *,
    key: str,
    height: int = 600,
    returned_objects: Sequence[str] = (),
    live: folium.FeatureGroup | None = None,
    center: tuple[float, float] | None = None,
    zoom: int | None = None,
) -> dict:
    """Draw ``m`` full width. Only ``returned_objects`` trigger a rerun (none by default, so panning
    and zooming never rerun the page). ``live`` is swapped into the drawn map without reloading it;
    a new ``center``/``zoom`` moves the drawn map."""
    return (
        _folium().st_folium(
            m,
            key=key,
            height=height,
            use_container_width=True,
            returned_objects=list(returned_objects),
            feature_group_to_add=live,
            center=center,
            zoom=zoom,
        )
        or {}
    )


@dataclass(frozen=True)
class PreparedMap:
    """A map rendered once into what the browser component is given (immutable, so it can be cached
    and shared by every session)."""

    script: str
    header: str
    html: str
    map_id: str
    css_links: tuple[str, ...]
    js_links: tuple[str, ...]
    bounds: dict
    zoom: float | None
    fingerprint: str  # the script without folium's random variable suffixes: the component's identity


def prepare_map(m: folium.Map) -> PreparedMap:
    """Render ``m`` the way st_folium does (once: the result does not change with later reruns)."""
    m.get_root().render()
    m.render()
    sf = _folium()
    html, header, script = sf._get_html(m), sf._get_header(m), sf._get_map_string(m)
    assets = [e for e in _elements(m) if isinstance(e, folium.elements.JSCSSMixin)]
    (south, west), (north, east) = m.get_bounds()
    return PreparedMap(
        script=script,
        header=header,
        html=html,
        map_id=sf.get_full_id(m),
        css_links=tuple(dict.fromkeys(href for e in assets for _, href in e.default_css)),
        js_links=tuple(dict.fromkeys(src for e in assets for _, src in e.default_js)),
        bounds={"_southWest": {"lat": south, "lng": west}, "_northEast": {"lat": north, "lng": east}},
        zoom=m.options.get("zoom"),
        fingerprint=sf.generate_js_hash(script),
    )


def _elements(element) -> Iterator:
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _elements(child)


def show_prepared_map(
    prepared: PreparedMap,
    *,
    key: str,
    height: int = 600,
    returned_objects: Sequence[str] = (),
    live: str | None = None,
    center: tuple[float, float] | None = None,
    zoom: int | None = None,
) -> dict:
    """``show_map`` for a prepared map; ``live`` is a script run against the drawn map whenever it
    changes (e.g. ``maps.live_script``)."""
    component_key = hashlib.sha256(f"{prepared.fingerprint}/{key}".encode()).hexdigest()

    def remember() -> None:
        st.session_state[key] = st.session_state.get(component_key, {})

    initial = {"last_clicked": None, "bounds": prepared.bounds, "zoom": prepared.zoom}
    return (
        _folium()._component_func(
            script=prepared.script,
            header=prepared.header,
            html=prepared.html,
            id=prepared.map_id,
            key=component_key,
            height=height,
            width=None,
            returned_objects=list(returned_objects),
            default={k: initial.get(k) for k in returned_objects},
            zoom=zoom,
            center=center,
            feature_group=live,
            return_on_hover=False,
            layer_control=None,
            pixelated=False,
            css_links=list(prepared.css_links),
            js_links=list(prepared.js_links),
            on_change=remember,
            wrap_longitude=False,
        )
        or {}
    )


def _folium():
    """``streamlit_folium``, imported on first use inside a page run: a custom component registers
    itself with Streamlit only when imported with a run's context, so an import by the server's warm-up
    thread (``dashboard.server``) would leave the browser without the component (404)."""
    import streamlit_folium

    return streamlit_folium
