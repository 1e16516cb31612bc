"""Errors GridWatch raises on purpose, each worded for the person who can fix the cause.

::

    GridWatchError                 anything GridWatch reports to a user (pages show it with st.error)
    ├── ValidationError            a layer breaks its schema; ``.problems`` lists every one
    ├── ReadError                  a file cannot be read as geodata (format, encoding, CRS)
    ├── StoreError                 the workspace store cannot read or write
    │   ├── LayerNotFoundError     a layer that the workspace does not hold
    │   ├── WorkspaceBusyError     another writer held the lock for too long
    │   └── WorkspaceError         a workspace cannot be created, found or deleted as asked
    ├── ConfigError                a setting (environment variable) is wrong
    ├── HotspotError               a hot-spot analysis cannot run on what was asked (core.hotspots)
    ├── SitingError                a siting model cannot be built or solved (core.siting)
    └── DistrictPlanError          patrol districts cannot be formed as asked (core.patrol)

Anything else that escapes ``core`` is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class GridWatchError(Exception):
    """Base of every error GridWatch raises for a user to read."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a layer: where, what, and how to fix it.

    ``severity`` "error" blocks storing the layer; "warning" is shown but lets the user go on.
    ``code`` and ``params`` let a front end word it in the reader's language (``what``/``fix`` are the
    English wording, used where no translation exists).
    """

    layer: str
    column: str | None
    rows: tuple[str, ...]
    what: str
    fix: str
    severity: str = "error"
    code: str = ""
    params: dict = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        where = f"`{self.layer}`"
        if self.column:
            where += f" column `{self.column}`"
        if self.rows:
            shown = ", ".join(self.rows[:10])
            more = f" and {len(self.rows) - 10} more" if len(self.rows) > 10 else ""
            where += f" (rows {shown}{more})"
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{prefix}{where}: {self.what}. Fix: {self.fix}"


class ValidationError(GridWatchError):
    """A layer does not match its schema. ``problems`` lists every problem found."""

    def __init__(self, layer: str, problems: list[Problem]):
        self.layer = layer
        self.problems = tuple(problems)
        lines = "\n".join(f"- {p}" for p in self.problems)
        super().__init__(f"`{layer}` has {len(self.problems)} problem(s):\n{lines}")


class ReadError(GridWatchError):
    """A file cannot be read as geodata.

    The message is the English wording; ``code`` and ``params`` (when given) let a front end word it in
    the reader's language, like ``Problem``'s.
    """

    def __init__(self, message: str, *, code: str = "", params: dict | None = None):
        super().__init__(message)
        self.code = code
        self.params = dict(params or {})

    def __reduce__(self):  # keeps code and params when a worker process sends the error back
        return _read_error, (str(self), self.code, self.params)


def _read_error(message: str, code: str, params: dict) -> ReadError:
    return ReadError(message, code=code, params=params)


class StoreError(GridWatchError):
    """The workspace store cannot complete a read or write."""


class LayerNotFoundError(StoreError):
    """The workspace holds no such layer."""


class WorkspaceBusyError(StoreError):
    """Another writer kept the workspace lock for longer than the timeout."""


class WorkspaceError(StoreError):
    """A workspace name, time zone or metric CRS that cannot be used, or a workspace that is missing or
    taken. ``code`` and ``params`` let a front end word it in the reader's language."""

    def __init__(self, message: str, *, code: str, params: dict | None = None):
        super().__init__(message)
        self.code = code
        self.params = params or {}


class ConfigError(GridWatchError):
    """A setting has a value GridWatch cannot use."""
