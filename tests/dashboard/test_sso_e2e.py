"""Single sign-on in a real browser, against a local OpenID Connect provider that the test starts
(``oidc-provider-mock``, its own process on 127.0.0.1): a linked identity signs in to its account with that account's
roles; sign-out is not undone by the provider's leftover cookie; an identity no account is linked to,
and a linked but disabled account, are refused with a message in the reader's language and audited."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import httpx
import pytest
from playwright.sync_api import expect

from core import audit
from tests.conftest import _free_port, guarded_page, served

PROVIDER_LABEL = "Test ID"


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    """The provider's base URL; it asks for the nonce that GridWatch (Streamlit) sends."""
    port = _free_port()
    log = open(tmp_path_factory.mktemp("oidc") / "provider.log", "w")  # noqa: SIM115 (open while it runs)
    args = [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen([*args, "--require-nonce", "true"], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{base}/.well-known/openid-configuration", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("the test OpenID provider did not start")
    yield base
    proc.terminate()
    proc.wait(10)
    log.close()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, provider):
    yield from served(
        tmp_path_factory,
        GRIDWATCH_SSO_METADATA_URL=f"{provider}/.well-known/openid-configuration",
        GRIDWATCH_SSO_CLIENT_ID="gridwatch",
        GRIDWATCH_SSO_CLIENT_SECRET="gridwatch test secret",
        GRIDWATCH_SSO_LABEL=PROVIDER_LABEL,
    )


def browser_page(browser, locale="en-US"):
    """A fresh browser (no cookies) that records what it fetched from anywhere but 127.0.0.1 (and
    blocks it)."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, locale=locale)
    return guarded_page(context, hosts=("127.0.0.1",))


def sign_in_at_provider(page, app_url, identity: str, button: str) -> None:
    page.goto(app_url)
    page.get_by_role("button", name=button).click(timeout=120_000)
    page.get_by_role("heading", name="Authorize Client").wait_for(timeout=60_000)  # the provider's page
    page.get_by_placeholder("sub").fill(identity)
    page.get_by_role("button", name="Authorize").click()


def menu(page) -> list[str]:
    nav = page.locator('[data-testid="stSidebarNav"]')
    nav.wait_for(timeout=120_000)
    return [x.strip().splitlines()[-1] for x in nav.locator("a").all_inner_texts()]


def test_a_linked_identity_signs_in_with_its_accounts_roles_and_signs_out(browser, app_url, artifacts):
    app_url.book().add("lin", None, ["leader"], display_name="林主任", sso="Lin@Example.org")
    page = browser_page(browser)
    try:
        page.goto(app_url)
        page.get_by_role("heading", name="Sign in").wait_for(timeout=120_000)
        expect(page.get_by_role("button", name=f"Sign in with {PROVIDER_LABEL}")).to_be_visible()
        expect(page.get_by_role("textbox", name="User name")).to_be_visible()  # passwords still work
        page.screenshot(path=artifacts / "sso_signin_en.png")
        sign_in_at_provider(page, app_url, "lin@example.org", f"Sign in with {PROVIDER_LABEL}")
        assert menu(page) == ["Overview", "Command center", "Performance", "Coverage", "Hotspots", "Patrols"]
        expect(page.get_by_text("Signed in: 林主任 (lin) · leader · whole district")).to_be_visible()
        page.screenshot(path=artifacts / "sso_signed_in.png")
        page.wait_for_function("document.cookie.includes('gw_session=')", timeout=30_000)  # handed by a script
        page.reload()  # GridWatch's own session keeps the browser signed in
        assert "Performance" in menu(page)
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("heading", name="Sign in").wait_for(timeout=60_000)
        page.reload()  # the provider's answer is still in Streamlit's cookie: it must not sign in again
        page.get_by_role("heading", name="Sign in").wait_for(timeout=60_000)
        page.wait_for_timeout(2_000)
        assert page.locator('[data-testid="stSidebarNav"]').count() == 0
        assert all(url.startswith("https://cdn.jsdelivr.net/npm/@picocss/") for url in page.offsite), page.offsite
    finally:
        page.context.close()
    signins = audit.entries(book=app_url.book(), account="lin")
    assert list(signins["action"])[:2] == ["signout", "signin"]
    assert signins["detail"].iloc[1] == "sso"


def test_an_unlinked_identity_is_refused_in_the_readers_language_and_audited(browser, app_url, artifacts):
    page = browser_page(browser, "zh-CN")
    try:
        sign_in_at_provider(page, app_url, "stranger@example.org", f"使用{PROVIDER_LABEL}登录")
        expect(page.get_by_text("没有 GridWatch 账号关联到 `stranger@example.org`", exact=False)).to_be_visible(
            timeout=120_000
        )
        page.screenshot(path=artifacts / "sso_refused_zh.png")
        assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    finally:
        page.context.close()
    refused = audit.entries(book=app_url.book(), action="signin_refused")
    assert ("stranger@example.org", "sso_unlinked") in set(zip(refused["account"], refused["detail"], strict=True))


def test_a_disabled_account_is_refused_through_single_sign_on_too(browser, app_url):
    app_url.book().add("gone", None, ["duty"], sso="gone@example.org")
    app_url.book().update("gone", disabled=True)
    page = browser_page(browser)
    try:
        sign_in_at_provider(page, app_url, "gone@example.org", f"Sign in with {PROVIDER_LABEL}")
        expect(page.get_by_text(re.compile(r"Account `gone` is disabled"))).to_be_visible(timeout=120_000)
        assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    finally:
        page.context.close()
