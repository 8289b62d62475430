"""Gas safety first (燃气安全): does a text report a leak or a smell of gas? Pure.

The words live in ``config.toml`` (``[safety] leak_words``); matching is on the NFKC form, so
full-width and half-width spellings are the same. A complaint whose text reports a leak is
flagged urgent, whatever channel it came through.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_LEAK_WORDS = ("漏气", "泄漏", "泄露", "燃气味", "煤气味", "天然气味", "闻到气味", "跑气")


@dataclass(frozen=True)
class SafetyConfig:
    """``[safety]`` in config.toml: the words that report a leak or a smell of gas."""

    leak_words: tuple[str, ...] = DEFAULT_LEAK_WORDS

    def __post_init__(self) -> None:
        words = tuple(str(word).strip() for word in self.leak_words)
        if not all(words):
            raise ValueError("leak_words must not contain empty words")
        object.__setattr__(self, "leak_words", words)


def reports_gas_leak(texts: Iterable[str], words: Iterable[str]) -> bool:
    """True when any of ``texts`` contains one of the leak ``words``."""
    folded = [unicodedata.normalize("NFKC", text) for text in texts]
    return any(unicodedata.normalize("NFKC", word) in text for word in words for text in folded)
