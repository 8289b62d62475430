"""The customer's complaint-filing conversation (我要投诉) as a pure state machine.

`start` opens a conversation, `step` applies one inbound WeChat message to a
`ConversationState` and returns the next state plus the Chinese reply. Standard library only:
the caller loads and saves the state (`to_dict`/`from_dict`), creates the ticket when a
`StepResult` carries `confirmed`, and sends the reply.

Steps: 诉求类型 appeal_type → 发生了什么 content → 地址 address → 姓名 name → 电话 phone →
summary (confirm: 1 确认 / 2 修改 / 0 取消) → choose_edit (which field to change).

Rules every step shares:
- 「取消」 cancels, 「返回」 goes back one step, 「下一步」 keeps the value a step already has.
- A customer who only sends pictures (or voice that WeChat did not recognise) moves on from the
  content step with 「下一步」 once at least one attachment exists; `Draft.content` is then "".
- Pictures, voice and video sent at any other step are kept as attachments too (at most
  `MAX_ATTACHMENTS`); the current question is asked again. Video counts as evidence.
- A message reporting a leak or a smell of gas (`models.core.safety`) marks the draft
  ``urgent``. At the content step it is the description; at any other step it is not taken as
  the answer (「家里燃气味很重」 is no address): the step is asked again. The caller puts the
  safety advice before the reply.
- Any message that is not expired refreshes `updated_at`, even when it is rejected: a customer
  who keeps typing is not idle.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from models.core import conversation_texts as texts
from models.core import safety
from models.core.phones import normalize_phone
from models.core.words import MENU_WORDS

STEPS = ("appeal_type", "content", "address", "name", "phone")
ALL_STEPS = (*STEPS, "confirm", "choose_edit")
_NEXT = dict(zip(STEPS, (*STEPS[1:], "confirm"), strict=True))
_PREVIOUS = {**dict(zip(STEPS[1:], STEPS[:-1], strict=True)), "confirm": "phone"}
_PREVIOUS["choose_edit"] = "confirm"

MAX_ATTACHMENTS = 9
MEDIA_KINDS = ("image", "voice", "video")
MIN_CONTENT_CHARS = 2
ADDRESS_CHARS = (2, 200)
MAX_NAME_CHARS = 20

CANCEL_WORDS = frozenset({"取消", "退出", "取消投诉"})
BACK_WORDS = frozenset({"返回", "上一步"})
NEXT_WORDS = frozenset({"下一步"})
CONFIRM_WORDS = frozenset({"1", "确认", "确定", "提交", "确认提交"})
EDIT_WORDS = frozenset({"2", "修改"})
COMMAND_WORDS = CANCEL_WORDS | BACK_WORDS | NEXT_WORDS | CONFIRM_WORDS | EDIT_WORDS | MENU_WORDS
_EDIT_ALIASES = {"类型": "appeal_type", "内容": "content", "电话": "phone", "称呼": "name"}

# WeChat renders stickers and unsupported messages as text such as
# 【收到不支持的消息类型，暂无法显示】, emoji as [微笑] or /::) codes.
_NOISE = re.compile(r"【[^】]*】|(?:\[[^\[\]\s]{1,6}\]|/:[^\s/]{1,6}|\s)+")
_QUERY = re.compile(r"(查询|查看)\s*TS\d+", re.IGNORECASE)
_EDGE_CATEGORIES = ("P", "S", "Z", "C")


@dataclass(frozen=True)
class Inbound:
    """One WeChat message, already parsed by the webhook."""

    kind: str  # "text" | "image" | "voice" | "video" | "location" | "click" | "event" | "other"
    text: str = ""  # text content; voice: Recognition (may be ""); click: EventKey
    media_id: str = ""
    pic_url: str = ""
    latitude: float | None = None
    longitude: float | None = None
    label: str = ""  # location label


@dataclass(frozen=True)
class ConversationConfig:
    appeal_types: tuple[str, ...]
    idle_minutes: int = 30
    max_content_chars: int = 1000
    callback_promise: str = "我们将在2小时内与您联系"
    safety: safety.SafetyConfig | None = None


@dataclass
class Draft:
    """The complaint being filed. `attachments`: dicts with kind ("image"|"voice"|"video"),
    media_id, pic_url, in the order received. `urgent`: a gas leak was reported."""

    appeal_type: str = ""
    content: str = ""
    attachments: list[dict] = field(default_factory=list)
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    name: str = ""
    phone: str = ""
    urgent: bool = False

    def to_dict(self) -> dict:
        return {
            "appeal_type": self.appeal_type,
            "content": self.content,
            "attachments": [dict(attachment) for attachment in self.attachments],
            "address": self.address,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "name": self.name,
            "phone": self.phone,
            "urgent": self.urgent,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Draft:
        attachments = [
            {"kind": str(a["kind"]), "media_id": str(a["media_id"]), "pic_url": str(a["pic_url"])}
            for a in d.get("attachments", [])
        ]
        return cls(
            appeal_type=str(d.get("appeal_type", "")),
            content=str(d.get("content", "")),
            attachments=attachments,
            address=str(d.get("address", "")),
            latitude=_optional_float(d.get("latitude")),
            longitude=_optional_float(d.get("longitude")),
            name=str(d.get("name", "")),
            phone=str(d.get("phone", "")),
            urgent=bool(d.get("urgent", False)),
        )


@dataclass
class ConversationState:
    step: str
    draft: Draft
    updated_at: datetime  # aware
    editing: bool = False  # a field changed from the summary: go back to "confirm" after it
    # Chosen by the caller when the conversation starts; a repeated 确认 finds the same ticket.
    intake_key: str = ""

    def to_dict(self) -> dict:
        return {
            "step": self.step,
            "draft": self.draft.to_dict(),
            "updated_at": self.updated_at.isoformat(),
            "editing": self.editing,
            "intake_key": self.intake_key,
        }

    @classmethod
    def from_dict(cls, d: dict) -> ConversationState:
        """Raises ValueError, KeyError or TypeError for a malformed or naive-time payload."""
        step = d["step"]
        if step not in ALL_STEPS:
            raise ValueError(f"unknown conversation step: {step!r}")
        updated_at = datetime.fromisoformat(d["updated_at"])
        if updated_at.tzinfo is None:
            raise ValueError("updated_at must carry a time zone")
        draft = Draft.from_dict(d["draft"])
        return cls(
            step=step,
            draft=draft,
            updated_at=updated_at,
            editing=bool(d.get("editing")),
            intake_key=str(d.get("intake_key", "")),
        )


@dataclass(frozen=True)
class StepResult:
    state: ConversationState | None  # None = over (cancelled, expired or confirmed)
    reply: str  # never empty, <= 2048 UTF-8 bytes
    confirmed: Draft | None = None  # set exactly when the customer confirmed the summary
    outcome: str = "continue"  # "continue" | "cancelled" | "expired" | "confirmed"


def start(now: datetime, config: ConversationConfig) -> StepResult:
    """Open a conversation: the appeal type menu (第1步)."""
    state = ConversationState(step="appeal_type", draft=Draft(), updated_at=now)
    return _ask(state, config, texts.WELCOME)


def step(
    state: ConversationState, inbound: Inbound, now: datetime, config: ConversationConfig
) -> StepResult:
    """Apply one inbound message. Expired conversations end without applying it."""
    if now - state.updated_at > timedelta(minutes=config.idle_minutes):
        return _end(texts.expired(config.idle_minutes), "expired")
    state = replace(state, updated_at=now)
    text = text_of(inbound)
    if text is not None and _reports_leak(text, config):
        state = replace(state, draft=replace(state.draft, urgent=True))
        if state.step != "content":
            return _ask(state, config, safety.URGENT_NOTED)
    if text is not None:
        return _on_text(state, text, config)
    if inbound.kind in MEDIA_KINDS:
        return _on_media(state, inbound, config)
    if inbound.kind == "location" and state.step == "address":
        return _on_location(state, inbound, config)
    return _ask(state, config, texts.UNEXPECTED)


# --- dispatch -------------------------------------------------------------------------------


def text_of(inbound: Inbound) -> str | None:
    """The text of a message: typed, or a voice message's recognition; None otherwise."""
    if inbound.kind == "text":
        return inbound.text
    if inbound.kind == "voice" and inbound.text.strip():
        return inbound.text
    return None


def _reports_leak(text: str, config: ConversationConfig) -> bool:
    return config.safety is not None and safety.reports_leak(text, config.safety)


def _on_text(state: ConversationState, text: str, config: ConversationConfig) -> StepResult:
    raw = text.strip()
    key = _key(raw)
    if key in CANCEL_WORDS:
        return _end(texts.CANCELLED, "cancelled")
    if key in BACK_WORDS:
        return _go_back(state, config)
    if not key or _NOISE.fullmatch(raw) or key in MENU_WORDS or _QUERY.fullmatch(key):
        return _ask(state, config, texts.UNEXPECTED)
    if state.step == "confirm":
        return _on_confirm(state, key, config)
    if state.step == "choose_edit":
        return _on_choose_edit(state, key, config)
    if key in NEXT_WORDS:
        return _on_next(state, config)
    outcome = _PARSERS[state.step](state.draft, raw, key, config)
    if isinstance(outcome, str):
        return _ask(state, config, outcome)
    return _advance(state, outcome, config)


def _on_media(state: ConversationState, inbound: Inbound, config: ConversationConfig) -> StepResult:
    attachments = state.draft.attachments
    if len(attachments) >= MAX_ATTACHMENTS:
        return _ask(state, config, texts.attachments_full(MAX_ATTACHMENTS))
    item = {"kind": inbound.kind, "media_id": inbound.media_id, "pic_url": inbound.pic_url}
    state = replace(state, draft=replace(state.draft, attachments=[*attachments, item]))
    if state.step != "content":
        return _ask(state, config, texts.media_kept(inbound.kind, len(attachments) + 1))
    return _ask(state, config, texts.MEDIA_RECEIVED[inbound.kind])


def _on_location(
    state: ConversationState, inbound: Inbound, config: ConversationConfig
) -> StepResult:
    label = inbound.label.strip()[: ADDRESS_CHARS[1]]
    draft = replace(
        state.draft, address=label, latitude=inbound.latitude, longitude=inbound.longitude
    )
    if len(label) < ADDRESS_CHARS[0]:
        return _ask(
            replace(state, draft=replace(draft, address="")), config, texts.LOCATION_NO_LABEL
        )
    return _advance(state, draft, config, texts.location_saved(label))


def _on_next(state: ConversationState, config: ConversationConfig) -> StepResult:
    if _has_value(state.draft, state.step):
        return _advance(state, state.draft, config)
    lead = texts.CONTENT_NEED if state.step == "content" else texts.NEED_VALUE
    return _ask(state, config, lead)


def _on_confirm(state: ConversationState, key: str, config: ConversationConfig) -> StepResult:
    if key == "0":
        return _end(texts.CANCELLED, "cancelled")
    if key in EDIT_WORDS:
        return _ask(replace(state, step="choose_edit", editing=False), config)
    if key not in CONFIRM_WORDS:
        return _ask(state, config, texts.CONFIRM_INVALID)
    missing = _first_missing(state.draft)
    if missing:
        return _ask(replace(state, step=missing, editing=False), config, texts.NEED_VALUE)
    draft = Draft.from_dict(state.draft.to_dict())
    return StepResult(None, texts.fit(texts.confirmed(config)), draft, "confirmed")


def _on_choose_edit(state: ConversationState, key: str, config: ConversationConfig) -> StepResult:
    target = _edit_target(key)
    if target is None:
        return _ask(state, config, texts.EDIT_INVALID)
    return _ask(replace(state, step=target, editing=True), config)


def _go_back(state: ConversationState, config: ConversationConfig) -> StepResult:
    if state.editing:
        return _ask(replace(state, step="choose_edit", editing=False), config)
    if state.step == "appeal_type":
        return _ask(state, config, texts.FIRST_STEP)
    return _ask(replace(state, step=_PREVIOUS[state.step]), config)


def _advance(
    state: ConversationState, draft: Draft, config: ConversationConfig, lead: str = ""
) -> StepResult:
    target = "confirm" if state.editing else _NEXT[state.step]
    if target == "confirm":
        target = _first_missing(draft) or target
    return _ask(replace(state, step=target, draft=draft, editing=False), config, lead)


def _ask(state: ConversationState, config: ConversationConfig, lead: str = "") -> StepResult:
    reply = texts.prompt(state.step, state.draft, state.editing, config, lead)
    return StepResult(state=state, reply=texts.fit(reply))


def _end(reply: str, outcome: str) -> StepResult:
    return StepResult(state=None, reply=texts.fit(reply), outcome=outcome)


# --- field parsers: (draft, raw text, normalised key, config) -> new Draft or a hint ---------


def _parse_appeal_type(draft: Draft, raw: str, key: str, config: ConversationConfig) -> Draft | str:
    names = [unicodedata.normalize("NFKC", t) for t in config.appeal_types]
    match = re.fullmatch(r"([0-9]{1,3})\s*[.、:]?\s*(.*)", key)
    index = None
    if key in names:
        index = names.index(key)
    elif match and 1 <= int(match.group(1)) <= len(names):
        index = int(match.group(1)) - 1
        if match.group(2) and match.group(2) != names[index]:
            index = None
    if index is None:
        return texts.appeal_type_invalid(len(names))
    return replace(draft, appeal_type=config.appeal_types[index])


def _parse_content(draft: Draft, raw: str, key: str, config: ConversationConfig) -> Draft | str:
    if len(raw) > config.max_content_chars:
        return texts.content_too_long(len(raw), config.max_content_chars)
    if len(key) < MIN_CONTENT_CHARS or not _has_letter(key):
        return texts.CONTENT_TOO_SHORT
    return replace(draft, content=raw)


def _parse_address(draft: Draft, raw: str, key: str, config: ConversationConfig) -> Draft | str:
    if len(raw) > ADDRESS_CHARS[1]:
        return texts.address_too_long(len(raw))
    if len(key) < ADDRESS_CHARS[0] or not _has_letter(key) or key in COMMAND_WORDS:
        return texts.ADDRESS_INVALID
    if draft.address:  # a typed address replaces an earlier location, coordinates included
        return replace(draft, address=raw, latitude=None, longitude=None)
    return replace(draft, address=raw)  # completes a location that came without a label


def _parse_name(draft: Draft, raw: str, key: str, config: ConversationConfig) -> Draft | str:
    name = _strip_edges(raw)
    if len(name) > MAX_NAME_CHARS:
        return texts.name_too_long(len(name))
    if not _has_letter(key) or key in COMMAND_WORDS:
        return texts.NAME_INVALID
    return replace(draft, name=name)


def _parse_phone(draft: Draft, raw: str, key: str, config: ConversationConfig) -> Draft | str:
    phone = normalize_phone(raw)
    return texts.PHONE_INVALID if phone is None else replace(draft, phone=phone)


_PARSERS = {
    "appeal_type": _parse_appeal_type,
    "content": _parse_content,
    "address": _parse_address,
    "name": _parse_name,
    "phone": _parse_phone,
}


def check_complaint(values: Mapping[str, str], config: ConversationConfig) -> tuple[Draft, dict]:
    """A whole complaint at once (the back office's intake form), by the same rules as the
    chat's steps: the draft of the accepted fields, and per refused field the chat's hint."""
    draft, problems = Draft(), {}
    for name in STEPS:
        raw = str(values.get(name, "")).strip()
        outcome = _PARSERS[name](draft, raw, _key(raw), config)
        if isinstance(outcome, str):
            problems[name] = outcome
        else:
            draft = outcome
    return draft, problems


# --- helpers --------------------------------------------------------------------------------


def _strip_edges(text: str) -> str:
    """Drop whitespace, punctuation and symbols (emoji included) around `text`."""
    start, end = 0, len(text)
    while start < end and unicodedata.category(text[start])[0] in _EDGE_CATEGORIES:
        start += 1
    while end > start and unicodedata.category(text[end - 1])[0] in _EDGE_CATEGORIES:
        end -= 1
    return text[start:end]


def _key(text: str) -> str:
    """The comparable form of a reply: full-width folded (NFKC), edges stripped."""
    return _strip_edges(unicodedata.normalize("NFKC", text))


def _has_letter(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def _has_value(draft: Draft, step_name: str) -> bool:
    if step_name == "content":
        return bool(draft.content or draft.attachments)
    return bool(getattr(draft, step_name))


def _first_missing(draft: Draft) -> str | None:
    return next((s for s in STEPS if not _has_value(draft, s)), None)


def _edit_target(key: str) -> str | None:
    if re.fullmatch(r"[1-5]", key):
        return STEPS[int(key) - 1]
    by_label = {label: s for s, label in texts.FIELD_LABELS.items()}
    return by_label.get(key) or _EDIT_ALIASES.get(key)


def _optional_float(value: object) -> float | None:
    return None if value is None else float(value)
