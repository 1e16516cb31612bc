"""``gridwatch`` command: ``serve`` starts the dashboard on 127.0.0.1, ``demo`` rewrites the demo data."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

APP = Path(__file__).with_name("app.py")


def serve(port: int) -> None:
    args = [sys.executable, "-m", "streamlit", "run", str(APP),
            "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
            "--browser.gatherUsageStats", "false", "--global.developmentMode", "false",
            "--client.toolbarMode", "minimal",
            "--client.showErrorDetails", "none"]
    print(f"GridWatch: http://127.0.0.1:{port}  (data in {os.environ.get('GRIDWATCH_HOME', 'var')}/)")
    os.execv(sys.executable, args)


def demo(seed: int | None) -> None:
    from geodata import generate

    counts = generate.write_demo(seed=seed if seed is not None else generate.DEFAULT_SEED)
    for layer, n in counts.items():
        print(f"{layer:16} {n:>7,}")
    print(f"written to {generate.DEMO_DIR}; existing workspaces are unchanged")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="gridwatch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="start the dashboard on 127.0.0.1")
    p_serve.add_argument("--port", type=int, default=8501)
    p_demo = sub.add_parser("demo", help="regenerate the bundled demo district")
    p_demo.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.port)
    else:
        demo(args.seed)


if __name__ == "__main__":
    main()
