"""Builds the domain policy from the settings: the one place where `Settings` becomes the plain
config values of the pure core (`models.core.policy.DomainPolicy`). `LivePolicy` keeps a
process's policy in step with the working-day calendar the office enters in the database."""

from __future__ import annotations

import logging
import threading
import time as clock
from collections.abc import Callable
from datetime import date, time

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings
from models.calendar import store as calendar_store
from models.core.comment import CommentConfig
from models.core.conversation import ConversationConfig
from models.core.deadline_policy import DeadlinePolicy
from models.core.policy import DomainPolicy
from models.core.rating_policy import RatingPolicy
from models.core.workcalendar import CalendarConfig, WorkCalendar, YearSchedule
from models.rating.notices import NoticeConfig

log = logging.getLogger(__name__)


def build_policy(settings: Settings, entered: tuple[YearSchedule, ...] = ()) -> DomainPolicy:
    return DomainPolicy(
        workflow=settings.workflow,
        deadlines=deadline_policy(settings, entered),
        rating=rating_policy(settings),
        conversation=conversation_config(settings),
        comment=CommentConfig(
            minutes=settings.rating.comment_minutes, max_chars=settings.rating.comment_max_chars
        ),
        safety=settings.safety,
    )


def deadline_policy(settings: Settings, entered: tuple[YearSchedule, ...] = ()) -> DeadlinePolicy:
    return DeadlinePolicy(
        sla=settings.sla,
        calendar=WorkCalendar(calendar_config(settings, entered)),
        timezone=settings.app.timezone,
    )


def calendar_config(settings: Settings, entered: tuple[YearSchedule, ...] = ()) -> CalendarConfig:
    config = settings.calendar
    hours, minutes = (int(part) for part in config.workday_start.split(":"))
    return CalendarConfig(
        workday_start=time(hours, minutes),
        timezone=settings.app.timezone,
        extra_holidays=frozenset(_date(d) for d in config.extra_holidays),
        extra_workdays=frozenset(_date(d) for d in config.extra_workdays),
        configured_years=frozenset(int(y) for y in config.configured_years),
        entered=entered,
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


def notice_config(settings: Settings) -> NoticeConfig:
    return NoticeConfig(
        number_format=settings.notices.number_format,
        recipients=tuple(settings.notices.recipients),
        timezone=settings.app.timezone,
    )


def conversation_config(settings: Settings) -> ConversationConfig:
    config = settings.conversation
    return ConversationConfig(
        appeal_types=tuple(config.appeal_types),
        idle_minutes=config.idle_minutes,
        max_content_chars=config.max_content_chars,
        callback_promise=contact_promise(settings),
        safety=settings.safety,
    )


def contact_promise(settings: Settings) -> str:
    """What a customer is told after filing: the contact limit the clock really runs with."""
    return settings.conversation.callback_promise.format(hours=settings.sla.contact_hours)


def _date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


class LivePolicy:
    """A process's domain policy, rebuilt when the calendar entered in the database changes.

    `current()` reads the calendar's version at most once every `calendar.refresh_seconds`
    (one indexed single-row query), and reloads the entered years only when it moved; a
    failed read keeps the policy in use and logs it. `refresh()` reads at once (the process
    that made a change calls it after the commit).
    """

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        read_options: dict | None = None,
        monotonic: Callable[[], float] = clock.monotonic,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._read_options = read_options or {}
        self._monotonic = monotonic
        self._policy = build_policy(settings)
        self._version: int | None = None
        self._checked_at: float | None = None
        self._lock = threading.Lock()

    def current(self) -> DomainPolicy:
        checked = self._checked_at
        interval = self._settings.calendar.refresh_seconds
        if checked is None or self._monotonic() - checked >= interval:
            self.refresh()
        return self._policy

    def refresh(self) -> DomainPolicy:
        with self._lock:
            try:
                with self._sessions() as session:
                    session.connection(execution_options=self._read_options)
                    version = calendar_store.version(session)
                    if version != self._version:
                        entered = calendar_store.load_entered(session)
                        self._policy = build_policy(self._settings, entered)
                        self._version = version
            except SQLAlchemyError as exc:
                log.warning("working-day calendar not reloaded: %s", exc)
            self._checked_at = self._monotonic()
        return self._policy
