"""The office pages in Debian's headless Chromium (Playwright, JavaScript off), on an office
screen and a phone: the officer's work queues with their counts, a phone call-back recorded
from its queue, a leader's money decision, a notice published and printed. Screenshots are
kept under var/screenshots/office/ (CI artifacts)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.settings import PROJECT_ROOT
from models.ticket.tables import Ticket
from tests.web.browser import SCREENS, chromium, needs_chromium, new_context, serving, width_of
from tests.web.office import PASSWORD, office_runtime, set_passwords
from tests.web.office_work import fill_office

SHOTS = PROJECT_ROOT / "var" / "screenshots" / "office"

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


class Desk:
    """One person at their own screen, signed in."""

    def __init__(self, browser, screen: str, base: str, name: str) -> None:
        self.context = new_context(browser, screen)
        self.page, self.base, self.screen = self.context.new_page(), base, screen
        self.width = width_of(screen)
        self.page.goto(base + "/login")
        self.page.fill("#username", name)
        self.page.fill("#password", PASSWORD)
        self.submit("form.stack button[type=submit]")

    def open(self, path: str) -> None:
        self.page.goto(self.base + path)

    def submit(self, selector: str) -> None:
        with self.page.expect_navigation():
            self.page.click(selector)

    def text(self) -> str:
        return self.page.inner_text("main")

    def shot(self, step: str) -> None:
        assert self.page.evaluate("document.documentElement.scrollWidth") <= self.width, step
        folder = SHOTS / self.screen
        folder.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(folder / f"{step}.png"), full_page=True)


def ticket_id(site, number: str) -> int:
    with site.sessions() as session:
        return session.scalar(select(Ticket.id).where(Ticket.number == number))


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_queues_their_actions_and_a_notice_in_the_browser(served, browser, screen):
    site, base = served
    office = fill_office(site)
    officer = Desk(browser, screen, base, "周敏")
    officer.open("/")
    assert officer.page.url.endswith("/work")
    assert "电话回访待记录" in officer.text() and "低星评价回访" in officer.text()
    officer.shot("01-officer-work-queues")

    officer.page.click("text=电话回访待记录")
    ident = ticket_id(site, office.phone_callback)
    assert office.phone_callback in officer.text() and "已更换阀门" in officer.text()
    officer.page.check(f"#i{ident}-satisfied-0")
    officer.page.fill(f"#i{ident}-text", "客户表示满意")
    officer.shot("02-phone-call-back-queue")
    officer.submit(f"#item-{ident} button[type=submit]")
    assert "回访满意，归档" in officer.text() and "没有待处理的事项" in officer.text()
    officer.shot("03-phone-call-back-recorded")

    leader = Desk(browser, screen, base, "钱立")
    leader.open("/work/money")
    ident = ticket_id(site, office.money)
    assert "退款 120.00 元" in leader.text()
    leader.page.check(f"#i{ident}-approve-0")
    leader.shot("04-leader-money-queue")
    leader.submit(f"#item-{ident} button[type=submit]")
    assert "审批同意" in leader.text()

    officer.open("/notices")
    officer.shot("05-notices")
    officer.open(f"/notices/{office.draft_notice}")
    officer.shot("06-notice-draft")
    officer.submit("text=发布通报")
    assert "通报已发布" in officer.text() and "综管通" in officer.text()
    officer.shot("07-notice-published")
    if screen == "desktop-1280":
        pdf = officer.page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF")

    officer.open("/staff")
    officer.shot("08-staff")
    officer.open("/calendar")
    officer.shot("09-calendar")
    officer.open("/messages")
    officer.shot("10-messages")
    officer.open("/audit")
    assert "发布通报" in officer.text()
    officer.shot("11-audit")
    for desk in (officer, leader):
        desk.context.close()


def test_every_queue_is_emptied_from_its_page_in_the_browser(served, browser):
    """Each queue filled by fill_office (and one 退单), each item done through its form."""
    from datetime import UTC, datetime

    from bot.db import transaction
    from models.core.figures import RETURN_EVENT
    from models.core.workflow import Actor, Role
    from models.ticket import timeline

    site, base = served
    office = fill_office(site)
    returned = office.unassigned
    with transaction(site.sessions) as session:
        ticket = session.scalars(select(Ticket).filter_by(number=returned)).one()
        head = Actor(role=Role.DEPT_HEAD, name="李强", channel="wechat")
        timeline.record(session, ticket, RETURN_EVENT, head, "退单：不属本部门", datetime.now(UTC))
    officer = Desk(browser, "desktop-1280", base, "周敏")
    leader = Desk(browser, "desktop-1280", base, "钱立")
    steps = [
        (officer, "phone_callbacks", office.phone_callback, {"satisfied": "yes"}),
        (officer, "extensions", office.extension, {"workdays": "2"}),
        (officer, "returned", returned, {"target": "运行维护部 · 王芳"}),
        (officer, "accountability", office.flagged, {"decision": "clear", "note": "已核实"}),
        (leader, "money", office.money, {"approve": "no", "text": "金额不符"}),
        (leader, "signoff", office.signoff, {"text": "同意办结"}),
    ]
    for desk, key, number, fields in steps:
        desk.open(f"/work/{key}")
        ident = ticket_id(site, number)
        for name, value in fields.items():
            selector = f"#i{ident}-{name}"
            if name in ("satisfied", "approve", "decision"):
                index = {"yes": 0, "clear": 1, "no": 1}[value]
                desk.page.check(f"{selector}-{index}")
            elif name == "target":
                desk.page.select_option(selector, label=value)
            else:
                desk.page.fill(selector, value)
        desk.submit(f"#item-{ident} button[type=submit]")
        assert "没有待处理的事项" in desk.text(), (key, desk.text())
    officer.open("/work/rating_callbacks")
    for _ in range(2):  # the 1★ and 2★ ratings
        item = officer.page.locator("li.queue-item").first
        ident = item.get_attribute("id").removeprefix("item-")
        officer.page.check(f"#i{ident}-reached-0")
        officer.page.fill(f"#i{ident}-result", "已电话致歉")
        officer.submit(f"#item-{ident} button[type=submit]")
    assert "没有待处理的事项" in officer.text()
    officer.open("/work")
    assert "暂无待处理事项" in officer.text()
    for desk in (officer, leader):
        desk.context.close()
