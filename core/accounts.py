"""Who may sign in, with which roles and scope, and their sessions: the installation's account book.

The book is one small SQL database for the whole installation (every workspace): the PostGIS database
when ``GRIDWATCH_DB`` is set (tables ``gw_accounts``, ``gw_sessions``, ``gw_identities``, ``gw_audit``,
shared by every dashboard and API process), else ``accounts.sqlite`` under ``GRIDWATCH_HOME``. One SQLAlchemy Core
code path serves both; ``core.audit`` keeps its log in the same database.

* **Passwords** are argon2id hashes (argon2-cffi's defaults), at least ``MIN_PASSWORD`` characters.
  A password set by someone else (the first admin's, a reset) must be changed at the next sign-in.
* **Lockout**: ``LOCK_AFTER`` wrong passwords in a row lock the account; the right password is then
  refused too, until a data admin unlocks it (``gridwatch user unlock`` or the app). A wrong user name
  and a wrong password get the same answer, and cost the same hash.
* **Sessions**: ``open_session`` returns a random token (256 bits) that the browser keeps in a cookie;
  the book keeps only its SHA-256. A session ends after ``settings.session_minutes()`` without use, on
  sign-out, and when its account is disabled, locked or given a new password.
* **Single sign-on** (``settings.single_sign_on``): an account may be linked to identities at the
  OpenID Connect provider (``link``; compared without case); ``sso_sign_in`` takes an identity the
  provider vouched for, with the time its ID token was issued, and accepts each token once and only
  while it is fresh (``SSO_FRESH``), so a sign-out or an idle timeout is not undone by the browser's
  leftover provider cookie. An account made for single sign-on only has no usable password.
* **Roles and rights**: an account holds one or more of ``ROLES``; ``RIGHTS`` says what each may do
  (``may``, ``require``). Pages and actions ask for a right, never for a role, and the server checks it
  on every run. ``SCOPE_LEVELS``: an account sees the whole district, one street or one community
  (``Scope.select`` keeps a frame's rows in the scope); what changes or shows the whole workspace
  (``DISTRICT_RIGHTS``) needs the district scope.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import argon2
import numpy as np
import pandas as pd
import sqlalchemy as sa

from core import schema, settings
from core.errors import AccessError, AccountError, SignInError

__all__ = [
    "DISTRICT_RIGHTS",
    "LOCK_AFTER",
    "MIN_PASSWORD",
    "RIGHTS",
    "ROLES",
    "SCOPE_LEVELS",
    "SSO_FRESH",
    "Account",
    "AccountBook",
    "Scope",
    "book",
    "book_url",
    "may",
    "require",
]

ROLES = ("duty", "leader", "data_admin", "analyst")
"""duty staff (值班员/派遣员), leader (领导), data administrator (数据管理员), analyst (分析员)."""

RIGHTS: dict[str, frozenset[str]] = {
    "duty": frozenset({"command", "dispatch", "roster", "patrols", "contact"}),
    "leader": frozenset({"command", "performance", "coverage", "hotspots", "patrols", "reports", "weights", "roster"}),
    "data_admin": frozenset({"data", "workspaces", "users", "keys", "audit"}),
    "analyst": frozenset({"performance", "coverage", "hotspots", "patrols"}),
}
"""What each role may do. A page's right is its name (``command``, ``performance``, ``coverage``,
``hotspots``, ``patrols``, ``data``; the Overview needs none); actions: ``dispatch`` (ticket stages),
``roster`` (save the duty roster), ``weights`` (save composite weights), ``reports`` (downloads and
reports), ``workspaces`` (create, delete), ``users``, ``keys``, ``audit``, ``contact`` (reveal a masked
phone number)."""

DISTRICT_RIGHTS = frozenset({"data", "workspaces", "users", "keys", "audit", "roster", "weights"})
"""Rights that change or show the whole workspace (boundaries, settings, accounts, the audit log): an
account scoped to a street or community does not hold them, whatever its roles."""

SCOPE_LEVELS = ("district", "street", "community")
MIN_PASSWORD = 10
LOCK_AFTER = 10
SSO_FRESH = timedelta(minutes=10)  # how old a provider's ID token may be when it signs in
_TOUCH_EVERY = timedelta(seconds=30)  # how fresh a session's last use is kept (the idle limit is minutes)
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
_hasher = argon2.PasswordHasher()
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))  # verified against for an unknown name: same cost, same answer

_meta = sa.MetaData()
accounts_table = sa.Table(
    "gw_accounts",
    _meta,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("display_name", sa.String(120), nullable=False),
    sa.Column("roles", sa.String(200), nullable=False),
    sa.Column("scope_level", sa.String(16), nullable=False),
    sa.Column("scope_name", sa.String(200)),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("must_change", sa.Boolean, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("locked", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
sessions_table = sa.Table(
    "gw_sessions",
    _meta,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
)
identities_table = sa.Table(  # single sign-on identities linked to accounts
    "gw_identities",
    _meta,
    sa.Column("identity", sa.String(320), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, index=True),
    sa.Column("last_issued", sa.Float, nullable=False),  # when the newest ID token that signed in was issued
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
audit_table = sa.Table(  # core.audit's log
    "gw_audit",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("account", sa.String(64), nullable=False, index=True),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("workspace", sa.String(64)),
    sa.Column("target", sa.String(200)),
    sa.Column("detail", sa.String(500)),
)


@dataclass(frozen=True)
class Scope:
    """What part of the district an account sees: all of it, one street, or one community."""

    level: str = "district"
    name: str | None = None

    def __post_init__(self) -> None:
        if self.level not in SCOPE_LEVELS:
            raise AccountError(
                f"scope `{self.level}` is not one of {', '.join(SCOPE_LEVELS)}",
                code="scope_unknown",
                params={"level": self.level},
            )
        if (self.level == "district") != (not self.name):
            raise AccountError(
                "a street or community scope names it (e.g. `community:城东社区`); the district scope names nothing",
                code="scope_name",
                params={"level": self.level},
            )

    @classmethod
    def parse(cls, text: str) -> Scope:
        """``district``, ``street:<name>`` or ``community:<name>``."""
        level, _, name = text.strip().partition(":")
        return cls(level.strip(), name.strip() or None)

    def __str__(self) -> str:
        return self.level if self.name is None else f"{self.level}:{self.name}"

    def select(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``frame`` (grids, or a point layer joined to them) in this scope: all of them for
        the district; else those whose ``street`` / ``community`` is the scope's (a point outside
        every grid is in no street's or community's scope)."""
        return frame if self.name is None else frame[self.mask(frame)]

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Which rows of ``frame`` ``select`` keeps."""
        if self.name is None:
            return np.ones(len(frame), dtype=bool)
        column = schema.STREET if self.level == "street" else schema.COMMUNITY
        return (frame[column] == self.name).fillna(False).to_numpy(dtype=bool)


@dataclass(frozen=True)
class Account:
    """An account as the book holds it (never its password hash)."""

    username: str
    display_name: str
    roles: frozenset[str]
    scope: Scope
    must_change: bool = False
    disabled: bool = False
    locked: bool = False
    failures: int = 0

    @property
    def rights(self) -> frozenset[str]:
        rights = frozenset().union(*(RIGHTS[r] for r in self.roles if r in RIGHTS))
        return rights if self.scope.name is None else rights - DISTRICT_RIGHTS


def may(account: Account | None, right: str | None) -> bool:
    """Whether ``account`` holds ``right`` (None: a right every signed-in account holds)."""
    return account is not None and (right is None or right in account.rights)


def require(account: Account | None, right: str | None) -> None:
    """``AccessError`` unless ``account`` holds ``right``: what every page and action calls first."""
    if not may(account, right):
        raise AccessError(
            f"your account may not do this (`{right}`); ask a data admin for a role that may",
            code="access_denied",
            params={"right": right or ""},
        )


def _roles(roles: Iterable[str]) -> frozenset[str]:
    out = frozenset(r.strip() for r in roles if r.strip())
    unknown = sorted(out - set(ROLES))
    if unknown or not out:
        raise AccountError(
            f"roles must be some of {', '.join(ROLES)}; got {', '.join(unknown) or 'none'}",
            code="role_unknown",
            params={"roles": ", ".join(unknown), "known": ", ".join(ROLES)},
        )
    return out


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(
            f"a password needs at least {MIN_PASSWORD} characters",
            code="password_short",
            params={"min": MIN_PASSWORD},
        )


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite returns naive UTC


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountBook:
    """The accounts and sessions in the database at ``url`` (a SQLAlchemy URL)."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        _meta.create_all(self.engine, checkfirst=True)

    # ---- accounts -------------------------------------------------------------------------------
    def add(
        self,
        username: str,
        password: str | None,
        roles: Iterable[str],
        *,
        display_name: str | None = None,
        scope: Scope = Scope(),
        must_change: bool = True,
        sso: str | None = None,
    ) -> Account:
        """A new account; ``AccountError`` when the name is taken or not valid. ``password`` None: an
        account that signs in through single sign-on only (its password is random and never shown);
        ``sso``: an identity linked to it in the same transaction."""
        if not _NAME.match(username):
            raise AccountError(
                f"user name `{username[:64]}` must be 2–64 letters, digits or . _ @ -",
                code="username_invalid",
                params={"name": username[:64]},
            )
        if password is None:
            password, must_change = secrets.token_urlsafe(32), False
        _check_password(password)
        now = _now()
        row = dict(
            username=username,
            display_name=(display_name or username)[:120],
            roles=",".join(sorted(_roles(roles))),
            scope_level=scope.level,
            scope_name=scope.name,
            password_hash=_hasher.hash(password),
            must_change=must_change,
            disabled=False,
            failures=0,
            locked=False,
            created_at=now,
            updated_at=now,
        )
        key = _identity(sso) if sso is not None else None
        try:
            with self.engine.begin() as c:
                c.execute(accounts_table.insert().values(**row))
                if key is not None:
                    c.execute(_link_row(key, username))
        except sa.exc.IntegrityError:
            if key is None or self._owner(key) is None:
                raise AccountError(
                    f"there is already an account `{username}`", code="username_taken", params={"name": username}
                ) from None
            raise self._taken(key) from None
        return self.get(username)

    def get(self, username: str) -> Account:
        """The account ``username``; ``AccountError`` when there is none."""
        with self.engine.connect() as c:
            row = c.execute(sa.select(accounts_table).where(accounts_table.c.username == username)).first()
        if row is None:
            raise AccountError(
                f"there is no account `{username[:64]}`", code="account_unknown", params={"name": username[:64]}
            )
        return _account(row)

    def accounts(self) -> list[Account]:
        with self.engine.connect() as c:
            return [_account(r) for r in c.execute(sa.select(accounts_table).order_by(accounts_table.c.username))]

    def count(self) -> int:
        with self.engine.connect() as c:
            return int(c.execute(sa.select(sa.func.count()).select_from(accounts_table)).scalar_one())

    def update(
        self,
        username: str,
        *,
        roles: Iterable[str] | None = None,
        scope: Scope | None = None,
        display_name: str | None = None,
        disabled: bool | None = None,
    ) -> Account:
        """Change roles, scope, name or whether the account is disabled (disabling ends its sessions)."""
        values: dict[str, object] = {"updated_at": _now()}
        if roles is not None:
            values["roles"] = ",".join(sorted(_roles(roles)))
        if scope is not None:
            values["scope_level"], values["scope_name"] = scope.level, scope.name
        if display_name is not None:
            values["display_name"] = display_name[:120]
        if disabled is not None:
            values["disabled"] = disabled
        self._set(username, values, end_sessions=bool(disabled))
        return self.get(username)

    def unlock(self, username: str) -> Account:
        self._set(username, {"locked": False, "failures": 0, "updated_at": _now()})
        return self.get(username)

    def set_password(self, username: str, password: str, *, must_change: bool) -> Account:
        """A new password (``must_change``: set by someone else, to be changed at the next sign-in);
        ends every session of the account and lifts a lock."""
        _check_password(password)
        values = {
            "password_hash": _hasher.hash(password),
            "must_change": must_change,
            "locked": False,
            "failures": 0,
            "updated_at": _now(),
        }
        self._set(username, values, end_sessions=True)
        return self.get(username)

    def _set(self, username: str, values: dict, *, end_sessions: bool = False) -> None:
        with self.engine.begin() as c:
            done = c.execute(accounts_table.update().where(accounts_table.c.username == username).values(**values))
            if done.rowcount == 0:
                raise AccountError(
                    f"there is no account `{username[:64]}`", code="account_unknown", params={"name": username[:64]}
                )
            if end_sessions:
                c.execute(sessions_table.delete().where(sessions_table.c.username == username))

    def first_admin(self) -> str | None:
        """On an empty book: the account ``admin`` with every role and a random one-time password, which
        is returned (to print once). None when the book holds accounts already."""
        if self.count():
            return None
        password = secrets.token_urlsafe(12)
        try:
            self.add("admin", password, ROLES, display_name="admin", must_change=True)
        except AccountError:  # another process made it first
            return None
        return password

    # ---- single sign-on identities --------------------------------------------------------------
    def link(self, username: str, identity: str) -> None:
        """Link the provider identity ``identity`` (e.g. an e-mail address) to account ``username``."""
        self.get(username)
        key = _identity(identity)
        try:
            with self.engine.begin() as c:
                c.execute(_link_row(key, username))
        except sa.exc.IntegrityError:
            raise self._taken(key) from None

    def _owner(self, key: str) -> str | None:
        with self.engine.connect() as c:
            return c.execute(
                sa.select(identities_table.c.username).where(identities_table.c.identity == key)
            ).scalar_one_or_none()

    def _taken(self, key: str) -> AccountError:
        owner = self._owner(key) or "?"
        return AccountError(
            f"the identity `{key}` is linked to `{owner}` already; unlink it there first",
            code="sso_taken",
            params={"identity": key, "name": owner},
        )

    def unlink(self, identity: str) -> str:
        """Remove a linked identity; returns the account it was linked to."""
        key = _identity(identity)
        with self.engine.begin() as c:
            owner = c.execute(
                sa.delete(identities_table)
                .where(identities_table.c.identity == key)
                .returning(identities_table.c.username)
            ).scalar_one_or_none()
        if owner is None:
            raise AccountError(
                f"no account is linked to the identity `{key}`", code="sso_not_linked", params={"identity": key}
            )
        return owner

    def identities(self) -> dict[str, list[str]]:
        """Each account's linked identities (accounts without any are left out)."""
        out: dict[str, list[str]] = {}
        with self.engine.connect() as c:
            for row in c.execute(sa.select(identities_table).order_by(identities_table.c.identity)):
                out.setdefault(row.username, []).append(row.identity)
        return out

    def sso_sign_in(self, identity: str, issued_at: float) -> Account:
        """The account linked to ``identity``, which the provider vouched for in an ID token issued at
        ``issued_at`` (seconds since the epoch); else ``SignInError``: ``sso_unlinked`` (no account has
        it), ``sso_used`` (that token signed in already, or is older than ``SSO_FRESH``: sign in at the
        provider again), ``signin_locked``, ``signin_disabled``."""
        key = _identity(identity)
        now = _now().timestamp()
        with self.engine.begin() as c:
            row = c.execute(
                sa.select(identities_table.c.last_issued, accounts_table)
                .join(accounts_table, accounts_table.c.username == identities_table.c.username)
                .where(identities_table.c.identity == key)
            ).first()
            if row is None:
                raise SignInError(
                    f"no GridWatch account is linked to `{key}`; ask a data admin to link it to yours",
                    code="sso_unlinked",
                    params={"identity": key},
                )
            refusal = _refusal(row)
            if refusal is not None:
                raise refusal
            fresh = now - issued_at <= SSO_FRESH.total_seconds()
            taken = fresh and (
                c.execute(
                    identities_table.update()
                    .where(identities_table.c.identity == key, identities_table.c.last_issued < issued_at)
                    .values(last_issued=issued_at)
                ).rowcount
                == 1
            )  # a token is taken once, even by two runs at the same time
            if not taken:
                raise SignInError(
                    "this single sign-on was used already; sign in through the provider again", code="sso_used"
                )
        return _account(row)

    # ---- signing in -----------------------------------------------------------------------------
    def authenticate(self, username: str, password: str) -> Account:
        """The account when ``password`` is right and it may sign in; else ``SignInError`` (code
        ``wrong`` — the same for an unknown name —, ``locked`` or ``disabled``). A wrong password
        counts towards the lock (the count is raised in SQL, so failures at the same time all count)."""
        refusal: SignInError | None = None
        with self.engine.begin() as c:  # a refusal is raised after the commit, so a failure is counted
            query = sa.select(accounts_table).where(accounts_table.c.username == username)
            if c.dialect.name == "postgresql":
                query = query.with_for_update()
            row = c.execute(query).first()
            right = _verify(row.password_hash if row is not None else _DUMMY, password)
            where = accounts_table.c.username == username
            if row is None:
                refusal = SignInError("wrong user name or password", code="signin_wrong")
            elif row.locked or row.disabled:
                refusal = _refusal(row)
            elif not right:
                failures = accounts_table.c.failures + 1  # counted in SQL: concurrent failures all count
                c.execute(accounts_table.update().where(where).values(failures=failures, locked=failures >= LOCK_AFTER))
                refusal = SignInError("wrong user name or password", code="signin_wrong")
            elif row.failures:
                c.execute(accounts_table.update().where(where).values(failures=0))
        if refusal is not None or row is None:
            raise refusal or SignInError("wrong user name or password", code="signin_wrong")
        return dataclasses.replace(_account(row), failures=0)

    def open_session(self, account: Account) -> str:
        """A new session of ``account``: the token for the browser's cookie (kept here only hashed)."""
        token = secrets.token_urlsafe(32)
        now = _now()
        with self.engine.begin() as c:
            c.execute(
                sessions_table.insert().values(
                    token_hash=_digest(token), username=account.username, created_at=now, last_seen=now
                )
            )
        return token

    def session(self, token: str | None) -> Account | None:
        """The account signed in with ``token``, when the session is open, was used within
        ``settings.session_minutes()`` and its account may still sign in; marks it used (at most once
        a ``_TOUCH_EVERY``, so the runs of a busy page read the book but do not write it)."""
        if not token:
            return None
        digest, now = _digest(token), _now()
        with self.engine.begin() as c:
            row = c.execute(
                sa.select(sessions_table.c.last_seen, accounts_table)
                .join(accounts_table, accounts_table.c.username == sessions_table.c.username)
                .where(sessions_table.c.token_hash == digest)
            ).first()
            if row is None:
                return None
            idle = now - _utc(row.last_seen) > timedelta(minutes=settings.session_minutes())
            if idle or row.disabled or row.locked:
                c.execute(sessions_table.delete().where(sessions_table.c.token_hash == digest))
                return None
            if now - _utc(row.last_seen) > _TOUCH_EVERY:
                c.execute(sessions_table.update().where(sessions_table.c.token_hash == digest).values(last_seen=now))
        return _account(row)

    def close_session(self, token: str | None) -> None:
        if token:
            with self.engine.begin() as c:
                c.execute(sessions_table.delete().where(sessions_table.c.token_hash == _digest(token)))


def _refusal(row: sa.Row) -> SignInError | None:
    """Why the account in ``row`` may not sign in now, if it may not."""
    if row.locked:
        return SignInError(
            f"account `{row.username}` is locked after {LOCK_AFTER} wrong passwords; ask a data admin to unlock it",
            code="signin_locked",
            params={"name": row.username, "count": LOCK_AFTER},
        )
    if row.disabled:
        return SignInError(
            f"account `{row.username}` is disabled", code="signin_disabled", params={"name": row.username}
        )
    return None


def _link_row(key: str, username: str) -> sa.Insert:
    return identities_table.insert().values(identity=key, username=username, last_issued=0.0, created_at=_now())


def _identity(text: str) -> str:
    key = text.strip().casefold()
    if not key or len(key) > 320:
        raise AccountError(
            "a single sign-on identity is 1–320 characters (e.g. the e-mail address the provider gives)",
            code="sso_identity_invalid",
            params={"identity": key[:64]},
        )
    return key


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


def _account(row: sa.Row) -> Account:
    return Account(
        username=row.username,
        display_name=row.display_name,
        roles=frozenset(row.roles.split(",")),
        scope=Scope(row.scope_level, row.scope_name),
        must_change=bool(row.must_change),
        disabled=bool(row.disabled),
        locked=bool(row.locked),
        failures=int(row.failures),
    )


def _sqlite_pragmas(connection: Any, _record: object) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


_books: dict[str, AccountBook] = {}
_books_lock = threading.Lock()


def book_url() -> str:
    """Where the book is: the PostGIS database of ``GRIDWATCH_DB``, else ``accounts.sqlite`` under
    ``GRIDWATCH_HOME``."""
    url = settings.database_url()
    if url:
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    home = settings.home()
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'accounts.sqlite'}"


def book(url: str | None = None) -> AccountBook:
    """The account book of this installation (one per database, shared by the process)."""
    url = url or book_url()
    with _books_lock:
        if url not in _books:
            _books[url] = AccountBook(url)
        return _books[url]
