"""Ratings in the model: configurable thresholds, once per target, phone tails, the ticket's
JSON record."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import select

import bot.cli as cli_module
from bot.db import transaction
from bot.policies import rating_policy
from bot.settings import SettingsError
from models.notification.tables import Notification
from models.people.tables import Staff
from models.rating import service as ratings
from models.rating.tables import Rating, RatingCallback, RatingNotice, RatingRecord
from models.ticket.tables import Ticket
from tests.factories import add_ticket

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def make_ticket(session, status: str = "resolved", phone: str = "13800135678") -> Ticket:
    return add_ticket(
        session, NOW, status, phone=phone, source_channel="24小时客服热线", matter="漏气"
    )


def consequences(session) -> dict:
    return {
        "records": sorted(session.scalars(select(RatingRecord.kind))),
        "callbacks": len(session.scalars(select(RatingCallback)).all()),
        "notices": len(session.scalars(select(RatingNotice)).all()),
        "kinds": sorted(session.scalars(select(Notification.kind))),
    }


def rate(session, target, stars, settings, **kwargs):
    return ratings.rate(session, target, stars, NOW, rating_policy(settings), ZONE, **kwargs)


@pytest.mark.parametrize(
    ("thresholds", "stars", "expected"),
    [
        ({}, 5, {"records": ["praise"], "callbacks": 0, "notices": 0, "kinds": ["rating_praise"]}),
        (
            {"praise_at": 4},
            4,
            {"records": ["praise"], "callbacks": 0, "notices": 0, "kinds": ["rating_praise"]},
        ),
        (
            {},
            3,
            {"records": ["criticism"], "callbacks": 1, "notices": 0, "kinds": ["rating_alert"]},
        ),
        (
            {"callback_at_or_below": 2, "notice_at_or_below": 1},
            3,
            {"records": [], "callbacks": 0, "notices": 0, "kinds": []},
        ),
        (
            {"callback_at_or_below": 2, "notice_at_or_below": 1},
            2,
            {"records": ["criticism"], "callbacks": 1, "notices": 0, "kinds": ["rating_alert"]},
        ),
        (
            {},
            2,
            {
                "records": ["criticism"],
                "callbacks": 1,
                "notices": 1,
                "kinds": ["rating_alert", "rating_notice", "rating_warning"],  # leaders: ≤2★
            },
        ),
    ],
)
def test_thresholds_come_from_the_settings(runtime, demo, thresholds, stars, expected):
    settings = runtime.settings.override(rating=thresholds) if thresholds else runtime.settings
    with transaction(runtime.sessions) as session:
        ticket = make_ticket(session)
        rate(
            session,
            ratings.ticket_target(ticket),
            stars,
            settings,
            channel="web",
        )
    with runtime.sessions() as session:
        assert consequences(session) == expected


def test_an_unknown_call_back_staff_falls_back_to_the_officers(runtime, demo):
    settings = runtime.settings.override(rating={"callback_staff": "不存在的人"})
    with transaction(runtime.sessions) as session:
        rate(
            session,
            ratings.general_target("13800138000"),
            1,
            settings,
            channel="web",
        )
    with runtime.sessions() as session:
        alert, warning = session.scalars(select(Notification).order_by(Notification.id)).all()
        officer = session.scalar(select(Staff).where(Staff.role == "officer"))
        leader = session.scalar(select(Staff).where(Staff.role == "leader"))
        task = session.scalar(select(RatingCallback))
    assert alert.kind == "rating_alert" and alert.staff_id == officer.id
    assert warning.kind == "rating_warning" and warning.staff_id == leader.id
    assert task.staff_id is None and task.phone == "13800138000"


def test_a_ticket_is_rated_once_unless_configured(runtime, demo):
    with transaction(runtime.sessions) as session:
        target = ratings.ticket_target(make_ticket(session))
        rate(session, target, 4, runtime.settings, channel="web")
        with pytest.raises(ratings.AlreadyRated) as refused:
            rate(session, target, 1, runtime.settings, channel="web")
        assert refused.value.rating.stars == 4
        again = runtime.settings.override(rating={"once_per_ticket": False})
        rate(session, target, 2, again, channel="web")
    with runtime.sessions() as session:
        assert session.scalars(select(Rating.stars).order_by(Rating.id)).all() == [4, 2]


def test_stars_outside_one_to_five_are_refused(runtime, demo):
    with transaction(runtime.sessions) as session, pytest.raises(ValueError):
        rate(
            session,
            ratings.general_target(),
            6,
            runtime.settings,
            channel="web",
        )


def test_ticket_show_json_carries_the_rating_and_comment(runtime, demo):
    obj = cli_module.Obj()
    obj._settings, obj._runtime = runtime.settings, runtime
    with transaction(runtime.sessions) as session:
        ticket = make_ticket(session)
        number = ticket.number
    unrated = CliRunner().invoke(cli_module.cli, ["ticket", "show", number, "--json"], obj=obj)
    assert json.loads(unrated.output)["rating"] is None
    with transaction(runtime.sessions) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        rating = rate(
            session,
            ratings.ticket_target(ticket),
            2,
            runtime.settings,
            channel="wechat",
        )
        ratings.add_comment(session, rating.id, "等太久了", NOW)
    result = CliRunner().invoke(cli_module.cli, ["ticket", "show", number, "--json"], obj=obj)
    data = json.loads(result.output)["rating"]
    assert (data["stars"], data["comment"], data["channel"]) == (2, "等太久了", "wechat")
    assert data["responsible"] == "王芳" and data["records"] == ["criticism"]
    assert data["callback"]["status"] == "open" and data["notice"]["status"] == "draft"
    assert data["rated_at"].endswith("+08:00")


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"praise_at": 6}, "rating.praise_at"),
        ({"notice_at_or_below": 4, "callback_at_or_below": 3}, "rating.notice_at_or_below"),
        ({"comment_minutes": 0}, "rating.comment_minutes"),
        ({"frame_origins": ["https://a.cn; script-src *"]}, "rating.frame_origins"),
    ],
)
def test_impossible_rating_settings_stop_start_up(settings, values, key):
    with pytest.raises(SettingsError, match=key):
        settings.override(rating=values)
