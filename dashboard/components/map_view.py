"""The one place that hands a folium map to the browser (st_folium)."""

from __future__ import annotations

from collections.abc import Sequence

import folium
from streamlit_folium import st_folium


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
        st_folium(
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
