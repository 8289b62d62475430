"""The work queues: who sees which, and each queue from the event that fills it to the action
that empties it through the chat (the browser does the same through the same appliers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.db import transaction
from models import queues
from models.core.figures import RETURN_EVENT
from models.core.workflow import Actor, Role
from models.people.staff import staff_by_name
from models.people.tables import Staff
from models.rating.callbacks import CallbackRefused, record_outcome
from models.ticket import accountability, timeline
from models.ticket.tables import Ticket, TicketEvent
from tests.factories import OPENIDS, bind_staff, file_complaint, make_ticket, rate_ticket

NAMES = {
    "handler": "王芳",
    "dept_head": "李强",
    "officer": "周敏",
    "leader": "钱立",
    "executive": "孙总",
    "clerk": "吴文",
}


@pytest.fixture
def staff(runtime, demo):
    return bind_staff(runtime)


def viewer(runtime, role: str) -> queues.Viewer:
    with runtime.sessions() as session:
        member = staff_by_name(session, NAMES[role])
        return queues.Viewer(member.role, member.id, member.department_id)


def waiting(runtime, key: str, role: str) -> list[str]:
    """The ticket numbers (or rating call-back ids) in a queue, as `role` sees it."""
    looking = viewer(runtime, role)
    with runtime.sessions() as session:
        page = queues.items(session, key, looking, runtime.settings.workflow)
        counted = queues.counts(session, looking, runtime.settings.workflow)[key]
    assert counted == page.total == len(page.items)
    return [getattr(item, "number", None) or f"task:{item.id}" for item in page.items]


def say(wechat, role: str, text: str) -> str:
    return wechat.text(OPENIDS[role], text)


def test_each_role_sees_its_own_queues(runtime, staff):
    seen = {role: [q.key for q in queues.visible(viewer(runtime, role))] for role in NAMES}
    assert seen == {
        "handler": ["rating_callbacks"],
        "dept_head": ["rating_callbacks", "unassigned"],
        "officer": [
            "phone_callbacks",
            "rating_callbacks",
            "extensions",
            "returned",
            "unassigned",
            "accountability",
        ],
        "leader": ["money", "signoff", "extensions", "returned", "unassigned", "accountability"],
        "executive": ["money"],
        "clerk": ["rating_callbacks"],
    }
    officer = viewer(runtime, "officer")
    with runtime.sessions() as session, pytest.raises(PermissionError):
        queues.items(session, "money", officer, runtime.settings.workflow)


def test_a_hotline_ticket_resolved_waits_for_the_officers_phone_call_back(wechat, runtime, staff):
    number = make_ticket(runtime, status="processing", source_channel="24小时客服热线")
    assert "办结" in say(wechat, "handler", f"办结 {number} 已更换阀门")
    assert waiting(runtime, "phone_callbacks", "officer") == [number]
    assert "满意" in say(wechat, "officer", f"回访 {number} 满意 电话回访客户认可")
    assert waiting(runtime, "phone_callbacks", "officer") == []


def test_a_money_request_waits_for_a_leader_or_executive_until_decided(wechat, runtime, staff):
    number = make_ticket(runtime, status="processing")
    say(wechat, "handler", f"申请 {number} 退款 120 多收气费")
    assert waiting(runtime, "money", "leader") == [number]
    assert waiting(runtime, "money", "executive") == [number]
    say(wechat, "leader", f"审批 {number} 同意")
    assert waiting(runtime, "money", "leader") == []


def test_a_third_reopened_round_waits_for_the_leaders_signoff(wechat, runtime, staff):
    number = make_ticket(runtime, rounds=3, escalation_level=3)
    assert waiting(runtime, "signoff", "leader") == [number]
    say(wechat, "leader", f"签批 {number} 同意办结")
    assert waiting(runtime, "signoff", "leader") == []


def test_an_explanation_waits_for_its_extension(wechat, runtime, staff):
    number = make_ticket(runtime, status="processing")
    say(wechat, "handler", f"说明 {number} 需厂家配件")
    assert waiting(runtime, "extensions", "officer") == [number]
    assert waiting(runtime, "extensions", "leader") == [number]
    say(wechat, "officer", f"延期 {number} 3")
    assert waiting(runtime, "extensions", "officer") == []


def test_a_new_complaint_waits_to_be_routed_complex_ones_first(wechat, runtime, staff):
    file_complaint(wechat, "o_customer_q")
    with runtime.sessions() as session:
        filed = session.scalars(select(Ticket.number)).one()
    government = make_ticket(
        runtime,
        status="received",
        handler=None,
        department=None,
        source_channel="政府投诉平台",
        created_at=datetime.now(UTC) - timedelta(hours=1),
    )
    assert waiting(runtime, "unassigned", "officer") == [government, filed]
    assert waiting(runtime, "unassigned", "leader") == [government]
    say(wechat, "officer", f"升级 {filed} 复杂")  # starts the 30-minute route clock
    assert waiting(runtime, "unassigned", "officer") == [filed, government]
    say(wechat, "officer", f"派单 {filed} 运行维护部 王芳")
    say(wechat, "leader", f"派单 {government} 运行维护部")
    assert waiting(runtime, "unassigned", "officer") == []


def test_a_department_head_sees_the_general_tickets_their_department_received(runtime, staff):
    with runtime.sessions() as session:
        own = staff_by_name(session, "李强").department_id
    mine = make_ticket(
        runtime, status="received", handler=None, department=None, receiving_department_id=own
    )
    make_ticket(runtime, status="received", handler=None, department=None)
    make_ticket(
        runtime,
        status="received",
        handler=None,
        department=None,
        receiving_department_id=own,
        severity="complex",
    )
    assert waiting(runtime, "unassigned", "dept_head") == [mine]


def test_a_returned_ticket_waits_to_be_routed_again(wechat, runtime, staff):
    number = make_ticket(runtime, status="received", handler=None, department=None)
    with transaction(runtime.sessions) as session:  # what 退单 records
        ticket = session.scalars(select(Ticket).filter_by(number=number)).one()
        head = Actor(role=Role.DEPT_HEAD, name="李强", channel="wechat")
        timeline.record(session, ticket, RETURN_EVENT, head, "退单：不属本部门", datetime.now(UTC))
    assert waiting(runtime, "returned", "officer") == [number]
    assert waiting(runtime, "unassigned", "officer") == []
    say(wechat, "officer", f"派单 {number} 市场发展部 陈静")
    assert waiting(runtime, "returned", "officer") == []


def test_a_low_rating_waits_for_its_call_back_and_the_outcome_goes_on_the_timeline(runtime, staff):
    number = make_ticket(runtime, status="archived")
    rate_ticket(runtime, number, 3, comment="等太久")
    (task,) = waiting(runtime, "rating_callbacks", "officer")
    assert waiting(runtime, "rating_callbacks", "handler") == []  # not theirs
    task_id = int(task.removeprefix("task:"))
    with transaction(runtime.sessions) as session:
        wang = staff_by_name(session, "王芳")
        with pytest.raises(CallbackRefused, match="不是指派给您"):
            record_outcome(session, task_id, wang, True, "已联系", datetime.now(UTC))
    with transaction(runtime.sessions) as session:
        record_outcome(
            session,
            task_id,
            staff_by_name(session, "周敏"),
            True,
            "客户接受道歉",
            datetime.now(UTC),
        )
    assert waiting(runtime, "rating_callbacks", "officer") == []
    with runtime.sessions() as session:
        texts = session.scalars(
            select(TicketEvent.text)
            .join(Ticket)
            .where(Ticket.number == number, TicketEvent.kind == "rating_callback")
        ).all()
    assert texts == ["低星评价电话回访（3星 一般）：已接通，客户接受道歉"]


def test_a_flagged_ticket_waits_for_its_accountability_review(runtime, staff):
    number = make_ticket(runtime, accountability_flag=True, repeat_flag=True)
    assert waiting(runtime, "accountability", "leader") == [number]
    with transaction(runtime.sessions) as session:
        ticket = session.scalars(select(Ticket).filter_by(number=number)).one()
        with pytest.raises(accountability.ReviewRefused, match="仅限"):
            accountability.review(
                session, ticket, staff_by_name(session, "王芳"), "pursue", "x", datetime.now(UTC)
            )
        accountability.review(
            session,
            ticket,
            staff_by_name(session, "钱立"),
            "pursue",
            "重复投诉未及时处理",
            datetime.now(UTC),
        )
    assert waiting(runtime, "accountability", "officer") == []
    with transaction(runtime.sessions) as session:
        ticket = session.scalars(select(Ticket).filter_by(number=number)).one()
        with pytest.raises(accountability.ReviewRefused, match="已审查"):
            accountability.review(
                session,
                ticket,
                session.scalars(select(Staff).filter_by(name="周敏")).one(),
                "clear",
                "再审",
                datetime.now(UTC),
            )
