"""Work that ratings create can be done in chat (issue 9, point 9): low-star call-back tasks in
the designated staff member's 待办 with a number to type, 回访 PJ… records the outcome; leaders
get the ≤2★ alerts and each resolution (or a daily digest)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from jobs.sweeps import send_digest
from models.rating.tables import RatingCallback
from tests.factories import (
    CUSTOMER,
    HANDLER,
    OFFICER,
    file_ticket,
    notifications_of,
    resolve,
    run_worker,
    seed_bound_staff,
    ticket_of,
)

ZONE = ZoneInfo("Asia/Shanghai")


def rated(runtime, wechat, stars: int) -> str:
    """A resolved ticket, archived by its customer, then rated from the menu."""
    seed_bound_staff(runtime)
    number = file_ticket(wechat)
    resolve(runtime, number)
    wechat.text(CUSTOMER, "满意")
    wechat.click(CUSTOMER, f"RATE_{stars}")
    wechat.text(CUSTOMER, "师傅来得太晚了")
    return number


def test_a_low_rating_is_a_task_in_the_designated_todo_recorded_with_huifang(runtime, wechat):
    number = rated(runtime, wechat, 2)
    with runtime.sessions() as session:
        task = session.scalars(select(RatingCallback)).one()
    todo = wechat.text(OFFICER, "待办")  # 周敏 is rating.callback_staff
    assert "评价回访任务共 1 件" in todo and f"PJ{task.rating_id}｜2星" in todo
    assert "138****8000" in todo and "师傅来得太晚了" in todo
    assert "回访 PJ编号 满意/不满意" in todo

    refused = wechat.text(HANDLER, f"回访 PJ{task.rating_id} 满意")
    assert "不是派给您的" in refused
    reply = wechat.text(OFFICER, f"回访 pj{task.rating_id} 不满意 客户希望上门道歉")
    assert f"已记录评价回访 PJ{task.rating_id}（2星）：客户不满意" in reply
    with runtime.sessions() as session:
        task = session.scalars(select(RatingCallback)).one()
        assert (task.status, task.outcome) == ("done", "unsatisfied")
        assert "客户希望上门道歉" in task.note
    assert "评价电话回访" in ticket_of(runtime, number).events[-1].text
    assert "已记录过结果" in wechat.text(OFFICER, f"回访 PJ{task.rating_id} 满意")
    assert "评价回访任务" not in wechat.text(OFFICER, "待办")
    assert "未找到评价回访任务" in wechat.text(OFFICER, "回访 PJ999 满意")


def test_leaders_get_the_two_star_alerts(runtime, wechat):
    rated(runtime, wechat, 1)
    ((_, who, payload),) = notifications_of(runtime, "rating_warning")
    assert who == "钱立" and payload["note"] == "王芳 1星（很不满意）"


def test_three_stars_make_a_task_but_no_leader_alert(runtime, wechat):
    rated(runtime, wechat, 3)
    assert notifications_of(runtime, "rating_warning") == []
    assert "评价回访任务共 1 件" in wechat.text(OFFICER, "待办")


def test_leaders_hear_of_each_resolution(runtime, wechat):
    seed_bound_staff(runtime)
    number = file_ticket(wechat)
    resolve(runtime, number, "已更换燃气表")
    ((_, who, payload),) = notifications_of(runtime, "resolution")
    assert (who, payload["number"], payload["result"]) == ("钱立", number, "已更换燃气表")


def test_or_as_a_daily_digest_once_a_day(runtime, wechat):
    from bot.runtime import build_runtime

    daily = build_runtime(
        runtime.settings.override(workflow={"leader_reports": "daily"}), redis=runtime.redis
    )
    seed_bound_staff(daily)
    evening = datetime(2026, 11, 30, 18, 5, tzinfo=ZONE)
    numbers = []
    for index in range(2):
        number = file_ticket(wechat, f"o_digest_{index}")
        resolve(daily, number, now=evening.replace(hour=10 + index))
        numbers.append(number)
    assert notifications_of(daily, "resolution") == []  # not one push per ticket
    assert send_digest(daily, evening.replace(hour=17)) == 0  # before leader_digest_time
    assert send_digest(daily, evening) == 1
    assert send_digest(daily, evening.replace(minute=30)) == 0  # once a day
    ((_, who, payload),) = notifications_of(daily, "resolution_digest")
    assert who == "钱立" and payload["count"] == 2 and numbers[0] in payload["note"]
    daily.close()


def test_the_task_push_shows_the_number_to_type(live, live_wechat, fake_wechat):
    rated(live, live_wechat, 2)
    run_worker(live)
    with live.sessions() as session:
        task = session.scalars(select(RatingCallback)).one()
    pushes = [m["body"]["data"] for m in fake_wechat.messages(OFFICER)]
    task_push = next(p for p in pushes if p["thing2"]["value"] == "低星评价请电话回访")
    assert task_push["character_string1"]["value"] == f"PJ{task.rating_id}"
