"""Gas safety first (燃气安全): a customer message that reports a leak or a smell of gas gets
the safety instructions and the 24-hour emergency line before anything else (PRODUCT §5).

Pure. The keyword list and the emergency line are `[safety]` in config.toml. Matching is
deliberately generous (a word anywhere in the text, after folding full-width characters and
dropping spaces): a false alarm costs one paragraph of advice, a missed leak can cost lives.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

ADVICE = (
    "【燃气安全提示】如闻到燃气味或怀疑漏气，请立即：\n"
    "1. 关闭燃气表前阀门或灶前阀门；\n"
    "2. 打开门窗通风；\n"
    "3. 严禁明火，不要开关电灯、电器，不要在室内打电话；\n"
    "4. 迅速离开到室外，再拨打{line}。"
)
NO_LINE = "当地燃气公司24小时抢修电话"
URGENT_NOTED = "已记录您反映的燃气泄漏情况，我们会优先处理。"


@dataclass(frozen=True)
class SafetyConfig:
    """``keywords``: words that mean a leak or a smell of gas; ``emergency_line``: the
    24-hour number customers are told to call from outside."""

    keywords: tuple[str, ...] = ("漏气", "泄漏", "燃气味", "煤气味", "天然气味", "闻到气味")
    emergency_line: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "keywords", tuple(_fold(k) for k in self.keywords if k.strip()))
        if not self.keywords:
            raise ValueError("keywords must not be empty")


def reports_leak(text: str, config: SafetyConfig) -> bool:
    """Whether the text mentions a leak or a smell of gas."""
    folded = _fold(text)
    return bool(folded) and any(keyword in folded for keyword in config.keywords)


def advice(config: SafetyConfig) -> str:
    """The safety instructions, ending with the emergency line."""
    line = config.emergency_line.strip()
    return ADVICE.format(line=f"24小时抢修电话：{line}" if line else NO_LINE)


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())
