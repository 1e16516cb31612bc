"""Who is signed in: the sign-in form, the first-sign-in password change, sign-out, and the account of
the current run (``current``), which every page and action asks before it does anything.

A session is a random token (``core.accounts``) kept in the ``gw_session`` cookie (SameSite=Strict),
so a reload or a new tab of the same browser stays signed in until the session ends (idle timeout,
sign-out, account disabled or locked). Every run checks the token against the account book again:
what the browser holds is never trusted on its own. The cookie is written by a script in the page
(Streamlit gives a page no way to send a Set-Cookie header), so it cannot be HttpOnly; everything a
file or a resident sent is escaped before it reaches the page, which is what keeps scripts out.

Single sign-on (when ``settings.single_sign_on`` is configured) goes through Streamlit's ``st.login``:
the provider's answer (``st.user``, in Streamlit's own signed cookie) is only a claim of identity.
The run that sees a fresh one asks the book for the account linked to it (``sso_sign_in``, which takes
each ID token once) and opens an ordinary GridWatch session, so the idle timeout, sign-out, disabling
and locking work the same for both ways in.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import streamlit as st
import streamlit.components.v1 as components

from core import accounts, audit, settings
from core.accounts import Account
from core.errors import GridWatchError, SignInError
from dashboard import state
from dashboard.i18n import show_error, t

_COOKIE_SECONDS = 12 * 3600  # the browser forgets it after a shift; the book ends an idle session sooner


def current() -> Account | None:
    """The signed-in account of this run, checked against the book (None: nobody, or the session
    ended). A cookie from an earlier visit signs the browser in again while its session lasts."""
    token = st.session_state.get(state.SESSION_TOKEN) or st.context.cookies.get(state.SESSION_COOKIE)
    account = accounts.book().session(token) if token else None
    if account is None:
        st.session_state.pop(state.SESSION_TOKEN, None)
        st.session_state.pop(state.ACCOUNT, None)
        return None
    st.session_state[state.SESSION_TOKEN] = token
    st.session_state[state.ACCOUNT] = account
    return account


def author(account: Account) -> str:
    """How an account signs versions and roster saves: its name and user name."""
    name = account.display_name
    return account.username if name == account.username else f"{name} ({account.username})"


def gate() -> Account:
    """The signed-in account; otherwise the sign-in form (or the password change a one-time password
    asks for) is drawn and the run stops."""
    _write_cookie()
    account = current() or _from_single_sign_on()
    if account is not None and not account.must_change:
        return account
    from dashboard.components.sidebar import language_picker  # the sidebar imports this module

    language_picker()
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title("GridWatch")
        if account is not None:
            _change_password(account)
        else:
            _sign_in_form()
    st.stop()
    raise AssertionError  # st.stop() does not return


def _from_single_sign_on() -> Account | None:
    """A provider sign-in this browser session has not handled yet, as a new session of the account
    linked to it (the run then starts again, signed in); None when there is none or it was refused
    (the refusal is audited and shown with the form)."""
    sso = settings.single_sign_on()
    if sso is None or not st.user.is_logged_in:
        return None
    claims = st.user.to_dict()
    identity, issued = str(claims.get(sso.claim) or "").strip(), claims.get("iat")
    if st.session_state.get(state.SSO_SEEN) == (identity, issued):
        return None
    st.session_state[state.SSO_SEEN] = (identity, issued)
    book = accounts.book()
    try:
        if not identity or not isinstance(issued, int | float):
            raise SignInError(
                f"the provider's answer has no `{sso.claim}`", code="sso_no_claim", params={"claim": sso.claim}
            )
        if sso.claim == "email" and claims.get("email_verified") is False:
            raise SignInError(
                f"the provider has not verified `{identity}`", code="sso_unverified", params={"identity": identity}
            )
        account = book.sso_sign_in(identity, float(issued))
    except SignInError as exc:
        if exc.code != "sso_used":  # used: the sign-in that a sign-out or timeout ended, not news
            audit.record("signin_refused", identity[:64] or "?", detail=exc.code)
            st.session_state[state.SSO_REFUSAL] = exc
        return None
    st.session_state.pop(state.SSO_REFUSAL, None)
    _open(book, account, detail="sso")
    st.rerun()
    raise AssertionError  # st.rerun() does not return


def _sign_in_form() -> None:
    st.subheader(t("signin.title"))
    sso = settings.single_sign_on()
    if sso is not None:
        if state.SSO_REFUSAL in st.session_state:
            show_error(st.session_state[state.SSO_REFUSAL])
        if st.button(t("signin.sso", provider=sso.label), type="primary", key=state.SIGNIN_SSO):
            st.session_state.pop(state.SSO_REFUSAL, None)
            st.login()
        st.caption(t("signin.or_password"))
    with st.form(state.SIGNIN_FORM):
        username = st.text_input(t("signin.username"), key=state.SIGNIN_USERNAME)
        password = st.text_input(t("signin.password"), type="password", key=state.SIGNIN_PASSWORD)
        submitted = st.form_submit_button(t("signin.submit"), type="primary")
    st.caption(t("signin.help"))
    if not submitted:
        return
    book = accounts.book()
    name = username.strip()
    try:
        account = book.authenticate(name, password)
    except SignInError as exc:
        audit.record("signin_refused", name or "?", detail=exc.code)
        show_error(exc)
        return
    _open(book, account)
    st.rerun()


def _change_password(account: Account) -> None:
    st.subheader(t("signin.change_title"))
    st.caption(t("signin.change_help", name=account.username, min=accounts.MIN_PASSWORD))
    with st.form(state.PASSWORD_FORM):
        first = st.text_input(t("signin.new_password"), type="password", key=state.NEW_PASSWORD)
        again = st.text_input(t("signin.new_password_again"), type="password", key=state.NEW_PASSWORD_AGAIN)
        submitted = st.form_submit_button(t("signin.change_submit"), type="primary")
    if not submitted:
        return
    if first != again:
        st.error(t("signin.passwords_differ"))
        return
    book = accounts.book()
    try:
        changed = book.set_password(account.username, first, must_change=False)  # ends the old session
    except GridWatchError as exc:
        show_error(exc)
        return
    audit.record("password_changed", account.username, target=account.username)
    _open(book, changed)
    st.rerun()


def _open(book: accounts.AccountBook, account: Account, detail: str | None = None) -> None:
    token = book.open_session(account)
    st.session_state[state.SESSION_TOKEN] = token
    st.session_state[state.COOKIE_PENDING] = token
    if not account.must_change:
        audit.record("signin", account.username, detail=detail)


def sign_out(account: Account) -> None:
    """The signed-in name and the sign-out button (sidebar)."""
    box = st.sidebar.container()
    roles = ", ".join(t(f"role.{r}") for r in sorted(account.roles))
    box.caption(t("signin.signed_in_as", name=author(account), roles=roles, scope=scope_text(account.scope)))
    if box.button(t("signin.sign_out"), key=state.SIGN_OUT):
        accounts.book().close_session(st.session_state.get(state.SESSION_TOKEN))
        audit.record("signout", account.username)
        for key in (state.SESSION_TOKEN, state.ACCOUNT):
            st.session_state.pop(key, None)
        st.session_state[state.COOKIE_PENDING] = ""
        st.rerun()


def scope_text(scope: accounts.Scope) -> str:
    return t("scope.district") if scope.name is None else t(f"scope.{scope.level}", name=scope.name)


def _write_cookie() -> None:
    """Hand the browser the session cookie set (or cleared, "") by the last sign-in or sign-out."""
    if state.COOKIE_PENDING not in st.session_state:
        return
    token = st.session_state.pop(state.COOKIE_PENDING)
    life = f"Max-Age={_COOKIE_SECONDS}" if token else "Max-Age=0"
    # token_urlsafe: letters, digits, - and _ only, so it is safe inside the script's string
    components.html(
        f"<script>window.parent.document.cookie = '{state.SESSION_COOKIE}={token}; Path=/; SameSite=Strict; {life}';</script>",
        height=0,
    )


def require(right: str | None) -> Account:
    """The signed-in account when it holds ``right``; else ``AccessError`` (a page shows it)."""
    account = current()
    accounts.require(account, right)
    assert account is not None
    return account


@functools.cache
def _checked(render: Callable[[], None], right: str | None) -> Callable[[], None]:
    @functools.wraps(render)
    def run() -> None:
        require(right)  # the menu hid the page; a typed address is refused here, on the server
        render()

    return run


def page(render: Callable[[], None], right: str | None, **options) -> st.Page:
    """``st.Page(render, **options)`` that runs only for an account holding ``right``; for any other
    it is left out of the menu, and its address answers with the refusal in the reader's language."""
    if not may(right):
        options["visibility"] = "hidden"
    return st.Page(_checked(render, right), **options)


def may(right: str | None) -> bool:
    """Whether the account signed in for this run holds ``right`` (for menus and buttons; the action
    itself calls ``require``)."""
    account = st.session_state.get(state.ACCOUNT)
    if account is None and state.SESSION_TOKEN in st.session_state:
        account = current()
    return accounts.may(account, right)
