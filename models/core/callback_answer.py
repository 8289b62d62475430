"""A customer's answer to the call-back (回访) in the chat, read from what they typed. Pure.

Understood, while a ticket of theirs awaits its call-back:
- ``1`` / ``2``, alone or before a ticket number or a remark: ``2 TS202611280001 还有气味``;
- words that mean satisfied (满意, 很满意, 解决了…) or not (不满意, 不太满意, 没解决…), with
  negation checked first, so that 「不满意」 is never read as 「满意」;
- a ticket number anywhere names the ticket the answer is for.

``note`` keeps what else the customer said (a reason or a remark), without the number and
without a leading answer word.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

NUMBER = re.compile(r"TS\d{12}", re.IGNORECASE)
DIGIT = re.compile(r"^([12])(?:$|[\s.。、,，:：;；!！]+)")
UNSATISFIED = re.compile(
    r"(?:不|没|未)[^，。,.!！?？\s]{0,3}满意(?!度)|(?:没|未|还没)有?(?:解决|修好|处理好)|差评"
)
SATISFIED = re.compile(r"满意(?!度)|解决了|修好了|好评")
LEADING_WORD = re.compile(
    r"^(?:(?:非常|很|挺|比较|还算|基本)?(?:不|没|未)?[^，。,.!！?？\s]{0,2}?满意[了的啊]?)"
)
EDGES = " \t\n　.。,，;；:：!！?？、-—~～"
MAX_ANSWER_CHARS = 300


@dataclass(frozen=True)
class CallbackAnswer:
    satisfied: bool
    number: str = ""  # the ticket the customer named, upper case
    note: str = ""  # the rest: a reason for 不满意, a remark for 满意


@dataclass(frozen=True)
class PendingChoice:
    """A bare answer while several tickets await their call-back: the customer was shown them
    as a numbered list and the next message picks one by its number (序号)."""

    satisfied: bool
    ticket_ids: tuple[int, ...]
    note: str = ""

    def pick(self, word: str) -> int | None:
        """The ticket id the customer's 序号 picks, or None."""
        if word.isdigit() and 1 <= int(word) <= len(self.ticket_ids):
            return self.ticket_ids[int(word) - 1]
        return None

    def to_dict(self) -> dict:
        return {"satisfied": self.satisfied, "tickets": list(self.ticket_ids), "note": self.note}

    @classmethod
    def from_dict(cls, data: dict) -> PendingChoice:
        """Raises KeyError, TypeError or ValueError for a malformed value."""
        tickets = tuple(int(ticket_id) for ticket_id in data["tickets"])
        return cls(bool(data["satisfied"]), tickets, str(data.get("note", "")))


def read_answer(text: str) -> CallbackAnswer | None:
    """The call-back answer in ``text``, or None when it says neither satisfied nor not."""
    folded = unicodedata.normalize("NFKC", text).strip()
    if not folded or len(folded) > MAX_ANSWER_CHARS:
        return None
    found = NUMBER.search(folded)
    number = found.group().upper() if found else ""
    rest = NUMBER.sub(" ", folded).strip(EDGES)
    digit = DIGIT.match(rest)
    if digit:
        return CallbackAnswer(digit.group(1) == "1", number, rest[digit.end() :].strip(EDGES))
    if UNSATISFIED.search(rest):
        return CallbackAnswer(False, number, _note(rest))
    if SATISFIED.search(rest):
        return CallbackAnswer(True, number, _note(rest))
    return None


def _note(rest: str) -> str:
    """The text without a leading answer word: 「不满意，还是有气味」 → 「还是有气味」."""
    word = LEADING_WORD.match(rest)
    note = rest[word.end() :] if word else rest
    return note.strip(EDGES)
