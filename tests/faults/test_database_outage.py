"""The database never holds a push hostage (issue 10, point 2): a table locked from a second
connection, the engine pointed at a closed port, a push left 'processing' by a killed worker.
Every push is answered within WeChat's 5 s; nothing is answered as handled unless it was;
whatever waited is handled later and its answer sent as a customer-service message."""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, select, text

from bot import wechat
from bot.app import create_app
from bot.inbox import RECEIVED_LATER, Inbox
from bot.replay import reclaim_abandoned, replay_spool
from bot.runtime import build_runtime
from handlers.incoming import IncomingMessage
from models.inbound import InboundMessage
from models.notification.tables import Notification
from models.ticket.tables import Ticket
from tests.factories import file_complaint, run_worker
from tests.faults.support import free_port
from tests.wechat_client import WeChatTestClient

WECHAT_SECONDS = 5.0


@contextmanager
def locked(settings, table: str):
    """ACCESS EXCLUSIVE on `table`, held by a second connection until the block ends."""
    engine = create_engine(settings.database_url)
    with engine.connect() as connection:
        connection.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        try:
            yield
        finally:
            connection.rollback()
    engine.dispose()


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def late_replies(runtime, openid: str | None = None) -> list[str]:
    with runtime.sessions() as session:
        rows = session.scalars(select(Notification).filter_by(kind="late_reply")).all()
    return [row.payload.get("note", "") for row in rows]


def test_a_locked_table_delays_only_the_pushes_that_need_it(
    postgres, outage, outage_wechat, fake_wechat
):
    file_complaint(outage_wechat, "o_locked")
    client = create_app(runtime=outage).test_client()
    with locked(postgres, "tickets"):
        waiting, seconds = timed(lambda: outage_wechat.text("o_locked", "查询"))
        assert waiting == RECEIVED_LATER and seconds < WECHAT_SECONDS
        other, seconds = timed(lambda: outage_wechat.text("o_free", "电话"))
        assert "0558" in other and seconds < 1.0
        health, seconds = timed(lambda: client.get("/healthz"))
        assert health.status_code == 200 and seconds < WECHAT_SECONDS
    later = datetime.now(UTC) + timedelta(seconds=outage.settings.wechat.reclaim_after_seconds)
    assert reclaim_abandoned(outage, later, Inbox(outage, clock=lambda: later)) == 1
    (answer,) = late_replies(outage)
    assert "您最近的投诉" in answer and "TS" in answer
    run_worker(outage)
    (message,) = fake_wechat.messages("o_locked")
    assert message["kind"] == "custom" and "您最近的投诉" in message["body"]["text"]["content"]


def test_a_locked_inbox_sends_pushes_to_the_spool_and_back(postgres, outage, outage_wechat):
    with locked(postgres, "inbound_messages"):
        reply, seconds = timed(lambda: outage_wechat.click("o_spooled", "COMPLAINT_NEW"))
        assert reply == RECEIVED_LATER and seconds < WECHAT_SECONDS
        reply, seconds = timed(lambda: outage_wechat.text("o_spooled", "5"))
        assert reply == RECEIVED_LATER and seconds < WECHAT_SECONDS
    assert replay_spool(outage) == (2, 0)
    answers = late_replies(outage)
    assert len(answers) == 2 and "诉求类型" in answers[0] and "描述" in answers[1]


def test_with_the_database_gone_a_confirmation_is_kept_and_the_number_sent_later(
    runtime, outage, outage_wechat, fake_wechat
):
    for step in ("COMPLAINT_NEW", "5", "燃气表漏气", "幸福路1号", "张三", "13800138000"):
        if step == "COMPLAINT_NEW":
            outage_wechat.click("o_gone", step)
        else:
            outage_wechat.text("o_gone", step)
    port = free_port()  # nothing listens there
    gone = outage.settings.override(
        database={"url": f"postgresql+psycopg://postgres@127.0.0.1:{port}/bihuan"}
    )
    down = build_runtime(gone, redis=outage.redis)
    try:
        client = WeChatTestClient(create_app(runtime=down).test_client(), gone)
        reply, seconds = timed(lambda: client.text("o_gone", "1"))  # 1 = 确认
        assert reply == RECEIVED_LATER and seconds < WECHAT_SECONDS
        forged = client.message("o_officer", "text", Content="派单 TS202611280001 运行维护部")
        nonce = client.last_response.request.args["nonce"]  # replayed with another body
        assert client.post_xml(wechat.build_push_xml(forged), nonce=nonce).status_code == 200
        health, seconds = timed(lambda: create_app(runtime=down).test_client().get("/healthz"))
        assert health.status_code == 503 and seconds < WECHAT_SECONDS
        assert health.get_json()["spool"] == 2
    finally:
        down.close()
    with outage.sessions() as session:
        assert session.scalars(select(Ticket)).all() == []  # not filed yet, not lost either
    assert replay_spool(outage) == (1, 0)  # the forged one is dropped: nonce reused
    with outage.sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert session.scalars(select(InboundMessage.openid)).all().count("o_officer") == 0
    (answer,) = late_replies(outage)
    assert ticket.number in answer and ticket.phone == "13800138000"
    run_worker(outage)
    (message,) = fake_wechat.messages("o_gone")
    assert ticket.number in message["body"]["text"]["content"]


def abandon(runtime, inbox: Inbox, openid: str, text_: str, msg_id: int) -> int:
    """A push recorded and then left: its worker was killed before it handled it."""
    fields = {
        "ToUserName": "gh_test",
        "FromUserName": openid,
        "CreateTime": int(time.time()),
        "MsgType": "text",
        "Content": text_,
        "MsgId": msg_id,
    }
    xml = wechat.build_push_xml(fields)
    return inbox._claim(IncomingMessage.from_fields(wechat.parse(xml)), xml, None)


def test_a_push_left_processing_gets_a_real_answer_on_retry(outage, outage_wechat):
    inbox = Inbox(outage)
    abandon(outage, inbox, "o_killed", "电话", 55501)
    reply = outage_wechat.text("o_killed", "电话", msg_id=55501)  # WeChat's retry
    assert "0558" in reply
    with outage.sessions() as session:
        row = session.scalars(select(InboundMessage).filter_by(dedupe_key="msg:55501")).one()
    assert row.status == "done" and not row.late


def test_the_senders_next_push_waits_for_an_abandoned_one_and_takes_it_over(outage, outage_wechat):
    outage_wechat.click("o_order", "COMPLAINT_NEW")
    past = datetime.now(UTC) - timedelta(seconds=outage.settings.wechat.reclaim_after_seconds + 1)
    abandon(outage, Inbox(outage, clock=lambda: past), "o_order", "5", 55601)
    reply = outage_wechat.text("o_order", "燃气表漏气")
    assert "地址" in reply  # "5" was the appeal type, then this the description
    answers = late_replies(outage)
    assert len(answers) == 1 and "描述" in answers[0]
    state = outage.conversations.get("o_order")
    assert state.step == "address" and state.draft.content == "燃气表漏气"


def test_the_sweep_reclaims_pushes_past_their_lease(outage, outage_wechat):
    inbox = Inbox(outage)
    abandon(outage, inbox, "o_swept", "查询", 55701)
    assert reclaim_abandoned(outage) == 0  # still within its lease
    later = datetime.now(UTC) + timedelta(seconds=outage.settings.wechat.reclaim_after_seconds)
    assert reclaim_abandoned(outage, later, Inbox(outage, clock=lambda: later)) == 1
    assert late_replies(outage) and "还没有" in late_replies(outage)[0]
    retry = outage_wechat.text("o_swept", "查询", msg_id=55701)
    assert retry == ""  # its answer went as a message: not a second time
