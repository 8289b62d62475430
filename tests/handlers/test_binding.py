"""Staff binding their WeChat (绑定 / 解绑), end to end through the webhook."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.db import transaction
from bot.stores import BindingFailures
from handlers import customer_texts
from models.chat_state import ChatState
from models.people.staff import issue_code, staff_by_name
from models.people.tables import Staff

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def issue(runtime, name: str, now: datetime | None = None) -> str:
    with transaction(runtime.sessions) as session:
        member = staff_by_name(session, name)
        return issue_code(session, member, now or datetime.now(UTC)).code


def openid_of(runtime, name: str) -> str | None:
    with runtime.sessions() as session:
        return session.scalar(select(Staff.openid).where(Staff.name == name))


def failures_row(runtime, openid: str) -> ChatState | None:
    """The database row counting an openid's wrong codes (survives a Redis restart)."""
    with runtime.sessions() as session:
        return session.get(ChatState, (openid, BindingFailures.KIND))


def other_codes(code: str, count: int) -> list[str]:
    return [f"{(int(code) + k) % 1_000_000:06d}" for k in range(1, count + 1)]


def test_binding_replies_with_name_department_role_and_help(wechat, runtime, demo):
    code = issue(runtime, "王芳")
    reply = wechat.text("o_wang", f"绑定 {code}")
    assert "绑定成功" in reply and "王芳" in reply and "运行维护部" in reply
    assert "承办人" in reply and "帮助" in reply
    assert openid_of(runtime, "王芳") == "o_wang"


def test_role_names_are_chinese(wechat, runtime, demo):
    assert "部门负责人" in wechat.text("o_li", f"绑定 {issue(runtime, '李强')}")
    assert "投诉负责人" in wechat.text("o_zhou", f"绑定 {issue(runtime, '周敏')}")
    assert "总经理/董事长" in wechat.text("o_sun", f"绑定 {issue(runtime, '孙总')}")


def test_full_width_space_and_digits_are_understood(wechat, runtime, demo):
    code = issue(runtime, "王芳")
    reply = wechat.text("o_wang", f"绑定\u3000{code.translate(FULL_WIDTH)}")
    assert "绑定成功" in reply and openid_of(runtime, "王芳") == "o_wang"


def test_bind_without_a_proper_code_gets_the_usage(wechat, runtime, demo):
    for text in ("绑定", "绑定 12345", "绑定 abcdef"):
        reply = wechat.text("o_someone", text)
        assert "绑定 六位绑定码" in reply, text
    assert failures_row(runtime, "o_someone") is None


def test_a_used_code_is_refused(wechat, runtime, demo):
    code = issue(runtime, "王芳")
    wechat.text("o_wang", f"绑定 {code}")
    reply = wechat.text("o_thief", f"绑定 {code}")
    assert "已使用" in reply and "绑定成功" not in reply
    assert openid_of(runtime, "王芳") == "o_wang"


def test_an_expired_code_is_refused(wechat, runtime, demo):
    code = issue(runtime, "王芳", now=datetime.now(UTC) - timedelta(minutes=11))
    reply = wechat.text("o_wang", f"绑定 {code}")
    assert "已过期" in reply and openid_of(runtime, "王芳") is None


def test_five_wrong_codes_lock_the_openid_for_an_hour(wechat, runtime, demo):
    code = issue(runtime, "王芳")
    replies = [wechat.text("o_guesser", f"绑定 {wrong}") for wrong in other_codes(code, 5)]
    assert "还可尝试4次" in replies[0] and "还可尝试1次" in replies[3]
    assert "暂停绑定" in replies[4]
    locked = wechat.text("o_guesser", f"绑定 {code}")
    assert "暂停绑定" in locked and openid_of(runtime, "王芳") is None
    row = failures_row(runtime, "o_guesser")
    assert 3590 <= (row.expires_at - datetime.now(UTC)).total_seconds() <= 3600
    zone = ZoneInfo(runtime.settings.app.timezone)
    expected = {
        (datetime.now(UTC) + timedelta(seconds=s)).astimezone(zone).strftime("%H:%M")
        for s in (3540, 3600)
    }
    assert re.search(r"\d{2}:\d{2}", locked).group() in expected
    with transaction(runtime.sessions) as session:  # as when the lock expires
        session.get(ChatState, ("o_guesser", BindingFailures.KIND)).expires_at = datetime.now(UTC)
    assert "绑定成功" in wechat.text("o_guesser", f"绑定 {code}")


def test_the_lock_is_per_openid(wechat, runtime, demo):
    code = issue(runtime, "王芳")
    for wrong in other_codes(code, 5):
        wechat.text("o_guesser", f"绑定 {wrong}")
    assert "绑定成功" in wechat.text("o_wang", f"绑定 {code}")


def test_a_success_clears_earlier_failures(wechat, runtime, demo):
    code = issue(runtime, "王芳")
    for wrong in other_codes(code, 3):
        wechat.text("o_wang", f"绑定 {wrong}")
    wechat.text("o_wang", f"绑定 {code}")
    assert failures_row(runtime, "o_wang") is None


def test_an_openid_binds_one_staff_member_only(wechat, runtime, demo):
    wechat.text("o_shared", f"绑定 {issue(runtime, '王芳')}")
    chen_code = issue(runtime, "陈静")
    reply = wechat.text("o_shared", f"绑定 {chen_code}")
    assert "王芳" in reply and "解绑" in reply and "绑定成功" not in reply
    assert openid_of(runtime, "陈静") is None and openid_of(runtime, "王芳") == "o_shared"
    assert "绑定成功" in wechat.text("o_chen", f"绑定 {chen_code}")  # the code still works


def test_rebinding_moves_the_staff_member_to_the_new_phone(wechat, runtime, demo):
    wechat.text("o_old", f"绑定 {issue(runtime, '王芳')}")
    assert "绑定成功" in wechat.text("o_new", f"绑定 {issue(runtime, '王芳')}")
    assert openid_of(runtime, "王芳") == "o_new"
    assert wechat.text("o_old", "解绑") == customer_texts.GUIDE  # a customer again


def test_unbind_makes_the_staff_member_a_customer_again(wechat, runtime, demo):
    wechat.text("o_wang", f"绑定 {issue(runtime, '王芳')}")
    reply = wechat.text("o_wang", "解绑")
    assert "已解除" in reply and "王芳" in reply
    assert openid_of(runtime, "王芳") is None
    assert wechat.text("o_wang", "解绑") == customer_texts.GUIDE


def test_a_customer_typing_unbind_gets_the_usual_answer(wechat, runtime, demo):
    assert wechat.text("o_customer", "解绑") == wechat.text("o_customer", "随便说说")
    assert wechat.text("o_customer", "解绑") == customer_texts.GUIDE


def test_a_code_from_the_cli_binds(wechat, runtime, demo):
    from tests.factories import invoke

    result = invoke(runtime, "staff", "code", "王芳")
    code = re.search(r"绑定 (\d{6})", result.output).group(1)
    assert "绑定成功" in wechat.text("o_wang", f"绑定 {code}")
