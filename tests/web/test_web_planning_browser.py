"""The planning pages in a real browser, local mode: the board's drag-and-drop and keyboard
moves against a WIP limit, the refusal and the reason that overrides it, the Definition
of Done ticks, the flow charts after a history of moves, and screenshots of each page.

Runs on SQLite only: the pages use the same services as the API, whose tests already
cover PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
from planning_support import make_item, move, ok, seed_planning
from playwright.sync_api import Browser, Page, expect

from loopwise.core.clock import FrozenClock

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

Shot = Callable[[Page, str], Path]


@pytest.fixture
def http(live_server) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        yield client


def card(page: Page, key: str, column: str | None = None):  # type: ignore[no-untyped-def]
    where = f"section.column[data-column='{column}'] " if column else ""
    return page.locator(f"{where}li.card[data-key='{key}']")


def tab_to(page: Page, key: str, limit: int = 60) -> None:
    """Press Tab until the card ``key`` has the keyboard focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.key") == key:
            return
    raise AssertionError(f"Tab never reached {key}")


def test_board_moves_by_drag_and_keyboard_with_wip_limit_and_reason(
    live_server,  # type: ignore[no-untyped-def]
    http: httpx.Client,
    clock: FrozenClock,
    page: Page,
    screenshot: Shot,
    external_requests: list[str],
) -> None:
    ok(http.post("/api/v1/projects", json={"key": "WIP", "name": "Fraud rules"}), 201)
    first = make_item(http, "WIP", "Velocity features", labels=["features"])
    second = make_item(http, "WIP", "Merchant risk score", assignee="local")
    make_item(http, "WIP", "Chargeback labels", kind="data_task")

    page.goto(f"{live_server.url}/projects/WIP/board")
    page.get_by_text("Set a WIP limit").click()
    page.locator("#wip-column").select_option("in_progress")
    page.locator("#wip-limit-value").fill("1")
    with page.expect_navigation():
        page.get_by_role("button", name="Save limit").click()
    head = page.locator("section.column[data-column='in_progress'] .column-head")
    expect(head.locator(".count")).to_contain_text("0 / 1")

    clock.advance(timedelta(hours=3))
    card(page, first).drag_to(page.locator("section.column[data-column='in_progress']"))
    expect(card(page, first, "in_progress")).to_be_visible()
    expect(page.locator("#board-live")).to_have_text(f"Moved {first} to In progress.")
    expect(head).to_contain_text("■ at limit")
    assert ok(http.get(f"/api/v1/items/{first}"))["status"] == "in_progress"

    # Keyboard: Tab to the second card, "]" moves it one column right (Ready)...
    page.locator("#f-kind").focus()
    tab_to(page, second)
    page.keyboard.press("]")
    expect(card(page, second, "ready")).to_be_focused()
    expect(page.locator("#board-live")).to_have_text(f"Moved {second} to Ready.")
    # ...and Shift+ArrowRight tries In progress, which is at its limit: refused.
    page.keyboard.press("Shift+ArrowRight")
    dialog = page.locator("#move-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("In progress is at its WIP limit (1 of 1)")
    expect(page.locator("#board-live")).to_contain_text("Move refused.")
    expect(card(page, second, "ready")).to_be_visible()  # nothing moved
    screenshot(page, "21-board-move-refused")
    dialog.get_by_role("button", name="Move anyway").click()  # no reason yet: asks again
    expect(page.locator("#move-dialog-problem")).to_be_visible()
    page.locator("#move-dialog-reason").fill("Chargeback spike: the fraud team needs it today")
    dialog.get_by_role("button", name="Move anyway").click()
    expect(card(page, second, "in_progress")).to_be_focused()
    expect(head).to_contain_text("▲ over limit")
    expect(head.locator(".count")).to_contain_text("2 / 1")

    last = ok(http.get(f"/api/v1/items/{second}/history"))[-1]
    assert last["to_value"] == "in_progress"
    assert "Chargeback spike" in last["note"] and "WIP limit" in last["note"]
    page.goto(f"{live_server.url}/items/{second}")
    expect(page.locator("#history")).to_contain_text("Chargeback spike: the fraud team")
    screenshot(page, "22-item")

    page.goto(f"{live_server.url}/projects/WIP/board")
    expect(page.locator("section.column")).to_have_count(6)
    screenshot(page, "20-board-wip")
    assert external_requests == []


def test_definition_of_done_ticks_save_on_change(
    live_server,  # type: ignore[no-untyped-def]
    http: httpx.Client,
    page: Page,
) -> None:
    ok(http.post("/api/v1/projects", json={"key": "DOD", "name": "Done"}), 201)
    checks = {"checks": [{"text": "Reviewed by a peer"}, {"text": "Notebook archived"}]}
    ok(http.put("/api/v1/projects/DOD/done-rules/task", json=checks))
    item = make_item(http, "DOD", "Write the evaluation plan")
    page.goto(f"{live_server.url}/items/{item}")
    expect(page.get_by_role("button", name="Save checklist")).to_be_hidden()  # JS saves
    with page.expect_navigation():
        page.get_by_label("Reviewed by a peer").check()
    expect(page.get_by_label("Reviewed by a peer")).to_be_checked()
    expect(page.locator("ul.checks")).to_contain_text("ticked by local")
    saved = {c["text"]: c["checked"] for c in ok(http.get(f"/api/v1/items/{item}/checks"))}
    assert saved == {"Reviewed by a peer": True, "Notebook archived": False}
    # The item's own move form: done is refused while a check is open.
    page.locator("#item-to-" + item).select_option("done")
    with page.expect_navigation():
        page.get_by_role("button", name="Move", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Definition of Done not met")
    expect(page.get_by_role("alert")).to_contain_text("Notebook archived")


def test_board_works_without_javascript(
    live_server,  # type: ignore[no-untyped-def]
    http: httpx.Client,
    browser: Browser,
    screenshot: Shot,
) -> None:
    ok(http.post("/api/v1/projects", json={"key": "NOJS", "name": "No script"}), 201)
    a, b = make_item(http, "NOJS", "First"), make_item(http, "NOJS", "Second")
    http.put("/api/v1/projects/NOJS/columns/in_progress/wip-limit", json={"wip_limit": 1})
    viewport = {"width": 1280, "height": 900}
    context = browser.new_context(java_script_enabled=False, viewport=viewport)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/projects/NOJS/board")
        for key in (a, b):
            form = card(page, key)
            form.locator("summary").click()
            form.locator("select[name=to]").select_option("in_progress")
            with page.expect_navigation():
                form.get_by_role("button", name="Move").click()
        # The second move came back refused, with a field for the reason.
        expect(page.locator("#move-refused")).to_contain_text("at its WIP limit (1 of 1)")
        screenshot(page, "23-move-refused-no-js")
        page.locator("textarea[name=reason]").fill("pairing with the first one")
        with page.expect_navigation():
            page.get_by_role("button", name="Move anyway").click()
        assert page.url.endswith("/projects/NOJS/board")
        expect(card(page, b, "in_progress")).to_be_visible()
    finally:
        context.close()


def test_flow_forecast_milestone_risks_and_portfolio_pages(
    live_server,  # type: ignore[no-untyped-def]
    http: httpx.Client,
    clock: FrozenClock,
    page: Page,
    screenshot: Shot,
    external_requests: list[str],
) -> None:
    seeded = seed_planning(http, clock)  # six weeks of moves while the clock advances
    base = live_server.url

    page.goto(f"{base}/projects/CHURN/board")
    expect(card(page, seeded["hypotheses"][1])).to_contain_text("past time-box")
    screenshot(page, "24-board")

    page.goto(f"{base}/projects/CHURN/flow")
    cfd = page.locator("#cfd svg.cfd")
    expect(cfd).to_be_visible()
    assert cfd.locator("path.band").count() >= 4
    scatter = page.locator("#scatter svg.scatter")
    assert scatter.locator("circle.dot").count() == 14
    for p in (50, 85, 95):
        expect(scatter.locator(f"line.percentile[data-percentile='{p}']")).to_have_count(1)
        expect(scatter.locator(f"text.pct-label.p{p}")).to_contain_text(f"{p}%:")
    expect(page.locator("#throughput rect.bar").first).to_be_visible()
    expect(page.locator("#aging svg .timebox")).to_have_count(1)
    expect(page.locator("#aging-table")).to_contain_text("older than P85")
    screenshot(page, "25-flow")

    page.goto(f"{base}/projects/CHURN/forecast")
    expect(page.locator("#when-numbers")).to_contain_text("P85")
    expect(page.locator("#when-chart svg.histogram")).to_be_visible()
    page.locator("#f-items").fill("4")
    page.locator("#f-items-high").fill("8")
    with page.expect_navigation():
        page.locator("#when form button").click()
    expect(page.locator("#when")).to_contain_text("4 to 8 items")
    expect(page.locator("#backtest-summary")).to_contain_text("inside the P85 interval in")
    screenshot(page, "26-forecast")

    page.goto(f"{base}/milestones/{seeded['milestone']}")
    expect(page.locator("#probability")).to_contain_text("chance by the target")
    expect(page.locator("#milestone-chart line.target")).to_have_count(1)
    screenshot(page, "27-milestone")

    page.goto(f"{base}/projects/CHURN/risks")
    expect(page.locator("#heat-map td[data-likelihood='4'][data-impact='5']")).to_contain_text("R1")
    form = page.locator("#new-risk form")
    page.get_by_text("New risk").click()
    form.locator("input[name=title]").fill("Retention team adopts slowly")
    form.locator("select[name=category]").select_option("business")
    form.locator("select[name=likelihood]").select_option("4")
    form.locator("select[name=impact]").select_option("4")
    with page.expect_navigation():
        form.get_by_role("button", name="Add risk").click()
    expect(page.locator("#heat-map td[data-likelihood='4'][data-impact='4']")).to_contain_text("R5")
    screenshot(page, "28-risks")

    page.goto(f"{base}/portfolio")
    row = page.locator("#portfolio tr[data-key='CHURN']")
    expect(row).to_contain_text("Pilot with the retention team")
    expect(row).to_contain_text("%")
    screenshot(page, "29-portfolio")

    page.goto(f"{base}/projects/CHURN")
    expect(page.locator("#raci-table")).to_contain_text("Modeling")
    page.goto(f"{base}/projects/CHURN/cycles/1")
    expect(page.locator("#cycle-report")).to_contain_text("Planned")
    screenshot(page, "30-cycle")
    move(http, seeded["items"][16], "in_progress")  # the API and the pages agree
    page.goto(f"{base}/projects/CHURN/board")
    expect(card(page, seeded["items"][16], "in_progress")).to_be_visible()
    assert external_requests == []
