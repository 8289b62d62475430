"""Reminders and breach escalation from the deadlines in the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.db import transaction
from jobs.sweeps import send_due_alerts
from models.notification.tables import Notification
from models.people.tables import Staff
from models.ticket.tables import Deadline, DeadlineAlert, SlaBreach, Ticket
from tests.concurrency import run_in_threads
from tests.factories import (
    CUSTOMER,
    HANDLER,
    OFFICER,
    file_ticket,
    move,
    run_worker,
    seed_bound_staff,
)

# Monday 2026-11-30 10:00 in Asia/Shanghai: a working day.
MONDAY_10 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def filed_at(live, live_wechat, when: datetime, openid: str = CUSTOMER) -> str:
    """A complaint filed through the webhook at ``when`` (the runtime's clock moved there)."""
    live.clock_offset = when - datetime.now(UTC)
    return file_ticket(live_wechat, openid)


def assigned_at(live, live_wechat, when: datetime) -> str:
    """Filed, the customer phoned (联系: the contact clock stops) and assigned at ``when``."""
    seed_bound_staff(live)
    number = filed_at(live, live_wechat, when)
    move(live, number, "周敏", "contact", now=when, text="已电话联系客户")
    move(live, number, "周敏", "assign", now=when, handler_name="王芳")
    return number


def alerts_of(live, kind: str) -> list[Notification]:
    with live.sessions() as session:
        return session.scalars(
            select(Notification).filter_by(kind=kind).order_by(Notification.id)
        ).all()


def names(live, rows) -> set[str]:
    with live.sessions() as session:
        return {session.get(Staff, row.staff_id).name for row in rows}


def test_reminders_at_half_and_eighty_percent_then_breach_each_sent_once(
    live, live_wechat, fake_wechat
):
    assigned_at(live, live_wechat, MONDAY_10)
    # investigate clock: 2 hours → reminders at +60 and +96 minutes, breach at +120.
    assert send_due_alerts(live, MONDAY_10 + timedelta(minutes=59)) == 0
    assert send_due_alerts(live, MONDAY_10 + timedelta(minutes=61)) == 1
    assert send_due_alerts(live, MONDAY_10 + timedelta(minutes=62)) == 0
    assert send_due_alerts(live, MONDAY_10 + timedelta(minutes=97)) == 1
    assert names(live, alerts_of(live, "reminder")) == {"王芳"}
    assert send_due_alerts(live, MONDAY_10 + timedelta(minutes=121)) == 1
    breach = alerts_of(live, "breach")
    assert names(live, breach) == {"王芳", "李强", "周敏"}  # handler, dept head, officer
    with live.sessions() as session:
        (record,) = session.scalars(select(SlaBreach)).all()
        assert session.get(Staff, record.staff_id).name == "王芳"
        assert record.clock == "investigate"
    run_worker(live)
    assert len(fake_wechat.messages(HANDLER)) == 4  # assignment, 2 reminders, breach
    officer = [str(m["body"]["data"]) for m in fake_wechat.messages(OFFICER)]
    assert len(officer) == 3  # the new ticket, the breach, and: the head never got his
    assert "李强未收到超期提醒" in officer[-1]  # (李强 has not bound his WeChat)


def test_a_breach_older_than_one_working_day_alerts_the_leader(live, live_wechat):
    assigned_at(live, live_wechat, MONDAY_10)
    send_due_alerts(live, MONDAY_10 + timedelta(hours=3))
    assert alerts_of(live, "breach") and names(live, alerts_of(live, "breach")) == {
        "王芳",
        "李强",
        "周敏",
    }
    # Tuesday 13:00: the investigate clock (due Monday 12:00) is a working day late.
    send_due_alerts(live, MONDAY_10 + timedelta(days=1, hours=3))
    leader_rows = [r for r in alerts_of(live, "breach") if names(live, [r]) == {"钱立"}]
    assert [r.payload["clock"] for r in leader_rows] == ["investigate"]
    # Wednesday 11:00: the resolve clock (due Tuesday 10:00) is too; each sent once.
    send_due_alerts(live, MONDAY_10 + timedelta(days=2, hours=1))
    send_due_alerts(live, MONDAY_10 + timedelta(days=2, hours=2))
    leader_rows = [r for r in alerts_of(live, "breach") if names(live, [r]) == {"钱立"}]
    assert [r.payload["clock"] for r in leader_rows] == ["investigate", "resolve"]


def test_a_deadline_passing_while_the_worker_was_down_is_alerted_on_return(live, live_wechat):
    assigned_at(live, live_wechat, MONDAY_10)
    # Nobody swept for three hours: the investigate clock went past both reminders and the
    # breach. One breach alert is sent, the stale reminders are passed over, not sent.
    assert send_due_alerts(live, MONDAY_10 + timedelta(hours=3)) >= 1
    assert alerts_of(live, "reminder") == []
    with live.sessions() as session:
        stages = {
            (a.stage, a.sent)
            for a in session.scalars(
                select(DeadlineAlert)
                .join(Deadline, Deadline.id == DeadlineAlert.deadline_id)
                .where(Deadline.clock == "investigate")
            )
        }
    assert stages == {("remind:0.5", False), ("remind:0.8", False), ("breach", True)}


def test_two_concurrent_sweeps_send_each_alert_once(live, live_wechat):
    seed_bound_staff(live)
    for _ in range(5):
        number = filed_at(live, live_wechat, MONDAY_10, f"o_many_{_}")
        move(live, number, "周敏", "contact", now=MONDAY_10)
        move(live, number, "周敏", "assign", now=MONDAY_10, handler_name="王芳")
    moment = MONDAY_10 + timedelta(minutes=61)
    results, errors = run_in_threads(lambda: send_due_alerts(live, moment), 2)
    assert not errors
    assert sum(results) == 5
    assert len(alerts_of(live, "reminder")) == 5


def test_stopped_clocks_send_nothing(live, live_wechat):
    number = assigned_at(live, live_wechat, MONDAY_10)
    move(live, number, "王芳", "ack", now=MONDAY_10 + timedelta(minutes=10))
    send_due_alerts(live, MONDAY_10 + timedelta(minutes=150))
    assert all(r.payload["clock"] != "investigate" for r in alerts_of(live, "breach"))
    assert all(r.payload["clock"] != "investigate" for r in alerts_of(live, "reminder"))


def test_no_answer_to_the_call_back_puts_a_phone_call_back_on_the_officers_list(live, live_wechat):
    number = assigned_at(live, live_wechat, MONDAY_10)
    move(live, number, "王芳", "ack", now=MONDAY_10)
    move(live, number, "王芳", "resolve", now=MONDAY_10 + timedelta(minutes=30), text="已修复")
    hours = live.settings.sla.callback_hours
    send_due_alerts(live, MONDAY_10 + timedelta(minutes=31, hours=hours))
    with live.sessions() as session:
        assert session.scalars(select(Ticket).filter_by(number=number)).one().phone_callback is True
    assert names(live, alerts_of(live, "callback_due")) == {"周敏"}


def test_the_sweep_reads_only_due_clocks(live, live_wechat):
    """Work grows with what is due: clocks not yet due are not even loaded."""
    from models.ticket.alerts import due_deadlines

    assigned_at(live, live_wechat, MONDAY_10)
    with transaction(live.sessions) as session:
        assert due_deadlines(session, MONDAY_10 + timedelta(minutes=1), 100) == []
        assert len(due_deadlines(session, MONDAY_10 + timedelta(minutes=61), 100)) == 1


def stages_of(live, clock: str) -> set[tuple[str, bool]]:
    with live.sessions() as session:
        statement = (
            select(DeadlineAlert)
            .join(Deadline, Deadline.id == DeadlineAlert.deadline_id)
            .where(Deadline.clock == clock)
        )
        return {(a.stage, a.sent) for a in session.scalars(statement)}


def breaches_by_clock(live) -> dict[str, list[str]]:
    with live.sessions() as session:
        found: dict[str, list[str]] = {}
        for record in session.scalars(select(SlaBreach).order_by(SlaBreach.id)):
            found.setdefault(record.clock, []).append(session.get(Staff, record.staff_id).name)
        return found


def test_a_sweep_that_resumes_after_a_breach_owes_every_breach_and_escalation(live, live_wechat):
    assigned_at(live, live_wechat, MONDAY_10)
    # Nobody swept from Monday 10:00 to Tuesday 13:00: the investigate clock (due Monday
    # 12:00) broke and is now a working day late; the resolve clock (due Tuesday 10:00) broke.
    sent = send_due_alerts(live, MONDAY_10 + timedelta(days=1, hours=3))
    assert sent == 3  # investigate: breach and escalation; resolve: breach
    assert breaches_by_clock(live) == {"investigate": ["王芳"], "resolve": ["王芳"]}
    breach_rows = alerts_of(live, "breach")
    by_clock = {}
    for row in breach_rows:
        by_clock.setdefault(row.payload["clock"], set()).update(names(live, [row]))
    assert by_clock == {
        "investigate": {"王芳", "李强", "周敏", "钱立"},
        "resolve": {"王芳", "李强", "周敏"},
    }
    late = {r.payload["clock"]: r.payload["overdue_minutes"] for r in breach_rows}
    assert late["investigate"] == 25 * 60 and late["resolve"] == 3 * 60  # how late, told
    assert alerts_of(live, "reminder") == []  # only the pointless reminders are skipped
    assert stages_of(live, "investigate") == {
        ("remind:0.5", False),
        ("remind:0.8", False),
        ("breach", True),
        ("escalate", True),
    }
    assert send_due_alerts(live, MONDAY_10 + timedelta(days=1, hours=4)) == 0  # nothing twice


def test_a_clock_stopped_late_before_any_sweep_still_records_its_breach(live, live_wechat):
    number = assigned_at(live, live_wechat, MONDAY_10)
    move(live, number, "王芳", "ack", now=MONDAY_10 + timedelta(hours=2, minutes=40))
    assert breaches_by_clock(live) == {"investigate": ["王芳"]}
    assert names(live, alerts_of(live, "breach")) == {"王芳", "李强", "周敏"}
    assert send_due_alerts(live, MONDAY_10 + timedelta(hours=3)) == 0  # judged once
