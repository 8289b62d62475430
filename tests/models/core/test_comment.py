"""The comment step after a star tap, as a pure state machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.core import comment as flow
from models.core.conversation import Inbound

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
CONFIG = flow.CommentConfig(minutes=30, max_chars=20)


def step(inbound: Inbound, minutes_later: float = 1) -> flow.CommentResult:
    state = flow.start(7, NOW)
    return flow.step(state, inbound, NOW + timedelta(minutes=minutes_later), CONFIG)


def text(value: str) -> Inbound:
    return Inbound(kind="text", text=value)


def test_a_text_is_the_comment():
    result = step(text("  师傅很专业  "))
    assert (result.outcome, result.comment, result.state) == ("comment", "师傅很专业", None)
    assert "已收到" in result.reply


@pytest.mark.parametrize("word", ["0", "０", "跳过", "不用了", "无。"])
def test_zero_and_its_synonyms_skip(word):
    result = step(text(word))
    assert result.outcome == "skipped" and result.comment == ""


@pytest.mark.parametrize("word", ["投诉", "查询", "我的投诉", "查询 TS202611280001", "电话"])
def test_commands_are_passed_on(word):
    assert step(text(word)).outcome == "pass"


def test_a_click_is_passed_on():
    assert step(Inbound(kind="click", text="RATE_5")).outcome == "pass"


def test_idle_longer_than_the_limit_expires_whatever_comes():
    assert step(text("很好"), minutes_later=30.5).outcome == "expired"
    assert step(text("很好"), minutes_later=30).outcome == "comment"


@pytest.mark.parametrize(
    "inbound",
    [
        text("[微笑]"),
        text("【收到不支持的消息类型，暂无法显示】"),
        Inbound(kind="image", media_id="m"),
        Inbound(kind="voice", text=""),
        Inbound(kind="location", latitude=1.0, longitude=2.0),
    ],
)
def test_what_is_not_text_asks_again_and_refreshes_the_clock(inbound):
    result = step(inbound, minutes_later=10)
    assert result.outcome == "retry" and "0跳过" in result.reply
    assert result.state.updated_at == NOW + timedelta(minutes=10)
    assert result.state.rating_id == 7


def test_recognised_voice_is_a_comment():
    assert step(Inbound(kind="voice", text="很满意")).comment == "很满意"


def test_too_long_says_the_limit_and_the_length():
    result = step(text("好" * 21))
    assert result.outcome == "retry" and "20字以内" in result.reply and "21字" in result.reply


def test_the_state_round_trips_and_refuses_naive_times():
    state = flow.start(3, NOW)
    assert flow.CommentState.from_dict(state.to_dict()) == state
    with pytest.raises(ValueError):
        flow.CommentState.from_dict({"rating_id": 3, "updated_at": "2026-11-28T10:00:00"})
