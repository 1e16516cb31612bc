"""Reusable UI pieces: map builders (pure, no Streamlit), the map view wrapper, widgets."""
