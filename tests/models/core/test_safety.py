"""Gas safety first: which texts report a leak (pure)."""

from __future__ import annotations

import pytest

from models.core.safety import (
    DEFAULT_LEAK_WORDS,
    SafetyConfig,
    advice,
    reports_gas_leak,
    reports_leak,
)


@pytest.mark.parametrize(
    ("texts", "leak"),
    [
        (("厨房有燃气味，很浓",), True),
        (("", "表后阀门漏气"), True),
        (("楼道里闻到气味",), True),
        (("抄表员态度不好",), False),
        (("",), False),
    ],
)
def test_leak_words_anywhere_in_the_texts(texts, leak: bool) -> None:
    assert reports_gas_leak(texts, DEFAULT_LEAK_WORDS) is leak


def test_words_match_in_full_width_too() -> None:
    assert reports_gas_leak(["ＬＰＧ跑气了"], ["lpg跑气"]) is False  # case is kept
    assert reports_gas_leak(["ＬＰＧ跑气了"], ["LPG跑气"]) is True


def test_an_empty_word_is_refused() -> None:
    with pytest.raises(ValueError):
        SafetyConfig(leak_words=("漏气", " "))


# --- one customer message, and the advice it gets -------------------------------------------

CONFIG = SafetyConfig(leak_words=("漏气", "燃气味", "煤气味"), emergency_line="0558-0000000")


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("家里漏气了", True),
        ("有 燃 气 味", True),  # spaces do not hide it
        ("ＭＭ煤气味很重", True),  # full-width folded
        ("燃气表走字太快", False),
        ("", False),
    ],
)
def test_reports_leak(text: str, leak: bool) -> None:
    assert reports_leak(text, CONFIG) is leak


def test_the_advice_gives_the_steps_and_the_configured_line() -> None:
    text = advice(CONFIG)
    for step in ("关闭燃气表前阀门", "打开门窗通风", "严禁明火", "离开到室外", "0558-0000000"):
        assert step in text
    assert "当地燃气公司24小时抢修电话" in advice(SafetyConfig(leak_words=("漏气",)))
