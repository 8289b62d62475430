"""`/rate` in a real browser: Debian's headless Chromium driven by Playwright, on a phone-sized
screen, against the app served over HTTP on 127.0.0.1 (JavaScript off, as the page needs none).
"""

from __future__ import annotations

import os

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from bot.rate_page import LINK_SALT
from models.rating.tables import Rating
from models.ticket.tables import Ticket
from tests.web.browser import chromium, needs_chromium, new_context, serving
from tests.web.support import (
    SECRET,
    PastSigner,
    link_query,
    make_business,
    make_customer_ticket,
    rate_runtime,
    ticket_query,
)

SCREENSHOT = os.environ.get("BIHUAN_RATE_SCREENSHOT", "")

pytestmark = needs_chromium


@pytest.fixture
def served(runtime, demo):
    """Yield (runtime, base URL) of the app served by werkzeug in a thread."""
    site = rate_runtime(runtime, limit_per_address=3)
    with serving(site) as base:
        yield site, base
    site.close()


@pytest.fixture
def phone_page():
    with chromium() as browser:
        context = new_context(browser, "phone-390")
        yield context.new_page()
        context.close()


def checked(page) -> int:
    return int(page.eval_on_selector("input[name=stars]:checked", "e => e.value"))


def colour(page, selector: str) -> str:
    return page.eval_on_selector(selector, "e => getComputedStyle(e).color")


def test_four_stars_and_a_comment_on_a_phone_from_the_link_of_a_result(
    served, phone_page, tmp_path
):
    site, base = served
    number, ticket_id, customer_id = make_customer_ticket(site)
    page = phone_page
    page.goto(f"{base}/rate{ticket_query(ticket_id, customer_id)}")
    assert number in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    page.tap("label[for=star4]")
    assert page.is_checked("#star4")
    assert colour(page, "label[for=star4]") == colour(page, "label[for=star1]")  # lit
    assert colour(page, "label[for=star5]") != colour(page, "label[for=star4]")  # not lit
    assert page.is_visible(".star-hint .hint-4")
    page.fill("#comment", "维修师傅很专业，就是等得久了一点")
    page.screenshot(path=SCREENSHOT or str(tmp_path / "rate.png"), full_page=True)
    with page.expect_navigation():
        page.tap("button[type=submit]")
    assert "/rate/thanks" in page.url
    assert "感谢您的评价" in page.inner_text("h1") and "4星（满意）" in page.inner_text("main")
    with site.sessions() as session:
        (rating,) = session.scalars(select(Rating)).all()
        linked = session.get(Ticket, rating.ticket_id).number
    assert (rating.stars, rating.comment, linked) == (4, "维修师傅很专业，就是等得久了一点", number)


def test_the_stars_can_be_chosen_with_the_keyboard(served, phone_page):
    site, base = served
    page = phone_page
    page.goto(f"{base}/rate")
    page.focus("#comment")
    page.keyboard.press("Shift+Tab")  # back into the star group, on the leftmost star
    page.keyboard.press("Space")
    chosen = [checked(page)]
    for key in ("ArrowRight", "ArrowRight", "ArrowLeft"):  # arrows move as the stars are laid
        page.keyboard.press(key)
        chosen.append(checked(page))
    assert chosen == [1, 2, 3, 2]
    assert page.evaluate("document.activeElement.id") == "star2"
    page.keyboard.press("Tab")
    page.keyboard.type("键盘也能评价")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "感谢您的评价" in page.inner_text("h1")
    with site.sessions() as session:
        rating = session.scalars(select(Rating)).one()
    assert (rating.stars, rating.comment) == (2, "键盘也能评价")


def test_forged_and_expired_business_links_are_refused(served, phone_page):
    site, base = served
    record_id = make_business(site)
    page = phone_page
    response = page.goto(f"{base}/rate{link_query(record_id, secret='forger')}")
    assert response.status == 403 and "评价链接无效" in page.inner_text("main")
    expired = URLSafeTimedSerializer(SECRET, salt=LINK_SALT, signer=PastSigner).dumps(record_id)
    response = page.goto(f"{base}/rate?b={expired}")
    assert response.status == 400 and "已过期" in page.inner_text("main")
    response = page.goto(f"{base}/rate{link_query(record_id)}")
    assert response.status == 200 and "BZ2026001" in page.inner_text("main")
    with site.sessions() as session:
        assert session.scalars(select(Rating)).all() == []


def test_the_rate_limit_is_answered_with_a_clear_page(served, phone_page):
    site, base = served
    page = phone_page
    statuses = []
    for stars in ("5", "4", "3", "2"):
        page.goto(f"{base}/rate")
        page.tap(f"label[for=star{stars}]")
        with page.expect_navigation() as navigation:
            page.tap("button[type=submit]")
        statuses.append(navigation.value.status if navigation.value else None)
    assert "提交过于频繁" in page.inner_text("h1")
    assert "分钟后再试" in page.inner_text("main")
    with site.sessions() as session:
        assert len(session.scalars(select(Rating)).all()) == 3
    assert statuses == [200, 200, 200, 429]
