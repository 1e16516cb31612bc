"""Copying GeoPackage workspaces into PostGIS with their whole history (``gridwatch migrate``).

Every kept version is copied as it was: its number, when it was made, by whom and why, which layers it
changed and, per layer, exactly the rows it saw; a table several versions share (appends in place, a
re-activation) is copied once, so history, rollback and ``activate`` work on the copy as they did on
the original. Settings (the profile with the time zone, column mappings, …) and the event log (with
its ``seq`` numbers and receive times) come along. The copy of one workspace is one transaction: it is
there whole or not at all. A target workspace that exists and is not empty is refused (nothing changes).

What is NOT here: the backends themselves (``core.geopackage``, ``core.postgis``).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyogrio
from psycopg import sql

from core import events as ev
from core import schema
from core.errors import ConfigError, WorkspaceError
from core.geopackage import GeoPackageStore
from core.postgis import PostgisStore
from core.store import no_such_workspace, restore, workspaces_dir

__all__ = ["MigrateResult", "migrate_workspace", "migrate_workspaces"]


@dataclass(frozen=True)
class MigrateResult:
    """What copying one workspace did."""

    name: str
    versions: int
    tables: int
    rows: int
    events: int
    settings: int


def migrate_workspaces(url: str, names: list[str] | None = None, home: Path | None = None) -> list[MigrateResult]:
    """Copy the GeoPackage workspaces ``names`` (default: all under the data directory) into the PostGIS
    database at ``url``; every target is checked before the first is copied."""
    if not url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(
            f"the migration target must be a postgresql:// URL, got {url[:40]!r}",
            code="database_url",
            params={"value": url[:40]},
        )
    chosen = names if names else sorted(p.stem for p in workspaces_dir(home).glob("*.gpkg"))
    for name in chosen:
        if not (workspaces_dir(home) / f"{name}.gpkg").exists():
            raise no_such_workspace(name)
        _refuse_not_empty(url, name)
    return [migrate_workspace(url, name, home) for name in chosen]


def migrate_workspace(url: str, name: str, home: Path | None = None) -> MigrateResult:
    """Copy GeoPackage workspace ``name`` into PostGIS with every version, its settings and events."""
    path = workspaces_dir(home) / f"{name}.gpkg"
    if not path.exists():
        raise no_such_workspace(name)
    source = GeoPackageStore(path)
    _refuse_not_empty(url, name)
    target = PostgisStore(url, name)
    history = list(reversed(source.history()))  # oldest first
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
        marks = {int(v): json.loads(r) for v, r in db.execute("SELECT version, rows FROM gw_versions")}
        stored_settings = {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM gw_settings")}
    tz = source.timezone()
    rows_copied = 0
    tables_copied: set[str] = set()
    with target._writer() as cur:
        if target._version(cur) > 0 or target._event_mark(cur) > 0:
            raise _not_empty(name)
        for info in history:
            for layer, table in info.tables.items():
                if table in tables_copied:
                    continue
                frame = pyogrio.read_dataframe(path, layer=table, use_arrow=True, fid_as_index=True)
                frame = restore(frame.sort_index(), layer, tz)
                spec = schema.LAYERS[layer]
                frame = frame[[*spec.column_names, frame.geometry.name]]
                target._create_table(cur, table, spec)
                target._copy_rows(cur, table, frame.reset_index(drop=True), spec, fids=list(frame.index))
                cur.execute(
                    target._q(
                        "SELECT setval(pg_get_serial_sequence(%s, 'fid'), GREATEST(MAX(fid), 1)) FROM {s}.{t}", table
                    ),
                    (f'"{target.schema}"."{table}"',),
                )
                tables_copied.add(table)
                rows_copied += len(frame)
            cur.execute(
                target._q(
                    "INSERT INTO {s}.versions (version, created_at, author, note, tables, changed, rows) "
                    "VALUES (%s, %s, %s, %s, %s::jsonb, %s::jsonb, %s::jsonb)"
                ),
                (
                    info.version,
                    info.created_at,
                    info.author,
                    info.note,
                    json.dumps(dict(info.tables)),
                    json.dumps(list(info.changed)),
                    json.dumps(marks.get(info.version, {})),
                ),
            )
        for key, value in stored_settings.items():
            cur.execute(
                target._q("INSERT INTO {s}.settings (key, value) VALUES (%s, %s::jsonb)"), (key, json.dumps(value))
            )
        events = source.events()
        if len(events):
            names = list(ev.COLUMNS)
            copy = sql.SQL("COPY {}.events ({}) FROM STDIN").format(
                sql.Identifier(target.schema), sql.SQL(", ").join(map(sql.Identifier, names))
            )
            with cur.copy(copy) as out:
                for row in events[names].itertuples(index=False):
                    out.write_row([_value(v) for v in row])
            cur.execute(
                target._q("SELECT setval(pg_get_serial_sequence(%s, 'seq'), MAX(seq)) FROM {s}.events"),
                (f'"{target.schema}".events',),
            )
    return MigrateResult(name, len(history), len(tables_copied), rows_copied, len(events), len(stored_settings))


def _refuse_not_empty(url: str, name: str) -> None:
    from core.postgis import connection, schema_name

    with connection(url) as conn:
        exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema_name(name),)).fetchone()
    if exists is None:
        return
    target = PostgisStore(url, name, create=False)
    if target.version() > 0 or target.event_mark() > 0:
        raise _not_empty(name)


def _not_empty(name: str) -> WorkspaceError:
    return WorkspaceError(
        f"workspace `{name}` already holds data in the database; delete it there first "
        f"(GRIDWATCH_DB=… gridwatch workspace delete {name}) or migrate into another database",
        code="migrate_target_not_empty",
        params={"name": name},
    )


def _value(value: object) -> object:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):
        return value.item()
    return value
