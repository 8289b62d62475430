"""Notices (通报): a ≤2★ rating's draft 通报批评 and a 5★ praise record's 通报表扬 are edited,
numbered, dated, published and pushed through the fake WeChat API, or withdrawn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.db import transaction
from bot.policies import notice_config
from jobs.queue import enqueue_written
from models.audit.log import Who
from models.core.figures import Period
from models.figures import people
from models.people.staff import staff_by_name
from models.rating import notices
from models.rating.tables import RatingNotice
from tests.factories import audit_actions, make_ticket, rate_ticket, run_worker

ZONE = ZoneInfo("Asia/Shanghai")
TEMPLATE_KEYS = {"thing1", "thing2", "thing3", "time4"}


def officer(session) -> Who:
    return Who.staff(staff_by_name(session, "周敏"), "10.0.0.7")


def bind(runtime, **openids) -> None:
    with transaction(runtime.sessions) as session:
        for name, openid in openids.items():
            staff_by_name(session, name).openid = openid


def the_notice(runtime) -> RatingNotice:
    with runtime.sessions() as session:
        return session.scalars(select(RatingNotice).order_by(RatingNotice.id.desc())).first()


def test_a_published_criticism_is_numbered_and_pushed_to_the_person_and_the_leader(
    live, fake_wechat, demo
):
    bind(live, 王芳="o_wang", 钱立="o_qian", 孙总="o_sun")
    rate_ticket(live, make_ticket(live, status="archived"), 1, comment="态度很差")
    draft = the_notice(live)
    assert draft.kind == "criticism" and draft.status == "draft" and "（草稿）" in draft.title
    with transaction(live.sessions) as session:
        notice = notices.get(session, draft.id)
        notices.edit(
            session,
            notice,
            draft.title,
            draft.body + "\n请各部门引以为戒。",
            officer(session),
            datetime.now(UTC),
        )
        notices.publish(
            session, notice, officer(session), datetime.now(UTC), notice_config(live.settings)
        )
    enqueue_written(live, session)
    published = the_notice(live)
    year = datetime.now(ZONE).year
    assert published.number == f"综管通〔{year}〕1号"
    assert published.published_on == datetime.now(ZONE).date()
    assert "（草稿）" not in published.title and "引以为戒" in published.body
    run_worker(live)
    for openid in ("o_wang", "o_qian"):
        (message,) = [
            m
            for m in fake_wechat.messages(openid)
            if m["body"]["template_id"] == "TEMPLATE_ID_NOTICE_PUBLISHED"
        ]
        body = message["body"]
        assert body["url"].endswith(f"/notices/{published.id}")
        assert set(body["data"]) == TEMPLATE_KEYS
        assert body["data"]["thing1"]["value"] == "通报批评"
        assert body["data"]["thing2"]["value"] == published.number
    assert not [
        m
        for m in fake_wechat.messages("o_sun")
        if m["body"]["template_id"] == "TEMPLATE_ID_NOTICE_PUBLISHED"
    ]
    assert [a[0] for a in audit_actions(live)] == ["notice_edit", "notice_publish"]


def test_a_praise_record_is_published_as_a_praise_notice_with_the_next_number(runtime, demo):
    config = notice_config(runtime.settings)
    rate_ticket(runtime, make_ticket(runtime, status="archived"), 1)
    rate_ticket(runtime, make_ticket(runtime, status="archived"), 5)
    with transaction(runtime.sessions) as session:
        (record,) = notices.praise_candidates(session)
        praise = notices.draft_praise(session, record, officer(session), datetime.now(UTC), ZONE)
        assert praise.kind == "praise" and "通报表扬" in praise.title
        assert notices.praise_candidates(session) == []
        with pytest.raises(notices.NoticeRefused, match="已有通报"):
            notices.draft_praise(session, record, officer(session), datetime.now(UTC), ZONE)
        for notice in notices.listing(session, status="draft"):
            notices.publish(session, notice, officer(session), datetime.now(UTC), config)
    with runtime.sessions() as session:
        published = notices.listing(session, status="published")
        assert sorted(n.number_seq for n in published) == [1, 2]
        wang = staff_by_name(session, "王芳").id
        now = datetime.now(UTC)
        counts = notices.per_person(session, now - timedelta(days=1), now + timedelta(days=1))
    assert counts == {wang: {"criticism": 1, "praise": 1}}
    with runtime.sessions() as session:
        period = Period(now - timedelta(days=1), now + timedelta(days=1))
        (person,) = [p for p in people.people(session, period) if p.staff_id == wang]
    assert (person.notices_criticism, person.notices_praise) == (1, 1)


def test_a_withdrawn_notice_keeps_its_number_and_leaves_the_person_s_count(live, fake_wechat, demo):
    bind(live, 王芳="o_wang")
    config = notice_config(live.settings)
    rate_ticket(live, make_ticket(live, status="archived"), 2)
    with transaction(live.sessions) as session:
        notice = notices.listing(session, status="draft")[0]
        notices.publish(session, notice, officer(session), datetime.now(UTC), config)
        with pytest.raises(notices.NoticeRefused, match="须说明原因"):
            notices.withdraw(session, notice, " ", officer(session), datetime.now(UTC), config)
        notices.withdraw(
            session, notice, "客户撤回评价", officer(session), datetime.now(UTC), config
        )
        with pytest.raises(notices.NoticeRefused, match="只有草稿"):
            notices.edit(session, notice, "x", "y", officer(session), datetime.now(UTC))
    enqueue_written(live, session)
    withdrawn = the_notice(live)
    assert withdrawn.status == "withdrawn" and withdrawn.number.endswith(
        f"〔{datetime.now(ZONE).year}〕1号"
    )
    assert withdrawn.withdraw_reason == "客户撤回评价"
    run_worker(live)
    stages = [
        m["body"]["data"]["thing1"]["value"]
        for m in fake_wechat.messages("o_wang")
        if m["body"]["template_id"] == "TEMPLATE_ID_NOTICE_PUBLISHED"
    ]
    assert stages == ["通报批评", "通报批评撤回"]
    with live.sessions() as session:
        now = datetime.now(UTC)
        assert notices.per_person(session, now - timedelta(days=1), now + timedelta(days=1)) == {}


def test_a_draft_must_keep_a_title_and_a_text(runtime, demo):
    rate_ticket(runtime, make_ticket(runtime, status="archived"), 1)
    with transaction(runtime.sessions) as session:
        notice = notices.listing(session, status="draft")[0]
        for title, body, message in (
            ("", "正文", "标题"),
            ("标题", " ", "正文"),
            ("x" * 101, "正文", "标题"),
        ):
            with pytest.raises(notices.NoticeRefused, match=message):
                notices.edit(session, notice, title, body, officer(session), datetime.now(UTC))
