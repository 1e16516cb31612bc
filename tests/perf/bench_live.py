"""Live intake into the store: appending tickets to the city workspace, in time and in disk.

    python tests/perf/bench_live.py                          # builds the city (~3 min), then measures
    python tests/perf/bench_live.py --city-home /tmp/city    # reuse a built city (tests/perf/city.py)
    python tests/perf/bench_live.py --tickets 100000         # a smaller city
    python tests/perf/bench_live.py --postgis postgresql://gridwatch:gridwatch@127.0.0.1:5432/gridwatch
                                                             # the same on the PostGIS store (a fresh
                                                             # workspace, built with COPY, dropped after)

Measured on the GeoPackage store (``core.geopackage``), the embedded default:

* **append 1 ticket** — ``Store.append`` of one new ticket, repeated, as a ticket arriving on its own
  does it: median and p95 (target ≤ 50 ms p95);
* **disk growth per 1,000 tickets** — the workspace file (WAL checkpointed) before and after 1,000
  single-ticket appends, each its own version (target ≤ 1 MB);
* **bulk** — one append of 1,000 tickets.

With ``--postgis`` the store is ``core.postgis`` and disk is the sum of ``pg_total_relation_size`` over
the workspace schema's tables (indexes and TOAST included): what the appended rows, their index entries
and the version rows take. Its baseline writes the whole layer again as a new version.

Baseline in the same run: the whole-layer append the store did before (``append_by_copy``: the layer
read, concatenated, validated and written again as a new table), one ticket.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from city import city_home

from core import schema
from core.geopackage import GeoPackageStore
from core.store import Store, open_store

MB = 2**20
SINGLE_APPENDS = 1_000
TIMED_APPENDS = 100


def size_mb(store: Store) -> float:
    """The workspace's bytes on disk once the write-ahead log is folded in (PostGIS: its tables)."""
    if not isinstance(store, GeoPackageStore):
        from core.postgis import PostgisStore, connection

        assert isinstance(store, PostgisStore)
        with connection(store.url) as conn:
            row = conn.execute(
                "SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
                (store.schema,),
            ).fetchone()
        return float(row[0]) / MB
    db = sqlite3.connect(store.path)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return sum(p.stat().st_size for p in store.path.parent.glob(f"{store.path.name}*")) / MB


def new_tickets(template: pd.DataFrame, first: int, n: int) -> pd.DataFrame:
    """``n`` new tickets shaped like ``template``'s rows, with ids no stored ticket has."""
    rows = template.sample(n, replace=True, random_state=first).reset_index(drop=True)
    rows[schema.TICKET_ID] = [f"LIVE{first + i:08d}" for i in range(n)]
    return rows


def append_by_copy(store: Store, rows: pd.DataFrame) -> None:
    """The whole-layer append: ``GeoPackageStore.append_by_copy``, on PostGIS the layer written again."""
    if isinstance(store, GeoPackageStore):
        store.append_by_copy(schema.TICKETS.name, rows, note="copy")
    else:
        store.write(
            schema.TICKETS.name, pd.concat([store.read(schema.TICKETS.name), rows], ignore_index=True), note="copy"
        )


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city-home", type=Path, help="a data directory holding a built city workspace")
    parser.add_argument("--tickets", type=int, default=1_000_000, help="tickets of the city built (default 1M)")
    parser.add_argument("--postgis", metavar="URL", help="measure the PostGIS store in this database instead")
    parser.add_argument("--timed", type=int, default=TIMED_APPENDS, help="single appends timed (default 100)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        store: Store
        if args.postgis:
            from city import city_layers

            from core.postgis import PostgisStore

            store = PostgisStore(args.postgis, f"bench_live_{int(time.time())}", new=True)
            print(f"building the city workspace in PostGIS ({args.tickets:,} tickets, COPY) …", flush=True)
            layers = city_layers(n_tickets=args.tickets)
            print(f"  written in {timed(lambda: store.initialize(layers, note='city')):.0f} s", flush=True)
        else:
            store = open_store("city", city_home(args.city_home, Path(tmp), n_tickets=args.tickets), create=False)
        try:
            measure(store, args.timed)
        finally:
            if args.postgis:
                store.drop()


def measure(store: Store, timed_appends: int) -> None:
    template = store.read(schema.TICKETS.name).head(10_000)
    stored = len(store.read(schema.TICKETS.name))
    print(f"city: {stored:,} tickets, {size_mb(store):,.0f} MB on disk")

    seconds = [
        timed(lambda i=i: store.append(schema.TICKETS.name, new_tickets(template, i, 1), note="live ticket"))
        for i in range(timed_appends)
    ]
    before = size_mb(store)
    for i in range(timed_appends, timed_appends + SINGLE_APPENDS):
        store.append(schema.TICKETS.name, new_tickets(template, i, 1), note="live ticket")
    growth = size_mb(store) - before
    bulk = timed(lambda: store.append(schema.TICKETS.name, new_tickets(template, 10**6, 1_000), note="a bulk sync"))

    before = size_mb(store)
    baseline = timed(lambda: append_by_copy(store, new_tickets(template, 2 * 10**6, 1)))
    baseline_growth = size_mb(store) - before
    assert len(store.read(schema.TICKETS.name)) == stored + timed_appends + SINGLE_APPENDS + 1_000 + 1

    p95 = statistics.quantiles(seconds, n=20)[-1]
    print(f"append 1 ticket, median             {statistics.median(seconds) * 1000:8.1f} ms")
    print(f"append 1 ticket, p95                {p95 * 1000:8.1f} ms   (target 50 ms)")
    print(f"  baseline: whole-layer append      {baseline * 1000:8.0f} ms   ratio {p95 / baseline:.4f}")
    print(f"disk growth per 1,000 tickets        {growth:8.2f} MB   (1,000 appends, one version each; target 1 MB)")
    print(f"  baseline: one whole-layer append  {baseline_growth:8.1f} MB   for one ticket")
    print(f"bulk append of 1,000 tickets         {bulk * 1000:8.0f} ms")


if __name__ == "__main__":
    main()
