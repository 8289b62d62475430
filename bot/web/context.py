"""What a back-office request works with: the runtime, one database session per request, the
time, and the Chinese error page every failure ends on."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Response, current_app, g, render_template
from sqlalchemy.orm import Session

from bot.runtime import Runtime


class PageError(Exception):
    """A 4xx page with a Chinese title and reason."""

    def __init__(self, status: int, title: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.title, self.reason = status, title, reason


def runtime() -> Runtime:
    return current_app.extensions["bihuan"]


def db() -> Session:
    """The request's database session (closed, and rolled back if not committed, at teardown)."""
    if "bihuan_db" not in g:
        g.bihuan_db = runtime().sessions()
    return g.bihuan_db


def close_db(_error: BaseException | None = None) -> None:
    session = g.pop("bihuan_db", None)
    if session is not None:
        session.close()


def now() -> datetime:
    return datetime.now(UTC)


def zone() -> ZoneInfo:
    return ZoneInfo(runtime().policy.timezone)


def page(template: str, status: int = 200, **context) -> Response:
    html = render_template(template, **context)
    return Response(html, status=status, mimetype="text/html")


def error_page(status: int, title: str, reason: str) -> Response:
    return page("web/error.html", status, title=title, reason=reason)
