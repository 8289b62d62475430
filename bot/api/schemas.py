"""The API's request and response schemas (pydantic). They validate every request and
generate /api/openapi.json, so the document cannot drift from what the code accepts."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

MAX_RECORDS = 500
MAX_PAGE = 500


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    field: str = Field(description="出错的字段，如 records.0.order_no")
    reason: str


class ApiError(BaseModel):
    error: str = Field(description="原因（中文）")
    field: str | None = Field(None, description="出错的字段（如有）")
    problems: list[Problem] = Field(default_factory=list)


class BusinessRecordIn(Strict):
    type: str = Field(
        min_length=1, max_length=20, description="业务类型：报装、设计、安装、点火、维修"
    )
    order_no: str = Field(min_length=1, max_length=64, description="业务单号（幂等键）")
    phone: str = Field("", max_length=32, description="客户电话；与 openid 至少填一项")
    openid: str = Field("", max_length=64)
    staff: str = Field(min_length=1, max_length=50, description="负责人姓名（须为系统中的员工）")
    completed_at: str = Field(
        min_length=1,
        max_length=40,
        description="办结时间：ISO 8601，或 2026-11-20 14:30（无时区按公司时区）",
    )


class BusinessRecordsIn(Strict):
    records: list[BusinessRecordIn] = Field(min_length=1, max_length=MAX_RECORDS)


class PushResult(BaseModel):
    created: int
    updated: int
    unchanged: int


class FeedQuery(Strict):
    cursor: str | None = Field(None, max_length=200, description="上一页返回的 next_cursor")
    limit: int | None = Field(None, ge=1, le=MAX_PAGE)


class TicketItem(BaseModel):
    number: str
    status: str
    status_label: str
    severity: str
    severity_label: str
    appeal_type: str
    source_channel: str
    customer_name: str
    phone: str
    gas_account: str
    address: str
    matter: str
    complained_at: str | None
    received_at: str | None
    receiving_department: str | None
    handling_department: str | None
    handler: str | None
    result: str
    resolved_on: str | None
    invalid_reason: str
    repeat: bool
    accountability: bool
    rounds: int
    external_number: str
    updated_at: str | None


class RatingItem(BaseModel):
    id: int
    stars: int = Field(ge=1, le=5)
    comment: str
    target: str = Field(description="ticket | business | general")
    ticket_number: str | None
    order_no: str | None
    credited_to: str | None = Field(description="评价记在谁名下（评价时的承办人/业务负责人）")
    channel: str
    rated_at: str
    updated_at: str


class CallbackItem(BaseModel):
    id: int
    ticket_number: str
    satisfied: bool
    first: bool = Field(description="是否为该工单的首次回访")
    by: str
    channel: str
    text: str
    answered_at: str


class TicketFeed(BaseModel):
    items: list[TicketItem]
    next_cursor: str | None


class RatingFeed(BaseModel):
    items: list[RatingItem]
    next_cursor: str | None


class CallbackFeed(BaseModel):
    items: list[CallbackItem]
    next_cursor: str | None


class FiguresQuery(Strict):
    start: date = Field(alias="from", description="期间第一天，如 2026-11-01")
    end: date = Field(alias="to", description="期间最后一天（含）")
    department: str | None = Field(None, max_length=50, description="部门名称")
    appeal_type: str | None = Field(None, max_length=20)
    channel: str | None = Field(None, max_length=20)
    severity: str | None = Field(None, pattern="^(general|complex|major)$")
    person: str | None = Field(None, max_length=50, description="人员姓名")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Rate(BaseModel):
    numerator: int
    denominator: int
    rate: float | None
    target: float | None = None
    missed: bool = False


class ClockRate(BaseModel):
    clock: str
    label: str
    due: int
    met: int
    provisional: int
    rate: float | None


class Definition(BaseModel):
    label: str
    numerator: str
    denominator: str
    period: str


class FiguresOut(BaseModel):
    period: dict[str, str]
    received: int
    valid: int
    invalid: int
    completion: Rate
    first_satisfaction: Rate
    final_satisfaction: Rate
    on_time: Rate
    clocks: list[ClockRate]
    open_now: int
    overdue_now: int
    returns: int
    repeats: int
    accountability: int
    stars: dict[str, int]
    average_stars: float | None
    definitions: dict[str, Definition]
