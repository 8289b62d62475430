"""A call-back answer lands on the ticket it answers (issue 9, point 1), through the webhook,
with several customers: nobody's answer is ever applied silently to another ticket."""

from __future__ import annotations

import pytest

from tests.factories import file_ticket, move, resolve, seed_bound_staff, ticket_of

ANNA, BO = "o_anna", "o_bo"


@pytest.fixture
def two_awaiting(runtime, wechat):
    """Anna has two tickets awaiting her call-back; Bo has one."""
    seed_bound_staff(runtime)
    first, second = file_ticket(wechat, ANNA), file_ticket(wechat, ANNA)
    bos = file_ticket(wechat, BO)
    resolve(runtime, first, "已更换表前阀门")
    resolve(runtime, second, "已疏通灶具进气口")
    resolve(runtime, bos, "已调整燃气表")
    return first, second, bos


def status(runtime, number: str) -> str:
    return ticket_of(runtime, number).status


def test_a_bare_answer_with_two_tickets_asks_which_and_the_pick_lands_there(
    runtime, wechat, two_awaiting
):
    first, second, bos = two_awaiting
    question = wechat.text(ANNA, "2")
    assert "2 件投诉" in question and "「不满意」是对哪一件" in question
    assert f"1. {first}" in question and f"2. {second}" in question
    assert "已疏通灶具进气口" in question  # each line says what was done
    assert {status(runtime, n) for n in (first, second)} == {"resolved"}  # nothing applied yet

    sorry = wechat.text(ANNA, "2")  # the second one
    assert second in sorry and "重新交办" in sorry
    assert (status(runtime, first), status(runtime, second)) == ("resolved", "assigned")

    thanks = wechat.text(ANNA, "满意")  # one left: it answers that one directly
    assert first in thanks and status(runtime, first) == "archived"
    assert status(runtime, bos) == "resolved"  # Bo's ticket is untouched


def test_answered_the_other_way_round(runtime, wechat, two_awaiting):
    first, second, bos = two_awaiting
    assert "哪一件" in wechat.text(ANNA, "很满意")
    assert first in wechat.text(ANNA, "1")  # 序号 1 = the first ticket
    assert (status(runtime, first), status(runtime, second)) == ("archived", "resolved")
    reply = wechat.text(ANNA, "不满意")
    assert second in reply and status(runtime, second) == "assigned"
    assert bos in wechat.text(BO, "1") and status(runtime, bos) == "archived"


def test_a_number_answers_that_ticket_directly(runtime, wechat, two_awaiting):
    first, second, _ = two_awaiting
    assert second in wechat.text(ANNA, f"1 {second.lower()}")
    assert (status(runtime, first), status(runtime, second)) == ("resolved", "archived")
    again = wechat.text(ANNA, f"2 {second}")
    assert "不在等待回访" in again and status(runtime, second) == "archived"
    assert first in wechat.text(ANNA, f"2 {first}") and status(runtime, first) == "assigned"


def test_someone_elses_number_is_not_found(runtime, wechat, two_awaiting):
    _, _, bos = two_awaiting
    reply = wechat.text(ANNA, f"1 {bos}")
    assert f"没有找到单号为 {bos} 的投诉" in reply and status(runtime, bos) == "resolved"


def test_a_choice_lapses_when_something_else_is_said(runtime, wechat, two_awaiting):
    first, second, _ = two_awaiting
    assert "哪一件" in wechat.text(ANNA, "2")
    assert "电话" in wechat.text(ANNA, "电话")  # the hotline, as usual
    assert "哪一件" in wechat.text(ANNA, "1")  # a fresh bare answer: asked again
    assert {status(runtime, n) for n in (first, second)} == {"resolved"}


@pytest.mark.parametrize(
    ("words", "expected", "reason"),
    [
        ("很满意，谢谢师傅", "archived", None),
        ("满意了", "archived", None),
        ("不太满意", "assigned", None),
        ("不满意，阀门还是有气味", "assigned", "阀门还是有气味"),
        ("还是没解决", "assigned", "还是没解决"),
    ],
)
def test_words_that_mean_satisfied_or_not_are_understood(runtime, wechat, words, expected, reason):
    seed_bound_staff(runtime)
    number = file_ticket(wechat, ANNA)
    resolve(runtime, number)
    reply = wechat.text(ANNA, words)
    assert number in reply and "请点击下方菜单" not in reply  # not the menu
    ticket = ticket_of(runtime, number)
    assert ticket.status == expected
    if reason is not None:  # the reason came with the answer: not asked again
        assert reason in ticket.events[-1].text and "请直接回复" not in reply


def test_the_reason_after_a_bare_unsatisfied_goes_to_that_ticket(runtime, wechat):
    seed_bound_staff(runtime)
    number = file_ticket(wechat, ANNA)
    resolve(runtime, number)
    assert "请直接回复您不满意的原因" in wechat.text(ANNA, "2")
    assert "已收到" in wechat.text(ANNA, "气味还在")
    assert [e.kind for e in ticket_of(runtime, number).events][-2:] == [
        "reopened",
        "customer_reason",
    ]


def test_after_a_reopen_the_query_shows_the_current_state_not_the_old_result(runtime, wechat):
    seed_bound_staff(runtime)
    number = file_ticket(wechat, ANNA)
    resolve(runtime, number, "已更换表前阀门")
    awaiting = wechat.text(ANNA, f"查询 {number}")
    assert "处理结果：已更换表前阀门" in awaiting and f"1 {number}" in awaiting
    wechat.text(ANNA, "不满意，还是有味")
    detail = wechat.text(ANNA, f"查询 {number}")
    assert "状态：已派单" in detail and "第 1 轮重新处理" in detail
    assert "已更换表前阀门" not in detail
    move(runtime, number, "王芳", "ack")
    move(runtime, number, "王芳", "progress", text="明早上门复查")
    assert "最新进展" in wechat.text(ANNA, f"查询 {number}")
    assert "重新处理中" in wechat.text(ANNA, "查询")


def test_an_invalid_ticket_shows_its_reason_to_its_customer(runtime, wechat):
    seed_bound_staff(runtime)
    number = file_ticket(wechat, ANNA)
    move(runtime, number, "周敏", "invalid", text="属物业管理的公共管道，已转物业")
    detail = wechat.text(ANNA, f"查询 {number}")
    assert "状态：无效投诉" in detail and "无效原因：属物业管理的公共管道" in detail


def test_a_comment_after_a_star_tap_is_not_taken_for_a_call_back_answer(runtime, wechat):
    seed_bound_staff(runtime)
    number = file_ticket(wechat, ANNA)
    resolve(runtime, number)
    assert number in wechat.click(ANNA, "RATE_2")  # stars for the resolved ticket
    assert "留言" in wechat.text(ANNA, "不满意，师傅来得太慢")  # a comment, not a call-back
    assert status(runtime, number) == "resolved"  # still awaiting its answer
    assert number in wechat.text(ANNA, "2")  # a bare answer answers it
    assert status(runtime, number) == "assigned"
