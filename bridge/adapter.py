"""What the core needs from a platform adapter, and the errors an adapter reports.

An adapter turns platform events into ``bridge.handle(Invocation)`` /
``bridge.press(ActionPress)`` calls and renders the neutral ``Message`` natively. It holds
no business logic and no database access.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from functools import cache
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from aiohttp import web

    from bridge.core import Bridge
    from bridge.messages import ChannelRef, Message

__all__ = ["Adapter", "ChannelGone", "DeliveryError", "RetryLater", "can_always_dm"]


class DeliveryError(Exception):
    """Sending failed; the outbox retries with backoff until ``max_attempts``."""


class RetryLater(DeliveryError):
    """The platform asked to wait (rate limit): retried after ``after`` seconds, not counted."""

    def __init__(self, after: float, reason: str = "rate limited") -> None:
        super().__init__(reason)
        self.after = after


class ChannelGone(DeliveryError):
    """The channel is gone or the bot lost access: its link is marked inactive, admins told."""


class Adapter(ABC):
    """One chat platform. Subclasses live in ``adapters/<platform>.py``."""

    platform: ClassVar[str]
    #: the platform can always open a direct message to a user (Telegram: only after /start)
    can_always_dm: ClassVar[bool] = True

    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge
        self.state = "stopped"
        self.detail = ""

    async def start(self) -> None:
        """Connect; set ``state`` to ``ready`` once events can be received."""
        self.state = "ready"

    async def stop(self) -> None:
        self.state = "stopped"

    def add_routes(self, app: web.Application) -> None:  # noqa: B027 (optional hook)
        """Mount HTTP routes on the shared aiohttp server (webhooks). Called before start."""

    @abstractmethod
    async def send(self, channel: ChannelRef, message: Message) -> str:
        """Post a message; return the platform's message id. Raise DeliveryError subclasses."""

    @abstractmethod
    async def edit(self, channel: ChannelRef, message_id: str, message: Message) -> None:
        """Replace a posted message's content (live counts). Unchanged content is no error."""

    def health(self) -> dict[str, str]:
        out = {"state": self.state}
        if self.detail:
            out["detail"] = self.detail
        return out


@cache
def can_always_dm(platform: str) -> bool:
    """Whether the bot may open a private chat with any user of ``platform`` unasked.

    Read from the platform's adapter class (Telegram: only after the user started the bot);
    a platform without an adapter module is assumed to allow it.
    """
    try:
        module = importlib.import_module(f"adapters.{platform}")
    except ImportError:
        return True
    adapter = getattr(module, "ADAPTER", None)
    return bool(getattr(adapter, "can_always_dm", True))
