"""Administration in a real browser, as a data admin: an account added in the app signs in with the
one-time password shown once; the change is in the audit log, which filters and exports (the export
is audited too); an API key made in the app works and can be revoked. Other roles cannot open it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from core import apikeys, audit
from core.store import open_store


def test_a_data_admin_adds_an_account_reads_the_audit_log_and_makes_a_key(page, app_url, artifacts):
    page.goto(f"{app_url}/admin")
    page.get_by_role("heading", name="Administration: audit log, accounts, API keys").wait_for(timeout=120_000)
    page.get_by_role("tab", name="Accounts").click()
    page.get_by_text("Add an account").click()
    page.get_by_role("textbox", name="User name").fill("zhao.duty")
    page.get_by_role("textbox", name="Name", exact=True).fill("赵值班")
    page.get_by_role("combobox", name=re.compile("Roles")).click()
    page.get_by_role("option", name="duty staff").click()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Add the account").click()
    shown = page.get_by_text(re.compile("Account `?zhao.duty`? added. One-time password"))
    expect(shown).to_be_visible(timeout=60_000)
    password = re.search(r"shown only now\): `?(\S+?)`?$", shown.inner_text().strip()).group(1)
    account = app_url.book().authenticate("zhao.duty", password)
    assert account.must_change and account.roles == {"duty"} and account.display_name == "赵值班"

    page.get_by_role("tab", name="Audit log").click()
    page.get_by_role("textbox", name="Account").fill("tester")
    page.get_by_role("textbox", name="Account").press("Enter")
    table = page.locator('[data-testid="stDataFrame"]').first
    expect(table).to_contain_text("account changed", timeout=60_000)
    expect(table).to_contain_text("zhao.duty")
    page.screenshot(path=artifacts / "admin_audit.png", full_page=True)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").first.click()
    exported = download.value.path().read_text(encoding="utf-8-sig")
    assert "zhao.duty" in exported and "account changed" in exported
    downloads = audit.entries(account="tester", action="download", book=app_url.book())
    assert downloads["target"].str.startswith("gridwatch_audit_").any()

    page.get_by_role("tab", name="API keys").click()
    page.get_by_role("textbox", name="Source").fill("phone_app")
    page.get_by_role("textbox", name="Source").press("Enter")
    page.get_by_role("button", name="Create a key").click()
    made = page.get_by_text(re.compile("Key of `?phone_app`? \\(shown only now\\)"))
    expect(made).to_be_visible(timeout=60_000)
    key = made.inner_text().strip().rsplit(" ", 1)[-1].strip("`")
    store = open_store("demo", app_url.home, create=False)
    assert apikeys.source_of(store, key) == "phone_app"
    page.get_by_role("tab", name="API keys").click()
    page.get_by_role("textbox", name="Source").fill("phone_app")
    page.get_by_role("textbox", name="Source").press("Enter")
    page.get_by_role("button", name="Revoke its key").click()
    expect(
        page.get_by_text("The key of `phone_app` is revoked.").or_(page.get_by_text("The key of phone_app is revoked."))
    ).to_be_visible(timeout=60_000)
    page.wait_for_timeout(1_100)  # key_state re-reads the keys at most once a second
    assert apikeys.key_state(store, key) == ("phone_app", True)
    changes = audit.entries(action="key_changed", book=app_url.book())["detail"].tolist()
    assert changes == ["revoke", "create"]


def test_a_data_admin_links_and_unlinks_a_single_sign_on_identity(page, app_url, artifacts):
    app_url.book().add("qian", "qian password 1", ["analyst"], must_change=False)
    page.goto(f"{app_url}/admin")
    page.get_by_role("heading", name="Administration: audit log, accounts, API keys").wait_for(timeout=120_000)
    page.get_by_role("tab", name="Accounts").click()
    page.get_by_role("combobox", name="Account").click()
    page.get_by_role("option", name="qian").click()
    page.get_by_role("textbox", name="Single sign-on identity", exact=True).fill("Qian@Example.org")
    page.get_by_role("button", name="Link to this account").click()
    expect(page.get_by_text(re.compile("`?qian@example.org`? now signs in to `?qian`?"))).to_be_visible(timeout=60_000)
    assert app_url.book().identities()["qian"] == ["qian@example.org"]
    page.get_by_role("tab", name="Accounts").click()
    accounts_table = page.get_by_role("tabpanel", name="Accounts").locator('[data-testid="stDataFrame"]')
    expect(accounts_table).to_contain_text("qian@example.org", timeout=30_000)
    page.screenshot(path=artifacts / "admin_sso_linked.png", full_page=True)
    page.get_by_role("textbox", name="Single sign-on identity", exact=True).fill("nobody@example.org")
    page.get_by_role("button", name="Unlink the identity").click()
    expect(page.get_by_text(re.compile("No account is linked to the identity `?nobody@example.org`?"))).to_be_visible(
        timeout=60_000
    )
    page.get_by_role("textbox", name="Single sign-on identity", exact=True).fill("qian@example.org")
    page.get_by_role("button", name="Unlink the identity").click()
    expect(page.get_by_text(re.compile("`?qian@example.org`? no longer signs in to `?qian`?"))).to_be_visible(
        timeout=60_000
    )
    assert "qian" not in app_url.book().identities()
    details = audit.entries(action="account_changed", account="tester", book=app_url.book())["detail"].tolist()
    assert details[:2] == ["sso unlinked: qian@example.org", "sso linked: Qian@Example.org"]


def test_a_leader_cannot_open_administration(browser, app_url):
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, locale="en-US")
    app_url.sign_in(context, "leader2", roles=["leader"])
    page = context.new_page()
    try:
        page.goto(f"{app_url}/admin")
        expect(page.get_by_text("Your account may not do this (`audit`)")).to_be_visible(timeout=120_000)
        assert page.get_by_role("tab", name="Accounts").count() == 0
    finally:
        context.close()
