"""Nobody waits unseen (issue 9, point 7): an assignment to someone without WeChat says so, a
push that can never reach a staff member reaches the officer, a re-bound account tells the
WeChat it left."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.db import transaction
from models.people.staff import issue_code, staff_by_name
from tests.factories import (
    HANDLER,
    OFFICER,
    file_ticket,
    notifications_of,
    run_worker,
    seed_bound_staff,
)

TEMPLATE = "/cgi-bin/message/template/send"


def test_assigning_someone_without_wechat_says_to_phone_them(live, live_wechat, fake_wechat):
    seed_bound_staff(live)  # 陈静 of 市场发展部 never bound her WeChat
    number = file_ticket(live_wechat)
    reply = live_wechat.text(OFFICER, f"派单 {number} 市场发展部 陈静")
    assert "已派单至 市场发展部（承办人 陈静）" in reply  # the ticket is assigned all the same
    assert "陈静尚未绑定微信" in reply and "请电话告知陈静" in reply
    run_worker(live)
    failed = [p for kind, who, p in notifications_of(live, "delivery_failed") if who == "周敏"]
    assert [(p["who"], p["about"]) for p in failed] == [("陈静", "assignment")]
    assert "陈静未收到派单通知" in str(fake_wechat.messages(OFFICER)[-1]["body"])


def test_a_department_without_a_head_is_named(live, live_wechat):
    seed_bound_staff(live)
    number = file_ticket(live_wechat)
    reply = live_wechat.text(OFFICER, f"派单 {number} 客户服务部")
    assert "客户服务部没有部门负责人" in reply


def test_a_push_refused_for_good_reaches_the_officer(live, live_wechat, fake_wechat):
    seed_bound_staff(live)
    number = file_ticket(live_wechat)
    run_worker(live)  # the new-ticket push to the officer
    fake_wechat.fail_next(TEMPLATE, 40003)  # the handler's openid refused: invalid openid
    live_wechat.text(OFFICER, f"派单 {number} 运行维护部 王芳")
    run_worker(live)
    ((_, who, payload),) = notifications_of(live, "delivery_failed")
    assert (who, payload["who"], payload["about"]) == ("周敏", "王芳", "assignment")
    assert "40003" in payload["reason"]
    assert "王芳未收到派单通知" in str(fake_wechat.messages(OFFICER)[-1]["body"])


def test_rebinding_tells_the_wechat_it_moved_away_from(live, live_wechat, fake_wechat):
    seed_bound_staff(live)  # 王芳 on HANDLER
    with transaction(live.sessions) as session:
        code = issue_code(session, staff_by_name(session, "王芳"), datetime.now(UTC)).code
    assert "绑定成功" in live_wechat.text("o_wang_new_phone", f"绑定 {code}")
    run_worker(live)
    (told,) = fake_wechat.messages(HANDLER)  # outside its chat window: a template message
    data = {value["value"] for value in told["body"]["data"].values()}
    assert {"员工账号已在别处绑定", "如非本人操作请联系综合管理部"} <= data
    assert fake_wechat.messages("o_wang_new_phone") == []


def test_help_lists_unbind(wechat, runtime):
    seed_bound_staff(runtime)
    reply = wechat.text(HANDLER, "帮助")
    assert "· 解绑\n  解除本微信与员工账号的绑定" in reply
