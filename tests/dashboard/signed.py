"""Signing an ``AppTest`` in: a real session in the account book of the test's ``GRIDWATCH_HOME``."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core import accounts
from core.errors import AccountError
from dashboard import state


def sign_in(at: AppTest, username: str = "reader", roles=accounts.ROLES, **kw) -> None:
    """A session of ``username`` (made on first use, with ``roles``) for ``at``'s next runs."""
    book = accounts.book()
    try:
        account = book.get(username)
    except AccountError:
        account = book.add(username, "a password 123", roles, must_change=False, **kw)
    at.session_state[state.SESSION_TOKEN] = book.open_session(account)
