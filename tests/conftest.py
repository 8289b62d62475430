"""Fixtures: settings, a migrated database (PostgreSQL when BIHUAN_DATABASE__URL is set, else
SQLite), Redis (real when BIHUAN_REDIS__URL is set, flushed per test, else in-process), the
app, and a `wechat` helper that posts signed (and encrypted) XML the way WeChat does."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

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
    _apart_per_worker(environ)
    environ["BIHUAN_WECHAT__TOKEN"] = TEST_TOKEN
    environ["BIHUAN_WEB__MEDIA_DIR"] = str(tmp_path_factory.mktemp("media"))
    return load_settings(environ=environ)


def _apart_per_worker(environ: dict[str, str]) -> None:
    """Under pytest-xdist (`make test` runs one worker per core), each worker gets a
    PostgreSQL database of its own (`<name>_gw1`, created when missing) and a Redis database
    of its own (the given number minus the worker's), since every test empties both."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or worker == "gw0":
        return
    index = int(worker.removeprefix("gw"))
    url = make_url(environ["BIHUAN_DATABASE__URL"])
    if url.get_backend_name() == "postgresql":
        name = f"{url.database}_{worker}"
        _create_database(url, name)
        environ["BIHUAN_DATABASE__URL"] = url.set(database=name).render_as_string(
            hide_password=False
        )
    if environ.get("BIHUAN_REDIS__URL"):
        parts = urlsplit(environ["BIHUAN_REDIS__URL"])
        number = (int(parts.path.strip("/") or 0) - index) % 16
        environ["BIHUAN_REDIS__URL"] = urlunsplit(parts._replace(path=f"/{number}"))


def _create_database(url, name: str) -> None:
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            known = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if known is None:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


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
    """Every table emptied, children first, and PostgreSQL's sequences restarted.

    DELETE rather than TRUNCATE: on tables this small it is twenty times faster (TRUNCATE
    writes new files for each of thirty tables), and it takes no ACCESS EXCLUSIVE lock, so
    a connection a previous test left idle cannot make it wait. The product's short
    timeouts are lifted for this one transaction: a loaded CI machine is not a fault. The
    replica role skips the triggers that keep `audit_log` append-only (the tests connect as
    the superuser, as TRUNCATE needed too).
    """
    tables = [table.name for table in reversed(metadata.sorted_tables)]
    with engine.begin() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(text("SET LOCAL statement_timeout = '60s'"))
            connection.execute(text("SET LOCAL lock_timeout = '30s'"))
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        for name in tables:
            connection.execute(text(f"DELETE FROM {name}"))
        if postgres:
            connection.execute(
                text(
                    "SELECT setval(oid, 1, false) FROM pg_class"
                    " WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace"
                )
            )


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
