"""Scanning the back office's binding QR code binds like typing `绑定 <code>`."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.binding_qr import binding_qr
from bot.db import transaction
from models.people.staff import issue_code, staff_by_name
from models.people.tables import Staff
from tests.factories import audit_actions


def issue(runtime, name: str) -> str:
    with transaction(runtime.sessions) as session:
        return issue_code(session, staff_by_name(session, name), datetime.now(UTC)).code


def openid_of(runtime, name: str) -> str | None:
    with runtime.sessions() as session:
        return session.scalar(select(Staff.openid).where(Staff.name == name))


def test_the_qr_code_is_a_wechat_scene_code_that_binds_when_scanned(
    live, live_wechat, fake_wechat, demo
):
    code = issue(live, "王芳")
    qr = binding_qr(live, code)
    assert qr.scan_binds and qr.svg.startswith("<svg")
    (made,) = [m for m in fake_wechat.messages() if m["kind"] == "qrcode"]
    assert made["body"]["action_info"]["scene"]["scene_str"] == f"bind_{code}"
    assert made["body"]["expire_seconds"] == 600
    reply = live_wechat.event("o_wang_phone", "SCAN", EventKey=f"bind_{code}", Ticket="t")
    assert "绑定成功" in reply and "王芳" in reply
    assert openid_of(live, "王芳") == "o_wang_phone"
    assert ("bind", "王芳", "wechat") in audit_actions(live)


def test_a_new_follower_scanning_the_code_is_bound_on_subscribe(wechat, runtime, demo):
    code = issue(runtime, "陈静")
    reply = wechat.event("o_chen", "subscribe", EventKey=f"qrscene_bind_{code}", Ticket="t")
    assert "绑定成功" in reply and openid_of(runtime, "陈静") == "o_chen"


def test_a_used_code_scanned_again_is_refused(wechat, runtime, demo):
    code = issue(runtime, "陈静")
    wechat.event("o_chen", "SCAN", EventKey=f"bind_{code}")
    assert "已使用过" in wechat.event("o_other", "SCAN", EventKey=f"bind_{code}")


def test_other_scene_codes_and_plain_subscribes_are_not_bindings(wechat, runtime, demo):
    assert "欢迎" in wechat.event("o_new", "subscribe")
    assert "绑定" not in wechat.event("o_new2", "subscribe", EventKey="qrscene_poster_7")


def test_without_wechat_the_qr_code_holds_the_text_to_send(runtime, demo):
    code = issue(runtime, "王芳")
    broken = runtime.settings.override(
        wechat={
            "api_base_url": "http://127.0.0.1:9",
            "app_id": "wx",
            "app_secret": "s",
            "api_timeout_seconds": 0.5,
        }
    )
    from bot.runtime import build_runtime

    offline = build_runtime(broken, redis=runtime.redis)
    try:
        qr = binding_qr(offline, code)
    finally:
        offline.close()
    assert not qr.scan_binds and qr.svg.startswith("<svg")
