"""Joins the back office to the app: cookies, Flask-Login, the views, Chinese error pages."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask, Response, flash, jsonify, redirect, request, url_for
from flask_login import LoginManager, login_required
from werkzeug.exceptions import HTTPException

from bot.runtime import Runtime
from bot.web import access, present
from bot.web.blueprint import blueprint
from bot.web.context import PageError, close_db, error_page, zone
from bot.web.forms import LogoutForm
from models.core.labels import SEVERITY_LABELS, STATUS_LABELS

log = logging.getLogger(__name__)
# Paths outside the back office keep their JSON answers (the webhook, the health check).
MACHINE_PATHS = ("/wechat", "/healthz", "/api/")
HTTP_TITLES = {
    400: ("请求无效", "请求无效，请返回上一页重试。"),
    403: ("无权访问", "您没有权限访问该页面。"),
    404: ("页面不存在", "没有找到该页面，请检查地址是否正确。"),
    405: ("请求方式不对", "该页面不支持这种请求方式，请从页面上的按钮或链接操作。"),
    413: ("提交内容过长", "提交的内容过长，请精简后重试。"),
    429: ("操作过于频繁", "操作过于频繁，请稍后再试。"),
}


def init_web(app: Flask, runtime: Runtime) -> None:
    web = runtime.settings.web
    app.config.update(
        SESSION_COOKIE_NAME="bihuan_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=web.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=web.session_hours),
        WTF_CSRF_TIME_LIMIT=web.session_hours * 3600,
        WTF_CSRF_SSL_STRICT=web.secure_cookies,
    )
    _login_manager().init_app(app)
    _register_views()
    app.register_blueprint(blueprint)
    app.teardown_appcontext(close_db)
    app.context_processor(_template_context)
    app.add_template_filter(_local, "local")
    app.add_template_filter(access.shown_phone, "phone")


def _login_manager() -> LoginManager:
    manager = LoginManager()
    manager.login_view = "web.login"
    manager.login_message = "请先登录。"
    manager.login_message_category = "info"
    manager.session_protection = "basic"
    manager.user_loader(access.load_user)
    manager.unauthorized_handler(_unauthorized)
    return manager


def _unauthorized() -> Response:
    """Signed out: to /login, and back afterwards (to the ticket's page after an action)."""
    target = request.full_path.rstrip("?")
    if request.method != "GET":
        parts = request.path.split("/")
        target = "/".join(parts[:3]) if request.path.startswith("/tickets/") else "/tickets"
    flash("请先登录。", "info")
    return redirect(url_for("web.login", next=target), 303)


def _register_views() -> None:
    """Import the view modules so that their routes join the blueprint (once)."""
    from bot.web import auth, intake, ticket_list, ticket_page  # noqa: F401


@blueprint.get("/")
@login_required
def home():
    return redirect(url_for("web.ticket_list"), 303)


def _template_context() -> dict:
    return {
        "status_labels": STATUS_LABELS,
        "severity_labels": SEVERITY_LABELS,
        "logout_form": LogoutForm,
        "present": present,
    }


def _local(moment, pattern: str = "%Y-%m-%d %H:%M") -> str:
    return present.local(moment, zone(), pattern)


@blueprint.errorhandler(PageError)
def _page_error(error: PageError) -> Response:
    return error_page(error.status, error.title, error.reason)


@blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    return http_error_page(error)


@blueprint.errorhandler(Exception)
def _crash(error: Exception) -> Response:
    log.exception("back-office page %s failed", request.path)
    return error_page(
        500, "系统出错了", "系统暂时出错，您的操作未完成。请稍后重试；如仍不行，请联系管理员。"
    )


def http_error_page(error: HTTPException) -> Response:
    code = error.code or 500
    title, reason = HTTP_TITLES.get(code, ("请求无效", "请求无效，请返回上一页重试。"))
    return error_page(code, title, reason)


def not_found_anywhere(error: HTTPException) -> Response:
    """404 and 405 outside any view: a Chinese page for people, JSON for machines."""
    if request.path.startswith(MACHINE_PATHS):
        return jsonify(error=(error.name or "error").lower()), error.code or 404
    return http_error_page(error)
