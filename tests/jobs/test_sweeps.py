"""The retention sweep (issue 10, point 8): raw push XML and stored replies are emptied after
wechat.raw_retention_days; nonces after the freshness window; chat state once expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.db import transaction
from jobs.sweeps import purge_expired
from models import chat_state
from models.inbound import InboundMessage, PushNonce


def push(session, key: str, received: datetime, status: str = "done") -> None:
    session.add(
        InboundMessage(
            dedupe_key=key,
            openid="o_old",
            msg_type="text",
            raw_xml="<xml><Content>13800138000</Content></xml>",
            reply="联系电话：13800138000",
            status=status,
            received_at=received,
        )
    )


def test_old_raw_pushes_nonces_and_expired_state_are_purged(runtime):
    now = datetime.now(UTC)
    days = runtime.settings.wechat.raw_retention_days
    with transaction(runtime.sessions) as session:
        push(session, "msg:old", now - timedelta(days=days + 1))
        push(session, "msg:new", now - timedelta(days=days - 1))
        push(session, "msg:stuck", now - timedelta(days=days + 1), status="processing")
        session.add(PushNonce(nonce="old", digest="d", seen_at=now - timedelta(hours=1)))
        session.add(PushNonce(nonce="new", digest="d", seen_at=now))
        chat_state.put(
            session, None, ("o_a", "conversation"), "{}", now - timedelta(seconds=1), now
        )
        chat_state.put(session, None, ("o_b", "conversation"), "{}", now + timedelta(hours=1), now)
    assert purge_expired(runtime, now) == 3
    with runtime.sessions() as session:
        raw = dict(session.execute(select(InboundMessage.dedupe_key, InboundMessage.raw_xml)).all())
        nonces = session.scalars(select(PushNonce.nonce)).all()
        states = session.scalars(select(chat_state.ChatState.openid)).all()
    assert raw["msg:old"] == "" and "13800138000" in raw["msg:new"]
    assert "13800138000" in raw["msg:stuck"]  # still to be handled: kept
    assert nonces == ["new"] and states == ["o_b"]
