"""The middleware chain every incoming event runs through: commands, button presses and
plain messages alike.

Each step is one object with ``process(event, next)``, as slack-bolt's middleware: it may
act before and after the rest of the chain, or answer without calling it. The order is

    Metrics → Failures → Transaction → Dedupe → Context → Permission → the handler

so a refused or broken event is counted, answered clearly and rolled back, a retried event
changes nothing, and the handler sees a ready ``Context`` in one transaction.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from bridge.db import affected, insert_ignore
from bridge.errors import UsageError, UserError
from bridge.i18n import N_, ROLE_PLURALS
from bridge.messages import AccountRef, ChannelRef, Message, Text
from bridge.models import ProcessedEvent
from bridge.registry import WHO_RANK, Who

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bridge.context import Context
    from bridge.core import Bridge
    from bridge.i18n import Translator

__all__ = ["Event", "Middleware", "Next", "Pipeline", "error_reply"]

log = logging.getLogger(__name__)

Next = Callable[[], Awaitable[list[Message]]]


@dataclass
class Event:
    """One incoming event on its way through the chain."""

    kind: Literal["command", "press", "text"]
    channel: ChannelRef
    account: AccountRef
    t: Translator
    run: Callable[[Context], Awaitable[None]]
    """The handler: runs with the ready context, replies through ``ctx.reply``."""
    name: str = ""
    """The command or action (metrics, logs)."""
    label: str = ""
    """How a refusal names it: ``survey close``."""
    who: Who = "all"
    in_group: bool = False
    event_id: str | None = None
    channel_name: str | None = None
    usage: Callable[[str], Message] | None = None
    """Builds the usage reply around a UsageError's reason (commands)."""
    context_cls: type[Context] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """Set on the context (``message_id`` of a pressed button)."""
    session: AsyncSession | None = None
    ctx: Context | None = None
    outcome: str = "ok"

    @property
    def platform(self) -> str:
        return self.channel.platform


class Middleware(Protocol):
    async def process(self, event: Event, next: Next) -> list[Message]: ...


def error_reply(text: str) -> Message:
    """A refusal or failure: only the person who acted sees it."""
    return Message(parts=(Text(text=text),), ephemeral=True)


class Metrics:
    """Counts every event by platform, name and outcome."""

    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge

    async def process(self, event: Event, next: Next) -> list[Message]:
        try:
            return await next()
        finally:
            metrics = self.bridge.metrics
            if event.kind == "command":
                metrics.commands.labels(event.platform, event.name, event.outcome).inc()
            elif event.kind == "press":
                metrics.actions.labels(event.platform, event.name, event.outcome).inc()


async def record_event(session: AsyncSession, bridge: Bridge, event: Event) -> bool:
    """Mark the platform's event id as handled; False when it was already."""
    result = await session.execute(
        insert_ignore(
            session,
            ProcessedEvent,
            {"platform": event.platform, "event_id": event.event_id, "at": bridge.now()},
            ["platform", "event_id"],
        )
    )
    return affected(result) == 1


class Failures:
    """A UserError becomes its translated message (with usage for commands); anything
    else the one "something went wrong" reply. The transaction is rolled back either way,
    and the event is then recorded as handled on its own: a platform's retry of a refused
    or failed command changes nothing and is not answered a second time."""

    def __init__(self, bridge: Bridge | None = None) -> None:
        self.bridge = bridge

    async def process(self, event: Event, next: Next) -> list[Message]:
        try:
            return await next()
        except UserError as exc:
            event.outcome = "refused"
            await self._remember(event)
            text = exc.render(event.t.gettext)
            if isinstance(exc, UsageError) and event.usage is not None:
                return [event.usage(text)]
            return [error_reply(text)]
        except Exception:
            event.outcome = "error"
            log.exception("%s %s failed", event.kind, event.name or "(text)")
            await self._remember(event)
            return [
                error_reply(
                    event.t.gettext(
                        N_(
                            "Something went wrong on my side; nothing was changed. "
                            "Please try again later."
                        )
                    )
                )
            ]

    async def _remember(self, event: Event) -> None:
        if self.bridge is None or not event.event_id:
            return
        try:
            async with self.bridge.db.transaction() as session:
                await record_event(session, self.bridge, event)
        except Exception as exc:  # the database itself may be what failed
            log.warning("could not record refused event %s: %r", event.event_id, exc)


class Transaction:
    """One database transaction for the whole event; deliveries start after the commit."""

    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge

    async def process(self, event: Event, next: Next) -> list[Message]:
        async with self.bridge.db.transaction() as session:
            session.info["bridge"] = self.bridge  # for hooks that only get the session
            event.session = session
            replies = await next()
        self.bridge.outbox.kick()
        return replies


class Dedupe:
    """A platform's retry of an event already handled changes nothing."""

    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge

    async def process(self, event: Event, next: Next) -> list[Message]:
        if event.event_id and not await self.first_time(event):
            event.outcome = "duplicate"
            return []
        return await next()

    async def first_time(self, event: Event) -> bool:
        assert event.session is not None
        if not await record_event(event.session, self.bridge, event):
            self.bridge.metrics.duplicates.labels(event.platform).inc()
            return False
        return True


class BuildContext:
    """Who and where: the account, the channel, its group, the person's rank there."""

    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge

    async def process(self, event: Event, next: Next) -> list[Message]:
        assert event.session is not None
        event.ctx = await self.bridge.context(
            event.session,
            event.context_cls,
            event.channel,
            event.account,
            event.channel_name,
            event.t,
        )
        event.ctx.command = event.name if event.kind == "command" else ""
        for key, value in event.extra.items():
            setattr(event.ctx, key, value)
        return await next()


class Permission:
    """The declared ``who`` of the command or button, and a linked group where needed."""

    async def process(self, event: Event, next: Next) -> list[Message]:
        ctx = event.ctx
        assert ctx is not None
        if ctx.rank < WHO_RANK[event.who]:
            role = ctx.t.gettext(ROLE_PLURALS[event.who])
            if event.kind == "command":
                raise UserError(
                    N_("Only {role} may use /{command}."),
                    role=role,
                    command=event.label or event.name,
                )
            raise UserError(N_("Only {role} may do that here."), role=role)
        if event.in_group:
            ctx.require_group()
        return await next()


class Pipeline:
    """The chain, built once per bridge."""

    def __init__(self, bridge: Bridge, steps: list[Middleware] | None = None) -> None:
        self.steps: list[Middleware] = steps or [
            Metrics(bridge),
            Failures(bridge),
            Transaction(bridge),
            Dedupe(bridge),
            BuildContext(bridge),
            Permission(),
        ]
        self._inflight: set[tuple[str, str]] = set()
        #: one person's events one after the other, in the order they reached the chain
        #: (asyncio's locks are fair): a slow first press never lands after a second
        self._people: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}

    async def run(self, event: Event) -> list[Message]:
        async def at(i: int) -> list[Message]:
            if i == len(self.steps):
                assert event.ctx is not None
                await event.run(event.ctx)
                return event.ctx.replies
            return await self.steps[i].process(event, lambda: at(i + 1))

        # a retry that arrives while the first delivery is still being handled (Slack
        # retries after 3 s) is a duplicate here; later ones find the processed event
        key = (event.platform, event.event_id) if event.event_id else None
        if key is not None:
            if key in self._inflight:
                event.outcome = "duplicate"
                return []
            self._inflight.add(key)
        person = event.account.key
        lock = self._people.setdefault(person, asyncio.Lock())
        self._waiting[person] = self._waiting.get(person, 0) + 1
        try:
            async with lock:
                return await at(0)
        finally:
            if key is not None:
                self._inflight.discard(key)
            self._waiting[person] -= 1
            if not self._waiting[person]:
                del self._waiting[person], self._people[person]
