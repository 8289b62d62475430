"""No phone number in any log or stored error (issue 10, point 8)."""

from __future__ import annotations

import io
import logging

from sqlalchemy import select, text

from bot import logs
from models.inbound import InboundMessage

PHONE = "13800138000"


def test_one_filter_masks_phones_in_every_handler_even_gunicorns():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    gunicorn = logging.getLogger("gunicorn.error.test")
    gunicorn.addHandler(handler)
    gunicorn.propagate = False
    try:
        assert logs.install() >= 1
        gunicorn.warning("客户 %s 来电，另一个号码 0558-2703802", PHONE)
        try:
            raise ValueError(f"bad phone {PHONE}")
        except ValueError:
            gunicorn.exception("failed")
    finally:
        gunicorn.removeHandler(handler)
    written = stream.getvalue()
    assert PHONE not in written and "2703802" not in written
    assert "138****8000" in written and "055****3802" in written
    assert "ValueError: bad phone 138****8000" in written


def test_a_failed_insert_leaks_no_phone_to_the_log_or_the_stored_error(
    wechat, runtime, monkeypatch, caplog
):
    import models.ticket.intake as intake

    def failing_insert(session, customer, draft, *_args, **_kwargs):
        session.execute(text("INSERT INTO tickets (phone) VALUES (:phone)"), {"phone": draft.phone})

    monkeypatch.setattr(intake, "create_wechat_ticket", failing_insert)
    logs.install()
    wechat.click("o_leak", "COMPLAINT_NEW")
    for answer in ("5", "燃气表漏气", "幸福路1号", "张三", PHONE):
        wechat.text("o_leak", answer)
    assert wechat.text("o_leak", "1", msg_id=990077) == "系统繁忙，请稍后再试。"
    assert "IntegrityError" in caplog.text and PHONE not in caplog.text
    with runtime.sessions() as session:
        row = session.scalars(select(InboundMessage).filter_by(dedupe_key="msg:990077")).one()
    assert row.status == "failed" and "IntegrityError" in row.error
    assert PHONE not in row.error
