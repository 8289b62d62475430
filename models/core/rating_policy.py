"""What a star rating leads to (评价结果运用), 第四条 工作要求 5 of the policy. Pure.

Thresholds are settings (`[rating]` in config.toml, PRODUCT §7 **(decision)**):
- at `praise_at` stars and above: a praise record (表扬) for the responsible person;
- at `callback_at_or_below` and below: a phone call-back task for `callback_staff`, and a
  criticism record for the responsible person (「低于三星」 read as three stars and below, so
  that the policy's two tiers differ);
- at `notice_at_or_below` and below: also a draft company-wide notice (通报批评) for the officer,
  and an alert to the leaders (PRODUCT §1: leaders get the ≤2★ alerts), whoever is responsible.
A rating with nobody responsible (the service in general, a ticket nobody handled) gets the
call-back (and the leaders' alert) only.

How the customer is answered follows the star's own words, not the thresholds: ★★★ 一般 is
neither thanked as praise nor apologised for; ★★ and ★ (不满意) get the apology.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from models.core.labels import RATING_CHANNEL_LABELS, STAR_LABELS


@dataclass(frozen=True)
class RatingPolicy:
    praise_at: int
    callback_at_or_below: int
    notice_at_or_below: int
    callback_staff: str  # the name of the staff member who calls low ratings back
    once_per_ticket: bool
    repeat_tap_minutes: int

    def __post_init__(self) -> None:
        if self.notice_at_or_below > self.callback_at_or_below:
            raise ValueError("notice_at_or_below must not exceed callback_at_or_below")


@dataclass(frozen=True)
class Consequences:
    praise: bool = False
    callback: bool = False
    criticism: bool = False
    notice: bool = False
    alert_leaders: bool = False


def consequences(stars: int, has_responsible: bool, policy: RatingPolicy) -> Consequences:
    """The records and tasks a rating of `stars` creates."""
    if not 1 <= stars <= 5:
        raise ValueError(f"stars must be 1..5, got {stars}")
    low = stars <= policy.callback_at_or_below
    return Consequences(
        praise=has_responsible and stars >= policy.praise_at,
        callback=low,
        criticism=has_responsible and low,
        notice=has_responsible and stars <= policy.notice_at_or_below,
        alert_leaders=stars <= policy.notice_at_or_below,
    )


UNHAPPY_AT_OR_BELOW = 2  # ★★ 不满意, ★ 很不满意
NEUTRAL = 3  # ★★★ 一般


def tone(stars: int) -> str:
    """How the reply sounds: "unhappy" (an apology), "neutral" or "happy"."""
    if stars <= UNHAPPY_AT_OR_BELOW:
        return "unhappy"
    return "neutral" if stars == NEUTRAL else "happy"


def praise_note(stars: int) -> str:
    return f"{stars}星好评，特此表扬"


def leader_note(stars: int, person: str) -> str:
    """The leaders' ≤2★ alert, e.g. 王芳 1星（很不满意）."""
    who = f"{person} " if person else ""
    return f"{who}{stars}星（{STAR_LABELS[stars]}）"


def callback_note(stars: int, has_phone: bool) -> str:
    reach = "请电话回访" if has_phone else "客户未留电话"
    return f"{stars}星（{STAR_LABELS[stars]}），{reach}"


@dataclass(frozen=True)
class NoticeDraft:
    title: str
    body: str


def criticism_draft(
    *,
    person: str,
    department: str,
    stars: int,
    channel: str,
    target_label: str,
    day: date,
    comment: str = "",
) -> NoticeDraft:
    """The draft 通报批评 the officer reviews before publishing."""
    title = f"关于{person}获客户{stars}星评价的通报批评（草稿）"
    body = (
        f"{day:%Y年%m月%d日}，客户通过{RATING_CHANNEL_LABELS.get(channel, channel)}"
        f"对{target_label}给予{stars}星（{STAR_LABELS[stars]}）评价。"
        f"具体业务具办人：{department}{person}。依据公司《投诉处理和服务满意度闭环管理"
        "制度》第四条第5项，对其予以全公司通报批评，绩效与年终考评挂钩。"
    )
    if comment:
        body += f"\n客户留言：{comment}"
    return NoticeDraft(title, body)


def praise_draft(
    *, person: str, department: str, stars: int, channel: str, target_label: str, day: date
) -> NoticeDraft:
    """The draft 通报表扬 the officer may publish for a praise record (表扬)."""
    title = f"关于{person}获客户{stars}星好评的通报表扬（草稿）"
    body = (
        f"{day:%Y年%m月%d日}，客户通过{RATING_CHANNEL_LABELS.get(channel, channel)}"
        f"对{target_label}给予{stars}星（{STAR_LABELS[stars]}）评价。"
        f"具体业务具办人：{department}{person}。依据公司《投诉处理和服务满意度闭环管理"
        "制度》第四条第5项，对其予以全公司通报表扬，绩效与年终考评挂钩。"
    )
    return NoticeDraft(title, body)


DRAFT_MARK = "（草稿）"


def published_title(title: str) -> str:
    """A draft's title as published: without its （草稿） mark."""
    return title.replace(DRAFT_MARK, "").strip()


def notice_number(pattern: str, year: int, seq: int) -> str:
    """通报编号 from config.toml's notices.number_format, e.g. 综管通〔2026〕3号."""
    return pattern.format(year=year, seq=seq)
