"""The core every adapter talks to through its port (``bridge.port.Port``): one call per
incoming command, button press or plain message.

Each event runs through the middleware chain (``bridge.pipeline``) in one database
transaction: the event id is recorded (a retried event changes nothing), the person and
channel are known, the permission is checked, the handler runs and its outbox rows commit
with its changes. A UserError rolls everything back and becomes a clear, translated message
for the person.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import hashlib
import inspect
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.actions import ActionCodec, ExpiredButton, StaleButton
from bridge.clock import Clock
from bridge.config import Config
from bridge.context import ActionContext, Context
from bridge.db import Database, insert_ignore
from bridge.errors import UsageError
from bridge.i18n import N_, pick_locale, set_timezone, translator
from bridge.inbox import Inbox
from bridge.messages import (
    AccountRef,
    ActionPress,
    Button,
    ChannelRef,
    ChatPost,
    Invocation,
    Message,
    Text,
)
from bridge.metrics import Metrics
from bridge.models import Account, Channel, ChannelLink, Community, Setting
from bridge.outbox import Outbox, posted_ref
from bridge.pipeline import Event, Pipeline, error_reply
from bridge.plugins import adapter_classes
from bridge.registry import Command, Param, Who, bind_options, parse_args, registry
from bridge.sanitize import clean
from bridge.scheduler import Deadlines
from bridge.services import groups as groups_svc
from bridge.services import identity, relay, roles

if TYPE_CHECKING:
    from bridge.adapter import Adapter

__all__ = ["Bridge"]


@functools.cache
def _fits(handler: Callable[..., Any], count: int) -> bool:
    """Whether a button handler takes the context and ``count`` arguments (worked out
    once per handler and count, not on every press)."""
    try:
        inspect.signature(handler).bind(None, *([""] * count))
    except TypeError:
        return False
    return True


def _clean_options(options: dict[str, Any]) -> dict[str, Any]:
    """NUL and lone surrogates out of typed values too, as out of typed text."""

    def one(value: Any) -> Any:
        if isinstance(value, str):
            return clean(value)
        if isinstance(value, list):
            return [one(v) for v in value]
        return value

    return {clean(str(k)): one(v) for k, v in options.items()}


def _clean_account(account: AccountRef) -> AccountRef:
    name = clean(account.display_name)
    return (
        account
        if name == account.display_name
        else account.model_copy(update={"display_name": name})
    )


log = logging.getLogger(__name__)


def _forget(task: asyncio.Task[Any]) -> None:
    """An abandoned store's end: its outcome is of no interest any more."""
    if not task.cancelled():
        task.exception()


COMMUNITY_SLUG = "main"
#: seconds kept free within a platform's acknowledgement deadline, to answer in time
ANSWER_MARGIN = 0.6
#: how long storing an event may take where the platform sets no deadline (Telegram)
STORE_WITHIN = 10.0


class Bridge:
    """One community's bot: configuration, database, registries, adapters, delivery."""

    def __init__(
        self,
        config: Config,
        db: Database | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.db = db or Database(config.database.url, config.database.echo)
        self.clock = clock or Clock()
        self.registry = registry.load()
        self.registry.renderers.setdefault("relay", relay.render)
        self.pipeline = Pipeline(self)
        set_timezone(config.community.timezone)
        self.adapters: dict[str, Adapter] = {}
        self.outbox = Outbox(self)
        self.outbox.anchors["relay"] = relay.anchor
        self.inbox = Inbox(self)
        self._abandoned: set[asyncio.Task[Any]] = set()
        self.deadlines = Deadlines(self)
        self.metrics = Metrics()
        self.codec: ActionCodec | None = None
        self.community_id: int | None = None
        self._community: Community | None = None
        self.ready = False

    # ------------------------------------------------------------------ set-up

    @property
    def default_locale(self) -> str:
        return self.config.community.locale

    def locale_for(self, platform_locale: str | None) -> str:
        return pick_locale(platform_locale, self.default_locale)

    async def start(self) -> None:
        """Make sure the community row, bootstrap admins and the button key exist."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            await session.execute(
                insert_ignore(
                    session,
                    Community,
                    {
                        "slug": COMMUNITY_SLUG,
                        "name": self.config.community.name,
                        "locale": self.default_locale,
                        "created_at": now,
                    },
                    ["slug"],
                )
            )
            community = (
                await session.execute(select(Community).where(Community.slug == COMMUNITY_SLUG))
            ).scalar_one()
            community.name = self.config.community.name
            community.locale = self.default_locale
            self.community_id = community.id
            await session.flush()
            self._community = community  # loaded, and detached after the commit
            await session.execute(
                insert_ignore(
                    session,
                    Setting,
                    {"key": "action_key", "value": secrets.token_hex(32)},
                    ["key"],
                )
            )
            key = (
                await session.execute(select(Setting.value).where(Setting.key == "action_key"))
            ).scalar_one()
            self.codec = ActionCodec(bytes.fromhex(key))
            # delivery ids must not collide between installations sharing a bot account
            self.outbox.install = hashlib.sha256(key.encode()).hexdigest()[:6] + "-"
            for entry in self.config.community.admins:
                platform, _, user_id = entry.partition(":")
                account = await identity.ensure_account(
                    session, community.id, AccountRef(platform=platform, user_id=user_id), now
                )
                await roles.grant(session, account.person_id, "admin", None, None, now)

    def add_adapter(self, adapter: Adapter) -> None:
        self.adapters[adapter.platform] = adapter

    def _button_scope(self, channel: ChannelRef) -> str:
        cls = adapter_classes().get(channel.platform)
        scope = cls.button_scope(channel) if cls is not None else channel.chat
        return f"{channel.platform}:{scope}"

    def encode_button(self, button: Button, channel: ChannelRef, person: str | None = None) -> str:
        assert self.codec is not None, "Bridge.start() first"
        scope = self._button_scope(channel)
        if person:
            scope += f"~{person}"
        return self.codec.encode(button, scope, self.clock.now())

    # ------------------------------------------------------------------ the port

    def commands(self) -> list[Command]:
        return self.registry.visible()

    def command_for(self, name: str) -> Command | None:
        return self.registry.commands.get(name.lower().lstrip("/"))

    async def settle(self) -> None:
        await self.outbox.drain(include_delayed=True, in_order=True)

    # ------------------------------------------------------------------ the inbox

    async def received(self, platform: str, events: list[tuple[str, dict[str, Any]]]) -> set[str]:
        """Store incoming events before the platform is told; the keys that are new.

        Bounded: a database that does not answer (a network partition hangs rather than
        fails) must leave time to tell the person within the platform's deadline."""
        adapter = self.adapters.get(platform)
        deadline = adapter.ack_within if adapter is not None else None
        within = max(0.5, deadline - ANSWER_MARGIN) if deadline else STORE_WITHIN
        # waited for apart from its clean-up: rolling back on a connection that hangs
        # takes as long as the hang, and the person must hear from us before that
        task = asyncio.ensure_future(self.inbox.store(platform, events))
        done, _ = await asyncio.wait({task}, timeout=within)
        if not done:
            task.cancel()
            self._abandoned.add(task)
            task.add_done_callback(self._abandoned.discard)
            task.add_done_callback(functools.partial(self._refuse_late, platform))
            raise TimeoutError(f"the database did not store the event within {within:.1f} s")
        return task.result()

    def _refuse_late(self, platform: str, task: asyncio.Task[set[str]]) -> None:
        """A store given up on that committed after all (its commit was under way): the
        person was told nothing changed, so the event is set aside, never handled."""
        if task.cancelled() or task.exception() is not None or not task.result():
            return
        late = asyncio.ensure_future(self.inbox.refuse(platform, sorted(task.result())))
        self._abandoned.add(late)
        late.add_done_callback(self._abandoned.discard)
        late.add_done_callback(_forget)

    async def resume(self, platform: str) -> int:
        return await self.inbox.resume([platform])

    async def in_hand(self, platform: str, key: str) -> bool:
        return await self.inbox.in_hand(platform, key)

    async def handled(self, platform: str, key: str, failed: bool = False) -> None:
        await self.inbox.done(platform, key, failed)

    # ------------------------------------------------------------------ commands

    async def handle(self, inv: Invocation) -> list[Message]:
        """Run a chat command; return the replies for the person/channel it came from."""
        inv = dataclasses.replace(inv, args=clean(inv.args), account=_clean_account(inv.account))
        t = translator(self.locale_for(inv.account.locale))
        cmd = self.command_for(inv.command)
        if cmd is None:
            self.metrics.commands.labels(inv.platform, "unknown", "unknown").inc()
            return [
                error_reply(
                    t.gettext(
                        N_(
                            "I don't know the command /{name}. "
                            "Type /help for the commands you can use."
                        )
                    ).format(name=inv.command.lstrip("/"))
                )
            ]
        raw = inv.args.strip()
        event = Event(
            kind="command",
            channel=inv.channel,
            account=inv.account,
            t=t,
            run=self._show_usage(cmd),
            name=cmd.name,
            event_id=inv.event_id,
            channel_name=inv.channel_name,
            usage=lambda reason: self._usage(t, cmd, raw, reason),
        )
        if not (raw in ("--help", "-h", "help") and cmd.name != "help"):
            try:
                target, params, who, handler, rest = self._target(cmd, raw)
            except UsageError as exc:  # an unknown subcommand: nothing to run
                self.metrics.commands.labels(inv.platform, cmd.name, "refused").inc()
                return [self._usage(t, cmd, raw, exc.render(t.gettext))]
            event.who = who
            event.in_group = target.in_group
            event.label = cmd.name if target is cmd else f"{cmd.name} {target.name}"

            options = inv.options

            async def run(ctx: Context) -> None:
                if options is None:
                    await handler(ctx, **parse_args(params, rest))
                    return
                if rest.strip():
                    raise UsageError(N_("I did not expect '{word}'."), word=rest.strip()[:40])
                await handler(ctx, **bind_options(params, _clean_options(options)))

            event.run = run
        return await self.pipeline.run(event)

    def _show_usage(self, cmd: Command) -> Callable[[Context], Awaitable[None]]:
        async def run(ctx: Context) -> None:
            ctx.reply(self._usage_text(ctx.t, cmd))

        return run

    def _target(
        self, cmd: Command, raw: str
    ) -> tuple[Any, list[Param], Who, Callable[..., Awaitable[None]], str]:
        """The command or subcommand that ``raw`` names, with its grammar and rank."""
        if cmd.subcommands:
            sub_name, _, rest = raw.partition(" ")
            sub = cmd.subcommands.get(sub_name.lower())
            if sub is not None:
                return sub, sub.params, sub.who, sub.handler, rest
            if cmd.handler is None:
                choices = ", ".join(cmd.subcommands)
                if sub_name:
                    raise UsageError(
                        N_("I did not expect '{word}'. Choose one of: {choices}."),
                        word=sub_name[:40],
                        choices=choices,
                    )
                raise UsageError(N_("Choose one of: {choices}."), choices=choices)
        assert cmd.handler is not None
        return cmd, cmd.params, cmd.who, cmd.handler, raw

    def _usage_text(self, t: Any, cmd: Command) -> str:
        lines = [t.gettext(N_("Usage:"))] + [f"  {u}" for u in cmd.usages()]
        lines.append(t.gettext(cmd.help))
        return "\n".join(lines)

    def _usage(self, t: Any, cmd: Command, raw: str, reason: str) -> Message:
        sub = raw.strip().partition(" ")[0].lower()
        usages = [cmd.usage(sub)] if sub in cmd.subcommands else cmd.usages()
        text = reason + "\n" + t.gettext(N_("Usage:")) + "\n" + "\n".join(f"  {u}" for u in usages)
        return error_reply(text)

    # ------------------------------------------------------------------ buttons

    async def press(self, press: ActionPress) -> list[Message]:
        """A button was pressed; the token is verified before anything else happens."""
        press = dataclasses.replace(press, account=_clean_account(press.account))
        t = translator(self.locale_for(press.account.locale))
        assert self.codec is not None
        expire = self.config.community.buttons_expire
        max_age = expire if expire.total_seconds() > 0 else None
        scope = self._button_scope(press.channel)
        try:  # shown to the person alone (bound to them), or to the chat
            name, args = self.codec.decode(
                press.token,
                (f"{scope}~{press.account.user_id}", scope),
                self.clock.now(),
                max_age,
            )
            action = self.registry.actions.get(name)
            if action is None or not _fits(action.handler, len(args)):
                raise ExpiredButton()  # an unknown action, or one of an older shape
        except ExpiredButton as exc:
            self.metrics.actions.labels(press.channel.platform, "?", "expired").inc()
            text = exc.render(t.gettext)
            if isinstance(exc, StaleButton) and await self._renew(press):
                text += " " + t.gettext(
                    N_("I have renewed its message; please press the button again.")
                )
            return [error_reply(text)]

        async def run(ctx: Context) -> None:
            await action.handler(ctx, *args)

        return await self.pipeline.run(
            Event(
                kind="press",
                channel=press.channel,
                account=press.account,
                t=t,
                run=run,
                name=name,
                who=action.who,
                event_id=press.event_id,
                channel_name=press.channel_name,
                context_cls=ActionContext,
                extra={"message_id": press.message_id},
            )
        )

    async def _renew(self, press: ActionPress) -> bool:
        """A stale button on one of the bot's tracked messages (a card): the message is
        drawn again, with fresh buttons. Whether it was one."""
        if not press.message_id:
            return False
        async with self.db.transaction() as session:
            ref = await posted_ref(session, press.channel.key, press.message_id, threads=True)
            if ref is None or ref.startswith("relay:"):
                return False
            await self.outbox.refresh(session, ref, delay=timedelta(0))
        self.outbox.kick()
        return True

    async def handle_text(
        self, channel: ChannelRef, account: AccountRef, text: str, event_id: str | None = None
    ) -> list[Message]:
        """A plain message (not a command): offered to text handlers (private surveys)."""
        if not self.registry.text_handlers:
            return []
        text, account = clean(text), _clean_account(account)

        async def run(ctx: Context) -> None:
            for handler in self.registry.text_handlers:
                if await handler(ctx, text):
                    break

        return await self.pipeline.run(
            Event(
                kind="text",
                channel=channel,
                account=account,
                t=translator(self.locale_for(account.locale)),
                run=run,
                event_id=event_id,
            )
        )

    async def message_posted(self, post: ChatPost) -> int:
        """A plain message in a channel: relayed when its group's relay is on; how many
        channels it goes to. A platform's retry of the same message is relayed once."""
        post = post.model_copy(
            update={"text": clean(post.text), "account": _clean_account(post.account)}
        )
        async with self.db.transaction() as session:
            return await relay.posted(session, self, post, self.clock.now())

    async def message_edited(self, channel: ChannelRef, message_id: str, text: str) -> bool:
        async with self.db.transaction() as session:
            return await relay.edited(session, self, channel, message_id, clean(text))

    async def message_deleted(self, channel: ChannelRef, message_id: str) -> bool:
        async with self.db.transaction() as session:
            return await relay.deleted(session, self, channel, message_id)

    # ------------------------------------------------------------------ shared steps

    async def context(
        self,
        session: AsyncSession,
        cls: type[Context] | None,
        channel_ref: ChannelRef,
        account_ref: AccountRef,
        channel_name: str | None,
        t: Any,
    ) -> Context:
        assert self.community_id is not None, "Bridge.start() first"
        now = self.clock.now()
        # the community row changes only at start: taken into this session unqueried
        assert self._community is not None
        community = await session.merge(self._community, load=False)
        admins = self.config.community.admins
        known = await roles.known_here(session, account_ref, channel_ref, admins)
        if known is not None:  # every event but the first of a person or in a channel
            account, channel, rank = known
            # writing to the bot privately shows that private messages reach the person
            await identity.seen(session, account, account_ref, now, can_dm=channel_ref.dm)
            if channel is not None and channel_name and channel.name != channel_name:
                channel.name = channel_name
            link = channel.link if channel is not None else None
        else:
            account, channel, link = await self._first_seen(
                session, community.id, account_ref, channel_ref, channel_name, now
            )
            group_id = link.group_id if link is not None and link.active else None
            rank = await roles.rank_of(session, account.person_id, group_id, admins)
        if channel_ref.dm and account.dm_open:
            await self.outbox.release_held(session, account.platform, account.user_id)
        return (cls or Context)(
            bridge=self,
            session=session,
            community=community,
            account=account,
            channel=channel,
            link=link,
            t=t,
            rank=rank,
            channel_key=channel_ref.key,
            is_dm=channel_ref.dm,
        )

    @staticmethod
    async def _first_seen(
        session: AsyncSession,
        community_id: int,
        account_ref: AccountRef,
        channel_ref: ChannelRef,
        channel_name: str | None,
        now: datetime,
    ) -> tuple[Account, Channel | None, ChannelLink | None]:
        """The account and the channel (with its link) when either is new: created."""
        account = await identity.ensure_account(
            session, community_id, account_ref, now, can_dm=channel_ref.dm
        )
        if channel_ref.dm:
            return account, None, None
        channel = await groups_svc.ensure_channel(
            session, community_id, channel_ref, channel_name, now
        )
        if "link" in sa_inspect(channel).unloaded:  # a channel seen for the first time
            link = (
                await session.execute(
                    select(ChannelLink).where(ChannelLink.channel_id == channel.id)
                )
            ).scalar_one_or_none()
        else:  # loaded with the channel (and its group): no second query
            link = channel.link
        return account, channel, link

    # ------------------------------------------------------------------ platform events

    async def dm_opened(self, account: AccountRef) -> int:
        """The person started a private chat with the bot (Telegram /start): release held DMs."""
        async with self.db.transaction() as session:
            assert self.community_id is not None
            acc = await identity.ensure_account(
                session, self.community_id, account, self.clock.now(), can_dm=True
            )
            n = await self.outbox.release_held(session, acc.platform, acc.user_id)
        return n

    async def dm_refused(self, account: AccountRef, reason: str) -> None:
        """The platform refused a private message (never started, blocked): stored, so
        notifications go to the person's other joined accounts until they write again."""
        async with self.db.transaction() as session:
            assert self.community_id is not None
            acc = await identity.ensure_account(
                session, self.community_id, account, self.clock.now()
            )
            acc.dm_open = False
        log.info("%s: private messages to %s refused: %s", account.platform, account.key, reason)

    async def hold_private(self, account: AccountRef, message: Message) -> None:
        """A reply for this person alone could not go privately: it waits in the outbox for
        them (released when they open the chat), and never shows where others see it."""
        async with self.db.transaction() as session:
            assert self.community_id is not None
            acc = await identity.ensure_account(
                session, self.community_id, account, self.clock.now()
            )
            acc.dm_open = False
            await self.outbox.post(
                session,
                f"{acc.platform}:@{acc.user_id}",
                message.model_copy(update={"ephemeral": False}),
                status="held",
                locale=self.locale_for(acc.locale),
            )

    def parse_mention(self, text: str, platform: str | None = None) -> str | None:
        """``platform:user_id`` for a mention written as some installed platform writes it.

        The platform it was typed on is asked first: Slack's ``<@U1>`` and Discord's
        ``<@123>`` look alike, and a mention typed on Discord names a Discord user."""
        classes = adapter_classes()
        order = sorted(classes.items(), key=lambda item: item[0] != platform)
        for name, cls in order:
            user_id = cls.parse_mention(text)
            if user_id:
                return f"{name}:{user_id}"
        return None

    async def mark_channel_inactive(
        self, session: AsyncSession, ref: ChannelRef, reason: str
    ) -> None:
        """The bot lost a channel: its link stops receiving content and the admins are told."""
        channel = await groups_svc.find_channel(session, ref)
        if channel is None:
            return
        link = (
            await session.execute(select(ChannelLink).where(ChannelLink.channel_id == channel.id))
        ).scalar_one_or_none()
        if link is None or not link.active:
            return
        link.active = False
        link.inactive_reason = reason[:200]
        await session.flush()
        t = translator(self.default_locale)
        text = t.gettext(
            N_(
                "I can no longer post in {channel} ({platform}: {reason}). Its link to the "
                "group {group} is paused; /link it again once I have access."
            )
        ).format(
            channel=channel.name or channel.chat_id,
            platform=channel.platform,
            reason=reason,
            group=link.group.slug,
        )
        await self.notify_admins(session, Message(parts=(Text(text=text),)))

    async def chat_lost(self, platform: str, chat_id: str, reason: str) -> None:
        """The bot was removed from a whole chat: pause the links of all its channels (the
        chat and its topics/threads) and tell the admins."""
        async with self.db.transaction() as session:
            channels = (
                await session.execute(
                    select(Channel.chat_id, Channel.thread_id).where(
                        Channel.platform == platform, Channel.chat_id == chat_id
                    )
                )
            ).all()
            for chat, thread in channels:
                ref = ChannelRef(platform=platform, chat=chat, thread=thread)
                await self.mark_channel_inactive(session, ref, reason)
        self.outbox.kick()

    async def defer(self, channel: ChannelRef, message: Message, after: float) -> None:
        """A direct answer hit a rate limit: the outbox sends it later, nothing is dropped."""
        async with self.db.transaction() as session:
            await self.outbox.post(session, channel.key, message, delay=timedelta(seconds=after))

    def _allowance_key(self, channel: ChannelRef) -> tuple[str, bool]:
        """What the platform's per-chat limit counts the channel by, and whether it is a group."""
        adapter = self.adapters[channel.platform]
        return adapter.limit_key(channel), adapter.is_group(channel)

    async def pace(self, channel: ChannelRef) -> None:
        """Wait for a slot in the chat's send allowance (a message's further parts)."""
        await self.outbox.shaper.wait(channel.platform, *self._allowance_key(channel))

    async def sent(self, channel: ChannelRef) -> None:
        await self.outbox.shaper.sent(channel.platform, self._allowance_key(channel)[0])

    async def allowance(self, channel: ChannelRef) -> float:
        """A direct answer's slot in the chat's send allowance (shared with the outbox and
        the other processes): 0 when reserved now, else the seconds until one is free
        (nothing reserved; the answer is then ``defer``red by that long)."""
        return await self.outbox.shaper.now(channel.platform, *self._allowance_key(channel))

    async def move_channel(self, old: ChannelRef, new: ChannelRef) -> None:
        """A chat changed its id (Telegram group → supergroup): keep its link and records."""
        async with self.db.transaction() as session:
            channel = await groups_svc.find_channel(session, old)
            if channel is None or await groups_svc.find_channel(session, new) is not None:
                return
            channel.chat_id = new.chat
            channel.thread_id = new.thread

    async def notify_admins(self, session: AsyncSession, message: Message) -> None:
        ids = set(await roles.admin_person_ids(session))
        for entry in self.config.community.admins:
            platform, _, user_id = entry.partition(":")
            acc = await identity.find_account(session, platform, user_id)
            if acc is not None:
                ids.add(acc.person_id)
        for person_id in sorted(ids):
            await self.outbox.notify(session, person_id, message)

    async def get_setting(self, key: str) -> str | None:
        """A value shared by every bot process (e.g. a hash of the synced command set)."""
        async with self.db.reading() as session:
            return (
                await session.execute(select(Setting.value).where(Setting.key == key))
            ).scalar_one_or_none()

    async def set_setting(self, key: str, value: str) -> None:
        async with self.db.transaction() as session:
            row = await session.get(Setting, key)
            if row is None:
                session.add(Setting(key=key, value=value))
            else:
                row.value = value

    async def close(self) -> None:
        await self.outbox.close()
        await self.db.dispose()

    def now(self) -> datetime:
        return self.clock.now()


@contextlib.asynccontextmanager
async def started(config: Config) -> AsyncIterator[Bridge]:
    """A bridge on a migrated database for one command-line job (no adapters, no
    worker), closed again however the job ends."""
    from bridge.db import upgrade

    await upgrade(config.database.url)
    bridge = Bridge(config)
    try:
        await bridge.start()
        yield bridge
    finally:
        await bridge.close()
