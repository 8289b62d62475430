"""The Flask app factory: `gunicorn 'bot.app:create_app()'`."""

from __future__ import annotations

import logging

from flask import Flask

from bot.health import healthz
from bot.inbox import Inbox
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings, load_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Flask:
    settings = settings or (runtime.settings if runtime else load_settings())
    runtime = runtime or build_runtime(settings)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = None  # the webhook enforces its own limit (413)
    app.extensions["bihuan"] = runtime
    if not runtime.settings.web.secret_key:
        _warn_per_process_secret()
    app.secret_key = runtime.secret

    from bot.api.views import register as register_api
    from bot.media_page import blueprint as media_page
    from bot.rate_page import blueprint as rate_page
    from bot.web import init_web
    from bot.web.setup import not_found_anywhere
    from bot.webhook import WithWebhook

    app.register_blueprint(rate_page)
    app.register_blueprint(media_page)
    init_web(app, runtime)
    register_api(app)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.register_error_handler(404, not_found_anywhere)
    app.register_error_handler(405, not_found_anywhere)
    app.wsgi_app = WithWebhook(app.wsgi_app, runtime, Inbox(runtime))
    return app


def _warn_per_process_secret() -> None:
    log.warning(
        "BIHUAN_WEB__SECRET_KEY is not set: using a random key for this process; "
        "back-office sign-ins, rating and attachment links and open /rate forms will not "
        "survive a restart"
    )
