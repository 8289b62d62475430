"""The rules of registering a complaint from another channel (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.core.registration import OTHER_CHANNELS, registration_problems

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
GOOD = dict(
    source_channel="24小时客服热线",
    external_number="",
    gas_account="",
    severity="general",
    matter="",
    complained_at=None,
    now=NOW,
)


def test_a_plain_hotline_complaint_has_no_problem():
    assert registration_problems(**GOOD) == {}


def test_every_channel_but_wechat_can_be_registered():
    assert "微信公众号" not in OTHER_CHANNELS and len(OTHER_CHANNELS) == 7


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"source_channel": "微信公众号"}, "source_channel", "请选择投诉来源"),
        ({"source_channel": "短信"}, "source_channel", "请选择投诉来源"),
        ({"source_channel": "政府投诉平台"}, "external_number", "须填写平台编号"),
        ({"external_number": "x" * 65}, "external_number", "最多 64"),
        ({"gas_account": "12-34"}, "gas_account", "4 到 32 位"),
        ({"severity": "urgent"}, "severity", "严重程度"),
        ({"matter": "事" * 101}, "matter", "100 字以内"),
        ({"complained_at": NOW + timedelta(hours=1)}, "complained_at", "不能晚于现在"),
        ({"complained_at": NOW - timedelta(days=400)}, "complained_at", "一年前"),
    ],
)
def test_each_refusal_names_its_field(changes, field, words):
    problems = registration_problems(**{**GOOD, **changes})
    assert list(problems) == [field] and words in problems[field]


def test_a_government_ticket_with_its_number_and_an_old_letter_are_fine():
    government = {**GOOD, "source_channel": "政府投诉平台", "external_number": "12345-2026-0001"}
    assert registration_problems(**government) == {}
    letter = {**GOOD, "source_channel": "意见箱/意见簿", "complained_at": NOW - timedelta(days=3)}
    assert registration_problems(**letter) == {}
