"""``gridwatch`` command.

* ``serve`` starts the dashboard on 127.0.0.1;
* ``demo`` rewrites the bundled demo data;
* ``import LAYER FILE`` checks a file like the Data page does, prints the report, and with
  ``--activate`` stores it as a new workspace version. Exit status 1 when the report has errors.
"""

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


IMPORT_LAYERS = {name.replace("_", "-"): name for name in ("grids", "cameras", "service_points", "tickets",
                                                          "members", "patrol_teams", "patrol_checkins")}


def import_file(args: argparse.Namespace) -> int:
    from core import store, uploads
    from core.errors import GridWatchError

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    options = uploads.UploadOptions(
        file_layer=args.layer, crs=args.crs, encoding=args.encoding, x_column=args.x_column,
        y_column=args.y_column, wkt_column=args.wkt_column, datum=args.datum,
        repair_invalid=args.repair, polygonize=args.polygonize,
        skip_missing_coordinates=args.skip_missing_coordinates)
    try:
        ws = store.open_store(args.workspace)
        layer_name = IMPORT_LAYERS[args.layer_name]
        overrides = dict(item.split("=", 1) for item in args.map or () if "=" in item)
        fixed = dict(item.split("=", 1) for item in args.set or () if "=" in item)
        values = _value_options(args.value or ())
        check = uploads.check_upload(ws, layer_name, path.name, data, options, overrides=overrides,
                                     fixed=fixed, values=values,
                                     mode="append" if args.append else "replace")
        print("\n".join(uploads.report_lines(check)))
        if not check.can_activate:
            return 1
        if args.activate:
            version = uploads.activate_upload(ws, check, note=args.note or f"import {path.name}",
                                              author=args.author)
            print(f"activated as version {version} of workspace `{ws.name}`")
        return 0
    except GridWatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _value_options(items) -> dict[str, dict[str, str]]:
    """``--value FIELD:FILE VALUE=CODE`` options as {field: {file value: code}}; the file value may be
    quoted and may hold "=" (the code, after the last "=", never does)."""
    from core.errors import GridWatchError

    values: dict[str, dict[str, str]] = {}
    for item in items:
        field, sep, rest = item.partition(":")
        value, eq, code = rest.rpartition("=")
        if not (sep and eq and field.strip() and code.strip()):
            raise GridWatchError(f"--value {item!r} is not FIELD:VALUE=CODE, e.g. --value "
                                 "source:\"Phone Call\"=hotline")
        values.setdefault(field.strip(), {})[value.strip().strip("\"'")] = code.strip()
    return values


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="gridwatch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="start the dashboard on 127.0.0.1")
    p_serve.add_argument("--port", type=int, default=8501)
    p_demo = sub.add_parser("demo", help="regenerate the bundled demo district")
    p_demo.add_argument("--seed", type=int, default=None)
    p_import = sub.add_parser("import", help="check a file (and with --activate, store it)")
    p_import.add_argument("layer_name", choices=sorted(IMPORT_LAYERS), metavar="LAYER",
                          help=f"one of: {', '.join(IMPORT_LAYERS)}")
    p_import.add_argument("file")
    p_import.add_argument("--workspace", default="demo")
    p_import.add_argument("--layer", help="layer inside the file (GeoPackage, zip with several shapefiles)")
    p_import.add_argument("--crs", help="coordinate system of the file, e.g. EPSG:4490")
    p_import.add_argument("--encoding", help="text encoding, e.g. gbk or utf-8")
    p_import.add_argument("--x-column")
    p_import.add_argument("--y-column")
    p_import.add_argument("--wkt-column")
    p_import.add_argument("--datum", choices=["gcj02", "bd09"], help="convert from this datum to WGS84")
    p_import.add_argument("--repair", action="store_true", help="repair invalid polygons (make_valid)")
    p_import.add_argument("--polygonize", action="store_true", help="turn boundary lines into polygons")
    p_import.add_argument("--map", action="append", metavar="FIELD=COLUMN",
                          help="map a file column to a canonical field (repeatable)")
    p_import.add_argument("--set", action="append", metavar="FIELD=VALUE",
                          help="give a field one value in every row, e.g. --set status=online")
    p_import.add_argument("--value", action="append", metavar="FIELD:VALUE=CODE",
                          help='read a file value as a code, e.g. --value source:"Phone Call"=hotline')
    p_import.add_argument("--skip-missing-coordinates", action="store_true",
                          help="leave out the rows without usable coordinates (point layers)")
    p_import.add_argument("--activate", action="store_true", help="store it as a new version if it passes")
    p_import.add_argument("--append", action="store_true", help="add the rows instead of replacing the layer")
    p_import.add_argument("--note", default="")
    p_import.add_argument("--author", default=os.environ.get("USER", "cli"))
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.port)
    elif args.command == "demo":
        demo(args.seed)
    else:
        sys.exit(import_file(args))


if __name__ == "__main__":
    main()
