"""Gas safety first: which texts report a leak (pure)."""

from __future__ import annotations

import pytest

from models.core.safety import DEFAULT_LEAK_WORDS, SafetyConfig, reports_gas_leak


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
