"""Everything a process needs, built once from settings and passed explicitly."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from redis import Redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot import wechat
from bot.db import make_engine, make_session_factory
from bot.policies import build_policy
from bot.redis_conn import describe, make_redis
from bot.settings import Settings
from bot.stores import Stores
from bot.wechat_api import WeChatApi
from models.core.deadline_policy import DeadlinePolicy
from models.core.policy import DomainPolicy

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    redis: Redis
    policy: DomainPolicy
    stores: Stores
    process: str = "web"  # web | background (worker, cron, command line): timeouts differ
    queue_paused_until: float = 0.0  # monotonic; set by jobs.queue after Redis failed
    _api: WeChatApi | None = field(default=None, repr=False)

    @property
    def conversations(self):
        return self.stores.conversations

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

    def wechat_api(self) -> WeChatApi:
        """The WeChat API client (one per process; its token is shared through Redis).

        A background process waits `wechat.send_timeout_seconds` for WeChat's answer; a web
        process, where someone waits, `wechat.api_timeout_seconds`.
        """
        if self._api is None:
            config = self.settings.wechat
            timeout = (
                config.send_timeout_seconds
                if self.process == "background"
                else config.api_timeout_seconds
            )
            self._api = WeChatApi(self.settings, self.redis, timeout=timeout)
        return self._api

    def deadline_policy(self) -> DeadlinePolicy:
        """SLA limits and the working-day calendar (its per-year cache lives with it)."""
        return self.policy.deadlines

    def close(self) -> None:
        self.engine.dispose()


def build_runtime(settings: Settings, redis: Redis | None = None, process: str = "web") -> Runtime:
    engine = make_engine(settings, process)
    sessions = make_session_factory(engine)
    redis = redis if redis is not None else make_redis(settings)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        redis=redis,
        policy=build_policy(settings),
        stores=Stores.on(
            sessions, settings.conversation.idle_minutes, settings.rating.comment_minutes
        ),
        process=process,
    )


def describe_runtime(settings: Settings) -> str:
    url = settings.database_url
    database = url.split("@")[-1] if "@" in url else url
    return f"database: {database}; queue: {describe(settings)}"
