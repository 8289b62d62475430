"""`/rate`: the portal's public rating page (五星评价 + 留言), embeddable by iframe.

Works without JavaScript (the stars are radio inputs). Each form carries a signed token bound
to a cookie (CSRF) and is stored with the rating it made, so it is submitted once (the
database, not Redis, says so); submissions are limited per client address and per phone in
Redis (while Redis is down the limits are not counted, the page keeps working); only the
configured origins may frame it. Every bad input is answered with a 4xx page saying why, in
Chinese.

What a submission rates (PRODUCT §7): without a link, the service in general. A ticket is
rated only through the signed, expiring link its customer received with the result (`?t=`,
`bot.links`), a business record only through its own link (`?b=`): nobody can rate — or
lock out the rating of — someone else's ticket or order.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from bot import links
from bot.client import client_address
from bot.db import transaction
from bot.links import BUSINESS_SALT as LINK_SALT
from bot.links import TICKET_SALT, business_link
from bot.runtime import Runtime
from jobs.queue import enqueue_written
from models.core.labels import STAR_LABELS
from models.core.phones import normalize_phone
from models.rating import service as ratings
from models.rating.tables import BusinessRecord, Rating
from models.ticket.tables import Ticket

__all__ = ["LINK_SALT", "TICKET_SALT", "blueprint", "business_link", "read_business_token"]
log = logging.getLogger(__name__)
blueprint = Blueprint("rate", __name__)
FORM_SALT, THANKS_SALT = "bihuan-rate-form", "bihuan-rate-thanks"
CSRF_COOKIE = "bihuan_rate_csrf"
MAX_BODY_BYTES = 32 * 1024
THANKS_MAX_AGE = 24 * 3600
LIMIT_KEY = "bihuan:rate-limit:{kind}:{who}:{bucket}"


class PageError(Exception):
    """A 4xx answer with a Chinese title and reason."""

    def __init__(self, status: int, title: str, reason: str, retry_after: int = 0) -> None:
        super().__init__(reason)
        self.status, self.title, self.reason, self.retry_after = status, title, reason, retry_after


@dataclass
class FormValues:
    stars: int | None = None
    comment: str = ""
    phone: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Link:
    """The signed link a form came with: ?b= (a business record) or ?t= (a ticket)."""

    kind: str  # "" | "b" | "t"
    token: str = ""

    @classmethod
    def of(cls, values) -> Link:
        for kind in ("t", "b"):
            token = values.get(kind, "").strip()
            if token:
                return cls(kind, token)
        return cls("")


# --- signed links ---------------------------------------------------------------------------


def read_business_token(token: str, secret: str, max_age_seconds: int) -> int:
    """The business record id in a link token; PageError 400 (expired) or 403 (forged)."""
    return _read_link(lambda: links.read_business_token(token, secret, max_age_seconds))


def _read_link(read):
    try:
        return read()
    except links.LinkExpired as exc:
        raise PageError(
            400,
            "评价链接已过期",
            "该评价链接已超过有效期，请联系客服热线或在「服务评价」页面直接评价。",
        ) from exc
    except links.LinkInvalid as exc:
        raise PageError(
            403, "评价链接无效", "该评价链接无效或已被修改，请使用短信或微信中收到的完整链接。"
        ) from exc


# --- views ----------------------------------------------------------------------------------


@blueprint.get("/rate")
def form() -> Response:
    runtime = _runtime()
    link = Link.of(request.args)
    with transaction(runtime.sessions) as session:
        target = _linked_target(session, runtime, link)
        if target is not None and runtime.settings.rating.once_per_ticket:
            _refuse_if_rated(session, target)
        label = target.label if target is not None else ""
    return _form_page(runtime, FormValues(), label, link, 200)


@blueprint.post("/rate")
def submit() -> Response:
    runtime = _runtime()
    config = runtime.settings.rating
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise PageError(413, "提交内容过长", "提交的内容过长，请精简留言后重试。")
    _limit(runtime, "addr", _client_address(), config.limit_per_address)
    nonce = _check_form_token(runtime)
    link = Link.of(request.form)
    with transaction(runtime.sessions) as session:
        linked = _linked_target(session, runtime, link)
        values = _read_form(runtime)
        if values.errors:
            label = linked.label if linked is not None else ""
            return _form_page(runtime, values, label, link, 400)
        target = linked or ratings.general_target(values.phone)
        _limit_phones(runtime, {values.phone, target.phone})
        _refuse_used_form(session, nonce)
        rating = _rate(session, runtime, target, values, nonce)
        rating_id = rating.id
    enqueue_written(runtime, session)
    thanks = URLSafeTimedSerializer(current_app.secret_key, salt=THANKS_SALT).dumps(rating_id)
    return redirect(url_for("rate.thanks", r=thanks), 303)


@blueprint.get("/rate/thanks")
def thanks() -> Response:
    runtime = _runtime()
    try:
        rating_id = URLSafeTimedSerializer(current_app.secret_key, salt=THANKS_SALT).loads(
            request.args.get("r", ""), max_age=THANKS_MAX_AGE
        )
    except BadSignature as exc:
        raise PageError(400, "页面已失效", "该页面已失效。感谢您的评价！") from exc
    zone = ZoneInfo(runtime.settings.app.timezone)
    with transaction(runtime.sessions) as session:
        rating = session.get(Rating, rating_id)
        if rating is None:
            raise PageError(404, "未找到评价", "没有找到这条评价。")
        context = {
            "stars": rating.stars,
            "star_label": STAR_LABELS[rating.stars],
            "label": ratings.target_of(session, rating, zone).label,
            "call_back": rating.stars <= runtime.settings.rating.callback_at_or_below,
            "has_phone": bool(rating.phone),
        }
    return _page("rate_thanks.html", runtime, 200, **context)


@blueprint.errorhandler(PageError)
def _page_error(error: PageError) -> Response:
    response = _page(
        "rate_error.html", _runtime(), error.status, title=error.title, reason=error.reason
    )
    if error.retry_after:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


@blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    if error.code == 413:
        return _page_error(PageError(413, "提交内容过长", "提交的内容过长，请精简留言后重试。"))
    return _page_error(PageError(error.code or 400, "请求无效", "请求无效，请返回评价页面重试。"))


@blueprint.after_request
def _headers(response: Response) -> Response:
    origins = " ".join(["'self'", *_runtime().settings.rating.frame_origins])
    response.headers["Content-Security-Policy"] = f"frame-ancestors {origins}"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the link token stays here
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.pop("X-Frame-Options", None)
    return response


# --- the form -------------------------------------------------------------------------------


def _read_form(runtime: Runtime) -> FormValues:
    data, max_chars = request.form, runtime.settings.rating.comment_max_chars
    values = FormValues(
        comment=data.get("comment", "").strip(), phone=data.get("phone", "").strip()
    )
    stars = data.get("stars", "")
    if stars in {"1", "2", "3", "4", "5"}:
        values.stars = int(stars)
    else:
        values.errors.append("请选择1到5颗星。")
    if len(values.comment) > max_chars:
        values.errors.append(f"留言请在{max_chars}字以内（现有{len(values.comment)}字）。")
    if values.phone:
        normalized = normalize_phone(values.phone)
        if normalized is None:
            values.errors.append("联系电话格式不正确，请填写手机号或带区号的固定电话。")
        values.phone = normalized or values.phone
    return values


def _linked_target(session, runtime: Runtime, link: Link) -> ratings.Target | None:
    """What a signed link rates (None without a link); PageError for a bad link."""
    if link.kind == "b":
        record = _business_record(session, runtime, link.token)
        return ratings.business_target(record, ZoneInfo(runtime.settings.app.timezone))
    if link.kind == "t":
        return ratings.ticket_target(_linked_ticket(session, runtime, link.token))
    return None


def _linked_ticket(session, runtime: Runtime, token: str) -> Ticket:
    max_age = runtime.settings.rating.link_max_age_days * 86400
    ticket_id, customer_id = _read_link(
        lambda: links.read_ticket_token(token, current_app.secret_key, max_age)
    )
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.customer_id != customer_id:
        raise PageError(404, "投诉不存在", "没有找到该评价链接对应的投诉，请联系客服热线。")
    if ticket.status not in ratings.RATABLE_STATUSES:
        raise PageError(
            409,
            "投诉尚在处理",
            f"投诉 {ticket.number} 正在重新处理，办结后您会再次收到评价链接，感谢您的耐心。",
        )
    return ticket


def _refuse_used_form(session, nonce: str) -> None:
    if session.scalar(select(Rating.id).where(Rating.form_nonce == nonce)) is not None:
        raise _used_form()


def _used_form() -> PageError:
    return PageError(409, "请勿重复提交", "这份评价已经提交过了，感谢您的支持！")


def _rate(session, runtime: Runtime, target: ratings.Target, values: FormValues, nonce: str):
    customer_id = target.ticket.customer_id if target.ticket is not None else None
    try:
        return ratings.rate(
            session,
            target,
            values.stars,
            datetime.now(UTC),
            runtime.policy.rating,
            ZoneInfo(runtime.policy.timezone),
            channel="web",
            customer_id=customer_id,
            phone=values.phone,
            comment=values.comment,
            form_nonce=nonce,
        )
    except ratings.AlreadyRated as exc:
        raise _already(target, exc.rating.stars) from exc
    except IntegrityError as exc:  # the same form, submitted twice at once
        raise _used_form() from exc


def _refuse_if_rated(session, target: ratings.Target) -> None:
    previous = ratings.latest_rating(session, target)
    if previous is not None:
        raise _already(target, previous.stars)


def _already(target: ratings.Target, stars: int) -> PageError:
    what = "该投诉" if target.kind == "ticket" else "该业务"
    return PageError(
        409,
        "已经评价过",
        f"{what}已评价过（{stars}星 {STAR_LABELS[stars]}），每项服务只能评价一次，感谢您的支持！",
    )


def _business_record(session, runtime: Runtime, token: str) -> BusinessRecord:
    max_age = runtime.settings.rating.link_max_age_days * 86400
    record = session.get(
        BusinessRecord, read_business_token(token, current_app.secret_key, max_age)
    )
    if record is None:
        raise PageError(404, "业务不存在", "没有找到该评价链接对应的业务，请联系客服热线。")
    return record


def _form_page(
    runtime: Runtime, values: FormValues, label: str, link: Link, status: int
) -> Response:
    nonce = secrets.token_urlsafe(18)
    csrf = URLSafeTimedSerializer(current_app.secret_key, salt=FORM_SALT).dumps(nonce)
    response = _page(
        "rate.html",
        runtime,
        status,
        values=values,
        link_label=label,
        link=link,
        csrf_token=csrf,
        labels=STAR_LABELS,
        max_chars=runtime.settings.rating.comment_max_chars,
    )
    secure = request.is_secure
    response.set_cookie(
        CSRF_COOKIE,
        nonce,
        max_age=_form_max_age(runtime),
        httponly=True,
        secure=secure,
        samesite="None" if secure else "Lax",
        path="/rate",
        partitioned=secure,
    )
    return response


def _page(template: str, runtime: Runtime, status: int, **context) -> Response:
    settings = runtime.settings
    html = render_template(
        template, company=settings.app.company_name, hotline=settings.hotline.lines, **context
    )
    return Response(html, status=status, mimetype="text/html")


# --- CSRF, single use and rate limits -------------------------------------------------------


def _check_form_token(runtime: Runtime) -> str:
    try:
        nonce = URLSafeTimedSerializer(current_app.secret_key, salt=FORM_SALT).loads(
            request.form.get("csrf_token", ""), max_age=_form_max_age(runtime)
        )
    except SignatureExpired as exc:
        raise PageError(400, "页面已过期", "页面停留时间过长，请刷新页面后重新评价。") from exc
    except BadSignature as exc:
        raise PageError(400, "提交无效", "表单校验失败，请刷新页面后重新评价。") from exc
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not isinstance(nonce, str) or not hmac.compare_digest(cookie.encode(), nonce.encode()):
        raise PageError(
            400, "提交无效", "表单校验失败（浏览器可能禁用了 Cookie），请刷新页面后重新评价。"
        )
    return nonce


def _limit_phones(runtime: Runtime, phones: set[str]) -> None:
    for phone in sorted(p for p in phones if p):
        _limit(runtime, "phone", phone, runtime.settings.rating.limit_per_phone)


def _limit(runtime: Runtime, kind: str, who: str, limit: int) -> None:
    """Count one attempt in the current window; PageError 429 past the limit."""
    window = runtime.settings.rating.limit_window_minutes * 60
    now = int(time.time())
    digest = hashlib.sha256(who.encode()).hexdigest()[:24]
    key = LIMIT_KEY.format(kind=kind, who=digest, bucket=now // window)
    try:
        pipe = runtime.redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, window)
        count = pipe.execute()[0]
    except RedisError as exc:  # ratings go on while Redis is down; only the count waits
        log.warning("rate limit not counted, Redis unavailable: %s", type(exc).__name__)
        return
    if count > limit:
        wait = window - now % window
        what = "该电话号码" if kind == "phone" else "您"
        raise PageError(
            429,
            "提交过于频繁",
            f"{what}提交评价过于频繁，请在{-(-wait // 60)}分钟后再试。如有急事，请拨打客服热线。",
            retry_after=wait,
        )


def _client_address() -> str:
    return client_address(request, _runtime().settings.rating.proxy_hops)


def _form_max_age(runtime: Runtime) -> int:
    return runtime.settings.rating.form_max_age_minutes * 60


def _runtime() -> Runtime:
    return current_app.extensions["bihuan"]
