"""The per-openid stores live in the database, in the push's own transaction: a Redis flush
loses nothing, and a push that fails keeps nothing half-written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.db import transaction


def test_a_redis_flush_loses_no_conversation_step(wechat, runtime):
    wechat.click("o_flush", "COMPLAINT_NEW")
    wechat.text("o_flush", "5")
    runtime.redis.flushall()
    assert "地址" in wechat.text("o_flush", "燃气表漏气")
    assert runtime.conversations.get("o_flush").draft.content == "燃气表漏气"


def test_a_step_is_saved_with_its_push_or_not_at_all(runtime):
    from models.core.conversation import start

    state = start(datetime.now(UTC), runtime.policy.conversation).state
    with pytest.raises(RuntimeError), transaction(runtime.sessions) as session:
        runtime.stores.bound(session, datetime.now(UTC)).conversations.save("o_atomic", state)
        raise RuntimeError("the handler failed after saving")
    assert runtime.conversations.get("o_atomic") is None


def test_a_binding_lock_ends_when_its_hour_is_over(runtime):
    failures = runtime.stores.binding_failures
    now = datetime.now(UTC)
    with transaction(runtime.sessions) as session:
        bound = runtime.stores.bound(session, now).binding_failures
        for _ in range(failures.MAX_FAILURES):
            bound.fail("o_locked")
        assert bound.locked_for("o_locked") == failures.LOCK_SECONDS
    later = now + timedelta(seconds=failures.LOCK_SECONDS + 1)
    with transaction(runtime.sessions) as session:
        assert runtime.stores.bound(session, later).binding_failures.locked_for("o_locked") == 0


def test_deferred_writes_are_read_back_at_once_and_reach_the_database_with_the_push(runtime):
    """A push handled at once keeps its chat state writes for its last round trip: the
    handler reads them back meanwhile, and they are committed with the push or not at all."""
    from models.pipeline import run_together

    now = datetime.now(UTC)
    reasons = runtime.stores.callback_reasons
    for sent in (False, True):
        with transaction(runtime.sessions) as session:
            stores = runtime.stores.bound(session, now, deferred=True)
            stores.callback_reasons.expect("o_deferred", 42)
            stores.comments.clear("o_deferred")  # nothing there: no step
            assert stores.callback_reasons.pending("o_deferred") == 42
            pending = stores.access.take_pending()
            assert len(pending) == 1 and stores.access.take_pending() == []
            if sent:
                run_together(session, pending)
        assert reasons.pending("o_deferred") == (42 if sent else None)
    with transaction(runtime.sessions) as session:
        stores = runtime.stores.bound(session, now, deferred=True)
        stores.callback_reasons.clear("o_deferred")
        assert stores.callback_reasons.pending("o_deferred") is None
        stores.access.take_pending()  # dropped: as when the push's transaction fails
    assert reasons.pending("o_deferred") == 42


def test_a_conversation_step_through_the_webhook_is_kept_with_its_push(wechat, runtime):
    wechat.click("o_steps", "COMPLAINT_NEW")
    wechat.text("o_steps", "5")
    assert "地址" in wechat.text("o_steps", "燃气表漏气")
    assert runtime.conversations.get("o_steps").draft.content == "燃气表漏气"
