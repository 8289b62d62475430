"""Fixtures of the fault tests: every test bounded in time, a private redis-server (killed and
restarted empty by the tests), a runtime on it talking to the fake WeChat API, and
PostgreSQL-only tests skipped on the embedded SQLite."""

from __future__ import annotations

import pytest

from bot.app import create_app
from bot.runtime import build_runtime
from tests.faults.support import PrivateRedis, within
from tests.wechat_client import WeChatTestClient

FAULT_TEST_SECONDS = 120


@pytest.fixture(autouse=True)
def bounded():
    with within(FAULT_TEST_SECONDS):
        yield


@pytest.fixture
def postgres(settings):
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (BIHUAN_DATABASE__URL): locks, ports and proxies")
    return settings


@pytest.fixture
def private_redis():
    redis = PrivateRedis().start()
    yield redis
    redis.kill()


@pytest.fixture
def outage(runtime, fake_wechat, private_redis):
    """A runtime on the test database, the private Redis and the fake WeChat API, bound for
    the jobs run in this process."""
    from jobs import runtime as job_runtime

    settings = runtime.settings.override(
        redis={"url": private_redis.url},
        wechat={
            "app_id": "wxtestapp",
            "app_secret": "test-app-secret",
            "api_base_url": fake_wechat.url,
        },
    )
    on_private = build_runtime(settings)
    job_runtime.bind(on_private)
    yield on_private
    job_runtime.bind(None)
    on_private.close()


@pytest.fixture
def outage_wechat(outage):
    return WeChatTestClient(create_app(runtime=outage).test_client(), outage.settings)
