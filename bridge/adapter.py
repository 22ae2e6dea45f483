"""What the core needs from a platform adapter, and the errors an adapter reports.

An adapter turns platform events into calls on its ``Port`` (``handle``, ``press``,
``handle_text``) and renders the neutral ``Message`` natively. It holds no business logic
and no database access. It also declares, on its class, what the core must know of its
platform: its ``bot.toml`` section (``config_model``), its environment variables, whether
the bot may always open a private chat, how a mention of a person is written, and its
command-line verbs. Adapters are found through entry points (``bridge.plugins``).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from bridge.config import PlatformConfig
from bridge.shaping import Limit

T = TypeVar("T")

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from typing import TextIO

    from aiohttp import web

    from bridge.config import Config
    from bridge.messages import ChannelRef, Message
    from bridge.port import Port

__all__ = [
    "Adapter",
    "ChannelGone",
    "CliVerb",
    "DeliveryError",
    "PrivateRefused",
    "RetryLater",
]


class DeliveryError(Exception):
    """Sending failed; the outbox retries with backoff until ``max_attempts``."""


class RetryLater(DeliveryError):
    """The platform asked to wait (rate limit): retried after ``after`` seconds, not counted."""

    def __init__(self, after: float, reason: str = "rate limited") -> None:
        super().__init__(reason)
        self.after = after


class ChannelGone(DeliveryError):
    """The channel is gone or the bot lost access: its link is marked inactive, admins told."""


class PrivateRefused(ChannelGone):
    """The platform refused a private message to a person (Telegram 403 for a user who
    never started the bot or blocked it, Discord 50007): the message waits for them."""


@dataclass(frozen=True)
class CliVerb:
    """A ``community-bridge <name>`` sub-command that a platform brings (``slack-manifest``)."""

    name: str
    help: str
    run: Callable[[Config, argparse.Namespace], int]
    arguments: Callable[[argparse.ArgumentParser], None] | None = None


class Adapter(ABC):
    """One chat platform, installed as an entry point of ``community_bridge.adapters``."""

    platform: ClassVar[str]
    #: the ``[platform]`` section of bot.toml (unknown keys are refused with their path)
    config_model: ClassVar[type[PlatformConfig]] = PlatformConfig
    #: environment variables that win over the file: ``{"SLACK_BOT_TOKEN": "bot_token"}``
    env: ClassVar[dict[str, str]] = {}
    #: the bot may open a private chat with any user unasked (Telegram: only after /start)
    can_always_dm: ClassVar[bool] = True
    #: a reply's FormRequest opens a form (a modal) here; else features ask step by step
    forms: ClassVar[bool] = False
    #: how the platform writes a mention, the user id as its first group (parse_mention)
    mention: ClassVar[re.Pattern[str] | None] = None
    #: the platform's published send limits, kept by the delivery worker (bridge.shaping)
    limits: ClassVar[tuple[Limit, ...]] = ()
    #: runs a session in the terminal, and is what ``run`` starts when nothing is configured
    interactive: ClassVar[bool] = False
    #: where the platform stands in listings (``check``, ``--adapters`` errors)
    order: ClassVar[int] = 100
    #: seconds the platform gives for the acknowledgement of an event (Slack and
    #: Discord: 3); None where it waits (Telegram keeps what is not confirmed)
    ack_within: ClassVar[float | None] = None

    def __init__(self, port: Port, config: PlatformConfig | None = None) -> None:
        self.port = port
        #: the parts of a split message posted so far, by delivery id (see send_parts)
        self._parts_done: dict[str, list[str]] = {}
        self.config: Any = config if config is not None else port.config.section(self.platform)
        self.state = "stopped"
        self.detail = ""

    # ---- what the platform declares
    @classmethod
    def parse_mention(cls, text: str) -> str | None:
        """The user id in a mention written as this platform writes it (``<@U0123>``):
        the first group of ``mention`` matching the whole text."""
        if cls.mention is None:
            return None
        m = cls.mention.match(text.strip())
        return m.group(1) if m else None

    @classmethod
    def cli_verbs(cls) -> list[CliVerb]:
        return []

    # ---- running
    async def start(self) -> None:
        """Connect; set ``state`` to ``ready`` once events can be received."""
        self.state = "ready"

    async def stop(self) -> None:
        self.state = "stopped"

    async def serve(self, stdin: TextIO | None = None) -> None:  # noqa: B027 (optional hook)
        """An interactive adapter's session; ``run`` stops when it returns."""

    def add_routes(self, app: web.Application) -> None:  # noqa: B027 (optional hook)
        """Mount HTTP routes on the shared aiohttp server (webhooks). Called before start."""

    @abstractmethod
    async def send(self, channel: ChannelRef, message: Message) -> str:
        """Post a message; return the platform's message id (the ids of its parts, with
        spaces between, when it was split). Raise DeliveryError subclasses."""

    @abstractmethod
    async def edit(self, channel: ChannelRef, message_id: str, message: Message) -> str | None:
        """Replace a posted message's content (live counts), part by part when it was
        split. Unchanged content is no error. Return the new id when the parts changed
        (more or fewer of them), else None."""

    async def run_stored(self, key: str | None, work: Awaitable[object]) -> bool:
        """Do the work of an event stored in the inbox (``key``, from ``Port.received``)
        and mark it handled; when the work breaks it is logged and marked failed, to be
        resumed later. Whether it went through. ``key`` None: an event not stored."""
        try:
            await work
        except Exception:
            log.exception("%s: handling event %s failed", self.platform, key or "(not stored)")
            if key is not None:
                with contextlib.suppress(Exception):
                    await self.port.handled(self.platform, key, failed=True)
            return False
        if key is not None:
            try:
                await self.port.handled(self.platform, key)
            except Exception as exc:  # resumed later: the pipeline knows it was handled
                log.warning("%s: event %s not marked handled: %r", self.platform, key, exc)
        return True

    async def redeliver(self, key: str, payload: dict[str, Any]) -> None:
        """Handle an event this adapter stored in the inbox (``Port.received``) whose
        process did not finish it (it died, or stopped first). The platform's answer
        route may be gone by now (an interaction's token): answers then go as messages,
        private ones privately."""
        raise NotImplementedError(f"{self.platform}: stores no events")

    def relay_needs(self) -> str | None:
        """What the platform still needs before the relay can see members' plain messages
        (a sentence marked with N_), or None; told to the admin on ``/group set … relay``
        and by ``check``."""
        return None

    async def delete(self, channel: ChannelRef, message_id: str) -> None:
        """Delete a posted message, every part of it (a relayed message its author deleted).
        Already gone is no error."""
        raise DeliveryError(f"{self.platform}: this adapter cannot delete messages")

    async def send_parts(
        self,
        delivery_id: str | None,
        parts: Sequence[T],
        post: Callable[[T], Awaitable[str]],
        channel: ChannelRef | None = None,
    ) -> str:
        """Post the parts of one message in order; a retry of the same delivery (after a
        rate limit on part 2, say) goes on after the parts already posted instead of
        posting them again. The parts' ids, joined (``bridge.splitting``).

        The caller has the first part's slot in the chat's allowance; with ``channel``
        every further part waits for its own (``Port.pace``)."""
        from bridge.splitting import join_ids

        done = self._parts_done.get(delivery_id, []) if delivery_id else []
        for n, part in enumerate(parts[len(done) :]):
            if n and channel is not None:
                await self.port.pace(channel)
            try:
                done.append(await post(part))
            finally:
                if channel is not None:
                    await self.port.sent(channel)
            if delivery_id and len(parts) > 1:
                self._parts_done[delivery_id] = done
                while len(self._parts_done) > 1000:  # forgotten retries
                    self._parts_done.pop(next(iter(self._parts_done)))
        if delivery_id:
            self._parts_done.pop(delivery_id, None)
        return join_ids(done)

    @classmethod
    def is_group(cls, channel: ChannelRef) -> bool:
        """Whether the platform limits this chat as a group (Telegram: 20 a minute)."""
        return False

    @classmethod
    def button_scope(cls, channel: ChannelRef) -> str:
        """The chat a button token is bound to (``bridge.actions``): where a press of it
        comes from must be where it was shown. The chat, not its thread or topic (a press
        in a Slack thread reports the channel); a private chat is its person."""
        return f"{'@' if channel.dm else ''}{channel.chat}"

    @classmethod
    def limit_key(cls, channel: ChannelRef) -> str:
        """What the platform's per-chat limit counts by: the channel, thread and all
        (Discord: a thread is a channel of its own); Telegram and Slack count a chat's
        topics and threads together."""
        return channel.key

    def health(self) -> dict[str, str]:
        out = {"state": self.state}
        if self.detail:
            out["detail"] = self.detail
        return out
