"""The office pages end to end over HTTP: each work queue from the event that fills it to the
page action that empties it; a notice published and pushed through the fake WeChat API; staff
added, bound by scanning the code and deactivated; the calendar entered; a failed message sent
again; sign-ins in the audit log."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.db import transaction
from models.core.figures import RETURN_EVENT
from models.core.workflow import Actor, Role
from models.notification.tables import Notification
from models.people.tables import Staff
from models.ticket import timeline
from models.ticket.tables import Deadline, Ticket, TicketEvent
from tests.factories import (
    OPENIDS,
    bind_staff,
    file_complaint,
    make_ticket,
    rate_ticket,
)
from tests.web.office import (
    PASSWORD,
    csrf_token,
    office_runtime,
    set_passwords,
    sign_in,
    signed_in,
    text_of,
)


@pytest.fixture
def site(runtime, demo):
    bind_staff(runtime)
    site = office_runtime(runtime)
    set_passwords(site)
    yield site
    site.close()


def ticket_id(site, number: str) -> int:
    with site.sessions() as session:
        return session.scalar(select(Ticket.id).where(Ticket.number == number))


def waiting(client, key: str) -> int:
    page = text_of(client.get(f"/work/{key}"))
    return int(re.search(r"共 (\d+) 项", page).group(1))


def post_item(client, key: str, number: str, ident: int, **fields):
    data = {f"i{ident}-{name}": value for name, value in fields.items()}
    data[f"i{ident}-csrf_token"] = csrf_token(client, f"/work/{key}")
    return client.post(f"/work/{key}/tickets/{number}", data=data)


def events(site, number: str, kind: str) -> list[str]:
    with site.sessions() as session:
        return session.scalars(
            select(TicketEvent.text)
            .join(Ticket)
            .where(Ticket.number == number, TicketEvent.kind == kind)
        ).all()


def test_a_hotline_call_back_from_resolution_in_the_chat_to_the_officers_page(site, wechat):
    number = make_ticket(site, status="processing", source_channel="24小时客服热线")
    wechat.text(OPENIDS["handler"], f"办结 {number} 已更换阀门")
    officer = signed_in(site, "officer")
    assert "电话回访待记录 1" in text_of(officer.get("/work"))
    answer = post_item(
        officer,
        "phone_callbacks",
        number,
        ticket_id(site, number),
        satisfied="yes",
        text="客户认可",
    )
    assert answer.status_code == 303
    assert waiting(officer, "phone_callbacks") == 0
    assert events(site, number, "archived") == ["回访满意，归档（备注：客户认可）"]


def test_a_money_request_from_the_chat_decided_on_the_leaders_page(site, wechat):
    number = make_ticket(site, status="processing")
    wechat.text(OPENIDS["handler"], f"申请 {number} 退款 120 多收气费")
    leader = signed_in(site, "leader")
    assert waiting(leader, "money") == 1
    assert "退款 120.00 元" in text_of(leader.get("/work/money"))
    post_item(leader, "money", number, ticket_id(site, number), approve="yes", text="同意")
    assert waiting(leader, "money") == 0
    with site.sessions() as session:
        assert (
            session.scalar(select(Ticket.money_status).where(Ticket.number == number)) == "approved"
        )


def test_a_signoff_after_three_rounds_on_the_leaders_page(site):
    number = make_ticket(site, rounds=3, escalation_level=3)
    leader = signed_in(site, "leader")
    assert waiting(leader, "signoff") == 1
    post_item(leader, "signoff", number, ticket_id(site, number), text="同意办结")
    assert waiting(leader, "signoff") == 0


def test_an_explanation_from_the_chat_extended_on_the_officers_page(site, wechat):
    number = make_ticket(site, status="processing")
    wechat.text(OPENIDS["handler"], f"说明 {number} 需厂家配件")
    officer = signed_in(site, "officer")
    assert "需厂家配件" in text_of(officer.get("/work/extensions"))
    refused = post_item(officer, "extensions", number, ticket_id(site, number), workdays="99")
    assert refused.status_code == 422 and "延期工作日数须在 1 到 20 之间" in text_of(refused)
    post_item(officer, "extensions", number, ticket_id(site, number), workdays="3")
    assert waiting(officer, "extensions") == 0
    with site.sessions() as session:
        resolve = session.scalars(
            select(Deadline)
            .join(Ticket)
            .where(
                Ticket.number == number, Deadline.state == "running", Deadline.clock == "resolve"
            )
        ).one()
    assert resolve.workdays == 3


def test_a_wechat_complaint_routed_from_the_officers_queue_reaches_the_handler(site, wechat):
    file_complaint(wechat, "o_customer_w")
    with site.sessions() as session:
        number = session.scalars(select(Ticket.number)).one()
        target = session.scalar(select(Staff).where(Staff.name == "王芳"))
        value = f"{target.department_id}:{target.id}"
    officer = signed_in(site, "officer")
    assert waiting(officer, "unassigned") == 1
    post_item(officer, "unassigned", number, ticket_id(site, number), target=value)
    assert waiting(officer, "unassigned") == 0
    with site.sessions() as session:
        assignment = session.scalars(
            select(Notification).where(Notification.kind == "assignment")
        ).one()
    assert assignment.staff_id == target.id


def test_a_returned_ticket_is_routed_again_from_the_queue(site):
    number = make_ticket(site, status="received", handler=None, department=None)
    with transaction(site.sessions) as session:
        ticket = session.scalars(select(Ticket).filter_by(number=number)).one()
        head = Actor(role=Role.DEPT_HEAD, name="李强", channel="wechat")
        timeline.record(session, ticket, RETURN_EVENT, head, "退单：不属本部门", datetime.now(UTC))
        department = session.scalar(select(Staff.department_id).where(Staff.name == "陈静"))
    officer = signed_in(site, "officer")
    assert "退单：不属本部门" in text_of(officer.get("/work/returned"))
    post_item(officer, "returned", number, ticket_id(site, number), target=str(department))
    assert waiting(officer, "returned") == 0


def test_a_low_rating_call_back_recorded_on_the_page(site):
    number = make_ticket(site, status="archived")
    rate_ticket(site, number, 2, comment="等太久")
    officer = signed_in(site, "officer")
    page = text_of(officer.get("/work/rating_callbacks"))
    assert "2星评价" in page and "等太久" in page and number in page
    with site.sessions() as session:
        from models.rating.tables import RatingCallback

        task = session.scalars(select(RatingCallback.id)).one()
    data = {
        f"i{task}-reached": "no",
        f"i{task}-result": "两次未接，短信致歉",
        f"i{task}-csrf_token": csrf_token(officer, "/work/rating_callbacks"),
    }
    assert officer.post(f"/work/rating_callbacks/{task}", data=data).status_code == 303
    assert waiting(officer, "rating_callbacks") == 0
    assert events(site, number, "rating_callback") == [
        "低星评价电话回访（2星 不满意）：未接通，两次未接，短信致歉"
    ]


def test_an_accountability_review_on_the_leaders_page(site):
    number = make_ticket(site, accountability_flag=True, repeat_flag=True)
    leader = signed_in(site, "leader")
    ident = ticket_id(site, number)
    data = {
        f"i{ident}-decision": "pursue",
        f"i{ident}-note": "重复投诉未及时处理",
        f"i{ident}-csrf_token": csrf_token(leader, "/work/accountability"),
    }
    assert leader.post(f"/work/accountability/{number}", data=data).status_code == 303
    assert waiting(leader, "accountability") == 0
    assert events(site, number, "accountability_review") == [
        "责任追究审查：追责（重复投诉未及时处理）"
    ]


def test_sign_ins_and_failures_are_in_the_audit_log_with_their_address(site):
    client = create_app(runtime=site).test_client()
    sign_in(client, "周敏", "wrong-password", address="10.1.2.3")
    sign_in(client, "13912345678", "wrong-password", address="10.1.2.4")
    sign_in(client, "周敏", PASSWORD, address="10.1.2.3")
    html = client.get("/audit").get_data(as_text=True)
    assert html.count('class="action-sign_in_failed"') == 2
    assert html.count('class="action-sign_in"') == 1
    assert "10.1.2.3" in html and "139****5678" in html and "13912345678" not in html
    only = client.get("/audit?action=sign_in").get_data(as_text=True)
    assert 'class="action-sign_in_failed"' not in only and 'class="action-sign_in"' in only
