"""The port: everything an adapter may ask of the core, and nothing else.

An adapter holds a ``Port`` (the running ``Bridge`` implements it), never the whole core:
it hands over incoming events, reports what it learns about chats and people, and reads
the few shared settings it needs. Business rules, the database and delivery stay behind it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bridge.config import Config
    from bridge.messages import (
        AccountRef,
        ActionPress,
        Button,
        ChannelRef,
        ChatPost,
        Invocation,
        Message,
    )
    from bridge.registry import Command

__all__ = ["Port"]


class Port(Protocol):
    """What the core offers an adapter."""

    # ---- shared settings (read-only)
    @property
    def config(self) -> Config:
        """The whole configuration (an adapter reads its own section and ``http``)."""
        ...

    @property
    def default_locale(self) -> str: ...

    def locale_for(self, platform_locale: str | None) -> str:
        """The bot's language for a person whose platform reports ``platform_locale``."""
        ...

    def commands(self) -> list[Command]:
        """Every declared command, sorted by name (manifests, command menus, /help)."""
        ...

    def command_for(self, name: str) -> Command | None: ...

    def encode_button(self, button: Button, channel: ChannelRef, person: str | None = None) -> str:
        """The signed token (≤ 64 bytes) to put into callback_data / value / custom_id of
        a button shown in ``channel``: valid only when pressed there, and for
        ``[community] buttons_expire``. ``person`` (a user id): shown to them alone (an
        ephemeral message), valid only when they press it."""
        ...

    async def get_setting(self, key: str) -> str | None:
        """A value shared by every bot process (e.g. a hash of the synced command set)."""
        ...

    async def set_setting(self, key: str, value: str) -> None: ...

    # ---- the inbox: store first, acknowledge second
    async def received(self, platform: str, events: list[tuple[str, dict[str, Any]]]) -> set[str]:
        """Store incoming events (``(key, payload)``, key the platform's id for the event)
        durably, before the platform is told they were received; the keys that are new,
        to be handled now. The others were stored before (a retry): acknowledge only.
        Raises when the database cannot be reached: acknowledge nothing then."""
        ...

    async def resume(self, platform: str) -> int:
        """Handle now this platform's stored events that are due (a killed predecessor's,
        at start, before new ones are taken: they came first)."""
        ...

    async def in_hand(self, platform: str, key: str) -> bool:
        """Whether a stored event is still waiting to be handled (a retry of it may be
        told to come again later instead of being taken as done)."""
        ...

    async def handled(self, platform: str, key: str, failed: bool = False) -> None:
        """The stored event was handled (``failed``: it broke, resume it later). An
        event never marked is resumed (``Adapter.redeliver``) after its lease."""
        ...

    # ---- incoming events; each returns the replies for where the event came from
    async def handle(self, inv: Invocation) -> list[Message]: ...

    async def press(self, press: ActionPress) -> list[Message]: ...

    async def handle_text(
        self, channel: ChannelRef, account: AccountRef, text: str, event_id: str | None = None
    ) -> list[Message]: ...

    async def message_posted(self, post: ChatPost) -> int:
        """A member's plain message in a channel (the relay copies it where it is on)."""
        ...

    async def message_edited(self, channel: ChannelRef, message_id: str, text: str) -> bool:
        """A member edited a plain message: its relayed copies follow."""
        ...

    async def message_deleted(self, channel: ChannelRef, message_id: str) -> bool:
        """A member deleted a plain message: its relayed copies are deleted."""
        ...

    # ---- what the adapter learned
    async def dm_opened(self, account: AccountRef) -> int:
        """The person wrote to the bot privately (or started it): held DMs are released."""
        ...

    async def dm_refused(self, account: AccountRef, reason: str) -> None:
        """The platform refused a private message to this person (never started, blocked)."""
        ...

    async def hold_private(self, account: AccountRef, message: Message) -> None:
        """A reply meant for this person alone could not be sent privately: it waits in the
        outbox and is delivered once they open the chat (or on another joined account)."""
        ...

    async def chat_lost(self, platform: str, chat_id: str, reason: str) -> None: ...

    async def move_channel(self, old: ChannelRef, new: ChannelRef) -> None: ...

    async def defer(self, channel: ChannelRef, message: Message, after: float) -> None:
        """A direct answer hit a rate limit: the outbox sends it later, nothing is dropped."""
        ...

    async def pace(self, channel: ChannelRef) -> None:
        """Wait for a slot in the chat's send allowance (the parts after a message's first)."""
        ...

    async def sent(self, channel: ChannelRef) -> None:
        """The message whose slot was reserved last for the chat is out (it counts from
        now); call after the platform answered, whatever it answered."""
        ...

    async def allowance(self, channel: ChannelRef) -> float:
        """Reserve a direct answer's slot in the chat's send allowance: 0 when reserved,
        else the seconds until one is free (then ``defer`` the answer by that long)."""
        ...

    async def settle(self) -> None:
        """Deliver everything queued now, delayed rows included (interactive adapters that
        show the conversation in order, such as the console)."""
        ...
