"""The development server: the app, plus (embedded mode) what production runs apart."""

from __future__ import annotations

import logging

from bot.app import create_app
from bot.runtime import build_runtime, describe_runtime
from bot.settings import Settings

log = logging.getLogger(__name__)


def run_development_server(settings: Settings, host: str, port: int) -> None:
    runtime = build_runtime(settings)
    log.info("bihuan serving on http://%s:%s/wechat — %s", host, port,
             describe_runtime(settings))
    app = create_app(runtime=runtime)
    app.run(host=host, port=port, threaded=True, use_reloader=False)
