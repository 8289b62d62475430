"""Every push says what happened within WeChat's field limits, in words chosen to fit (issue 9,
point 6): a test per kind, including the longest realistic values."""

from __future__ import annotations

import re

import pytest

from models.core.payload import Payload
from models.core.push_texts import (
    CUSTOMER_HEADLINES,
    KIND_NAMES,
    STAFF_HEADLINES,
    Facts,
    customer_headline,
    customer_message,
    duration,
    headline,
)

PHRASE = re.compile(r"[\u4e00-\u9fff]{1,5}")
FACTS = Facts(deadline="12-08 17:30", department="运行维护部", general_department="综合管理部")
MONEY = {"money_kind": "赔款", "amount": "12500.00"}

# kind → (payload variants, the outcome words the headline must carry)
STAFF_CASES: dict[str, list[tuple[Payload, str]]] = {
    "new_ticket": [(Payload(urgent=True), "燃气泄漏"), (Payload(), "联系客户")],
    "urgent": [(Payload(urgent=True), "燃气泄漏")],
    "government_intake": [(Payload(), "政府平台投诉待批转")],
    "assignment": [(Payload(repeat=True), "重复投诉"), (Payload(urgent=True), "燃气泄漏")],
    "reminder": [(Payload(clock=clock), "将到期") for clock in ("contact", "investigate")],
    "breach": [
        (Payload(clock="investigate", overdue_minutes=0), "调查时限已到"),
        (Payload(clock="resolve", overdue_minutes=60 * 27 + 5), "办结已超期1天3小时"),
        (Payload(clock="callback", overdue_minutes=125), "回访已超期2小时5分"),
    ],
    "urge": [(Payload(by="周敏"), "周敏催办")],
    "approval_request": [(Payload(**MONEY), "申请赔款12500.00元")],
    "approval_result": [
        (Payload(approved=True, **MONEY), "审批同意：赔款12500.00元"),
        (Payload(approved=False, **MONEY), "审批驳回：赔款12500.00元"),
    ],
    "signoff": [(Payload(round=3), "签批")],
    "callback_request": [(Payload(phone=True), "电话回访"), (Payload(phone=False), "待客户回访")],
    "callback_result": [
        (Payload(satisfied=True), "客户满意"),
        (Payload(satisfied=False, note="仍有气味"), "客户不满意"),
    ],
    "callback_due": [(Payload(), "电话回访")],
    "reopened": [(Payload(round=2), "第2轮重办")],
    "explanation": [(Payload(reason="需等厂家配件"), "待批准延期")],
    "extended": [(Payload(workdays=3), "延期3个工作日已批准")],
    "escalated": [(Payload(severity="major"), "升级为重大")],
    "accountability": [(Payload(repeat_of="TS202611280001"), "责任追究")],
    "returned": [(Payload(reason="不属于本部门"), "退回")],
    "resolution": [(Payload(result="已更换阀门"), "已办结")],
    "resolution_digest": [(Payload(count=12), "今日办结12件")],
    "bulletin": [(Payload(note="11月23日至11月29日周通报"), "周通报")],
    "delivery_failed": [(Payload(who="王芳", about="assignment"), "王芳未收到派单通知")],
    "rating_alert": [(Payload(note="2星（不满意），请电话回访"), "电话回访")],
    "rating_praise": [(Payload(), "好评")],
    "rating_notice": [(Payload(), "通报批评")],
    "rating_warning": [(Payload(note="王芳 1星（很不满意）"), "低星")],
}
CUSTOMER_CASES: dict[str, list[tuple[Payload, str]]] = {
    "callback_request": [(Payload(result="已更换阀门"), "已办结")],
    "assigned": [(Payload(), "已交运行维护部办理")],
    "extended": [(Payload(), "时限已延长")],
    "invalid_reason": [(Payload(reason="非燃气业务"), "不属于有效投诉")],
    "moved_away": [(Payload(by="王芳"), "别处绑定")],
}


def test_every_kind_has_its_words_and_a_case_here() -> None:
    assert set(STAFF_CASES) == set(STAFF_HEADLINES)
    assert set(CUSTOMER_CASES) == set(CUSTOMER_HEADLINES)
    assert set(KIND_NAMES) == set(STAFF_HEADLINES) | set(CUSTOMER_HEADLINES)


def fits(words) -> None:
    assert 0 < len(words.stage) <= 20, words.stage
    assert words.outcome == "" or PHRASE.fullmatch(words.outcome), words.outcome


@pytest.mark.parametrize(
    ("kind", "payload", "said"),
    [(kind, p, said) for kind, cases in STAFF_CASES.items() for p, said in cases],
)
def test_staff_pushes_carry_their_outcome_within_the_limits(kind, payload, said) -> None:
    words = headline(kind, payload, FACTS)
    fits(words)
    assert said in words.stage + words.note


@pytest.mark.parametrize(
    ("kind", "payload", "said"),
    [(kind, p, said) for kind, cases in CUSTOMER_CASES.items() for p, said in cases],
)
def test_customer_pushes_carry_their_outcome_within_the_limits(kind, payload, said) -> None:
    words = customer_headline(kind, payload, FACTS)
    fits(words)
    assert said in words.stage and len(words.note) <= 20


def test_our_own_notes_fit_too() -> None:
    for kind in ("new_ticket", "assignment", "reminder", "breach", "extended"):
        assert len(headline(kind, Payload(clock="resolve"), FACTS).note) <= 20


def test_a_long_department_name_falls_back_to_words_that_fit() -> None:
    long = Facts(department="城东片区燃气管网运行维护与应急抢修中心", deadline="12-08 17:30")
    assert customer_headline("assigned", Payload(), long).stage == "已派单办理"


@pytest.mark.parametrize(
    ("minutes", "words"),
    [(45, "45分钟"), (60, "1小时"), (125, "2小时5分"), (60 * 24, "1天"), (60 * 27, "1天3小时")],
)
def test_how_late_in_the_fewest_words(minutes, words) -> None:
    assert duration(minutes) == words


def test_the_customer_result_names_its_ticket_and_how_to_answer_it() -> None:
    values = {"number": "TS202611280001", "result": "已更换阀门", "reason": "", "stage": ""}
    text = customer_message("callback_request", Payload(), FACTS, values)
    assert "TS202611280001" in text and "1 满意" in text and "「2 TS202611280001」" in text
    assert "元" not in text  # no money promised unless a request was approved
    paid = customer_message("callback_request", Payload(**MONEY), FACTS, values)
    assert "经审批同意赔款 12500.00 元" in paid
