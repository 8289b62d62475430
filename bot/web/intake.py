"""`/tickets/new`: registering a complaint from another channel (登记投诉).

The chat's field rules check what the chat asks (appeal type, content, address, name, phone);
``models.core.registration`` the rest. The ticket is made by ``create_ticket``, the creation
function of every channel: the same number series, repeat detection, gas-leak flag, clocks
and notifications. A hidden key makes a double submit file one ticket.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import flash, redirect, request, url_for
from flask_login import login_required
from wtforms import SelectChoice

from bot.web.access import INTAKE_ROLES, roles_required, user
from bot.web.blueprint import blueprint
from bot.web.context import PageError, db, now, page, runtime, zone
from bot.web.forms import CSRF_PROBLEM, IntakeForm
from jobs.queue import enqueue_written
from models.core.conversation import ConversationConfig, check_complaint
from models.core.labels import SEVERITY_LABELS
from models.core.registration import OTHER_CHANNELS, registration_problems
from models.core.workflow import GOVERNMENT_CHANNEL, Severity
from models.people.tables import Department
from models.ticket import queries as ticket_queries
from models.ticket.intake import NewTicket, create_ticket, find_by_intake_key
from models.ticket.tables import Ticket

KEY_PREFIX = "web:"


@blueprint.route("/tickets/new", methods=["GET", "POST"])
@login_required
@roles_required(INTAKE_ROLES, "登记投诉")
def new_ticket():
    form = _prepared(IntakeForm())
    if request.method == "GET":
        return _form_page(form, {}, 200)
    if not form.validate_on_submit():
        raise PageError(400, "页面已过期", CSRF_PROBLEM)
    earlier = find_by_intake_key(db(), KEY_PREFIX + (form.intake_key.data or ""))
    if earlier is not None:  # the same form sent twice: one ticket
        return redirect(url_for("web.ticket", number=earlier.number), 303)
    new, problems = read_form(form)
    if problems:
        return _form_page(form, problems, 422)
    session = db()
    created = create_ticket(session, new, user().actor(), now(), runtime().policy)
    session.commit()
    enqueue_written(runtime(), session)
    flash(_registered(created), "success")
    return redirect(url_for("web.ticket", number=created.number), 303)


def read_form(form: IntakeForm) -> tuple[NewTicket | None, dict[str, str]]:
    """The new ticket the form describes, or the problem of each refused field."""
    config = runtime().policy.conversation
    values = {name: (getattr(form, name).data or "") for name in _TEXT_FIELDS}
    draft, problems = check_complaint(values, config)
    problems = {name: staff_hint(name, values, config) for name in problems}
    complained_at, when_problem = _moment(values["complained_at"])
    problems.update(
        registration_problems(
            source_channel=values["source_channel"],
            external_number=values["external_number"],
            gas_account=values["gas_account"],
            severity=values["severity"],
            matter=values["matter"],
            complained_at=complained_at,
            now=now(),
        )
    )
    if when_problem:
        problems["complained_at"] = when_problem
    department = _department(values["receiving_department"])
    if department is None:
        problems["receiving_department"] = "请选择受理部门。"
    if problems:
        return None, problems
    return NewTicket(
        source_channel=values["source_channel"],
        appeal_type=draft.appeal_type,
        customer_name=draft.name,
        phone=draft.phone,
        address=draft.address,
        content=draft.content,
        matter=values["matter"],
        complained_at=complained_at or now(),
        severity=Severity(values["severity"]),
        receiving_department_id=department.id,
        external_number=values["external_number"],
        gas_account=values["gas_account"],
        intake_key=KEY_PREFIX + (form.intake_key.data or uuid.uuid4().hex),
    ), {}


_TEXT_FIELDS = (
    "source_channel",
    "external_number",
    "appeal_type",
    "severity",
    "name",
    "phone",
    "gas_account",
    "address",
    "complained_at",
    "matter",
    "content",
    "receiving_department",
)


def staff_hint(name: str, values: dict[str, str], config: ConversationConfig) -> str:
    """The chat's field rule refused a value: what to tell the person registering it."""
    if name == "content" and len(values["content"].strip()) > config.max_content_chars:
        length = len(values["content"].strip())
        return f"受理内容有{length}字，超过了{config.max_content_chars}字，请精简。"
    return STAFF_HINTS[name]


STAFF_HINTS = {
    "appeal_type": "请选择诉求类型。",
    "content": "请填写受理内容（客户反映的问题，至少2个字）。",
    "address": "请用2到200个字写明单位或地址（如：XX小区3栋2单元501）。",
    "name": "请填写服务对象的姓名或称呼（20个字以内，不能只是数字，如：张先生）。",
    "phone": "电话号码格式不正确，请填写手机号或带区号的固定电话（如：0558-2703802）。",
}


def _prepared(form: IntakeForm) -> IntakeForm:
    form.source_channel.choices = [SelectChoice(c) for c in OTHER_CHANNELS]
    types = runtime().settings.conversation.appeal_types
    form.appeal_type.choices = [SelectChoice("", "— 请选择 —"), *(SelectChoice(t) for t in types)]
    form.severity.choices = [SelectChoice(v, label) for v, label in SEVERITY_LABELS.items()]
    departments = ticket_queries.departments(db())
    form.receiving_department.choices = [SelectChoice(str(d.id), d.name) for d in departments]
    if request.method == "GET":
        form.intake_key.data = uuid.uuid4().hex
        form.receiving_department.data = str(_default_department(departments))
        form.complained_at.data = now().astimezone(zone()).strftime("%Y-%m-%dT%H:%M")
        form.severity.data = Severity.GENERAL.value
    return form


def _default_department(departments: list[Department]) -> int | None:
    """The registering person's department, else 综合管理部."""
    if user().department_id is not None:
        return user().department_id
    general = next((d for d in departments if d.is_general), None)
    return general.id if general else None


def _department(raw: str) -> Department | None:
    return db().get(Department, int(raw)) if raw.isdigit() else None


def _moment(raw: str) -> tuple[datetime | None, str]:
    if not raw.strip():
        return None, ""
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None, "投诉时间格式不正确（如：2026-11-28 09:30）。"
    return (moment.replace(tzinfo=zone()) if moment.tzinfo is None else moment), ""


def _form_page(form: IntakeForm, problems: dict[str, str], status: int):
    return page(
        "web/tickets/new.html",
        status,
        form=form,
        problems=problems,
        government=GOVERNMENT_CHANNEL,
    )


def _registered(ticket: Ticket) -> str:
    text = f"已登记投诉，受理单号 {ticket.number}。"
    if ticket.repeat_flag and ticket.repeat_of is not None:
        text += f"该客户此前投诉过同类问题（{ticket.repeat_of.number}），已标记为重复投诉。"
    if ticket.urgent:
        text += "内容涉及燃气泄漏，已标记紧急并通知投诉负责人。"
    if ticket.source_channel == GOVERNMENT_CHANNEL:
        text += "政府平台投诉已通知分管领导批转。"
    return text
