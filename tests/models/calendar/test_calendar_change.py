"""Entering a year's holiday schedule: deadlines counted on the provisional calendar move,
each move is on the ticket's timeline, the change is audited, and every process sees the new
calendar without a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.db import transaction
from bot.runtime import build_runtime
from models.audit.log import Who
from models.audit.tables import AuditEntry
from models.calendar import store
from models.core.calendar_text import parse_schedule
from models.ticket.clocks import RECOUNTED, provisional_running
from models.ticket.tables import Deadline, Ticket, TicketEvent
from tests.factories import make_ticket, move

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A plausible (not official) 2027 New Year: three days off, then two more, a make-up Saturday.
SCHEDULE_2027 = """# 2027年部分节假日安排
2027-01-01~2027-01-03 休 元旦
2027-01-04 - 2027-01-05 休 元旦延长
2027-01-09 班 元旦调休
"""
ASSIGNED = datetime(2026, 12, 31, 10, 0, tzinfo=SHANGHAI)


def assigned_complex_ticket(runtime) -> str:
    number = make_ticket(runtime, status="received", handler=None, department=None)
    with transaction(runtime.sessions) as session:
        session.scalars(select(Ticket).filter_by(number=number)).one().severity = "complex"
    move(runtime, number, "周敏", "assign", now=ASSIGNED, handler_name="王芳")
    return number


def resolve_deadline(runtime, number: str) -> Deadline:
    with runtime.sessions() as session:
        return session.scalars(
            select(Deadline)
            .join(Ticket)
            .where(Ticket.number == number, Deadline.clock == "resolve")
        ).one()


def test_a_ticket_assigned_on_new_years_eve_gets_a_provisional_january_deadline(runtime, demo):
    number = assigned_complex_ticket(runtime)
    deadline = resolve_deadline(runtime, number)
    # Provisional 2027: 1 January (statutory) is off; Jan 4..8 are the five working days.
    assert deadline.due_at.astimezone(SHANGHAI) == datetime(2027, 1, 8, 10, 0, tzinfo=SHANGHAI)
    assert deadline.provisional is True and deadline.workdays == 5


def test_importing_the_schedule_moves_the_deadline_and_says_so_on_the_timeline(
    runtime, demo, tmp_path
):
    from tests.factories import invoke

    number = assigned_complex_ticket(runtime)
    path = tmp_path / "2027.txt"
    path.write_text(SCHEDULE_2027, encoding="utf-8")
    result = invoke(runtime, "calendar", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "2027年工作日历已导入：放假5天，调休上班1天" in result.output
    assert number in result.output
    deadline = resolve_deadline(runtime, number)
    # Working days now: Jan 6, 7, 8, Saturday 9 (调休), 11.
    assert deadline.due_at.astimezone(SHANGHAI) == datetime(2027, 1, 11, 10, 0, tzinfo=SHANGHAI)
    assert deadline.provisional is False
    assert deadline.next_alert_at > ASSIGNED
    with runtime.sessions() as session:
        events = session.scalars(
            select(TicketEvent)
            .join(Ticket)
            .where(Ticket.number == number, TicketEvent.kind == RECOUNTED)
        ).all()
        audit = session.scalars(select(AuditEntry)).all()
    assert len(events) == 1
    assert "2027-01-08 10:00（暂定）调整为 2027-01-11 10:00" in events[0].text
    assert events[0].channel == "system"
    assert [(entry.action, entry.address) for entry in audit] == [("calendar_change", "cli")]
    assert "放假5天" in audit[0].detail
    assert runtime.policy.deadlines.calendar.year_status(2027) == "configured"


def test_importing_the_same_schedule_again_moves_nothing(runtime, demo):
    number = assigned_complex_ticket(runtime)
    _, days = parse_schedule(SCHEDULE_2027)
    for _ in range(2):
        with transaction(runtime.sessions) as session:
            change = store.enter_years(
                session,
                list(days.values()),
                Who.cli(),
                datetime.now(UTC),
                runtime.refresh_policy().deadlines,
                source="import",
            )
    assert change.moved == []
    with runtime.sessions() as session:
        kinds = session.scalars(
            select(TicketEvent.kind).join(Ticket).where(Ticket.number == number)
        ).all()
    assert kinds.count(RECOUNTED) == 1


def test_another_process_sees_the_entered_year_after_its_refresh_interval(runtime, demo):
    ticks = [1000.0]
    other = build_runtime(runtime.settings.override(calendar={"refresh_seconds": 30}))
    other.live_policy._monotonic = lambda: ticks[0]
    try:
        assert other.policy.deadlines.calendar.year_status(2027) == "provisional"
        _, days = parse_schedule(SCHEDULE_2027)
        with transaction(runtime.sessions) as session:
            store.enter_years(
                session,
                list(days.values()),
                Who.cli(),
                datetime.now(UTC),
                runtime.policy.deadlines,
                source="import",
            )
        ticks[0] += 29
        assert other.policy.deadlines.calendar.year_status(2027) == "provisional"  # cached
        ticks[0] += 1
        calendar = other.policy.deadlines.calendar
        assert calendar.year_status(2027) == "configured"
        assert not calendar.is_workday(datetime(2027, 1, 4).date())
        assert calendar.is_workday(datetime(2027, 1, 9).date())
    finally:
        other.close()


def test_removing_the_year_brings_the_provisional_deadline_back(runtime, demo):
    number = assigned_complex_ticket(runtime)
    _, days = parse_schedule(SCHEDULE_2027)
    with transaction(runtime.sessions) as session:
        store.enter_years(
            session,
            list(days.values()),
            Who.cli(),
            datetime.now(UTC),
            runtime.policy.deadlines,
            source="import",
        )
    with transaction(runtime.sessions) as session:
        change = store.remove_year(
            session, 2027, Who.cli(), datetime.now(UTC), runtime.refresh_policy().deadlines
        )
    assert [moved.ticket_number for moved in change.moved] == [number]
    deadline = resolve_deadline(runtime, number)
    assert deadline.provisional is True
    assert deadline.due_at.astimezone(SHANGHAI) == datetime(2027, 1, 8, 10, 0, tzinfo=SHANGHAI)
    with runtime.sessions() as session:
        assert [d.ticket.number for d in provisional_running(session)] == [number]


def test_a_bad_file_is_refused_with_the_line_and_changes_nothing(runtime, demo, tmp_path):
    from tests.factories import invoke

    path = tmp_path / "bad.csv"
    path.write_text("日期,类型,说明\n2027-01-01,休,元旦\n2027-02-30,休,春节\n2027-01-01,班,\n")
    result = invoke(runtime, "calendar", "import", str(path))
    assert result.exit_code == 1
    assert "第3行：不存在的日期：2027-02-30" in result.output
    assert "第4行：2027-01-01 同时被列为放假和上班" in result.output
    with runtime.sessions() as session:
        assert store.load_entered(session) == ()
        assert session.scalars(select(AuditEntry)).all() == []


def test_an_unrelated_year_leaves_running_deadlines_alone(runtime, demo):
    number = assigned_complex_ticket(runtime)
    _, days = parse_schedule("2030-01-01 休 元旦")
    with transaction(runtime.sessions) as session:
        change = store.enter_years(
            session,
            list(days.values()),
            Who.cli(),
            datetime.now(UTC) + timedelta(0),
            runtime.policy.deadlines,
            source="import",
        )
    assert change.moved == [] and change.years == (2030,)
    assert resolve_deadline(runtime, number).provisional is True
