"""The dashboard in headless Chromium (JavaScript off) at 1280 and 390 wide: it fits the
screen, shows the figures and charts, and its screenshots are kept under
var/screenshots/dashboard/ (CI artifacts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.settings import PROJECT_ROOT
from tests.factories import make_ticket
from tests.web.browser import SCREENS, chromium, needs_chromium, new_context, serving, width_of
from tests.web.office import PASSWORD, office_runtime, set_passwords

SHOTS = PROJECT_ROOT / "var" / "screenshots" / "dashboard"

pytestmark = needs_chromium


@pytest.fixture
def served(runtime, demo):
    site = office_runtime(runtime)
    set_passwords(site)
    now = datetime.now(UTC)
    for days in (0, 1, 9, 20, 40):
        make_ticket(site, status="archived", created_at=now - timedelta(days=days))
    make_ticket(site, status="processing")
    make_ticket(site, handler="陈静", department="市场发展部", status="archived")
    with serving(site) as base:
        yield base
    site.close()


@pytest.mark.parametrize("screen", list(SCREENS))
def test_dashboard_fits_the_screen_and_shows_its_figures(served, screen):
    with chromium() as browser:
        page = new_context(browser, screen).new_page()
        page.goto(f"{served}/dashboard?period=month")
        page.fill("#username", "周敏")
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.click("form.stack button[type=submit]")
        page.goto(f"{served}/dashboard?period=month")
        text = page.inner_text("main")
        assert "统计看板" in text and "办结率" in text and "未达标" in text
        assert page.locator("svg").count() >= 4
        assert page.evaluate("document.documentElement.scrollWidth") <= width_of(screen)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{screen}.png"), full_page=True)
