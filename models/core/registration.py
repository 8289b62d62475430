"""Registering a complaint from a channel other than WeChat (登记, the policy's 流程1): the
rules for the fields the chat does not ask. Pure; the chat's own field rules (appeal type,
content, address, name, phone) are ``models.core.conversation.check_complaint``.

Decisions where the product text is silent:
- A government-platform ticket needs the platform's number (it is how the platform and the
  leader refer to it); other channels may leave it empty.
- 户号 is optional: 4 to 32 letters or digits.
- 投诉时间 is when the customer complained (a letter from the suggestion box can be days
  old): not in the future (five minutes of clock drift allowed), at most a year back; empty
  means now.
- 诉求事项 is optional (the first line of the content is used) and at most 100 characters.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from models.core.workflow import GOVERNMENT_CHANNEL, SOURCE_CHANNELS, WECHAT_CHANNEL, Severity

OTHER_CHANNELS = tuple(channel for channel in SOURCE_CHANNELS if channel != WECHAT_CHANNEL)
GAS_ACCOUNT = re.compile(r"[0-9A-Za-z]{4,32}")
MATTER_CHARS = 100
EXTERNAL_CHARS = 64
DRIFT = timedelta(minutes=5)
OLDEST = timedelta(days=366)


def registration_problems(
    *,
    source_channel: str,
    external_number: str,
    gas_account: str,
    severity: str,
    matter: str,
    complained_at: datetime | None,
    now: datetime,
) -> dict[str, str]:
    """Per field, why it is refused (Chinese); empty when everything can be registered."""
    problems: dict[str, str] = {}
    if source_channel not in OTHER_CHANNELS:
        problems["source_channel"] = "请选择投诉来源（微信公众号的投诉由客户在公众号提交）。"
    if source_channel == GOVERNMENT_CHANNEL and not external_number:
        problems["external_number"] = "政府投诉平台转来的投诉须填写平台编号。"
    elif len(external_number) > EXTERNAL_CHARS:
        problems["external_number"] = f"平台编号最多 {EXTERNAL_CHARS} 个字符。"
    if gas_account and not GAS_ACCOUNT.fullmatch(gas_account):
        problems["gas_account"] = "户号应为 4 到 32 位数字或字母。"
    if severity not in {level.value for level in Severity}:
        problems["severity"] = "请选择严重程度。"
    if len(matter) > MATTER_CHARS:
        problems["matter"] = f"诉求事项请在 {MATTER_CHARS} 字以内（现有 {len(matter)} 字）。"
    if complained_at is not None:
        if complained_at > now + DRIFT:
            problems["complained_at"] = "投诉时间不能晚于现在。"
        elif complained_at < now - OLDEST:
            problems["complained_at"] = "投诉时间不能早于一年前。"
    return problems
