"""GridWatch core: the grid-management library (no Streamlit, no folium)."""
