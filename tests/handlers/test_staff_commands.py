"""Parsing of staff commands: pure text in, command name and arguments (or a problem) out."""

from __future__ import annotations

import pytest

from models.core.commands import SYNTAXES, parse, usage

NUMBER = "TS202611280001"


def test_full_width_spaces_letters_and_digits_are_read_as_ascii() -> None:
    parsed = parse("派单\u3000ｔｓ２０２６１１２８０００１\u3000\u3000运行维护部　王芳")
    assert parsed.ok
    assert parsed.args == {"number": NUMBER, "department": "运行维护部", "handler": "王芳"}


def test_lower_case_number_and_extra_spaces() -> None:
    parsed = parse(f"   查看    {NUMBER.lower()}   ")
    assert parsed.name == "查看" and parsed.ok and parsed.args == {"number": NUMBER}


def test_number_glued_to_the_keyword() -> None:
    assert parse(f"接单{NUMBER.lower()}").args["number"] == NUMBER


def test_full_width_colon_after_the_number_and_free_text_kept_as_typed() -> None:
    parsed = parse(f"办结 {NUMBER}：已更换燃气表，用户确认。")
    assert parsed.ok and parsed.args["text"] == "已更换燃气表，用户确认。"


def test_money_request_normalises_a_full_width_amount_with_unit() -> None:
    parsed = parse(f"申请 {NUMBER} 退款 １２０．５元 多收了燃气费")
    assert parsed.ok
    assert parsed.args == {
        "number": NUMBER,
        "money_kind": "退款",
        "amount": "120.50",
        "text": "多收了燃气费",
    }


@pytest.mark.parametrize("raw, days", [("３", 3), ("5个工作日", 5), ("2天", 2)])
def test_extension_workdays(raw: str, days: int) -> None:
    assert parse(f"延期 {NUMBER} {raw}").args["workdays"] == days


@pytest.mark.parametrize(
    "text, key, value",
    [
        (f"升级 {NUMBER} 复杂", "severity", "complex"),
        (f"升级 {NUMBER} 重大", "severity", "major"),
        (f"审批 {NUMBER} 同意", "approve", True),
        (f"审批 {NUMBER} 驳回 金额过高", "approve", False),
        (f"回访 {NUMBER} 满意", "satisfied", True),
        (f"回访 {NUMBER} 不满意 仍有异味", "satisfied", False),
        ("统计 本周", "period", "week"),
        ("统计今日", "period", "today"),
        ("统计", "period", "month"),
    ],
)
def test_choices(text: str, key: str, value: object) -> None:
    parsed = parse(text)
    assert parsed.ok and parsed.args[key] == value


@pytest.mark.parametrize(
    "text, problem",
    [
        ("查看", "缺少单号"),
        ("办结 已经处理完毕", "缺少单号"),
        (f"办结 {NUMBER}", "缺少处理结果"),
        (f"进展 {NUMBER}  ", "缺少内容"),
        (f"派单 {NUMBER}", "缺少部门"),
        (f"延期 {NUMBER}", "缺少工作日数"),
        (f"延期 {NUMBER} 三天", "工作日数须为正整数"),
        (f"申请 {NUMBER} 退款", "缺少金额"),
        (f"申请 {NUMBER} 退款 -5 说明", "金额须为大于 0 的数字"),
        (f"申请 {NUMBER} 返现 100 说明", "退款或赔款或折让"),
        (f"申请 {NUMBER} 退款 100", "缺少说明"),
        (f"升级 {NUMBER} 一般", "复杂或重大"),
        (f"回访 {NUMBER}", "缺少结果"),
        (f"审批 {NUMBER} 也许", "同意或驳回"),
        ("统计 去年", "本月或本周或今日"),
        (f"查看 {NUMBER} 详细", "多余的内容"),
    ],
)
def test_missing_or_wrong_arguments_name_the_problem(text: str, problem: str) -> None:
    parsed = parse(text)
    assert parsed is not None and not parsed.ok
    assert problem in parsed.error


def test_text_that_is_not_a_command() -> None:
    assert parse("你好，请问怎么用") is None
    assert parse("") is None
    assert parse("说明书在哪里") is None  # a keyword inside a word is not a command


def test_every_command_has_a_usage_line_naming_its_arguments() -> None:
    assert usage("派单") == "派单 <单号> <部门> [承办人] [说明]"
    assert usage("申请") == "申请 <单号> <退款/赔款/折让> <金额> <说明>"
    assert usage("统计") == "统计 [本月/本周/今日]"
    assert usage("审批") == "审批 <单号> <同意/驳回> [意见]"
    assert set(SYNTAXES) >= {
        "待办",
        "查看",
        "接单",
        "进展",
        "办结",
        "说明",
        "申请",
        "派单",
        "无效",
        "升级",
        "延期",
        "催办",
        "回访",
        "审批",
        "超期",
        "统计",
        "签批",
        "帮助",
    }
