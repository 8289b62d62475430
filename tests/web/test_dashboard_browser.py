"""The dashboard in headless Chromium (JavaScript off) at 1280 and 390 wide: it fits the
screen, shows the figures and charts, and its screenshots are kept under
var/screenshots/dashboard/ (CI artifacts)."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.serving import make_server

from bot.app import create_app
from bot.settings import PROJECT_ROOT
from tests.factories import make_ticket
from tests.web.office import PASSWORD, office_runtime, set_passwords

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENS = {
    "desktop-1280": {"viewport": {"width": 1280, "height": 800}},
    "phone-390": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}
SHOTS = PROJECT_ROOT / "var" / "screenshots" / "dashboard"

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}"
)


@pytest.fixture
def served(runtime, demo):
    site = office_runtime(runtime)
    set_passwords(site)
    now = datetime.now(UTC)
    for days in (0, 1, 9, 20, 40):
        make_ticket(site, status="archived", created_at=now - timedelta(days=days))
    make_ticket(site, status="processing")
    make_ticket(site, handler="陈静", department="市场发展部", status="archived")
    server = make_server("127.0.0.1", 0, create_app(runtime=site), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
    site.close()


@pytest.mark.parametrize("screen", list(SCREENS))
def test_dashboard_fits_the_screen_and_shows_its_figures(served, screen):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(**SCREENS[screen], java_script_enabled=False, locale="zh-CN")
        page = context.new_page()
        page.goto(f"{served}/dashboard?period=month")
        page.fill("#username", "周敏")
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.click("form.stack button[type=submit]")
        page.goto(f"{served}/dashboard?period=month")
        text = page.inner_text("main")
        assert "统计看板" in text and "办结率" in text and "未达标" in text
        assert page.locator("svg").count() >= 4
        width = SCREENS[screen]["viewport"]["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{screen}.png"), full_page=True)
        browser.close()
