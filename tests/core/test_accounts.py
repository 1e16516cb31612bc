"""Accounts, sign-in, lockout, sessions, rights and the audit log, on SQLite and on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from backends import database_url

from core import accounts, audit
from core.accounts import LOCK_AFTER, Scope
from core.errors import AccessError, AccountError, SignInError

PASSWORD = "correct horse 42"


@pytest.fixture(params=["sqlite", "postgresql"])
def book(request, tmp_path):
    if request.param == "sqlite":
        made = accounts.AccountBook(f"sqlite:///{tmp_path / 'accounts.sqlite'}")
        yield made
        made.engine.dispose()
        return
    import psycopg

    url = database_url()
    schema = f"acct_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(f"CREATE SCHEMA {schema}")
    made = accounts.AccountBook(f"postgresql+psycopg://{url.split('://', 1)[1]}?options=-csearch_path%3D{schema}")
    try:
        yield made
    finally:
        made.engine.dispose()
        with psycopg.connect(url, autocommit=True) as c:
            c.execute(f"DROP SCHEMA {schema} CASCADE")


def test_add_and_sign_in(book):
    made = book.add("wang.fang", PASSWORD, ["leader"], display_name="王芳", scope=Scope("community", "城东社区"))
    assert made.must_change and made.roles == {"leader"} and str(made.scope) == "community:城东社区"
    signed = book.authenticate("wang.fang", PASSWORD)
    assert signed.username == "wang.fang" and signed.display_name == "王芳"
    assert [a.username for a in book.accounts()] == ["wang.fang"]
    with pytest.raises(AccountError, match="already an account"):
        book.add("wang.fang", PASSWORD, ["duty"])


@pytest.mark.parametrize(
    ("name", "password", "roles", "code"),
    [
        ("a b", PASSWORD, ["duty"], "username_invalid"),
        ("li", "short", ["duty"], "password_short"),
        ("li", PASSWORD, ["boss"], "role_unknown"),
        ("li", PASSWORD, [], "role_unknown"),
    ],
)
def test_bad_accounts_are_refused_with_the_reason(book, name, password, roles, code):
    with pytest.raises(AccountError) as caught:
        book.add(name, password, roles)
    assert caught.value.code == code
    assert book.accounts() == []


def test_scopes_parse_and_refuse_nonsense():
    assert Scope.parse("street:城关街道") == Scope("street", "城关街道")
    assert Scope.parse("district") == Scope()
    with pytest.raises(AccountError):
        Scope.parse("community")  # names no community
    with pytest.raises(AccountError):
        Scope.parse("city:杭州")


def test_a_wrong_name_and_a_wrong_password_get_the_same_answer(book):
    book.add("li", PASSWORD, ["duty"])
    with pytest.raises(SignInError) as unknown:
        book.authenticate("nobody", PASSWORD)
    with pytest.raises(SignInError) as wrong:
        book.authenticate("li", PASSWORD + "x")
    assert str(unknown.value) == str(wrong.value) and unknown.value.code == wrong.value.code == "signin_wrong"


def test_twenty_wrong_passwords_lock_the_account_until_unlocked(book):
    book.add("li", PASSWORD, ["duty"])
    codes = []
    for _ in range(20):
        with pytest.raises(SignInError) as caught:
            book.authenticate("li", "wrong password!")
        codes.append(caught.value.code)
    assert codes[:LOCK_AFTER] == ["signin_wrong"] * LOCK_AFTER and set(codes[LOCK_AFTER:]) == {"signin_locked"}
    assert book.get("li").locked
    with pytest.raises(SignInError, match="locked"):
        book.authenticate("li", PASSWORD)  # the right password too
    book.unlock("li")
    assert book.authenticate("li", PASSWORD).failures == 0


def test_a_right_password_resets_the_count(book):
    book.add("li", PASSWORD, ["duty"])
    for _ in range(LOCK_AFTER - 1):
        with pytest.raises(SignInError):
            book.authenticate("li", "wrong password!")
    book.authenticate("li", PASSWORD)
    with pytest.raises(SignInError):
        book.authenticate("li", "wrong password!")
    assert not book.get("li").locked and book.get("li").failures == 1


WRONG_ONCE = """
import sys
from core import accounts
from core.errors import SignInError
try:
    accounts.AccountBook(sys.argv[1]).authenticate(sys.argv[2], "wrong password!")
except SignInError:
    pass
"""


def test_concurrent_wrong_passwords_are_all_counted(book):
    book.add("li", PASSWORD, ["duty"])
    url = book.engine.url.render_as_string(hide_password=False)
    root = Path(__file__).resolve().parents[2]
    tries = [subprocess.Popen([sys.executable, "-c", WRONG_ONCE, url, "li"], cwd=root) for _ in range(LOCK_AFTER - 1)]
    assert [p.wait(120) for p in tries] == [0] * (LOCK_AFTER - 1)
    assert book.get("li").failures == LOCK_AFTER - 1


def test_sessions_end_on_sign_out_disable_password_change_and_idle(book, monkeypatch):
    account = book.add("li", PASSWORD, ["duty"], must_change=False)
    token = book.open_session(account)
    assert book.session(token).username == "li"
    assert book.session("forged") is None and book.session(None) is None
    book.close_session(token)
    assert book.session(token) is None
    token = book.open_session(account)
    book.update("li", disabled=True)
    assert book.session(token) is None
    with pytest.raises(SignInError, match="disabled"):
        book.authenticate("li", PASSWORD)
    book.update("li", disabled=False)
    token = book.open_session(account)
    book.set_password("li", "another password 7", must_change=True)
    assert book.session(token) is None and book.get("li").must_change
    token = book.open_session(account)
    monkeypatch.setenv("GRIDWATCH_SESSION_MINUTES", "1")
    with book.engine.begin() as c:
        c.execute(accounts.sessions_table.update().values(last_seen=accounts._now() - accounts.timedelta(minutes=2)))
    assert book.session(token) is None


def test_the_first_admin_is_made_once_with_a_one_time_password(book):
    password = book.first_admin()
    assert password and len(password) >= accounts.MIN_PASSWORD
    admin = book.authenticate("admin", password)
    assert admin.must_change and admin.roles == set(accounts.ROLES)
    assert book.first_admin() is None


def test_rights_follow_roles():
    leader = accounts.Account("w", "w", frozenset({"leader"}), Scope())
    assert accounts.may(leader, "performance") and not accounts.may(leader, "data")
    assert not accounts.may(None, None) and accounts.may(leader, None)
    with pytest.raises(AccessError) as caught:
        accounts.require(leader, "users")
    assert caught.value.code == "access_denied" and caught.value.params == {"right": "users"}
    both = accounts.Account("x", "x", frozenset({"analyst", "data_admin"}), Scope())
    assert {"coverage", "data", "audit"} <= both.rights and "dispatch" not in both.rights


def test_audit_is_appended_and_read_back_filtered(book):
    audit.record("signin", "li", book=book)
    audit.record("activate", "admin", workspace="demo", target="grids v3", detail="新边界", book=book)
    audit.record("signin_refused", "li", detail="wrong", book=book)
    everything = audit.entries(book=book)
    assert everything["action"].tolist() == ["signin_refused", "activate", "signin"]
    assert audit.entries(account="admin", book=book)["target"].tolist() == ["grids v3"]
    assert audit.entries(action="signin", book=book)["account"].tolist() == ["li"]
    assert str(everything["at"].dt.tz) == "UTC"
    with pytest.raises(ValueError):
        audit.record("erase", "li", book=book)


def test_a_scope_selects_its_grids_and_points_and_drops_whole_workspace_rights():
    import pandas as pd

    from core import schema

    frame = pd.DataFrame(
        {
            schema.GRID_ID: ["g1", "g2", "g3", None],
            schema.COMMUNITY: ["城东社区", "城西社区", "城东社区", None],
            schema.STREET: ["城关街道", "城关街道", "城关街道", None],
        }
    )
    assert Scope().select(frame) is frame
    assert Scope("community", "城东社区").select(frame)[schema.GRID_ID].tolist() == ["g1", "g3"]
    assert Scope("street", "城关街道").select(frame)[schema.GRID_ID].tolist() == ["g1", "g2", "g3"]
    assert Scope("community", "无此社区").select(frame).empty
    scoped = accounts.Account("w", "w", frozenset(accounts.ROLES), Scope("community", "城东社区"))
    assert not scoped.rights & accounts.DISTRICT_RIGHTS and {"performance", "command", "dispatch"} <= scoped.rights


def test_a_linked_identity_signs_in_once_per_fresh_id_token(book):
    import time

    book.add("lin", None, ["leader"], sso="Lin@Example.org")
    assert book.identities() == {"lin": ["lin@example.org"]}  # compared without case
    with pytest.raises(SignInError):
        book.authenticate("lin", "")  # an account for single sign-on only has no password anyone knows
    now = time.time()
    assert book.sso_sign_in(" LIN@example.org", now).username == "lin"
    for issued in (now, now - 1, now + 1 - accounts.SSO_FRESH.total_seconds() - 60):
        with pytest.raises(SignInError) as refused:  # the same token again, an older one, a stale one
            book.sso_sign_in("lin@example.org", issued)
        assert refused.value.code == "sso_used"
    assert book.sso_sign_in("lin@example.org", now + 1).username == "lin"  # a new sign-in at the provider
    with pytest.raises(SignInError) as refused:
        book.sso_sign_in("stranger@example.org", now)
    assert refused.value.code == "sso_unlinked"
    book.update("lin", disabled=True)
    with pytest.raises(SignInError, match="disabled"):
        book.sso_sign_in("lin@example.org", now + 2)


def test_identities_are_linked_to_one_account_and_unlinked(book):
    book.add("lin", PASSWORD, ["duty"])
    book.link("lin", "lin@example.org")
    with pytest.raises(AccountError) as taken:
        book.add("lin2", None, ["duty"], sso="LIN@example.org")
    assert taken.value.code == "sso_taken" and taken.value.params["name"] == "lin"
    assert [a.username for a in book.accounts()] == ["lin"]  # the refused account was not half-made
    with pytest.raises(AccountError, match="no account `nobody`"):
        book.link("nobody", "x@example.org")
    with pytest.raises(AccountError) as blank:
        book.link("lin", "  ")
    assert blank.value.code == "sso_identity_invalid"
    assert book.unlink("Lin@example.org") == "lin"
    assert book.identities() == {}
    with pytest.raises(AccountError) as gone:
        book.unlink("lin@example.org")
    assert gone.value.code == "sso_not_linked"
