"""Everything a process needs, built once from settings and passed explicitly."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from redis import Redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot import wechat
from bot.conversations import ConversationStore
from bot.db import make_engine, make_session_factory
from bot.redis_conn import describe, make_redis
from bot.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    redis: Redis
    conversations: ConversationStore
    inbox: object = field(default=None)
    _cache: dict = field(default_factory=dict, repr=False)

    def aes_keys(self) -> wechat.AesKeys | None:
        config = self.settings.wechat
        if not config.encoding_aes_key:
            return None
        return wechat.AesKeys(
            token=config.token,
            app_id=config.app_id,
            current=config.encoding_aes_key,
            previous=config.encoding_aes_key_previous,
        )

    def wechat_api(self):
        """The WeChat API client (one per process; its token is shared through Redis)."""
        if "wechat_api" not in self._cache:
            from bot.wechat_api import WeChatApi

            self._cache["wechat_api"] = WeChatApi(self.settings, self.redis)
        return self._cache["wechat_api"]

    def deadline_policy(self):
        """SLA limits and the working-day calendar (its per-year cache lives with it)."""
        if "deadline_policy" not in self._cache:
            from models.ticket.clocks import DeadlinePolicy

            self._cache["deadline_policy"] = DeadlinePolicy.from_settings(self.settings)
        return self._cache["deadline_policy"]

    def domain_policy(self, general_department_id: int | None):
        """The workflow rules with the deadline policy, keyed by the id of 综合管理部 so that a
        re-created department is noticed."""
        key = ("domain_policy", general_department_id)
        if key not in self._cache:
            from models.ticket.service import DomainPolicy

            self._cache[key] = DomainPolicy.from_settings(
                self.settings, general_department_id, self.deadline_policy()
            )
        return self._cache[key]

    def close(self) -> None:
        self.engine.dispose()


def build_runtime(settings: Settings, redis: Redis | None = None) -> Runtime:
    from bot.inbox import Inbox

    engine = make_engine(settings)
    redis = redis if redis is not None else make_redis(settings)
    runtime = Runtime(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        redis=redis,
        conversations=ConversationStore(redis, settings.conversation.idle_minutes),
    )
    runtime.inbox = Inbox(runtime)
    return runtime


def describe_runtime(settings: Settings) -> str:
    url = settings.database_url
    database = url.split("@")[-1] if "@" in url else url
    return f"database: {database}; queue: {describe(settings)}"
