"""Workspaces in a real browser: a new workspace made in the sidebar (America/Chicago) is selected and
listed; one made by ``gridwatch workspace create`` while the server runs shows without a restart;
deleting asks for the name typed again. The period survives a language switch and a visit to another
page (before, the period picker showed its English label in Chinese and fell back to 30 days)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import expect

from core import store, workspaces

ROOT = Path(__file__).resolve().parents[2]


def open_app(page, app_url: str) -> None:
    page.goto(app_url, wait_until="domcontentloaded")
    page.get_by_role("combobox", name="Workspace").wait_for(timeout=120_000)


def sidebar(page):
    return page.locator('[data-testid="stSidebar"]')


def workspace_options(page) -> list[str]:
    page.get_by_role("combobox", name="Workspace").click()
    page.get_by_role("option").first.wait_for(timeout=30_000)  # the list opens after a rerun settles
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return options


def test_create_in_the_app_select_it_and_see_a_cli_one_then_delete(page, app_url, choose):
    open_app(page, app_url)
    side = sidebar(page)
    side.get_by_text("New workspace").click()
    side.get_by_role("textbox", name="Name").fill("chicago")
    choose(side.get_by_role("combobox", name="Time zone"), "America/Chicago")
    side.get_by_role("button", name="Create workspace").click()

    expect(side.get_by_text("Workspace chicago created.")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("combobox", name="Workspace")).to_have_value("chicago")
    caption = side.get_by_text(re.compile(r"No tickets yet: periods end today, .* · America/Chicago · version 0"))
    expect(caption).to_be_visible()
    assert workspace_options(page) == ["chicago", "demo"]
    listed = {w.name: w.profile.timezone for w in workspaces.list_workspaces(app_url.home)}
    assert listed == {"chicago": "America/Chicago", "demo": "Asia/Shanghai"}

    subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "workspace", "create", "from-cli", "--timezone", "Europe/Berlin"],
        cwd=ROOT,
        env={**os.environ, "GRIDWATCH_HOME": str(app_url.home)},
        check=True,
        capture_output=True,
    )
    page.reload(wait_until="domcontentloaded")  # a new run of the same server: no restart
    page.get_by_role("combobox", name="Workspace").wait_for(timeout=120_000)
    assert workspace_options(page) == ["chicago", "demo", "from-cli"]
    expect(page.get_by_role("combobox", name="Workspace")).to_have_value("chicago")

    side.get_by_text("Delete workspace").click()
    expect(side.get_by_text("Deletes chicago with every version and setting.")).to_be_visible()
    button = side.get_by_role("button", name="Delete chicago")
    expect(button).to_be_disabled()
    confirm = side.get_by_role("textbox", name="Type chicago again to confirm")
    confirm.fill("chicag")
    confirm.press("Enter")
    expect(button).to_be_disabled()
    confirm.fill("chicago")
    confirm.press("Enter")
    expect(button).to_be_enabled(timeout=30_000)
    page.wait_for_function(
        "!document.querySelector('[data-stale=true]') && !document.querySelector('[data-testid=stStatusWidget]')",
        timeout=60_000,
    )
    button.click()  # once the rerun that enabled it has finished, so the click is not lost in it
    expect(side.get_by_text("Workspace chicago deleted.")).to_be_visible(timeout=60_000)
    assert workspace_options(page) == ["demo", "from-cli"]
    assert not list(store.workspaces_dir(app_url.home).glob("chicago*"))


def test_a_language_switch_keeps_the_period(page, app_url, choose):
    page.goto(f"{app_url}/data", wait_until="domcontentloaded")
    page.get_by_role("combobox", name="Period").wait_for(timeout=120_000)
    choose(page.get_by_role("combobox", name="Period"), "Last 90 days")
    expect(page.get_by_role("combobox", name="Period")).to_have_value("Last 90 days")
    page.get_by_text("中文", exact=True).click()
    expect(page.get_by_role("heading", name="数据管理：边界与图层")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("combobox", name="时段")).to_have_value("近90天")
    page.get_by_role("link", name="总览", exact=True).click()  # another page, then back: still there
    expect(page.get_by_role("combobox", name="时段")).to_have_value("近90天", timeout=60_000)
    page.get_by_role("link", name="数据管理", exact=True).click()
    expect(page.get_by_role("heading", name="数据管理：边界与图层")).to_be_visible(timeout=60_000)
