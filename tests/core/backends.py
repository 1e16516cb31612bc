"""Store backends for tests that run on each: the embedded GeoPackage store and PostGIS.

``backend_fixture()`` makes a pytest fixture parametrised over ``BACKENDS``; each use opens a fresh
workspace (PostGIS: a new name, dropped afterwards). The database is ``GRIDWATCH_TEST_DB`` (a
postgresql:// URL). When it cannot be reached the PostGIS cases skip with the reason, or fail when
``CI`` is set, so CI never passes without having run them.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.errors import GridWatchError
from core.store import Store

BACKENDS = ("gpkg", "postgis")
DEFAULT_TEST_DB = "postgresql://gridwatch:gridwatch@127.0.0.1:5432/gridwatch"


def database_url() -> str:
    """The database the PostGIS cases use; skips (fails under CI) when it cannot be reached."""
    url = os.environ.get("GRIDWATCH_TEST_DB", "").strip()
    reason = ""
    if not url:
        reason = "GRIDWATCH_TEST_DB is not set (a postgresql:// URL of a database with PostGIS)"
    else:
        from core.postgis import connection

        try:
            with connection(url):
                pass
        except GridWatchError as exc:
            reason = f"GRIDWATCH_TEST_DB: {exc}"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"PostGIS tests cannot run: {reason}")
        print(f"skipping PostGIS tests: {reason}")
        pytest.skip(reason)
    return url


def fresh_name(prefix: str = "t") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def open_backend(kind: str, tmp_path: Path, name: str) -> Store:
    """A new empty workspace ``name`` on backend ``kind``."""
    if kind == "gpkg":
        from core.geopackage import GeoPackageStore

        return GeoPackageStore(tmp_path / f"{name}.gpkg", new=True)
    from core.postgis import PostgisStore

    return PostgisStore(database_url(), name, new=True)


def backend_fixture() -> Callable[..., Iterator[Store]]:
    """A fixture ``ws`` giving a fresh workspace on each backend in turn (``request.param``)."""

    @pytest.fixture(params=BACKENDS)
    def fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
        store = open_backend(request.param, tmp_path, fresh_name())
        try:
            yield store
        finally:
            with contextlib.suppress(GridWatchError):
                store.drop()

    return fixture
