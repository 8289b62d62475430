"""The development server: the app, plus (embedded mode) what production runs apart.

Without `redis.url`, the rq worker, its scheduler and the cron sweeps run in this process on
the in-process Redis. Without `wechat.app_id`, a local fake of the WeChat API is served on
`dev.fake_wechat_port` and every outbound message goes there (`bihuan simulate` shows them).
"""

from __future__ import annotations

import logging
import threading

from bot.app import create_app
from bot.runtime import build_runtime, describe_runtime
from bot.settings import Settings

log = logging.getLogger(__name__)
FAKE_APPID = "wxlocalfake"
FAKE_SECRET = "local-fake-secret"


def run_development_server(settings: Settings, host: str, port: int) -> None:
    local_fake = not settings.wechat.app_id
    settings = _with_local_fake(settings)
    runtime = build_runtime(settings)
    stop = threading.Event()
    if settings.embedded_redis:
        from bot.dev.embedded import start_embedded

        start_embedded(runtime, stop)
    else:
        from bot.replay import start_spool_replayer

        start_spool_replayer(runtime, stop)
    log.info("bihuan serving on http://%s:%s/wechat — %s", host, port, describe_runtime(settings))
    app = create_app(runtime=runtime)
    if local_fake:  # no real 公众号: the clock may be moved to try deadlines without waiting
        from bot.dev.clock import blueprint as dev_clock

        app.register_blueprint(dev_clock)
        log.info("dev clock: POST /_dev/clock and /_dev/sweep (bihuan simulate: /clock, /sweep)")
    try:
        app.run(host=host, port=port, threaded=True, use_reloader=False)
    finally:
        stop.set()


def _with_local_fake(settings: Settings) -> Settings:
    if settings.wechat.app_id:
        return settings
    from bot.dev.fake_wechat import FakeWeChat, FakeWeChatServer

    server = FakeWeChatServer(
        FakeWeChat(FAKE_APPID, FAKE_SECRET, token_grace_seconds=300),
        port=settings.dev.fake_wechat_port,
    ).start()
    log.info(
        "no wechat.app_id configured: outbound messages go to the local fake WeChat API at %s",
        server.url,
    )
    return settings.override(
        wechat={"app_id": FAKE_APPID, "app_secret": FAKE_SECRET, "api_base_url": server.url}
    )
