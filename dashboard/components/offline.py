"""Make folium maps work on a closed network: every JS/CSS asset inlined as a data: URI.

folium's default page loads Leaflet, jQuery, Bootstrap and Font Awesome from public CDNs, so under
st_folium the map stays blank offline. GridWatch maps use plain Leaflet only (no awesome markers, no
Bootstrap popups), so ``make_offline`` swaps Leaflet for the copy shipped in the ``xstatic-leaflet``
package (its CSS with the control images embedded), drops the rest, and refuses any other remote asset
so that a new plugin cannot quietly reintroduce a CDN.
"""

from __future__ import annotations

import base64
import functools
import re
from pathlib import Path

import folium
import xstatic.pkg.leaflet as xleaflet
from folium.elements import JSCSSMixin

_LEAFLET_DIR = Path(xleaflet.BASE_DIR)
_UNUSED = {
    "jquery",
    "bootstrap",
    "awesome_markers",
    "bootstrap_css",
    "glyphicons_css",
    "awesome_markers_font_css",
    "awesome_markers_css",
    "awesome_rotate_css",
}


class OfflineAssetError(RuntimeError):
    """A map element asks for a remote asset that has no local copy (a programming error)."""


def _data_uri(mime: str, payload: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"


@functools.cache
def leaflet_js() -> str:
    return _data_uri("text/javascript", (_LEAFLET_DIR / "leaflet.js").read_bytes())


@functools.cache
def leaflet_css() -> str:
    css = (_LEAFLET_DIR / "leaflet.css").read_text(encoding="utf-8")

    def embed(match: re.Match) -> str:
        image = _LEAFLET_DIR / match.group(1)
        return f"url({_data_uri('image/png', image.read_bytes())})"

    return _data_uri("text/css", re.sub(r"url\((images/[\w.-]+\.png)\)", embed, css).encode("utf-8"))


_LOCAL = {"leaflet": leaflet_js, "leaflet_css": leaflet_css}


def make_offline(m: folium.Map) -> folium.Map:
    """Point every asset of ``m`` and its children at inlined local copies; return ``m``."""
    for element in _walk(m):
        if not isinstance(element, JSCSSMixin):
            continue
        for attr in ("default_js", "default_css"):
            assets = []
            for name, url in getattr(element, attr):
                if name in _LOCAL:
                    assets.append((name, _LOCAL[name]()))
                elif name in _UNUSED:
                    continue
                elif url.startswith("data:"):
                    assets.append((name, url))
                else:
                    raise OfflineAssetError(f"{type(element).__name__} needs {url}, which has no local copy")
            setattr(element, attr, assets)  # instance attribute: the class default stays untouched
    return m


def _walk(element):
    yield element
    for child in element._children.values():
        yield from _walk(child)
