"""/api/…: JSON for the gas business system (燃气业务管理系统), PRODUCT §8.

Every request carries an API key (``Authorization: Bearer bhk_…``) with the scope its route
needs; keys are rate-limited per minute in Redis. Requests are validated by the pydantic
schemas of `bot.api.schemas` through spectree, which also writes /api/openapi.json from
them. Bad input answers 400 (shape) or 422 (meaning), naming the field; never a 500.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, abort, current_app, g, jsonify, make_response, request
from redis.exceptions import RedisError
from spectree import Response, SecurityScheme, SpecTree
from spectree.models import SecuritySchemeData
from sqlalchemy import select

from bot.api.schemas import (
    ApiError,
    BusinessRecordsIn,
    CallbackFeed,
    FeedQuery,
    FiguresOut,
    FiguresQuery,
    Problem,
    PushResult,
    RatingFeed,
    TicketFeed,
)
from bot.db import transaction
from bot.runtime import Runtime
from models.access import feeds
from models.access.keys import find
from models.core.figures import DEFINITIONS, Scope, between, missed
from models.core.labels import CLOCK_LABELS
from models.figures import compute
from models.people.tables import Department, Staff
from models.rating.business import ImportReport, check_row, staff_by_name, store

log = logging.getLogger(__name__)
blueprint = Blueprint("api", __name__)
LIMIT_KEY = "bihuan:api-limit:{prefix}:{minute}"
LAST_USED_EVERY = timedelta(minutes=1)
SCOPE_OF: dict[str, str] = {}


def _bad_input(request_, response, error, instance, adapter) -> None:
    """spectree's hook: a request that does not fit its schema → 400 naming the fields."""
    if error is None:
        return
    problems = [
        Problem(field=".".join(str(part) for part in item["loc"]) or "body", reason=item["msg"])
        for item in error.errors()
    ]
    body = ApiError(error="请求参数无效", field=problems[0].field, problems=problems)
    abort(make_response(jsonify(body.model_dump()), 400))


spec = SpecTree(
    "flask",
    mode="strict",
    path="_spectree",  # spectree skips routes under its own path: ours is served below
    page_templates={},
    title="闭环 Bihuan API（燃气业务管理系统对接）",
    version="1.0.0",
    description="推送业务记录；按游标读取投诉工单、评价和回访结果；读取统计数据。",
    security_schemes=[
        SecurityScheme(name="apiKey", data=SecuritySchemeData(type="http", scheme="bearer"))
    ],
    security={"apiKey": []},
    validation_error_status=400,
    before=_bad_input,
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda parent, child: child,
)


def errors(**ok) -> Response:
    """The documented answers of a route: its success and every error it can give."""
    codes = {f"HTTP_{code}": ApiError for code in (400, 401, 403, 422, 429)}
    return Response(**codes, **ok)


def needs(scope: str):
    """The scope a route needs (checked before its input is read)."""

    def mark(func):
        SCOPE_OF[f"api.{func.__name__}"] = scope
        return func

    return mark


def register(app: Flask) -> None:
    app.register_blueprint(blueprint)


@blueprint.get("/api/openapi.json")
def openapi():
    """The OpenAPI 3 document, generated from the schemas that validate the requests."""
    return jsonify(spec.spec)


# --- keys and limits ------------------------------------------------------------------------


def _runtime() -> Runtime:
    return current_app.extensions["bihuan"]


def _refuse(status: int, error: str, field: str | None = None, **headers):
    response = make_response(jsonify(ApiError(error=error, field=field).model_dump()), status)
    response.headers.update(headers)
    return response


@blueprint.before_request
def authenticate():
    scope = SCOPE_OF.get(request.endpoint or "")
    if scope is None:
        return None
    header = request.headers.get("Authorization", "")
    presented = header[7:].strip() if header.startswith("Bearer ") else ""
    if not presented:
        return _refuse(401, "缺少 API 密钥（Authorization: Bearer <密钥>）", "Authorization",
                       **{"WWW-Authenticate": "Bearer"})  # fmt: skip
    runtime = _runtime()
    now = datetime.now(UTC)
    with transaction(runtime.sessions) as session:
        key = find(session, presented)
        if key is None:
            return _refuse(401, "API 密钥无效", "Authorization")
        if key.revoked_at is not None:
            return _refuse(401, "API 密钥已吊销", "Authorization")
        if scope not in key.scopes:
            return _refuse(403, f"该密钥没有 {scope} 权限", "Authorization")
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_EVERY:
            key.last_used_at = now
        g.api_key = key.prefix
    return _rate_limit(runtime, g.api_key)


def _rate_limit(runtime: Runtime, prefix: str):
    limit = runtime.settings.api.requests_per_minute
    minute = int(time.time() // 60)
    key = LIMIT_KEY.format(prefix=prefix, minute=minute)
    try:
        pipe = runtime.redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, 120)
        count = pipe.execute()[0]
    except RedisError:
        log.warning("API rate limit not checked: Redis unavailable")
        return None
    if count > limit:
        wait = 60 - int(time.time()) % 60
        return _refuse(
            429, f"请求过于频繁：每分钟最多 {limit} 次", None, **{"Retry-After": str(wait)}
        )
    return None


@blueprint.before_request
def json_body():
    if request.method == "POST" and request.get_json(silent=True) is None:
        return _refuse(400, "请求体须为 JSON（Content-Type: application/json）", "body")
    return None


# --- business records ----------------------------------------------------------------------


@blueprint.post("/api/business-records")
@needs("records:write")
@spec.validate(json=BusinessRecordsIn, resp=errors(HTTP_200=PushResult), tags=["业务记录"])
def push_business_records(json: BusinessRecordsIn):
    """推送业务记录（报装、安装、点火、维修…及负责人），按业务单号幂等：重复推送不重复创建，内容变化则更新。

    所有记录校验通过才写入；任何一条无效则整批不写入，返回 422 并列出每条的问题字段。
    """
    runtime = _runtime()
    settings = runtime.settings
    zone = ZoneInfo(settings.app.timezone)
    report, problems, seen = ImportReport(), [], set()
    with transaction(runtime.sessions) as session:
        staff = staff_by_name(session)
        checked = []
        for index, record in enumerate(json.records):
            values = check_row(record.model_dump(), staff, settings.rating.business_types, zone)
            if isinstance(values, tuple):
                problems.append(Problem(field=f"records.{index}.{values[0]}", reason=values[1]))
            elif values.order_no in seen:
                field = f"records.{index}.order_no"
                problems.append(Problem(field=field, reason="业务单号在本批中重复"))
            else:
                seen.add(values.order_no)
                checked.append(values)
        if problems:
            session.rollback()
            return ApiError(error="业务记录无效", field=problems[0].field, problems=problems), 422
        now = datetime.now(UTC)
        for values in checked:
            store(session, values, now, report)
    return PushResult(created=report.created, updated=report.updated, unchanged=report.unchanged)


# --- change feeds --------------------------------------------------------------------------


def _feed(query: FeedQuery, read, model):
    runtime = _runtime()
    settings = runtime.settings
    try:
        cursor = feeds.Cursor.decode(query.cursor) if query.cursor else None
    except feeds.BadCursor:
        return ApiError(error="游标无效，请使用上一页返回的 next_cursor", field="cursor"), 400
    limit = query.limit or settings.api.page_size
    zone = ZoneInfo(settings.app.timezone)
    with runtime.sessions() as session:
        page = read(
            session, cursor, limit, datetime.now(UTC), settings.api.cursor_lag_seconds, zone
        )
    following = page.cursor or cursor
    return model(items=page.items, next_cursor=following.encode() if following else None)


@blueprint.get("/api/tickets")
@needs("tickets:read")
@spec.validate(query=FeedQuery, resp=errors(HTTP_200=TicketFeed), tags=["投诉工单"])
def list_tickets(query: FeedQuery):
    """自游标之后变更过的投诉工单，按变更时间先后。

    无游标则从头开始；把返回的 next_cursor 带回即可续读。"""
    return _feed(query, feeds.tickets_since, TicketFeed)


@blueprint.get("/api/ratings")
@needs("ratings:read")
@spec.validate(query=FeedQuery, resp=errors(HTTP_200=RatingFeed), tags=["评价"])
def list_ratings(query: FeedQuery):
    """自游标之后新增或补充留言的评价，按时间先后。"""
    return _feed(query, feeds.ratings_since, RatingFeed)


@blueprint.get("/api/callbacks")
@needs("callbacks:read")
@spec.validate(query=FeedQuery, resp=errors(HTTP_200=CallbackFeed), tags=["回访结果"])
def list_callbacks(query: FeedQuery):
    """自游标之后的回访结果（满意/不满意），标明是否为该工单的首次回访。"""
    return _feed(query, feeds.callbacks_since, CallbackFeed)


# --- figures -------------------------------------------------------------------------------


@blueprint.get("/api/figures")
@needs("figures:read")
@spec.validate(query=FiguresQuery, resp=errors(HTTP_200=FiguresOut), tags=["统计"])
def read_figures(query: FiguresQuery):
    """期间（from 至 to，含两端）的统计数据及其口径。

    可按部门、诉求类型、来源、严重程度或人员筛选。"""
    if query.end < query.start:
        return ApiError(error="to 早于 from", field="to"), 400
    runtime = _runtime()
    settings = runtime.settings
    period = between(query.start, query.end, settings.app.timezone)
    now = datetime.now(UTC)
    with runtime.sessions() as session:
        scope = _scope(session, query)
        if isinstance(scope, ApiError):
            return scope, 422
        values = compute.figures(session, period, now, scope)
    return figures_out(values, period, settings)


def _scope(session, query: FiguresQuery) -> Scope | ApiError:
    ids = {}
    for field, table in (("department", Department), ("person", Staff)):
        name = getattr(query, field)
        if name:
            found = session.scalar(select(table.id).where(table.name == name))
            if found is None:
                return ApiError(error=f"未找到「{name}」", field=field)
            ids[field] = found
    return Scope(
        department_id=ids.get("department"),
        appeal_type=query.appeal_type,
        channel=query.channel,
        severity=query.severity,
        staff_id=ids.get("person"),
    )


def figures_out(values, period, settings) -> FiguresOut:
    targets = settings.figures
    first, last = period.local_dates(settings.app.timezone)

    def rate(part, whole, value, target=None):
        return {
            "numerator": part,
            "denominator": whole,
            "rate": value,
            "target": target,
            "missed": missed(value, target) if target is not None else False,
        }

    return FiguresOut(
        period={"from": first.isoformat(), "to": last.isoformat()},
        received=values.received,
        valid=values.valid,
        invalid=values.invalid,
        completion=rate(values.archived, values.due, values.completion_rate, targets.completion),
        first_satisfaction=rate(
            values.first_satisfied,
            values.first_answered,
            values.first_satisfaction_rate,
            targets.satisfaction,
        ),
        final_satisfaction=rate(
            values.final_satisfied, values.final_answered, values.final_satisfaction_rate
        ),
        on_time=rate(values.clocks_met, values.clocks_due, values.on_time_rate, targets.on_time),
        clocks=[
            {**vars(clock), "label": CLOCK_LABELS.get(clock.clock, clock.clock), "rate": clock.rate}
            for clock in values.clocks
        ],
        open_now=values.open_now,
        overdue_now=values.overdue_now,
        returns=values.returns,
        repeats=values.repeats,
        accountability=values.accountability,
        stars={str(level): count for level, count in enumerate(values.stars, start=1)},
        average_stars=values.average_stars,
        definitions={key: vars(value) for key, value in DEFINITIONS.items()},
    )
