"""The cost of scoping: the Performance page's figures on the city for a community-scoped account
against the same figures unscoped, in one run.

    python tests/perf/bench_scope.py --city-home /tmp/city-home   # a city built by tests/perf/city.py
    python tests/perf/bench_scope.py                              # builds the city first (~1 min)

Both views start from the same warm state (the city's layers read and joined once, as a running
server holds them); then each computes what the Performance page computes for a period — the ranking
table at grid, community and street level, 同比, the monthly trend and the period's tickets — from
cold caches. The scoped view filters the joined layers to its community first (``data.shared``), so
the target (issue 17) is a ratio ≤ 1: a community's page is no slower than the district's.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from city import city_home

from core import schema
from core.accounts import Scope

LEVELS = ("grid", "community", "street")


def page_figures(data, name: str, ver: int, first, last) -> float:
    """Seconds to compute the Performance page's tables for ``name`` (cold caches)."""
    start = time.perf_counter()
    for level in LEVELS:
        data.performance(name, ver, first, last, level, ())
        data.year_over_year(name, ver, first, last, level)
    data.monthly(name, ver, "grid")
    data.period_tickets(name, ver, first, last)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--city-home", type=Path, help="a data directory holding a built city workspace")
    args = parser.parse_args()
    logging.getLogger("streamlit").setLevel(logging.ERROR)  # "no runtime": the caches work without one
    with tempfile.TemporaryDirectory() as tmp:
        home = city_home(args.city_home, Path(tmp))
        import os

        os.environ["GRIDWATCH_HOME"] = str(home)
        from dashboard import data

        name = "city"
        ver = data.version(name)
        grids = data.layer(name, ver, schema.GRIDS.name)
        community = grids[schema.COMMUNITY].value_counts().index[0]
        view = data.scoped(name, Scope("community", community))
        start = time.perf_counter()
        data.joined(name, ver, schema.TICKETS.name)  # the warm state a running server holds
        print(f"city: {len(grids):,} grids; joined once in {time.perf_counter() - start:.1f} s (not counted)")
        last = data.as_of(name, ver).date()
        first = last - timedelta(days=29)
        unscoped = page_figures(data, name, ver, first, last)
        scoped = page_figures(data, view, ver, first, last)
        n = int((grids[schema.COMMUNITY] == community).sum())
        print(f"Performance figures, whole city (baseline)     {unscoped:6.2f} s")
        print(
            f"Performance figures, community {community} ({n} grids)  {scoped:6.2f} s   ratio {scoped / unscoped:.2f}"
        )


if __name__ == "__main__":
    main()
