from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from models.core.sla import (
    Deadline,
    SlaPolicy,
    callback_deadline,
    extended_deadline,
    investigate_deadline,
    is_overdue,
    reminder_times,
    resolve_deadline,
    route_deadline,
)
from models.core.workcalendar import CalendarConfig, WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROJECT_ROOT = Path(__file__).resolve().parents[3]


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def policy() -> SlaPolicy:
    return SlaPolicy()


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar(CalendarConfig())


# --- wall-clock clocks ----------------------------------------------------------------------


def test_route_deadline_is_30_minutes_after_receipt(policy: SlaPolicy) -> None:
    deadline = route_deadline(local(2026, 10, 3, 23, 50), policy)
    assert deadline.clock == "route"
    assert deadline.started_at == local(2026, 10, 3, 23, 50)
    assert deadline.due_at == local(2026, 10, 4, 0, 20)  # holidays do not stop a wall clock
    assert deadline.provisional is False


def test_investigate_deadline_is_2_hours_after_assignment(policy: SlaPolicy) -> None:
    deadline = investigate_deadline(local(2026, 2, 16, 22, 15), policy)
    assert deadline.clock == "investigate"
    assert deadline.due_at == local(2026, 2, 17, 0, 15)


def test_callback_deadline_is_2_hours_after_resolution(policy: SlaPolicy) -> None:
    deadline = callback_deadline(local(2026, 10, 9, 17, 0), policy)
    assert deadline.clock == "callback"
    assert deadline.due_at == local(2026, 10, 9, 19, 0)


def test_wall_clock_limits_follow_the_policy() -> None:
    policy = SlaPolicy(route_minutes=45, investigate_hours=4, callback_hours=24)
    start = local(2026, 10, 9, 10, 0)
    assert route_deadline(start, policy).due_at == start + timedelta(minutes=45)
    assert investigate_deadline(start, policy).due_at == start + timedelta(hours=4)
    assert callback_deadline(start, policy).due_at == start + timedelta(hours=24)


def test_wall_clock_utc_input_is_returned_in_shanghai(policy: SlaPolicy) -> None:
    deadline = route_deadline(datetime(2026, 10, 8, 1, 0, tzinfo=UTC), policy)
    assert deadline.started_at.tzinfo == SHANGHAI
    assert (deadline.started_at.hour, deadline.started_at.minute) == (9, 0)
    assert deadline.due_at == local(2026, 10, 8, 9, 30)
    assert deadline.due_at.tzinfo == SHANGHAI


def test_naive_input_is_refused(policy: SlaPolicy) -> None:
    with pytest.raises(ValueError):
        route_deadline(datetime(2026, 10, 8, 9, 0), policy)


# --- working-day clocks ---------------------------------------------------------------------


def test_resolve_general_is_one_working_day(policy: SlaPolicy, calendar: WorkCalendar) -> None:
    deadline = resolve_deadline(local(2026, 9, 30, 15, 0), "general", policy, calendar)
    assert deadline.clock == "resolve"
    assert deadline.started_at == local(2026, 9, 30, 15, 0)
    assert deadline.due_at == local(2026, 10, 8, 15, 0)
    assert deadline.provisional is False


@pytest.mark.parametrize("severity", ["complex", "major"])
def test_resolve_complex_and_major_are_five_working_days(
    severity: str, policy: SlaPolicy, calendar: WorkCalendar
) -> None:
    deadline = resolve_deadline(local(2026, 9, 30, 15, 0), severity, policy, calendar)
    # 10-08, 10-09, 10-10 (make-up Saturday), 10-12, 10-13
    assert deadline.due_at == local(2026, 10, 13, 15, 0)


def test_resolve_uses_the_policy_working_days(calendar: WorkCalendar) -> None:
    policy = SlaPolicy(resolve_workdays_general=2)
    deadline = resolve_deadline(local(2026, 3, 12, 9, 0), "general", policy, calendar)
    assert deadline.due_at == local(2026, 3, 16, 9, 0)


def test_resolve_rejects_unknown_severity(policy: SlaPolicy, calendar: WorkCalendar) -> None:
    with pytest.raises(ValueError):
        resolve_deadline(local(2026, 3, 12, 9, 0), "urgent", policy, calendar)


def test_resolve_across_year_end_is_provisional(policy: SlaPolicy, calendar: WorkCalendar) -> None:
    deadline = resolve_deadline(local(2026, 12, 31, 16, 0), "complex", policy, calendar)
    assert deadline.due_at.year == 2027
    assert deadline.due_at.month == 1
    assert deadline.provisional is True


def test_resolve_across_year_end_with_configured_2027(policy: SlaPolicy) -> None:
    calendar = WorkCalendar(
        CalendarConfig(
            extra_holidays=frozenset({date(2027, 1, 1)}),
            extra_workdays=frozenset({date(2027, 1, 9)}),
            configured_years=frozenset({2027}),
        )
    )
    deadline = resolve_deadline(local(2026, 12, 31, 16, 0), "major", policy, calendar)
    # 01-04, 01-05, 01-06, 01-07, 01-08 -> the make-up Saturday is not needed here
    assert deadline.due_at == local(2027, 1, 8, 16, 0)
    assert deadline.provisional is False


def test_extension_counts_from_the_approval(calendar: WorkCalendar) -> None:
    deadline = extended_deadline(local(2026, 10, 9, 11, 0), 3, calendar)
    assert deadline.clock == "resolve"
    assert deadline.started_at == local(2026, 10, 9, 11, 0)
    # 10-10 (make-up Saturday), 10-12, 10-13
    assert deadline.due_at == local(2026, 10, 13, 11, 0)


def test_extension_needs_working_days(calendar: WorkCalendar) -> None:
    with pytest.raises(ValueError):
        extended_deadline(local(2026, 10, 9, 11, 0), 0, calendar)


# --- reminders and breach -------------------------------------------------------------------


def test_reminders_on_a_wall_clock(policy: SlaPolicy) -> None:
    deadline = investigate_deadline(local(2026, 10, 9, 10, 0), policy)
    assert reminder_times(deadline, policy.remind_at) == [
        (0.5, local(2026, 10, 9, 11, 0)),
        (0.8, local(2026, 10, 9, 11, 36)),
    ]


def test_reminders_on_resolve_clock_interpolate_wall_time(
    policy: SlaPolicy, calendar: WorkCalendar
) -> None:
    deadline = resolve_deadline(local(2026, 3, 13, 16, 0), "general", policy, calendar)
    assert deadline.due_at == local(2026, 3, 16, 16, 0)  # Friday -> Monday, 72 wall hours
    reminders = dict(reminder_times(deadline, (0.8, 0.5)))
    assert reminders[0.5] == local(2026, 3, 15, 4, 0)
    assert reminders[0.8] == local(2026, 3, 16, 1, 36)


def test_reminders_are_ordered_and_in_shanghai(policy: SlaPolicy) -> None:
    deadline = callback_deadline(datetime(2026, 10, 9, 2, 0, tzinfo=UTC), policy)
    reminders = reminder_times(deadline, (0.8, 0.5, 0.8))
    assert [fraction for fraction, _ in reminders] == [0.5, 0.8]
    assert all(when.tzinfo == SHANGHAI for _, when in reminders)
    assert reminders[0][1] == local(2026, 10, 9, 11, 0)


def test_reminder_at_one_is_the_due_moment(policy: SlaPolicy) -> None:
    deadline = route_deadline(local(2026, 10, 9, 10, 0), policy)
    assert reminder_times(deadline, (1.0,)) == [(1.0, deadline.due_at)]


@pytest.mark.parametrize("fraction", [0.0, -0.5, 1.5])
def test_reminder_fractions_out_of_range_are_refused(fraction: float, policy: SlaPolicy) -> None:
    deadline = route_deadline(local(2026, 10, 9, 10, 0), policy)
    with pytest.raises(ValueError):
        reminder_times(deadline, (fraction,))
    with pytest.raises(ValueError):
        SlaPolicy(remind_at=(fraction,))


def test_overdue_only_after_the_due_moment(policy: SlaPolicy) -> None:
    deadline = route_deadline(local(2026, 10, 9, 10, 0), policy)
    due = deadline.due_at
    assert not is_overdue(deadline, due - timedelta(seconds=1))
    assert not is_overdue(deadline, due)
    assert is_overdue(deadline, due + timedelta(microseconds=1))


def test_overdue_compares_instants_across_zones() -> None:
    deadline = Deadline("route", local(2026, 10, 9, 10, 0), local(2026, 10, 9, 10, 30))
    assert not is_overdue(deadline, datetime(2026, 10, 9, 2, 30, tzinfo=UTC))
    assert is_overdue(deadline, datetime(2026, 10, 9, 2, 31, tzinfo=UTC))


def test_overdue_refuses_naive_now(policy: SlaPolicy) -> None:
    deadline = route_deadline(local(2026, 10, 9, 10, 0), policy)
    with pytest.raises(ValueError):
        is_overdue(deadline, datetime(2026, 10, 9, 11, 0))


def test_policy_refuses_non_positive_limits() -> None:
    with pytest.raises(ValueError):
        SlaPolicy(investigate_hours=0)


# --- purity ---------------------------------------------------------------------------------


# --- first contact (第一时间联系) -------------------------------------------------------------


def test_first_contact_runs_on_the_wall_clock_even_on_a_sunday_night(policy):
    from models.core.sla import contact_deadline

    sunday_night = local(2026, 11, 29, 23, 0)
    deadline = contact_deadline(sunday_night, policy)
    assert (deadline.clock, deadline.due_at) == ("contact", local(2026, 11, 30, 1, 0))
    assert contact_deadline(sunday_night, SlaPolicy(contact_hours=4)).due_at == local(
        2026, 11, 30, 3, 0
    )
    with pytest.raises(ValueError):
        SlaPolicy(contact_hours=0)
