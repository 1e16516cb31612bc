"""GridWatch core: the grid-management library (no Streamlit, no folium).

Flat modules, one concern each, grouped in the README's Layout section: the data model (schema,
validate, errors), storage (store, geopackage, workspaces), reading files (io and the rooms behind it),
uploads, joins and figures (joins, metrics, indicators, command), coverage, siting, hot spots and
patrols. Each module's docstring says what it holds and what it does not; ``__all__`` is its public API.
"""
