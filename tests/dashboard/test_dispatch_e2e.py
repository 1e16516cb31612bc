"""Dispatch from the command center in a real browser: duty staff pick an overdue ticket, dispatch it
to a department, extend its deadline; each action is a ticket event signed by the account, shows in
the ticket's history and is audited. A leader sees the history but no actions; a refused action says
why and stores nothing."""

from __future__ import annotations

from playwright.sync_api import expect

from core import audit
from core import events as ev
from core.store import open_store

MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'


def pick_first_overdue(page, app_url) -> str:
    page.goto(f"{app_url}/command", wait_until="domcontentloaded")
    page.frame_locator(MAP_FRAME).locator("[data-gw-updates]").wait_for(timeout=120_000)
    table = page.get_by_text("Overdue tickets (").locator("xpath=following::*[@data-testid='stDataFrame'][1]")
    table.scroll_into_view_if_needed()
    ticket_id = table.locator("tbody tr").first.locator("td").first.inner_text().strip()
    box = table.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the row marker of the first row
    expect(page.get_by_role("heading", name=f"Ticket {ticket_id}")).to_be_visible(timeout=60_000)
    return ticket_id


def act(page, action: str, **fields) -> None:
    page.get_by_text(action, exact=True).click()
    for label, value in fields.items():
        box = page.get_by_role("textbox", name=label)
        box.fill(value)
    page.get_by_role("button", name="Record the action").click()


def test_duty_staff_act_on_an_overdue_ticket(page, app_url, artifacts):
    ticket_id = pick_first_overdue(page, app_url)  # the first visit seeds the demo; this one is at feedback
    store = open_store("demo", app_url.home, create=False)
    mark = store.event_mark()
    act(page, "Set deadline", **{"Reason / note": ""})
    expect(page.get_by_text("Give the reason (it is kept in the ticket's history).")).to_be_visible(timeout=30_000)
    act(page, "Dispatch", **{"Dispatch to": "城管中队"})
    expect(page.get_by_text("escalate it instead of dispatching it again")).to_be_visible(timeout=30_000)
    assert store.event_mark() == mark  # both refused: nothing stored
    act(page, "Escalate", **{"Reason / note": "<b>居民多次投诉</b> 13812345678"})
    expect(page.get_by_text(f"Ticket {ticket_id}: Escalate recorded.")).to_be_visible(timeout=60_000)
    events = store.events(kinds=(ev.STAGE,), refs=[ticket_id])
    assert events["by"].tolist() == ["tester"] and events["stage"].tolist() == ["feedback"]
    assert events["note"].iloc[0] == "escalated: <b>居民多次投诉</b> 13812345678"  # stored as sent
    history = page.get_by_role("heading", name=f"Ticket {ticket_id}").locator(
        "xpath=following::*[@data-testid='stDataFrame'][1]"
    )
    expect(history).to_contain_text("escalated: <b>居民多次投诉</b>", timeout=60_000)  # as text, not markup
    expect(history).not_to_contain_text("13812345678")  # a phone number in a note is masked
    page.screenshot(path=artifacts / "command_dispatch.png", full_page=True)
    assert audit.entries(action="dispatch", book=app_url.book())["target"].tolist() == [ticket_id]


def test_a_leader_sees_the_history_but_cannot_act(browser, app_url):
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, locale="en-US")
    app_url.sign_in(context, "leader1", roles=["leader"])
    page = context.new_page()
    try:
        pick_first_overdue(page, app_url)
        assert page.get_by_role("button", name="Record the action").count() == 0
    finally:
        context.close()
