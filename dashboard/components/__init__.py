"""Reusable UI pieces: the one map system (``maps``) and each page's map builder (``map_builders``, pure,
no Streamlit), the map view wrapper, palettes, charts and tables, downloads, and the panels pages are
built from."""
