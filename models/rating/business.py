"""Business records of the gas business system (燃气业务管理系统), and their CSV import.

Functions take a session and never commit. The import is idempotent on the order number: a
row already there with the same values changes nothing, one with new values updates it.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models.core.phones import normalize_phone
from models.people.tables import Customer, Staff
from models.rating.tables import BusinessRecord, Rating

COLUMNS = ("type", "order_no", "phone", "openid", "staff", "completed_at")
MAX_ORDER_NO = 64
MAX_OPENID = 64
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d")


@dataclass(frozen=True)
class RecordValues:
    kind: str
    order_no: str
    phone: str
    openid: str | None
    staff_id: int
    staff_name: str
    completed_at: datetime


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged


class BusinessImportError(ValueError):
    """The file as a whole cannot be imported (the message is Chinese)."""


def find_by_order_no(session: Session, order_no: str) -> BusinessRecord | None:
    return session.scalar(select(BusinessRecord).where(BusinessRecord.order_no == order_no.strip()))


def latest_unrated_for_customer(session: Session, customer: Customer) -> BusinessRecord | None:
    """The most recent business record linked to the customer (openid or phone), not rated."""
    links = [BusinessRecord.openid == customer.openid] if customer.openid else []
    if customer.phone:
        links.append(BusinessRecord.phone == customer.phone)
    if not links:
        return None
    rated = select(Rating.business_record_id).where(Rating.business_record_id.is_not(None))
    statement = (
        select(BusinessRecord)
        .where(or_(*links), BusinessRecord.id.not_in(rated))
        .order_by(BusinessRecord.completed_at.desc(), BusinessRecord.id.desc())
        .limit(1)
    )
    return session.scalar(statement)


def import_csv(
    session: Session, text: str, now: datetime, *, types: list[str], timezone: str
) -> ImportReport:
    """Import every valid row of a CSV text (header: type, order_no, phone, openid, staff,
    completed_at); each invalid row is reported with its line number and reason."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise BusinessImportError(f"缺少列：{', '.join(missing)}（需要 {', '.join(COLUMNS)}）")
    reader.fieldnames = header
    report, seen = ImportReport(), set()
    staff = staff_by_name(session)
    for row in reader:
        line = reader.line_num
        values = parse_row(row, staff, types, ZoneInfo(timezone))
        if isinstance(values, str):
            report.rejected.append((line, values))
        elif values.order_no in seen:
            report.rejected.append((line, f"业务单号 {values.order_no} 在文件中重复"))
        else:
            seen.add(values.order_no)
            store(session, values, now, report)
    return report


def staff_by_name(session: Session) -> dict[str, Staff]:
    return {member.name: member for member in session.scalars(select(Staff))}


def parse_row(
    row: dict, staff: dict[str, Staff], types: list[str], zone: ZoneInfo
) -> RecordValues | str:
    """The values of one CSV row, or the Chinese reason it is rejected."""
    checked = check_row(row, staff, types, zone)
    return checked if isinstance(checked, RecordValues) else checked[1]


def check_row(
    row: dict, staff: dict[str, Staff], types: list[str], zone: ZoneInfo
) -> RecordValues | tuple[str, str]:
    """The values of one record, or (the field at fault, the Chinese reason)."""
    cell = {name: _clean(row.get(name)) for name in COLUMNS}
    if cell["type"] not in types:
        return "type", f"业务类型「{cell['type']}」无效（可选：{'、'.join(types)}）"
    if not cell["order_no"] or len(cell["order_no"]) > MAX_ORDER_NO:
        return "order_no", "业务单号为空或过长"
    phone = normalize_phone(cell["phone"]) if cell["phone"] else ""
    if phone is None:
        return "phone", f"电话「{cell['phone']}」无效"
    if len(cell["openid"]) > MAX_OPENID:
        return "openid", "openid 过长"
    if not phone and not cell["openid"]:
        return "phone", "电话和 openid 至少填一项"
    member = staff.get(cell["staff"])
    if member is None:
        return "staff", f"未知员工「{cell['staff']}」"
    completed_at = parse_time(cell["completed_at"], zone)
    if completed_at is None:
        return "completed_at", f"完成时间「{cell['completed_at']}」无效（如 2026-11-20 14:30）"
    return RecordValues(
        kind=cell["type"],
        order_no=cell["order_no"],
        phone=phone,
        openid=cell["openid"] or None,
        staff_id=member.id,
        staff_name=member.name,
        completed_at=completed_at,
    )


def parse_time(raw: str, zone: ZoneInfo) -> datetime | None:
    """ISO 8601 (with or without offset), `YYYY-MM-DD HH:MM[:SS]` or a date; local when naive."""
    parsed = _parse_datetime(raw)
    if parsed is None:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def _parse_datetime(raw: str) -> datetime | None:
    for form in TIME_FORMATS:
        try:
            return datetime.strptime(raw, form)
        except ValueError:
            pass
    for form in DATE_FORMATS:
        try:
            return datetime.combine(datetime.strptime(raw, form).date(), time())
        except ValueError:
            pass
    try:
        return datetime.fromisoformat(raw) if len(raw) > len("2026-01-01") else None
    except ValueError:
        return None


def store(session: Session, values: RecordValues, now: datetime, report: ImportReport) -> None:
    """Create the record, or update it when its values changed (idempotent on order_no)."""
    record = find_by_order_no(session, values.order_no)
    if record is None:
        session.add(BusinessRecord(**values.__dict__, created_at=now, updated_at=now))
        report.created += 1
        return
    changed = {
        key: value for key, value in values.__dict__.items() if getattr(record, key) != value
    }
    if not changed:
        report.unchanged += 1
        return
    for key, value in changed.items():
        setattr(record, key, value)
    record.updated_at = now
    report.updated += 1


def _clean(value: object) -> str:
    return unicodedata.normalize("NFKC", str(value or "")).strip()


def describe(record: BusinessRecord, zone: ZoneInfo) -> str:
    """「报装业务（单号 BZ2026001，11月20日办结）」"""
    day: date = record.completed_at.astimezone(zone).date()
    return f"{record.kind}业务（单号 {record.order_no}，{day.month}月{day.day}日办结）"
