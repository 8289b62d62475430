"""The ticket workflow: who may make which move when, and what each move does."""

from __future__ import annotations

import dataclasses

import pytest

from models.core.workflow import (
    MOVE_KINDS,
    Actor,
    ClockChange,
    Move,
    MoveRefused,
    Role,
    Severity,
    Status,
    TicketSnapshot,
    WorkflowConfig,
    allowed_moves,
    can_view,
    decide,
    initial_clocks,
    initial_notices,
    repeat_flags,
)

CONFIG = WorkflowConfig()
HANDLING_DEPT, OTHER_DEPT, GENERAL_DEPT = 2, 3, 1
HANDLER_ID, CUSTOMER_ID = 10, 7

ACTORS = {
    Role.CUSTOMER: Actor(Role.CUSTOMER, customer_id=CUSTOMER_ID),
    Role.HANDLER: Actor(Role.HANDLER, staff_id=HANDLER_ID, department_id=HANDLING_DEPT),
    Role.DEPT_HEAD: Actor(Role.DEPT_HEAD, staff_id=20, department_id=HANDLING_DEPT),
    Role.OFFICER: Actor(Role.OFFICER, staff_id=30, department_id=GENERAL_DEPT),
    Role.LEADER: Actor(Role.LEADER, staff_id=40),
    Role.EXECUTIVE: Actor(Role.EXECUTIVE, staff_id=50),
    Role.CLERK: Actor(Role.CLERK, staff_id=60, department_id=GENERAL_DEPT),
    Role.SYSTEM: Actor(Role.SYSTEM, channel="system"),
}
OTHER_HANDLER = Actor(Role.HANDLER, staff_id=11, department_id=HANDLING_DEPT)
OTHER_HEAD = Actor(Role.DEPT_HEAD, staff_id=21, department_id=OTHER_DEPT)
OTHER_CUSTOMER = Actor(Role.CUSTOMER, customer_id=8)


def ticket(**overrides: object) -> TicketSnapshot:
    base = TicketSnapshot(
        id=1,
        number="TS202611280001",
        status=Status.PROCESSING,
        severity=Severity.GENERAL,
        source_channel="微信公众号",
        receiving_department_id=HANDLING_DEPT,
        handling_department_id=HANDLING_DEPT,
        handler_id=HANDLER_ID,
        customer_id=CUSTOMER_ID,
    )
    return dataclasses.replace(base, **overrides)


RECEIVED = {"status": Status.RECEIVED, "handling_department_id": None, "handler_id": None}

# move kind -> (ticket in which the move is due, a well-formed move, roles that may make it)
TABLE: dict[str, tuple[dict, Move, set[Role]]] = {
    "assign": (
        RECEIVED,
        Move("assign", department_id=HANDLING_DEPT, handler_id=HANDLER_ID),
        {Role.OFFICER, Role.LEADER, Role.DEPT_HEAD},
    ),
    "ack": ({"status": Status.ASSIGNED}, Move("ack"), {Role.HANDLER, Role.DEPT_HEAD}),
    "progress": ({}, Move("progress", text="已上门查看"), {Role.HANDLER, Role.DEPT_HEAD}),
    "resolve": ({}, Move("resolve", text="已更换阀门"), {Role.HANDLER, Role.DEPT_HEAD}),
    "explain": ({}, Move("explain", text="需等待配件"), {Role.HANDLER, Role.DEPT_HEAD}),
    "request_money": (
        {},
        Move("request_money", money_kind="退款", amount="120.5"),
        {Role.HANDLER, Role.DEPT_HEAD},
    ),
    "extend": (
        {"explanation_pending": True},
        Move("extend", workdays=3),
        {Role.OFFICER, Role.LEADER},
    ),
    "decide_money": (
        {"money_status": "pending", "money_kind": "退款", "money_amount": "120.50"},
        Move("decide_money", approve=True),
        {Role.LEADER, Role.EXECUTIVE},
    ),
    "invalid": ({}, Move("invalid", text="非本公司业务"), {Role.OFFICER, Role.DEPT_HEAD}),
    "escalate": (
        {},
        Move("escalate", severity=Severity.COMPLEX),
        {Role.OFFICER, Role.LEADER},
    ),
    "urge": ({}, Move("urge"), {Role.OFFICER, Role.LEADER}),
    "callback": (
        {"status": Status.RESOLVED},
        Move("callback", satisfied=True),
        {Role.OFFICER, Role.CUSTOMER},
    ),
    "signoff": ({"rounds": 3}, Move("signoff"), {Role.LEADER}),
}


def test_the_table_covers_every_move_kind() -> None:
    assert set(TABLE) == set(MOVE_KINDS)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("kind", MOVE_KINDS)
def test_every_move_by_every_role(kind: str, role: Role) -> None:
    setup, move, allowed_roles = TABLE[kind]
    snapshot = ticket(**setup)
    actor = ACTORS[role]
    if role in allowed_roles:
        outcome = decide(snapshot, actor, move, CONFIG)
        assert outcome.event_text
        assert kind in allowed_moves(snapshot, actor, CONFIG)
    else:
        with pytest.raises(MoveRefused, match="无权操作"):
            decide(snapshot, actor, move, CONFIG)
        assert kind not in allowed_moves(snapshot, actor, CONFIG)


HEAD, OFFICER, LEADER = ACTORS[Role.DEPT_HEAD], ACTORS[Role.OFFICER], ACTORS[Role.LEADER]
GOV_RECEIVED = {**RECEIVED, "source_channel": "政府投诉平台"}
NOTE = Move("progress", text="x")


def assign_to(department: int, handler: int | None = None) -> Move:
    return Move("assign", department_id=department, handler_id=handler)


OWNERSHIP_CASES = [
    # (description, ticket overrides, actor, move, refusal fragment or None when allowed)
    ("same-department handler not assigned", {}, OTHER_HANDLER, Move("ack"), "不是由您承办"),
    ("head of another department", {}, OTHER_HEAD, NOTE, "本部门"),
    ("officer who is the named handler", {"handler_id": 30}, OFFICER, NOTE, None),
    ("head routes own received ticket", RECEIVED, HEAD, assign_to(HANDLING_DEPT), None),
    ("head routes to another department", RECEIVED, HEAD, assign_to(OTHER_DEPT), "本部门"),
    ("head of a non-receiving department", RECEIVED, OTHER_HEAD, assign_to(OTHER_DEPT), "本部门"),
    (
        "head names a handler in own department",
        {"status": Status.ASSIGNED, "handler_id": None},
        HEAD,
        assign_to(HANDLING_DEPT, 11),
        None,
    ),
    (
        "head routes a complex ticket",
        {**RECEIVED, "severity": Severity.COMPLEX},
        HEAD,
        assign_to(HANDLING_DEPT),
        "综合管理部",
    ),
    (
        "officer routes a major ticket",
        {**RECEIVED, "severity": Severity.MAJOR},
        OFFICER,
        assign_to(HANDLING_DEPT),
        None,
    ),
    ("officer routes a government ticket", GOV_RECEIVED, OFFICER, assign_to(2), "分管领导"),
    ("head routes a government ticket", GOV_RECEIVED, HEAD, assign_to(2), "分管领导"),
    ("leader routes a government ticket", GOV_RECEIVED, LEADER, assign_to(2), None),
    (
        "officer reassigns a government ticket",
        {"source_channel": "政府投诉平台"},
        OFFICER,
        assign_to(OTHER_DEPT),
        None,
    ),
    ("other head voids", {}, OTHER_HEAD, Move("invalid", text="x"), "本部门"),
    ("receiving head voids", RECEIVED, HEAD, Move("invalid", text="x"), None),
    (
        "customer calls back someone else's ticket",
        {"status": Status.RESOLVED},
        OTHER_CUSTOMER,
        Move("callback", satisfied=True),
        "本人",
    ),
]


@pytest.mark.parametrize(
    ("setup", "actor", "move", "refusal"),
    [case[1:] for case in OWNERSHIP_CASES],
    ids=[case[0] for case in OWNERSHIP_CASES],
)
def test_department_ownership(setup: dict, actor: Actor, move: Move, refusal: str | None) -> None:
    snapshot = ticket(**setup)
    if refusal is None:
        assert decide(snapshot, actor, move, CONFIG).event_kind == move.kind
    else:
        with pytest.raises(MoveRefused, match=refusal):
            decide(snapshot, actor, move, CONFIG)


@pytest.mark.parametrize(
    ("status", "reason"), [(Status.ARCHIVED, "该工单已归档"), (Status.INVALID, "该工单已作废")]
)
@pytest.mark.parametrize("kind", MOVE_KINDS)
def test_final_states_refuse_every_move(kind: str, status: Status, reason: str) -> None:
    setup, move, allowed_roles = TABLE[kind]
    snapshot = ticket(**{**setup, "status": status})
    for role in allowed_roles:
        with pytest.raises(MoveRefused) as refused:
            decide(snapshot, ACTORS[role], move, CONFIG)
        assert refused.value.reason == reason
    assert allowed_moves(snapshot, ACTORS[Role.OFFICER], CONFIG) == set()


@pytest.mark.parametrize(
    "kind", ["ack", "progress", "resolve", "explain", "request_money", "urge", "invalid"]
)
def test_resolved_ticket_refuses_handling_moves(kind: str) -> None:
    _, move, allowed_roles = TABLE[kind]
    role = sorted(allowed_roles)[0]
    with pytest.raises(MoveRefused, match="该工单已办结"):
        decide(ticket(status=Status.RESOLVED), ACTORS[role], move, CONFIG)


@pytest.mark.parametrize(
    ("status", "move", "fragment"),
    [
        (Status.ASSIGNED, Move("resolve", text="done"), "请先接单"),
        (Status.ASSIGNED, Move("progress", text="x"), "请先接单"),
        (Status.PROCESSING, Move("ack"), "已接单"),
        (Status.PROCESSING, Move("callback", satisfied=True), "尚未办结"),
    ],
)
def test_moves_only_follow_the_arrows(status: Status, move: Move, fragment: str) -> None:
    actor = ACTORS[Role.OFFICER] if move.kind == "callback" else ACTORS[Role.HANDLER]
    with pytest.raises(MoveRefused, match=fragment):
        decide(ticket(status=status), actor, move, CONFIG)


@pytest.mark.parametrize(
    ("setup", "move", "fragment"),
    [
        (RECEIVED, Move("assign"), "缺少承办部门"),
        ({}, Move("resolve", text="  "), "缺少处理结果"),
        ({}, Move("progress"), "缺少进展内容"),
        ({}, Move("explain"), "缺少说明原因"),
        ({}, Move("invalid"), "缺少无效原因"),
        ({"explanation_pending": True}, Move("extend"), "缺少延期工作日数"),
        ({"explanation_pending": True}, Move("extend", workdays=0), "延期工作日数"),
        ({}, Move("escalate"), "缺少严重程度"),
        ({}, Move("escalate", severity=Severity.GENERAL), "复杂或重大"),
        ({"severity": Severity.COMPLEX}, Move("escalate", severity=Severity.COMPLEX), "须高于"),
        ({"status": Status.RESOLVED}, Move("callback"), "满意或不满意"),
        ({"money_status": "pending"}, Move("decide_money"), "同意或驳回"),
        ({}, Move("request_money", money_kind="罚款", amount="10"), "退款、赔款、折让"),
        ({}, Move("request_money", money_kind="退款"), "缺少金额"),
    ],
)
def test_missing_or_bad_arguments_are_refused(setup: dict, move: Move, fragment: str) -> None:
    role = sorted(TABLE[move.kind][2])[0]
    with pytest.raises(MoveRefused, match=fragment):
        decide(ticket(**setup), ACTORS[role], move, CONFIG)


@pytest.mark.parametrize("amount", ["0", "0.00", "-5", "12.345", "abc", "1e3", "1,000"])
def test_money_amount_must_be_positive_with_two_decimals(amount: str) -> None:
    move = Move("request_money", money_kind="赔款", amount=amount)
    with pytest.raises(MoveRefused, match="金额须为大于 0 的数字"):
        decide(ticket(), ACTORS[Role.HANDLER], move, CONFIG)


def test_money_request_blocks_resolve_until_a_leader_approves() -> None:
    request = Move("request_money", money_kind="折让", amount="88.8", text="燃气表故障")
    outcome = decide(ticket(severity=Severity.MAJOR), ACTORS[Role.HANDLER], request, CONFIG)
    assert outcome.changes == {
        "money_status": "pending",
        "money_kind": "折让",
        "money_amount": "88.80",
    }
    assert [(n.recipient, n.kind) for n in outcome.notices] == [
        ("leader", "approval_request"),
        ("executive", "approval_request"),
    ]
    resolve = Move("resolve", text="已处理")
    for status in ("pending", "rejected"):
        with pytest.raises(MoveRefused, match="需分管领导审批同意后才能办结"):
            decide(ticket(money_status=status), ACTORS[Role.HANDLER], resolve, CONFIG)
    approval = decide(
        ticket(money_status="pending"),
        ACTORS[Role.LEADER],
        Move("decide_money", approve=True),
        CONFIG,
    )
    assert approval.changes == {"money_status": "approved"}
    assert approval.notices[0].recipient == f"staff:{HANDLER_ID}"
    assert decide(ticket(money_status="approved"), ACTORS[Role.HANDLER], resolve, CONFIG)


def test_general_money_request_does_not_bother_the_executive() -> None:
    move = Move("request_money", money_kind="退款", amount="10")
    outcome = decide(ticket(), ACTORS[Role.HANDLER], move, CONFIG)
    assert [n.recipient for n in outcome.notices] == ["leader"]


def test_first_assignment_starts_investigate_and_resolve_clocks() -> None:
    move = Move(
        "assign",
        department_id=HANDLING_DEPT,
        handler_id=12,
        department_name="维修部",
        handler_name="张三",
    )
    outcome = decide(ticket(**RECEIVED), ACTORS[Role.OFFICER], move, CONFIG)
    assert outcome.changes == {
        "status": Status.ASSIGNED,
        "handling_department_id": HANDLING_DEPT,
        "handler_id": 12,
    }
    assert outcome.event_text == "派单至 维修部（承办人 张三）"
    assert outcome.notices[0].recipient == "staff:12"
    assert outcome.notices[0].kind == "assignment"
    assert outcome.clocks == (
        ClockChange("stop", "route"),
        ClockChange("start", "investigate"),
        ClockChange("start", "resolve"),
    )


def test_assignment_without_handler_goes_to_the_department_head() -> None:
    move = Move("assign", department_id=OTHER_DEPT)
    outcome = decide(ticket(**RECEIVED), ACTORS[Role.LEADER], move, CONFIG)
    notice = outcome.notices[0]
    assert (notice.recipient, notice.payload.department_id) == ("dept_head", OTHER_DEPT)


def test_reassignment_restarts_investigation_and_needs_a_new_ack() -> None:
    move = Move("assign", department_id=OTHER_DEPT, handler_id=13)
    outcome = decide(ticket(), ACTORS[Role.OFFICER], move, CONFIG)
    assert outcome.changes["status"] is Status.ASSIGNED
    assert outcome.event_text.startswith("改派")
    assert outcome.clocks == (ClockChange("restart", "investigate"),)
    same = Move("assign", department_id=HANDLING_DEPT, handler_id=HANDLER_ID)
    with pytest.raises(MoveRefused, match="无需改派"):
        decide(ticket(), ACTORS[Role.OFFICER], same, CONFIG)


def test_repeat_with_overdue_history_raises_accountability_on_assignment() -> None:
    snapshot = ticket(**RECEIVED, has_open_repeat=True, repeat_overdue=True)
    outcome = decide(snapshot, ACTORS[Role.OFFICER], Move("assign", department_id=2), CONFIG)
    assert outcome.notices[0].payload.repeat is True
    kinds = {(n.recipient, n.kind) for n in outcome.notices}
    assert {("officer", "accountability"), ("leader", "accountability")} <= kinds


def test_head_acknowledging_an_unnamed_ticket_becomes_its_handler() -> None:
    snapshot = ticket(status=Status.ASSIGNED, handler_id=None)
    outcome = decide(snapshot, ACTORS[Role.DEPT_HEAD], Move("ack"), CONFIG)
    assert outcome.changes == {"status": Status.PROCESSING, "handler_id": 20}
    assert outcome.clocks == (ClockChange("stop", "investigate"),)


def test_unnamed_ticket_cannot_be_acknowledged_by_a_plain_handler() -> None:
    snapshot = ticket(status=Status.ASSIGNED, handler_id=None)
    with pytest.raises(MoveRefused, match="不是由您承办"):
        decide(snapshot, ACTORS[Role.HANDLER], Move("ack"), CONFIG)


def test_resolve_stores_the_result_and_asks_for_a_callback() -> None:
    outcome = decide(ticket(), ACTORS[Role.HANDLER], Move("resolve", text="已修复"), CONFIG)
    assert outcome.changes == {"status": Status.RESOLVED, "result": "已修复"}
    assert outcome.clocks == (ClockChange("stop", "resolve"), ClockChange("start", "callback"))
    by_recipient = {n.recipient: n for n in outcome.notices}
    assert by_recipient["customer"].kind == "callback_request"
    assert by_recipient["officer"].payload.phone is False
    hotline = ticket(source_channel="24小时客服热线", customer_id=None)
    hotline_outcome = decide(hotline, ACTORS[Role.HANDLER], Move("resolve", text="ok"), CONFIG)
    assert [n.payload.phone for n in hotline_outcome.notices] == [True]


def test_resolving_a_ticket_of_another_channel_puts_the_phone_call_back_on_the_list() -> None:
    hotline = ticket(source_channel="24小时客服热线", customer_id=None)
    outcome = decide(hotline, ACTORS[Role.HANDLER], Move("resolve", text="已修复"), CONFIG)
    assert outcome.changes["phone_callback"] is True
    wechat = decide(ticket(), ACTORS[Role.HANDLER], Move("resolve", text="已修复"), CONFIG)
    assert "phone_callback" not in wechat.changes


def test_satisfied_callback_archives() -> None:
    snapshot = ticket(status=Status.RESOLVED)
    move = Move("callback", satisfied=True)
    outcome = decide(snapshot, ACTORS[Role.CUSTOMER], move, CONFIG)
    assert outcome.changes == {"status": Status.ARCHIVED}
    assert outcome.event_kind == "archived"
    assert outcome.clocks == (ClockChange("stop", "callback"),)


def test_unsatisfied_callback_reopens_with_the_same_handler() -> None:
    snapshot = ticket(status=Status.RESOLVED, rounds=1, escalation_level=1)
    move = Move("callback", satisfied=False, text="气压仍然不足")
    outcome = decide(snapshot, ACTORS[Role.OFFICER], move, CONFIG)
    assert outcome.event_kind == "reopened"
    assert outcome.changes == {"status": Status.ASSIGNED, "rounds": 2, "escalation_level": 2}
    recipients = {(n.recipient, n.kind) for n in outcome.notices}
    assert {("officer", "reopened"), ("leader", "reopened")} <= recipients
    assert (f"staff:{HANDLER_ID}", "reopened") in recipients
    assert ClockChange("restart", "resolve") in outcome.clocks
    assert ClockChange("restart", "investigate") in outcome.clocks


def test_after_max_rounds_resolve_needs_a_leader_signoff() -> None:
    config = WorkflowConfig(max_rounds=2)
    reopened = ticket(status=Status.RESOLVED, rounds=1, leader_signed_off=True)
    outcome = decide(reopened, ACTORS[Role.OFFICER], Move("callback", satisfied=False), config)
    assert outcome.changes["rounds"] == 2
    assert outcome.changes["leader_signed_off"] is False
    round_two = ticket(rounds=2)
    with pytest.raises(MoveRefused, match="需分管领导签批"):
        decide(round_two, ACTORS[Role.HANDLER], Move("resolve", text="ok"), config)
    assert "signoff" in allowed_moves(round_two, ACTORS[Role.LEADER], config)
    signed = decide(round_two, ACTORS[Role.LEADER], Move("signoff"), config)
    assert signed.changes == {"leader_signed_off": True}
    resolved = dataclasses.replace(round_two, leader_signed_off=True)
    assert decide(resolved, ACTORS[Role.HANDLER], Move("resolve", text="ok"), config)
    with pytest.raises(MoveRefused, match="重办未满"):
        decide(ticket(rounds=1), ACTORS[Role.LEADER], Move("signoff"), config)


def test_invalid_stops_every_clock_and_tells_the_customer_why() -> None:
    move = Move("invalid", text="非燃气业务")
    outcome = decide(ticket(**RECEIVED), ACTORS[Role.OFFICER], move, CONFIG)
    assert outcome.changes == {"status": Status.INVALID, "invalid_reason": "非燃气业务"}
    assert {c.clock for c in outcome.clocks if c.action == "stop"} == {
        "route",
        "investigate",
        "resolve",
        "callback",
    }
    [notice] = outcome.notices
    assert (notice.recipient, notice.kind, notice.payload.reason) == (
        "customer",
        "invalid_reason",
        "非燃气业务",
    )


def test_escalation_to_major_notifies_the_executive_and_restarts_resolve() -> None:
    move = Move("escalate", severity=Severity.MAJOR)
    outcome = decide(ticket(), ACTORS[Role.LEADER], move, CONFIG)
    assert outcome.changes == {"severity": Severity.MAJOR}
    assert outcome.clocks == (ClockChange("restart", "resolve"),)
    assert ("executive", "escalated") in {(n.recipient, n.kind) for n in outcome.notices}
    received = decide(
        ticket(**RECEIVED),
        ACTORS[Role.OFFICER],
        Move("escalate", severity=Severity.COMPLEX),
        CONFIG,
    )
    assert received.clocks == (ClockChange("start", "route"),)
    assert all(n.recipient != "executive" for n in received.notices)


def test_extension_needs_a_pending_explanation_and_clears_it() -> None:
    explained = decide(ticket(), ACTORS[Role.HANDLER], Move("explain", text="需更换管道"), CONFIG)
    assert explained.changes == {"explanation_pending": True}
    assert explained.notices[0].recipient == "officer"
    with pytest.raises(MoveRefused, match="没有待审批的书面说明"):
        decide(ticket(), ACTORS[Role.OFFICER], Move("extend", workdays=3), CONFIG)
    outcome = decide(
        ticket(explanation_pending=True), ACTORS[Role.OFFICER], Move("extend", workdays=3), CONFIG
    )
    assert outcome.changes == {"explanation_pending": False}
    assert outcome.clocks == (ClockChange("extend", "resolve", 3),)


@pytest.mark.parametrize(
    ("handler_id", "recipient"), [(HANDLER_ID, "staff:10"), (None, "dept_head")]
)
def test_urge_reaches_the_handler_or_the_head(handler_id: int | None, recipient: str) -> None:
    outcome = decide(ticket(handler_id=handler_id), ACTORS[Role.OFFICER], Move("urge"), CONFIG)
    assert outcome.changes == {}
    assert [(n.recipient, n.kind) for n in outcome.notices] == [(recipient, "urge")]
    with pytest.raises(MoveRefused, match="尚未派单"):
        decide(ticket(**RECEIVED), ACTORS[Role.OFFICER], Move("urge"), CONFIG)


def test_unknown_move_is_refused() -> None:
    with pytest.raises(MoveRefused, match="未知操作"):
        decide(ticket(), ACTORS[Role.OFFICER], Move("delete"), CONFIG)


def test_allowed_moves_for_a_handler_on_a_processing_ticket() -> None:
    assert allowed_moves(ticket(), ACTORS[Role.HANDLER], CONFIG) == {
        "progress",
        "resolve",
        "explain",
        "request_money",
    }
    assert allowed_moves(ticket(status=Status.RESOLVED), ACTORS[Role.CUSTOMER], CONFIG) == {
        "callback"
    }


@pytest.mark.parametrize(
    ("actor", "visible"),
    [
        (ACTORS[Role.CUSTOMER], True),
        (OTHER_CUSTOMER, False),
        (Actor(Role.CUSTOMER), False),
        (ACTORS[Role.HANDLER], True),
        (OTHER_HANDLER, True),
        (OTHER_HEAD, False),
        (Actor(Role.HANDLER, staff_id=99, department_id=None), False),
        (ACTORS[Role.OFFICER], True),
        (ACTORS[Role.EXECUTIVE], True),
    ],
)
def test_can_view(actor: Actor, visible: bool) -> None:
    assert can_view(ticket(), actor) is visible


def test_a_clerk_sees_only_the_tickets_they_registered() -> None:
    clerk = ACTORS[Role.CLERK]
    assert can_view(ticket(registered_by_id=clerk.staff_id), clerk) is True
    assert can_view(ticket(registered_by_id=None), clerk) is False
    assert can_view(ticket(registered_by_id=61), clerk) is False


@pytest.mark.parametrize(
    ("channel", "urgent", "expected"),
    [
        ("微信公众号", False, set()),
        ("24小时客服热线", False, set()),
        ("政府投诉平台", False, {("leader", "government_intake")}),
        ("来访", True, {("officer", "urgent")}),
        ("政府投诉平台", True, {("leader", "government_intake"), ("officer", "urgent")}),
    ],
)
def test_a_new_ticket_tells_who_must_act_at_once(channel: str, urgent: bool, expected) -> None:
    notices = initial_notices(ticket(status=Status.RECEIVED, source_channel=channel), urgent)
    assert {(n.recipient, n.kind) for n in notices} == expected
    assert all(n.payload.number == "TS202611280001" for n in notices)


def test_customer_without_id_cannot_view_an_anonymous_ticket() -> None:
    assert can_view(ticket(customer_id=None), Actor(Role.CUSTOMER)) is False


@pytest.mark.parametrize(
    ("severity", "clocks"),
    [
        (Severity.GENERAL, ()),
        (Severity.COMPLEX, (ClockChange("start", "route"),)),
        (Severity.MAJOR, (ClockChange("start", "route"),)),
    ],
)
def test_initial_clocks(severity: Severity, clocks: tuple[ClockChange, ...]) -> None:
    assert initial_clocks(severity) == clocks


@pytest.mark.parametrize(
    ("args", "kwargs", "flags"),
    [
        ((False, False, 0), {}, (False, False)),
        ((True, False, 0), {}, (True, False)),
        ((False, False, 0), {"earlier_recent": True}, (True, False)),
        ((True, False, 1), {}, (True, True)),
        ((True, True, 0), {}, (True, True)),
        ((False, True, 3), {}, (False, False)),
    ],
)
def test_repeat_flags(args: tuple, kwargs: dict, flags: tuple[bool, bool]) -> None:
    assert repeat_flags(*args, **kwargs) == flags


def test_repeat_flags_rejects_a_negative_count() -> None:
    with pytest.raises(ValueError):
        repeat_flags(True, False, -1)
