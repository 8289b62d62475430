"""The 服务评价 menu in WeChat, end to end through the webhook: what a star tap rates, the
comment after it, second taps, and the policy's consequences with their notifications."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.db import transaction
from bot.runtime import build_runtime
from models.core.comment import CommentState
from models.notification.tables import Notification
from models.people.tables import Customer, Staff
from models.rating.tables import BusinessRecord, Rating, RatingCallback, RatingNotice, RatingRecord
from models.ticket.tables import Ticket, TicketEvent
from tests.factories import file_complaint, file_ticket, move, run_worker, seed_bound_staff
from tests.wechat_client import WeChatTestClient

CUSTOMER = "o_rating_customer"


@pytest.fixture
def staff(runtime):
    seed_bound_staff(runtime)


def resolved(runtime, wechat, openid: str = CUSTOMER, phone: str = "13800138000") -> str:
    """A ticket of `openid`, assigned to 王芳 and resolved by her."""
    file_complaint(wechat, openid, phone)
    with runtime.sessions() as session:
        number = session.scalars(select(Ticket.number).order_by(Ticket.id.desc())).first()
    move(runtime, number, "周敏", "assign", handler_name="王芳")
    move(runtime, number, "王芳", "ack")
    move(runtime, number, "王芳", "resolve", text="已更换燃气表")
    return number


def ratings_of(runtime) -> list[Rating]:
    with runtime.sessions() as session:
        return session.scalars(select(Rating).order_by(Rating.id)).all()


def age_ratings(runtime, hours: float = 2) -> None:
    """As if every rating had been given `hours` ago (past the second-tap window)."""
    with transaction(runtime.sessions) as session:
        for rating in session.scalars(select(Rating)):
            rating.created_at = rating.created_at - timedelta(hours=hours)


def add_business(
    runtime,
    order_no: str,
    *,
    openid: str | None = None,
    phone: str = "",
    staff_name: str = "陈静",
    kind: str = "报装",
    days_ago: int = 1,
) -> None:
    with transaction(runtime.sessions) as session:
        member = session.scalar(select(Staff).where(Staff.name == staff_name))
        session.add(
            BusinessRecord(
                kind=kind,
                order_no=order_no,
                phone=phone,
                openid=openid,
                staff_id=member.id,
                staff_name=member.name,
                completed_at=datetime.now(UTC) - timedelta(days=days_ago),
            )
        )


def staff_names(runtime, rows) -> list[str]:
    with runtime.sessions() as session:
        names = dict(session.execute(select(Staff.id, Staff.name)).all())
    return [names.get(row.staff_id) for row in rows]


def notices(runtime, kind: str) -> list[Notification]:
    with runtime.sessions() as session:
        return session.scalars(
            select(Notification).where(Notification.kind == kind).order_by(Notification.id)
        ).all()


# --- what a tap rates -----------------------------------------------------------------------


def test_a_tap_rates_the_resolved_ticket_and_a_comment_follows(wechat, runtime, staff):
    number = resolved(runtime, wechat)
    reply = wechat.click(CUSTOMER, "RATE_4")
    assert number in reply and "★★★★☆ 4星（满意）" in reply and "回复0跳过" in reply
    (rating,) = ratings_of(runtime)
    assert (rating.target, rating.stars, rating.channel) == ("ticket", 4, "wechat")
    assert staff_names(runtime, [rating]) == ["王芳"]  # the handler is responsible
    thanks = wechat.text(CUSTOMER, "师傅上门很及时，态度很好")
    assert "已收到您的留言" in thanks
    (rating,) = ratings_of(runtime)
    assert rating.comment == "师傅上门很及时，态度很好" and rating.commented_at is not None
    with runtime.sessions() as session:
        texts = [
            e.text for e in session.scalars(select(TicketEvent).where(TicketEvent.kind == "rated"))
        ]
    assert any("4星" in text for text in texts) and any("态度很好" in text for text in texts)
    assert runtime.stores.comments.get(CUSTOMER) is None


def test_the_most_recent_unrated_ticket_first_then_the_older_one(wechat, runtime, staff):
    older = resolved(runtime, wechat)
    newer = resolved(runtime, wechat)
    assert newer in wechat.click(CUSTOMER, "RATE_5")
    age_ratings(runtime)
    assert older in wechat.click(CUSTOMER, "RATE_3")
    with runtime.sessions() as session:
        rated = dict(
            session.execute(
                select(Ticket.number, Rating.stars).join(Rating, Rating.ticket_id == Ticket.id)
            ).all()
        )
    assert rated == {newer: 5, older: 3}


def test_an_archived_ticket_is_rated_but_an_open_one_is_not(wechat, runtime, staff):
    number = resolved(runtime, wechat)
    assert "已办结归档" in wechat.text(CUSTOMER, "1")  # satisfied: archived
    file_complaint(wechat, CUSTOMER)  # a second ticket, still open
    assert number in wechat.click(CUSTOMER, "RATE_5")


def test_without_a_ticket_the_linked_business_record_is_rated(wechat, runtime, staff):
    add_business(runtime, "BZ-OLD", openid=CUSTOMER, days_ago=30)
    add_business(runtime, "BZ-NEW", openid=CUSTOMER, days_ago=2, staff_name="刘洋", kind="点火")
    add_business(runtime, "BZ-OTHER", openid="o_someone_else", days_ago=0)
    reply = wechat.click(CUSTOMER, "RATE_5")
    assert "点火业务" in reply and "BZ-NEW" in reply and "5星" in reply
    (rating,) = ratings_of(runtime)
    assert rating.target == "business" and staff_names(runtime, [rating]) == ["刘洋"]
    with runtime.sessions() as session:
        praised = session.scalars(select(RatingRecord)).all()
    assert [(r.kind, r.stars) for r in praised] == [("praise", 5)]
    assert staff_names(runtime, praised) == ["刘洋"]


def test_a_business_record_is_linked_by_the_phone_the_customer_gave(wechat, runtime, staff):
    file_complaint(wechat, CUSTOMER, "13900001111")  # open: not ratable, but gives the phone
    add_business(runtime, "AZ-1", phone="13900001111", kind="安装")
    assert "安装业务（单号 AZ-1" in wechat.click(CUSTOMER, "RATE_2")
    (rating,) = ratings_of(runtime)
    assert rating.phone == "13900001111" and staff_names(runtime, [rating]) == ["陈静"]


def test_with_nothing_to_rate_the_service_in_general_is_rated(wechat, runtime, staff):
    reply = wechat.click(CUSTOMER, "RATE_3")
    assert "我们的整体服务" in reply and "★★★☆☆ 3星（一般）" in reply
    assert "留下联系电话" in reply  # no phone known for the call-back
    assert "抱歉" not in reply  # ★★★ 一般 is not answered as unhappy
    (rating,) = ratings_of(runtime)
    assert rating.target == "general" and rating.staff_id is None


def test_after_the_ticket_the_business_record_then_the_service(wechat, runtime, staff):
    number = resolved(runtime, wechat)
    add_business(runtime, "BZ-9", openid=CUSTOMER)
    assert number in wechat.click(CUSTOMER, "RATE_4")
    age_ratings(runtime)
    assert "BZ-9" in wechat.click(CUSTOMER, "RATE_4")
    age_ratings(runtime)
    assert "我们的整体服务" in wechat.click(CUSTOMER, "RATE_4")
    assert [r.target for r in ratings_of(runtime)] == ["ticket", "business", "general"]


# --- second taps ----------------------------------------------------------------------------


def test_a_second_tap_says_the_ticket_was_already_rated(wechat, runtime, staff):
    number = resolved(runtime, wechat)
    wechat.click(CUSTOMER, "RATE_5")
    wechat.text(CUSTOMER, "0")
    again = wechat.click(CUSTOMER, "RATE_1")
    assert "已" in again and "评价过" in again and number in again and "5星" in again
    (rating,) = ratings_of(runtime)
    assert rating.stars == 5
    with runtime.sessions() as session:
        assert session.scalars(select(RatingRecord.kind)).all() == ["praise"]
    assert notices(runtime, "rating_alert") == []


def test_a_second_tap_may_still_add_the_missing_comment(wechat, runtime, staff):
    resolved(runtime, wechat)
    wechat.click(CUSTOMER, "RATE_4")
    wechat.text(CUSTOMER, "0")
    again = wechat.click(CUSTOMER, "RATE_4")
    assert "如需补充留言" in again
    wechat.text(CUSTOMER, "补充一下：维修很快")
    assert ratings_of(runtime)[0].comment == "补充一下：维修很快"


def test_a_second_tap_rates_again_when_configured(runtime, staff):
    settings = runtime.settings.override(rating={"once_per_ticket": False})
    other = build_runtime(settings, redis=runtime.redis)
    client = WeChatTestClient(create_app(runtime=other).test_client(), settings)
    try:
        number = resolved(other, client)
        client.click(CUSTOMER, "RATE_5")
        again = client.click(CUSTOMER, "RATE_2")
        assert number in again and "2星" in again
        assert [(r.target, r.stars) for r in ratings_of(other)] == [("ticket", 5), ("ticket", 2)]
    finally:
        other.close()


# --- the comment step -----------------------------------------------------------------------


def test_zero_skips_the_comment(wechat, runtime, staff):
    wechat.click(CUSTOMER, "RATE_5")
    assert "感谢您的评价" in wechat.text(CUSTOMER, "０")
    assert ratings_of(runtime)[0].comment == ""
    guide = wechat.text(CUSTOMER, "你好")  # no longer a comment
    assert "我要投诉" in guide and ratings_of(runtime)[0].comment == ""


def test_the_comment_step_expires(wechat, runtime, staff):
    wechat.click(CUSTOMER, "RATE_4")
    comments = runtime.stores.comments
    minutes = runtime.settings.rating.comment_minutes
    state = comments.get(CUSTOMER).to_dict()
    state["updated_at"] = (datetime.now(UTC) - timedelta(minutes=minutes + 1)).isoformat()
    comments.save(CUSTOMER, CommentState.from_dict(state))
    reply = wechat.text(CUSTOMER, "服务不错")
    assert f"留言时间（{minutes}分钟）已过" in reply and "我要投诉" in reply
    assert ratings_of(runtime)[0].comment == ""
    assert comments.get(CUSTOMER) is None


def test_a_menu_click_leaves_the_comment_step(wechat, runtime, staff):
    number = resolved(runtime, wechat)
    wechat.click(CUSTOMER, "RATE_4")
    listing = wechat.click(CUSTOMER, "COMPLAINT_MINE")
    assert number in listing
    assert ratings_of(runtime)[0].comment == ""
    assert "我要投诉" in wechat.text(CUSTOMER, "随便说说")


def test_stickers_and_pictures_are_not_comments(wechat, runtime, staff):
    wechat.click(CUSTOMER, "RATE_5")
    assert "请用文字" in wechat.text(CUSTOMER, "[微笑]")
    assert "请用文字" in wechat.image(CUSTOMER)
    assert "已收到您的留言" in wechat.voice(CUSTOMER, "非常满意")
    assert ratings_of(runtime)[0].comment == "非常满意"


def test_a_too_long_comment_is_asked_again(wechat, runtime, staff):
    wechat.click(CUSTOMER, "RATE_5")
    limit = runtime.settings.rating.comment_max_chars
    assert f"{limit}字以内" in wechat.text(CUSTOMER, "好" * (limit + 1))
    assert "已收到" in wechat.text(CUSTOMER, "好" * limit)


def test_the_call_back_answer_is_not_taken_for_a_comment(wechat, runtime, staff):
    number = resolved(runtime, wechat)
    wechat.click(CUSTOMER, "RATE_5")
    assert "已办结归档" in wechat.text(CUSTOMER, "1")
    with runtime.sessions() as session:
        assert session.scalar(select(Ticket.status).where(Ticket.number == number)) == "archived"
    assert ratings_of(runtime)[0].comment == ""


def test_a_phone_left_in_the_comment_is_kept_for_the_call_back(wechat, runtime, staff):
    wechat.click(CUSTOMER, "RATE_2")
    wechat.text(CUSTOMER, "燃气费太贵了，请打我电话 139-1234-5678")
    with runtime.sessions() as session:
        task = session.scalar(select(RatingCallback))
    assert task.phone == "13912345678" and "太贵" in task.note


# --- consequences ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stars", "records", "call_back", "notice"),
    [
        (5, ["praise"], False, False),
        (4, [], False, False),
        (3, ["criticism"], True, False),
        (2, ["criticism"], True, True),
        (1, ["criticism"], True, True),
    ],
)
def test_each_threshold_has_its_consequences(
    wechat, runtime, staff, stars, records, call_back, notice
):
    number = resolved(runtime, wechat)
    reply = wechat.click(CUSTOMER, f"RATE_{stars}")
    assert ("电话回访" in reply) is call_back
    with runtime.sessions() as session:
        kept = session.scalars(select(RatingRecord).order_by(RatingRecord.id)).all()
        tasks = session.scalars(select(RatingCallback)).all()
        drafts = session.scalars(select(RatingNotice)).all()
    assert [r.kind for r in kept] == records and staff_names(runtime, kept) == ["王芳"] * len(kept)
    assert len(tasks) == int(call_back) and len(drafts) == int(notice)
    praise = notices(runtime, "rating_praise")
    assert staff_names(runtime, praise) == (["王芳"] if stars == 5 else [])
    alerts = notices(runtime, "rating_alert")
    assert staff_names(runtime, alerts) == (["周敏"] if call_back else [])
    if call_back:
        assert tasks[0].status == "open" and tasks[0].phone == "13800138000"
        assert staff_names(runtime, tasks) == ["周敏"]
        # the task's number (PJ…) is what the staff member types: 回访 PJ… 满意
        rating_id = alerts[0].payload["rating_id"]
        assert alerts[0].payload["number"] == f"PJ{rating_id}"
        assert alerts[0].payload["stars"] == stars
        with runtime.sessions() as session:  # the alert still links the rated ticket
            rated = session.scalar(select(Ticket.id).where(Ticket.number == number))
        assert alerts[0].ticket_id == rated
    drafts_sent = notices(runtime, "rating_notice")
    assert staff_names(runtime, drafts_sent) == (["周敏"] if notice else [])
    if notice:
        assert drafts[0].status == "draft" and "王芳" in drafts[0].title
        assert "通报批评" in drafts[0].body and staff_names(runtime, drafts) == ["王芳"]


def test_a_low_general_rating_gets_a_call_back_but_blames_nobody(wechat, runtime, staff):
    file_complaint(wechat, CUSTOMER, "13700002222")  # open ticket: the phone is known
    reply = wechat.click(CUSTOMER, "RATE_1")
    assert "我们的整体服务" in reply and "专人电话回访" in reply
    with runtime.sessions() as session:
        assert session.scalars(select(RatingRecord)).all() == []
        assert session.scalars(select(RatingNotice)).all() == []
        (task,) = session.scalars(select(RatingCallback)).all()
    assert task.phone == "13700002222"
    assert staff_names(runtime, notices(runtime, "rating_alert")) == ["周敏"]


def test_the_comment_reaches_the_draft_notice(wechat, runtime, staff):
    resolved(runtime, wechat)
    wechat.click(CUSTOMER, "RATE_1")
    wechat.text(CUSTOMER, "等了三天才来人")
    with runtime.sessions() as session:
        draft = session.scalar(select(RatingNotice))
        task = session.scalar(select(RatingCallback))
    assert "客户留言：等了三天才来人" in draft.body and task.note == "等了三天才来人"


def test_the_low_rating_alert_reaches_the_designated_staff_in_wechat(
    live, live_wechat, fake_wechat
):
    seed_bound_staff(live)
    number = file_ticket(live_wechat, CUSTOMER)
    move(live, number, "周敏", "assign", handler_name="王芳")
    move(live, number, "王芳", "ack")
    move(live, number, "王芳", "resolve", text="已修复")
    live_wechat.click(CUSTOMER, "RATE_2")
    run_worker(live)
    template_id = live.settings.templates.kinds["rating_alert"]["id"]
    alerts = [
        m
        for m in fake_wechat.messages("o_loop_officer")
        if m["body"].get("template_id") == template_id
    ]
    assert len(alerts) == 1  # the task's number to type (PJ…), linked to the rated ticket
    assert alerts[0]["body"]["data"]["character_string1"]["value"].startswith("PJ")
    assert alerts[0]["body"]["url"].endswith(f"/tickets/{number}")
    assert [r.status for r in notices(live, "rating_alert")] == ["sent"]


def test_the_call_back_goes_to_whoever_is_configured(runtime, staff):
    settings = runtime.settings.override(
        rating={"callback_staff": "刘洋", "callback_at_or_below": 4}
    )
    other = build_runtime(settings, redis=runtime.redis)
    client = WeChatTestClient(create_app(runtime=other).test_client(), settings)
    try:
        resolved(other, client)
        client.click(CUSTOMER, "RATE_4")
        assert staff_names(other, notices(other, "rating_alert")) == ["刘洋"]
        with other.sessions() as session:
            tasks = session.scalars(select(RatingCallback)).all()
        assert staff_names(other, tasks) == ["刘洋"]
    finally:
        other.close()


def test_the_customer_record_is_kept(wechat, runtime, staff):
    wechat.click(CUSTOMER, "RATE_5")
    with runtime.sessions() as session:
        customer = session.scalar(select(Customer).where(Customer.openid == CUSTOMER))
        assert session.scalar(select(Rating.customer_id)) == customer.id
