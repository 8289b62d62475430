"""The ticket page every push links to: every field, attachments, deadlines (provisional ones
marked), the timeline, the notifications and their delivery, the linked repeats, and the
actions the signed-in person may take now, through the same applier as the chat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.web.actions import ACTIONS
from models.core.workflow import MOVE_KINDS, MOVE_LABELS
from models.notification.tables import Notification
from models.people.tables import Staff
from models.ticket.tables import Deadline, Ticket, TicketEvent
from tests.factories import make_ticket, move
from tests.web.office import act, office_runtime, set_passwords, signed_in, text_of


@pytest.fixture
def site(runtime, demo, tmp_path):
    site = office_runtime(runtime, media_dir=str(tmp_path))
    set_passwords(site)
    yield site
    site.close()


def test_the_action_table_has_a_row_for_every_kind_of_move():
    assert set(ACTIONS) == set(MOVE_KINDS)


def test_every_field_of_the_form_is_on_the_page(site):
    number = make_ticket(
        site,
        status="received",
        handler=None,
        department=None,
        source_channel="政府投诉平台",
        external_number="12345-2026-0815",
        gas_account="200311",
        address="颍州区幸福路8号",
        content="第一行\n第二行：燃气表箱锈蚀",
    )
    page = text_of(signed_in(site, "officer").get(f"/tickets/{number}"))
    for words in (
        number,
        "已受理",
        "综合管理部",
        "维修",
        "张三",
        "13800138000",
        "政府投诉平台",
        "12345-2026-0815",
        "200311",
        "颍州区幸福路8号",
        "燃气表漏气",
        "燃气表箱锈蚀",
    ):
        assert words in page, words
    masked = text_of(signed_in(site, "leader").get(f"/tickets/{number}"))
    assert "138****8000" in masked and "13800138000" not in masked  # web.full_phone_roles


def test_images_are_shown_and_voice_is_playable(site, tmp_path):
    (tmp_path / "TS1").mkdir()
    (tmp_path / "TS1" / "a.jpg").write_bytes(b"\xff\xd8\xff\xe0jpeg")
    (tmp_path / "TS1" / "b.mp3").write_bytes(b"ID3audio")
    attachments = [
        {
            "kind": "image",
            "media_id": "m1",
            "pic_url": "",
            "file": "TS1/a.jpg",
            "content_type": "image/jpeg",
        },
        {
            "kind": "voice",
            "media_id": "m2",
            "pic_url": "",
            "file": "TS1/b.mp3",
            "content_type": "audio/mpeg",
            "recognition": "燃气表在漏气",
        },
        {"kind": "image", "media_id": "m3", "pic_url": "http://mmbiz.example/x"},
    ]
    number = make_ticket(site, attachments=attachments)
    client = signed_in(site, "handler")
    html = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert f'<img src="/tickets/{number}/attachments/0"' in html
    assert f'<audio controls preload="none" src="/tickets/{number}/attachments/1"' in html
    assert "尚未从微信下载保存" in html and "mmbiz.example" not in html  # nothing from outside
    image = client.get(f"/tickets/{number}/attachments/0")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert image.data == b"\xff\xd8\xff\xe0jpeg"
    assert client.get(f"/tickets/{number}/attachments/1").mimetype == "audio/mpeg"
    assert client.get(f"/tickets/{number}/attachments/2").status_code == 404
    assert client.get(f"/tickets/{number}/attachments/9").status_code == 404
    outsider = signed_in(site, "other_handler")
    assert outsider.get(f"/tickets/{number}/attachments/0").status_code == 404


def test_an_attachment_path_cannot_leave_the_media_folder(site, tmp_path):
    secret = tmp_path.parent / "secret.txt"
    secret.write_text("do not serve")
    number = make_ticket(site, attachments=[{"kind": "image", "file": "../secret.txt"}])
    response = signed_in(site, "officer").get(f"/tickets/{number}/attachments/0")
    assert response.status_code == 404 and b"do not serve" not in response.data


def test_deadlines_timeline_notifications_and_repeats(site):
    now = datetime.now(UTC)
    number = make_ticket(site, status="received", handler=None, department=None)
    move(site, number, "周敏", "assign", handler_name="王芳", text="请尽快上门")
    with site.sessions.begin() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        ticket.deadlines[-1].provisional = True  # as for a year the calendar does not know
        session.add(
            Deadline(
                ticket_id=ticket.id,
                clock="route",
                started_at=now - timedelta(hours=2),
                due_at=now - timedelta(hours=1),
                state="running",
            )
        )
        sent = session.scalars(select(Notification).where(Notification.ticket_id == ticket.id))
        for row in sent:
            row.status, row.channel, row.delivery = "sent", "template", "success"
        later = Ticket(
            **{
                c: getattr(ticket, c)
                for c in (
                    "appeal_type",
                    "customer_name",
                    "phone",
                    "source_channel",
                    "complained_at",
                    "matter",
                    "content",
                )
            },
            number="TS209912310001",
            status="received",
            repeat_of_id=ticket.id,
            repeat_flag=True,
            created_at=now,
            updated_at=now,
        )
        session.add(later)
    page = text_of(signed_in(site, "officer").get(f"/tickets/{number}"))
    assert "调查" in page and "办结" in page and "暂定" in page
    assert "转派" in page and "超期" in page  # the route clock is past due
    assert "周敏（投诉负责人） · 微信 派单至" in page and "（说明：请尽快上门）" in page
    assert "已受理 → 已派单" in page
    assert "新工单待办理" in page and "王芳" in page and "已发送" in page and "已送达" in page
    assert "重复投诉 TS209912310001" in page


def test_only_the_moves_the_person_may_make_now_are_offered(site):
    number = make_ticket(site)  # assigned to 王芳
    forms = {
        role: {
            kind
            for kind in MOVE_KINDS
            if f'/actions/{kind}"'
            in signed_in(site, role).get(f"/tickets/{number}").get_data(as_text=True)
        }
        for role in ("handler", "officer", "leader", "executive")
    }
    assert forms["handler"] == {"ack", "explain", "request_money"}
    assert forms["officer"] == {"assign", "escalate", "urge", "invalid"}
    assert forms["leader"] == {"assign", "escalate", "urge"}
    assert forms["executive"] == set()


@pytest.mark.parametrize(
    ("role", "status", "kind", "fields", "reason", "code"),
    [
        ("handler", "processing", "resolve", {"text": ""}, "缺少处理结果", 422),
        ("handler", "assigned", "resolve", {"text": "已修好"}, "该工单尚未接单，请先接单", 409),
        ("officer", "assigned", "ack", {}, "无权操作：该工单不是由您承办", 403),
        ("clerk", "assigned", "urge", {}, "无权操作：催办仅限投诉负责人或分管领导", 403),
        (
            "handler",
            "processing",
            "request_money",
            {"money_kind": "退款", "amount": "-5", "text": "多收"},
            "金额须为大于 0 的数字",
            422,
        ),
        ("officer", "processing", "extend", {"workdays": "3"}, "没有待审批的书面说明", 409),
    ],
)
def test_refusals_are_the_workflows_own_words(site, role, status, kind, fields, reason, code):
    number = make_ticket(site, status=status, registered_by="吴文")
    response = act(signed_in(site, role), number, kind, **fields)
    assert response.status_code == code
    assert reason in text_of(response)
    with site.sessions() as session:
        kinds = session.scalars(
            select(TicketEvent.kind).join(Ticket).where(Ticket.number == number)
        ).all()
    assert kinds == []


def test_a_refused_form_keeps_what_was_typed(site):
    number = make_ticket(
        site, status="processing", money_status="pending", money_kind="退款", money_amount=100
    )
    response = act(signed_in(site, "handler"), number, "resolve", text="已退还多收的气费")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "需分管领导审批同意后才能办结" in html and "已退还多收的气费</textarea>" in html


def test_actions_through_the_page_are_recorded_from_the_web(site):
    number = make_ticket(site, status="received", handler=None, department=None)
    officer, handler = signed_in(site, "officer"), signed_in(site, "handler")
    with site.sessions() as session:
        wang = session.scalar(select(Staff).where(Staff.name == "王芳"))
        target = f"{wang.department_id}:{wang.id}"
    steps = [
        (officer, "assign", {"target": target, "text": "请今天上门"}),
        (handler, "ack", {}),
        (handler, "progress", {"text": "已约好下午上门"}),
        (handler, "request_money", {"money_kind": "退款", "amount": "¥120.5", "text": "多收"}),
    ]
    for client, kind, fields in steps:
        response = act(client, number, kind, **fields)
        assert response.status_code == 303, text_of(client.get(f"/tickets/{number}"))
        page = text_of(client.get(response.headers["Location"]))
        assert f"{MOVE_LABELS[kind]}成功" in page
    leader = signed_in(site, "leader")
    assert act(leader, number, "decide_money", approve="yes", text="同意").status_code == 303
    assert act(handler, number, "resolve", text="已退款并更换阀门").status_code == 303
    with site.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        events = [(e.kind, e.channel, e.actor_name) for e in ticket.events]
        assert (ticket.status, ticket.money_status, str(ticket.money_amount)) == (
            "resolved",
            "approved",
            "120.50",
        )
    assert events == [
        ("assign", "web", "周敏"),
        ("ack", "web", "王芳"),
        ("progress", "web", "王芳"),
        ("request_money", "web", "王芳"),
        ("decide_money", "web", "钱立"),
        ("resolve", "web", "王芳"),
    ]


def test_a_handler_outside_the_department_cannot_be_named(site):
    number = make_ticket(site, status="received", handler=None, department=None)
    with site.sessions() as session:
        chen = session.scalar(select(Staff).where(Staff.name == "陈静"))  # 市场发展部
        wang = session.scalar(select(Staff).where(Staff.name == "王芳"))  # 运行维护部
    response = act(
        signed_in(site, "officer"), number, "assign", target=f"{wang.department_id}:{chen.id}"
    )
    assert response.status_code == 422 and "运行维护部没有这位承办人" in text_of(response)


def test_an_unknown_action_or_ticket_is_a_chinese_404(site):
    number = make_ticket(site)
    client = signed_in(site, "officer")
    assert "没有名为「fly」的工单操作" in text_of(client.post(f"/tickets/{number}/actions/fly"))
    missing = client.get("/tickets/TS209901010001")
    assert missing.status_code == 404 and "未找到工单 TS209901010001" in text_of(missing)


def test_the_page_says_why_a_move_is_not_possible_yet(site):
    number = make_ticket(
        site, status="processing", money_status="pending", money_kind="退款", money_amount=100
    )
    page = text_of(signed_in(site, "handler").get(f"/tickets/{number}"))
    assert "暂不能办结： 涉及退款/赔款/折让，需分管领导审批同意后才能办结" in page
    assert "暂不能申请： 已有金额申请等待审批" in page
    leader = text_of(signed_in(site, "leader").get(f"/tickets/{number}"))
    assert "暂不能" not in leader  # nothing of theirs is held up
