"""WeChat's limit on a passive text reply (2048 bytes of UTF-8) and the one way we fit a
reply into it (WECHAT.md). Pure."""

from __future__ import annotations

MAX_REPLY_BYTES = 2048
ELLIPSIS = "…"
CUT_LINE = "……"


def fits(text: str, limit: int = MAX_REPLY_BYTES) -> bool:
    return len(text.encode("utf-8")) <= limit


def clip(text: str, limit: int = MAX_REPLY_BYTES) -> str:
    """Cut at a character boundary with an ellipsis so that at most `limit` bytes remain."""
    if fits(text, limit):
        return text
    room = max(limit - len(ELLIPSIS.encode("utf-8")), 0)
    return text.encode("utf-8")[:room].decode("utf-8", errors="ignore") + ELLIPSIS


def fit_lines(text: str, limit: int = MAX_REPLY_BYTES) -> str:
    """Drop whole lines from the end until the text fits, then say it was cut; a single line
    that is still too long is clipped."""
    if fits(text, limit):
        return text
    lines = text.split("\n")
    while len(lines) > 1 and not fits("\n".join([*lines, CUT_LINE]), limit):
        lines.pop()
    return clip("\n".join([*lines, CUT_LINE]), limit)
