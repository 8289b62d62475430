"""Properties of the ticket workflow over random sequences of moves by random actors."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from hypothesis import event, given, settings
from hypothesis import strategies as st

from models.core.workflow import (
    MOVE_KINDS,
    Actor,
    Move,
    MoveRefused,
    Outcome,
    Role,
    Severity,
    Status,
    TicketSnapshot,
    WorkflowConfig,
    allowed_moves,
    decide,
)

COLUMNS = {f.name for f in dataclasses.fields(TicketSnapshot)}
EXTRA_COLUMNS = {"result", "invalid_reason"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")
RECIPIENT = re.compile(r"officer|leader|executive|customer|dept_head|staff:\d+")
NOTICE_KINDS = {
    "assignment",
    "urge",
    "invalid_reason",
    "approval_request",
    "approval_result",
    "callback_request",
    "callback_result",
    "reopened",
    "explanation",
    "escalated",
    "accountability",
    "assigned",
    "extended",
    "signoff",
    "returned",
    "resolution",
}
CLOCK_ACTIONS = {"start", "stop", "cancel", "restart", "extend"}
CLOCK_NAMES = {"contact", "route", "investigate", "resolve", "callback"}

CAST = (
    Actor(Role.CUSTOMER, customer_id=7),
    Actor(Role.CUSTOMER, customer_id=8),
    Actor(Role.HANDLER, staff_id=10, department_id=2),
    Actor(Role.HANDLER, staff_id=11, department_id=2),
    Actor(Role.HANDLER, staff_id=12, department_id=3),
    Actor(Role.DEPT_HEAD, staff_id=20, department_id=2),
    Actor(Role.DEPT_HEAD, staff_id=21, department_id=3),
    Actor(Role.OFFICER, staff_id=30, department_id=1),
    Actor(Role.LEADER, staff_id=40),
    Actor(Role.EXECUTIVE, staff_id=50),
    Actor(Role.CLERK, staff_id=60),
    Actor(Role.SYSTEM, channel="system"),
)


def moves(kind: str) -> st.SearchStrategy[Move]:
    """Moves of one kind with arguments that are mostly right and sometimes wrong."""
    return st.builds(
        Move,
        kind=st.just(kind),
        department_id=st.sampled_from([2, 3, None]),
        handler_id=st.sampled_from([10, 11, 20, None]),
        text=st.sampled_from(["已处理", "已处理", "", "  "]),
        severity=st.sampled_from([Severity.COMPLEX, Severity.MAJOR, Severity.GENERAL, None]),
        workdays=st.sampled_from([3, 3, 0, 100, None]),
        money_kind=st.sampled_from(["退款", "赔款", "折让", "罚款", ""]),
        amount=st.sampled_from(["100", "99.9", "0", "-5", "12.345", "abc", ""]),
        approve=st.sampled_from([True, False, None]),
        satisfied=st.sampled_from([True, False, None]),
    )


# one step: a number that picks the (actor, kind) pair, whether to pick among allowed pairs
# only (guided), and the move's arguments (its kind is replaced by the picked one)
steps = st.tuples(
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=0, max_value=4).map(bool),
    moves("placeholder"),
)


# the move along the arrow out of each open state: guided walks favour it to reach the end
FORWARD = {
    Status.RECEIVED: "assign",
    Status.ASSIGNED: "ack",
    Status.PROCESSING: "resolve",
    Status.RESOLVED: "callback",
}


def pick(ticket: TicketSnapshot, config: WorkflowConfig, number: int, guided: bool):
    """The (actor, kind) of a step; guided steps pick a kind allowed right now, then its actor."""
    if guided:
        allowed = {actor: allowed_moves(ticket, actor, config) for actor in CAST}
        kinds = sorted(set().union(*allowed.values()))
        if number % 10:  # voiding ends the walk; keep it rare so walks reach the call-back
            kinds = [kind for kind in kinds if kind != "invalid"]
        forward = FORWARD.get(ticket.status)
        if kinds:
            kind = forward if forward in kinds and number % 3 == 0 else kinds[number % len(kinds)]
            actors = [actor for actor in CAST if kind in allowed[actor]]
            return actors[(number // len(kinds)) % len(actors)], kind
    return CAST[number % len(CAST)], MOVE_KINDS[(number // len(CAST)) % len(MOVE_KINDS)]


new_tickets = st.builds(
    TicketSnapshot,
    id=st.just(1),
    number=st.just("TS202611280001"),
    status=st.just(Status.RECEIVED),
    severity=st.sampled_from(list(Severity)),
    source_channel=st.sampled_from(["微信公众号", "政府投诉平台", "24小时客服热线"]),
    receiving_department_id=st.sampled_from([2, 3]),
    handling_department_id=st.none(),
    handler_id=st.none(),
    customer_id=st.sampled_from([7, None]),
    has_open_repeat=st.booleans(),
    repeat_overdue=st.booleans(),
)
configs = st.builds(WorkflowConfig, max_rounds=st.integers(min_value=1, max_value=2))


@dataclass
class History:
    """What the tiny in-test applier saw: the timeline and a few facts for the invariants."""

    events: list[str] = field(default_factory=list)
    accepted: int = 0
    resolved_this_round: bool = False
    money_decided_since_request: bool = True


def apply(ticket: TicketSnapshot, outcome: Outcome) -> TicketSnapshot:
    assert set(outcome.changes) <= COLUMNS | EXTRA_COLUMNS
    columns = {k: v for k, v in outcome.changes.items() if k in COLUMNS}
    return dataclasses.replace(ticket, **columns)


def check_transition(
    before: TicketSnapshot, after: TicketSnapshot, move: Move, outcome: Outcome, history: History
) -> None:
    expected_event = move.kind
    if move.kind == "callback":
        expected_event = "archived" if move.satisfied else "reopened"
    assert outcome.event_kind == expected_event
    assert CHINESE.search(outcome.event_text)
    for notice in outcome.notices:
        assert RECIPIENT.fullmatch(notice.recipient) and notice.kind in NOTICE_KINDS
        assert notice.payload.ticket_id == before.id
    for clock in outcome.clocks:
        assert clock.action in CLOCK_ACTIONS and clock.clock in CLOCK_NAMES
    if after.status is Status.INVALID:
        assert {c.clock for c in outcome.clocks if c.action == "stop"} == CLOCK_NAMES
    if after.status is Status.ARCHIVED and before.status is not Status.ARCHIVED:
        assert before.status is Status.RESOLVED and move.kind == "callback" and move.satisfied
        assert history.resolved_this_round
    if after.status is Status.RESOLVED and before.status is not Status.RESOLVED:
        # a request approved or refused is over; only a pending one blocks 办结
        assert after.money_status in {"none", "approved", "rejected"}
        assert history.money_decided_since_request
    if after.rounds > before.rounds:
        assert after.status is Status.ASSIGNED and not after.leader_signed_off


def record(move: Move, outcome: Outcome, history: History) -> None:
    history.accepted += 1
    history.events.append(outcome.event_kind)
    if outcome.event_kind == "resolve":
        history.resolved_this_round = True
    if outcome.event_kind == "reopened":
        history.resolved_this_round = False
    if move.kind == "request_money":
        history.money_decided_since_request = False
    if move.kind == "decide_money":
        history.money_decided_since_request = True


@settings(max_examples=400, deadline=None)
@given(start=new_tickets, config=configs, plan=st.lists(steps, min_size=5, max_size=80))
def test_random_sequences_keep_the_loop_honest(
    start: TicketSnapshot, config: WorkflowConfig, plan: list[tuple[int, bool, Move]]
) -> None:
    ticket, history = start, History()
    for number, guided, arguments in plan:
        actor, kind = pick(ticket, config, number, guided)
        move = dataclasses.replace(arguments, kind=kind)
        allowed = allowed_moves(ticket, actor, config)
        before, values_before = ticket, dataclasses.astuple(ticket)
        try:
            outcome = decide(ticket, actor, move, config)
        except MoveRefused as refused:
            assert dataclasses.astuple(ticket) == values_before
            assert CHINESE.search(refused.reason)
            continue
        assert dataclasses.astuple(ticket) == values_before  # decide never mutates
        assert kind in allowed
        if before.rounds >= config.max_rounds and kind == "resolve":
            assert before.leader_signed_off
        ticket = apply(ticket, outcome)
        check_transition(before, ticket, move, outcome, history)
        record(move, outcome, history)
        assert isinstance(ticket.status, Status)
    assert len(history.events) == history.accepted
    event(f"final status: {ticket.status}")
    event(f"reopened: {'reopened' in history.events}")


@settings(max_examples=100)
@given(start=new_tickets, config=configs, data=st.data())
def test_final_states_accept_nothing(
    start: TicketSnapshot, config: WorkflowConfig, data: st.DataObject
) -> None:
    status = data.draw(st.sampled_from([Status.ARCHIVED, Status.INVALID]))
    ticket = dataclasses.replace(start, status=status, handling_department_id=2, handler_id=10)
    actor = data.draw(st.sampled_from(CAST))
    kind = data.draw(st.sampled_from(MOVE_KINDS))
    assert allowed_moves(ticket, actor, config) == set()
    try:
        decide(ticket, actor, data.draw(moves(kind)), config)
    except MoveRefused as refused:
        assert refused.reason in {"该工单已归档", "该工单已作废"}
    else:
        raise AssertionError("a final ticket accepted a move")


@settings(max_examples=200, deadline=None)
@given(start=new_tickets, plan=st.lists(steps, min_size=1, max_size=80))
def test_every_open_state_offers_a_way_forward(
    start: TicketSnapshot, plan: list[tuple[int, bool, Move]]
) -> None:
    """No dead ends: a ticket that is not final always has someone who may move it."""
    ticket, config = start, WorkflowConfig(max_rounds=1)
    for number, _, arguments in plan:
        if ticket.status in {Status.ARCHIVED, Status.INVALID}:
            return
        assert any(allowed_moves(ticket, a, config) for a in CAST), f"stuck: {ticket}"
        actor, kind = pick(ticket, config, number, guided=True)
        try:
            ticket = apply(
                ticket, decide(ticket, actor, dataclasses.replace(arguments, kind=kind), config)
            )
        except MoveRefused:
            continue
