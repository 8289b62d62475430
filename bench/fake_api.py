"""The fake WeChat API as a WSGI app for gunicorn (`bench/notify_bench.py`): werkzeug's
development server closes every connection, gunicorn's gthread workers keep them alive as
WeChat's servers do."""

from __future__ import annotations

from bot.dev.fake_wechat import FakeWeChat


def app(app_id: str, secret: str):
    return FakeWeChat(app_id, secret).app
