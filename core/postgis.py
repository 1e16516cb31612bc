"""The PostGIS workspace store: one PostgreSQL schema per workspace, selected by ``GRIDWATCH_DB``.

``PostgisStore`` implements ``core.store.Store`` with the guarantees of the embedded store
(``core.geopackage``), on a server several processes and machines share:

* **atomic** — a write creates its layer tables, fills them and inserts the version row that makes
  them visible in one transaction (PostgreSQL's DDL is transactional): a writer that dies mid-write
  leaves nothing behind, and the previous version stays active and whole.
* **serialized** — writers take ``pg_advisory_xact_lock`` keyed by the workspace (waiting at most
  ``LOCK_TIMEOUT_S``), so concurrent appends cannot lose rows; event batches take a second key.
* **readers never wait** — MVCC: a read sees the last committed version.

Workspace ``<name>`` is schema ``gw_<name>`` (a long name is shortened with a hash; the schema's comment
holds the name) with tables ``versions``, ``settings`` and ``events`` (the columns of
``core.events.COLUMNS``, ``seq`` a bigserial, a unique index on (kind, source, source_id) where
source_id is set, an index on (ref, seq), and ``geom``, a point made from lon/lat with a GiST index). A
layer written whole is a table ``<layer>__v<version>`` with ``fid bigserial``, ``geom`` (SRID 4326,
GiST index), the layer's columns and an index on its id. An append adds its rows to that table in place,
and the version records the last ``fid`` it sees (``rows``), as the embedded store does. Bulk writes use
COPY (geometry as hex EWKB); reads use ``ST_AsBinary`` and ``core.store.restore``.

Live updates: after a batch of events commits, the store sends ``NOTIFY gridwatch_events,
'<workspace>:<mark>'``. A dashboard may ``LISTEN gridwatch_events`` on its own connection and re-read
when its workspace's mark grows; polling ``event_mark()`` (one index lookup) works as well.

What is NOT here: the interface and choosing a backend (``core.store``), copying GeoPackage workspaces
into PostGIS (``core.migrate``).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus

from core import events as ev
from core import schema
from core.errors import ConfigError, WorkspaceBusyError, WorkspaceError
from core.store import (
    Store,
    VersionInfo,
    check_name,
    no_such_layer,
    no_such_version,
    no_such_workspace,
    prepare,
    restore,
    to_multi,
    without_layer,
)

__all__ = [
    "CHANNEL",
    "LOCK_TIMEOUT_S",
    "PostgisStore",
    "connection",
    "list_postgis_workspaces",
    "schema_name",
]

LOCK_TIMEOUT_S = 60.0
"""How long a writer waits for the workspace's lock before giving up (``WorkspaceBusyError``)."""
CHANNEL = "gridwatch_events"
"""The NOTIFY channel an events batch is announced on, with payload ``<workspace>:<event mark>``."""
_COMMENT = "gridwatch workspace "
_SQL_TYPES = {"str": "text", "int": "bigint", "float": "double precision", "datetime": "timestamptz", "bool": "boolean"}
_IDLE = 4
_idle: dict[tuple[int, str], list[psycopg.Connection]] = {}  # per process and URL: connections to reuse
_pool_lock = threading.Lock()


def schema_name(workspace: str) -> str:
    """The PostgreSQL schema of ``workspace``: ``gw_<name>``, shortened with a hash past 63 bytes."""
    name = f"gw_{check_name(workspace)}"
    if len(name) <= 63:
        return name
    return f"{name[:50]}_{hashlib.sha1(workspace.encode()).hexdigest()[:12]}"


def _where(url: str) -> tuple[str, str]:
    try:
        info = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        info = {}
    return str(info.get("host") or "localhost"), str(info.get("port") or "5432")


def _reason(exc: Exception, url: str) -> str:
    text = " ".join(str(exc).split())
    try:
        password = conninfo_to_dict(url).get("password")
    except psycopg.ProgrammingError:
        password = None
    return text.replace(str(password), "***") if password else text


def _open(url: str) -> psycopg.Connection:
    host, port = _where(url)
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10, application_name="gridwatch")
    except psycopg.Error as exc:
        reason = _reason(exc, url)
        raise ConfigError(
            f"cannot reach the database at {host}:{port}: {reason}; check GRIDWATCH_DB",
            code="database_unreachable",
            params={"host": host, "port": port, "reason": reason},
        ) from None
    conn.execute("SET TIME ZONE 'UTC'")
    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone() is None:
        conn.close()
        raise ConfigError(
            f"the database at {host}:{port} has no PostGIS; run `CREATE EXTENSION postgis` in it as its owner",
            code="postgis_missing",
            params={"host": host, "port": port},
        )
    return conn


@contextmanager
def connection(url: str) -> Iterator[psycopg.Connection]:
    """A connection to the database at ``url`` (autocommit; writes open explicit transactions), taken
    from this process's idle ones or opened, and put back after (at most ``_IDLE`` are kept per URL).
    Raises a ConfigError naming host and port (never the password) when the database cannot be reached
    or has no PostGIS."""
    key = (os.getpid(), url)
    with _pool_lock:
        idle = _idle.get(key)
        conn = idle.pop() if idle else None
    if conn is None or conn.closed or conn.broken:
        conn = _open(url)
    try:
        yield conn
    finally:
        reusable = not conn.closed and not conn.broken and conn.info.transaction_status == TransactionStatus.IDLE
        with _pool_lock:
            idle = _idle.get(key)
            if idle is None:
                idle = _idle[key] = []
            if reusable and len(idle) < _IDLE:
                idle.append(conn)
                conn = None
        if conn is not None:
            conn.close()


@atexit.register
def _close_idle() -> None:
    with _pool_lock:
        for (pid, _url), idle in _idle.items():
            while pid == os.getpid() and idle:
                idle.pop().close()


def list_postgis_workspaces(url: str) -> list[str]:
    """Names of the workspaces in the database at ``url``, sorted."""
    with connection(url) as conn:
        rows = conn.execute(
            "SELECT substr(obj_description(oid, 'pg_namespace'), %s) FROM pg_namespace "
            "WHERE obj_description(oid, 'pg_namespace') LIKE %s",
            (len(_COMMENT) + 1, _COMMENT + "%"),
        ).fetchall()
    return sorted(r[0] for r in rows)


class PostgisStore(Store):
    """A workspace in one PostgreSQL schema (see the module docstring for the guarantees)."""

    def __init__(self, url: str, workspace: str, *, create: bool = True, new: bool = False) -> None:
        self.url = url
        self.name = check_name(workspace)
        self.schema = schema_name(workspace)
        self._ensure_schema(create, new)

    # ---- reading ---------------------------------------------------------------------------------
    def version(self) -> int:
        with self._read() as cur:
            return _number(cur, self._q("SELECT COALESCE(MAX(version), 0) FROM {s}.versions"))

    def history(self) -> list[VersionInfo]:
        with self._read() as cur:
            rows = cur.execute(
                self._q("SELECT version, created_at, author, note, tables, changed FROM {s}.versions ORDER BY 1 DESC")
            ).fetchall()
        return [VersionInfo(int(v), c, a, n, dict(t), tuple(ch)) for v, c, a, n, t, ch in rows]

    def layers(self, version: int | None = None) -> tuple[str, ...]:
        with self._read() as cur:
            tables = self._state(cur, version)[0]
        return tuple(name for name in schema.LAYERS if name in tables)

    def read(self, layer: str, version: int | None = None) -> gpd.GeoDataFrame:
        with self._read() as cur:
            return self._read_layer(cur, layer, version)

    def lookup(self, layer: str, ids: Sequence[str], version: int | None = None) -> gpd.GeoDataFrame:
        spec = schema.LAYERS[layer]
        wanted = list(dict.fromkeys(str(i) for i in ids))
        with self._read() as cur:
            tables, rows = self._state(cur, version)
            table = tables.get(layer)
            if table is None:
                return gpd.GeoDataFrame()
            where = sql.SQL("fid <= {} AND {} = ANY({})").format(
                sql.Literal(int(rows.get(layer, 1 << 62))), sql.Identifier(spec.id_column), sql.Literal(wanted)
            )
            return self._select(cur, layer, table, where)

    def distinct(self, layer: str, column: str, version: int | None = None) -> list[str]:
        if column not in schema.LAYERS[layer].column_names:
            return []
        with self._read() as cur:
            tables, rows = self._state(cur, version)
            table = tables.get(layer)
            if table is None:
                return []
            query = sql.SQL("SELECT DISTINCT {c} FROM {s}.{t} WHERE fid <= {last} AND {c} IS NOT NULL").format(
                c=sql.Identifier(column),
                s=sql.Identifier(self.schema),
                t=sql.Identifier(table),
                last=sql.Literal(int(rows.get(layer, 1 << 62))),
            )
            return sorted(str(r[0]) for r in cur.execute(query).fetchall() if str(r[0]))

    def events(
        self, *, after: int = 0, upto: int | None = None, kinds: Sequence[str] = (), refs: Sequence[str] | None = None
    ) -> pd.DataFrame:
        where = [sql.SQL("seq > {}").format(sql.Literal(int(after)))]
        if upto is not None:
            where.append(sql.SQL("seq <= {}").format(sql.Literal(int(upto))))
        if kinds:
            where.append(sql.SQL("kind = ANY({})").format(sql.Literal([str(k) for k in kinds])))
        if refs is not None:
            wanted = list(dict.fromkeys(str(r) for r in refs))
            if not wanted:
                return ev.event_frame([])
            where.append(sql.SQL("ref = ANY({})").format(sql.Literal(wanted)))
        names = list(ev.COLUMNS)
        query = sql.SQL("SELECT {} FROM {}.events WHERE {} ORDER BY seq").format(
            sql.SQL(", ").join(map(sql.Identifier, names)), sql.Identifier(self.schema), sql.SQL(" AND ").join(where)
        )
        with self._read() as cur:
            rows = cur.execute(query).fetchall()
        frame = pd.DataFrame.from_records(rows, columns=names)
        for name in ev.TIME_COLUMNS:  # tz-aware datetimes (or None) from the driver
            frame[name] = pd.to_datetime(frame[name], utc=True)
        return ev.event_frame(frame)

    def event_mark(self) -> int:
        with self._read() as cur:
            return _number(cur, self._q("SELECT COALESCE(MAX(seq), 0) FROM {s}.events"))

    def get_setting(self, key: str, default: object = None) -> object:
        with self._read() as cur:
            row = cur.execute(self._q("SELECT value FROM {s}.settings WHERE key = %s"), (key,)).fetchone()
        return default if row is None else row[0]

    def set_setting(self, key: str, value: object) -> None:
        with self._read() as cur:
            cur.execute(
                self._q(
                    "INSERT INTO {s}.settings (key, value) VALUES (%s, %s::jsonb) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                ),
                (key, json.dumps(value)),
            )

    # ---- writing ---------------------------------------------------------------------------------
    def write_layers(self, frames: Mapping[str, gpd.GeoDataFrame], *, note: str, author: str = "system") -> int:
        prepared = {layer: prepare(layer, frame) for layer, frame in frames.items()}
        with self._writer() as cur:
            return self._commit(cur, prepared, note=note, author=author)

    def initialize(self, frames: Mapping[str, gpd.GeoDataFrame], *, note: str) -> bool:
        prepared = {layer: prepare(layer, frame) for layer, frame in frames.items()}
        with self._writer() as cur:
            if self._version(cur) > 0:
                return False
            self._commit(cur, prepared, note=note, author="system")
            return True

    def append(self, layer: str, rows: gpd.GeoDataFrame, *, note: str, author: str = "system") -> int:
        new = prepare(layer, rows)
        with self._writer() as cur:
            tables, marks = self._state(cur, None)
            table = tables.get(layer)
            if table is None:
                return self._commit(cur, {layer: new}, note=note, author=author)
            seen = marks.get(layer, self._last_row(cur, table))
            self._refuse_stored_ids(cur, layer, table, seen, new)
            if self._last_row(cur, table) > seen and self._rows_beyond_are_kept(cur, table, seen):
                combined = pd.concat([self._read_layer(cur, layer, None), new], ignore_index=True)
                return self._commit(cur, {layer: prepare(layer, combined)}, note=note, author=author)
            cur.execute(self._q("DELETE FROM {s}.{t} WHERE fid > %s", table), (seen,))  # left by an aborted writer
            if len(new):
                self._copy_rows(cur, table, new, schema.LAYERS[layer])
            return self._record(
                cur, tables, (layer,), note=note, author=author, rows={**marks, layer: self._last_row(cur, table)}
            )

    def activate(self, version: int, *, author: str = "system", note: str = "") -> int:
        with self._writer() as cur:
            current, current_rows = self._state(cur, None)
            target, target_rows = self._state(cur, version)
            changed = tuple(
                name
                for name in schema.LAYERS
                if (current.get(name), current_rows.get(name)) != (target.get(name), target_rows.get(name))
            )
            note = note or f"re-activate version {version}"
            return self._record(cur, dict(target), changed, note=note, author=author, rows=target_rows)

    def clear(self, layer: str, *, note: str, author: str = "system") -> int:
        with self._writer() as cur:
            tables, rows = without_layer(self.name, layer, *self._state(cur, None))
            return self._record(cur, tables, (layer,), note=note or f"clear {layer}", author=author, rows=rows)

    def drop(self) -> None:
        with self._writer() as cur:
            cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema)))

    def prune(self, keep: int) -> int:
        if keep < 1:
            raise ValueError(f"keep at least one version, got {keep}")
        with self._writer() as cur:
            gone = cur.execute(
                self._q(
                    "DELETE FROM {s}.versions WHERE version NOT IN "
                    "(SELECT version FROM {s}.versions ORDER BY version DESC LIMIT %s)"
                ),
                (keep,),
            ).rowcount
            self._drop_unreferenced(cur)
        return gone

    def append_events(self, events: pd.DataFrame | Sequence[Mapping[str, object]]) -> ev.EventReceipt:
        rows = ev.event_rows(events)
        names = [c for c in ev.COLUMNS if c != "seq"]
        received = datetime.now(UTC)
        seqs: list[int] = []
        refs: list[str] = []
        duplicate: list[bool] = []
        with self._writer(key="events") as cur:
            keyed = [(r["kind"], r["source"], r["source_id"]) for r in rows if r["source_id"] is not None]
            stored: dict[tuple, tuple[int, str]] = {}
            if keyed:
                found = cur.execute(
                    self._q(
                        "SELECT e.kind, e.source, e.source_id, e.seq, e.ref FROM {s}.events e "
                        "JOIN unnest(%s::text[], %s::text[], %s::text[]) AS k(kind, source, source_id) "
                        "USING (kind, source, source_id)"
                    ),
                    tuple(map(list, zip(*keyed, strict=True))),
                ).fetchall()
                stored = {(k, s, i): (int(q), r) for k, s, i, q, r in found}
            values: list[list[object]] = []
            for row in rows:
                key = (row["kind"], row["source"], row["source_id"])
                known = stored.get(key) if row["source_id"] is not None else None
                if known is not None:
                    seqs.append(known[0])
                    refs.append(str(known[1]))
                    duplicate.append(True)
                    continue
                row["received_at"] = received
                values.append([_py(row[c]) for c in names])
                stored[key] = (-len(values), str(row["ref"]))  # a later copy in this batch: filled in below
                seqs.append(-len(values))
                refs.append(str(row["ref"]))
                duplicate.append(False)
            mark = self._event_mark(cur)
            if values:
                first = _number(  # consecutive: every writer of this log holds the lock
                    cur,
                    sql.SQL(
                        "SELECT MIN(n) FROM (SELECT nextval(pg_get_serial_sequence(%s, 'seq')) AS n "
                        "FROM generate_series(1, %s)) AS s"
                    ),
                    (f'"{self.schema}".events', len(values)),
                )
                columns = sql.SQL(", ").join(map(sql.Identifier, ["seq", *names]))
                copy = sql.SQL("COPY {}.events ({}) FROM STDIN").format(sql.Identifier(self.schema), columns)
                with cur.copy(copy) as out:
                    for offset, value in enumerate(values):
                        out.write_row([first + offset, *value])
                seqs = [first - s - 1 if s < 0 else s for s in seqs]
                mark = first + len(values) - 1
                cur.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"{self.name}:{mark}"))
        return ev.EventReceipt(seqs, refs, duplicate, mark)

    # ---- inside a transaction --------------------------------------------------------------------
    def _q(self, text: str, table: str | None = None) -> sql.Composed:
        """``text`` with ``{s}`` the workspace's schema and ``{t}`` the table ``table``."""
        return sql.SQL(text).format(s=sql.Identifier(self.schema), t=sql.Identifier(table or "-"))

    def _version(self, cur: psycopg.Cursor) -> int:
        return _number(cur, self._q("SELECT COALESCE(MAX(version), 0) FROM {s}.versions"))

    def _event_mark(self, cur: psycopg.Cursor) -> int:
        return _number(cur, self._q("SELECT COALESCE(MAX(seq), 0) FROM {s}.events"))

    def _state(self, cur: psycopg.Cursor, version: int | None) -> tuple[dict[str, str], dict[str, int]]:
        if version == 0:
            return {}, {}
        if version is None:
            row = cur.execute(self._q("SELECT tables, rows FROM {s}.versions ORDER BY version DESC LIMIT 1")).fetchone()
        else:
            row = cur.execute(
                self._q("SELECT tables, rows FROM {s}.versions WHERE version = %s"), (version,)
            ).fetchone()
        if row is None:
            if not version:
                return {}, {}
            raise no_such_version(self.name, version)
        return dict(row[0]), {k: int(v) for k, v in row[1].items()}

    def _read_layer(self, cur: psycopg.Cursor, layer: str, version: int | None) -> gpd.GeoDataFrame:
        tables, rows = self._state(cur, version)
        table = tables.get(layer)
        if table is None:
            raise no_such_layer(self.name, layer, version)
        last = rows.get(layer)
        where = sql.SQL("TRUE") if last is None else sql.SQL("fid <= {}").format(sql.Literal(int(last)))
        return self._select(cur, layer, table, where)

    def _select(self, cur: psycopg.Cursor, layer: str, table: str, where: sql.Composable) -> gpd.GeoDataFrame:
        spec = schema.LAYERS[layer]
        names = list(spec.column_names)
        query = sql.SQL("SELECT ST_AsBinary(geom), {} FROM {}.{} WHERE {} ORDER BY fid").format(
            sql.SQL(", ").join(map(sql.Identifier, names)), sql.Identifier(self.schema), sql.Identifier(table), where
        )
        rows = cur.execute(query).fetchall()
        columns = list(zip(*rows)) if rows else [()] * (len(names) + 1)
        data: dict[str, object] = {}
        for col, values in zip(spec.columns, columns[1:]):
            if col.kind == "str":
                data[col.name] = pd.Series(values, dtype="str")
            elif col.kind == "datetime":
                data[col.name] = pd.to_datetime(pd.Series(values, dtype=object), utc=True).astype("datetime64[ms, UTC]")
            elif col.kind == "int":
                data[col.name] = pd.Series(
                    [np.nan if v is None else v for v in values], dtype=None if rows else "int64"
                )
            elif col.kind == "float":
                data[col.name] = pd.Series(values, dtype="float64")
            else:
                data[col.name] = pd.Series(values, dtype="bool")
        geometry = shapely.from_wkb(np.array([bytes(g) for g in columns[0]], dtype=object))
        frame = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geometry), crs=schema.STORAGE_CRS)
        return restore(frame.set_index(pd.RangeIndex(len(frame))), layer, self.timezone())

    def _commit(self, cur: psycopg.Cursor, frames: Mapping[str, gpd.GeoDataFrame], *, note: str, author: str) -> int:
        self._drop_unreferenced(cur)
        version = self._version(cur) + 1
        tables, rows = self._state(cur, None)
        for layer, frame in frames.items():
            table = f"{layer}__v{version}"
            self._create_table(cur, table, schema.LAYERS[layer])
            self._copy_rows(cur, table, frame, schema.LAYERS[layer])
            tables[layer], rows[layer] = table, self._last_row(cur, table)
        return self._record(cur, tables, tuple(frames), note=note, author=author, rows=rows)

    def _record(
        self,
        cur: psycopg.Cursor,
        tables: dict[str, str],
        changed: tuple[str, ...],
        *,
        note: str,
        author: str,
        rows: dict[str, int],
        created_at: datetime | None = None,
    ) -> int:
        kept = {layer: int(last) for layer, last in rows.items() if layer in tables}
        version = self._version(cur) + 1
        cur.execute(
            self._q(
                "INSERT INTO {s}.versions (version, created_at, author, note, tables, changed, rows) "
                "VALUES (%s, %s, %s, %s, %s::jsonb, %s::jsonb, %s::jsonb)"
            ),
            (
                version,
                created_at or datetime.now(UTC),
                author,
                note,
                json.dumps(tables),
                json.dumps(list(changed)),
                json.dumps(kept),
            ),
        )
        return version

    def _create_table(self, cur: psycopg.Cursor, table: str, layer: schema.Layer) -> None:
        kind = "Point" if layer.is_point_layer else "MultiPolygon"
        columns = [sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(_SQL_TYPES[c.kind])) for c in layer.columns]
        cur.execute(
            sql.SQL("CREATE TABLE {}.{} (fid bigserial PRIMARY KEY, geom geometry({}, 4326), {})").format(
                sql.Identifier(self.schema), sql.Identifier(table), sql.SQL(kind), sql.SQL(", ").join(columns)
            )
        )
        cur.execute(
            sql.SQL("CREATE INDEX {} ON {}.{} USING gist (geom)").format(
                sql.Identifier(f"{table}__geom"), sql.Identifier(self.schema), sql.Identifier(table)
            )
        )
        cur.execute(
            sql.SQL("CREATE INDEX {} ON {}.{} ({})").format(
                sql.Identifier(f"{table}__id"),
                sql.Identifier(self.schema),
                sql.Identifier(table),
                sql.Identifier(layer.id_column),
            )
        )

    def _copy_rows(
        self,
        cur: psycopg.Cursor,
        table: str,
        frame: gpd.GeoDataFrame,
        layer: schema.Layer,
        *,
        fids: Sequence[int] | None = None,
    ) -> None:
        """COPY ``frame`` into ``table`` (with these ``fid``s when given: a migrated table keeps its own)."""
        geoms = frame.geometry if layer.is_point_layer else to_multi(frame.geometry)
        wkb = shapely.to_wkb(shapely.set_srid(np.asarray(geoms.array, dtype=object), 4326), hex=True, include_srid=True)
        columns = [_column_values(frame[c.name], c.kind) for c in layer.columns]
        if fids is not None:
            fid_values: list[object] = [int(f) for f in fids]
            columns.insert(0, fid_values)
        given = ["fid"] if fids is not None else []
        names = sql.SQL(", ").join(map(sql.Identifier, [*given, "geom", *layer.column_names]))
        copy = sql.SQL("COPY {}.{} ({}) FROM STDIN").format(sql.Identifier(self.schema), sql.Identifier(table), names)
        with cur.copy(copy) as out:
            for row in zip(*columns[: len(given)], wkb, *columns[len(given) :]):
                out.write_row(row)

    def _last_row(self, cur: psycopg.Cursor, table: str) -> int:
        return _number(cur, self._q("SELECT COALESCE(MAX(fid), 0) FROM {s}.{t}", table))

    def _rows_beyond_are_kept(self, cur: psycopg.Cursor, table: str, seen: int) -> bool:
        row = cur.execute(
            self._q(
                "SELECT 1 FROM {s}.versions v, jsonb_each_text(v.tables) AS t(layer, name) "
                "WHERE t.name = %s AND COALESCE((v.rows ->> t.layer)::bigint, %s) > %s LIMIT 1"
            ),
            (table, seen + 1, seen),
        ).fetchone()
        return row is not None

    def _refuse_stored_ids(self, cur: psycopg.Cursor, layer: str, table: str, seen: int, new: gpd.GeoDataFrame) -> None:
        spec = schema.LAYERS[layer]
        ids = [str(v) for v in new[spec.id_column]]
        clash = [
            r[0]
            for r in cur.execute(
                sql.SQL("SELECT {c} FROM {s}.{t} WHERE fid <= %s AND {c} = ANY(%s)").format(
                    c=sql.Identifier(spec.id_column), s=sql.Identifier(self.schema), t=sql.Identifier(table)
                ),
                (seen, ids),
            )
        ]
        if clash:
            again = new[new[spec.id_column].isin(clash)]  # stands for the stored rows with those ids
            prepare(layer, pd.concat([again, new], ignore_index=True))  # raises the not-unique problem

    def _drop_unreferenced(self, cur: psycopg.Cursor) -> None:
        kept = {t for (tables,) in cur.execute(self._q("SELECT tables FROM {s}.versions")) for t in tables.values()}
        stored = [
            r[0]
            for r in cur.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename LIKE %s",
                (self.schema, "%\\_\\_v%"),
            )
        ]
        for table in stored:
            if table not in kept:
                cur.execute(self._q("DROP TABLE IF EXISTS {s}.{t}", table))

    # ---- plumbing --------------------------------------------------------------------------------
    @contextmanager
    def _read(self) -> Iterator[psycopg.Cursor]:
        try:
            with connection(self.url) as conn, conn.cursor() as cur:
                yield cur
        except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName):
            raise no_such_workspace(self.name) from None

    @contextmanager
    def _writer(self, key: str = "layers") -> Iterator[psycopg.Cursor]:
        """One transaction holding the workspace's advisory lock ``key`` (waits up to LOCK_TIMEOUT_S)."""
        try:
            with connection(self.url) as conn, conn.transaction(), conn.cursor() as cur:
                cur.execute(f"SET LOCAL lock_timeout = '{int(LOCK_TIMEOUT_S * 1000)}ms'")
                cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"{self.schema}:{key}",))
                cur.execute("SET LOCAL lock_timeout = 0")
                yield cur
        except psycopg.errors.LockNotAvailable:
            raise WorkspaceBusyError(
                f"workspace `{self.name}` is being changed by another writer; try again in a minute",
                code="workspace_busy",
                params={"workspace": self.name},
            ) from None
        except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName):
            raise no_such_workspace(self.name) from None

    def _exists(self, cur: psycopg.Cursor) -> bool:
        return cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,)).fetchone() is not None

    def _ensure_schema(self, create: bool, new: bool) -> None:
        with self._read() as cur:
            if self._exists(cur) and not new:
                return
        if not create:
            raise no_such_workspace(self.name)
        with self._writer() as cur:
            if self._exists(cur):
                if new:
                    raise WorkspaceError(
                        f"workspace `{self.name}` already exists; pick another name, or delete it first",
                        code="exists",
                        params={"name": self.name},
                    )
                return
            for statement in _WORKSPACE_TABLES:
                cur.execute(sql.SQL(statement).format(s=sql.Identifier(self.schema)))
            cur.execute(
                sql.SQL("COMMENT ON SCHEMA {} IS {}").format(
                    sql.Identifier(self.schema), sql.Literal(_COMMENT + self.name)
                )
            )


_EVENT_COLUMNS = ", ".join(
    f'"{name}" {_SQL_TYPES[kind]}' + (" NOT NULL DEFAULT false" if kind == "bool" else "")
    for name, kind in ev.COLUMNS.items()
    if name != "seq"
)
_WORKSPACE_TABLES = (
    "CREATE SCHEMA {s}",
    "CREATE TABLE {s}.versions (version integer PRIMARY KEY, created_at timestamptz NOT NULL, author text NOT NULL, "
    "note text NOT NULL, tables jsonb NOT NULL, changed jsonb NOT NULL, rows jsonb NOT NULL DEFAULT '{{}}')",
    "CREATE TABLE {s}.settings (key text PRIMARY KEY, value jsonb NOT NULL)",
    f"CREATE TABLE {{s}}.events (seq bigserial PRIMARY KEY, {_EVENT_COLUMNS}, geom geometry(Point, 4326) "
    "GENERATED ALWAYS AS (CASE WHEN lon IS NOT NULL AND lat IS NOT NULL "
    "THEN ST_SetSRID(ST_MakePoint(lon, lat), 4326) END) STORED)",
    "CREATE UNIQUE INDEX events__source ON {s}.events (kind, source, source_id) WHERE source_id IS NOT NULL",
    "CREATE INDEX events__ref ON {s}.events (ref, seq)",
    "CREATE INDEX events__geom ON {s}.events USING gist (geom)",
)


def _number(cur: psycopg.Cursor, query: sql.SQL | sql.Composed, params: Sequence[object] = ()) -> int:
    """The integer a one-value query answers."""
    row = cur.execute(query, params).fetchone()
    return int(row[0]) if row is not None and row[0] is not None else 0


def _py(value: object) -> object:
    """An event value as the driver sends it: missing values as None, numpy scalars as Python ones."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _column_values(series: pd.Series, kind: str) -> list[object]:
    """A layer column as Python values for COPY (None where missing; times in UTC)."""
    if kind == "datetime":
        utc = pd.to_datetime(series, utc=True)
        return [None if pd.isna(v) else v.to_pydatetime() for v in utc]
    if kind == "bool":
        return [None if pd.isna(v) else bool(v) for v in series]
    if kind == "int":
        return [None if pd.isna(v) else int(v) for v in series]
    if kind == "float":
        return [None if pd.isna(v) else float(v) for v in series]
    return [None if pd.isna(v) else str(v) for v in series]
