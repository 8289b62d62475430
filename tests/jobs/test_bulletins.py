"""Periodic bulletins (定期通报): generated for the last full week, frozen when issued (a later
call-back changes the next bulletin, not this one), issued once, pushed to the officer and
the leaders through the fake WeChat API, and scheduled by rq's cron."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.cron import PERIODIC, Cron
from bot.db import transaction
from jobs.bulletins import issue_bulletin
from models.bulletin.service import period_for
from models.bulletin.tables import Bulletin
from models.figures import compute
from models.notification.tables import Notification
from models.people.tables import Staff
from models.ticket.tables import Deadline, Ticket
from tests.factories import OPENIDS, add_ticket, bind_staff, move, run_worker

ZONE = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=ZONE)  # the week of 11-23 … 11-29 is complete


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=ZONE)


@pytest.fixture
def week(live, demo) -> dict[str, str]:
    bind_staff(live)
    numbers = {}
    with transaction(live.sessions) as session:
        for name, day, status in (("answered", 23, "received"), ("waiting", 24, "received")):
            numbers[name] = add_ticket(session, at(day, 9), status, None, None).number
        numbers["repeat"] = add_ticket(
            session, at(25, 9), "assigned", repeat_flag=True, accountability_flag=True
        ).number
        late = add_ticket(session, at(26, 9), "processing")
        session.add(
            Deadline(ticket_id=late.id, clock="resolve", started_at=at(26, 10),
                     due_at=at(27, 10), state="running")
        )  # fmt: skip
        numbers["late"] = late.number
    for name, day in (("answered", 23), ("waiting", 24)):
        move(live, numbers[name], "周敏", "assign", at(day, 10), handler_name="王芳")
        move(live, numbers[name], "王芳", "ack", at(day, 11))
        move(live, numbers[name], "王芳", "resolve", at(day, 15), text="已处理")
    move(live, numbers["answered"], "周敏", "callback", at(23, 16), satisfied=True)
    run_worker(live)  # the loop's own pushes, out of the way
    return numbers


def bulletins(runtime) -> list[Bulletin]:
    with runtime.sessions() as session:
        return session.scalars(select(Bulletin).order_by(Bulletin.id)).all()


def test_the_weekly_bulletin_freezes_the_weeks_figures(live, week):
    bulletin_id = issue_bulletin(live, "weekly", MONDAY)
    (bulletin,) = bulletins(live)
    assert bulletin.id == bulletin_id
    assert bulletin.title == "2026年11月23日至11月29日投诉处理情况周通报"
    content = bulletin.content
    figures = content["figures"]
    assert (figures["received"], figures["due"], figures["archived"]) == (4, 4, 1)
    assert (figures["first_answered"], figures["first_satisfied"]) == (1, 1)
    assert content["targets"]["completion"]["missed"] is True
    assert content["targets"]["first_satisfaction"]["missed"] is False
    # Longest overdue first: the call-back not made since 11-24 17:00, the resolve clock.
    overdue = [(item["number"], item["clock"], item["hours_late"]) for item in content["overdue"]]
    assert overdue == [(week["waiting"], "回访", 135.0), (week["late"], "办结", 70.0)]
    assert [item["number"] for item in content["repeats"]] == [week["repeat"]]
    assert content["repeats"][0]["accountability"] is True
    ranking = {row["name"]: row for row in content["departments"]}
    assert ranking["运行维护部"]["first_satisfaction_rate"] == 1.0
    assert content["definitions"]["first_satisfaction"]["label"] == "首次回访满意率"

    # A call-back given after the bulletin changes the week when recomputed (a ticket due in
    # it is now archived), but not the published bulletin; the next week's bulletin counts it.
    move(live, week["waiting"], "周敏", "callback", at(30, 9), satisfied=True)
    period = period_for("weekly", MONDAY, "Asia/Shanghai")
    with live.sessions() as session:
        recomputed = compute.figures(session, period, at(30, 10))
        stored = session.get(Bulletin, bulletin_id).content["figures"]
    assert (recomputed.archived, stored["archived"]) == (2, 1)
    assert stored == figures
    following = issue_bulletin(live, "weekly", datetime(2026, 12, 7, 8, 0, tzinfo=ZONE))
    with live.sessions() as session:
        next_figures = session.get(Bulletin, following).content["figures"]
    assert (next_figures["first_answered"], next_figures["first_satisfied"]) == (1, 1)


def test_a_bulletin_is_issued_once_and_pushed_to_officer_and_leaders(live, fake_wechat, week):
    first = issue_bulletin(live, "weekly", MONDAY)
    again = issue_bulletin(live, "weekly", at(30, 18))
    assert again is None and len(bulletins(live)) == 1
    run_worker(live)
    with live.sessions() as session:
        rows = session.scalars(select(Notification).where(Notification.kind == "bulletin")).all()
    assert sorted(row.status for row in rows) == ["sent", "sent"]
    for role in ("officer", "leader"):
        (message,) = [
            m for m in fake_wechat.messages(OPENIDS[role]) if m["body"].get("template_id")
            == live.settings.templates.kinds["bulletin"]["id"]
        ]  # fmt: skip
        assert message["body"]["url"] == f"{live.settings.web.base_url}/bulletins/{first}"
        assert message["body"]["data"]["thing1"]["value"] == "11月23日至11月29日周通报"
    with live.sessions() as session:
        recipients = session.scalars(
            select(Staff.role)
            .join(Notification, Notification.staff_id == Staff.id)
            .where(Notification.kind == "bulletin")
        ).all()
    assert sorted(recipients) == ["leader", "officer"]


def test_the_monthly_bulletin_covers_the_last_full_month(live, week):
    bulletin_id = issue_bulletin(live, "monthly", datetime(2026, 12, 1, 8, 0, tzinfo=ZONE))
    with live.sessions() as session:
        bulletin = session.get(Bulletin, bulletin_id)
    assert bulletin.title == "2026年11月投诉处理情况通报"
    assert bulletin.content["period"] == {"first": "2026-11-01", "last": "2026-11-30"}
    assert bulletin.content["figures"]["received"] == 4


def test_the_cron_schedules_the_bulletins_and_the_failure_summary_in_local_time(live):
    jobs = {p.name: p for p in PERIODIC if p.cron is not None}
    assert {name: p.cron(live.settings) for name, p in jobs.items()} == {
        "weekly_bulletin": live.settings.bulletin.weekly_cron,
        "monthly_bulletin": live.settings.bulletin.monthly_cron,
        "failure_summary": live.settings.messages.failure_summary_cron,
    }
    sunday = datetime(2026, 11, 29, 20, 0, tzinfo=ZONE)
    due = jobs["weekly_bulletin"].next_after(live.settings, sunday)
    assert due.astimezone(ZONE) == datetime(2026, 11, 30, 8, 0, tzinfo=ZONE)  # Monday 08:00


def test_a_bulletin_missed_while_the_cron_was_down_is_issued_when_it_starts(live, week):
    bulletins = tuple(p for p in PERIODIC if p.name.endswith("_bulletin"))
    cron = Cron(live, bulletins, clock=lambda: MONDAY)
    assert cron.run_due() == ["weekly_bulletin", "monthly_bulletin"]
    with live.sessions() as session:
        kinds = sorted(session.scalars(select(Bulletin.kind)).all())
    assert kinds == ["monthly", "weekly"]
    assert cron.run_due() == []  # not again before next Monday 08:00


def test_the_tickets_of_the_week_are_untouched_by_issuing(live, week):
    issue_bulletin(live, "weekly", MONDAY)
    with live.sessions() as session:
        statuses = dict(session.execute(select(Ticket.number, Ticket.status)).all())
    assert statuses[week["answered"]] == "archived" and statuses[week["waiting"]] == "resolved"


def test_the_cli_shows_a_bulletin_and_a_bad_cron_stops_start_up(live, week):
    from bot.settings import SettingsError
    from tests.factories import invoke

    bulletin_id = issue_bulletin(live, "weekly", MONDAY)
    result = invoke(live, "bulletin", "show", str(bulletin_id))
    assert result.exit_code == 0 and "周通报" in result.output
    with pytest.raises(SettingsError, match="bulletin.weekly_cron"):
        live.settings.override(bulletin={"weekly_cron": "every monday"})
