"""Everything a process needs, built once from settings and passed explicitly."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property

from redis import Redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot import wechat
from bot.db import READ_ONLY, KeptConnections, make_engine, make_session_factory
from bot.media_links import MediaLinks
from bot.policies import LivePolicy
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
    live_policy: LivePolicy
    stores: Stores
    connections: KeptConnections  # kept between pushes handled at once (`bot.inbox`)
    # Signs forms and links: web.secret_key, or a random key for this process only.
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    # The dev server's adjustable clock (`bihuan simulate`'s /clock); zero in production.
    clock_offset: timedelta = timedelta(0)
    process: str = "web"  # web | background (worker, cron, command line): timeouts differ
    queue_paused_until: float = 0.0  # monotonic; set by jobs.queue after Redis failed
    _api: WeChatApi | None = field(default=None, repr=False)

    def now(self) -> datetime:
        """The time every handler and job of this process works with."""
        return datetime.now(UTC) + self.clock_offset

    @cached_property
    def media_links(self) -> MediaLinks:
        media = self.settings.media
        return MediaLinks(self.settings.web.base_url, self.secret, media.link_max_age_days)

    @property
    def policy(self) -> DomainPolicy:
        """The domain policy, with the working-day calendar the office entered (re-read when
        it changes, see `LivePolicy`)."""
        return self.live_policy.current()

    def refresh_policy(self) -> DomainPolicy:
        """Read the calendar now (after this process changed it)."""
        return self.live_policy.refresh()

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
        self.connections.close()
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
        connections=KeptConnections(engine, keep=max(1, settings.database.pool_size // 2)),
        live_policy=LivePolicy(settings, sessions, READ_ONLY),
        stores=Stores.on(
            sessions, settings.conversation.idle_minutes, settings.rating.comment_minutes
        ),
        secret=settings.web.secret_key or secrets.token_urlsafe(32),
        process=process,
    )


def describe_runtime(settings: Settings) -> str:
    url = settings.database_url
    database = url.split("@")[-1] if "@" in url else url
    return f"database: {database}; queue: {describe(settings)}"
