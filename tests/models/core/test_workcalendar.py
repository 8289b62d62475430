from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays
import pytest

from models.core.workcalendar import CalendarConfig, WorkCalendar, to_local

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar(CalendarConfig())


def config_2027() -> CalendarConfig:
    """A utility's config.toml listing for 2027 (a plausible, not official, schedule)."""
    return CalendarConfig(
        extra_holidays=frozenset({date(2027, 1, 1), date(2027, 1, 4)}),
        extra_workdays=frozenset({date(2027, 1, 9)}),  # 调休: a make-up Saturday
        configured_years=frozenset({2027}),
    )


# --- the official 2026 calendar -------------------------------------------------------------


def test_saturday_2026_02_14_follows_chinese_calendar(calendar: WorkCalendar) -> None:
    saturday = date(2026, 2, 14)
    assert saturday.weekday() == 5
    assert chinese_calendar.is_workday(saturday)  # a 调休 make-up day before Spring Festival
    assert calendar.is_workday(saturday)
    assert not calendar.is_provisional(saturday)


def test_spring_festival_2026_days_are_off(calendar: WorkCalendar) -> None:
    festival = [date(2026, 2, 15) + timedelta(days=i) for i in range(9)]  # 15th..23rd
    assert [calendar.is_workday(d) for d in festival] == [
        chinese_calendar.is_workday(d) for d in festival
    ]
    assert not any(calendar.is_workday(d) for d in festival)
    assert calendar.is_workday(date(2026, 2, 24))


def test_make_up_saturday_counts_as_a_working_day(calendar: WorkCalendar) -> None:
    # Friday 2026-02-13 15:00 + 1 working day lands on the make-up Saturday.
    due, provisional = calendar.add_workdays(local(2026, 2, 13, 15, 0), 1)
    assert due == local(2026, 2, 14, 15, 0)
    assert provisional is False


def test_saturday_before_spring_festival_skips_the_whole_festival(calendar: WorkCalendar) -> None:
    due, _ = calendar.add_workdays(local(2026, 2, 14, 10, 0), 1)
    assert due == local(2026, 2, 24, 10, 0)


def test_national_day_week_one_working_day(calendar: WorkCalendar) -> None:
    due, provisional = calendar.add_workdays(local(2026, 9, 30, 15, 30), 1)
    assert due == local(2026, 10, 8, 15, 30)
    assert provisional is False


def test_national_day_week_five_working_days_counts_make_up_saturday(
    calendar: WorkCalendar,
) -> None:
    assert calendar.is_workday(date(2026, 10, 10))  # Saturday, 调休
    due, _ = calendar.add_workdays(local(2026, 9, 30, 15, 30), 5)
    # 10-08 Thu, 10-09 Fri, 10-10 Sat (make-up), 10-12 Mon, 10-13 Tue
    assert due == local(2026, 10, 13, 15, 30)


def test_assignment_on_holiday_counts_from_next_workday_start(calendar: WorkCalendar) -> None:
    assert not calendar.is_workday(date(2026, 10, 3))
    due_1, _ = calendar.add_workdays(local(2026, 10, 3, 11, 45), 1)
    due_5, _ = calendar.add_workdays(local(2026, 10, 3, 11, 45), 5)
    # next working day 10-08, then 1 resp. 5 working days after it, at 08:30
    assert due_1 == local(2026, 10, 9, 8, 30)
    assert due_5 == local(2026, 10, 14, 8, 30)


def test_workday_start_is_configurable() -> None:
    calendar = WorkCalendar(CalendarConfig(workday_start=time(9, 0)))
    due, _ = calendar.add_workdays(local(2026, 10, 3, 11, 45), 1)
    assert due == local(2026, 10, 9, 9, 0)


def test_friday_afternoon_one_working_day_is_monday_same_time(calendar: WorkCalendar) -> None:
    friday = local(2026, 3, 13, 16, 20)
    assert friday.weekday() == 4
    due, _ = calendar.add_workdays(friday, 1)
    assert due == local(2026, 3, 16, 16, 20)
    assert due.weekday() == 0


def test_zero_working_days_on_a_workday_is_the_start(calendar: WorkCalendar) -> None:
    start = local(2026, 3, 13, 16, 20)
    assert calendar.add_workdays(start, 0) == (start, False)


def test_negative_working_days_are_refused(calendar: WorkCalendar) -> None:
    with pytest.raises(ValueError):
        calendar.add_workdays(local(2026, 3, 13, 16, 20), -1)


# --- time zones -----------------------------------------------------------------------------


def test_utc_input_is_converted_before_calendar_arithmetic(calendar: WorkCalendar) -> None:
    start = datetime(2026, 10, 8, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    due, _ = calendar.add_workdays(start, 1)
    assert due == local(2026, 10, 9, 9, 0)
    assert due.tzinfo == SHANGHAI
    assert due.hour == 9


def test_utc_evening_is_already_the_next_local_day(calendar: WorkCalendar) -> None:
    # 2026-09-30T17:00Z is 10-01 01:00 in Shanghai: a holiday, so counts from 10-08 08:30.
    due, _ = calendar.add_workdays(datetime(2026, 9, 30, 17, 0, tzinfo=UTC), 1)
    assert due == local(2026, 10, 9, 8, 30)


def test_naive_datetimes_are_refused(calendar: WorkCalendar) -> None:
    with pytest.raises(ValueError):
        calendar.add_workdays(datetime(2026, 10, 8, 9, 0), 1)
    with pytest.raises(ValueError):
        to_local(datetime(2026, 10, 8, 9, 0))


# --- years chinese_calendar does not know ---------------------------------------------------


def test_2027_is_unknown_to_chinese_calendar() -> None:
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 4))


def test_year_end_2026_gets_provisional_january_2027_deadline(calendar: WorkCalendar) -> None:
    due, provisional = calendar.add_workdays(local(2026, 12, 31, 16, 0), 5)
    assert date(2027, 1, 1) in holidays.China(years=2027)
    assert not calendar.is_workday(date(2027, 1, 1))
    # 01-01 holiday, 01-02/03 weekend: 01-04 .. 01-08 are the five working days
    assert due == local(2027, 1, 8, 16, 0)
    assert provisional is True


def test_official_only_span_is_not_provisional_near_year_end(calendar: WorkCalendar) -> None:
    due, provisional = calendar.add_workdays(local(2026, 12, 28, 10, 0), 2)
    assert due == local(2026, 12, 30, 10, 0)
    assert provisional is False


def test_provisional_fallback_honours_extra_workdays() -> None:
    calendar = WorkCalendar(CalendarConfig(extra_workdays=frozenset({date(2027, 1, 2)})))
    assert calendar.year_status(2027) == "provisional"
    assert calendar.is_workday(date(2027, 1, 2))
    assert calendar.is_provisional(date(2027, 1, 2))


def test_configured_2027_is_not_provisional_and_honours_make_up_saturday() -> None:
    calendar = WorkCalendar(config_2027())
    assert calendar.year_status(2027) == "configured"
    assert not calendar.is_provisional(date(2027, 1, 9))
    assert calendar.is_workday(date(2027, 1, 9))  # Saturday made a working day
    assert not calendar.is_workday(date(2027, 1, 4))  # Monday made a holiday
    due, provisional = calendar.add_workdays(local(2026, 12, 31, 16, 0), 5)
    # 01-05 Tue, 01-06 Wed, 01-07 Thu, 01-08 Fri, 01-09 Sat (make-up)
    assert due == local(2027, 1, 9, 16, 0)
    assert provisional is False


def test_configured_year_ignores_the_holidays_package() -> None:
    calendar = WorkCalendar(CalendarConfig(configured_years=frozenset({2027})))
    # holidays.China calls 2027-02-08 a Spring Festival day; the config did not list it.
    assert date(2027, 2, 8) in holidays.China(years=2027)
    assert calendar.is_workday(date(2027, 2, 8))


def test_official_year_ignores_config_lists() -> None:
    calendar = WorkCalendar(
        CalendarConfig(
            extra_holidays=frozenset({date(2026, 3, 16)}),
            configured_years=frozenset({2026}),
        )
    )
    assert calendar.year_status(2026) == "official"
    assert calendar.is_workday(date(2026, 3, 16))


def test_year_status_for_the_health_check() -> None:
    calendar = WorkCalendar(CalendarConfig(configured_years=frozenset({2028})))
    assert calendar.year_status(2026) == "official"
    assert calendar.year_status(2028) == "configured"
    assert calendar.year_status(2027) == "provisional"


def test_config_refuses_a_date_both_holiday_and_workday() -> None:
    day = date(2027, 1, 9)
    with pytest.raises(ValueError):
        CalendarConfig(extra_holidays=frozenset({day}), extra_workdays=frozenset({day}))


def test_config_accepts_plain_sets_from_toml() -> None:
    config = CalendarConfig(extra_workdays={date(2027, 1, 9)}, configured_years=[2027])
    assert config.extra_workdays == frozenset({date(2027, 1, 9)})
    assert isinstance(config.configured_years, frozenset)
    hash(config)
