"""Signing in, in a real browser: the sign-in form in both languages, the first admin's one-time
password replaced at the first sign-in, a role's menu, a page the role may not open refused on the
server, sign-out, and the lock after repeated wrong passwords (audited)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core import accounts, audit
from core.errors import SignInError

PASSWORD = "analyst password 1"


def sign_in(page, name: str, password: str) -> None:
    page.get_by_role("textbox", name=re.compile("User name|用户名")).fill(name)
    page.get_by_role("textbox", name=re.compile("Password|密码")).fill(password)
    page.get_by_role("button", name=re.compile("^(Sign in|登录)$")).click()


def menu(page) -> list[str]:
    nav = page.locator('[data-testid="stSidebarNav"]')
    nav.wait_for(timeout=120_000)
    return [x.strip().splitlines()[-1] for x in nav.locator("a").all_inner_texts()]  # after the icon's name


def fresh_page(browser, locale="en-US"):
    return browser.new_context(viewport={"width": 1500, "height": 1000}, locale=locale).new_page()


def test_the_first_admin_signs_in_with_the_printed_password_and_sets_their_own(browser, app_url, artifacts):
    printed = re.search(r"user `admin`, one-time password (\S+)", (app_url.home / "server.log").read_text())
    assert printed, "gridwatch serve printed no one-time password"
    page = fresh_page(browser)
    try:
        page.goto(app_url)
        page.get_by_role("heading", name="Sign in").wait_for(timeout=120_000)
        assert page.locator('[data-testid="stSidebarNav"]').count() == 0  # nothing before signing in
        page.screenshot(path=artifacts / "signin_en.png")
        sign_in(page, "admin", printed.group(1))
        page.get_by_role("heading", name="Choose your own password").wait_for(timeout=60_000)
        page.get_by_role("textbox", name="New password", exact=True).fill("short")
        page.get_by_role("textbox", name="New password again").fill("short")
        page.get_by_role("button", name="Save and sign in").click()
        expect(page.get_by_text("A password needs at least 10 characters.")).to_be_visible(timeout=30_000)
        page.get_by_role("textbox", name="New password", exact=True).fill("the admin's own 1")
        page.get_by_role("textbox", name="New password again").fill("the admin's own 1")
        page.get_by_role("button", name="Save and sign in").click()
        assert menu(page) == [
            "Overview",
            "Command center",
            "Performance",
            "Coverage",
            "Hotspots",
            "Patrols",
            "Data",
            "Administration",
        ]
        page.wait_for_function("document.cookie.includes('gw_session=')", timeout=30_000)  # handed by a script
        page.reload()  # the session cookie keeps the browser signed in
        assert "Data" in menu(page)
    finally:
        page.context.close()
    admin = app_url.book().authenticate("admin", "the admin's own 1")
    assert not admin.must_change
    with pytest.raises(SignInError):
        app_url.book().authenticate("admin", printed.group(1))  # the one-time password is gone


def test_an_analyst_sees_only_the_analysis_pages_and_cannot_open_data(browser, app_url, artifacts):
    app_url.book().add("ana", PASSWORD, ["analyst"], display_name="安娜", must_change=False)
    page = fresh_page(browser, "zh-CN")
    try:
        page.goto(app_url)
        page.get_by_role("heading", name="登录").wait_for(timeout=120_000)
        page.screenshot(path=artifacts / "signin_zh.png")
        sign_in(page, "ana", "wrong password!")
        expect(page.get_by_text("用户名或密码错误。")).to_be_visible(timeout=30_000)
        sign_in(page, "ana", PASSWORD)
        assert menu(page) == ["总览", "绩效考评", "覆盖分析", "热点分析", "巡防管理"]
        expect(page.get_by_text(re.compile("已登录：安娜 \\(ana\\) · 分析员 · 全辖区"))).to_be_visible()
        assert page.get_by_text("新建工作空间").count() == 0  # workspaces are the data admin's
        page.screenshot(path=artifacts / "signin_zh_analyst.png")
        page.goto(f"{app_url}/data")  # typed in: not a page of this account, refused by the server
        expect(page.get_by_text("您的账号无权执行此操作（`data`）")).to_be_visible(timeout=60_000)
        assert "数据管理" not in menu(page)
        assert page.get_by_role("heading", name="数据管理：边界与图层").count() == 0
        assert page.locator('[data-testid="stFileUploaderDropzoneInput"]').count() == 0
        page.get_by_role("button", name="退出登录").click()
        page.get_by_role("heading", name="登录").wait_for(timeout=60_000)
        page.reload()  # signed out for good: the cookie's session is closed
        page.get_by_role("heading", name="登录").wait_for(timeout=60_000)
    finally:
        page.context.close()
    actions = audit.entries(account="ana", book=app_url.book())["action"].tolist()
    assert actions == ["signout", "signin", "signin_refused"]


def test_wrong_passwords_lock_the_account_and_the_right_one_is_refused_until_unlocked(browser, app_url):
    app_url.book().add("duty1", PASSWORD, ["duty"], must_change=False)
    page = fresh_page(browser)
    try:
        page.goto(app_url)
        page.get_by_role("heading", name="Sign in").wait_for(timeout=120_000)
        for tried in range(1, accounts.LOCK_AFTER + 1):
            sign_in(page, "duty1", "wrong password!")
            expect(page.get_by_text("Wrong user name or password.")).to_be_visible(timeout=30_000)
            for _ in range(60):  # the message stays up from the last try: wait for this one to be counted
                if app_url.book().get("duty1").failures == tried:
                    break
                page.wait_for_timeout(500)
        sign_in(page, "duty1", PASSWORD)
        locked = page.get_by_text("Account `duty1` is locked after 10 wrong passwords")
        expect(locked).to_be_visible(timeout=30_000)
        assert page.locator('[data-testid="stSidebarNav"]').count() == 0
        app_url.book().unlock("duty1")
        sign_in(page, "duty1", PASSWORD)
        assert menu(page) == ["Overview", "Command center", "Patrols"]
    finally:
        page.context.close()
    refused = audit.entries(account="duty1", action="signin_refused", book=app_url.book())
    assert len(refused) == accounts.LOCK_AFTER + 1 and refused["detail"].iloc[0] == "signin_locked"
