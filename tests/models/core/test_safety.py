"""Gas safety first: which messages report a leak, and the advice they get. Pure."""

from __future__ import annotations

import pytest

from models.core.safety import SafetyConfig, advice, reports_leak

CONFIG = SafetyConfig(keywords=("漏气", "燃气味", "煤气味"), emergency_line="0558-0000000")


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
    assert "当地燃气公司24小时抢修电话" in advice(SafetyConfig(keywords=("漏气",)))


def test_keywords_must_not_be_empty() -> None:
    with pytest.raises(ValueError):
        SafetyConfig(keywords=(" ",))
