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
    ├── IntakeError                records sent to the intake API that cannot be stored (core.intake);
    │                              ``.problems`` lists every ``IntakeProblem``
    ├── HotspotError               a hot-spot analysis cannot run on what was asked (core.hotspots)
    ├── SitingError                a siting model cannot be built or solved (core.siting, core.siting_inputs)
    ├── DistrictPlanError          patrol districts cannot be formed as asked (core.workload, core.districts)
    ├── DispatchError              an action on a ticket that cannot be taken (core.dispatch)
    ├── AccountError               an account cannot be made or changed as asked (core.accounts)
    ├── SignInError                a sign-in is refused: wrong password, locked or disabled account
    └── AccessError                the signed-in account may not do or see what was asked

Anything else that escapes ``core`` is a bug.

Every error and every ``Message`` (a note or confirmation shown next to an upload) carries a ``code``
and ``params`` beside its English text, like ``Problem`` does: ``str(exc)`` stays the English wording
(the CLI prints it), and a front end words it in the reader's language from ``code`` and ``params``.
Adding one is one keyword argument: ``ReadError(f"`{name}` is empty", code="file_empty",
params={"name": name})``. ``core`` never names places in the user interface; the front end adds them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

__all__ = [
    "AccessError",
    "AccountError",
    "ConfigError",
    "DispatchError",
    "DistrictPlanError",
    "GridWatchError",
    "HotspotError",
    "IntakeError",
    "IntakeProblem",
    "LayerNotFoundError",
    "Message",
    "Problem",
    "ReadError",
    "SignInError",
    "SitingError",
    "StoreError",
    "ValidationError",
    "WorkspaceBusyError",
    "WorkspaceError",
]


class GridWatchError(Exception):
    """Base of every error GridWatch raises for a user to read.

    ``code`` names the wording (a front end looks up ``error.<code>``), ``params`` fills it in; an
    error without a code is shown in English.
    """

    def __init__(self, message: str, *, code: str = "", params: dict | None = None):
        super().__init__(message)
        self.code = code
        self.params = dict(params or {})

    def __reduce__(self):  # keeps code, params (and a subclass's own fields) when a read worker sends it back
        return _rebuilt, (type(self), str(self), self.__dict__)


def _rebuilt(cls: type[GridWatchError], message: str, fields: dict) -> GridWatchError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(fields)
    return error


class Message(str):
    """A note or confirmation ``core`` hands to the user: its English text, plus a ``code`` and
    ``params`` a front end can word it with (``message.<code>``). It is a ``str``, so lists of notes
    can be joined and printed as before."""

    code: str
    params: dict

    def __new__(cls, text: str, *, code: str = "", params: dict | None = None) -> Message:
        message = super().__new__(cls, text)
        message.code = code
        message.params = dict(params or {})
        return message


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

    @classmethod
    def missing_column(cls, layer: str, column: str, fix: str, *, doc: str = "") -> Problem:
        """A required ``column`` (described by ``doc``, if given) that ``layer`` does not have."""
        what = f"required column `{column}` ({doc}) is missing" if doc else f"required column `{column}` is missing"
        return cls(layer, column, (), what, fix, code="missing_column", params={"column": column})

    @classmethod
    def not_a_code(cls, layer: str, column: str, rows: tuple[str, ...], codes: tuple[str, ...], fix: str) -> Problem:
        """Values of ``column`` in ``rows`` that are none of ``codes``."""
        allowed = ", ".join(codes)
        return cls(layer, column, rows, f"is not one of {allowed}", fix, code="not_a_code", params={"allowed": allowed})

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
        super().__init__(
            f"`{layer}` has {len(self.problems)} problem(s):\n{lines}",
            code="validation",
            params={"layer": layer, "count": len(self.problems)},
        )


class ReadError(GridWatchError):
    """A file cannot be read as geodata."""


class StoreError(GridWatchError):
    """The workspace store cannot complete a read or write."""


class LayerNotFoundError(StoreError):
    """The workspace holds no such layer."""


class WorkspaceBusyError(StoreError):
    """Another writer kept the workspace lock for longer than the timeout."""


class WorkspaceError(StoreError):
    """A workspace name, time zone or metric CRS that cannot be used, or a workspace that is missing or
    taken."""


class ConfigError(GridWatchError):
    """A setting has a value GridWatch cannot use."""


class HotspotError(GridWatchError):
    """A hot-spot analysis cannot run on what was asked (too few units, months or tickets)."""


class SitingError(GridWatchError):
    """A siting model that cannot be built or solved: nothing to cover, nowhere to build, a radius or
    K that makes no sense, or a solver that failed."""


class DistrictPlanError(GridWatchError):
    """Patrol districts cannot be made as asked (more teams than grids, conflicting locks …)."""


class DispatchError(GridWatchError):
    """An action on a ticket (dispatch, deadline, escalate, verify, close) that cannot be taken: the
    ticket is closed, the stage cannot move that way, or a target, reason or deadline is missing."""


class AccountError(GridWatchError):
    """An account that cannot be made or changed as asked: a taken or malformed name, a short password,
    an unknown role or scope."""


class SignInError(GridWatchError):
    """A sign-in refused; a wrong name and a wrong password get the same answer."""


class AccessError(GridWatchError):
    """The signed-in account lacks the right a page, action or download asks for."""


@dataclass(frozen=True)
class IntakeProblem:
    """One thing wrong with a record sent to the intake API: which ``record`` (its position in the
    request, ``#1``…, or the sender's id), which ``field``, a ``code`` (``params`` fill in its wording)
    and the English ``message`` saying what arrived and what to send instead."""

    record: str
    field: str
    code: str
    message: str
    params: dict = dataclasses.field(default_factory=dict, compare=False)  # ``field`` is a field name here

    def as_dict(self) -> dict[str, str]:
        return {"record": self.record, "field": self.field, "code": self.code, "message": self.message}


class IntakeError(GridWatchError):
    """Records that cannot be stored; ``problems`` lists every problem of the whole request (nothing of
    it was stored)."""

    def __init__(self, problems: list[IntakeProblem], *, code: str = "intake_rejected") -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"- {p.record} `{p.field}`: {p.message}" for p in self.problems)
        super().__init__(
            f"{len(self.problems)} problem(s); nothing was stored:\n{lines}",
            code=code,
            params={"count": len(self.problems)},
        )
