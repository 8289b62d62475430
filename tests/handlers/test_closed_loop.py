"""The closed loop (闭环) in WeChat, end to end: a customer files, staff handle it by commands.

Three WeChat users: the customer (the complaint conversation), the officer 周敏 and the
handler 王芳 (bound by setting their openids); the leader 钱立 joins for money approvals.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.db import transaction
from models.core.figures import named_period
from models.notification.tables import Notification
from models.people.tables import Staff
from models.ticket.tables import Deadline, Ticket
from tests.factories import bind_staff, file_complaint, make_ticket

CUSTOMER = "o_loop_customer"
ZONE = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def staff(runtime, demo) -> dict[str, str]:
    return bind_staff(runtime)


def ticket_state(runtime, number: str) -> dict:
    """What the database holds for the ticket, as plain values."""
    with runtime.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        notices = session.scalars(
            select(Notification)
            .where(Notification.ticket_id == ticket.id)
            .order_by(Notification.id)
        ).all()
        staff_names = dict(session.execute(select(Staff.id, Staff.name)).all())
        return {
            "status": ticket.status,
            "rounds": ticket.rounds,
            "escalation_level": ticket.escalation_level,
            "result": ticket.result,
            "handler": ticket.handler.name if ticket.handler else None,
            "department": ticket.handling_department.name if ticket.handling_department else None,
            "events": [e.kind for e in ticket.events],
            "deadlines": [(d.clock, d.state) for d in ticket.deadlines],
            "due": {d.clock: d.due_at for d in ticket.deadlines if d.state == "running"},
            "notices": [
                (n.kind, staff_names.get(n.staff_id, "customer" if n.customer_id else None))
                for n in notices
            ],
        }


def running_clocks(state: dict) -> set[str]:
    return {clock for clock, status in state["deadlines"] if status == "running"}


def filed_number(wechat, runtime, phone: str = "13800138000") -> str:
    file_complaint(wechat, CUSTOMER, phone)
    with runtime.sessions() as session:
        return session.scalars(select(Ticket.number).order_by(Ticket.id.desc())).first()


def test_the_whole_loop_until_the_customer_is_satisfied(wechat, runtime, staff):
    officer, handler = staff["officer"], staff["handler"]
    number = filed_number(wechat, runtime)
    assert ticket_state(runtime, number)["status"] == "received"

    reply = wechat.text(officer, f"派单 {number.lower()} 运行维护部 王芳")
    assert "派单成功" in reply and "运行维护部" in reply and "王芳" in reply
    assert "当前状态：已派单" in reply and "办结 " in reply
    state = ticket_state(runtime, number)
    assert (state["status"], state["department"], state["handler"]) == (
        "assigned",
        "运行维护部",
        "王芳",
    )
    assert running_clocks(state) == {"investigate", "resolve"}
    assert ("assignment", "王芳") in state["notices"]

    reply = wechat.text(handler, f"接单 {number}")
    assert "接单成功" in reply and "当前状态：处理中" in reply
    state = ticket_state(runtime, number)
    assert state["status"] == "processing" and ("investigate", "met") in state["deadlines"]

    assert "进展成功" in wechat.text(handler, f"进展 {number} 已上门检查，表具接口松动")
    assert ticket_state(runtime, number)["events"][-1] == "progress"

    reply = wechat.text(handler, f"办结 {number} 已紧固接口并检测无泄漏")
    assert "办结成功" in reply and "当前状态：已办结" in reply and "回访 " in reply
    state = ticket_state(runtime, number)
    assert state["status"] == "resolved" and state["result"] == "已紧固接口并检测无泄漏"
    assert ("resolve", "met") in state["deadlines"] and running_clocks(state) == {"callback"}
    assert {("callback_request", "周敏"), ("callback_request", "customer")} <= set(state["notices"])

    reply = wechat.text(officer, f"回访 {number} 不满意 仍有气味")
    assert "回访成功" in reply and "第 1 轮重办" in reply and "当前状态：已派单" in reply
    state = ticket_state(runtime, number)
    assert (state["status"], state["rounds"], state["escalation_level"]) == ("assigned", 1, 1)
    assert running_clocks(state) == {"investigate", "resolve"}
    assert ("callback", "met") in state["deadlines"]
    assert {("reopened", "周敏"), ("reopened", "钱立"), ("reopened", "王芳")} <= set(
        state["notices"]
    )

    # After a reopen the ticket is assigned again: the handler must acknowledge first.
    refused = wechat.text(handler, f"办结 {number} 再次处理")
    assert "请先接单" in refused and ticket_state(runtime, number)["status"] == "assigned"
    assert "接单成功" in wechat.text(handler, f"接单 {number}")
    assert "办结成功" in wechat.text(handler, f"办结 {number} 更换燃气表，气味消除")
    reply = wechat.text(officer, f"回访 {number} 满意 客户认可")
    assert "回访满意，归档" in reply and "当前状态：已归档" in reply

    state = ticket_state(runtime, number)
    assert state["status"] == "archived" and state["result"] == "更换燃气表，气味消除"
    assert state["events"] == [
        "received",
        "assign",
        "ack",
        "progress",
        "resolve",
        "reopened",
        "ack",
        "resolve",
        "archived",
    ]
    assert not running_clocks(state)
    assert Counter(clock for clock, _ in state["deadlines"]) == {
        "investigate": 2,
        "resolve": 2,
        "callback": 2,
    }
    assert "该工单已归档" in wechat.text(handler, f"进展 {number} 补充说明")


def test_money_request_blocks_resolving_until_the_leader_approves(wechat, runtime, staff):
    number = make_ticket(runtime, status="processing")
    handler, leader = staff["handler"], staff["leader"]
    reply = wechat.text(handler, f"申请 {number} 赔款 ５００ 燃气泄漏损坏灶具")
    assert "申请成功" in reply and "赔款 500.00 元" in reply
    assert ("approval_request", "钱立") in ticket_state(runtime, number)["notices"]

    refused = wechat.text(handler, f"办结 {number} 已赔偿")
    assert "需分管领导审批同意后才能办结" in refused
    assert ticket_state(runtime, number)["status"] == "processing"

    assert "审批同意" in wechat.text(leader, f"审批 {number} 同意 按标准赔付")
    assert ("approval_result", "王芳") in ticket_state(runtime, number)["notices"]
    assert "办结成功" in wechat.text(handler, f"办结 {number} 已赔偿500元")
    assert ticket_state(runtime, number)["status"] == "resolved"


def test_explanation_and_extension_set_a_new_deadline_and_keep_the_old(wechat, runtime, staff):
    number = filed_number(wechat, runtime)
    wechat.text(staff["officer"], f"派单 {number} 运行维护部 王芳")
    wechat.text(staff["handler"], f"接单 {number}")
    original = ticket_state(runtime, number)["due"]["resolve"]

    reply = wechat.text(staff["handler"], f"说明 {number} 需等厂家配件")
    assert "说明成功" in reply and "书面说明" in reply
    assert ("explanation", "周敏") in ticket_state(runtime, number)["notices"]

    reply = wechat.text(staff["officer"], f"延期 {number} 3")
    state = ticket_state(runtime, number)
    extended = state["due"]["resolve"]
    assert "延期成功" in reply and f"办结 {extended.astimezone(ZONE):%m-%d %H:%M}" in reply
    assert extended > original
    with runtime.sessions() as session:
        rows = session.scalars(
            select(Deadline)
            .join(Ticket)
            .where(Ticket.number == number, Deadline.clock == "resolve")
            .order_by(Deadline.id)
        ).all()
        assert [(row.state, row.due_at) for row in rows] == [
            ("superseded", original),
            ("running", extended),
        ]
    assert "没有待审批的书面说明" in wechat.text(staff["officer"], f"延期 {number} 2")


def add_deadline(
    runtime, number: str, clock: str, due_at: datetime, provisional: bool = False
) -> None:
    with transaction(runtime.sessions) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        session.add(
            Deadline(
                ticket_id=ticket.id,
                clock=clock,
                started_at=due_at - timedelta(hours=2),
                due_at=due_at,
                provisional=provisional,
                state="running",
            )
        )


def test_todo_lists_the_most_urgent_first_with_overdue_and_provisional_marks(
    wechat, runtime, staff
):
    now = datetime.now(UTC)
    later = make_ticket(runtime, status="processing")
    overdue = make_ticket(runtime)
    provisional = make_ticket(runtime)
    undated = make_ticket(runtime)
    someone_elses = make_ticket(runtime, handler="陈静", department="市场发展部")
    add_deadline(runtime, later, "resolve", now + timedelta(days=3))
    add_deadline(runtime, overdue, "investigate", now - timedelta(hours=1))
    add_deadline(runtime, overdue, "resolve", now + timedelta(days=1))
    add_deadline(runtime, provisional, "resolve", now + timedelta(days=2), provisional=True)

    reply = wechat.text(staff["handler"], "待办")
    lines = reply.splitlines()
    assert "共 4 件" in lines[0] and someone_elses not in reply
    order = [
        next(n for n in (later, overdue, provisional, undated) if n in line) for line in lines[1:5]
    ]
    assert order == [overdue, provisional, later, undated]
    assert "调查" in lines[1] and "逾期" in lines[1]
    assert "暂定" in lines[2] and "逾期" not in lines[2]
    assert "无时限" in lines[4]

    officer = wechat.text(staff["officer"], "待办")
    assert someone_elses in officer and "共 5 件" in officer


def test_todo_is_capped_and_says_how_many_more(wechat, runtime, staff):
    for _ in range(12):
        make_ticket(runtime)
    reply = wechat.text(staff["handler"], "待办")
    assert "共 12 件" in reply and "另有 2 件" in reply
    assert sum("｜维修｜" in line for line in reply.splitlines()) == 10


def test_overdue_lists_only_tickets_past_a_running_deadline(wechat, runtime, staff):
    now = datetime.now(UTC)
    late, on_time = make_ticket(runtime), make_ticket(runtime)
    add_deadline(runtime, late, "investigate", now - timedelta(hours=3))
    add_deadline(runtime, on_time, "investigate", now + timedelta(hours=1))
    reply = wechat.text(staff["leader"], "超期")
    assert "共 1 件" in reply and late in reply and on_time not in reply and "逾期" in reply


def test_show_masks_the_phone_and_lists_deadlines_flags_and_timeline(wechat, runtime, staff):
    file_complaint(wechat, CUSTOMER, "13912345678")
    with runtime.sessions() as session:
        number = session.scalars(select(Ticket.number)).one()
    wechat.text(staff["officer"], f"派单 {number} 运行维护部 王芳")
    wechat.text(staff["handler"], f"接单 {number}")
    wechat.text(staff["handler"], f"进展 {number} 已与客户13912345678约定上门")
    wechat.text(staff["handler"], f"申请 {number} 退款 80 多收费")
    with transaction(runtime.sessions) as session:
        session.scalar(select(Ticket).where(Ticket.number == number)).repeat_flag = True

    for role in ("officer", "handler", "dept_head", "leader", "executive"):
        reply = wechat.text(staff[role], f"查看 {number}")
        assert "13912345678" not in reply and "139****5678" in reply, role
    assert "未找到工单" in wechat.text(staff["clerk"], f"查看 {number}")  # not registered by them
    assert "承办部门：运行维护部｜承办人：王芳" in reply
    assert "调查" not in reply.split("时限：")[1].split("\n")[0]  # stopped by 接单
    assert "办结 " in reply and "重复投诉" in reply and "涉及金额（退款 80.00 元，待审批）" in reply
    assert "派单至 运行维护部" in reply and "已与客户139****5678约定上门" in reply


def test_show_stays_under_the_reply_limit_with_a_long_timeline(wechat, runtime, staff):
    number = make_ticket(runtime, status="processing", content="漏气" * 400)
    for index in range(15):
        wechat.text(staff["handler"], f"进展 {number} 第{index}次进展：" + "详细情况" * 60)
    reply = wechat.text(staff["officer"], f"查看 {number}")
    assert len(reply.encode()) <= 2048
    assert "第14次进展" in reply and "共 15 条" in reply


def test_statistics_reply_shows_the_figures_of_the_period_against_targets(wechat, runtime, staff):
    now = datetime.now(UTC) - timedelta(seconds=1)
    old = now - timedelta(days=40)
    for status in ("archived", "processing", "received", "invalid"):
        make_ticket(runtime, status=status)
    make_ticket(runtime, status="archived", created_at=old)
    number = make_ticket(
        runtime,
        status="resolved",
        first_callback_at=now,
        first_callback_satisfied=False,
        last_callback_at=now,
        last_callback_satisfied=True,
    )
    with transaction(runtime.sessions) as session:
        ticket_id = session.scalar(select(Ticket.id).where(Ticket.number == number))
        for state in ("met", "late"):
            session.add(
                Deadline(
                    ticket_id=ticket_id, clock="resolve", started_at=old, due_at=now,
                    state=state, stopped_at=now,
                )
            )  # fmt: skip
        session.add(
            Deadline(
                ticket_id=ticket_id, clock="investigate", started_at=old, due_at=now,
                state="running",
            )
        )  # fmt: skip

    for text, title in [("统计", "本月统计"), ("统计 今日", "今日统计"), ("统计本周", "本周统计")]:
        reply = wechat.text(staff["officer"], text)
        assert title in reply
        assert "受理 5 件（有效 4，无效 1）" in reply
        assert "办结率 25.0%（未达标）（应办结 4 件，已归档 1 件）" in reply
        assert "首次回访满意率 0.0%（未达标）（首次回访 1 件，满意 0 件）" in reply
        assert "最终满意率 100.0%（回访 1 件，满意 1 件）" in reply
        assert "按时率 33.3%（未达标）（到期时限 3 项，按时 1 项）" in reply
        assert "调查 0/1（0.0%）" in reply and "办结 1/2（50.0%）" in reply
        assert "当前在办 3 件，超期 1 件" in reply


def test_named_periods_start_at_local_midnight_monday_and_the_first() -> None:
    now = datetime(2026, 11, 25, 17, 30, tzinfo=UTC)  # Thursday 01:30 in Shanghai
    periods = {
        name: named_period(name, now, "Asia/Shanghai") for name in ("today", "week", "month")
    }
    assert periods["today"].start == datetime(2026, 11, 26, tzinfo=ZONE)
    assert periods["week"].start == datetime(2026, 11, 23, tzinfo=ZONE)
    assert periods["month"].start == datetime(2026, 11, 1, tzinfo=ZONE)
    assert periods["month"].end == datetime(2026, 12, 1, tzinfo=ZONE)
