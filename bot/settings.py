"""Settings: `config.toml` plus `BIHUAN_<SECTION>__<KEY>` environment overrides.

The one place that reads configuration. Works without Flask (jobs, CLI, Alembic use it).
Secrets come only from the environment; a secret written in the file is refused. Sections that
are pure domain settings ([sla], [workflow]) load straight into the core's own dataclasses, so
each default lives once, beside the rule that uses it.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_origin, get_type_hints

from croniter import croniter

from models.core.figures import Targets
from models.core.safety import SafetyConfig
from models.core.sla import SlaPolicy
from models.core.workflow import WorkflowConfig

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config.toml"
ENV_PREFIX = "BIHUAN_"


class SettingsError(ValueError):
    """An invalid setting; the message names the key in one line."""


@dataclass(frozen=True)
class AppSettings:
    timezone: str = "Asia/Shanghai"
    company_name: str = "燃气公司"
    log_level: str = "INFO"


WECHAT_MODES = ("plaintext", "compat", "safe")
SQLITE_SYNCHRONOUS = ("full", "normal")


@dataclass(frozen=True)
class WeChatSettings:
    app_id: str = ""
    api_base_url: str = ""
    api_timeout_seconds: float = 3.0
    send_timeout_seconds: float = 10.0
    mode: str = "plaintext"
    max_clock_skew_seconds: int = 300
    max_body_bytes: int = 65536
    body_timeout_seconds: float = 2.0
    reply_budget_seconds: float = 3.0
    reclaim_after_seconds: int = 15
    spool_dir: str = ""
    spool_max_files: int = 10000
    raw_retention_days: int = 30
    token: str = ""
    app_secret: str = ""
    encoding_aes_key: str = ""
    encoding_aes_key_previous: str = ""


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = ""
    echo: bool = False
    connect_timeout_seconds: int = 2
    statement_timeout_ms: int = 1500
    lock_timeout_ms: int = 1000
    background_statement_timeout_ms: int = 60000
    background_lock_timeout_ms: int = 10000
    pool_size: int = 10
    pool_timeout_seconds: float = 2.0
    sqlite_synchronous: str = "full"


@dataclass(frozen=True)
class RedisSettings:
    url: str = ""
    queue_name: str = "bihuan"


@dataclass(frozen=True)
class ConversationSettings:
    idle_minutes: int = 30
    max_content_chars: int = 1000
    appeal_types: list = field(
        default_factory=lambda: ["报装", "设计", "安装", "点火", "维修", "服务态度", "其他"]
    )
    callback_promise: str = "我们将在{hours}小时内与您联系"
    recent_tickets: int = 5


@dataclass(frozen=True)
class HotlineSettings:
    lines: list = field(default_factory=list)
    portal_url: str = ""


@dataclass(frozen=True)
class CalendarSettings:
    workday_start: str = "08:30"
    configured_years: list = field(default_factory=list)
    extra_holidays: list = field(default_factory=list)
    extra_workdays: list = field(default_factory=list)
    refresh_seconds: int = 30


@dataclass(frozen=True)
class RatingSettings:
    once_per_ticket: bool = True
    praise_at: int = 5
    callback_at_or_below: int = 3
    notice_at_or_below: int = 2
    callback_staff: str = "周敏"
    comment_minutes: int = 30
    comment_max_chars: int = 500
    repeat_tap_minutes: int = 30
    business_types: list = field(default_factory=lambda: ["报装", "设计", "安装", "点火", "维修"])
    frame_origins: list = field(default_factory=list)
    link_max_age_days: int = 30
    form_max_age_minutes: int = 120
    limit_window_minutes: int = 60
    limit_per_address: int = 20
    limit_per_phone: int = 5
    proxy_hops: int = 0


@dataclass(frozen=True)
class WebSettings:
    base_url: str = "http://127.0.0.1:5000"
    secret_key: str = ""
    session_hours: int = 12
    login_slow_after: int = 3
    login_lock_after: int = 10
    login_address_slow_after: int = 10
    login_address_lock_after: int = 30
    login_lock_minutes: int = 15
    full_phone_roles: list = field(
        default_factory=lambda: ["officer", "clerk", "handler", "dept_head"]
    )
    page_size: int = 25
    media_dir: str = ""

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry Secure when the back office is served over HTTPS."""
        return self.base_url.startswith("https://")


@dataclass(frozen=True)
class OutboxSettings:
    retry_seconds: list = field(default_factory=lambda: [10, 30, 60, 300, 900])
    resend_after_seconds: int = 120
    sweep_seconds: int = 60
    batch: int = 500
    send_batch: int = 100
    send_threads: int = 4
    customer_window_hours: int = 48
    job_timeout_seconds: int = 60
    sweep_late_seconds: int = 300


@dataclass(frozen=True)
class NoticeSettings:
    number_format: str = "综管通〔{year}〕{seq}号"
    recipients: list = field(default_factory=lambda: ["leader"])


@dataclass(frozen=True)
class MessageLogSettings:
    failure_summary_cron: str = "0 9 * * 1"


@dataclass(frozen=True)
class MediaSettings:
    """Attachments downloaded from WeChat (temporary media live 3 days there); where they are
    kept is ``web.media_dir`` (the back office's ticket page reads them there too)."""

    retry_seconds: list = field(default_factory=lambda: [30, 120, 600, 1800])
    resend_after_seconds: int = 600
    max_bytes: int = 20 * 1024 * 1024
    download_timeout_seconds: float = 30.0
    link_max_age_days: int = 7


@dataclass(frozen=True)
class BulletinSettings:
    """Periodic bulletins (定期通报): when `bihuan cron` issues them and who gets them."""

    weekly_cron: str = "0 8 * * 1"
    monthly_cron: str = "0 8 1 * *"
    recipients: list = field(default_factory=lambda: ["officer", "leader"])
    list_limit: int = 20


@dataclass(frozen=True)
class ApiSettings:
    """The JSON API of the gas business system (燃气业务管理系统)."""

    requests_per_minute: int = 120
    page_size: int = 100
    cursor_lag_seconds: int = 5


@dataclass(frozen=True)
class LedgerSettings:
    """Where the ledger (台账) exports are written; empty: var/exports."""

    folder: str = ""
    keep_hours: int = 72


@dataclass(frozen=True)
class DevSettings:
    fake_wechat_port: int = 5001


@dataclass(frozen=True)
class TemplateSettings:
    """Template id and field mapping per notification kind (id may be empty: not sent)."""

    kinds: dict = field(default_factory=dict)


@dataclass(frozen=True)
class MenuSettings:
    buttons: list = field(default_factory=list)


@dataclass(frozen=True)
class Settings:
    app: AppSettings = field(default_factory=AppSettings)
    wechat: WeChatSettings = field(default_factory=WeChatSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    conversation: ConversationSettings = field(default_factory=ConversationSettings)
    hotline: HotlineSettings = field(default_factory=HotlineSettings)
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    calendar: CalendarSettings = field(default_factory=CalendarSettings)
    workflow: WorkflowConfig = field(default_factory=WorkflowConfig)
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    rating: RatingSettings = field(default_factory=RatingSettings)
    web: WebSettings = field(default_factory=WebSettings)
    menu: MenuSettings = field(default_factory=MenuSettings)
    outbox: OutboxSettings = field(default_factory=OutboxSettings)
    notices: NoticeSettings = field(default_factory=NoticeSettings)
    messages: MessageLogSettings = field(default_factory=MessageLogSettings)
    media: MediaSettings = field(default_factory=MediaSettings)
    dev: DevSettings = field(default_factory=DevSettings)
    templates: TemplateSettings = field(default_factory=TemplateSettings)
    figures: Targets = field(default_factory=Targets)
    bulletin: BulletinSettings = field(default_factory=BulletinSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    ledger: LedgerSettings = field(default_factory=LedgerSettings)

    @property
    def database_url(self) -> str:
        """The configured database, or the embedded SQLite file under var/."""
        if self.database.url:
            return self.database.url
        return f"sqlite:///{PROJECT_ROOT / 'var' / 'bihuan.sqlite3'}"

    @property
    def media_dir(self) -> Path:
        """Where attachments are stored: ``web.media_dir`` (relative: under the project), or
        var/media."""
        if not self.web.media_dir:
            return PROJECT_ROOT / "var" / "media"
        path = Path(self.web.media_dir)
        return path if path.is_absolute() else PROJECT_ROOT / path

    @property
    def ledger_folder(self) -> Path:
        return Path(self.ledger.folder) if self.ledger.folder else PROJECT_ROOT / "var" / "exports"

    @property
    def embedded_redis(self) -> bool:
        return not self.redis.url

    @property
    def spool_path(self) -> Path:
        """Where pushes wait while the database is down (a local directory)."""
        return Path(self.wechat.spool_dir) if self.wechat.spool_dir else PROJECT_ROOT / "var/spool"

    def override(self, **sections: dict[str, Any]) -> Settings:
        """A copy with some keys replaced, e.g. override(wechat={"token": "x"}) (tests)."""
        try:
            updated = {
                name: replace(getattr(self, name), **values) for name, values in sections.items()
            }
        except ValueError as exc:
            raise SettingsError(f"invalid setting: {exc}") from exc
        return validate(replace(self, **updated))


SECRETS = {
    ("wechat", "token"),
    ("wechat", "app_secret"),
    ("wechat", "encoding_aes_key"),
    ("wechat", "encoding_aes_key_previous"),
    ("web", "secret_key"),
}


def load_settings(
    path: str | os.PathLike | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Read the TOML file, apply environment overrides, validate. Raises SettingsError."""
    environ = os.environ if environ is None else environ
    config_path = Path(path or environ.get("BIHUAN_CONFIG") or DEFAULT_CONFIG)
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SettingsError(f"config file not found: {config_path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{config_path}: invalid TOML: {exc}") from exc
    sections = _sections_from_file(raw)
    _apply_environment(sections, environ)
    built = {
        name: _build_section(name, cls, sections[name]) for name, cls in _section_classes().items()
    }
    return validate(Settings(**built))


def _build_section(name: str, cls: type, values: dict) -> Any:
    try:
        return cls(**values)
    except ValueError as exc:  # the core's own checks (a non-positive limit…)
        raise SettingsError(f"invalid setting in [{name}]: {exc}") from exc


def _section_classes() -> dict[str, type]:
    hints = get_type_hints(Settings)
    return {f.name: hints[f.name] for f in fields(Settings)}


def _section_keys(cls: type) -> dict[str, Any]:
    hints = get_type_hints(cls)
    return {f.name: hints[f.name] for f in fields(cls)}


def _sections_from_file(raw: dict) -> dict[str, dict]:
    classes = _section_classes()
    sections: dict[str, dict] = {name: {} for name in classes}
    for section, values in raw.items():
        if section not in classes or not isinstance(values, dict):
            raise SettingsError(f"unknown setting section: [{section}]")
        known = _section_keys(classes[section])
        for key, value in values.items():
            if key not in known:
                raise SettingsError(f"unknown setting: {section}.{key}")
            if (section, key) in SECRETS:
                raise SettingsError(
                    f"{section}.{key} is a secret: set it in the environment as "
                    f"{ENV_PREFIX}{section.upper()}__{key.upper()}, not in the file"
                )
            sections[section][key] = _coerce(section, key, value, known[key])
    return sections


def _apply_environment(sections: dict[str, dict], environ: dict[str, str]) -> None:
    classes = _section_classes()
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name or name == "BIHUAN_CONFIG":
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        if section not in classes:
            raise SettingsError(f"unknown setting section in {name}: {section}")
        known = _section_keys(classes[section])
        if key not in known:
            raise SettingsError(f"unknown setting in {name}: {section}.{key}")
        sections[section][key] = _coerce(section, key, _parse_env(value, known[key]), known[key])


def _parse_env(value: str, kind: Any) -> Any:
    if kind is dict:
        try:
            return json.loads(value)
        except ValueError as exc:
            raise SettingsError(f"invalid JSON in environment override: {exc}") from exc
    if _sequence(kind):
        stripped = value.strip()
        if stripped.startswith("["):
            return json.loads(stripped)
        return [item.strip() for item in stripped.split(",") if item.strip()]
    if kind is bool:
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return value


def _coerce(section: str, key: str, value: Any, kind: Any) -> Any:
    try:
        if kind is bool and isinstance(value, bool):
            return value
        if _sequence(kind):
            if not isinstance(value, list | tuple):
                raise TypeError("expected a list")
            return (get_origin(kind) or kind)(value)
        if kind is bool:
            raise TypeError("expected true or false")
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"invalid setting {section}.{key}={value!r}: {exc}") from exc


def _sequence(kind: Any) -> bool:
    return (get_origin(kind) or kind) in (list, tuple)


def validate(settings: Settings) -> Settings:
    """Checks that cannot be expressed by types. Raises SettingsError naming the key."""
    for key in ("encoding_aes_key", "encoding_aes_key_previous"):
        value = getattr(settings.wechat, key)
        if value and len(value) != 43:
            raise SettingsError(
                f"invalid setting wechat.{key}: must be 43 characters, got {len(value)}"
            )
    if settings.wechat.encoding_aes_key and not settings.wechat.app_id:
        raise SettingsError("invalid setting wechat.app_id: required when an EncodingAESKey is set")
    _validate_wechat(settings)
    _validate_database(settings.database)
    for key in (
        "sweep_seconds",
        "job_timeout_seconds",
        "sweep_late_seconds",
        "send_batch",
        "send_threads",
    ):
        if getattr(settings.outbox, key) <= 0:
            raise SettingsError(f"invalid setting outbox.{key}: must be positive")
    if settings.conversation.idle_minutes <= 0:
        raise SettingsError("invalid setting conversation.idle_minutes: must be positive")
    if not settings.conversation.appeal_types:
        raise SettingsError("invalid setting conversation.appeal_types: must not be empty")
    _validate_promise(settings.conversation.callback_promise)
    if settings.media.max_bytes <= 0 or settings.media.link_max_age_days <= 0:
        raise SettingsError("invalid setting [media]: max_bytes and link_max_age_days > 0")
    for fraction in settings.sla.remind_at:
        if not 0 < float(fraction) < 1:
            raise SettingsError(f"invalid setting sla.remind_at: {fraction} is not between 0 and 1")
    _validate_rating(settings.rating)
    _validate_notices(settings.notices)
    _validate_web(settings.web)
    _validate_api(settings.api)
    if not croniter.is_valid(settings.messages.failure_summary_cron):
        raise SettingsError("invalid setting messages.failure_summary_cron: not a cron expression")
    for key in ("weekly_cron", "monthly_cron"):
        if not croniter.is_valid(getattr(settings.bulletin, key)):
            raise SettingsError(f"invalid setting bulletin.{key}: not a cron expression")
    for role in settings.bulletin.recipients:
        if role not in ("officer", "leader", "executive"):
            raise SettingsError(f"invalid setting bulletin.recipients: unknown role {role!r}")
    _validate_clock(settings.calendar.workday_start)
    if settings.calendar.refresh_seconds < 0:
        raise SettingsError("invalid setting calendar.refresh_seconds: must not be negative")
    _validate_timezone(settings.app.timezone)
    return settings


def _validate_wechat(settings: Settings) -> None:
    config = settings.wechat
    for key in ("api_timeout_seconds", "reply_budget_seconds", "body_timeout_seconds"):
        if not 0 < getattr(config, key) < 5:
            raise SettingsError(
                f"invalid setting wechat.{key}: must be between 0 and 5 (WeChat gives up after 5 s)"
            )
    if config.mode not in WECHAT_MODES:
        raise SettingsError(
            f"invalid setting wechat.mode={config.mode!r}: "
            f"expected one of {', '.join(WECHAT_MODES)}"
        )
    if config.mode != "plaintext" and not config.encoding_aes_key:
        raise SettingsError(
            f"invalid setting wechat.mode={config.mode}: needs BIHUAN_WECHAT__ENCODING_AES_KEY"
        )
    if config.mode == "plaintext" and config.encoding_aes_key:
        raise SettingsError(
            "invalid setting wechat.mode=plaintext: an EncodingAESKey is set, so choose "
            "compat or safe (in plaintext mode anyone with one signed URL could post plain XML)"
        )
    job_timeout = settings.outbox.job_timeout_seconds
    if not 0 < config.send_timeout_seconds * 4 <= job_timeout:
        raise SettingsError(
            "invalid setting wechat.send_timeout_seconds: must be positive and at most a quarter "
            f"of outbox.job_timeout_seconds ({job_timeout}): a send job makes up to four calls"
        )
    for key in (
        "max_clock_skew_seconds",
        "reclaim_after_seconds",
        "spool_max_files",
        "raw_retention_days",
    ):
        if getattr(config, key) <= 0:
            raise SettingsError(f"invalid setting wechat.{key}: must be positive")


def _validate_database(database: DatabaseSettings) -> None:
    for key in (
        "connect_timeout_seconds",
        "statement_timeout_ms",
        "lock_timeout_ms",
        "background_statement_timeout_ms",
        "background_lock_timeout_ms",
        "pool_size",
        "pool_timeout_seconds",
    ):
        if getattr(database, key) <= 0:
            raise SettingsError(f"invalid setting database.{key}: must be positive")
    if database.sqlite_synchronous not in SQLITE_SYNCHRONOUS:
        raise SettingsError(
            f"invalid setting database.sqlite_synchronous={database.sqlite_synchronous!r}: "
            f"expected one of {', '.join(SQLITE_SYNCHRONOUS)}"
        )


def _validate_rating(rating: RatingSettings) -> None:
    for key in ("praise_at", "callback_at_or_below", "notice_at_or_below"):
        if not 1 <= getattr(rating, key) <= 5:
            raise SettingsError(f"invalid setting rating.{key}: must be between 1 and 5")
    if rating.notice_at_or_below > rating.callback_at_or_below:
        raise SettingsError(
            "invalid setting rating.notice_at_or_below: must not exceed rating.callback_at_or_below"
        )
    for key in (
        "comment_minutes",
        "comment_max_chars",
        "link_max_age_days",
        "form_max_age_minutes",
        "limit_window_minutes",
        "limit_per_address",
        "limit_per_phone",
    ):
        if getattr(rating, key) <= 0:
            raise SettingsError(f"invalid setting rating.{key}: must be positive")
    for key in ("repeat_tap_minutes", "proxy_hops"):
        if getattr(rating, key) < 0:
            raise SettingsError(f"invalid setting rating.{key}: must not be negative")
    for origin in rating.frame_origins:
        if (
            not isinstance(origin, str)
            or not origin.startswith(("http://", "https://"))
            or any(char in origin for char in " ;,'\"")
        ):
            raise SettingsError(
                f"invalid setting rating.frame_origins: {origin!r} is not an http(s) origin"
            )


def _validate_notices(notices: NoticeSettings) -> None:
    try:
        sample = notices.number_format.format(year=2026, seq=1)
    except (KeyError, IndexError, ValueError) as exc:
        raise SettingsError(
            f"invalid setting notices.number_format: use {{year}} and {{seq}} ({exc})"
        ) from exc
    if "1" not in sample or len(sample) > 40:
        raise SettingsError("invalid setting notices.number_format: must show {seq}, ≤ 40 chars")
    for role in notices.recipients:
        if role not in ("officer", "leader", "executive"):
            raise SettingsError(
                f"invalid setting notices.recipients: {role!r} (officer, leader, executive)"
            )


def _validate_promise(promise: str) -> None:
    """conversation.callback_promise may name {hours}, the contact limit (sla.contact_hours)."""
    try:
        promise.format(hours=2)
    except (KeyError, IndexError, ValueError) as exc:
        raise SettingsError(
            f"invalid setting conversation.callback_promise: only {{hours}} may be named ({exc})"
        ) from exc


def _validate_web(web: WebSettings) -> None:
    from models.core.labels import STAFF_ROLES

    for key in ("session_hours", "login_lock_minutes", "page_size"):
        if getattr(web, key) <= 0:
            raise SettingsError(f"invalid setting web.{key}: must be positive")
    for prefix in ("login", "login_address"):
        slow, lock = getattr(web, f"{prefix}_slow_after"), getattr(web, f"{prefix}_lock_after")
        if not 0 < slow < lock:
            raise SettingsError(
                f"invalid setting web.{prefix}_slow_after: must be positive and below "
                f"web.{prefix}_lock_after"
            )
    unknown = set(web.full_phone_roles) - set(STAFF_ROLES)
    if unknown:
        raise SettingsError(
            f"invalid setting web.full_phone_roles: unknown roles {sorted(unknown)}"
        )


def _validate_api(api: ApiSettings) -> None:
    for key in ("requests_per_minute", "page_size"):
        if getattr(api, key) <= 0:
            raise SettingsError(f"invalid setting api.{key}: must be positive")
    if api.page_size > 500:
        raise SettingsError("invalid setting api.page_size: at most 500 (the API's ?limit=)")


def _validate_clock(value: str) -> None:
    hours, _, minutes = value.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise SettingsError(f"invalid setting calendar.workday_start={value!r}: expected HH:MM")


def _validate_timezone(name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError(f"invalid setting app.timezone={name!r}: unknown time zone") from exc
