"""First contact (第一时间联系, issue 9 point 3): every new ticket of every channel starts a
contact clock from receipt, is pushed at once to whoever must act, shows in their 待办 by
urgency, and gets reminders and breaches like every other clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.db import transaction
from bot.policies import build_policy
from jobs.sweeps import send_due_alerts
from models.core.workflow import Actor, Role, Severity
from models.people.tables import Department, Staff
from models.ticket.intake import NewTicket, create_ticket
from models.ticket.tables import SlaBreach, Ticket
from tests.factories import (
    CUSTOMER,
    OFFICER,
    clock_at,
    file_complaint,
    file_ticket,
    notifications_of,
    run_worker,
    seed_bound_staff,
    ticket_of,
)

ZONE = ZoneInfo("Asia/Shanghai")
SUNDAY_NIGHT = datetime(2026, 11, 29, 23, 0, tzinfo=ZONE)  # a Sunday, 23:00 in Shanghai


def contact(ticket: Ticket):
    return next(d for d in ticket.deadlines if d.clock == "contact")


def near(moment: datetime, expected: datetime) -> bool:
    """Equal but for the seconds the test itself took (the moved clock keeps running)."""
    return abs(moment - expected) < timedelta(seconds=30)


def test_a_sunday_night_complaint_must_be_contacted_by_1_am_wall_clock(
    live, live_wechat, fake_wechat
):
    seed_bound_staff(live)
    clock_at(live, SUNDAY_NIGHT)
    replies = file_complaint(live_wechat, CUSTOMER)
    assert "我们将在2小时内与您联系" in replies[-1]  # what the clock really runs with
    number = ticket_of(live, replies[-1].split("受理单号：")[1][:14]).number
    clock = contact(ticket_of(live, number))
    assert near(clock.started_at, SUNDAY_NIGHT)
    assert near(clock.due_at, datetime(2026, 11, 30, 1, 0, tzinfo=ZONE))  # wall clock

    run_worker(live)  # pushed at once to the officer (综合管理部 has no head in the demo)
    (pushed,) = fake_wechat.messages(OFFICER)
    values = {v["value"] for v in pushed["body"]["data"].values()}
    assert number in values and "新投诉请及时联系客户" in values
    assert "2026-11-30 01:00" in values  # the contact deadline

    todo = live_wechat.text(OFFICER, "待办")
    assert number in todo and "联系 11-30 01:00" in todo


def test_reminders_and_the_breach_of_first_contact(live, live_wechat, fake_wechat):
    seed_bound_staff(live)
    clock_at(live, SUNDAY_NIGHT)
    number = file_ticket(live_wechat)
    run_worker(live)
    assert send_due_alerts(live, SUNDAY_NIGHT + timedelta(minutes=61)) == 1  # 50 %
    assert send_due_alerts(live, SUNDAY_NIGHT + timedelta(minutes=97)) == 1  # 80 %
    assert send_due_alerts(live, SUNDAY_NIGHT + timedelta(minutes=121)) == 1  # breach
    assert [who for _, who, _ in notifications_of(live, "reminder")] == ["周敏", "周敏"]
    (breach,) = notifications_of(live, "breach")
    assert breach[1] == "周敏" and breach[2]["clock"] == "contact"
    with live.sessions() as session:
        (record,) = session.scalars(select(SlaBreach)).all()
        assert (record.clock, session.get(Staff, record.staff_id).name) == ("contact", "周敏")
    run_worker(live)
    words = [str(m["body"]["data"]) for m in fake_wechat.messages(OFFICER)]
    assert any("联系将到期" in w for w in words)  # a five-character phrase, not a cut word
    assert any("联系时限已到，未完成" in w for w in words)
    assert number in words[-1]


def test_the_first_real_contact_stops_the_clock_and_routing_does_not(live, live_wechat):
    seed_bound_staff(live)
    clock_at(live, SUNDAY_NIGHT)
    number = file_ticket(live_wechat)
    clock_at(live, SUNDAY_NIGHT + timedelta(minutes=20))
    live_wechat.text(OFFICER, f"派单 {number} 运行维护部 王芳")
    assert contact(ticket_of(live, number)).state == "running"  # 派单 is internal
    reply = live_wechat.text(OFFICER, f"联系 {number} 已电话联系，客户在家等候")
    assert "已记录与客户联系" in reply
    clock = contact(ticket_of(live, number))
    assert clock.state == "met" and "已与客户取得联系" in ticket_of(live, number).events[-1].text
    assert send_due_alerts(live, SUNDAY_NIGHT + timedelta(hours=3)) >= 0
    assert all(p["clock"] != "contact" for _, _, p in notifications_of(live, "breach"))


def test_the_limit_is_a_setting_and_the_promise_follows_it(runtime, wechat):
    from bot.app import create_app
    from bot.runtime import build_runtime
    from tests.wechat_client import WeChatTestClient

    settings = runtime.settings.override(sla={"contact_hours": 4})
    four = build_runtime(settings, redis=runtime.redis)
    client = WeChatTestClient(create_app(runtime=four).test_client(), settings)
    seed_bound_staff(four)
    clock_at(four, SUNDAY_NIGHT)
    replies = file_complaint(client, CUSTOMER)
    assert "我们将在4小时内与您联系" in replies[-1]
    with four.sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
        due = contact(ticket).due_at.astimezone(ZONE)
    assert near(due, datetime(2026, 11, 30, 3, 0, tzinfo=ZONE))
    four.close()


def test_another_channel_starts_it_too_with_the_route_clock_for_a_complex_ticket(live):
    """The back office's way in (`create_ticket`): a complex phone complaint typed in 10 minutes
    after the call: both clocks run from its registration; the head and the officer hear of it."""
    seed_bound_staff(live)
    received = datetime(2026, 11, 30, 9, 0, tzinfo=ZONE)
    with transaction(live.sessions) as session:
        general = session.scalar(select(Department).where(Department.name == "综合管理部"))
        session.add(Staff(name="郑华", role="dept_head", department_id=general.id))
        session.flush()
        new = NewTicket(
            source_channel="24小时客服热线",
            appeal_type="安装",
            customer_name="李四",
            phone="0558-1234567",
            address="幸福路3号",
            content="新装燃气管道验收后仍无法通气，多次催促无人处理",
            complained_at=received,
            severity=Severity.COMPLEX,
            receiving_department_id=general.id,
        )
        clerk = Actor(role=Role.CLERK, name="吴文", channel="web")
        number = create_ticket(
            session, new, clerk, received + timedelta(minutes=10), live.policy
        ).number
    clocks = {d.clock: d for d in ticket_of(live, number).deadlines}
    registered = received + timedelta(minutes=10)
    assert clocks["contact"].started_at.astimezone(ZONE) == registered
    assert clocks["route"].due_at.astimezone(ZONE) == registered + timedelta(minutes=30)
    assert {who for _, who, _ in notifications_of(live, "new_ticket")} == {"郑华", "周敏"}
    assert build_policy(live.settings).workflow.notify_on_receipt == ("dept_head", "officer")


def test_todo_puts_a_reported_leak_first(live, live_wechat):
    seed_bound_staff(live)
    clock_at(live, datetime(2026, 11, 30, 9, 0, tzinfo=ZONE))
    live_wechat.click("o_calm", "COMPLAINT_NEW")
    for answer in ("1", "报装申请一周没人联系", "幸福路1号", "赵六", "13700002222", "1"):
        live_wechat.text("o_calm", answer)
    calm = ticket_of(live, "TS202611300001").number
    clock_at(live, datetime(2026, 11, 30, 9, 30, tzinfo=ZONE))
    live_wechat.click("o_leak", "COMPLAINT_NEW")
    for answer in ("5", "厨房里有很重的煤气味", "幸福路2号", "王五", "13700001111", "1"):
        live_wechat.text("o_leak", answer)
    with live.sessions() as session:
        leak = session.scalars(select(Ticket.number).where(Ticket.urgent.is_(True))).one()
    lines = live_wechat.text(OFFICER, "待办").splitlines()
    assert leak in lines[1] and calm in lines[2]  # the leak came later but is due first
