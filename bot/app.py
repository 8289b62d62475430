"""The Flask app factory: `gunicorn 'bot.app:create_app()'`."""

from __future__ import annotations

from flask import Flask, jsonify

from bot.runtime import Runtime, build_runtime
from bot.settings import Settings, load_settings


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Flask:
    settings = settings or (runtime.settings if runtime else load_settings())
    runtime = runtime or build_runtime(settings)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = None  # the webhook enforces its own limit (413)
    app.extensions["bihuan"] = runtime

    from bot.webhook import blueprint as webhook

    app.register_blueprint(webhook)
    app.add_url_rule("/healthz", "healthz", _healthz)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(405, _method_not_allowed)
    return app


def _healthz():
    return jsonify(status="ok")


def _not_found(_error):
    return jsonify(error="not found"), 404


def _method_not_allowed(_error):
    return jsonify(error="method not allowed"), 405
