"""Telegram: groups, supergroups, forum topics and private chats, through python-telegram-bot."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import html
import json
import logging
import warnings
from collections import OrderedDict
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import web
from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    MessageEntity,
    ReplyParameters,
    Update,
    User,
)
from telegram import (
    Message as TgMessage,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.ext import Application

from bridge.adapter import Adapter, ChannelGone, DeliveryError, PrivateRefused, RetryLater
from bridge.config import Config, PlatformConfig, public_url_refusal
from bridge.i18n import N_, translator
from bridge.messages import (
    AccountRef,
    ActionPress,
    Bold,
    ChannelRef,
    ChatPost,
    Code,
    Invocation,
    Italic,
    Link,
    Mention,
    Mentioned,
    Message,
    Part,
    Text,
    authored,
    fmt,
    plain_text,
)
from bridge.registry import WHO_RANK, Command
from bridge.shaping import Limit
from bridge.splitting import NUMBER_ROOM, edit_parts, join_ids, part_label, split_ids

if TYPE_CHECKING:
    from bridge.port import Port

__all__ = ["ADAPTER", "TelegramAdapter", "render_html"]

log = logging.getLogger(__name__)

PLATFORM = "telegram"
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
POLL_TIMEOUT = 20
#: the ports Telegram delivers webhooks to (setWebhook)
WEBHOOK_PORTS = (443, 80, 88, 8443)
TEXT_LIMIT = 4000  # Telegram: 4096 characters after entity parsing; keep a margin
CAPTION_LIMIT = 1024
ANSWER_LIMIT = 200  # answerCallbackQuery text
TOAST_LIMIT = 60  # longer answers are shown as an alert the person dismisses
DOCUMENT_LIMIT = 50 * 1024 * 1024
SEEN_UPDATES = 4096
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
LINK_SCHEMES = ("http://", "https://", "tg://", "mailto:")
#: Telegram's limits for setMyCommands
COMMAND_NAME = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
DESCRIPTION_LIMIT = 256
#: BadRequest descriptions that mean the bot cannot post in that chat or topic any more
GONE = (
    "chat not found",
    "thread not found",
    "topic_closed",
    "topic_deleted",
    "chat_write_forbidden",
    "not enough rights",
    "have no rights",
    "need administrator rights",
    "bot was kicked",
    "channel_private",
    "peer_id_invalid",
)


ANONYMOUS = N_(
    'I cannot tell who you are while you write as the group. Turn off "Remain '
    'anonymous" in your admin rights, or write to me in a private chat.'
)
HELLO_GROUP = N_(
    "Hello! An admin can link this chat, or one topic of it, to a group with "
    "{command}. {help} lists what you can do here. I only see commands here, "
    "not your other messages."
)


# ---------------------------------------------------------------------------------- HTML


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Piece:
    html: str
    size: int  # UTF-16 code units of the visible text
    breaks: bool  # a message may be split after this piece


def _pieces(part: Part, limit: int) -> list[_Piece]:
    """One part as HTML pieces; long text is cut at line ends (then anywhere) for splitting."""
    if isinstance(part, Link):
        label = part.text or part.url
        if part.url.startswith(LINK_SCHEMES):
            body = f'<a href="{html.escape(part.url, quote=True)}">{_esc(label)}</a>'
            return [_Piece(body, _utf16(label), False)]
        text = label if label == part.url else f"{label} <{part.url}>"
        return [_Piece(_esc(text), _utf16(text), False)]
    if isinstance(part, Mention):
        user_id = part.accounts.get(PLATFORM, "")
        if user_id.isdigit():
            body = f'<a href="tg://user?id={user_id}">{_esc(part.text)}</a>'
            return [_Piece(body, _utf16(part.text), False)]
        text = f"@{part.text}"
        return [_Piece(_esc(text), _utf16(text), False)]
    tag = {Bold: "b", Italic: "i", Code: "code"}.get(type(part))
    out: list[_Piece] = []
    step = max(limit // 2, 1)  # UTF-16 may need two units a character
    for line in part.text.splitlines(keepends=True):
        while line:
            chunk, line = line[:step], line[step:]
            body = _esc(chunk)
            if tag and chunk.strip():
                body = f"<{tag}>{body}</{tag}>"
            out.append(_Piece(body, _utf16(chunk), chunk.endswith("\n") or bool(line)))
    return out


def _cut(current: list[_Piece], limit: int) -> int:
    """Where a full message ends: after the last paragraph (a line before a blank line)
    in its second half, else after the last line end, else after everything."""
    running = 0
    line_end = paragraph_end = 0
    for i, piece in enumerate(current):
        running += piece.size
        if not piece.breaks:
            continue
        line_end = i + 1
        after = current[i + 1] if i + 1 < len(current) else None
        if running >= limit // 2 and after is not None and after.html.strip() == "":
            paragraph_end = i + 1
    return paragraph_end or line_end or len(current)


def _unmentioned(message: Message) -> Message:
    """A relayed message's text: an ``@name`` in it would notify whoever has that name
    here (Telegram links every @username), so a word joiner keeps it plain text."""
    if message.author is None:
        return message

    def plain(part: Part) -> Part:
        if isinstance(part, Text):
            return Text(text=part.text.replace("@", "@\u2060"))
        if isinstance(part, Mention) and PLATFORM not in part.accounts:  # a name, no ping
            return Text(text=f"@\u2060{part.text}")
        return part

    return message.model_copy(update={"parts": tuple(plain(p) for p in message.parts)})


def render_html(parts: tuple[Part, ...] | list[Part], limit: int = TEXT_LIMIT) -> list[str]:
    """Parts as Telegram HTML, every piece of text escaped; split into messages of at most
    ``limit`` UTF-16 units of visible text, between paragraphs where possible (else at
    line ends). Each message of a split one is numbered "(i/n)"."""
    room = limit - NUMBER_ROOM
    chunks: list[str] = []
    current: list[_Piece] = []
    for part in parts:
        for piece in _pieces(part, room):
            while current and sum(p.size for p in current) + piece.size > room:
                cut = _cut(current, room)
                chunks.append("".join(p.html for p in current[:cut]))
                current = current[cut:]
            current.append(piece)
    if current:
        chunks.append("".join(p.html for p in current))
    chunks = [c.strip("\n") for c in chunks if c.strip()]
    if len(chunks) > 1:
        chunks = [f"{c}\n<i>{part_label(i, len(chunks))}</i>" for i, c in enumerate(chunks, 1)]
    return chunks


async def _pause(seconds: float) -> float:
    """Wait before polling again after a failure; the next, longer wait (at most 30 s)."""
    await asyncio.sleep(seconds)
    return min(seconds * 2, 30.0)


def _retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after
    if isinstance(value, timedelta):
        return max(value.total_seconds(), 1.0)
    return max(float(value), 1.0)


# ---------------------------------------------------------------------------------- adapter


@dataclass
class _Origin:
    """Where an event came from, for answering it."""

    channel: ChannelRef
    chat_id: int
    user_id: int
    message_id: int | None
    locale: str
    title: str


class TelegramConfig(PlatformConfig):
    """``[telegram]``: long polling (default) or a webhook on the shared HTTP server."""

    token: str | None = None
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str | None = None
    mode: Literal["polling", "webhook"] = "polling"
    webhook_secret: str | None = None
    bot_username: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.token)

    def describe(self) -> str:
        return f"on ({self.mode}, {self.base_url})" if self.configured else "off (no token)"

    def problems(self, config: Config) -> list[str]:
        if not self.configured or self.mode != "webhook":
            return []
        found = []
        if not self.webhook_secret:
            found.append("telegram: webhook mode needs webhook_secret")
        refused = public_url_refusal(config.http.public_url, WEBHOOK_PORTS, "Telegram")
        if refused:
            found.append(f"http.public_url: the Telegram webhook would be refused: {refused}")
        return found


class TelegramAdapter(Adapter):
    """Long polling (default) or a webhook on the shared aiohttp server."""

    platform = PLATFORM
    order = 20
    config_model = TelegramConfig
    env = {"TELEGRAM_BOT_TOKEN": "token"}
    can_always_dm = False
    #: about one message a second per chat, 20 a minute per group, 30 a second in all
    limits = (Limit(1, 1.0), Limit(20, 60.0, "group"), Limit(30, 1.0, "all"))
    config: TelegramConfig

    @classmethod
    def is_group(cls, channel: ChannelRef) -> bool:
        return not channel.dm and channel.chat.startswith("-")

    @classmethod
    def limit_key(cls, channel: ChannelRef) -> str:
        return ChannelRef(platform=channel.platform, chat=channel.chat, dm=channel.dm).key

    def __init__(self, port: Port, config: TelegramConfig | None = None) -> None:
        super().__init__(port, config)
        self.app: Application[Any, Any, Any, Any, Any, Any] | None = None
        self.username = self.config.bot_username or ""
        self.bot_id = 0
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._hinted: set[str] = set()  # told once (per process) how to open the chat
        #: a cache of who took a private answer (the database keeps the truth, per account)
        self._dm_ok: set[str] = set()
        self._usernames: dict[str, str] = {}  # lowercased @username -> user id
        self._topics: dict[tuple[int, int], str] = {}
        self.webhook_failed = False
        self._poller: asyncio.Task[None] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._queue: asyncio.Queue[Update] = asyncio.Queue()

    # ------------------------------------------------------------------ lifecycle

    def _build(self) -> Application[Any, Any, Any, Any, Any, Any]:
        token = self.config.token
        if not token:
            raise ValueError("[telegram] token is not set (bot.toml or TELEGRAM_BOT_TOKEN)")
        base = self.config.base_url
        file_base = self.config.base_file_url
        if file_base is None and base.rstrip("/").endswith("/bot"):
            file_base = base.rstrip("/")[: -len("/bot")] + "/file/bot"
        builder = (
            Application.builder()
            .token(token)
            .base_url(base)
            .job_queue(None)
            .concurrent_updates(False)
        )
        if file_base:
            builder = builder.base_file_url(file_base)
        builder = builder.updater(None)  # polling is ours: it confirms what is stored
        app = builder.build()
        return app

    async def start(self) -> None:
        if self.config.mode == "webhook" and not self.config.webhook_secret:
            raise ValueError(
                '[telegram] mode = "webhook" needs webhook_secret: without it '
                "anyone could post updates to /telegram/webhook"
            )
        self.state = "starting"
        app = self._build()
        try:
            await app.initialize()  # getMe: a wrong token fails here
            self.app = app
            self.username = app.bot.username or self.username
            self.bot_id = app.bot.id
            try:
                await self.publish_commands()
            except TelegramError as exc:
                log.warning("telegram: could not publish the command list: %s", exc)
            await app.start()
            if self.config.mode == "webhook":
                await self._set_webhook()
            else:
                await app.bot.delete_webhook(drop_pending_updates=False)
                # what a killed predecessor stored and did not handle came first
                with contextlib.suppress(Exception):
                    await self.port.resume(PLATFORM)
                self._worker = asyncio.create_task(self._work())
                self._poller = asyncio.create_task(self._poll())
        except BaseException:
            self.app = None
            self.state = "error"
            with contextlib.suppress(Exception):
                if app.running:
                    await app.stop()
                await app.shutdown()
            with contextlib.suppress(Exception):
                await app.bot.shutdown()
            raise
        # without its webhook no update arrives: not ready, and /healthz says why
        self.state = "error" if self.webhook_failed else "ready"
        log.info("telegram: @%s %s (%s)", self.username, self.state, self.config.mode)

    async def _set_webhook(self) -> None:
        assert self.app is not None
        url = self.port.config.http.public_url.rstrip("/") + WEBHOOK_PATH
        try:
            await self.app.bot.set_webhook(
                url=url, secret_token=self.config.webhook_secret, allowed_updates=ALLOWED_UPDATES
            )
        except TelegramError as exc:
            self.detail = f"setWebhook {url} failed: {exc}"
            self.webhook_failed = True
            log.error(
                "telegram: %s (Telegram needs a public https URL: http.public_url)", self.detail
            )

    def _polling_error(self, exc: TelegramError) -> None:
        self.detail = f"polling: {exc}"
        log.warning("telegram: polling failed (retrying): %s", exc)

    async def _poll(self) -> None:
        """Long polling that confirms updates (the next ``offset``) only once they are
        stored: a process killed at any moment leaves each update either with Telegram,
        which sends it again, or in the inbox, which resumes it."""
        assert self.app is not None
        bot = self.app.bot
        offset: int | None = None
        pause = 1.0
        while True:
            try:
                updates = await bot.get_updates(
                    offset=offset, timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES
                )
            except TelegramError as exc:
                self._polling_error(exc)
                pause = await _pause(pause)
                continue
            if not updates:
                pause = 1.0
                continue
            try:
                fresh = await self.port.received(
                    PLATFORM, [(str(u.update_id), u.to_dict()) for u in updates]
                )
            except Exception as exc:  # the database: Telegram keeps them meanwhile
                self.detail = f"storing updates: {exc!r}"[:300]
                log.warning(
                    "telegram: %d updates not stored (Telegram keeps them): %r", len(updates), exc
                )
                pause = await _pause(pause)
                continue
            pause = 1.0
            offset = updates[-1].update_id + 1  # confirmed by the next getUpdates
            for update in updates:
                if str(update.update_id) in fresh:
                    self._queue.put_nowait(update)

    async def _work(self) -> None:
        """Handles the stored updates one after the other, in the order they came."""
        while True:
            update = await self._queue.get()
            try:
                await self._handle_stored(update)
            finally:
                self._queue.task_done()

    async def _handle_stored(self, update: Update) -> None:
        await self.run_stored(str(update.update_id), self.dispatch(update))

    async def redeliver(self, key: str, payload: dict[str, Any]) -> None:
        assert self.app is not None
        await self.dispatch(Update.de_json(payload, self.app.bot))

    async def stop(self) -> None:
        """No new updates (the long poll is dropped: what it held stays with Telegram),
        the ones in hand finished for up to 3 s; the rest wait in the inbox."""
        app, self.app = self.app, None
        self.state = "stopped"
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._poller
            self._poller = None
        if self._worker is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), timeout=3)
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._worker
            self._worker = None
        if app is None:
            return
        try:
            if app.running:
                await app.stop()
        finally:
            await app.shutdown()

    def add_routes(self, app: web.Application) -> None:
        if self.config.mode == "webhook":
            app.router.add_post(WEBHOOK_PATH, self._webhook)

    async def _webhook(self, request: web.Request) -> web.Response:
        secret = self.config.webhook_secret or ""
        given = request.headers.get(SECRET_HEADER, "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            return web.json_response({"ok": False, "error": "bad secret token"}, status=401)
        if self.app is None or self.state != "ready":
            return web.json_response({"ok": False, "error": "starting"}, status=503)
        try:
            data = await request.json()
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, self.app.bot)
        except Exception:
            return web.json_response({"ok": False, "error": "not an update"}, status=400)
        key = str(update.update_id)
        try:
            fresh = await self.port.received(PLATFORM, [(key, data)])
        except Exception as exc:  # not stored: Telegram must send it again
            log.warning("telegram: webhook update %s not stored: %r", key, exc)
            return web.json_response({"ok": False, "error": "not stored"}, status=503)
        if key in fresh:
            await self._handle_stored(update)
        elif await self.port.in_hand(PLATFORM, key):
            # stored, but not handled yet (another process has it, or had it when it
            # died): Telegram sends it again later, when it is done
            return web.json_response({"ok": False, "error": "in hand"}, status=503)
        return web.json_response({"ok": True})

    # ------------------------------------------------------------------ command list

    def _commands_for(self, locale: str, privileged: bool) -> list[BotCommand]:
        t = translator(locale)
        limit = WHO_RANK["admin"] if privileged else WHO_RANK["member"]
        out = []
        for cmd in self.port.commands():
            if WHO_RANK[cmd.min_who] > limit:
                continue
            if not (1 <= len(cmd.name) <= 32 and set(cmd.name) <= COMMAND_NAME):
                log.warning("telegram: /%s is not a valid Telegram command name", cmd.name)
                continue
            text = " ".join(t.gettext(cmd.help).split()) or cmd.name
            if len(text) > DESCRIPTION_LIMIT:
                text = text[: DESCRIPTION_LIMIT - 1] + "…"
            out.append(BotCommand(cmd.name, text))
        return out[:100]

    async def publish_commands(self) -> None:
        """setMyCommands in English, German and the community's default language.

        Everyone sees the commands members may use; host and admin commands are listed only
        for group administrators (the nearest Telegram scope to "admins of the community").
        """
        assert self.app is not None
        plan: list[tuple[Any, str | None, list[BotCommand]]] = []
        for language in (None, "en", "de"):
            locale = language or self.port.default_locale
            ordinary = self._commands_for(locale, privileged=False)
            privileged = self._commands_for(locale, privileged=True)
            plan += [
                (BotCommandScopeDefault(), language, ordinary),
                (BotCommandScopeAllGroupChats(), language, ordinary),
                (BotCommandScopeAllChatAdministrators(), language, privileged),
            ]
        digest = hashlib.sha256(
            json.dumps(
                [self.bot_id]
                + [[s.type, lang, [c.to_dict() for c in cmds]] for s, lang, cmds in plan],
                sort_keys=True,
            ).encode()
        ).hexdigest()
        key = f"telegram.commands.{self.bot_id}"
        if await self.port.get_setting(key) == digest:
            return
        for scope, language, commands in plan:
            await self.app.bot.set_my_commands(commands, scope=scope, language_code=language)
        await self.port.set_setting(key, digest)

    # ------------------------------------------------------------------ incoming

    async def dispatch(self, update: Update) -> None:
        """One update, processed once per process (the core dedupes across processes)."""
        if update.update_id in self._seen:
            return
        self._seen[update.update_id] = None
        while len(self._seen) > SEEN_UPDATES:
            self._seen.popitem(last=False)
        try:
            if update.effective_user is not None:
                self._remember(update.effective_user)
            if update.callback_query is not None:
                await self._on_callback(update)
            elif update.my_chat_member is not None:
                await self._on_member(update)
            elif update.message is not None:
                await self._on_message(update, update.message)
            elif update.edited_message is not None:
                await self._on_edited(update.edited_message)
        except Exception:
            self._seen.pop(update.update_id, None)  # a webhook retry may try again
            raise

    def _remember(self, user: User) -> None:
        if user.username:
            self._usernames[user.username.lower()] = str(user.id)

    def _account(self, user: User) -> AccountRef:
        return AccountRef(
            platform=PLATFORM,
            user_id=str(user.id),
            display_name=user.full_name or user.username or str(user.id),
            locale=user.language_code,
        )

    def _channel(self, message: TgMessage) -> tuple[ChannelRef, str | None]:
        chat = message.chat
        if chat.type == ChatType.PRIVATE:
            return ChannelRef(platform=PLATFORM, chat=str(chat.id), dm=True), None
        thread = ""
        name: str | None = chat.title or str(chat.id)
        if message.is_topic_message and message.message_thread_id:
            thread = str(message.message_thread_id)
            replied = message.reply_to_message
            key = (chat.id, message.message_thread_id)
            if replied is not None and replied.forum_topic_created is not None:
                self._topics[key] = replied.forum_topic_created.name
            topic = self._topics.get(key)
            name = f"{name} / {topic}" if topic else None
        return ChannelRef(platform=PLATFORM, chat=str(chat.id), thread=thread), name

    def _origin(self, message: TgMessage, user: User, channel: ChannelRef) -> _Origin:
        return _Origin(
            channel=channel,
            chat_id=message.chat.id,
            user_id=user.id,
            message_id=message.message_id,
            locale=self.port.locale_for(user.language_code),
            title=message.chat.title or "",
        )

    def _parse_command(self, message: TgMessage) -> tuple[str, str] | Literal[False] | None:
        """(name, args) of a command for this bot; False when addressed to another bot."""
        text = message.text or ""
        entity = next(
            (
                e
                for e in message.entities or ()
                if e.type == MessageEntity.BOT_COMMAND and e.offset == 0
            ),
            None,
        )
        if entity is None:
            return None
        word = text[: entity.length]
        name, _, target = word[1:].partition("@")
        if target and self.username and target.lower() != self.username.lower():
            return False
        return name, text[entity.length :].strip()

    def _person_args(self, message: TgMessage, cmd: Command | None, args: str) -> str:
        """Mentions standing for a person (``/role @ann host``) become ``telegram:<id>``."""
        if cmd is None:
            return args
        params = list(cmd.params) + [p for s in cmd.subcommands.values() for p in s.params]
        if not any(p.name == "person" for p in params):
            return args
        text = message.text or ""
        raw = text.encode("utf-16-le")
        out = text
        for entity in sorted(message.entities or (), key=lambda e: -e.offset):
            start = len(raw[: entity.offset * 2].decode("utf-16-le"))
            end = len(raw[: (entity.offset + entity.length) * 2].decode("utf-16-le"))
            user_id = None
            if entity.type == MessageEntity.TEXT_MENTION and entity.user is not None:
                user_id = str(entity.user.id)
            elif entity.type == MessageEntity.MENTION:
                user_id = self._usernames.get(text[start + 1 : end].lower())
            whole = (start == 0 or text[start - 1].isspace()) and (
                end == len(text) or text[end].isspace()
            )
            if user_id and whole:
                out = out[:start] + f"{PLATFORM}:{user_id}" + out[end:]
        first = next(
            (
                e
                for e in message.entities or ()
                if e.type == MessageEntity.BOT_COMMAND and e.offset == 0
            ),
            None,
        )
        return out[first.length if first else 0 :].strip()

    async def _on_message(self, update: Update, message: TgMessage) -> None:
        chat = message.chat
        if message.migrate_to_chat_id:
            await self.port.move_channel(
                ChannelRef(platform=PLATFORM, chat=str(chat.id)),
                ChannelRef(platform=PLATFORM, chat=str(message.migrate_to_chat_id)),
            )
            return
        if message.migrate_from_chat_id:
            await self.port.move_channel(
                ChannelRef(platform=PLATFORM, chat=str(message.migrate_from_chat_id)),
                ChannelRef(platform=PLATFORM, chat=str(chat.id)),
            )
            return
        user = message.from_user
        if user is None or (user.is_bot and message.sender_chat is None):
            return
        if chat.type == ChatType.CHANNEL:
            return
        if not message.text:
            if chat.type != ChatType.PRIVATE and (message.photo or message.document):
                await self._file_posted(update, message, user)
            return
        parsed = self._parse_command(message)
        if parsed is False:
            return  # /command@another_bot
        channel, name = self._channel(message)
        origin = self._origin(message, user, channel)
        if message.sender_chat is not None:
            # an anonymous group admin or a linked channel: no person to act for
            if parsed:
                await self._reply(origin, [self._anonymous(origin.locale)], private=False)
            return
        account = self._account(user)
        event_id = str(update.update_id)
        if not parsed:
            if channel.dm:  # with privacy mode, plain group messages never reach the bot
                replies = await self.port.handle_text(
                    channel, account, message.text, event_id=event_id
                )
                await self._reply(origin, replies)
            else:  # privacy mode off (or an admin bot): the relay may share it
                replied = message.reply_to_message
                if replied is not None and replied.forum_topic_created is not None:
                    replied = None  # a topic's own first message, not a reply
                await self.port.message_posted(
                    ChatPost(
                        channel=channel,
                        account=account,
                        message_id=str(message.message_id),
                        text=message.text,
                        reply_to=str(replied.message_id) if replied is not None else None,
                        event_id=event_id,
                        mentions=self._mentioned(message),
                    )
                )
            return
        assert isinstance(parsed, tuple)
        command, args = parsed
        if command.lower() == "start":
            if channel.dm:
                await self._started(origin, account, user)
                return
            command = "help"  # /start in a group: what the bot can do here
            args = ""
        args = self._person_args(message, self.port.command_for(command), args)
        replies = await self.port.handle(
            Invocation(
                channel=channel,
                account=account,
                command=command,
                args=args,
                event_id=event_id,
                channel_name=name,
            )
        )
        await self._reply(origin, replies)

    def _mentioned(self, message: TgMessage) -> tuple[Mentioned, ...]:
        """The persons a message mentions: ``@username`` of someone the bot has seen, and
        mentions of people without a username (``text_mention``)."""
        found = []
        for entity, fragment in message.parse_entities(["mention", "text_mention"]).items():
            if entity.type == "text_mention" and entity.user is not None:
                found.append(
                    Mentioned(
                        fragment=fragment, user_id=str(entity.user.id), name=entity.user.full_name
                    )
                )
            elif entity.type == "mention":
                user_id = self._usernames.get(fragment.lstrip("@").lower())
                if user_id:
                    found.append(Mentioned(fragment=fragment, user_id=user_id))
        return tuple(found[:20])

    async def _file_posted(self, update: Update, message: TgMessage, user: User) -> None:
        """A photo or file in a group: the relay shares its caption and says what it was
        (its download link would carry the bot's token, so the file stays here)."""
        if message.sender_chat is not None:
            return
        channel, _name = self._channel(message)
        name = message.document.file_name if message.document else None
        note = f"📎 {name or 'photo'} (Telegram)"
        await self.port.message_posted(
            ChatPost(
                channel=channel,
                account=self._account(user),
                message_id=str(message.message_id),
                text="\n".join(filter(None, [message.caption or "", note])),
                event_id=str(update.update_id),
            )
        )

    async def _on_edited(self, message: TgMessage) -> None:
        """A member edited a message: relayed copies follow (Telegram tells bots nothing of
        deletions, so those cannot)."""
        user = message.from_user
        if user is None or user.is_bot or not message.text or message.chat.type == "channel":
            return
        channel, _name = self._channel(message)
        if not channel.dm:
            await self.port.message_edited(channel, str(message.message_id), message.text)

    def relay_needs(self) -> str | None:
        if self.app is not None and not self.app.bot.can_read_all_group_messages:
            return N_(
                "Telegram: the bot's privacy mode is on, so it sees only commands in groups. "
                "Turn it off with @BotFather (/setprivacy, Disable) and add the bot to the "
                "groups again, or make it an admin of each group."
            )
        return None

    def _anonymous(self, locale: str) -> Message:
        return Message(parts=(Text(text=translator(locale).gettext(ANONYMOUS)),))

    async def _started(self, origin: _Origin, account: AccountRef, user: User) -> None:
        """/start in the private chat (also from a deep link): waiting messages follow."""
        released = await self.port.dm_opened(account)
        t = translator(origin.locale)
        parts = fmt(
            t.gettext(
                N_("Hello {name}! I am the bot of {community}. Type /help to see what you can do.")
            ),
            name=user.first_name,
            community=Bold(text=self.port.config.community.name),
        )
        if released:
            parts.append(Text(text="\n"))
            parts += fmt(
                t.ngettext(
                    "{n} message waited for you; it follows now.",
                    "{n} messages waited for you; they follow now.",
                    released,
                ),
                n=released,
            )
        await self._reply(origin, [Message(parts=tuple(parts))])

    async def _on_callback(self, update: Update) -> None:
        query = update.callback_query
        assert query is not None
        message = query.message
        if message is None:  # a button of an inline-mode message: not ours
            with contextlib.suppress(TelegramError):
                await query.answer()
            return
        user = query.from_user
        chat = message.chat
        if chat.type == ChatType.PRIVATE:
            channel = ChannelRef(platform=PLATFORM, chat=str(chat.id), dm=True)
            name = None
        else:
            thread = ""
            if (
                isinstance(message, TgMessage)
                and message.is_topic_message
                and message.message_thread_id
            ):
                thread = str(message.message_thread_id)
            channel = ChannelRef(platform=PLATFORM, chat=str(chat.id), thread=thread)
            name = None if thread else chat.title
        origin = _Origin(
            channel=channel,
            chat_id=chat.id,
            user_id=user.id,
            message_id=message.message_id,
            locale=self.port.locale_for(user.language_code),
            title=chat.title or "",
        )
        replies = await self.port.press(
            ActionPress(
                channel=channel,
                account=self._account(user),
                token=query.data or "",
                message_id=str(message.message_id),
                event_id=str(update.update_id),
                channel_name=name,
            )
        )
        answer = ""
        alert = False
        rest = list(replies)
        for reply in replies:
            text = reply.text.strip()
            if (
                reply.ephemeral
                and not reply.buttons
                and reply.file is None
                and 0 < len(text) <= ANSWER_LIMIT
            ):
                answer = text
                # a toast vanishes quickly: what must be read (or typed) stays as an alert
                alert = len(text) > TOAST_LIMIT or "\n" in text or reply.form is not None
                rest.remove(reply)
                break
        try:
            await query.answer(text=answer or None, show_alert=alert)
        except TelegramError as exc:
            log.info("telegram: answerCallbackQuery failed: %s", exc)
        await self._reply(origin, rest)

    async def _on_member(self, update: Update) -> None:
        change = update.my_chat_member
        assert change is not None
        chat = change.chat
        new = change.new_chat_member.status
        old = change.old_chat_member.status
        gone = (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)
        if chat.type == ChatType.PRIVATE:
            if change.from_user is None:
                return
            account = self._account(change.from_user)
            if new in gone:  # blocked the bot: stored, so nothing waits on this account
                await self.port.dm_refused(account, "blocked the bot")
            else:
                await self.port.dm_opened(account)
            return
        if chat.type == ChatType.CHANNEL:
            return
        t = translator(self.port.default_locale)
        if new in gone:
            who = change.from_user.full_name if change.from_user else "?"
            reason = t.gettext(N_("removed from the chat by {name}")).format(name=who)
            await self.port.chat_lost(PLATFORM, str(chat.id), reason)
        elif old in gone and new != ChatMemberStatus.RESTRICTED:
            hello = Message(
                parts=tuple(
                    fmt(
                        t.gettext(HELLO_GROUP),
                        command=Code(text="/link <group>"),
                        help=Code(text="/help"),
                    )
                )
            )
            await self._send_now(ChannelRef(platform=PLATFORM, chat=str(chat.id)), hello)

    # ------------------------------------------------------------------ answering

    async def _reply(self, origin: _Origin, replies: list[Message], private: bool = True) -> None:
        """Answer an event. Ephemeral answers to a group command go to the person privately
        when they have started the bot, otherwise as a reply to their message in the group."""
        for message in replies:
            if origin.channel.dm or not message.ephemeral or not private:
                reply_to = None if origin.channel.dm else origin.message_id
                await self._send_now(
                    origin.channel,
                    message.model_copy(
                        update={
                            "reply_to": str(reply_to) if reply_to else message.reply_to,
                            "ephemeral": False,
                        }
                    ),
                )
                continue
            # Only for this person: privately, or it waits for them. Never in the group.
            user = str(origin.user_id)
            t = translator(origin.locale)
            dm = ChannelRef(platform=PLATFORM, chat=user, dm=True)
            head = fmt(t.gettext(N_("From {chat}:")), chat=Italic(text=origin.title))
            private_copy = message.model_copy(
                update={
                    "parts": (*head, Text(text="\n"), *message.parts),
                    "ephemeral": False,
                    "reply_to": None,
                }
            )
            try:
                wait = await self.port.allowance(dm)
                if wait > 0:  # the private chat is busy, not refused: it waits for it there
                    await self._defer(dm, private_copy, wait)
                    continue
                await self._sent(dm, self.send(dm, private_copy))
                self._dm_ok.add(user)
                continue
            except RetryLater as exc:
                if message.private or user in self._dm_ok:
                    await self._defer(dm, private_copy, exc.after)
                else:  # not known to reach them privately: where they asked, later
                    await self._defer(
                        origin.channel,
                        message.model_copy(
                            update={
                                "ephemeral": False,
                                "reply_to": str(origin.message_id) if origin.message_id else None,
                            }
                        ),
                        exc.after,
                    )
                continue
            except ChannelGone:
                account = AccountRef(platform=PLATFORM, user_id=user, locale=origin.locale)
                if not message.private:  # a confirmation or refusal: it may stand here
                    await self.port.dm_refused(account, "no private chat")
                    hint: list[Part] = []
                    if user not in self._hinted:  # once a person (per process) is enough
                        self._hinted.add(user)
                        hint = self._invite(
                            origin.locale,
                            N_("Open {link} so that I can answer you privately next time."),
                        )
                    await self._send_now(
                        origin.channel,
                        message.model_copy(
                            update={
                                "parts": (*message.parts, *hint),
                                "ephemeral": False,
                                "reply_to": str(origin.message_id) if origin.message_id else None,
                            }
                        ),
                    )
                    continue
                await self.port.hold_private(account, private_copy)
            except DeliveryError as exc:
                log.warning("telegram: private answer to %s failed: %s", user, exc)
                await self._defer(dm, private_copy, 5.0)
                continue
            invite = self._invite(
                origin.locale,
                N_(
                    "I can't write to you privately yet. Open {link}: my answer is waiting "
                    "for you there."
                ),
                N_(
                    "I can't write to you privately yet. Open a private chat with me and "
                    "send /start: my answer is waiting for you there."
                ),
            )
            await self._send_now(
                origin.channel,
                Message(
                    parts=tuple(invite),
                    reply_to=str(origin.message_id) if origin.message_id else None,
                ),
            )

    def _invite(self, locale: str, msgid: str, without_link: str | None = None) -> list[Part]:
        """How to open the private chat: a deep link to the bot (``t.me/<bot>?start=``).

        With ``without_link`` (a whole sentence), that sentence when the bot's name is not
        known yet; otherwise nothing is added then."""
        t = translator(locale)
        if not self.username:
            return [Text(text=t.gettext(without_link))] if without_link else []
        link = Link(
            url=f"https://t.me/{self.username}?start=hello",
            text=t.gettext(N_("a private chat with me")),
        )
        parts = fmt(t.gettext(msgid), link=link)
        return parts if without_link else [Text(text="\n\n"), *parts]

    async def _send_now(self, channel: ChannelRef, message: Message) -> None:
        """Send an answer right away when the chat's allowance has room; otherwise, or on a
        rate limit, the outbox sends it as soon as there is (never dropped)."""
        wait = await self.port.allowance(channel)
        if wait > 0:
            await self._defer(channel, message, wait)
            return
        try:
            await self._sent(channel, self.send(channel, message))
        except RetryLater as exc:
            await self._defer(channel, message, exc.after)
        except ChannelGone as exc:
            log.info("telegram: cannot answer in %s: %s", channel.key, exc)
        except DeliveryError as exc:
            log.warning("telegram: answer in %s failed: %s", channel.key, exc)

    async def _sent(self, channel: ChannelRef, sending: Awaitable[str]) -> str:
        """A direct send whose slot the allowance gave: it counts from when it is out."""
        try:
            return await sending
        finally:
            await self.port.sent(channel)

    async def _defer(self, channel: ChannelRef, message: Message, after: float) -> None:
        await self.port.defer(channel, message, after)

    # ------------------------------------------------------------------ outgoing

    def _bot(self) -> Any:
        if self.app is None:
            raise DeliveryError("the Telegram adapter is not running")
        return self.app.bot

    @staticmethod
    def _target(channel: ChannelRef) -> tuple[int, int | None]:
        try:
            chat_id = int(channel.chat)
            thread = int(channel.thread) if channel.thread else None
        except ValueError:
            raise ChannelGone(f"not a Telegram chat id: {channel.key}") from None
        return chat_id, thread

    def _keyboard(self, message: Message, channel: ChannelRef) -> InlineKeyboardMarkup | None:
        if not message.buttons:
            return None
        rows: list[list[InlineKeyboardButton]] = []
        row: list[InlineKeyboardButton] = []
        width = 0
        for button in message.buttons:
            label = button.label.strip() or "·"
            if row and (len(row) >= 3 or width + len(label) > 36):
                rows.append(row)
                row, width = [], 0
            row.append(
                InlineKeyboardButton(label, callback_data=self.port.encode_button(button, channel))
            )
            width += len(label)
        rows.append(row)
        return InlineKeyboardMarkup(rows)

    async def _call(self, method: Any, ignore: tuple[str, ...] = (), **kwargs: Any) -> Any:
        """Call the Bot API; map its errors onto the outbox's (ChatMigrated passes through)."""
        try:
            return await method(**kwargs)
        except ChatMigrated:
            raise
        except RetryAfter as exc:
            raise RetryLater(_retry_seconds(exc), str(exc)) from exc
        except Forbidden as exc:
            raise ChannelGone(str(exc)) from exc
        except BadRequest as exc:
            low = exc.message.lower()
            if any(text in low for text in ignore):
                return None
            if any(text in low for text in GONE):
                raise ChannelGone(exc.message) from exc
            raise _BadRequest(exc.message) from exc
        except TelegramError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc

    async def send(self, channel: ChannelRef, message: Message) -> str:
        try:
            return await self._send(channel, message)
        except ChannelGone as exc:
            if channel.dm and not isinstance(exc, PrivateRefused):
                raise PrivateRefused(str(exc)) from exc
            raise
        except ChatMigrated as exc:
            moved = channel.model_copy(update={"chat": str(exc.new_chat_id), "thread": ""})
            await self.port.move_channel(channel, moved)
            return await self._send(moved, message)

    async def _send(self, channel: ChannelRef, message: Message) -> str:
        message = authored(_unmentioned(message))
        bot = self._bot()
        chat_id, thread = self._target(channel)
        common: dict[str, Any] = {"chat_id": chat_id, "message_thread_id": thread}
        reply = None
        parent = message.reply_to.split()[0] if message.reply_to else ""  # a card's first part
        if parent.isdigit():
            reply = ReplyParameters(message_id=int(parent), allow_sending_without_reply=True)
        markup = self._keyboard(message, channel)
        parts: tuple[Part, ...] = message.parts
        if message.dm_invite and not channel.dm:
            parts = (
                *parts,
                *self._invite(
                    self.port.default_locale,
                    N_("Open {link}: a message is waiting for you there."),
                ),
            )
        if message.file is not None and (
            len(message.file.content) <= DOCUMENT_LIMIT or not message.file.fallback_url
        ):
            return await self._send_file(
                bot, common, message.model_copy(update={"parts": parts}), reply, markup
            )
        if message.file is not None and message.file.fallback_url:
            parts = (
                *parts,
                Text(text="\n"),
                Link(url=message.file.fallback_url, text=message.file.name),
            )
        chunks = render_html(parts) or [_esc(message.text.strip() or "…")]

        async def post(numbered: tuple[int, str]) -> str:
            i, chunk = numbered
            sent = await self._send_text(
                bot,
                common,
                chunk,
                plain=None if len(chunks) > 1 else plain_text(parts),
                reply=reply if i == 0 else None,
                markup=markup if i == len(chunks) - 1 else None,
            )
            return str(sent.message_id)

        return await self.send_parts(message.delivery_id, list(enumerate(chunks)), post, channel)

    async def _send_text(
        self,
        bot: Any,
        common: dict[str, Any],
        text: str,
        plain: str | None,
        reply: ReplyParameters | None,
        markup: InlineKeyboardMarkup | None,
    ) -> Any:
        kwargs = dict(
            common, reply_parameters=reply, reply_markup=markup, link_preview_options=NO_PREVIEW
        )
        try:
            return await self._call(
                bot.send_message, text=text, parse_mode=ParseMode.HTML, **kwargs
            )
        except _BadRequest as exc:
            if "can't parse entities" not in str(exc).lower():
                raise
            # a rendering bug must not cost the message: send it unformatted
            log.error("telegram: HTML rejected (%s): %r", exc, text)
            fallback = plain if plain is not None else html.unescape(text)
            return await self._call(bot.send_message, text=fallback, **kwargs)

    async def _send_file(
        self,
        bot: Any,
        common: dict[str, Any],
        message: Message,
        reply: ReplyParameters | None,
        markup: InlineKeyboardMarkup | None,
    ) -> str:
        assert message.file is not None
        caption = render_html(message.parts, CAPTION_LIMIT)
        if len(caption) > 1:  # too long for a caption: the text first, then the file
            for i, chunk in enumerate(render_html(message.parts)):
                await self._send_text(bot, common, chunk, None, reply if i == 0 else None, None)
            caption, reply = [], None
        sent = await self._call(
            bot.send_document,
            document=message.file.content,
            filename=message.file.name,
            caption=caption[0] if caption else None,
            parse_mode=ParseMode.HTML if caption else None,
            reply_parameters=reply,
            reply_markup=markup,
            **common,
        )
        return str(sent.message_id)

    async def delete(self, channel: ChannelRef, message_id: str) -> None:
        bot = self._bot()
        chat_id, _thread = self._target(channel)
        for part in split_ids(message_id):
            await self._call(
                bot.delete_message,
                ignore=("message to delete not found", "message can't be deleted"),
                chat_id=chat_id,
                message_id=int(part),
            )

    async def edit(self, channel: ChannelRef, message_id: str, message: Message) -> str | None:
        message = authored(_unmentioned(message))
        bot = self._bot()
        chat_id, thread = self._target(channel)
        markup = self._keyboard(message, channel)
        chunks = render_html(message.parts) or [_esc(message.text.strip() or "…")]
        old = split_ids(message_id)
        quiet = ("message is not modified", "message to edit not found", "message can't be edited")

        async def edit_one(i: int, part_id: str) -> None:
            last = i == len(chunks) - 1
            try:
                await self._call(
                    bot.edit_message_text,
                    ignore=quiet,
                    chat_id=chat_id,
                    message_id=int(part_id),
                    text=chunks[i],
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup if last else None,
                    link_preview_options=NO_PREVIEW,
                )
            except _BadRequest as exc:
                if "no text in the message" not in str(exc).lower():
                    raise
                # a file's message: only its buttons can change
                await self._call(
                    bot.edit_message_reply_markup,
                    ignore=quiet,
                    chat_id=chat_id,
                    message_id=int(part_id),
                    reply_markup=markup if last else None,
                )

        async def send_one(i: int) -> str:
            common: dict[str, Any] = {"chat_id": chat_id, "message_thread_id": thread}
            last = i == len(chunks) - 1
            sent = await self._send_text(
                bot, common, chunks[i], None, None, markup if last else None
            )
            return str(sent.message_id)

        async def delete_one(part_id: str) -> None:
            with contextlib.suppress(DeliveryError):
                await self._call(bot.delete_message, chat_id=chat_id, message_id=int(part_id))

        try:
            ids = await edit_parts(old, len(chunks), edit_one, send_one, delete_one)
        except ChatMigrated as exc:
            raise ChannelGone(f"the group moved to {exc.new_chat_id}") from exc
        return join_ids(ids) if ids != old else None


class _BadRequest(DeliveryError):
    """Telegram refused the request (400) for a reason other than a lost chat."""


ADAPTER = TelegramAdapter
