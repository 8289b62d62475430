"""Settings: file, environment overrides, secrets, validation."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.settings import DEFAULT_CONFIG, SettingsError, load_settings


def test_defaults_load_from_config_toml_with_embedded_database():
    settings = load_settings(environ={})
    assert settings.conversation.idle_minutes == 30
    assert settings.sla.remind_at == (0.5, 0.8)
    assert settings.database_url.startswith("sqlite:///")
    assert settings.embedded_redis


def test_environment_overrides_any_key_with_its_type():
    settings = load_settings(
        environ={
            "BIHUAN_DATABASE__URL": "postgresql+psycopg://u@h/db",
            "BIHUAN_CONVERSATION__IDLE_MINUTES": "45",
            "BIHUAN_SLA__REMIND_AT": "[0.25, 0.75]",
            "BIHUAN_DATABASE__ECHO": "true",
            "BIHUAN_WECHAT__TOKEN": "secret-from-env",
        }
    )
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.conversation.idle_minutes == 45
    assert settings.sla.remind_at == (0.25, 0.75)
    assert settings.database.echo is True
    assert settings.wechat.token == "secret-from-env"


def test_bihuan_config_names_another_file(tmp_path):
    other = tmp_path / "other.toml"
    other.write_text("[conversation]\nidle_minutes = 5\n", encoding="utf-8")
    settings = load_settings(environ={"BIHUAN_CONFIG": str(other)})
    assert settings.conversation.idle_minutes == 5


@pytest.mark.parametrize(
    "environ, key",
    [
        (
            {"BIHUAN_WECHAT__ENCODING_AES_KEY": "short", "BIHUAN_WECHAT__APP_ID": "wx1"},
            "wechat.encoding_aes_key",
        ),
        ({"BIHUAN_CONVERSATION__IDLE_MINUTES": "soon"}, "conversation.idle_minutes"),
        ({"BIHUAN_WECHAT__NO_SUCH_KEY": "1"}, "wechat.no_such_key"),
        ({"BIHUAN_NOSECTION__KEY": "1"}, "nosection"),
        ({"BIHUAN_CALENDAR__WORKDAY_START": "8h30"}, "calendar.workday_start"),
        ({"BIHUAN_DATABASE__SQLITE_SYNCHRONOUS": "off"}, "database.sqlite_synchronous"),
    ],
)
def test_invalid_setting_is_refused_naming_the_key(environ, key):
    with pytest.raises(SettingsError, match=key.replace(".", r"\.")):
        load_settings(environ=environ)


def test_unknown_key_in_file_is_refused(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[wechat]\nappid = "x"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=r"wechat\.appid"):
        load_settings(path)


def test_secret_in_file_is_refused(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[wechat]\ntoken = "oops"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="BIHUAN_WECHAT__TOKEN"):
        load_settings(path)


def test_invalid_setting_stops_the_cli_with_one_clear_line(tmp_path):
    env = {
        "BIHUAN_WECHAT__ENCODING_AES_KEY": "x" * 10,
        "BIHUAN_WECHAT__APP_ID": "wx1",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", "menu", "show"],
        capture_output=True,
        text=True,
        env=env,
        cwd=DEFAULT_CONFIG.parent,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "wechat.encoding_aes_key" in lines[0]


def test_loading_settings_does_not_import_flask():
    code = (
        "import sys; from bot.settings import load_settings; load_settings(environ={}); "
        "print('flask' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=DEFAULT_CONFIG.parent
    )
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.parametrize("choice, level", [("full", 2), ("normal", 1)])
def test_sqlite_commits_reach_the_disk_as_configured(tmp_path, choice, level):
    """Every SQLite connection syncs its commits as `database.sqlite_synchronous` says
    (full by default: an answered push survives a power cut)."""
    from sqlalchemy import text

    from bot.db import make_engine

    environ = {
        "BIHUAN_DATABASE__URL": f"sqlite:///{tmp_path / 'sync.sqlite3'}",
        "BIHUAN_DATABASE__SQLITE_SYNCHRONOUS": choice,
    }
    engine = make_engine(load_settings(environ=environ))
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA synchronous")).scalar() == level
    engine.dispose()
    assert load_settings(environ={}).database.sqlite_synchronous == "full"
