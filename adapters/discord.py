"""Discord: application commands, buttons and forms in guild channels, threads and DMs."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
import sys
import time
from collections import OrderedDict
from collections.abc import Awaitable, Iterable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bridge.adapter import Adapter, ChannelGone, CliVerb, DeliveryError, RetryLater
from bridge.config import Config, PlatformConfig
from bridge.i18n import N_, translator
from bridge.messages import (
    AccountRef,
    ActionPress,
    Author,
    Bold,
    Button,
    ChannelRef,
    ChatPost,
    Code,
    FileAttachment,
    Invocation,
    Italic,
    Link,
    Mention,
    Mentioned,
    Message,
    Part,
    authored,
)
from bridge.registry import Command, Param
from bridge.shaping import Limit
from bridge.splitting import (
    NUMBER_ROOM,
    edit_parts,
    join_ids,
    numbered,
    split_ids,
    split_parts,
)

if TYPE_CHECKING:
    import argparse

    from bridge.port import Port

__all__ = [
    "ADAPTER",
    "DiscordAdapter",
    "command_payloads",
    "escape",
    "render_parts",
    "sync_commands_cli",
]

log = logging.getLogger(__name__)

EPHEMERAL = 1 << 6
MANAGE_GUILD = 1 << 5
HASH_SETTING = "discord.commands_hash"
#: a ``words`` param (survey options) becomes this many STRING options, ``option1`` ...
WORDS_SLOTS = 10
#: longer 429 waits come back to the outbox as RetryLater instead of blocking a lane
MAX_RATELIMIT_WAIT = 30.0
#: Discord error codes that mean "you cannot post there any more"
GONE_CODES = {10003, 50001, 50007, 50013, 50083}

# Discord's option types, component types and interaction callback types
SUB_COMMAND, STRING, INTEGER, BOOLEAN = 1, 3, 4, 5
ACTION_ROW, BUTTON, TEXT_INPUT, LABEL = 1, 2, 4, 18
REPLY, DEFER, DEFER_UPDATE, MODAL = 4, 5, 6, 9
BUTTON_STYLE = {"primary": 1, "default": 2, "danger": 4}


# --------------------------------------------------------------------------------------
# Rendering: parts → Discord markdown, every piece of text escaped


_ALWAYS = re.compile(r"([\\*_~`|\[\]<])")
_LINE_MARK = re.compile(r"^(\s*)(>|#{1,3}\s|-#\s|[-+]\s)", re.MULTILINE)
_LINE_NUMBER = re.compile(r"^(\s*\d+)\.", re.MULTILINE)
_PINGS = re.compile(r"@(everyone|here|[!&]?\d{15,21})")
_URL = re.compile(r"https?://[^\s<]+[^<.,:;\"'\]\s)]")


def _escape_plain(text: str) -> str:
    text = _ALWAYS.sub(r"\\\1", text)
    text = _LINE_MARK.sub(r"\1\\\2", text)
    text = _LINE_NUMBER.sub(r"\1\\.", text)
    return _PINGS.sub("@\u200b\\1", text)


def escape(text: str) -> str:
    """User text as Discord shows it literally: no markdown, no mentions; links stay links."""
    out: list[str] = []
    pos = 0
    for m in _URL.finditer(text):
        out.append(_escape_plain(text[pos : m.start()]))
        out.append(_PINGS.sub("@\u200b\\1", m.group(0)))
        pos = m.end()
    out.append(_escape_plain(text[pos:]))
    return "".join(out)


def _wrap(marker: str, text: str) -> str:
    """``**bold**`` with the surrounding whitespace outside the markers."""
    core = text.strip()
    if not core:
        return escape(text)
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    return f"{lead}{marker}{escape(core)}{marker}{trail}"


def _safe_url(url: str) -> str | None:
    url = url.strip()
    if not re.match(r"https?://\S+$", url):
        return None
    return url.replace(">", "%3E").replace("<", "%3C").replace(")", "%29").replace("(", "%28")


def render_parts(parts: Sequence[Part]) -> tuple[str, list[str]]:
    """Discord markdown for parts, and the user ids that may be pinged (Mention parts)."""
    out: list[str] = []
    users: list[str] = []
    for part in parts:
        if isinstance(part, Bold):
            out.append(_wrap("**", part.text))
        elif isinstance(part, Italic):
            out.append(_wrap("*", part.text))
        elif isinstance(part, Code):
            code = part.text.replace("`", "ˋ").replace("\n", " ")
            out.append(f"`{code}`" if code.strip() else code)
        elif isinstance(part, Link):
            url = _safe_url(part.url)
            if url is None:
                out.append(escape(part.text or part.url))
            elif not part.text or part.text == part.url:
                out.append(f"<{url}>")
            else:
                out.append(f"[{escape(part.text)}](<{url}>)")
        elif isinstance(part, Mention):
            user_id = part.accounts.get("discord", "")
            if user_id.isdigit():
                out.append(f"<@{user_id}>")
                if user_id not in users:
                    users.append(user_id)
            else:
                out.append("@" + escape(part.text))
        else:
            out.append(escape(part.text))
    return "".join(out), users


CONTENT_LIMIT = 2000  # characters of a message's content


def _size(part: Part) -> int:
    """A part's length as Discord counts it: its rendered markdown."""
    return len(render_parts([part])[0])


def _nonce(delivery_id: str) -> str:
    """At most 25 characters, different for each part of one delivery."""
    head, dot, part = delivery_id.partition(".")
    return f"{head[: 24 - len(part)]}.{part}" if dot else delivery_id[:25]


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --------------------------------------------------------------------------------------
# Application commands from the registry


def _option_name(name: str) -> str:
    cleaned = re.sub(r"[^-_0-9a-z]+", "_", name.lower()).strip("_")
    return (cleaned or "value")[:32]


def _slots(params: Sequence[Param]) -> list[tuple[Param, list[str]]]:
    """Each param with the Discord option name(s) that carry it."""
    others = sum(1 for p in params if p.kind != "words")
    taken = {_option_name(p.name) for p in params if p.kind != "words"}
    out: list[tuple[Param, list[str]]] = []
    for p in params:
        if p.kind != "words":
            out.append((p, [_option_name(p.name)]))
            continue
        base = _option_name(p.metavar or p.name)
        if any(f"{base}{i}" in taken for i in range(1, WORDS_SLOTS + 1)):
            base = _option_name(p.name)
        count = max(1, min(WORDS_SLOTS, 25 - others))
        out.append((p, [f"{base}{i}"[:32] for i in range(1, count + 1)]))
    return out


def _described(text: str, fallback: str) -> dict[str, Any]:
    english = _clip(text or fallback, 100)
    body: dict[str, Any] = {"description": english}
    if text:
        german = _clip(translator("de").gettext(text), 100)
        if german and german != english:
            body["description_localizations"] = {"de": german}
    return body


def _param_options(params: Sequence[Param]) -> list[dict[str, Any]]:
    de = translator("de")
    required: list[dict[str, Any]] = []
    optional: list[dict[str, Any]] = []
    for p, names in _slots(params):
        for i, name in enumerate(names):
            kind = {"int": INTEGER, "flag": BOOLEAN}.get(p.kind, STRING)
            opt: dict[str, Any] = {"type": kind, "name": name}
            help_text = p.help
            opt.update(_described(help_text, p.metavar or p.name))
            if p.kind == "words" and i > 0:
                opt["description"] = _clip(f"{opt['description']} ({i + 1})", 100)
                if "description_localizations" in opt:
                    loc = opt["description_localizations"]["de"]
                    opt["description_localizations"] = {"de": _clip(f"{loc} ({i + 1})", 100)}
            is_required = p.required and p.kind != "flag" and (p.kind != "words" or i == 0)
            opt["required"] = is_required
            if p.kind == "choice" and p.choices:
                choices = []
                for choice in p.choices[:25]:
                    entry: dict[str, Any] = {"name": choice, "value": choice}
                    german = de.gettext(choice)
                    if german != choice:
                        entry["name_localizations"] = {"de": _clip(german, 100)}
                    choices.append(entry)
                opt["choices"] = choices
            (required if is_required else optional).append(opt)
    return (required + optional)[:25]


def command_payloads(commands: Iterable[Command], guild: bool = False) -> list[dict[str, Any]]:
    """Every registered command as a Discord CHAT_INPUT command (the bulk-overwrite body).

    Subcommands become SUB_COMMAND options; admin-only commands carry Manage Server as
    default member permissions and are offered in servers only. Global commands name
    their contexts (server channels and the bot's DMs).
    """
    out: list[dict[str, Any]] = []
    for cmd in sorted(commands, key=lambda c: c.name):
        body: dict[str, Any] = {"name": _option_name(cmd.name), "type": 1}
        body.update(_described(cmd.help, cmd.name))
        if cmd.subcommands and cmd.handler is not None:
            # Discord: a command with subcommands has no form of its own. The command keeps
            # its own options; each further form is a command of its own: /idea-edit
            body["options"] = _param_options(cmd.params)
            for sub in cmd.subcommands.values():
                extra: dict[str, Any] = {
                    "name": _option_name(f"{cmd.name}-{sub.name}"),
                    "type": 1,
                    **_described(sub.help, sub.name),
                    "options": _param_options(sub.params),
                }
                _permissions(extra, sub.who, guild)
                out.append(extra)
        elif cmd.subcommands:
            body["options"] = [
                {
                    "type": SUB_COMMAND,
                    "name": _option_name(sub.name),
                    **_described(sub.help, sub.name),
                    "options": _param_options(sub.params),
                }
                for sub in list(cmd.subcommands.values())[:25]
            ]
        else:
            body["options"] = _param_options(cmd.params)
        _permissions(body, cmd.who if cmd.handler is not None else cmd.min_who, guild)
        out.append(body)
    return sorted(out, key=lambda b: str(b["name"]))


def _permissions(body: dict[str, Any], who: str, guild: bool) -> None:
    """Admin-only commands are hidden behind Manage Server and offered in servers only."""
    admin = who == "admin"
    if admin:
        body["default_member_permissions"] = str(MANAGE_GUILD)
    if not guild:
        body["contexts"] = [0] if admin else [0, 1]
        body["integration_types"] = [0]


def resolve(
    port: Port, name: str, options: Sequence[dict[str, Any]]
) -> tuple[str, str, dict[str, Any]] | None:
    """The command, its subcommand and its typed values for an interaction named ``name``
    (``idea`` or a further form such as ``idea-edit``); None for a name no command has."""
    cmd = port.command_for(name)
    if cmd is not None:
        sub_name, values = command_options(cmd, options)
        return cmd.name, sub_name, values
    base, _, sub_name = name.rpartition("-")
    cmd = port.command_for(base) if base else None
    sub = cmd.subcommands.get(sub_name) if cmd is not None else None
    if cmd is None or sub is None:
        return None
    return cmd.name, sub.name, _values(sub.params, options)


def _values(params: Sequence[Param], options: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Discord's typed options as the parameters' values (absent ones left out)."""
    given = {str(o.get("name")): o.get("value") for o in options}
    values: dict[str, Any] = {}
    for p, names in _slots(params):
        if p.kind == "words":
            items = [str(given[n]) for n in names if given.get(n) not in (None, "")]
            if items:
                values[p.name] = items
        elif given.get(names[0]) not in (None, ""):
            values[p.name] = given[names[0]]
    return values


def command_options(cmd: Command, options: Sequence[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """The subcommand (or "") and the typed values of an interaction: handed to the
    command as typed (``Invocation.options``), never joined into text and parsed again."""
    if cmd.subcommands and cmd.handler is None:
        chosen = next((o for o in options if o.get("type") == SUB_COMMAND), None)
        if chosen is None:
            return "", {}
        name = str(chosen.get("name", ""))
        sub = cmd.subcommands.get(name)
        if sub is None:
            return name, {}
        return name, _values(sub.params, chosen.get("options") or [])
    return "", _values(cmd.params, options)


def _digest(app_id: str, target: str, payload: list[dict[str, Any]]) -> str:
    blob = json.dumps(
        {"app": app_id, "target": target, "commands": payload}, sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(blob.encode()).hexdigest()


# --------------------------------------------------------------------------------------
# The adapter


class DiscordConfig(PlatformConfig):
    """``[discord]``: the bot token; endpoints can be pointed elsewhere (proxies, tests)."""

    token: str | None = None
    api_base: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg"
    guild_id: str | None = None
    #: the privileged Message Content intent (Developer Portal, Bot): needed by the relay
    message_content: bool = False

    @property
    def configured(self) -> bool:
        return bool(self.token)

    def describe(self) -> str:
        return f"on ({self.api_base})" if self.configured else "off (no token)"


_MENTION = re.compile(r"^<@!?(\d+)>$")
#: the bridge's channel webhook, and the prefix of the ids of messages posted through it
WEBHOOK_NAME = "community-bridge"
HOOKED = "wh:"


def _hook_name(author: Author) -> str:
    """A webhook message's name: the author and their platform (nobody can pose as a
    member here), within Discord's rules (1 to 80 characters, never "discord" or
    "clyde", which Discord refuses)."""
    name = " ".join(author.name.split())
    for word in ("discord", "clyde"):
        name = re.sub(word, word[0] + "\u200b" + word[1:], name, flags=re.IGNORECASE)
    suffix = f" ({author.platform})"
    return (name[: 80 - len(suffix)] or "?") + suffix


def configure_endpoints(config: DiscordConfig) -> None:
    """Point discord.py at the configured REST base and gateway (proxies, tests)."""
    Route.BASE = config.api_base.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(config.gateway_url)


class _Client(discord.Client):
    """discord.py's client, forwarding the few events the adapter needs."""

    def __init__(self, adapter: DiscordAdapter) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # channel and thread names; not a privileged intent
        if adapter.config.message_content:  # the relay: members' messages and their text
            intents.guild_messages = True
            intents.message_content = True
        super().__init__(
            intents=intents,
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
            chunk_guilds_at_startup=False,
            member_cache_flags=discord.MemberCacheFlags.none(),
        )
        self.adapter = adapter

    async def setup_hook(self) -> None:
        # the inbox keeps an interaction as Discord sent it, to be built again after a
        # restart: discord.py's parser is wrapped to hand over the raw payload
        parsers = self._connection.parsers
        parse = parsers["INTERACTION_CREATE"]

        def keep_raw(data: Any) -> None:
            self.adapter._raw[str(data.get("id"))] = data
            while len(self.adapter._raw) > 1000:  # never dispatched (not ours to answer)
                self.adapter._raw.pop(next(iter(self.adapter._raw)))
            parse(data)

        parsers["INTERACTION_CREATE"] = keep_raw

    async def on_connect(self) -> None:
        self.adapter._gateway_up()

    async def on_resumed(self) -> None:
        self.adapter._gateway_up()

    async def on_disconnect(self) -> None:
        self.adapter.detail = "gateway reconnecting"

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        await self.adapter._on_interaction(interaction)

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter._on_message(message)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        await self.adapter._on_edit(payload)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self.adapter._on_delete(payload)


class DiscordAdapter(Adapter):
    platform = "discord"
    order = 30
    config_model = DiscordConfig
    ack_within = 3.0
    env = {"DISCORD_BOT_TOKEN": "token"}
    can_always_dm = True
    forms = True
    #: 5 messages per 5 s per channel, 50 requests a second in all
    limits = (Limit(5, 5.0), Limit(50, 1.0, "all"))
    mention = _MENTION
    config: DiscordConfig

    @classmethod
    def cli_verbs(cls) -> list[CliVerb]:
        return [
            CliVerb(
                "discord-sync", "register the application commands with Discord", sync_commands_cli
            )
        ]

    @classmethod
    def button_scope(cls, channel: ChannelRef) -> str:
        """A thread is a channel of its own: a press in it reports the thread's id."""
        return f"{'@' if channel.dm else ''}{channel.thread or channel.chat}"

    #: answer at once when the core is done within this many seconds, else defer first
    #: (Discord wants an answer within 3 s)
    defer_after = 2.0
    #: how long ``start`` waits for the gateway's READY
    ready_timeout = 30.0

    def __init__(self, port: Port, config: DiscordConfig | None = None) -> None:
        super().__init__(port, config)
        self.client: _Client | None = None
        self.received = 0
        self._runner: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._seen: OrderedDict[str, None] = OrderedDict()
        #: raw INTERACTION_CREATE payloads by id, until the interaction is stored
        self._raw: dict[str, Any] = {}
        #: interactions being handled again from the inbox (answered as messages)
        self._resumed: set[str] = set()
        #: when each interaction arrived (monotonic): Discord's 3 s run from there
        self._arrived: dict[str, float] = {}
        self._busy: set[asyncio.Task[Any]] = set()
        self._dm: dict[str, str] = {}
        #: the bridge's webhook of each channel (id, token, thread id or None); None where
        #: the bot may not manage webhooks (then a relayed message names its author in bold)
        self._hooks: dict[str, tuple[str, str, str | None] | None] = {}
        self._stopping = False

    @property
    def settings(self) -> DiscordConfig:
        return self.config

    # ------------------------------------------------------------------ life cycle

    async def login(self) -> _Client:
        """REST login (``/users/@me``, ``/oauth2/applications/@me``), no gateway yet."""
        if not self.settings.token:
            raise discord.LoginFailure("no Discord token configured")
        configure_endpoints(self.settings)
        client = _Client(self)
        try:
            await client.login(self.settings.token)
        except BaseException:
            await client.close()
            raise
        self.client = client
        return client

    async def start(self) -> None:
        self._stopping = False
        try:
            client = await self.login()
        except discord.LoginFailure as exc:
            self.state, self.detail = "error", f"login failed: {exc}"
            log.error("discord: %s", self.detail)
            return
        except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
            self.state, self.detail = "error", f"cannot reach Discord: {exc}"
            log.error("discord: %s", self.detail)
            return
        try:
            count = await self.sync_commands(force=False)
            if count is not None:
                log.info("discord: registered %s application commands", count)
        except discord.HTTPException as exc:
            log.error("discord: could not register the application commands: %s", exc)
        self._runner = asyncio.create_task(self._run(client))
        try:
            await asyncio.wait_for(self._connected.wait(), self.ready_timeout)
        except TimeoutError:
            log.warning(
                "discord: no READY from the gateway after %ss; still trying", self.ready_timeout
            )

    async def _run(self, client: _Client) -> None:
        try:
            await client.connect(reconnect=True)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not self._stopping:
                log.exception("discord: the gateway connection ended")
                self.state, self.detail = "error", f"gateway: {exc!r}"

    def _gateway_up(self) -> None:
        self.state, self.detail = "ready", ""
        self._connected.set()

    async def settle(self, within: float = 10.0) -> None:
        """Wait for the interactions being answered right now (tests, shutdown)."""
        current = asyncio.current_task()
        tasks = [t for t in self._busy if t is not current]
        if tasks:
            await asyncio.wait(tasks, timeout=within)

    async def stop(self) -> None:
        self._stopping = True
        await self.settle(within=5.0)
        if self.client is not None:
            await self.client.close()
        if self._runner is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._runner, timeout=5)
        self._connected.clear()
        self.state = "stopped"

    # ------------------------------------------------------------------ commands

    async def sync_commands(self, force: bool = False) -> int | None:
        """Register every command (bulk overwrite); skipped when the stored hash matches.

        Returns the number of commands registered, or None when nothing changed.
        """
        client = self.client or await self.login()
        app_id = str(client.application_id)
        guild_id = self.settings.guild_id
        payload = command_payloads(self.port.commands(), guild=bool(guild_id))
        digest = _digest(app_id, f"guild:{guild_id}" if guild_id else "global", payload)
        if not force and await self.port.get_setting(HASH_SETTING) == digest:
            return None
        if guild_id:
            route = Route(
                "PUT",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                application_id=app_id,
                guild_id=guild_id,
            )
        else:
            route = Route("PUT", "/applications/{application_id}/commands", application_id=app_id)
        await client.http.request(route, json=payload)
        await self.port.set_setting(HASH_SETTING, digest)
        return len(payload)

    # ------------------------------------------------------------------ incoming

    async def _on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Stored (``Port.received``) before it is answered; handled; marked handled. A
        replayed or already stored interaction is left alone."""
        self.received += 1
        key = str(interaction.id)
        self._arrived[key] = time.monotonic()
        while len(self._arrived) > 1000:
            self._arrived.pop(next(iter(self._arrived)))
        raw = self._raw.pop(key, None)
        if key in self._seen or self._stopping:  # a replayed dispatch: answered already
            log.debug("discord: interaction %s seen before", key)
            return
        self._seen[key] = None
        while len(self._seen) > 10_000:
            self._seen.popitem(last=False)
        if raw is not None:
            try:
                fresh = await self.port.received(self.platform, [(key, {"interaction": raw})])
            except Exception as exc:  # answered within the 3 s, nothing changed
                log.warning("discord: interaction %s not stored: %r", key, exc)
                await self._unreachable(interaction)
                return
            if key not in fresh:
                return  # another process has it, or had it
        await self._handle(interaction, key if raw is not None else None)

    async def _handle(self, interaction: discord.Interaction[Any], stored: str | None) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._busy.add(task)
        try:
            await self.run_stored(stored, self._dispatch(interaction))
        finally:
            if task is not None:
                self._busy.discard(task)

    async def _dispatch(self, interaction: discord.Interaction[Any]) -> None:
        kind = interaction.type
        if kind is discord.InteractionType.application_command:
            await self._command(interaction)
        elif kind is discord.InteractionType.component:
            await self._component(interaction)
        elif kind is discord.InteractionType.modal_submit:
            await self._form_submitted(interaction)

    async def _unreachable(self, interaction: discord.Interaction[Any]) -> None:
        text = translator(self.port.locale_for(interaction.locale.value)).gettext(
            N_(
                "My database is not answering right now, so nothing was changed. "
                "Please try again in a minute."
            )
        )
        await self._callback(
            interaction, {"type": REPLY, "data": {"content": text, "flags": EPHEMERAL}}
        )

    async def redeliver(self, key: str, payload: dict[str, Any]) -> None:
        """A stored interaction or message its process did not finish. An interaction's
        three seconds are long over: its answers go as messages (private ones into the
        deferred answer while its token lasts, else as a direct message)."""
        if "post" in payload:
            await self.port.message_posted(ChatPost.model_validate(payload["post"]))
            return
        client = self.client
        assert client is not None
        interaction = discord.Interaction(data=payload["interaction"], state=client._connection)
        self._resumed.add(key)
        try:
            await self._handle(interaction, None)
        finally:
            self._resumed.discard(key)

    def _where(self, interaction: discord.Interaction[Any]) -> tuple[ChannelRef, str | None]:
        """A guild text channel or thread (a thread is a channel: its own id), or the DM."""
        user_id = str(interaction.user.id)
        if interaction.guild_id is None:
            if interaction.channel_id is not None:
                self._dm[user_id] = str(interaction.channel_id)
            return ChannelRef(platform="discord", chat=user_id, dm=True), None
        channel = interaction.channel
        name = getattr(channel, "name", None)
        if isinstance(channel, discord.Thread):
            parent = channel.parent
            name = f"#{parent.name} › {channel.name}" if parent is not None else f"#{name}"
        elif name:
            name = f"#{name}"
        return ChannelRef(platform="discord", chat=str(interaction.channel_id)), name

    # ------------------------------------------------------------------ the relay

    async def _on_message(self, message: discord.Message) -> None:
        """A member's message in a guild channel or thread: for the relay. The bot's own,
        other bots' and webhooks' (ours among them) are never relayed."""
        if (
            message.guild is None
            or message.author.bot
            or message.webhook_id is not None
            or message.type not in (discord.MessageType.default, discord.MessageType.reply)
            or not (message.content or message.attachments)
        ):
            return
        reply = message.reference.message_id if message.reference is not None else None
        text = "\n".join([message.content, *(a.url for a in message.attachments)]).strip()
        mentions = []
        for user in message.mentions[:20]:
            for fragment in (f"<@{user.id}>", f"<@!{user.id}>"):
                if fragment in text:
                    mentions.append(
                        Mentioned(fragment=fragment, user_id=str(user.id), name=user.display_name)
                    )
        post = ChatPost(
            channel=ChannelRef(platform="discord", chat=str(message.channel.id)),
            account=AccountRef(
                platform="discord",
                user_id=str(message.author.id),
                display_name=message.author.display_name,
                avatar_url=message.author.display_avatar.url,
            ),
            message_id=str(message.id),
            text=text,  # attachments as their links
            reply_to=str(reply) if reply else None,
            event_id=f"message:{message.id}",
            mentions=tuple(mentions),
        )
        key = f"message:{message.id}"
        try:
            fresh = await self.port.received(
                self.platform, [(key, {"post": post.model_dump(mode="json")})]
            )
        except Exception as exc:
            log.warning("discord: message %s not stored: %r", message.id, exc)
            return
        if key in fresh:
            await self.run_stored(key, self.port.message_posted(post))

    async def _on_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        data = payload.data
        author = data.get("author") or {}
        if payload.guild_id is None or author.get("bot") or data.get("webhook_id"):
            return
        if "content" not in data:  # an embed resolved, nothing the member changed
            return
        channel = ChannelRef(platform="discord", chat=str(payload.channel_id))
        await self.port.message_edited(channel, str(payload.message_id), str(data["content"]))

    async def _on_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        if payload.guild_id is None:
            return
        channel = ChannelRef(platform="discord", chat=str(payload.channel_id))
        await self.port.message_deleted(channel, str(payload.message_id))

    def relay_needs(self) -> str | None:
        if not self.config.message_content:
            return N_(
                "Discord: set [discord] message_content = true in bot.toml and turn on the "
                "Message Content intent (Developer Portal, Bot, Privileged Gateway Intents), "
                "so that the bot sees members' messages."
            )
        return None

    @staticmethod
    def _who(interaction: discord.Interaction[Any]) -> AccountRef:
        user = interaction.user
        return AccountRef(
            platform="discord",
            user_id=str(user.id),
            display_name=user.display_name,
            locale=interaction.locale.value,
        )

    @staticmethod
    def _data(interaction: discord.Interaction[Any]) -> dict[str, Any]:
        return dict(interaction.data or {})

    async def _command(self, interaction: discord.Interaction[Any]) -> None:
        data = self._data(interaction)
        name = str(data.get("name", ""))
        found = resolve(self.port, name, data.get("options") or [])
        name, args, values = found if found is not None else (name, "", None)
        channel, channel_name = self._where(interaction)
        inv = Invocation(
            channel=channel,
            account=self._who(interaction),
            command=name,
            args=args,
            event_id=str(interaction.id),
            channel_name=channel_name,
            options=values,
        )
        await self._answer(interaction, self.port.handle(inv))

    async def _component(self, interaction: discord.Interaction[Any]) -> None:
        data = self._data(interaction)
        channel, channel_name = self._where(interaction)
        message = interaction.message
        press = ActionPress(
            channel=channel,
            account=self._who(interaction),
            token=str(data.get("custom_id", "")),
            message_id=str(message.id) if message is not None else None,
            event_id=str(interaction.id),
            channel_name=channel_name,
        )
        await self._answer(interaction, self.port.press(press), component=True)

    async def _form_submitted(self, interaction: discord.Interaction[Any]) -> None:
        data = self._data(interaction)
        marker, _, rest = str(data.get("custom_id", "")).partition("|")
        name, _, rest = rest.partition("|")
        sub_name, _, rest = rest.partition("|")
        query, _, had = rest.partition("|")
        cmd = self.port.command_for(name)
        if marker != "form" or cmd is None:
            await self._answer(interaction, _nothing(), component=True)
            return
        values: dict[str, Any] = {}
        shown = [
            field
            for row in data.get("components") or []
            for field in ([row.get("component")] if row.get("component") else [])
            + list(row.get("components") or [])
        ]
        for i, field in enumerate(shown):
            value = field.get("value")
            if value in (None, "") and str(i) not in had:
                continue  # left empty: not given (an emptied prefilled field clears it)
            values[str(field.get("custom_id"))] = value or ""
        values.update(dict(parse_qsl(query)))
        channel, channel_name = self._where(interaction)
        inv = Invocation(
            channel=channel,
            account=self._who(interaction),
            command=name,
            args=sub_name,
            event_id=str(interaction.id),
            channel_name=channel_name,
            options=values,
        )
        await self._answer(interaction, self.port.handle(inv))

    # ------------------------------------------------------------------ answering

    async def _answer(
        self,
        interaction: discord.Interaction[Any],
        work: Awaitable[list[Message]],
        component: bool = False,
    ) -> None:
        """Answer within Discord's 3 s: directly when the core is quick, else defer first."""
        if str(interaction.id) in self._resumed:
            await self._respond_resumed(interaction, await work)
            return
        task = asyncio.ensure_future(work)
        # the 3 s run from arrival: storing it took some of them
        arrived = self._arrived.pop(str(interaction.id), time.monotonic())
        wait = max(0.0, self.defer_after - (time.monotonic() - arrived))
        done, _ = await asyncio.wait({task}, timeout=wait)
        if task in done:
            await self._respond_now(interaction, task.result(), component)
            return
        deferred = await self._callback(interaction, {"type": DEFER, "data": {"flags": EPHEMERAL}})
        replies = await task
        if deferred:  # else it was answered elsewhere: its answer is not ours to touch
            await self._respond_late(interaction, replies)

    async def _respond_now(
        self, interaction: discord.Interaction[Any], replies: list[Message], component: bool
    ) -> None:
        if not replies:
            if component:
                await self._callback(interaction, {"type": DEFER_UPDATE})
            elif await self._callback(interaction, {"type": DEFER, "data": {"flags": EPHEMERAL}}):
                await self._webhook(interaction, "DELETE", "@original")
            return
        replies = [part for reply in replies for part in self._split(reply)]
        first, rest = replies[0], replies[1:]
        if (
            first.form is not None
            and not rest
            and (interaction.type is not discord.InteractionType.modal_submit)
        ):
            modal = self._modal(first, interaction.locale.value)
            if modal is not None:
                await self._callback(interaction, {"type": MODAL, "data": modal})
                return
        if not await self._callback(
            interaction,
            {
                "type": REPLY,
                "data": self._body(
                    first,
                    True,
                    channel=self._where(interaction)[0],
                    person=str(interaction.user.id),
                ),
            },
            first.file,
        ):
            return
        for message in rest:
            await self._followup(interaction, message)

    async def _respond_late(
        self, interaction: discord.Interaction[Any], replies: list[Message]
    ) -> None:
        """After an (ephemeral) defer: the first private reply fills the deferred answer,
        public replies go to the channel as the bot's messages."""
        replies = [part for reply in replies for part in self._split(reply)]
        private = next((m for m in replies if m.ephemeral), None)
        if private is None:
            await self._webhook(interaction, "DELETE", "@original")
        else:
            await self._webhook(
                interaction,
                "PATCH",
                "@original",
                self._body(
                    private,
                    True,
                    edit=True,
                    channel=self._where(interaction)[0],
                    person=str(interaction.user.id),
                ),
                private.file,
            )
        for message in replies:
            if message is private:
                continue
            if message.ephemeral:
                await self._followup(interaction, message)
                continue
            try:
                route = Route(
                    "POST", "/channels/{channel_id}/messages", channel_id=interaction.channel_id
                )
                body = self._body(
                    message,
                    False,
                    channel=self._where(interaction)[0],
                    person=str(interaction.user.id),
                )
                await self._rest(route, body, message.file)
            except DeliveryError as exc:
                log.warning(
                    "discord: a reply to interaction %s was not posted: %s", interaction.id, exc
                )

    async def _respond_resumed(
        self, interaction: discord.Interaction[Any], replies: list[Message]
    ) -> None:
        """A stored interaction handled after a restart: the first private reply fills the
        deferred answer if there was one and its token lasts, other private replies go as
        follow-ups or else as direct messages, public ones to the channel (through the
        outbox: nothing is lost if Discord is busy)."""
        replies = [part for reply in replies for part in self._split(reply)]
        channel, _ = self._where(interaction)
        dm = ChannelRef(platform="discord", chat=str(interaction.user.id), dm=True)
        filled = False
        for message in replies:
            if not message.ephemeral:
                await self.port.defer(channel, message, 0)
                continue
            if not filled:
                filled = await self._webhook(
                    interaction,
                    "PATCH",
                    "@original",
                    self._body(
                        message, True, edit=True, channel=channel, person=str(interaction.user.id)
                    ),
                )
                if filled:
                    continue
            await self.port.defer(dm, message.model_copy(update={"ephemeral": False}), 0)
        if not filled:
            await self._webhook(interaction, "DELETE", "@original")

    async def _callback(
        self,
        interaction: discord.Interaction[Any],
        body: dict[str, Any],
        file: FileAttachment | None = None,
    ) -> bool:
        """The interaction's one response; False when Discord refused it (too late: 10062,
        or answered already, e.g. by another process: 40060)."""
        route = Route(
            "POST",
            "/interactions/{interaction_id}/{interaction_token}/callback",
            interaction_id=interaction.id,
            interaction_token=interaction.token,
        )
        try:
            await self._rest(route, body, file)
        except DeliveryError as exc:
            log.warning("discord: answering interaction %s failed: %s", interaction.id, exc)
            return False
        return True

    async def _followup(self, interaction: discord.Interaction[Any], message: Message) -> None:
        route = Route(
            "POST",
            "/webhooks/{webhook_id}/{webhook_token}",
            webhook_id=interaction.application_id,
            webhook_token=interaction.token,
        )
        try:
            await self._rest(
                route,
                self._body(
                    message,
                    True,
                    channel=self._where(interaction)[0],
                    person=str(interaction.user.id),
                ),
                message.file,
                params={"wait": "true"},
            )
        except DeliveryError as exc:
            log.warning("discord: follow-up to interaction %s failed: %s", interaction.id, exc)

    async def _webhook(
        self,
        interaction: discord.Interaction[Any],
        method: str,
        message_id: str,
        body: dict[str, Any] | None = None,
        file: FileAttachment | None = None,
    ) -> bool:
        route = Route(
            method,
            "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
            webhook_id=interaction.application_id,
            webhook_token=interaction.token,
            message_id=message_id,
        )
        try:
            await self._rest(route, body, file)
        except DeliveryError as exc:
            log.warning("discord: %s of the answer to %s failed: %s", method, interaction.id, exc)
            return False
        return True

    def _modal(self, message: Message, locale: str | None) -> dict[str, Any] | None:
        """A FormRequest as a modal: up to five text fields; None where it does not fit."""
        form = message.form
        assert form is not None
        cmd = self.port.command_for(form.command)
        if cmd is None:
            return None
        params = cmd.params
        if form.subcommand:
            sub = cmd.subcommands.get(form.subcommand)
            if sub is None:
                return None
            params = sub.params
        fields = [p for p in params if p.name not in form.prefill and p.kind != "flag"]
        if form.fields:
            order = {name: i for i, name in enumerate(form.fields)}
            fields = sorted((p for p in fields if p.name in order), key=lambda p: order[p.name])
        # which fields start with a value: emptied, they clear it (else empty means not given)
        had = "".join(str(i) for i, p in enumerate(fields) if form.initial.get(p.name))
        custom_id = "|".join(
            ("form", form.command, form.subcommand or "", urlencode(form.prefill), had)
        )
        if not fields or len(fields) > 5 or len(custom_id) > 100:
            return None
        t = translator(self.port.locale_for(locale))
        rows = []
        for p in fields:
            described = t.gettext(p.help) if p.help else (p.metavar or p.name)
            long_text = p.long
            field: dict[str, Any] = {
                "type": TEXT_INPUT,
                "custom_id": p.name,
                "style": 2 if long_text else 1,
                "required": p.required,
                "max_length": 4000 if long_text else 200,
            }
            if form.initial.get(p.name):
                field["value"] = _clip(form.initial[p.name], field["max_length"])
            # a Label component (the current form; the action row with a labelled text
            # input is deprecated): the label, a description where the help is longer
            label: dict[str, Any] = {
                "type": LABEL,
                "label": _clip(described, 45),
                "component": field,
            }
            if len(described) > 45:
                label["description"] = _clip(described, 100)
            rows.append(label)
        title = form.title or " ".join(filter(None, (f"/{form.command}", form.subcommand)))
        return {"custom_id": custom_id, "title": _clip(title, 45), "components": rows}

    # ------------------------------------------------------------------ outgoing

    @staticmethod
    def _split(message: Message) -> list[Message]:
        """A message longer than Discord's 2,000 characters of content as numbered parts
        (``bridge.splitting``): buttons and a file on the last, the reply on the first."""
        chunks = numbered(split_parts(message.parts, _size, CONTENT_LIMIT - NUMBER_ROOM))
        if len(chunks) < 2:
            return [message]
        out = []
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            out.append(
                message.model_copy(
                    update={
                        "parts": tuple(chunk),
                        "buttons": message.buttons if last else (),
                        "file": message.file if last else None,
                        "form": message.form if i == 0 else None,
                        "reply_to": message.reply_to if i == 0 else None,
                        "delivery_id": f"{message.delivery_id}.{i}"
                        if message.delivery_id
                        else None,
                    }
                )
            )
        return out

    def _body(
        self,
        message: Message,
        interaction: bool,
        edit: bool = False,
        channel: ChannelRef | None = None,
        person: str | None = None,
    ) -> dict[str, Any]:
        """A message create/edit body shown in ``channel`` (its buttons' tokens are valid
        there; an ephemeral answer's only for ``person``, who alone sees it). Nobody is
        pinged except Mention parts' Discord users."""
        content, users = render_parts(message.parts)
        body: dict[str, Any] = {
            "allowed_mentions": {
                "parse": [],
                "users": users[:100],
                "roles": [],
                "replied_user": False,
            },
        }
        # a part of a split message is within the limit; the clip is the last guard
        body["content"] = _clip(content, CONTENT_LIMIT) if len(content) > CONTENT_LIMIT else content
        if edit:
            body["embeds"] = []
        if message.buttons:
            if channel is None:
                raise ValueError("discord: buttons need the channel they are shown in")
            shown_to = person if interaction and message.ephemeral else None
            body["components"] = self._rows(message.buttons, channel, shown_to)
        elif edit:
            body["components"] = []
        if not content and not message.buttons and message.file is None and not edit:
            body["content"] = "\u200b"
        if interaction and message.ephemeral and not edit:
            body["flags"] = EPHEMERAL
        if message.delivery_id and not interaction and not edit:
            # Discord returns the first message for a repeated nonce: no double post when
            # the outbox retries a send whose answer was lost (one nonce per part)
            body["nonce"] = _nonce(message.delivery_id)
            body["enforce_nonce"] = True
        if message.reply_to and not interaction and not edit:
            body["message_reference"] = {
                # a card's first part; one posted through the webhook is a message too
                "message_id": message.reply_to.split()[0].removeprefix(HOOKED),
                "fail_if_not_exists": False,
            }
        return body

    def _rows(
        self, buttons: Sequence[Button], channel: ChannelRef, person: str | None = None
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for start in range(0, min(len(buttons), 25), 5):
            rows.append(
                {
                    "type": ACTION_ROW,
                    "components": [
                        {
                            "type": BUTTON,
                            "style": BUTTON_STYLE.get(b.style, 2),
                            "label": _clip(b.label, 80) or "·",
                            "custom_id": self.port.encode_button(b, channel, person),
                        }
                        for b in buttons[start : start + 5]
                    ],
                }
            )
        return rows

    async def _rest(
        self, route: Route, body: Any = None, file: FileAttachment | None = None, **kwargs: Any
    ) -> Any:
        """One REST call; Discord's refusals become the outbox's errors."""
        client = self.client
        if client is None:
            raise RetryLater(5.0, "discord: not connected")
        try:
            if file is not None:
                payload = dict(body or {})
                payload["attachments"] = [{"id": 0, "filename": file.name}]
                form: list[dict[str, Any]] = [
                    {"name": "payload_json", "value": json.dumps(payload)},
                    {
                        "name": "files[0]",
                        "value": file.content,
                        "filename": file.name,
                        "content_type": file.mime,
                    },
                ]
                return await client.http.request(route, form=form, **kwargs)
            if body is None:
                return await client.http.request(route, **kwargs)
            return await client.http.request(route, json=body, **kwargs)
        except discord.RateLimited as exc:
            raise RetryLater(exc.retry_after, "discord: 429 Too Many Requests") from exc
        except discord.NotFound as exc:
            raise ChannelGone(exc.text or "Unknown Channel") from exc
        except discord.Forbidden as exc:
            raise ChannelGone(exc.text or "Missing Access") from exc
        except discord.HTTPException as exc:
            if exc.code in GONE_CODES:
                raise ChannelGone(exc.text) from exc
            raise DeliveryError(f"discord answered {exc.status}: {exc.text}") from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise DeliveryError(f"discord: {exc!r}") from exc

    async def _channel_id(self, channel: ChannelRef) -> str:
        if not channel.dm:
            return channel.thread or channel.chat
        cached = self._dm.get(channel.chat)
        if cached is None:
            data = await self._rest(
                Route("POST", "/users/@me/channels"), {"recipient_id": channel.chat}
            )
            cached = self._dm[channel.chat] = str(data["id"])
        return cached

    async def _edit_hooked(self, channel_id: str, message_id: str, message: Message) -> None:
        """A relayed message posted through the webhook is edited through it."""
        hook = await self._channel_hook(channel_id)
        if hook is None:
            raise ChannelGone("discord: the bridge's webhook is gone")
        bare = message.model_copy(update={"author": None, "delivery_id": None, "reply_to": None})
        for part_id, part in zip(split_ids(message_id), self._split(bare), strict=False):
            await self._rest(
                self._hook_route("PATCH", hook, part_id.removeprefix(HOOKED)),
                self._body(part, False, edit=True),
                params=self._hook_params(hook),
            )

    async def delete(self, channel: ChannelRef, message_id: str) -> None:
        channel_id = await self._channel_id(channel)
        for part in split_ids(message_id):
            params: dict[str, str] = {}
            if part.startswith(HOOKED):
                hook = await self._channel_hook(channel_id)
                if hook is None:
                    continue
                route = self._hook_route("DELETE", hook, part.removeprefix(HOOKED))
                params = self._hook_params(hook)
            else:
                route = Route(
                    "DELETE",
                    "/channels/{channel_id}/messages/{message_id}",
                    channel_id=channel_id,
                    message_id=part,
                )
            try:
                await self._rest(route, params=params)
            except ChannelGone as exc:
                if "Unknown Message" not in str(exc):
                    raise

    # ------------------------------------------------------------------ webhooks

    async def _channel_hook(self, channel_id: str) -> tuple[str, str, str | None] | None:
        """The bridge's webhook in a channel (or in a thread's parent), made once and found
        again after a restart by its name; None without Manage Webhooks."""
        if channel_id in self._hooks:
            return self._hooks[channel_id]
        parent, thread = channel_id, None
        known = self.client.get_channel(int(channel_id)) if self.client is not None else None
        if isinstance(known, discord.Thread) and known.parent_id:
            parent, thread = str(known.parent_id), channel_id
        try:
            hooks = await self._rest(
                Route("GET", "/channels/{channel_id}/webhooks", channel_id=parent)
            )
            app_id = str(self.client.application_id) if self.client is not None else ""
            found = next(
                (
                    h
                    for h in hooks or []
                    if h.get("name") == WEBHOOK_NAME
                    and h.get("token")
                    and str(h.get("application_id")) == app_id
                ),
                None,
            )
            if found is None:
                found = await self._rest(
                    Route("POST", "/channels/{channel_id}/webhooks", channel_id=parent),
                    {"name": WEBHOOK_NAME},
                )
            hook: tuple[str, str, str | None] | None = (
                str(found["id"]),
                str(found["token"]),
                thread,
            )
        except ChannelGone as exc:  # Missing Permissions: the bot posts them itself
            log.info(
                "discord: no webhook in %s (%s); relayed messages name their author", parent, exc
            )
            hook = None
        self._hooks[channel_id] = hook
        return hook

    @staticmethod
    def _hook_route(method: str, hook: tuple[str, str, str | None], message_id: str = "") -> Route:
        path = "/webhooks/{webhook_id}/{webhook_token}"
        if message_id:
            return Route(
                method,
                path + "/messages/{message_id}",
                webhook_id=hook[0],
                webhook_token=hook[1],
                message_id=message_id,
            )
        return Route(method, path, webhook_id=hook[0], webhook_token=hook[1])

    @staticmethod
    def _hook_params(hook: tuple[str, str, str | None], wait: bool = False) -> dict[str, str]:
        params = {"wait": "true"} if wait else {}
        if hook[2]:
            params["thread_id"] = hook[2]
        return params

    async def _send_as_author(
        self, channel: ChannelRef, channel_id: str, message: Message
    ) -> str | None:
        """A relayed message through the channel's webhook, under its author's name and
        platform (ids ``wh:<id>``); None when that is not possible here (no webhook, a
        reply, which webhooks cannot make), and the bot posts it."""
        if message.author is None or message.reply_to or message.file or message.buttons:
            return None
        hook = await self._channel_hook(channel_id)
        if hook is None:
            return None
        name = _hook_name(message.author)
        avatar = message.author.avatar_url
        bare = message.model_copy(update={"author": None, "delivery_id": None})

        async def post(part: Message) -> str:
            assert hook is not None
            body = self._body(part, False)
            body["username"] = name
            if avatar:
                body["avatar_url"] = avatar
            data = await self._rest(
                self._hook_route("POST", hook), body, params=self._hook_params(hook, wait=True)
            )
            return f"{HOOKED}{data['id']}"

        return await self.send_parts(message.delivery_id, self._split(bare), post, channel)

    async def send(self, channel: ChannelRef, message: Message) -> str:
        channel_id = await self._channel_id(channel)
        hooked = await self._send_as_author(channel, channel_id, message)
        if hooked is not None:
            return hooked
        message = authored(message)
        route = Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)

        async def post(part: Message) -> str:
            data = await self._rest(route, self._body(part, False, channel=channel), part.file)
            return str(data["id"])

        return await self.send_parts(message.delivery_id, self._split(message), post, channel)

    async def edit(self, channel: ChannelRef, message_id: str, message: Message) -> str | None:
        channel_id = await self._channel_id(channel)
        if message_id.startswith(HOOKED):
            await self._edit_hooked(channel_id, message_id, message)
            return None
        message = authored(message)
        parts = self._split(message.model_copy(update={"delivery_id": None, "reply_to": None}))

        def route(method: str, part_id: str) -> Route:
            return Route(
                method,
                "/channels/{channel_id}/messages/{message_id}",
                channel_id=channel_id,
                message_id=part_id,
            )

        async def edit_one(i: int, part_id: str) -> None:
            body = self._body(parts[i], False, edit=True, channel=channel)
            await self._rest(route("PATCH", part_id), body)

        async def send_one(i: int) -> str:
            post = Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)
            data = await self._rest(post, self._body(parts[i], False, channel=channel))
            return str(data["id"])

        async def delete_one(part_id: str) -> None:
            with contextlib.suppress(DeliveryError):
                await self._rest(route("DELETE", part_id))

        old = split_ids(message_id)
        ids = await edit_parts(old, len(parts), edit_one, send_one, delete_one)
        return join_ids(ids) if ids != old else None


async def _nothing() -> list[Message]:
    return []


# --------------------------------------------------------------------------------------
# community-bridge discord-sync


def sync_commands_cli(config: Config, args: argparse.Namespace) -> int:
    """Register the application commands with Discord now (``community-bridge discord-sync``)."""
    settings: DiscordConfig = config.section("discord")
    if not settings.token:
        print(
            "error: discord: no token configured ([discord] token or DISCORD_BOT_TOKEN)",
            file=sys.stderr,
        )
        return 2
    return asyncio.run(_sync(config))


async def _sync(config: Config) -> int:
    from bridge.core import started

    settings: DiscordConfig = config.section("discord")
    async with started(config) as bridge:
        adapter = DiscordAdapter(bridge)
        try:
            count = await adapter.sync_commands(force=True)
        except discord.LoginFailure as exc:
            print(f"error: discord: login failed: {exc}", file=sys.stderr)
            return 1
        except discord.HTTPException as exc:
            print(f"error: discord answered {exc.status}: {exc.text}", file=sys.stderr)
            return 1
        except (aiohttp.ClientError, OSError) as exc:
            print(f"error: cannot reach Discord at {settings.api_base}: {exc}", file=sys.stderr)
            return 1
        finally:
            await adapter.stop()
        where = f"in guild {settings.guild_id}" if settings.guild_id else "globally"
        print(f"registered {count} application commands with Discord {where}")
        return 0


ADAPTER = DiscordAdapter
