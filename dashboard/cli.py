"""``gridwatch`` command.

* ``serve`` starts the dashboard on 127.0.0.1 and the intake API beside it (port + 1); both stop together;
* ``api [--port 8601] [--workspace NAME]`` starts only the intake API (``dashboard.api``) on 127.0.0.1;
* ``apikey create|revoke|list --workspace NAME [--source NAME]`` manages the API keys of the sources
  that send events (a new key is printed once; only its hash is kept);
* ``services list|set FILE --workspace NAME`` shows or replaces the Open311 service code map (JSON: a
  list of {service_code, service_name, category, description});
* ``user add NAME --role ROLE [--scope street:NAME|community:NAME] [--display-name TEXT]`` (password
  read from stdin), ``user list``, ``user disable|enable|unlock NAME``, ``user reset-password NAME``
  (prints a one-time password) manage the accounts (``core.accounts``); the first ``serve`` on an
  install without accounts makes ``admin`` and prints its one-time password;
* ``demo`` rewrites the bundled demo data;
* ``import LAYER FILE`` checks a file like the Data page does, prints the report, and with
  ``--activate`` stores it as a new workspace version. Exit status 1 when the report has errors, or when
  ``--activate`` stored nothing. The workspace must exist (checking a file never creates one);
* ``workspace create NAME [--timezone ZONE] [--metric-crs EPSG:CODE|auto] [--from-demo]``,
  ``workspace list``, ``workspace delete NAME`` and ``workspace clear NAME LAYER`` manage workspaces.
  Deleting or clearing asks for the name typed again on stdin; ``--confirm NAME`` (the same name again)
  does it without asking, for scripts. Exit status 1 when the names do not match (nothing changes);
* ``migrate --to postgresql://… [--workspace NAME]`` copies GeoPackage workspaces (default: all under
  ``GRIDWATCH_HOME``) into a PostGIS database with every version, their settings and events; then set
  ``GRIDWATCH_DB`` to that URL. Exit status 1 when a target workspace there already holds data.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import fields
from pathlib import Path

SERVER = Path(__file__).with_name("server.py")  # app.py inside st.App, with the Host check


def serve(port: int) -> int:
    """The dashboard (streamlit) and the intake API (uvicorn, on ``port + 1``) as child processes; when
    either ends, or on SIGTERM / Ctrl-C, both are stopped. Returns the dashboard's exit status."""
    args = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(SERVER),
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--global.developmentMode",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--client.showErrorDetails",
        "none",
    ]
    from core.errors import ConfigError

    try:
        args += sso_secrets()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    api_args = [sys.executable, "-m", "dashboard.cli", "api", "--port", str(port + 1)]
    print(f"GridWatch: http://127.0.0.1:{port}  (data in {os.environ.get('GRIDWATCH_HOME', 'var')}/)")
    print(f"intake API: http://127.0.0.1:{port + 1}/open311/v2/services.json")
    sys.stdout.flush()
    env = {**os.environ, "STREAMLIT_SERVER_COOKIE_SECRET": cookie_secret()}  # not on the command line: ps shows it
    children = [subprocess.Popen(args, env=env), subprocess.Popen(api_args)]

    def stop(signum, frame) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    return children[0].returncode or 0


def cookie_secret() -> str:
    """This install's secret for Streamlit's signed cookies (XSRF), made once into
    ``GRIDWATCH_HOME/cookie_secret`` (readable by the owner only), so every dashboard process of the
    install and every restart share it; it is never in the repository."""
    import secrets

    from core import settings

    path = settings.home() / "cookie_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".cookie_secret.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
        try:
            os.link(draft, path)  # whole or not at all; a process that lost the race reads the winner's
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def sso_secrets() -> list[str]:
    """Streamlit's ``st.login`` reads its OpenID Connect client from a secrets file: when single sign-on
    is configured (``GRIDWATCH_SSO_*``), write it to ``GRIDWATCH_HOME/sso_secrets.toml`` (readable by
    the owner only, rewritten at every start) and return the arguments that point Streamlit at it."""
    from core import settings

    path = settings.home() / "sso_secrets.toml"
    sso = settings.single_sign_on()
    path.unlink(missing_ok=True)  # made anew below, owner-only; switched off: no client secret is left behind
    if sso is None:
        return []
    entries = {
        "redirect_uri": sso.redirect_uri,
        "cookie_secret": cookie_secret(),
        "client_id": sso.client_id,
        "client_secret": sso.client_secret,
        "server_metadata_url": sso.metadata_url,
    }
    # a JSON string is a TOML basic string
    text = "[auth]\n" + "".join(f"{name} = {json.dumps(value)}\n" for name, value in entries.items())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return ["--secrets.files", str(path)]


def first_admin() -> None:
    """On a fresh install (no account yet): make the account ``admin`` and print its one-time password."""
    from core import accounts
    from core.errors import GridWatchError

    try:
        password = accounts.book().first_admin()
    except GridWatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return
    if password:
        print(f"first sign-in: user `admin`, one-time password {password}  (you set your own at the first sign-in)")


def user_command(args: argparse.Namespace) -> int:
    """``gridwatch user add|list|disable|enable|unlock|reset-password|link|unlink``; a new password is
    read from stdin (``add`` without ``--sso``) or made and printed once (``reset-password``)."""
    import getpass
    import secrets

    from core import accounts, audit
    from core.errors import GridWatchError

    by = f"cli:{os.environ.get('USER', 'cli')}"
    try:
        book = accounts.book()
        if args.action == "list":
            linked = book.identities()
            for a in book.accounts():
                flags = ",".join(f for f, on in (("disabled", a.disabled), ("locked", a.locked)) if on) or "active"
                sso = " ".join(linked.get(a.username, []))
                print(f"{a.username:20} {','.join(sorted(a.roles)):32} {a.scope!s:28} {flags:9} {sso}".rstrip())
            return 0
        if args.action == "add":
            if not args.role:
                print("error: name at least one --role", file=sys.stderr)
                return 2
            scope = accounts.Scope.parse(args.scope)
            if args.sso:
                password = None
            elif sys.stdin.isatty():
                password = getpass.getpass(f"password for {args.name}: ")
            else:
                password = sys.stdin.readline().rstrip("\n")
            book.add(args.name, password, args.role, display_name=args.display_name, scope=scope, sso=args.sso)
            if args.sso:
                signs_in = f"signs in through single sign-on as {args.sso.strip().casefold()}"
            else:
                signs_in = "the password is changed at the first sign-in"
            print(f"account `{args.name}` added ({', '.join(sorted(args.role))}; {scope}); {signs_in}")
            detail = f"added: {','.join(sorted(args.role))}; {scope}" + (
                f"; sso {args.sso.strip()}" if args.sso else ""
            )
        elif args.action == "link":
            book.link(args.name, args.identity)
            print(f"`{args.identity.strip().casefold()}` now signs in to `{args.name}` through single sign-on")
            detail = f"sso linked: {args.identity.strip()}"
        elif args.action == "unlink":
            owner = book.unlink(args.name)
            print(f"`{args.name.strip().casefold()}` no longer signs in to `{owner}`")
            args.name, detail = owner, f"sso unlinked: {args.name.strip()}"
        elif args.action == "reset-password":
            password = secrets.token_urlsafe(12)
            book.set_password(args.name, password, must_change=True)
            print(f"one-time password of `{args.name}`: {password}  (changed at the next sign-in)")
            detail = "password reset"
        elif args.action == "unlock":
            book.unlock(args.name)
            print(f"account `{args.name}` unlocked")
            detail = "unlocked"
        else:
            book.update(args.name, disabled=args.action == "disable")
            print(f"account `{args.name}` {args.action}d")
            detail = f"{args.action}d"
        audit.record("account_changed", by, target=args.name, detail=detail)
        return 0
    except GridWatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def api(port: int, workspace: str | None) -> None:
    from dashboard.api import serve_api

    print(f"GridWatch intake API: http://127.0.0.1:{port}/open311/v2/services.json", flush=True)
    serve_api(port, workspace)


def apikey_command(args: argparse.Namespace) -> int:
    from core import apikeys, store
    from core.errors import GridWatchError

    try:
        ws = store.open_store(args.workspace, create=False)
        if args.action == "list":
            for info in apikeys.list_keys(ws):
                state = "revoked" if info.revoked else "active"
                print(f"{info.source:24} {info.created_at:26} {state:8} …{info.last4}")
            return 0
        if not args.source:
            print("error: --source NAME is required", file=sys.stderr)
            return 2
        if args.action == "create":
            key = apikeys.create_key(ws, args.source)
            print(key)
            print(f"API key for source `{args.source}` in workspace `{ws.name}`; it is shown only now", file=sys.stderr)
        else:
            apikeys.revoke_key(ws, args.source)
            print(f"revoked the API key of source `{args.source}` in workspace `{ws.name}`")
        return 0
    except GridWatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def services_command(args: argparse.Namespace) -> int:
    from core import intake, store
    from core.errors import GridWatchError

    try:
        ws = store.open_store(args.workspace, create=False)
        if args.action == "list":
            print(json.dumps(intake.service_code_map(ws), indent=1, ensure_ascii=False))
            return 0
        try:
            entries = json.loads(Path(args.file).read_text(encoding="utf-8"))
        except OSError as exc:
            print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
            return 2
        except json.JSONDecodeError as exc:
            print(f"error: {args.file} is not JSON ({exc.msg}, line {exc.lineno})", file=sys.stderr)
            return 1
        checked = intake.set_service_codes(ws, entries)
        print(f"workspace `{ws.name}` now has {len(checked)} service code(s)")
        return 0
    except GridWatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def demo(seed: int | None) -> None:
    from geodata import generate

    counts = generate.write_demo(seed=seed if seed is not None else generate.DEFAULT_SEED)
    for layer, n in counts.items():
        print(f"{layer:16} {n:>7,}")
    print(f"written to {generate.DEMO_DIR}; existing workspaces are unchanged")


IMPORT_LAYERS = {
    name.replace("_", "-"): name
    for name in ("grids", "cameras", "service_points", "tickets", "members", "patrol_teams", "patrol_checkins")
}


# Each ``UploadOptions`` field comes from the import argument of the same name, except these.
_OPTION_ARGUMENTS = {"file_layer": "layer", "repair_invalid": "repair"}


def import_file(args: argparse.Namespace) -> int:
    from core import geometry, store, uploads, workspaces
    from core.errors import GridWatchError

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    chosen = {f.name: getattr(args, _OPTION_ARGUMENTS.get(f.name, f.name)) for f in fields(uploads.UploadOptions)}
    options = uploads.UploadOptions(**chosen)
    try:
        ws = store.open_store(args.workspace, create=False)
        layer_name = IMPORT_LAYERS[args.layer_name]
        overrides = dict(item.split("=", 1) for item in args.map or () if "=" in item)
        fixed = dict(item.split("=", 1) for item in args.set or () if "=" in item)
        values = _value_options(args.value or ())
        with geometry.measuring_in(workspaces.profile_of(ws).metric_crs):
            check = uploads.check_upload(
                ws,
                layer_name,
                path.name,
                data,
                options,
                overrides=overrides,
                fixed=fixed,
                values=values,
                mode="append" if args.append else "replace",
            )
        print("\n".join(uploads.report_lines(check)))
        if not check.can_activate or (check.shrink and not args.confirm_shrink):
            if args.activate:
                print(
                    f"nothing was stored: workspace `{ws.name}` stays at version {ws.version()}; fix the "
                    "errors or confirm the settings above, then run again",
                    file=sys.stderr,
                )
            return 1
        if args.activate:
            version = uploads.activate_upload(
                ws,
                check,
                note=args.note or f"import {path.name}",
                author=args.author,
                confirm_shrink=args.confirm_shrink,
            )
            print(f"activated as version {version} of workspace `{ws.name}`")
        return 0
    except GridWatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def confirmed(what: str, expected: str, given: str | None) -> bool:
    """Whether the user typed ``expected`` again (``given`` from --confirm, else asked on stdin)."""
    if given is None:
        try:
            given = input(f"type the {what} `{expected}` again to confirm: ")
        except EOFError:
            given = ""
    if given.strip() != expected:
        print(f"not confirmed: `{given.strip()}` is not `{expected}`; nothing was changed", file=sys.stderr)
        return False
    return True


def workspace_command(args: argparse.Namespace) -> int:
    from core import store, workspaces
    from core.errors import GridWatchError

    try:
        if args.action == "list":
            for info in workspaces.list_workspaces():
                print(f"{info.name:24} {info.profile.timezone:24} {info.profile.metric_crs:12} version {info.version}")
        elif args.action == "create":
            layers, seed_settings = (None, None)
            if args.from_demo:
                from geodata import demo_seed

                layers, seed_settings = demo_seed()
            ws = workspaces.create_workspace(
                args.name,
                workspaces.Profile(args.timezone, args.metric_crs),
                layers=layers,
                seed_settings=seed_settings,
                note="demo district (synthetic)" if args.from_demo else "",
            )
            profile = workspaces.profile_of(ws)
            print(
                f"created workspace `{ws.name}` (time zone {profile.timezone}, metric CRS "
                f"{profile.metric_crs}, version {ws.version()})"
            )
        elif args.action == "delete":
            store.open_store(args.name, create=False)  # says so before asking when there is none
            if not confirmed("workspace name", args.name, args.confirm):
                return 1
            workspaces.delete_workspace(args.name)
            print(f"deleted workspace `{args.name}`")
        else:
            ws = store.open_store(args.name, create=False)
            layer_name = IMPORT_LAYERS[args.layer_name]
            if not confirmed("layer name", args.layer_name, args.confirm):
                return 1
            version = ws.clear(layer_name, note=args.note or f"clear {layer_name}", author=args.author)
            print(
                f"cleared `{layer_name}` as version {version} of workspace `{ws.name}` "
                "(a rollback on the Data page brings it back)"
            )
        return 0
    except GridWatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def migrate_command(args: argparse.Namespace) -> int:
    from core import migrate
    from core.errors import GridWatchError

    try:
        results = migrate.migrate_workspaces(args.to, args.workspace or None)
    except GridWatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for r in results:
        print(f"{r.name:24} {r.versions:>4} versions {r.rows:>9,} rows {r.events:>9,} events {r.settings:>3} settings")
    print(f"copied {len(results)} workspace(s); set GRIDWATCH_DB to that URL to use them")
    return 0


def _value_options(items) -> dict[str, dict[str, str]]:
    """``--value FIELD:FILE VALUE=CODE`` options as {field: {file value: code}}; the file value may be
    quoted and may hold "=" (the code, after the last "=", never does)."""
    from core.errors import GridWatchError

    values: dict[str, dict[str, str]] = {}
    for item in items:
        field, sep, rest = item.partition(":")
        value, eq, code = rest.rpartition("=")
        if not (sep and eq and field.strip() and code.strip()):
            raise GridWatchError(f'--value {item!r} is not FIELD:VALUE=CODE, e.g. --value source:"Phone Call"=hotline')
        values.setdefault(field.strip(), {})[value.strip().strip("\"'")] = code.strip()
    return values


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="gridwatch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="start the dashboard on 127.0.0.1")
    p_serve.add_argument("--port", type=int, default=8501)
    p_api = sub.add_parser("api", help="start the intake API (Open311) on 127.0.0.1")
    p_api.add_argument("--port", type=int, default=8601)
    p_api.add_argument(
        "--workspace",
        default=None,
        help="default workspace (else GRIDWATCH_WORKSPACE, else demo, or the only workspace)",
    )
    p_key = sub.add_parser("apikey", help="create, revoke or list the API keys of event sources")
    p_key.add_argument("action", choices=["create", "revoke", "list"])
    p_key.add_argument("--workspace", default="demo")
    p_key.add_argument("--source", help="who sends with the key (letters, digits, '_', '.', '-')")
    p_services = sub.add_parser("services", help="list or set the Open311 service code map")
    p_services.add_argument("action", choices=["list", "set"])
    p_services.add_argument("file", nargs="?", help="with set: a JSON list of service codes")
    p_services.add_argument("--workspace", default="demo")
    p_demo = sub.add_parser("demo", help="regenerate the bundled demo district")
    p_demo.add_argument("--seed", type=int, default=None)
    p_import = sub.add_parser("import", help="check a file (and with --activate, store it)")
    p_import.add_argument(
        "layer_name", choices=sorted(IMPORT_LAYERS), metavar="LAYER", help=f"one of: {', '.join(IMPORT_LAYERS)}"
    )
    p_import.add_argument("file")
    p_import.add_argument("--workspace", default="demo", help="an existing workspace (gridwatch workspace list)")
    p_import.add_argument("--layer", help="layer inside the file (GeoPackage, zip with several shapefiles)")
    p_import.add_argument("--crs", help="coordinate system of the file, e.g. EPSG:4490")
    p_import.add_argument("--encoding", help="text encoding, e.g. gbk or utf-8")
    p_import.add_argument("--x-column")
    p_import.add_argument("--y-column")
    p_import.add_argument("--wkt-column")
    p_import.add_argument("--datum", choices=["gcj02", "bd09"], help="convert from this datum to WGS84")
    p_import.add_argument("--repair", action="store_true", help="repair invalid polygons (make_valid)")
    p_import.add_argument("--polygonize", action="store_true", help="turn boundary lines into polygons")
    p_import.add_argument(
        "--map", action="append", metavar="FIELD=COLUMN", help="map a file column to a canonical field (repeatable)"
    )
    p_import.add_argument(
        "--set",
        action="append",
        metavar="FIELD=VALUE",
        help="give a field one value in every row, e.g. --set status=online",
    )
    p_import.add_argument(
        "--value",
        action="append",
        metavar="FIELD:VALUE=CODE",
        help='read a file value as a code, e.g. --value source:"Phone Call"=hotline',
    )
    p_import.add_argument(
        "--skip-missing-coordinates",
        action="store_true",
        help="leave out the rows without usable coordinates (point layers)",
    )
    p_import.add_argument("--activate", action="store_true", help="store it as a new version if it passes")
    p_import.add_argument("--append", action="store_true", help="add the rows instead of replacing the layer")
    p_import.add_argument(
        "--confirm-shrink",
        action="store_true",
        help="replace the layer even if that empties it or removes more than half of it",
    )
    p_import.add_argument("--note", default="")
    p_import.add_argument("--author", default=os.environ.get("USER", "cli"))
    p_ws = sub.add_parser("workspace", help="create, list, delete workspaces; clear a layer")
    ws_sub = p_ws.add_subparsers(dest="action", required=True)
    p_create = ws_sub.add_parser("create", help="a new workspace for a city")
    p_create.add_argument("name", help="letters, digits, '_' and '-'")
    p_create.add_argument(
        "--timezone",
        default="Asia/Shanghai",
        help="IANA time zone of the city's clock, e.g. Europe/Berlin (default Asia/Shanghai)",
    )
    p_create.add_argument(
        "--metric-crs",
        default="auto",
        help="EPSG code of a projected CRS in metres for areas and distances, e.g. "
        "EPSG:25832, or auto (the UTM zone of the data; default)",
    )
    p_create.add_argument("--from-demo", action="store_true", help="start from the demo district's layers")
    ws_sub.add_parser("list", help="workspaces with their time zone, metric CRS and version")
    p_delete = ws_sub.add_parser("delete", help="delete a workspace with every version (asks for the name again)")
    p_delete.add_argument("name")
    p_delete.add_argument("--confirm", metavar="NAME", help="the name again, to delete without asking")
    p_clear = ws_sub.add_parser("clear", help="remove a layer as a new version (asks for the layer again)")
    p_clear.add_argument("name")
    p_clear.add_argument(
        "layer_name", choices=sorted(IMPORT_LAYERS), metavar="LAYER", help=f"one of: {', '.join(IMPORT_LAYERS)}"
    )
    p_clear.add_argument("--confirm", metavar="LAYER", help="the layer again, to clear without asking")
    p_clear.add_argument("--note", default="")
    p_clear.add_argument("--author", default=os.environ.get("USER", "cli"))
    p_migrate = sub.add_parser("migrate", help="copy GeoPackage workspaces into PostGIS with their history")
    p_migrate.add_argument("--to", required=True, metavar="URL", help="postgresql://user:password@host:port/database")
    p_migrate.add_argument(
        "--workspace", action="append", metavar="NAME", help="copy only this workspace (repeatable; default: all)"
    )
    p_user = sub.add_parser(
        "user", help="add, list, disable, enable, unlock accounts; reset a password; link single sign-on identities"
    )
    p_user.add_argument(
        "action", choices=["add", "list", "disable", "enable", "unlock", "reset-password", "link", "unlink"]
    )
    p_user.add_argument("name", nargs="?", help="the user name (all but list; unlink: the identity)")
    p_user.add_argument("identity", nargs="?", help="link: the single sign-on identity (e.g. an e-mail address)")
    p_user.add_argument(
        "--sso", metavar="IDENTITY", help="with add: an account that signs in through single sign-on only, as IDENTITY"
    )
    p_user.add_argument(
        "--role", action="append", choices=["duty", "leader", "data_admin", "analyst"], help="with add (repeatable)"
    )
    p_user.add_argument("--scope", default="district", help="district, street:NAME or community:NAME")
    p_user.add_argument("--display-name", help="the name shown in the app and the audit log")
    args = parser.parse_args(argv)
    if args.command == "user" and args.action != "list" and not args.name:
        parser.error(f"user {args.action} needs NAME")
    if args.command == "user" and args.action == "link" and not args.identity:
        parser.error("user link needs NAME and IDENTITY")
    if args.command == "serve":
        first_admin()
        sys.exit(serve(args.port))
    elif args.command == "user":
        sys.exit(user_command(args))
    elif args.command == "api":
        api(args.port, args.workspace)
    elif args.command == "apikey":
        sys.exit(apikey_command(args))
    elif args.command == "services":
        if args.action == "set" and not args.file:
            parser.error("services set needs FILE")
        sys.exit(services_command(args))
    elif args.command == "demo":
        demo(args.seed)
    elif args.command == "workspace":
        sys.exit(workspace_command(args))
    elif args.command == "migrate":
        sys.exit(migrate_command(args))
    else:
        sys.exit(import_file(args))


if __name__ == "__main__":
    main()
