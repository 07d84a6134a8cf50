"""Browser fixtures: Debian's chromium driven by Playwright, offline, one context per test.

Never downloads a browser. Requests to anything but the live server on 127.0.0.1 are
aborted and recorded in the ``external_requests`` fixture, so tests can assert that the
pages work offline (no CDN, fonts or scripts from elsewhere). Anything a page does that
its Content-Security-Policy refuses (an inline script, a script from elsewhere) fails
the test that opened it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Route,
    sync_playwright,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The SCREENSHOTS folder of tests/conftest.py: <repo>/test-output/screenshots.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def external_requests() -> list[str]:
    """URLs the page tried to load from anywhere but the local server (all aborted)."""
    return []


@pytest.fixture
def csp_violations() -> list[str]:
    """What pages tried that their Content-Security-Policy refused (chromium reports each
    on the console); must stay empty."""
    return []


@pytest.fixture
def browser_context(
    browser: Browser, external_requests: list[str], csp_violations: list[str]
) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            where = message.page.url if message.page is not None else "?"
            csp_violations.append(f"{where}: {message.text}")

    context.on("console", on_console)

    def only_local(route: Route) -> None:
        url = route.request.url
        if url.startswith("data:") or urlsplit(url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            external_requests.append(url)
            route.abort()

    context.route("**/*", only_local)
    context.set_default_timeout(15_000)
    yield context
    context.close()
    assert csp_violations == [], "a page broke its Content-Security-Policy"


@pytest.fixture
def page(browser_context: BrowserContext) -> Page:
    return browser_context.new_page()


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    """``screenshot(page, name)`` saves test-output/screenshots/<name>.png (full page)."""

    def take(page: Page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
