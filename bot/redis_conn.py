"""The one place that builds Redis connections.

With `redis.url` set: a real Redis. Without: an in-process emulation (fakeredis) so that a
laptop needs nothing installed; it is shared only inside one process (the embedded mode of
`make run` runs the worker and the cron in that same process).
"""

from __future__ import annotations

from redis import Redis

from bot.settings import Settings


def make_redis(settings: Settings, embedded_server=None) -> Redis:
    if settings.redis.url:
        return Redis.from_url(settings.redis.url, socket_timeout=2.0, socket_connect_timeout=2.0)
    import fakeredis

    server = embedded_server or fakeredis.FakeServer()
    return fakeredis.FakeRedis(server=server)


def describe(settings: Settings) -> str:
    if settings.redis.url:
        return f"redis {_safe(settings.redis.url)}"
    return "embedded in-process redis (fakeredis) with an in-process worker"


def _safe(url: str) -> str:
    """The URL without its password, for logs."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.split('@', 1)[1]}"
