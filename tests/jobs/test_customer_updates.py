"""The customer hears about their ticket in one short message each (issue 9, point 11): which
department handles it and by when, and a new deadline after an extension."""

from __future__ import annotations

from tests.factories import CUSTOMER, HANDLER, OFFICER, file_ticket, run_worker, seed_bound_staff


def test_assignment_and_extension_each_reach_the_customer_once(live, live_wechat, fake_wechat):
    seed_bound_staff(live)
    number = file_ticket(live_wechat)
    live_wechat.text(OFFICER, f"派单 {number} 运行维护部 王芳")
    live_wechat.text(HANDLER, f"接单 {number}")
    live_wechat.text(HANDLER, f"说明 {number} 需等厂家配件")
    live_wechat.text(OFFICER, f"延期 {number} 3")
    live_wechat.text(OFFICER, f"派单 {number} 运行维护部 李强")  # same department: not told
    run_worker(live)
    texts = [m["body"]["text"]["content"] for m in fake_wechat.messages(CUSTOMER)]
    assert len(texts) == 2
    assigned, extended = texts
    assert assigned.startswith(f"您的投诉（单号 {number}）已交由运行维护部办理，预计")
    assert extended.startswith(f"您的投诉（单号 {number}）办理时限已延长，预计")
    assert all(len(text) <= 60 and "\n" not in text for text in texts)  # short
