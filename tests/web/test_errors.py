"""Errors in the back office are Chinese pages, never a stack trace; machine paths keep JSON."""

from __future__ import annotations

import re

import pytest

from bot.web import ticket_page
from tests.factories import make_ticket
from tests.web.office import office_runtime, set_passwords, signed_in, text_of


@pytest.fixture
def site(runtime, demo):
    site = office_runtime(runtime)
    set_passwords(site)
    yield site
    site.close()


def test_a_crash_is_a_chinese_page_and_logged(site, monkeypatch, caplog):
    number = make_ticket(site)
    client = signed_in(site, "officer")

    def broken(*args, **kwargs):
        raise RuntimeError("database exploded: secret detail")

    monkeypatch.setattr(ticket_page.present, "notification_rows", broken)
    response = client.get(f"/tickets/{number}")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "系统出错了" in text_of(response) and "您的操作未完成" in body
    assert "Traceback" not in body and "secret detail" not in body
    assert "back-office page" in caplog.text


def test_an_unknown_page_is_a_chinese_404_for_people_and_json_for_machines(site):
    client = signed_in(site, "officer")
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "页面不存在" in text_of(page)
    assert client.get("/api/no-such-thing").get_json() == {"error": "not found"}
    wrong_method = client.delete("/tickets")
    assert wrong_method.status_code == 405 and "请求方式不对" in text_of(wrong_method)


def test_assets_are_served_from_here_and_pages_load_nothing_from_outside(site):
    number = make_ticket(site)
    client = signed_in(site, "officer")
    for path in ("/tickets", f"/tickets/{number}", "/tickets/new", f"/tickets/{number}/print"):
        html = client.get(path).get_data(as_text=True)
        sources = re.findall(r' src="([^"]*)"', html)
        sheets = re.findall(r'<link rel="stylesheet" href="([^"]*)"', html)
        assert all(not s.startswith(("http", "//")) for s in sources), path
        assert sheets and all(sheet.startswith("/assets/") for sheet in sheets), path
        assert "<script" not in html, path  # every form works without JavaScript
    assert client.get("/assets/web.css").status_code == 200
