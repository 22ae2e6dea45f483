"""bot.toml and the environment: validated, with one clear line naming the key on errors."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bridge.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def test_missing_file_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # no ./bot.toml and none named: the defaults (a named file that is missing is an error,
    # see test_bridge_config_naming_a_missing_file_is_an_error; issue 16 changed that)
    monkeypatch.chdir(tmp_path)
    config = load_config(None, env={})
    assert config.database.url == "sqlite+aiosqlite:///community.db"
    assert config.questions.answer_within == timedelta(hours=4)
    assert config.configured_platforms() == []


def test_example_bot_toml_is_valid() -> None:
    config = load_config(ROOT / "bot.toml", env={})
    assert config.community.admins == ["console:admin"]
    assert config.configured_platforms() == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[community]\nnmae = 'x'\n", "unknown key 'community.nmae'"),
        ("[htp]\nport = 1\n", "unknown key 'htp'"),
        ("[http]\nport = 'eighty'\n", "http.port: Input should be a valid integer"),
        ("[questions]\nanswer_within = '4x'\n", "questions.answer_within: bad duration '4x'"),
        ("[questions]\nremind_every = 5\n", "questions.remind_every: expected a duration"),
        ("[community]\nlocale = 'fr'\n", "community.locale: Input should be 'de' or 'en'"),
        ("[community]\nadmins = ['U0123']\n", "community.admins: 'U0123' is not of the form"),
        ("[telegram]\nmode = 'push'\n", "telegram.mode: Input should be 'polling' or 'webhook'"),
        ("[community\n", "not valid TOML"),
    ],
)
def test_bad_config_names_the_key(
    tmp_config: Callable[[str], Path], text: str, expected: str
) -> None:
    path = tmp_config(text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_environment_wins_over_the_file(tmp_config: Callable[[str], Path]) -> None:
    path = tmp_config('[database]\nurl = "sqlite+aiosqlite:///a.db"\n[slack]\nbot_token = "f"\n')
    config = load_config(
        path,
        env={
            "DATABASE_URL": "postgresql+asyncpg://u@h/db",
            "SLACK_BOT_TOKEN": "xoxb-env",
            "SLACK_SIGNING_SECRET": "sec",
            "TELEGRAM_BOT_TOKEN": "1:A",
            "DISCORD_BOT_TOKEN": "d",
        },
    )
    assert config.database.url == "postgresql+asyncpg://u@h/db"
    assert config.slack.bot_token == "xoxb-env"
    assert config.configured_platforms() == ["slack", "telegram", "discord"]


def test_bridge_config_variable_names_the_file(tmp_config: Callable[[str], Path]) -> None:
    path = tmp_config('[community]\nname = "From Env"\n')
    assert load_config(None, env={"BRIDGE_CONFIG": str(path)}).community.name == "From Env"


def test_bridge_config_naming_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"absent.toml: no such file \(from BRIDGE_CONFIG\)"):
        load_config(None, env={"BRIDGE_CONFIG": str(tmp_path / "absent.toml")})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[database]\nurl = "not a url"\n', "database.url: 'not a url' is not a database URL"),
        ('[database]\nurl = "mysql://u@h/db"\n', "database.url: mysql:// is not supported"),
        ("[http]\nport = 99999\n", "http.port: Input should be less than or equal to 65535"),
        ('[http]\npublic_url = "not-a-url"\n', "http.public_url: 'not-a-url' is not an http(s)"),
        ("[delivery]\nmax_attempts = -5\n", "delivery.max_attempts: Input should be greater"),
    ],
)
def test_values_the_bot_cannot_use_are_refused_with_the_key(
    tmp_config: Callable[[str], Path], text: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_config(text), env={})
    assert expected in str(info.value)


def test_the_common_postgresql_url_means_asyncpg(tmp_config: Callable[[str], Path]) -> None:
    config = load_config(tmp_config('[database]\nurl = "postgresql://u@h/db"\n'), env={})
    assert config.database.url == "postgresql+asyncpg://u@h/db"


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml", env={})


def _cli(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_reports_a_bad_config_in_one_line(tmp_config: Callable[[str], Path]) -> None:
    path = tmp_config("[questions]\nanswer_within = 'soon'\n")
    result = _cli("check", "--config", str(path), cwd=path.parent)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: {path}: questions.answer_within: bad duration 'soon' (use e.g. 30m, 4h, 3d, 1h30m)"
    ]


def test_check_says_what_is_configured(tmp_config: Callable[[str], Path]) -> None:
    path = tmp_config('[telegram]\ntoken = "1:A"\n')
    result = _cli("check", "--config", str(path), cwd=path.parent)
    assert result.returncode == 0, result.stderr
    assert "telegram: on (polling" in result.stdout
    assert "slack: off (no bot_token)" in result.stdout
    assert "discord: off (no token)" in result.stdout
