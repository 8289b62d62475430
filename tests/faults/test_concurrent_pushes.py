"""One customer, one message at a time (issue 10, point 4): two answers sent together — the
second arriving while the first is still being handled — are handled in arrival order and
never lose or swap an answer. The handling of each first answer is slowed down a little
(as a busy database would), so that the two always overlap."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

import bot.inbox as inbox_module
from bot.app import create_app
from models.inbound import InboundMessage
from models.people.tables import Customer
from models.ticket.tables import Ticket
from tests.faults.support import wait_for
from tests.wechat_client import WeChatTestClient

ROUNDS = 50
SLOW_SECONDS = 0.03


@pytest.fixture
def slow_first_answers(monkeypatch):
    """Handling a push whose text starts with 「先」 takes SLOW_SECONDS longer."""
    real = inbox_module.dispatch

    def slow(ctx, message):
        if message.text.startswith("先"):
            time.sleep(SLOW_SECONDS)
        return real(ctx, message)

    monkeypatch.setattr(inbox_module, "dispatch", slow)


def claimed(runtime, msg_id: int) -> bool:
    with runtime.sessions() as session:
        key = f"msg:{msg_id}"
        return session.scalar(select(InboundMessage.id).filter_by(dedupe_key=key)) is not None


def together(app, runtime, openid: str, first: str, second: str, ids) -> list[str]:
    """Send `first`, and `second` as soon as `first` has arrived (while it is handled)."""
    replies: dict[str, str] = {}
    first_id, second_id = next(ids), next(ids)

    def send(key: str, text: str, msg_id: int) -> None:
        poster = WeChatTestClient(app.test_client(), runtime.settings)
        replies[key] = poster.text(openid, text, msg_id=msg_id)

    sender = threading.Thread(target=send, args=("first", first, first_id))
    sender.start()
    wait_for(lambda: claimed(runtime, first_id), 5, "the first answer to arrive")
    send("second", second, second_id)
    sender.join(10)
    return [replies.get("first", ""), replies.get("second", "")]


def test_answers_sent_together_are_never_lost_or_swapped(runtime, slow_first_answers):
    app = create_app(runtime=runtime)
    wechat = WeChatTestClient(app.test_client(), runtime.settings)
    ids = iter(range(7_700_000, 7_800_000))
    expected = {}
    for n in range(ROUNDS):
        openid = f"o_pair_{n:02d}"
        wechat.click(openid, "COMPLAINT_NEW")
        wechat.text(openid, "5")
        content, address = f"先是燃气表漏气{n}", f"幸福路{n}号"
        name, phone = f"先生{n}", f"1390000{n:04d}"
        together(app, runtime, openid, content, address, ids)
        replies = together(app, runtime, openid, name, phone, ids)
        assert "请核对" in replies[1], replies
        assert "受理单号" in wechat.text(openid, "1")
        expected[openid] = (content, address, name, phone)
    with runtime.sessions() as session:
        rows = session.execute(
            select(
                Customer.openid, Ticket.content, Ticket.address, Ticket.customer_name, Ticket.phone
            ).join(Customer, Customer.id == Ticket.customer_id)
        ).all()
    got = {openid: tuple(fields) for openid, *fields in rows}
    assert len(rows) == ROUNDS
    assert got == expected
