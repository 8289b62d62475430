"""Gas safety first (燃气安全): does a text report a leak or a smell of gas, and what does the
customer read then (PRODUCT §5). Pure.

The words and the emergency line live in ``config.toml`` (``[safety]``). Matching is on the
NFKC form with spaces dropped, so full-width, half-width and spaced-out spellings are the same;
it is deliberately generous (a word anywhere in the text): a false alarm costs one paragraph of
advice, a missed leak can cost lives. A complaint whose text reports a leak is flagged urgent,
whatever channel it came through.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_LEAK_WORDS = ("漏气", "泄漏", "泄露", "燃气味", "煤气味", "天然气味", "闻到气味", "跑气")
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
    """``[safety]`` in config.toml: ``leak_words`` report a leak or a smell of gas;
    ``emergency_line`` is the 24-hour number customers are told to call from outside."""

    leak_words: tuple[str, ...] = DEFAULT_LEAK_WORDS
    emergency_line: str = ""

    def __post_init__(self) -> None:
        words = tuple(str(word).strip() for word in self.leak_words)
        if not words or not all(words):
            raise ValueError("leak_words must not contain empty words")
        object.__setattr__(self, "leak_words", words)


def reports_gas_leak(texts: Iterable[str], words: Iterable[str]) -> bool:
    """True when any of ``texts`` contains one of the leak ``words``."""
    return _mentions(texts, _folded_words(tuple(words)))


def reports_leak(text: str, config: SafetyConfig) -> bool:
    """Whether one customer message mentions a leak or a smell of gas."""
    return _mentions((text,), _folded_words(config.leak_words))


def _mentions(texts: Iterable[str], folded_words: tuple[str, ...]) -> bool:
    folded = [_fold(text) for text in texts]
    return any(word in text for word in folded_words for text in folded if text)


@lru_cache(maxsize=8)
def _folded_words(words: tuple[str, ...]) -> tuple[str, ...]:
    """The leak words folded once per configuration, not at every message."""
    return tuple(_fold(word) for word in words)


def advice(config: SafetyConfig) -> str:
    """The safety instructions, ending with the emergency line."""
    line = config.emergency_line.strip()
    return ADVICE.format(line=f"24小时抢修电话：{line}" if line else NO_LINE)


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())
