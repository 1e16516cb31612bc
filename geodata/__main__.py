"""``python -m geodata [--seed N] [--out DIR]``: regenerate the demo district's files."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from geodata.generate import DEFAULT_SEED, DEMO_DIR, write_demo


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m geodata", description=__doc__)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--out", type=Path, default=DEMO_DIR, help=f"output directory (default {DEMO_DIR})")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = write_demo(args.out, seed=args.seed)
    elapsed = time.perf_counter() - started
    for name, rows in counts.items():
        size = (args.out / f"{name}.parquet").stat().st_size
        print(f"{name:<16} {rows:>7,} rows  {size / 1024:>7.0f} KiB")
    print(f"wrote {args.out} in {elapsed:.1f} s (seed {args.seed})")


if __name__ == "__main__":
    main()
