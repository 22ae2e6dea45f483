"""The bot's configuration: ``bot.toml`` and environment variables, validated by pydantic."""

from __future__ import annotations

import os
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, field_validator

from bridge.durations import parse_duration

__all__ = ["Config", "ConfigError", "load_config"]

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///community.db"


class ConfigError(Exception):
    """A configuration problem, with a one-line message naming the key path."""


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError('expected a duration string such as "4h"')
    return parse_duration(value)


Duration = Annotated[timedelta, BeforeValidator(_duration)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CommunityConfig(Section):
    name: str = "Community"
    locale: Literal["de", "en"] = "en"
    admins: list[str] = []

    @field_validator("admins")
    @classmethod
    def _accounts(cls, value: list[str]) -> list[str]:
        for item in value:
            platform, _, user = item.partition(":")
            if not platform or not user:
                raise ValueError(f"{item!r} is not of the form platform:user_id")
        return value


class DatabaseConfig(Section):
    url: str = DEFAULT_DATABASE_URL
    echo: bool = False


class HttpConfig(Section):
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = "http://127.0.0.1:8080"
    enabled: bool = True


class QuestionsConfig(Section):
    answer_within: Duration = timedelta(hours=4)
    remind_every: Duration = timedelta(hours=1)


class SlackConfig(Section):
    bot_token: str | None = None
    signing_secret: str | None = None
    app_token: str | None = None
    api_url: str = "https://slack.com/api/"

    @property
    def configured(self) -> bool:
        return bool(self.bot_token and (self.signing_secret or self.app_token))


class TelegramConfig(Section):
    token: str | None = None
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str | None = None
    mode: Literal["polling", "webhook"] = "polling"
    webhook_secret: str | None = None
    bot_username: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.token)


class DiscordConfig(Section):
    token: str | None = None
    api_base: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg"
    guild_id: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.token)


class DeliveryConfig(Section):
    """How the outbox worker paces itself."""

    poll_interval: Duration = timedelta(seconds=1)
    edit_delay: Duration = timedelta(seconds=2)
    max_attempts: int = 8


class Config(Section):
    community: CommunityConfig = CommunityConfig()
    database: DatabaseConfig = DatabaseConfig()
    http: HttpConfig = HttpConfig()
    questions: QuestionsConfig = QuestionsConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    slack: SlackConfig = SlackConfig()
    telegram: TelegramConfig = TelegramConfig()
    discord: DiscordConfig = DiscordConfig()
    path: str | None = None

    def configured_platforms(self) -> list[str]:
        """The chat platforms that have credentials, in a stable order."""
        found = []
        if self.slack.configured:
            found.append("slack")
        if self.telegram.configured:
            found.append("telegram")
        if self.discord.configured:
            found.append("discord")
        return found


_ENV = {
    "DATABASE_URL": ("database", "url"),
    "SLACK_BOT_TOKEN": ("slack", "bot_token"),
    "SLACK_SIGNING_SECRET": ("slack", "signing_secret"),
    "SLACK_APP_TOKEN": ("slack", "app_token"),
    "TELEGRAM_BOT_TOKEN": ("telegram", "token"),
    "DISCORD_BOT_TOKEN": ("discord", "token"),
}


def _describe(error: ValidationError, source: str) -> str:
    first = error.errors()[0]
    path = ".".join(str(p) for p in first["loc"])
    kind = first["type"]
    if kind == "extra_forbidden":
        return f"{source}: unknown key {path!r}"
    msg = first["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return f"{source}: {path}: {msg}"


def load_config(
    path: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Config:
    """Load ``bot.toml`` (missing file: defaults), apply the environment, validate.

    ``path`` defaults to ``$BRIDGE_CONFIG`` and then ``./bot.toml``. Raises ConfigError with
    one line that names the key path.
    """
    env = dict(os.environ if env is None else env)
    chosen = Path(path or env.get("BRIDGE_CONFIG") or "bot.toml")
    data: dict[str, Any] = {}
    if chosen.exists():
        try:
            data = tomllib.loads(chosen.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{chosen}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"{chosen}: cannot be read: {exc.strerror}") from None
    elif path is not None:
        raise ConfigError(f"{chosen}: no such file")
    for var, (section, key) in _ENV.items():
        if env.get(var):
            block = data.setdefault(section, {})
            if not isinstance(block, dict):
                raise ConfigError(f"{chosen}: {section}: must be a table")
            block[key] = env[var]
    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.partition(".")
        data.setdefault(section, {})[key] = value
    data["path"] = str(chosen)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, str(chosen))) from None
