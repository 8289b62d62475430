"""What a notification reports (通知内容): one typed value, written by every producer (the
workflow, the deadline sweep, ratings, repeats) and read back by the send job.

It is stored on the notification row as JSON (`to_json`), leaving out unset fields, and read
with `from_json`, which ignores keys it does not know (rows written by an older release).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class Payload:
    ticket_id: int | None = None
    number: str = ""  # the ticket number, or an order number / PJ<rating id> for ratings
    stage: str = ""  # what happened, in a few words (shown as the push's headline)
    note: str = ""
    reason: str = ""
    result: str = ""
    money_kind: str = ""
    amount: str = ""
    deadline: str = ""  # ISO 8601
    provisional: bool | None = None
    clock: str = ""
    severity: str = ""
    department_id: int | None = None  # whose head a "dept_head" notice goes to
    handler: str = ""
    by: str = ""
    round: int | None = None
    workdays: int | None = None
    approved: bool | None = None
    satisfied: bool | None = None
    signoff: bool | None = None
    phone: bool | None = None  # the officer must call the customer back by phone
    repeat: bool | None = None
    repeat_of: str = ""
    rating_id: int | None = None
    stars: int | None = None
    target: str = ""  # ticket | business | general (ratings)
    bulletin_id: int | None = None  # a periodic bulletin (定期通报): the push links to it

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value not in (None, "")}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Payload:
        known = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in (data or {}).items() if key in known})

    def but(self, **changes: Any) -> Payload:
        """A copy with some fields changed."""
        return replace(self, **changes)
