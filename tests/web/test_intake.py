"""Registering complaints from the other channels (`/tickets/new`), and the whole loop of such
a ticket in the back office: intake → ticket → actions → the printable form. Runs on SQLite
and, with BIHUAN_DATABASE__URL set, on PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from models.notification.tables import Notification
from models.people.tables import Staff
from models.ticket.tables import Ticket
from tests.factories import make_ticket
from tests.web.office import (
    act,
    office_runtime,
    register,
    set_passwords,
    signed_in,
    text_of,
    ticket_of,
)


@pytest.fixture
def site(runtime, demo):
    site = office_runtime(runtime)
    set_passwords(site)
    yield site
    site.close()


def number_of(response) -> str:
    assert response.status_code == 303, text_of(response)
    return response.headers["Location"].rsplit("/", 1)[1]


def recipients(site, number: str, kind: str) -> list[str]:
    with site.sessions() as session:
        statement = (
            select(Staff.name)
            .join(Notification, Notification.staff_id == Staff.id)
            .join(Ticket, Notification.ticket_id == Ticket.id)
            .where(Ticket.number == number, Notification.kind == kind)
            .order_by(Staff.name)
        )
        return list(session.scalars(statement))


def test_a_hotline_complaint_goes_round_the_whole_loop_and_prints(site):
    clerk = signed_in(site, "clerk")
    number = number_of(register(clerk, phone="139 1234 5678", gas_account="100234"))
    assert "已登记投诉，受理单号" in text_of(clerk.get(f"/tickets/{number}"))
    ticket = ticket_of(site, number)
    assert (ticket.source_channel, ticket.status, ticket.phone) == (
        "24小时客服热线",
        "received",
        "13912345678",
    )
    assert ticket.customer_id is None and ticket.gas_account == "100234"
    assert ticket.matter == "燃气灶打不着火，报修两天没人来"  # the first line of the content

    officer, handler = signed_in(site, "officer"), signed_in(site, "handler")
    with site.sessions() as session:
        wang = session.scalar(select(Staff).where(Staff.name == "王芳"))
        target = f"{wang.department_id}:{wang.id}"
    assert act(officer, number, "assign", target=target).status_code == 303
    assert recipients(site, number, "assignment") == ["王芳"]
    assert act(handler, number, "ack").status_code == 303
    assert act(handler, number, "resolve", text="已更换点火针，试烧正常").status_code == 303
    resolved = ticket_of(site, number)
    assert resolved.status == "resolved" and resolved.phone_callback  # on the officer's list
    assert recipients(site, number, "callback_request") == ["周敏"]
    waiting = text_of(officer.get("/tickets?callback=1&status=resolved"))
    assert number in waiting and "待电话回访" in waiting

    assert act(officer, number, "callback", satisfied="yes", text="客户表示满意").status_code == 303
    archived = ticket_of(site, number)
    assert archived.status == "archived" and not archived.phone_callback
    assert [e.kind for e in site_events(site, number)] == [
        "received",
        "assign",
        "ack",
        "resolve",
        "archived",
    ]

    printed = text_of(officer.get(f"/tickets/{number}/print"))
    for words in (
        "客户投诉处理闭环管理单",
        "受理部门 客户服务部",
        "诉求类型 维修",
        "服务对象 李四",
        "联系电话 13912345678",
        "投诉来源 24小时客服热线",
        "已更换点火针，试烧正常",
        "承办部门(签章)： 运行维护部",
        "负责人签字： 李强",
        "处理过程",
    ):
        assert words in printed, words


def site_events(site, number: str):
    with site.sessions() as session:
        return list(session.scalar(select(Ticket).where(Ticket.number == number)).events)


def test_the_printed_form_shows_the_phone_only_to_roles_that_may_see_it(site):
    number = make_ticket(site, status="resolved", result="已修复", responsible_person="李强")
    assert "13800138000" in text_of(signed_in(site, "officer").get(f"/tickets/{number}/print"))
    masked = text_of(signed_in(site, "leader").get(f"/tickets/{number}/print"))
    assert "138****8000" in masked and "13800138000" not in masked


def test_the_print_view_is_a4_with_the_timeline_on_a_second_page(site):
    number = make_ticket(site)
    html = signed_in(site, "officer").get(f"/tickets/{number}/print").get_data(as_text=True)
    css = signed_in(site, "officer").get("/assets/print.css").get_data(as_text=True)
    assert "print.css" in html and "@page { size: A4" in css
    assert 'class="sheet timeline-page"' in html and "break-before: page" in css
    assert "http" not in html.split("<body>")[0].replace("http-equiv", "")  # nothing outside


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"phone": "12345"}, "phone", "电话号码格式不正确"),
        ({"name": ""}, "name", "请填写服务对象的姓名"),
        ({"content": "a"}, "content", "请填写受理内容"),
        ({"address": ""}, "address", "写明单位或地址"),
        ({"appeal_type": ""}, "appeal_type", "请选择诉求类型"),
        ({"source_channel": "微信公众号"}, "source_channel", "请选择投诉来源"),
        ({"source_channel": "政府投诉平台"}, "external_number", "须填写平台编号"),
        ({"complained_at": "2099-01-01T08:00"}, "complained_at", "不能晚于现在"),
        ({"complained_at": "昨天"}, "complained_at", "格式不正确"),
        ({"gas_account": "12 34"}, "gas_account", "户号应为"),
    ],
)
def test_a_refused_field_is_named_and_nothing_is_filed(site, changes, field, words):
    clerk = signed_in(site, "clerk")
    response = register(clerk, **changes)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert words in text_of(response) and f'href="#{field}"' in html
    with site.sessions() as session:
        assert session.scalars(select(Ticket)).all() == []


def test_the_form_keeps_what_was_typed_after_a_refusal(site):
    response = register(signed_in(site, "clerk"), phone="12345", content="表箱锈蚀严重需要更换")
    html = response.get_data(as_text=True)
    assert "表箱锈蚀严重需要更换</textarea>" in html and 'value="12345"' in html


def test_a_double_submit_files_one_ticket(site):
    clerk = signed_in(site, "clerk")
    page = clerk.get("/tickets/new").get_data(as_text=True)
    key = re.search(r'name="intake_key" type="hidden" value="([^"]+)"', page).group(1)
    first = register(clerk, intake_key=key)
    second = register(clerk, intake_key=key)
    assert first.headers["Location"] == second.headers["Location"]
    with site.sessions() as session:
        assert len(session.scalars(select(Ticket)).all()) == 1


def test_a_government_ticket_waits_for_a_leader_to_route_it(site):
    clerk = signed_in(site, "clerk")
    number = number_of(
        register(clerk, source_channel="政府投诉平台", external_number="12345-2026-0815")
    )
    assert ticket_of(site, number).external_number == "12345-2026-0815"
    assert recipients(site, number, "government_intake") == ["钱立"]
    with site.sessions() as session:
        department = session.scalar(select(Staff).where(Staff.name == "李强")).department_id
    officer = signed_in(site, "officer")
    refused = act(officer, number, "assign", target=str(department))
    assert refused.status_code == 403 and "须由分管领导批转" in text_of(refused)
    assert (
        act(signed_in(site, "leader"), number, "assign", target=str(department)).status_code == 303
    )
    assert recipients(site, number, "assignment") == ["李强"]  # the head names the handler


def test_a_repeat_is_detected_like_in_the_chat(site):
    first = make_ticket(site, status="processing", phone="13912345678")
    number = number_of(register(signed_in(site, "clerk"), phone="13912345678"))
    ticket = ticket_of(site, number)
    with site.sessions() as session:
        earlier = session.scalar(select(Ticket.id).where(Ticket.number == first))
    assert ticket.repeat_flag and ticket.repeat_of_id == earlier
    page = text_of(signed_in(site, "officer").get(f"/tickets/{number}"))
    assert f"本单是 {first} 的重复投诉" in page and "重复投诉" in page


def test_a_reported_gas_leak_is_urgent_and_the_officer_is_told(site):
    number = number_of(register(signed_in(site, "clerk"), content="楼道里有很浓的燃气味，请快来"))
    assert ticket_of(site, number).urgent
    assert recipients(site, number, "urgent") == ["周敏"]
    listed = text_of(signed_in(site, "officer").get("/tickets?urgent=1"))
    assert number in listed and "燃气泄漏·紧急" in listed


def test_a_complex_ticket_starts_its_route_clock_at_intake(site):
    number = number_of(register(signed_in(site, "clerk"), severity="complex"))
    ticket = ticket_of(site, number)
    with site.sessions() as session:
        clocks = [
            d.clock for d in session.scalar(select(Ticket).where(Ticket.number == number)).deadlines
        ]
    assert ticket.severity == "complex" and clocks == ["route"]


def test_an_old_letter_keeps_its_own_complaint_time(site):
    zone = ZoneInfo("Asia/Shanghai")
    written = (datetime.now(zone) - timedelta(days=3)).replace(
        hour=9, minute=30, second=0, microsecond=0
    )
    number = number_of(
        register(
            signed_in(site, "clerk"),
            source_channel="意见箱/意见簿",
            complained_at=written.strftime("%Y-%m-%dT%H:%M"),
        )
    )
    assert ticket_of(site, number).complained_at == written.astimezone(UTC)
