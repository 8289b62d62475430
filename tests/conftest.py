"""Fixtures: settings, a migrated database (PostgreSQL when BIHUAN_DATABASE__URL is set, else
SQLite), Redis (real when BIHUAN_REDIS__URL is set, flushed per test, else in-process), the
app, and a `wechat` helper that posts signed (and encrypted) XML the way WeChat does."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from bot.app import create_app
from bot.runtime import build_runtime
from bot.settings import load_settings
from models.migrate import upgrade
from models.schema import metadata
from tests.wechat_client import WeChatTestClient

TEST_TOKEN = "test-token"


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory):
    environ = dict(os.environ)
    environ.setdefault(
        "BIHUAN_DATABASE__URL", f"sqlite:///{tmp_path_factory.mktemp('db') / 'bihuan.sqlite3'}"
    )
    environ["BIHUAN_WECHAT__TOKEN"] = TEST_TOKEN
    environ["BIHUAN_WEB__MEDIA_DIR"] = str(tmp_path_factory.mktemp("media"))
    return load_settings(environ=environ)


@pytest.fixture(scope="session")
def migrated(base_settings):
    """The schema, created by the migrations once per test session."""
    runtime = build_runtime(base_settings)
    with runtime.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(runtime.engine)
    runtime.close()
    return base_settings


@pytest.fixture
def settings(migrated):
    return migrated


@pytest.fixture
def runtime(settings, tmp_path):
    runtime = build_runtime(settings.override(wechat={"spool_dir": str(tmp_path / "spool")}))
    _empty_tables(runtime.engine)
    runtime.redis.flushdb()
    yield runtime
    runtime.redis.flushdb()
    runtime.close()


def _empty_tables(engine) -> None:
    tables = [table.name for table in reversed(metadata.sorted_tables)]
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                connection.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def app(runtime):
    return create_app(runtime=runtime)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def wechat(client, runtime):
    return WeChatTestClient(client, runtime.settings)


@pytest.fixture
def session(runtime):
    with runtime.sessions() as session:
        yield session


@pytest.fixture
def demo(runtime):
    from bot.db import transaction
    from models.demo import seed_demo

    with transaction(runtime.sessions) as session:
        seed_demo(session, runtime.settings.workflow.general_department)


@pytest.fixture
def fake_wechat():
    """The local fake of the WeChat API over real HTTP."""
    from bot.dev.fake_wechat import FakeWeChat, FakeWeChatServer

    fake = FakeWeChat("wxtestapp", "test-app-secret")
    server = FakeWeChatServer(fake).start()
    fake.url = server.url
    yield fake
    server.stop()


@pytest.fixture
def live(runtime, fake_wechat):
    """A runtime whose outbound WeChat calls go to the fake, bound for rq jobs."""
    from jobs import runtime as job_runtime

    settings = runtime.settings.override(
        wechat={
            "app_id": "wxtestapp",
            "app_secret": "test-app-secret",
            "api_base_url": fake_wechat.url,
            "api_timeout_seconds": 1.0,
        }
    )
    live_runtime = build_runtime(settings, redis=runtime.redis)
    job_runtime.bind(live_runtime)
    yield live_runtime
    job_runtime.bind(None)
    live_runtime.close()


@pytest.fixture
def live_wechat(live):
    return WeChatTestClient(create_app(runtime=live).test_client(), live.settings)
