"""Complaint conversations in progress, kept in Redis under a TTL (one key per openid).

The state machine itself decides expiry from `updated_at`; the TTL only collects garbage, and
is longer than the idle limit so that the next message can still say the draft expired.
"""

from __future__ import annotations

import json

from redis import Redis

from models.core.conversation import ConversationState

KEY = "bihuan:conversation:{openid}"
GRACE_SECONDS = 24 * 3600


class ConversationStore:
    def __init__(self, redis: Redis, idle_minutes: int):
        self._redis = redis
        self._ttl = idle_minutes * 60 + GRACE_SECONDS

    def get(self, openid: str) -> ConversationState | None:
        raw = self._redis.get(KEY.format(openid=openid))
        if raw is None:
            return None
        try:
            return ConversationState.from_dict(json.loads(raw))
        except (ValueError, KeyError, TypeError):
            self.clear(openid)
            return None

    def save(self, openid: str, state: ConversationState) -> None:
        payload = json.dumps(state.to_dict(), ensure_ascii=False)
        self._redis.set(KEY.format(openid=openid), payload, ex=self._ttl)

    def clear(self, openid: str) -> None:
        self._redis.delete(KEY.format(openid=openid))
