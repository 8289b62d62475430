"""Small typed stores for the per-openid state kept in Redis besides the complaint draft
(`bot.conversations`). Each has one key layout and says what its TTL means.

- `CommentSteps`: the optional comment after a star tap. Key ``bihuan:rating-comment:<openid>``;
  the step itself decides expiry (`rating.comment_minutes`), the TTL adds a day so that the
  next message can still say the comment time is past.
- `CallbackReasons`: after 不满意, which ticket the customer's next text explains. Key
  ``bihuan:callback-reason:<openid>``, 24 hours.
- `CallbackChoices`: a bare 满意/不满意 while several tickets await their call-back, waiting
  for the customer to pick one by its number. Key ``bihuan:callback-choice:<openid>``; it
  applies to the next message only and expires after 30 minutes.
- `BindingFailures`: wrong binding codes per openid. Key ``bihuan:binding-failures:<openid>``;
  the window opens at the first failure and the lock at the last (`LOCK_SECONDS`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from redis import Redis

from bot.conversations import ConversationStore
from models.core.callback_answer import PendingChoice
from models.core.comment import CommentState

GRACE_SECONDS = 24 * 3600


class CommentSteps:
    KEY = "bihuan:rating-comment:{openid}"

    def __init__(self, redis: Redis, comment_minutes: int) -> None:
        self._redis = redis
        self._ttl = comment_minutes * 60 + GRACE_SECONDS

    def get(self, openid: str) -> CommentState | None:
        raw = self._redis.get(self.KEY.format(openid=openid))
        if raw is None:
            return None
        try:
            return CommentState.from_dict(json.loads(raw))
        except (ValueError, KeyError, TypeError):
            self.clear(openid)
            return None

    def save(self, openid: str, state: CommentState) -> None:
        self._redis.set(self.KEY.format(openid=openid), json.dumps(state.to_dict()), ex=self._ttl)

    def clear(self, openid: str) -> None:
        self._redis.delete(self.KEY.format(openid=openid))


class CallbackReasons:
    KEY = "bihuan:callback-reason:{openid}"
    TTL_SECONDS = 24 * 3600

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    def expect(self, openid: str, ticket_id: int) -> None:
        self._redis.set(self.KEY.format(openid=openid), ticket_id, ex=self.TTL_SECONDS)

    def pending(self, openid: str) -> int | None:
        raw = self._redis.get(self.KEY.format(openid=openid))
        return int(raw) if raw is not None else None

    def clear(self, openid: str) -> None:
        self._redis.delete(self.KEY.format(openid=openid))


class CallbackChoices:
    KEY = "bihuan:callback-choice:{openid}"
    TTL_SECONDS = 30 * 60

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    def get(self, openid: str) -> PendingChoice | None:
        raw = self._redis.get(self.KEY.format(openid=openid))
        if raw is None:
            return None
        try:
            return PendingChoice.from_dict(json.loads(raw))
        except (ValueError, KeyError, TypeError):
            self.clear(openid)
            return None

    def save(self, openid: str, choice: PendingChoice) -> None:
        value = json.dumps(choice.to_dict(), ensure_ascii=False)
        self._redis.set(self.KEY.format(openid=openid), value, ex=self.TTL_SECONDS)

    def clear(self, openid: str) -> None:
        self._redis.delete(self.KEY.format(openid=openid))


class BindingFailures:
    KEY = "bihuan:binding-failures:{openid}"
    MAX_FAILURES = 5
    LOCK_SECONDS = 3600

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    def locked_for(self, openid: str) -> int:
        """Seconds the openid may not bind any more (0: it may try)."""
        key = self.KEY.format(openid=openid)
        if int(self._redis.get(key) or 0) < self.MAX_FAILURES:
            return 0
        ttl = int(self._redis.ttl(key))
        if ttl < 0:  # a counter that somehow lost its expiry gets one again
            self._redis.expire(key, self.LOCK_SECONDS)
            return self.LOCK_SECONDS
        return ttl

    def fail(self, openid: str) -> int:
        """Count one wrong code; the number of failures so far."""
        key = self.KEY.format(openid=openid)
        failures = int(self._redis.incr(key))
        if failures == 1 or failures >= self.MAX_FAILURES:
            self._redis.expire(key, self.LOCK_SECONDS)
        return failures

    def clear(self, openid: str) -> None:
        self._redis.delete(self.KEY.format(openid=openid))


@dataclass(frozen=True)
class Stores:
    """Every per-openid store a handler may use, built once by the runtime."""

    conversations: ConversationStore
    comments: CommentSteps
    callback_reasons: CallbackReasons
    callback_choices: CallbackChoices
    binding_failures: BindingFailures

    @classmethod
    def on(cls, redis: Redis, idle_minutes: int, comment_minutes: int) -> Stores:
        return cls(
            conversations=ConversationStore(redis, idle_minutes),
            comments=CommentSteps(redis, comment_minutes),
            callback_reasons=CallbackReasons(redis),
            callback_choices=CallbackChoices(redis),
            binding_failures=BindingFailures(redis),
        )
