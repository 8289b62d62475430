"""`绑定 <code>` and `解绑` in WeChat: tie an openid to a staff account, or let it go.

Scanning the binding QR code shown in the back office does the same as typing `绑定 <code>`:
it is a parameter QR code whose scene is `bind_<code>`, so WeChat sends a SCAN event (or a
subscribe event with `qrscene_bind_<code>` for someone not yet following).

Wrong codes are counted per openid (`bot.stores.BindingFailures`): after five within an hour
the openid may not bind for an hour.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import timedelta

from handlers.context import Context
from handlers.incoming import IncomingMessage
from models.core.labels import ROLE_LABELS
from models.core.payload import Payload
from models.notification import outbox as notifications
from models.people import customers
from models.people import staff as staff_accounts
from models.people.staff import BindingRefused
from models.people.tables import Staff

log = logging.getLogger(__name__)

BIND_COMMAND = re.compile(r"^绑定(?:[\s:]+(\S+)|(\d+))?$")
UNBIND_WORDS = {"解绑", "解除绑定"}
SCENE_PREFIX = "bind_"
SCAN_EVENTS = {"scan", "subscribe"}

USAGE = (
    "绑定员工账号请发送：绑定 六位绑定码（例如：绑定 123456）。\n"
    "绑定码请向综合管理部索取，10分钟内有效。"
)
WRONG = "绑定码不正确，请核对后重新发送（还可尝试{left}次）。"
LOCKED = "绑定码错误次数过多，此微信暂停绑定。请于 {at}（约{minutes}分钟后）再试。"
REFUSED = {
    "used": "该绑定码已使用过，请向综合管理部重新索取。",
    "expired": "该绑定码已过期或已作废，请向综合管理部重新索取。",
    "inactive": "该员工账号已停用，无法绑定，请联系综合管理部。",
    "openid_taken": "此微信已绑定员工账号「{name}」，一个微信只能绑定一个员工账号。"
    "如需改绑，请先发送「解绑」。",
}
BOUND = "绑定成功！\n姓名：{name}\n部门：{department}\n角色：{role}\n发送「帮助」查看可用的命令。"
UNBOUND = (
    "已解除「{name}」的员工账号绑定，此微信今后按普通客户处理。\n"
    "如需重新绑定，请向综合管理部索取新的绑定码。"
)


def scene_code(message: IncomingMessage) -> str | None:
    """The binding code of a scanned binding QR code, or None for any other message."""
    if message.kind != "event" or message.event not in SCAN_EVENTS:
        return None
    scene = message.event_key.removeprefix("qrscene_")
    return scene.removeprefix(SCENE_PREFIX) if scene.startswith(SCENE_PREFIX) else None


def try_binding(ctx: Context, message: IncomingMessage, staff: Staff | None = None) -> str | None:
    """The reply to 绑定/解绑 or a scanned binding QR code, or None when the message is none of
    them (or 解绑 from a customer)."""
    code = scene_code(message)
    if code is not None:
        valid = code.isdigit() and len(code) == staff_accounts.CODE_DIGITS
        return _bind(ctx, message.openid, code) if valid else USAGE
    if message.kind != "text":
        return None
    text = _normalize(message.text)
    if text in UNBIND_WORDS:
        return _unbind(ctx, staff) if staff is not None else None
    match = BIND_COMMAND.match(text)
    if match is None:
        return None
    code = match.group(1) or match.group(2)
    if code is None or not (code.isdigit() and len(code) == staff_accounts.CODE_DIGITS):
        return USAGE
    return _bind(ctx, message.openid, code)


def _normalize(text: str) -> str:
    """Full-width digits, spaces and colons become ASCII; trailing punctuation goes."""
    return unicodedata.normalize("NFKC", text).strip().rstrip("。.!！")


def _bind(ctx: Context, openid: str, code: str) -> str:
    failures = ctx.stores.binding_failures
    locked_for = failures.locked_for(openid)
    if locked_for:
        return _locked(ctx, locked_for)
    try:
        staff, previous = staff_accounts.bind_moving(ctx.session, code, openid, ctx.now)
    except BindingRefused as refused:
        if refused.reason == "unknown":
            return _wrong_code(ctx, openid)
        name = refused.holder.name if refused.holder is not None else ""
        return REFUSED[refused.reason].format(name=name)
    log.info("staff %s (#%s) bound to openid %s", staff.name, staff.id, openid)
    if previous:
        _tell_moved_away(ctx, staff, previous)
    failures.clear(openid)
    ctx.conversations.clear(openid)
    department = staff.department.name if staff.department is not None else "—"
    return BOUND.format(
        name=staff.name, department=department, role=ROLE_LABELS.get(staff.role, staff.role)
    )


def _tell_moved_away(ctx: Context, staff: Staff, previous: str) -> None:
    """The WeChat the account moved away from hears of it: if it was not its owner's doing,
    they can report it at once."""
    former = customers.get_or_create_customer(ctx.session, previous, ctx.now)
    payload = Payload(number="BINDING", by=staff.name)
    notifications.notify_customer_id(ctx.session, former.id, "moved_away", payload, ctx.now)


def _wrong_code(ctx: Context, openid: str) -> str:
    """Counted in the push's own transaction (kept with it, replayed with it)."""
    store = ctx.stores.binding_failures
    failures = store.fail(openid)
    if failures >= store.MAX_FAILURES:
        return _locked(ctx, store.LOCK_SECONDS)
    return WRONG.format(left=store.MAX_FAILURES - failures)


def _locked(ctx: Context, seconds: int) -> str:
    until = (ctx.now + timedelta(seconds=seconds)).astimezone(ctx.zone)
    minutes = max(1, -(-seconds // 60))
    return LOCKED.format(at=f"{until:%H:%M}", minutes=minutes)


def _unbind(ctx: Context, staff: Staff) -> str:
    staff_accounts.unbind(ctx.session, staff, ctx.now)
    log.info("staff %s (#%s) unbound", staff.name, staff.id)
    return UNBOUND.format(name=staff.name)
