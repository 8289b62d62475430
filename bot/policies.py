"""Builds the domain policy from the settings: the one place where `Settings` becomes the plain
config values of the pure core (`models.core.policy.DomainPolicy`)."""

from __future__ import annotations

from datetime import date, time

from bot.settings import Settings
from models.core.comment import CommentConfig
from models.core.conversation import ConversationConfig
from models.core.deadline_policy import DeadlinePolicy
from models.core.policy import DomainPolicy
from models.core.rating_policy import RatingPolicy
from models.core.workcalendar import CalendarConfig, WorkCalendar


def build_policy(settings: Settings) -> DomainPolicy:
    return DomainPolicy(
        workflow=settings.workflow,
        deadlines=deadline_policy(settings),
        rating=rating_policy(settings),
        conversation=conversation_config(settings),
        comment=CommentConfig(
            minutes=settings.rating.comment_minutes, max_chars=settings.rating.comment_max_chars
        ),
        safety=settings.safety,
    )


def deadline_policy(settings: Settings) -> DeadlinePolicy:
    return DeadlinePolicy(
        sla=settings.sla,
        calendar=WorkCalendar(calendar_config(settings)),
        timezone=settings.app.timezone,
    )


def calendar_config(settings: Settings) -> CalendarConfig:
    config = settings.calendar
    hours, minutes = (int(part) for part in config.workday_start.split(":"))
    return CalendarConfig(
        workday_start=time(hours, minutes),
        timezone=settings.app.timezone,
        extra_holidays=frozenset(_date(d) for d in config.extra_holidays),
        extra_workdays=frozenset(_date(d) for d in config.extra_workdays),
        configured_years=frozenset(int(y) for y in config.configured_years),
    )


def rating_policy(settings: Settings) -> RatingPolicy:
    config = settings.rating
    return RatingPolicy(
        praise_at=config.praise_at,
        callback_at_or_below=config.callback_at_or_below,
        notice_at_or_below=config.notice_at_or_below,
        callback_staff=config.callback_staff,
        once_per_ticket=config.once_per_ticket,
        repeat_tap_minutes=config.repeat_tap_minutes,
    )


def conversation_config(settings: Settings) -> ConversationConfig:
    config = settings.conversation
    return ConversationConfig(
        appeal_types=tuple(config.appeal_types),
        idle_minutes=config.idle_minutes,
        max_content_chars=config.max_content_chars,
        callback_promise=config.callback_promise,
    )


def _date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
