"""Pushes say what happened (issue 9, point 6), end to end: one ticket taken through the loop
by the people who use it, every push sent to the fake WeChat API, none refused for a field,
none with its headline or outcome cut."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.db import transaction
from jobs.sweeps import send_due_alerts
from models.notification.tables import Notification
from models.ticket.tables import Ticket
from tests.factories import CUSTOMER, bind_staff, clock_at, file_ticket, run_worker

ZONE = ZoneInfo("Asia/Shanghai")
MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=ZONE)
OUR_WORDS = {"stage", "outcome"}  # the fields filled with words written to fit


def test_every_push_of_a_ticket_says_its_outcome_within_the_limits(
    live, live_wechat, fake_wechat, demo
):
    staff = bind_staff(live)
    say = live_wechat.text
    clock_at(live, MONDAY_9)
    number = file_ticket(live_wechat)
    say(staff["officer"], f"派单 {number} 运行维护部 王芳")
    send_due_alerts(live, MONDAY_9 + timedelta(minutes=61))  # reminders (contact, investigate)
    say(staff["officer"], f"催办 {number} 客户又来电")
    say(staff["handler"], f"接单 {number}")
    say(staff["handler"], f"说明 {number} 需等厂家配件")
    say(staff["officer"], f"延期 {number} 3")
    say(staff["handler"], f"申请 {number} 赔款 500 灶具损坏")
    say(staff["leader"], f"审批 {number} 驳回 不在赔偿范围")
    say(staff["leader"], f"升级 {number} 重大")
    say(staff["handler"], f"办结 {number} 已更换表前阀门")
    say(CUSTOMER, "不满意，还是有气味")
    say(staff["handler"], f"退单 {number} 阀门属物业维修范围")
    send_due_alerts(live, MONDAY_9 + timedelta(days=3))  # breaches and the leader's escalation
    with transaction(live.sessions) as session:
        session.scalar(select(Ticket).where(Ticket.number == number)).rounds = 3
    say(staff["officer"], f"派单 {number} 运行维护部 王芳")
    say(staff["leader"], f"签批 {number}")
    run_worker(live)

    with live.sessions() as session:
        rows = session.scalars(select(Notification)).all()
        kinds = {row.kind for row in rows}
        assert {row.status for row in rows} == {"sent"}, [(r.kind, r.last_error) for r in rows]
    assert kinds >= {
        "new_ticket",
        "assignment",
        "assigned",
        "reminder",
        "urge",
        "explanation",
        "extended",
        "approval_request",
        "approval_result",
        "escalated",
        "callback_request",
        "resolution",
        "reopened",
        "returned",
        "breach",
        "signoff",
    }
    templates = [m for m in fake_wechat.messages() if m["kind"] == "template"]
    fields = {kind: config["fields"] for kind, config in live.settings.templates.kinds.items()}
    by_id = {config["id"]: kind for kind, config in live.settings.templates.kinds.items()}
    for message in templates:
        kind = by_id[message["body"]["template_id"]]
        for key, source in fields[kind].items():
            value = message["body"]["data"][key]["value"]
            if source in OUR_WORDS:
                assert value and not value.endswith("…"), (kind, key, value)
    said = " ".join(str(m["body"]) for m in fake_wechat.messages())
    for outcome in (
        "审批驳回：赔款500.00元",
        "延期3个工作日已批准",
        "工单升级为重大投诉",
        "客户不满意，第1轮重办",
        "工单被退回，请重新派单",
        "分管领导签批：准予办结",
        "将到期",
        "已超期",
    ):
        assert outcome in said, outcome
