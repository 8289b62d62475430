"""The back office in a real browser: Debian's headless Chromium driven by Playwright, with
JavaScript off, on an office screen (1280 wide) and a phone (390 wide). A clerk signs in and
registers a hotline complaint; the officer follows the push link, signs in and assigns it; the
handler acknowledges and resolves it; the officer records the phone call-back and opens the
printable form. Screenshots of each step are kept under var/screenshots/ (CI artifacts).
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.settings import PROJECT_ROOT
from models.ticket.tables import Ticket
from tests.web.browser import SCREENS, chromium, needs_chromium, new_context, serving, width_of
from tests.web.office import PASSWORD, office_runtime, set_passwords

SHOTS = PROJECT_ROOT / "var" / "screenshots" / "back-office"

pytestmark = needs_chromium


@pytest.fixture
def served(runtime, demo):
    site = office_runtime(runtime)
    set_passwords(site)
    with serving(site) as base:
        yield site, base
    site.close()


@pytest.fixture
def browser():
    with chromium() as browser:
        yield browser


class Person:
    """One person at their own device (a browser context of its own)."""

    def __init__(self, browser, screen: str, base: str, name: str) -> None:
        self.context = new_context(browser, screen)
        self.page = self.context.new_page()
        self.base, self.name, self.screen = base, name, screen
        self.width = width_of(screen)

    def sign_in(self) -> None:
        self.page.fill("#username", self.name)
        self.page.fill("#password", PASSWORD)
        with self.page.expect_navigation():
            self.page.click("form.stack button[type=submit]")

    def open(self, path: str) -> None:
        self.page.goto(self.base + path)

    def submit(self, selector: str) -> None:
        with self.page.expect_navigation():
            self.page.click(selector)

    def act(self, kind: str, **fields: str) -> None:
        """Open the action's panel (a <details>), fill it and submit it."""
        panel = f"#action-{kind}"
        if self.page.get_attribute(panel, "open") is None:
            self.page.click(f"{panel} > summary")
        for name, value in fields.items():
            self.page.fill(f"#{kind}-{name}", value)
        self.submit(f"{panel} button[type=submit]")

    def shot(self, step: str) -> None:
        assert self.page.evaluate("document.documentElement.scrollWidth") <= self.width, step
        folder = SHOTS / self.screen
        folder.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(folder / f"{step}.png"), full_page=True)

    def text(self) -> str:
        return self.page.inner_text("main")


@pytest.mark.parametrize("screen", list(SCREENS))
def test_hotline_complaint_from_intake_to_the_printed_form(served, browser, screen):
    site, base = served
    clerk = Person(browser, screen, base, "吴文")
    clerk.open("/login")
    clerk.shot("01-login")
    clerk.sign_in()
    assert clerk.page.url.endswith("/tickets")
    clerk.shot("02-ticket-list-empty")

    clerk.page.click("a.nav-new")
    clerk.page.fill("#name", "李四")
    clerk.page.fill("#phone", "139 1234 5678")
    clerk.page.fill("#gas_account", "100234")
    clerk.page.fill("#address", "颍州区幸福路2号5栋302")
    clerk.page.select_option("#appeal_type", "维修")
    clerk.page.fill("#content", "燃气灶打不着火，报修两天没人来，家里老人做不了饭。")
    clerk.shot("03-intake-form")
    clerk.submit("form.intake button[type=submit]")
    number = re.search(r"TS\d{12}", clerk.page.url).group()
    assert "已登记投诉，受理单号" in clerk.text() and "24小时客服热线" in clerk.text()
    clerk.shot("04-registered")

    officer = Person(browser, screen, base, "周敏")
    officer.open(f"/tickets/{number}")  # the link every push carries
    assert "/login?next=" in officer.page.url
    officer.sign_in()
    assert officer.page.url.endswith(f"/tickets/{number}")
    officer.page.select_option("#assign-target", label="运行维护部 · 王芳")
    officer.page.fill("#assign-text", "请今天联系客户上门")
    officer.shot("05-assign-form")
    officer.submit("#action-assign button[type=submit]")
    assert "派单成功" in officer.text() and "已派单" in officer.text()
    officer.shot("06-assigned")

    handler = Person(browser, screen, base, "王芳")
    handler.open(f"/tickets/{number}")
    handler.sign_in()
    handler.act("ack")
    assert "接单成功" in handler.text()
    handler.act("resolve", text="已上门更换点火针，试烧正常，客户现场确认。")
    assert "办结成功" in handler.text() and "已办结" in handler.text()
    handler.shot("07-resolved-by-the-handler")

    officer.open("/tickets?callback=1&status=resolved")
    assert number in officer.text()
    officer.shot("08-phone-call-backs")
    officer.open(f"/tickets/{number}")
    officer.page.check("#callback-satisfied-0")
    officer.page.fill("#callback-text", "客户表示满意，感谢上门及时")
    officer.shot("09-call-back-form")
    officer.submit("#action-callback button[type=submit]")
    assert "记录回访" not in officer.text() and "已归档" in officer.text()
    officer.shot("10-archived")

    officer.submit("text=打印管理单")
    assert "客户投诉处理闭环管理单" in officer.page.inner_text("h1")
    officer.shot("11-print-view")
    if screen == "desktop-1280":
        pdf = officer.page.pdf(format="A4", print_background=True)
        assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 2  # the form, then the timeline

    with site.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket.status == "archived" and not ticket.phone_callback
        assert [(e.kind, e.channel) for e in ticket.events] == [
            ("received", "web"),
            ("assign", "web"),
            ("ack", "web"),
            ("resolve", "web"),
            ("archived", "web"),
        ]
    for person in (clerk, officer, handler):
        person.context.close()
