"""The WeChat access_token shared by every process (web, worker, cron) through Redis.

A new token invalidates the old one after a few minutes, so processes must not fetch their
own: one fetch at a time happens under a Redis lock, and a process that saw token X fail asks
for a refresh *of X* — when another process already replaced X, no second fetch happens.
"""

from __future__ import annotations

from collections.abc import Callable

from redis import Redis

DEFAULT_KEY = "bihuan:wechat:access_token"
SAFETY_MARGIN_SECONDS = 300


class SharedToken:
    """The cached token, or a fresh one from ``fetch`` → (token, expires_in seconds).

    ``lock_timeout`` bounds both how long a crashed holder keeps the lock and how long a
    waiting process blocks for it (redis.exceptions.LockError when it gives up).
    """

    def __init__(
        self,
        redis: Redis,
        fetch: Callable[[], tuple[str, int]],
        key: str = DEFAULT_KEY,
        lock_timeout: float = 10.0,
        safety_margin: int = SAFETY_MARGIN_SECONDS,
    ) -> None:
        self._redis = redis
        self._fetch = fetch
        self._key = key
        self._lock_timeout = lock_timeout
        self._safety_margin = safety_margin

    def get(self) -> str:
        """The cached token; fetched (once, under the lock) when there is none."""
        return self._cached() or self.refresh(None)

    def refresh(self, stale: str | None) -> str:
        """A token other than ``stale``: the one cached meanwhile, else a fetched one."""
        lock = self._redis.lock(
            self._key + ":lock",
            timeout=self._lock_timeout,
            blocking_timeout=self._lock_timeout,
        )
        with lock:
            cached = self._cached()
            if cached and cached != stale:
                return cached
            token, expires_in = self._fetch()
            self._redis.set(self._key, token, ex=self._ttl(expires_in))
            return token

    def _cached(self) -> str | None:
        value = self._redis.get(self._key)
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    def _ttl(self, expires_in: int) -> int:
        """Seconds to cache: expires_in minus the margin (half of it when that is too short)."""
        if expires_in > 2 * self._safety_margin:
            return expires_in - self._safety_margin
        return max(expires_in // 2, 1)
