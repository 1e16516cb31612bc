"""The synthetic demo district (示范街道（模拟）) GridWatch ships with and seeds new workspaces from.

``generate`` builds every canonical layer from a seed; ``write_demo`` writes them to ``geodata/demo/``
as GeoParquet plus ``manifest.json``; ``load_demo`` reads the committed files back. Regenerate with
``python -m geodata``. All of it is made up and labelled SYNTHETIC.
"""

from geodata.generate import DEFAULT_SEED, DEMO_DIR, demo_seed, generate, load_demo, write_demo

__all__ = ["DEFAULT_SEED", "DEMO_DIR", "demo_seed", "generate", "load_demo", "write_demo"]
