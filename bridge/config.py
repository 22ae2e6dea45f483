"""The bot's configuration: ``bot.toml`` and environment variables, validated by pydantic."""

from __future__ import annotations

import os
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bridge.durations import parse_duration

__all__ = ["Config", "ConfigError", "PlatformConfig", "Section", "load_config"]

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


def _delay(value: Any) -> timedelta:
    if value in ("0", "0s", 0):
        return timedelta(0)
    return _duration(value)


#: a duration that may also be "0s" (no wait)
Delay = Annotated[timedelta, BeforeValidator(_delay)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CommunityConfig(Section):
    name: str = "Community"
    locale: Literal["de", "en"] = "en"
    admins: list[str] = []
    timezone: str = "Europe/Berlin"
    #: a button older than this is no longer valid (its card is drawn again); 0: never
    buttons_expire: Duration = timedelta(days=7)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone such as Europe/Berlin") from None
        return value

    @field_validator("admins")
    @classmethod
    def _accounts(cls, value: list[str]) -> list[str]:
        for item in value:
            platform, _, user = item.partition(":")
            if not platform or not user:
                raise ValueError(f"{item!r} is not of the form platform:user_id")
        return value


#: what SQLAlchemy's async engine takes, and the common spellings that mean the same
_DB_SCHEMES = {
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "sqlite": "sqlite+aiosqlite",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


class DatabaseConfig(Section):
    url: str = DEFAULT_DATABASE_URL
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        scheme, sep, rest = value.partition("://")
        if not sep or not rest:
            raise ValueError(
                f"{value!r} is not a database URL (use sqlite+aiosqlite:///community.db or "
                "postgresql+asyncpg://user@host/db)"
            )
        driver = _DB_SCHEMES.get(scheme.lower())
        if driver is None:
            raise ValueError(
                f"{scheme}:// is not supported: use SQLite (sqlite+aiosqlite://) or "
                "PostgreSQL (postgresql+asyncpg://)"
            )
        return f"{driver}://{rest}"


class HttpConfig(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str = "http://127.0.0.1:8080"
    enabled: bool = True

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL such as https://bot.example.com")
        return value


class QuestionsConfig(Section):
    answer_within: Duration = timedelta(hours=4)
    remind_every: Duration = timedelta(hours=1)


class PlatformConfig(Section):
    """A platform's ``[section]`` of bot.toml; each adapter declares its own subclass."""

    @property
    def configured(self) -> bool:
        """The section holds what the platform needs to start (its credentials)."""
        return False

    def describe(self) -> str:
        """One line for ``community-bridge check``: ``on (...)`` or ``off (no token)``."""
        return "on" if self.configured else "off"

    def problems(self, config: Config) -> list[str]:
        """Settings that the platform would refuse (``check`` fails naming the key)."""
        return []

    def warnings(self, config: Config) -> list[str]:
        """Settings that work only on this machine (``check`` warns, naming the key)."""
        return []


def public_url_refusal(
    url: str, ports: tuple[int, ...] | None = None, who: str = "the platform"
) -> str | None:
    """Why ``who`` would refuse ``url`` as the address it calls (webhooks, request URLs):
    not https, a port it does not call, or a host on this machine or a private network.
    None when it would take it."""
    import ipaddress
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme != "https":
        return f"{who} calls only https:// URLs, not {url}"
    try:
        port = parts.port or 443
    except ValueError:
        return f"{url} has no valid port"
    if ports is not None and port not in ports:
        allowed = ", ".join(str(p) for p in ports)
        return f"{who} calls only the ports {allowed}, not {port}"
    host = (parts.hostname or "").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        local = host in ("localhost", "") or host.endswith((".localhost", ".local"))
    else:
        local = not address.is_global
    if local:
        return f"{who} cannot reach {host or url}: it is on this machine or a private network"
    return None


class DeliveryConfig(Section):
    """How the outbox worker paces itself.

    ``shaping``: keep each platform's published limits before it refuses (the adapters
    declare them); ``limits`` replaces a platform's, e.g. ``telegram = ["1/1s chat",
    "20/60s group", "30/1s all"]``."""

    poll_interval: Duration = timedelta(seconds=1)
    edit_delay: Duration = timedelta(seconds=2)
    max_attempts: int = Field(default=8, ge=1, le=100)
    shaping: bool = True
    limits: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("limits")
    @classmethod
    def _limits(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        from bridge.shaping import parse_limit

        for platform, items in value.items():
            for item in items:
                try:
                    parse_limit(item)
                except ValueError as exc:
                    raise ValueError(f"{platform}: {exc}") from None
        return value


class RedisConfig(Section):
    """Optional: ``url`` (``redis://host:6379/0``) keeps the platforms' send allowances in
    Redis, shared by every bot process, instead of in the database."""

    url: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"{value!r} is not a redis://, rediss:// or unix:// URL")
        return value


class RelayConfig(Section):
    """``keep``: how long the relay remembers which copies belong to which message (so
    edits, deletions and replies follow); older messages are forgotten."""

    keep: Delay = timedelta(days=30)


class SurveysConfig(Section):
    """Anonymous surveys redraw their counts in batches, so nobody watching a card learns
    one person's choice: after at least ``anonymous_batch`` new responses and at least
    ``anonymous_delay`` after the previous redraw, whichever comes last."""

    anonymous_batch: int = Field(default=3, ge=1, le=1000)
    anonymous_delay: Delay = timedelta(minutes=1)


class Config(Section):
    community: CommunityConfig = CommunityConfig()
    database: DatabaseConfig = DatabaseConfig()
    http: HttpConfig = HttpConfig()
    questions: QuestionsConfig = QuestionsConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    surveys: SurveysConfig = SurveysConfig()
    redis: RedisConfig = RedisConfig()
    relay: RelayConfig = RelayConfig()
    sections: dict[str, PlatformConfig] = {}
    """The platforms' sections, validated by the models their adapters declare."""
    path: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _platform_sections(cls, data: Any) -> Any:
        """Move each installed platform's table into ``sections``, validated by its model."""
        if not isinstance(data, dict):
            return data
        from bridge.plugins import adapter_classes

        data = dict(data)
        sections: dict[str, Any] = dict(data.pop("sections", None) or {})
        for name, adapter in adapter_classes().items():
            raw = data.pop(name, sections.get(name, {}))
            if isinstance(raw, adapter.config_model):
                sections[name] = raw
                continue
            if not isinstance(raw, dict):
                raise SectionError(name, None, "must be a table")
            try:
                sections[name] = adapter.config_model.model_validate(raw)
            except ValidationError as exc:
                raise SectionError(name, exc) from None
        data["sections"] = sections
        return data

    def section(self, platform: str) -> Any:
        """The ``[platform]`` section (typed by the adapter that declares it)."""
        return self.sections.get(platform, PlatformConfig())

    def __getattr__(self, name: str) -> Any:
        sections = self.__dict__.get("sections") or {}
        if name in sections:
            return sections[name]
        return super().__getattr__(name)  # type: ignore[misc]

    def configured_platforms(self) -> list[str]:
        """The chat platforms that have credentials, in a stable order."""
        return [name for name, section in self.sections.items() if section.configured]


class SectionError(Exception):
    """A platform's section is invalid (raised through pydantic, which passes it on)."""

    def __init__(self, name: str, error: ValidationError | None, message: str = "") -> None:
        super().__init__(name)
        self.name = name
        self.error = error
        self.message = message


_ENV = {"DATABASE_URL": ("database", "url")}


def _env_vars() -> dict[str, tuple[str, str]]:
    """The core's environment variables and those every installed adapter declares."""
    from bridge.plugins import adapter_classes

    found = dict(_ENV)
    for name, adapter in adapter_classes().items():
        for var, key in adapter.env.items():
            found[var] = (name, key)
    return found


def _describe(error: ValidationError, source: str, prefix: tuple[str, ...] = ()) -> str:
    first = error.errors()[0]
    path = ".".join(str(p) for p in (*prefix, *first["loc"]))
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
    named = path or env.get("BRIDGE_CONFIG")
    chosen = Path(named or "bot.toml")
    data: dict[str, Any] = {}
    if chosen.exists():
        try:
            data = tomllib.loads(chosen.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{chosen}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"{chosen}: cannot be read: {exc.strerror}") from None
    elif named:
        source = "" if path is not None else " (from BRIDGE_CONFIG)"
        raise ConfigError(f"{chosen}: no such file{source}")
    for var, (section, key) in _env_vars().items():
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
    except SectionError as exc:
        if exc.error is None:
            raise ConfigError(f"{chosen}: {exc.name}: {exc.message}") from None
        raise ConfigError(_describe(exc.error, str(chosen), (exc.name,))) from None
