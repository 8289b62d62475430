"""Parsing of staff commands in WeChat (PRODUCT §6): pure text in, a command out.

A command is a Chinese keyword followed by arguments. Structured arguments (单号, 部门,
choices, numbers, amounts) are read after NFKC normalisation, so full-width spaces, digits,
letters and punctuation (：，；) work, ticket numbers may be lower case, and extra spaces do not
matter; a trailing free-text argument (处理结果, 原因…) is kept as typed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from models.core.workflow import MoveRefused, normalize_amount

NUMBER = "number"
REFERENCE = "reference"  # a ticket number or a rating call-back task (PJ12)
WORD = "word"
CHOICE = "choice"
WORKDAYS = "workdays"
AMOUNT = "amount"
TEXT = "text"

SEPARATORS = frozenset(":,;")
TOKEN_TRIM = "。.!！?？、"
NUMBER_PATTERN = re.compile(r"TS\d+")
REFERENCE_PATTERN = re.compile(r"(?:TS|PJ)\d+")
GLUED_NUMBER = re.compile(r"ts\d", re.IGNORECASE)
GLUED_REFERENCE = re.compile(r"(?:ts|pj)\d", re.IGNORECASE)


@dataclass(frozen=True)
class Param:
    """One argument of a command; ``label`` is its Chinese placeholder in the usage line."""

    key: str
    label: str
    kind: str
    required: bool = True
    choices: Mapping[str, Any] = field(default_factory=dict)

    @property
    def placeholder(self) -> str:
        label = "/".join(_canonical_choices(self.choices)) if self.kind == CHOICE else self.label
        return f"<{label}>" if self.required else f"[{label}]"


@dataclass(frozen=True)
class Syntax:
    name: str
    params: tuple[Param, ...] = ()

    @property
    def usage(self) -> str:
        return " ".join((self.name, *(param.placeholder for param in self.params)))


@dataclass(frozen=True)
class ParsedCommand:
    """A recognised command: its keyword, its arguments, or what is wrong with them."""

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def _number() -> Param:
    return Param("number", "单号", NUMBER)


def _text(label: str, required: bool = True) -> Param:
    return Param("text", label, TEXT, required)


PERIODS = {
    "本月": "month",
    "这个月": "month",
    "本周": "week",
    "这周": "week",
    "今日": "today",
    "今天": "today",
    "本日": "today",
}
SEVERITIES = {"复杂": "complex", "较大": "complex", "重大": "major"}
APPROVALS = {"同意": True, "通过": True, "批准": True, "驳回": False, "不同意": False}
CALLBACKS = {"满意": True, "不满意": False}
MONEY = {"退款": "退款", "赔款": "赔款", "折让": "折让"}

SYNTAXES: dict[str, Syntax] = {
    syntax.name: syntax
    for syntax in (
        Syntax("帮助"),
        Syntax("待办"),
        Syntax("查看", (_number(),)),
        Syntax("接单", (_number(), _text("备注", False))),
        Syntax("进展", (_number(), _text("内容"))),
        Syntax("办结", (_number(), _text("处理结果"))),
        Syntax("说明", (_number(), _text("原因"))),
        Syntax(
            "申请",
            (
                _number(),
                Param("money_kind", "类型", CHOICE, choices=MONEY),
                Param("amount", "金额", AMOUNT),
                _text("说明"),
            ),
        ),
        Syntax(
            "派单",
            (
                _number(),
                Param("department", "部门", WORD),
                Param("handler", "承办人", WORD, required=False),
                _text("说明", False),
            ),
        ),
        Syntax("无效", (_number(), _text("原因"))),
        Syntax(
            "升级",
            (
                _number(),
                Param("severity", "严重程度", CHOICE, choices=SEVERITIES),
                _text("说明", False),
            ),
        ),
        Syntax("延期", (_number(), Param("workdays", "工作日数", WORKDAYS), _text("说明", False))),
        Syntax("催办", (_number(), _text("备注", False))),
        Syntax(
            "回访",
            (
                Param("number", "单号/评价回访编号", REFERENCE),
                Param("satisfied", "结果", CHOICE, choices=CALLBACKS),
                _text("备注", False),
            ),
        ),
        Syntax(
            "审批",
            (_number(), Param("approve", "结论", CHOICE, choices=APPROVALS), _text("意见", False)),
        ),
        Syntax("签批", (_number(), _text("意见", False))),
        Syntax("联系", (_number(), _text("情况", False))),
        Syntax("退单", (_number(), _text("原因"))),
        Syntax("超期"),
        Syntax("统计", (Param("period", "期间", CHOICE, required=False, choices=PERIODS),)),
    )
}
ALIASES = {"help": "帮助", "查询": "查看"}


def parse(text: str) -> ParsedCommand | None:
    """The command in ``text``, or None when it does not start with a command keyword."""
    found = _keyword(text)
    if found is None:
        return None
    name, position = found
    reader = _Reader(text, position)
    args: dict[str, Any] = {}
    for param in SYNTAXES[name].params:
        try:
            value = _read(reader, param)
        except ValueError as exc:
            return ParsedCommand(name, args, str(exc))
        if value is not None:
            args[param.key] = value
    extra = reader.rest()
    if extra:
        return ParsedCommand(name, args, f"多余的内容：「{extra}」")
    if name == "统计":
        args.setdefault("period", "month")
    return ParsedCommand(name, args)


def usage(name: str) -> str:
    return SYNTAXES[name].usage


def _keyword(text: str) -> tuple[str, int] | None:
    reader = _Reader(text, 0)
    start, token = reader.position_after_separators(), reader.token()
    name = ALIASES.get(token.lower(), token)
    if name in SYNTAXES:
        return name, reader.position
    for keyword in SYNTAXES:
        rest = token[len(keyword) :]
        if token.startswith(keyword) and rest and _glued_argument(keyword, rest):
            return keyword, start + len(keyword)
    return None


def _glued_argument(keyword: str, rest: str) -> bool:
    """查看TS2026…, 统计本周: an argument typed without a space after the keyword."""
    params = SYNTAXES[keyword].params
    if not params:
        return False
    first = params[0]
    if first.kind == NUMBER:
        return GLUED_NUMBER.match(rest) is not None
    if first.kind == REFERENCE:
        return GLUED_REFERENCE.match(rest) is not None
    return first.kind == CHOICE and rest.strip(TOKEN_TRIM) in first.choices


class _Reader:
    """Walks the original text; separators and tokens are judged after NFKC."""

    def __init__(self, text: str, position: int) -> None:
        self.text = text
        self.position = position

    def position_after_separators(self) -> int:
        while self.position < len(self.text) and _is_separator(self.text[self.position]):
            self.position += 1
        return self.position

    def token(self) -> str:
        start = self.position_after_separators()
        while self.position < len(self.text) and not _is_separator(self.text[self.position]):
            self.position += 1
        raw = unicodedata.normalize("NFKC", self.text[start : self.position])
        return raw.strip(TOKEN_TRIM)

    def rest(self) -> str:
        start = self.position_after_separators()
        self.position = len(self.text)
        return self.text[start:].strip()


def _is_separator(char: str) -> bool:
    normal = unicodedata.normalize("NFKC", char)
    return normal.isspace() or normal in SEPARATORS


def _read(reader: _Reader, param: Param) -> Any:
    if param.kind == TEXT:
        value = reader.rest()
    else:
        value = reader.token()
    if not value:
        if param.required:
            raise ValueError(f"缺少{param.label}")
        return None
    return CONVERTERS[param.kind](value, param)


def _ticket_number(value: str, param: Param) -> str:
    number = value.upper()
    if NUMBER_PATTERN.fullmatch(number) is None:
        raise ValueError(f"缺少单号或单号格式不对：「{value}」（单号形如 TS202611280001）")
    return number


def _reference(value: str, param: Param) -> str:
    reference = value.upper()
    if REFERENCE_PATTERN.fullmatch(reference) is None:
        raise ValueError(
            f"缺少单号或编号格式不对：「{value}」（单号形如 TS202611280001，评价回访形如 PJ12）"
        )
    return reference


def _choice(value: str, param: Param) -> Any:
    if value in param.choices:
        return param.choices[value]
    options = "或".join(_canonical_choices(param.choices))
    raise ValueError(f"{param.label}须为 {options}，而不是「{value}」")


def _workdays(value: str, param: Param) -> int:
    digits = value.removesuffix("个工作日").removesuffix("工作日").removesuffix("天")
    if not digits.isdigit():
        raise ValueError(f"工作日数须为正整数，而不是「{value}」")
    return int(digits)


def _amount(value: str, param: Param) -> str:
    digits = value.lstrip("¥￥").removesuffix("元")
    try:
        return normalize_amount(digits)
    except MoveRefused as exc:
        raise ValueError(exc.reason) from exc


def _canonical_choices(choices: Mapping[str, Any]) -> list[str]:
    """The first spelling of each value (复杂/重大, 同意/驳回…), for usage lines."""
    seen: dict[Any, str] = {}
    for spelling, value in choices.items():
        seen.setdefault(value, spelling)
    return list(seen.values())


CONVERTERS = {
    NUMBER: _ticket_number,
    REFERENCE: _reference,
    WORD: lambda value, param: value,
    CHOICE: _choice,
    WORKDAYS: _workdays,
    AMOUNT: _amount,
    TEXT: lambda value, param: value,
}
