"""Slack: slash commands, Block Kit buttons and modals, threads; over HTTP or Socket Mode."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import re
import secrets
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bridge.adapter import Adapter, ChannelGone, CliVerb, DeliveryError, RetryLater
from bridge.config import Config, PlatformConfig, public_url_refusal
from bridge.i18n import N_, translator
from bridge.messages import (
    AccountRef,
    ActionPress,
    Author,
    Bold,
    ChannelRef,
    ChatPost,
    Code,
    FormRequest,
    Invocation,
    Italic,
    Link,
    Mention,
    Mentioned,
    Message,
    Part,
    Text,
    plain_text,
)
from bridge.registry import Param
from bridge.shaping import Limit
from bridge.splitting import edit_parts, join_ids, part_label, split_ids

if TYPE_CHECKING:
    import argparse

    from bridge.port import Port

__all__ = [
    "ADAPTER",
    "BOT_EVENTS",
    "BOT_SCOPES",
    "SlackAdapter",
    "build_manifest",
    "from_slack",
    "print_manifest",
    "render",
]

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
#: where the inbox middleware leaves a stored request's key for its listener
INBOX_KEY = "community_bridge_inbox_key"

#: what the bot needs, and why (listed in docs/slack.md)
BOT_SCOPES = (
    "commands",  # slash commands
    "chat:write",  # post, update, ephemeral replies
    "chat:write.public",  # post in public channels without being invited first
    "chat:write.customize",  # relayed messages under their author's name
    "im:write",  # conversations.open: private messages
    "im:history",  # message.im: plain messages in the bot's private chat
    "users:read",  # users.info: names and locales
    "channels:read",  # conversations.info: public channel names
    "groups:read",  # conversations.info: private channel names
    "mpim:read",  # conversations.info: group DM names
    "files:write",  # files_upload_v2: exports
    "channels:history",  # conversations.history: a resend after a crash finds the first copy
    "groups:history",  # the same in private channels
)
#: message.channels / message.groups: members' messages in channels, for the relay
BOT_EVENTS = ("message.im", "message.channels", "message.groups")

#: the message metadata every post carries: its outbox delivery id and part number, so that
#: a resend after a crash finds what already arrived (Slack takes no idempotency key)
DELIVERY_EVENT = "community_bridge_delivery"

#: errors after which the bot cannot post in a channel any more (the link is paused)
GONE_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "channel_is_archived",
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "account_inactive",
    }
)
#: errors that mean "this message cannot be edited any more"
LOST_MESSAGE_ERRORS = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})
#: Slack's built-in commands cannot be taken by an app: ours go by another name there
#: (both names are accepted when they arrive).
SLACK_ALIASES = {"status": "idea-status"}
_FROM_ALIAS = {alias: name for name, alias in SLACK_ALIASES.items()}

#: commands whose bare form opens a modal with their fields: (command, subcommand)
FORM_COMMANDS: dict[str, str | None] = {"idea": None, "survey": "new"}

SECTION_LIMIT = 2900  # Slack allows 3000 characters per section text
FALLBACK_LIMIT = 3000  # the notification text
MAX_BLOCKS = 50
CONTENT_BLOCKS = MAX_BLOCKS - 6  # room for the part number and five rows of buttons
MESSAGE_TEXT_LIMIT = 11_000  # Slack refuses more than about 12,000 (msg_blocks_too_long)
BUTTONS_PER_ROW = 5
ACTION_PREFIX = "cb:"
FORM_CALLBACK = "cb_form"
CACHE_TTL = 6 * 3600.0
SAFE_SCHEMES = ("http://", "https://", "mailto:")

T = TypeVar("T")


# ---------------------------------------------------------------------- rendering


def escape(text: str) -> str:
    """Slack's control characters as entities: nothing the user wrote becomes markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _wrap(marker: str, text: str, replacement: str) -> str:
    """Wrap each line of ``text`` in ``marker`` (bold, italic, code), escaped.

    The marker character inside the text is replaced by a look-alike so user text can
    neither end the formatting early nor start a new one; whitespace stays outside.
    """
    out = []
    for line in text.split("\n"):
        inner = escape(_defuse(line.replace(marker, replacement)))
        core = inner.strip()
        if not core:
            out.append(inner)
            continue
        lead = inner[: len(inner) - len(inner.lstrip())]
        trail = inner[len(inner.rstrip()) :]
        out.append(f"{lead}{marker}{core}{marker}{trail}")
    return "\n".join(out)


def _url(url: str) -> str | None:
    url = url.strip()
    if not url.lower().startswith(SAFE_SCHEMES) or any(c.isspace() for c in url):
        return None
    return url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


_OPENER = re.compile(r"(?<![\w*_~`])([*_~`])(?=\S)")
_LOOKALIKE = {"*": "∗", "_": "＿", "~": "∼", "`": "ˋ"}


def _defuse(text: str) -> str:
    """User text shown as typed: a ``*``, ``_``, ``~`` or backtick that would open Slack
    formatting becomes its look-alike (``*bold*`` stays literal; ``snake_case`` and
    ``5*3`` are untouched)."""
    return _OPENER.sub(lambda m: _LOOKALIKE[m.group(1)], text)


def render_part(part: Part) -> str:
    """One part as Slack mrkdwn; every text escaped, user text never formatted."""
    if isinstance(part, Bold):
        return _wrap("*", part.text, "∗")
    if isinstance(part, Italic):
        return _wrap("_", part.text, "＿")
    if isinstance(part, Code):
        return _wrap("`", part.text, "ˋ")
    if isinstance(part, Link):
        url = _url(part.url)
        label = escape(part.text.replace("\n", " ").strip())
        if url is None:
            return label if part.text == part.url else f"{label} ({escape(part.url)})"
        return f"<{url}|{label}>" if label and part.text != part.url else f"<{url}>"
    if isinstance(part, Mention):
        user_id = part.accounts.get("slack", "")
        if re.fullmatch(r"[UW][A-Z0-9]+", user_id):
            return f"<@{user_id}>"
        return escape(_defuse(part.text))
    return escape(_defuse(part.text))


def render_mrkdwn(parts: Iterable[Part]) -> str:
    return "".join(render_part(p) for p in parts)


def _split(text: str, limit: int) -> list[str]:
    """Cut a long mrkdwn text into pieces under ``limit``, at lines, then at spaces."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            amp = line.rfind("&", max(0, cut - 5), cut)
            if amp != -1 and ";" not in line[amp:cut]:
                cut = amp  # never split an entity
            head, line = line[:cut], line[cut:]
            if current:
                pieces.append(current)
                current = ""
            pieces.append(head)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit and current:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        pieces.append(current)
    return pieces


def _paragraphs(parts: tuple[Part, ...]) -> list[list[Part]]:
    """Split parts at blank lines (inside Text parts), keeping the parts' kinds."""
    paragraphs: list[list[Part]] = [[]]
    for part in parts:
        if isinstance(part, Text) and "\n\n" in part.text:
            chunks = re.split(r"\n{2,}", part.text)
            for i, chunk in enumerate(chunks):
                if i:
                    paragraphs.append([])
                if chunk:
                    paragraphs[-1].append(Text(text=chunk))
        else:
            paragraphs[-1].append(part)
    return [p for p in paragraphs if any(x.text.strip() for x in p)]


def _is_footer(paragraph: list[Part]) -> bool:
    return all(
        isinstance(p, Italic) or (isinstance(p, Text) and not p.text.strip()) for p in paragraph
    ) and any(isinstance(p, Italic) for p in paragraph)


def render(message: Message, encode: Callable[[Any], str]) -> tuple[str, list[dict[str, Any]]]:
    """A message that fits one Slack message as notification text and blocks (the first
    part of a longer one: use ``render_all``)."""
    return render_all(message, encode)[0]


def _block_text(block: dict[str, Any]) -> int:
    if block["type"] == "section":
        return len(block["text"]["text"])
    if block["type"] == "context":
        return sum(len(e.get("text", "")) for e in block["elements"])
    return 0


def render_all(
    message: Message, encode: Callable[[Any], str]
) -> list[tuple[str, list[dict[str, Any]]]]:
    """A message as Slack messages: notification text and Block Kit blocks each.

    Paragraphs become ``section`` blocks (each within 3,000 characters), a closing
    paragraph written only in italics a ``context`` block (small print), buttons
    ``actions`` blocks with one ``action_id`` per button and the signed action token as
    value. A message beyond one Slack message (about 12,000 characters of blocks, 50
    blocks) is split between paragraphs into numbered parts, the buttons on the last.
    """
    blocks: list[dict[str, Any]] = []
    paragraphs = _paragraphs(message.parts)
    for i, paragraph in enumerate(paragraphs):
        footer = i == len(paragraphs) - 1 and i > 0 and _is_footer(paragraph)
        text = render_mrkdwn(paragraph).strip("\n")
        for piece in _split(text, SECTION_LIMIT):
            mrkdwn = {"type": "mrkdwn", "text": piece, "verbatim": True}
            if footer:
                blocks.append({"type": "context", "elements": [mrkdwn]})
            else:
                blocks.append({"type": "section", "text": mrkdwn})
    actions = _actions(message.buttons, encode)
    groups: list[list[dict[str, Any]]] = [[]]
    size = 0
    for block in blocks:
        length = _block_text(block)
        if groups[-1] and (size + length > MESSAGE_TEXT_LIMIT or len(groups[-1]) >= CONTENT_BLOCKS):
            groups.append([])
            size = 0
        groups[-1].append(block)
        size += length
    whole = escape(_defuse(plain_text(message.parts)))
    out = []
    for n, group in enumerate(groups, 1):
        if len(groups) > 1:
            counter = {"type": "mrkdwn", "text": part_label(n, len(groups)), "verbatim": True}
            group = [*group, {"type": "context", "elements": [counter]}]
        if n == len(groups):
            group = [*group, *actions]
        fallback = whole if n == 1 else " ".join(_text_of(b) for b in group)
        out.append((_clip_text(fallback, FALLBACK_LIMIT) or " ", group))
    return out


def _text_of(block: dict[str, Any]) -> str:
    if block["type"] == "section":
        return str(block["text"]["text"])
    if block["type"] == "context":
        return " ".join(str(e.get("text", "")) for e in block["elements"])
    return ""


def _clip_text(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _actions(buttons_in: Sequence[Any], encode: Callable[[Any], str]) -> list[dict[str, Any]]:
    buttons = list(buttons_in)
    rows = [buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]
    out: list[dict[str, Any]] = []
    n = 0
    for row in rows:
        elements = []
        for button in row:
            element: dict[str, Any] = {
                "type": "button",
                "action_id": f"{ACTION_PREFIX}{n}",
                "text": {
                    "type": "plain_text",
                    "text": _clip(button.label, 75) or "…",
                    "emoji": True,
                },
                "value": encode(button),
            }
            if button.style != "default":
                element["style"] = button.style
            elements.append(element)
            n += 1
        out.append({"type": "actions", "elements": elements})
    return out


def _clip(text: str, limit: int) -> str:
    text = text.replace("\n", " ").strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------- incoming text

_MARKUP = re.compile(r"<([^<>]*)>")


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


#: a user mention as Slack writes it in a message's text (``<@U123>``, ``<@U123|ann>``)
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")


def from_slack(text: str) -> str:
    """A slash command's text as the person typed it.

    Slack escapes ``& < >`` and, with ``should_escape``, sends channels, links and special
    mentions as markup: links become their text, ``<#C1|general>`` ``#general``,
    ``<!here>`` ``@here``. User mentions stay ``<@U123|name>``: the core resolves them
    (``/role <@U123> host``).
    """

    def plain(m: re.Match[str]) -> str:
        inner = m.group(1)
        if inner.startswith("@"):
            return m.group(0)
        if inner.startswith("#"):
            ident, _, label = inner[1:].partition("|")
            return "#" + (label or ident)
        if inner.startswith("!"):
            body, _, label = inner[1:].partition("|")
            return label or "@" + body.split("^")[0]
        url, _, label = inner.partition("|")
        if not label:
            return url
        return label if label in url else f"{label} ({url})"

    return _unescape(_MARKUP.sub(plain, text))


# ---------------------------------------------------------------------- forms


def _form_params(port: Port, command: str, sub: str | None) -> list[Param] | None:
    cmd = port.command_for(command)
    if cmd is None:
        return None
    if sub:
        found = cmd.subcommands.get(sub)
        return list(found.params) if found is not None else None
    return list(cmd.params)


def _input_block(p: Param, t: Any, initial: str | None = None) -> dict[str, Any]:
    label = _clip(t.gettext(p.help) if p.help else p.name, 2000) or p.name
    element: dict[str, Any]
    hint: str | None = None
    if p.kind == "choice":
        element = {
            "type": "static_select",
            "action_id": "v",
            "options": [
                {"text": {"type": "plain_text", "text": _clip(c, 75)}, "value": c}
                for c in p.choices
            ],
        }
    elif p.kind == "flag":
        element = {
            "type": "checkboxes",
            "action_id": "v",
            "options": [{"text": {"type": "plain_text", "text": p.name}, "value": "1"}],
        }
    else:
        element = {
            "type": "plain_text_input",
            "action_id": "v",
            "multiline": p.long,
        }
        if initial:
            element["initial_value"] = _clip(initial, 3000)
        if p.kind == "words":
            hint = t.gettext(N_("One per line."))
        elif p.kind == "option" and p.metavar:
            element["placeholder"] = {"type": "plain_text", "text": _clip(p.metavar, 150)}
    block: dict[str, Any] = {
        "type": "input",
        "block_id": p.name,
        "label": {"type": "plain_text", "text": label},
        "element": element,
        "optional": not p.required or p.kind == "flag",
    }
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def build_view(
    port: Port, form: FormRequest, locale: str, meta: dict[str, Any]
) -> dict[str, Any] | None:
    """The modal for a form: one input per parameter that is not prefilled."""
    params = _form_params(port, form.command, form.subcommand)
    if params is None:
        return None
    t = translator(locale)
    title = form.title or f"/{form.command}" + (f" {form.subcommand}" if form.subcommand else "")
    shown = [p for p in params if p.name not in form.prefill]
    if form.fields:
        order = {name: i for i, name in enumerate(form.fields)}
        shown = sorted((p for p in shown if p.name in order), key=lambda p: order[p.name])
    blocks = [_input_block(p, t, form.initial.get(p.name)) for p in shown]
    if not blocks:
        return None
    meta = {
        **meta,
        "c": form.command,
        "s": form.subcommand,
        "p": form.prefill,
        "f": [p.name for p in shown],
        "i": [p.name for p in shown if form.initial.get(p.name)],
    }
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": {"type": "plain_text", "text": _clip(title, 24)},
        "submit": {"type": "plain_text", "text": _clip(t.gettext(N_("Send")), 24)},
        "close": {"type": "plain_text", "text": _clip(t.gettext(N_("Cancel")), 24)},
        "private_metadata": json.dumps(meta, separators=(",", ":"))[:3000],
        "blocks": blocks,
    }


def _form_value(p: Param, state: dict[str, Any]) -> Any:
    value = state.get(p.name, {}).get("v", {})
    if p.kind == "flag":
        return bool(value.get("selected_options"))
    if p.kind == "choice":
        selected = value.get("selected_option") or {}
        return selected.get("value")
    text = value.get("value")
    if text is None:
        return None
    if p.kind == "words":
        return [line.strip() for line in str(text).splitlines() if line.strip()]
    return str(text).strip()


# ---------------------------------------------------------------------- the adapter


@dataclass
class _Origin:
    """Where an interaction came from: how to answer the person privately."""

    channel: ChannelRef
    conversation: str  # the Slack conversation id (C…, G…, D…)
    user_id: str
    locale: str
    response_url: str | None = None
    trigger_id: str | None = None
    channel_name: str | None = None


class SlackConfig(PlatformConfig):
    """``[slack]``: HTTP mode (``signing_secret``, requests to /slack/events) or Socket Mode
    (``app_token``)."""

    bot_token: str | None = None
    signing_secret: str | None = None
    app_token: str | None = None
    api_url: str = "https://slack.com/api/"

    @property
    def configured(self) -> bool:
        return bool(self.bot_token and (self.signing_secret or self.app_token))

    def describe(self) -> str:
        if self.configured:
            mode = "Socket Mode" if self.app_token else "HTTP /slack/events"
            return f"on ({mode}, api {self.api_url})"
        missing = "bot_token" if not self.bot_token else "signing_secret or app_token"
        return f"off (no {missing})"

    def problems(self, config: Config) -> list[str]:
        if not self.configured or self.app_token:
            return []  # Socket Mode: Slack calls no URL of ours
        refused = manifest_url_refusal(config)
        return [refused] if refused else []


def manifest_url_refusal(config: Config) -> str | None:
    """Why Slack would refuse the request URLs of the manifest (HTTP mode), or None."""
    refused = public_url_refusal(config.http.public_url, None, "Slack")
    if refused is None:
        return None
    return f"http.public_url: Slack's request URLs ({EVENTS_PATH}) would be refused: {refused}"


_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")


class SlackAdapter(Adapter):
    platform = "slack"
    order = 10
    forms = True
    limits = (Limit(1, 1.0),)  # chat.postMessage: about one a second per channel
    config_model = SlackConfig
    ack_within = 3.0
    env = {
        "SLACK_BOT_TOKEN": "bot_token",
        "SLACK_SIGNING_SECRET": "signing_secret",
        "SLACK_APP_TOKEN": "app_token",
    }
    mention = _MENTION

    @classmethod
    def limit_key(cls, channel: ChannelRef) -> str:
        return ChannelRef(platform=channel.platform, chat=channel.chat, dm=channel.dm).key

    config: SlackConfig

    @classmethod
    def cli_verbs(cls) -> list[CliVerb]:
        return [CliVerb("slack-manifest", "print the Slack app manifest", print_manifest)]

    def __init__(self, port: Port, config: SlackConfig | None = None) -> None:
        super().__init__(port, config)
        cfg = self.config
        if not cfg.bot_token:
            raise ValueError("slack: bot_token is not configured")
        self.cfg = cfg
        self.socket_mode = bool(cfg.app_token)
        self.client = AsyncWebClient(
            token=cfg.bot_token,
            base_url=cfg.api_url,
            logger=logging.getLogger("adapters.slack.api"),
        )
        # An empty signing secret would accept requests signed with "": use one nobody knows.
        self.app = AsyncApp(
            client=self.client,
            signing_secret=cfg.signing_secret or secrets.token_hex(32),
            name="community-bridge",
            logger=logging.getLogger("adapters.slack.bolt"),
            request_verification_enabled=True,
        )
        self.socket_handler: Any = None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._channel_locks: dict[str, asyncio.Lock] = {}
        self._dm: dict[str, str] = {}
        self._users: dict[str, tuple[float, str, str | None, str | None]] = {}
        self._channel_names: dict[str, tuple[float, str]] = {}
        self._register()

    # ------------------------------------------------------------------ lifecycle

    def add_routes(self, app: web.Application) -> None:
        if not self.socket_mode:
            app.router.add_post(EVENTS_PATH, self._http)

    async def _http(self, request: web.Request) -> web.Response:
        """Bolt checks the signature and dispatches; a signed body that does not parse
        (not UTF-8, a payload that is not a JSON object) is answered 400, never 500."""
        if self.state not in ("ready", "starting"):
            return web.Response(status=503, text="stopping")
        try:
            bolt_request = await to_bolt_request(request)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            log.info("slack: a request body that does not parse: %r", exc)
            return web.Response(status=400, text="bad request")
        try:
            bolt_response = await self.app.async_dispatch(bolt_request)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            log.info("slack: a request Bolt could not read: %r", exc)
            return web.Response(status=400, text="bad request")
        return await to_aiohttp_response(bolt_response)

    async def start(self) -> None:
        """No Web API call here: the token is checked on the first request (auth.test)."""
        self._session = aiohttp.ClientSession()
        self.client.session = self._session
        if self.socket_mode:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self.state = "starting"
            self.socket_handler = AsyncSocketModeHandler(
                self.app, self.cfg.app_token, web_client=self.client
            )
            try:
                await self.socket_handler.connect_async()
            except Exception as exc:
                self.state = "error"
                self.detail = f"socket mode: {exc}"
                raise
            self.detail = "socket mode"
        else:
            self.detail = f"http {EVENTS_PATH}"
        self.state = "ready"

    async def stop(self) -> None:
        """Requests are refused from now on (503); the work in hand gets up to 3 s, what
        is left waits in the inbox for the next process."""
        self.state = "stopping"
        await self.settle(within=3)
        for task in list(self._tasks):
            task.cancel()
        if self.socket_handler is not None:
            with contextlib.suppress(Exception):
                await self.socket_handler.close_async()
            self.socket_handler = None
        if self._session is not None:
            await self._session.close()
            self._session = None
            self.client.session = None
        self.state = "stopped"

    async def settle(self, within: float = 10.0) -> None:
        """Wait until the work started by acknowledged requests is done (tests, stop)."""
        deadline = time.monotonic() + within
        while self._tasks:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            await asyncio.wait(list(self._tasks), timeout=left)

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("slack: handling a request failed")

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ listeners

    def _register(self) -> None:
        """Every request is stored (``Port.received``) by a middleware, before Bolt
        acknowledges it (events are acknowledged before their listener runs); the work
        runs after the ack, in a task, and marks it handled. A retry of a stored request
        is only acknowledged."""
        app = self.app
        app.middleware(self._store)

        @app.command(re.compile(r"^/"))
        async def on_command(ack: Any, body: dict[str, Any], context: Any) -> None:
            await ack()
            self._spawn(self._stored("command", context.get(INBOX_KEY), body))

        @app.action(re.compile("^" + re.escape(ACTION_PREFIX)))
        async def on_action(ack: Any, body: dict[str, Any], context: Any) -> None:
            await ack()
            self._spawn(self._stored("action", context.get(INBOX_KEY), body))

        @app.view(FORM_CALLBACK)
        async def on_view(ack: Any, body: dict[str, Any], context: Any) -> None:
            await ack()
            self._spawn(self._stored("view", context.get(INBOX_KEY), body))

        @app.event("message")
        async def on_message(ack: Any, body: dict[str, Any], context: Any) -> None:
            await ack()
            self._spawn(self._stored("message", context.get(INBOX_KEY), body))

        @app.event(re.compile(".*"))
        async def on_other_event(ack: Any) -> None:
            await ack()  # acknowledged so Slack does not retry; nothing to do

    @staticmethod
    def _inbox_key(body: dict[str, Any]) -> tuple[str, str] | None:
        """What a request is and the key it is stored by; None for what is not stored
        (url_verification, events other than messages)."""
        kind = body.get("type")
        if body.get("command"):
            key = body.get("trigger_id")
            return ("command", str(key)) if key else None
        if kind == "block_actions":
            first = (body.get("actions") or [{}])[0]
            return "action", f"{body.get('trigger_id') or ''}:{first.get('action_ts', '')}"
        if kind == "view_submission":
            view = body.get("view") or {}
            return "view", f"view:{view.get('id') or ''}:{body.get('trigger_id') or ''}"
        if kind == "event_callback" and (body.get("event") or {}).get("type") == "message":
            key = body.get("event_id")
            return ("message", str(key)) if key else None
        return None

    async def _store(self, req: Any, resp: Any, next: Any) -> Any:
        """Bolt middleware: store, or answer a retry of a stored request with a bare ack.
        When the database cannot be reached the person is told so within Slack's 3 s
        (an event gets 500: Slack sends it again)."""
        from slack_bolt.response import BoltResponse

        body = req.body if isinstance(req.body, dict) else {}
        found = self._inbox_key(body)
        if found is None:
            return await next()
        kind, key = found
        try:
            fresh = await self.port.received(self.platform, [(key, {"kind": kind, "body": body})])
        except Exception as exc:
            log.warning("slack: %s %s not stored: %r", kind, key, exc)
            if kind == "message":
                return BoltResponse(status=500, body="")
            text = self._unreachable(body)
            if kind == "command":  # shown to the person alone
                return BoltResponse(
                    status=200,
                    body=json.dumps({"response_type": "ephemeral", "text": text}),
                    headers={"content-type": "application/json"},
                )
            self._spawn(self._tell(body, text))
            return BoltResponse(status=200, body="")
        if key not in fresh:
            return BoltResponse(status=200, body="")
        req.context[INBOX_KEY] = key
        return await next()

    def _unreachable(self, body: dict[str, Any]) -> str:
        user = body.get("user")
        locale = user.get("locale") if isinstance(user, dict) else None
        return translator(self.port.locale_for(locale)).gettext(
            N_(
                "My database is not answering right now, so nothing was changed. "
                "Please try again in a minute."
            )
        )

    async def _tell(self, body: dict[str, Any], text: str) -> None:
        """The person alone, without the database: the response_url, or (a form has
        none) a direct message."""
        url = body.get("response_url")
        user = body.get("user")
        if url:
            hook = AsyncWebhookClient(str(url), session=self._session)
            await hook.send(text=text, response_type="ephemeral", replace_original=False)
        elif isinstance(user, dict) and user.get("id"):
            await self.client.chat_postMessage(channel=str(user["id"]), text=text)

    async def _stored(self, kind: str, key: str | None, body: dict[str, Any]) -> None:
        await self.run_stored(key, self._work(kind, body))

    async def _work(self, kind: str, body: dict[str, Any]) -> None:
        if kind == "command":
            await self._command(body)
        elif kind == "action":
            await self._action(body)
        elif kind == "view":
            await self._submit(body)
        elif kind == "message":
            await self._message(body)

    async def redeliver(self, key: str, payload: dict[str, Any]) -> None:
        """Slack's response_url stays good for half an hour: a resumed request is
        answered as it would have been."""
        await self._work(str(payload.get("kind")), dict(payload.get("body") or {}))

    # ------------------------------------------------------------------ incoming

    def _channel_ref(self, conversation: str, user_id: str) -> ChannelRef:
        if conversation.startswith("D"):
            return ChannelRef(platform="slack", chat=user_id, dm=True)
        return ChannelRef(platform="slack", chat=conversation)

    async def _origin(
        self, body: dict[str, Any], conversation: str, user_id: str, channel_name: str | None
    ) -> tuple[_Origin, AccountRef]:
        user_name = (
            body.get("user_name")
            or (body.get("user") or {}).get("username")
            or (body.get("user") or {}).get("name")
            or ""
        )
        account = await self._account(user_id, str(user_name))
        channel = self._channel_ref(conversation, user_id)
        name = None if channel.dm else await self._channel_name(conversation, channel_name)
        origin = _Origin(
            channel=channel,
            conversation=conversation,
            user_id=user_id,
            locale=self.port.locale_for(account.locale),
            response_url=body.get("response_url") or None,
            trigger_id=body.get("trigger_id") or None,
            channel_name=name,
        )
        return origin, account

    async def _command(self, body: dict[str, Any]) -> None:
        name = str(body.get("command", "")).lstrip("/").lower()
        name = _FROM_ALIAS.get(name, name)
        args = from_slack(str(body.get("text") or "")).strip()
        origin, account = await self._origin(
            body,
            str(body.get("channel_id", "")),
            str(body.get("user_id", "")),
            body.get("channel_name"),
        )
        sub = FORM_COMMANDS.get(name, "-")
        if sub != "-" and args.lower() == (sub or "") and origin.trigger_id:
            form = FormRequest(command=name, subcommand=sub)
            if await self._open_form(origin, form):
                return
        replies = await self.port.handle(
            Invocation(
                channel=origin.channel,
                account=account,
                command=name,
                args=args,
                event_id=body.get("trigger_id") or None,
                channel_name=origin.channel_name,
            )
        )
        await self._answer(origin, replies)

    async def _action(self, body: dict[str, Any]) -> None:
        user_id = str((body.get("user") or {}).get("id", ""))
        channel = body.get("channel") or {}
        container = body.get("container") or {}
        conversation = str(channel.get("id") or container.get("channel_id") or "")
        origin, account = await self._origin(body, conversation, user_id, channel.get("name"))
        message_ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
        for action in body.get("actions") or []:
            token = action.get("value")
            if not token:
                continue
            event = f"{body.get('trigger_id') or ''}:{action.get('action_ts', '')}"
            replies = await self.port.press(
                ActionPress(
                    channel=origin.channel,
                    account=account,
                    token=str(token),
                    message_id=message_ts,
                    event_id=event if event != ":" else None,
                    channel_name=origin.channel_name,
                )
            )
            await self._answer(origin, replies)
            origin.trigger_id = None  # one modal per trigger

    async def _submit(self, body: dict[str, Any]) -> None:
        view = body.get("view") or {}
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            return
        user_id = str((body.get("user") or {}).get("id", ""))
        origin, account = await self._origin(
            {**body, "trigger_id": None}, str(meta.get("ch", "")), user_id, meta.get("n")
        )
        command, sub = str(meta.get("c", "")), meta.get("s")
        params = _form_params(self.port, command, sub) or []
        state = (view.get("state") or {}).get("values") or {}
        prefill = meta.get("p") or {}
        shown = set(meta.get("f") or [p.name for p in params])
        had_value = set(meta.get("i") or [])
        values: dict[str, Any] = {}
        for p in params:
            if p.name in prefill:
                values[p.name] = prefill[p.name]
            elif p.name in shown:
                value = _form_value(p, state)
                # Slack leaves out an input emptied by the person: that clears the field
                values[p.name] = "" if value is None and p.name in had_value else value
        replies = await self.port.handle(
            Invocation(
                channel=origin.channel,
                account=account,
                command=command,
                args=sub or "",
                event_id=f"view:{view.get('id') or body.get('trigger_id')}",
                channel_name=origin.channel_name,
                options={k: v for k, v in values.items() if v is not None},
            )
        )
        await self._answer(origin, replies)

    async def _channel_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """A message in a channel, or its edit or deletion: for the relay. The bot's own
        (``bot_id``) are never relayed back."""
        conversation = str(event.get("channel") or "")
        # one channel's messages one after the other, as they arrived (the relay keeps
        # their order); Slack's events are handled in tasks of their own
        async with self._channel_locks.setdefault(conversation, asyncio.Lock()):
            await self._channel_event(body, event, conversation)

    async def _channel_event(
        self, body: dict[str, Any], event: dict[str, Any], conversation: str
    ) -> None:
        channel = ChannelRef(platform="slack", chat=conversation)
        subtype = event.get("subtype")
        if subtype == "message_changed":
            changed = event.get("message") or {}
            if changed.get("bot_id") or not changed.get("user") or not changed.get("ts"):
                return
            text = from_slack(str(changed.get("text") or ""))
            await self.port.message_edited(channel, str(changed["ts"]), text)
            return
        if subtype == "message_deleted":
            if event.get("deleted_ts"):
                await self.port.message_deleted(channel, str(event["deleted_ts"]))
            return
        if subtype not in (None, "file_share", "thread_broadcast"):
            return
        if event.get("bot_id") or not event.get("user") or not event.get("ts"):
            return
        account = await self._account(str(event["user"]), "")
        thread = event.get("thread_ts")
        links = [str(f.get("permalink") or "") for f in event.get("files") or []]
        text = "\n".join([from_slack(str(event.get("text") or "")), *filter(None, links)])
        mentions = []
        for hit in _USER_MENTION.finditer(text):
            who = await self._account(hit.group(1), hit.group(2) or "")
            mentions.append(
                Mentioned(fragment=hit.group(0), user_id=hit.group(1), name=who.display_name)
            )
        await self.port.message_posted(
            ChatPost(
                channel=channel,
                account=account,
                message_id=str(event["ts"]),
                text=text.strip(),  # files as their links
                reply_to=str(thread) if thread and thread != event["ts"] else None,
                event_id=body.get("event_id") or None,
                mentions=tuple(mentions),
            )
        )

    async def _message(self, body: dict[str, Any]) -> None:
        event = body.get("event") or {}
        if event.get("channel_type") in ("channel", "group"):
            await self._channel_message(body, event)
            return
        if (
            event.get("channel_type") != "im"
            or event.get("subtype")
            or event.get("bot_id")
            or not event.get("user")
            or event.get("thread_ts")
        ):
            return
        user_id = str(event["user"])
        self._dm[user_id] = str(event.get("channel", ""))
        account = await self._account(user_id, "")
        channel = ChannelRef(platform="slack", chat=user_id, dm=True)
        replies = await self.port.handle_text(
            channel,
            account,
            from_slack(str(event.get("text") or "")),
            event_id=body.get("event_id") or None,
        )
        for message in replies:
            await self._direct(channel, message.model_copy(update={"ephemeral": False}))

    # ------------------------------------------------------------------ answering

    async def _answer(self, origin: _Origin, replies: list[Message]) -> None:
        for message in replies:
            if message.form is not None and origin.trigger_id:
                opened = await self._open_form(origin, message.form)
                origin.trigger_id = None
                if opened:
                    continue
            if message.ephemeral:
                await self._ephemeral(origin, message)
            else:
                await self._public(origin, message)

    async def _open_form(self, origin: _Origin, form: FormRequest) -> bool:
        meta = {"ch": origin.conversation, "n": origin.channel_name}
        view = build_view(self.port, form, origin.locale, meta)
        if view is None or not origin.trigger_id:
            return False
        try:
            await self._api(lambda: self.client.views_open(trigger_id=origin.trigger_id, view=view))
        except DeliveryError as exc:
            log.info("slack: could not open the form for /%s: %s", form.command, exc)
            return False
        return True

    async def _ephemeral(self, origin: _Origin, message: Message) -> None:
        """Only the person sees it: the response_url, else chat.postEphemeral, else a DM."""
        if message.file is not None or origin.channel.dm:
            dm = ChannelRef(platform="slack", chat=origin.user_id, dm=True)
            await self._direct(dm, message.model_copy(update={"ephemeral": False}))
            if message.file is not None and not origin.channel.dm:
                t = translator(origin.locale)
                note = Message(
                    parts=(Text(text=t.gettext(N_("I sent you the file in a private message."))),),
                    ephemeral=True,
                )
                await self._ephemeral(origin, note)
            return
        pending = render_all(message, self._encoder(origin.channel, origin.user_id))
        if origin.response_url:
            hook = AsyncWebhookClient(origin.response_url, session=self._session)
            try:
                while pending:
                    text, blocks = pending[0]
                    resp = await hook.send(
                        text=text, blocks=blocks, response_type="ephemeral", replace_original=False
                    )
                    if resp.status_code != 200:
                        log.info(
                            "slack: response_url answered %s; using chat.postEphemeral",
                            resp.status_code,
                        )
                        break
                    pending.pop(0)
                if not pending:
                    return
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.info("slack: response_url failed (%r); using chat.postEphemeral", exc)
        dm = ChannelRef(platform="slack", chat=origin.user_id, dm=True)
        try:
            for text, blocks in list(pending):
                await self._api(
                    functools.partial(
                        self.client.chat_postEphemeral,
                        channel=origin.conversation,
                        user=origin.user_id,
                        text=text,
                        blocks=blocks,
                        link_names=False,
                    )
                )
                pending.pop(0)
        except RetryLater as exc:  # it waits in the outbox, privately
            await self.port.defer(dm, message.model_copy(update={"ephemeral": False}), exc.after)
        except ChannelGone:
            # not a member of that (private) channel: the person gets it privately
            await self._direct(dm, message.model_copy(update={"ephemeral": False}))
        except DeliveryError as exc:
            log.warning(
                "slack: could not answer %s in %s: %s", origin.user_id, origin.conversation, exc
            )

    async def _public(self, origin: _Origin, message: Message) -> None:
        """For everybody here: chat.postMessage; where the bot may not post, the
        slash command's response_url in the channel. Over the channel's allowance, it
        waits in the outbox until there is room."""
        wait = await self.port.allowance(origin.channel)
        if wait > 0:
            await self.port.defer(origin.channel, message, wait)
            return
        try:
            try:
                await self._api(lambda: self.send(origin.channel, message))
            finally:
                await self.port.sent(origin.channel)
            return
        except RetryLater as exc:
            await self.port.defer(origin.channel, message, exc.after)
            return
        except ChannelGone as exc:
            if not origin.response_url:
                log.warning("slack: cannot post in %s: %s", origin.conversation, exc)
                return
        except DeliveryError as exc:
            log.warning("slack: could not post in %s: %s", origin.conversation, exc)
            return
        hook = AsyncWebhookClient(origin.response_url, session=self._session)
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            for text, blocks in render_all(message, self._encoder(origin.channel)):
                await hook.send(
                    text=text, blocks=blocks, response_type="in_channel", replace_original=False
                )

    def _encoder(self, channel: ChannelRef, person: str | None = None) -> Callable[[Any], str]:
        """Button tokens for a message shown in ``channel`` (valid only there; with
        ``person``, an ephemeral message: only for them)."""
        return functools.partial(self.port.encode_button, channel=channel, person=person)

    async def _direct(self, channel: ChannelRef, message: Message) -> None:
        """A private answer now; rate-limited, it waits in the outbox; refused, it is held
        for the person (never shown elsewhere)."""
        wait = await self.port.allowance(channel)
        if wait > 0:
            await self.port.defer(channel, message, wait)
            return
        try:
            try:
                await self._api(lambda: self.send(channel, message))
            finally:
                await self.port.sent(channel)
        except RetryLater as exc:
            await self.port.defer(channel, message, exc.after)
        except ChannelGone as exc:
            if channel.dm:
                account = AccountRef(platform="slack", user_id=channel.chat)
                await self.port.hold_private(account, message)
            log.warning("slack: could not send to %s: %s", channel.key, exc)
        except DeliveryError as exc:
            log.warning("slack: could not send to %s: %s", channel.key, exc)
            await self.port.defer(channel, message, 5.0)

    @staticmethod
    async def _api(call: Callable[[], Awaitable[T]]) -> T:
        """Slack's errors as the outbox understands them."""
        try:
            return await call()
        except SlackApiError as exc:
            raise _delivery_error(exc) from None
        except (aiohttp.ClientError, TimeoutError, SlackRequestError) as exc:
            raise DeliveryError(f"slack: {exc!r}") from exc

    # ------------------------------------------------------------------ names

    async def _account(self, user_id: str, fallback_name: str) -> AccountRef:
        cached = self._users.get(user_id)
        if cached is None or cached[0] < time.monotonic():
            name, locale, avatar = fallback_name, None, None
            try:
                resp = await self.client.users_info(user=user_id, include_locale=True)
                user = resp.get("user") or {}
                profile = user.get("profile") or {}
                name = (
                    profile.get("display_name")
                    or profile.get("real_name")
                    or user.get("real_name")
                    or user.get("name")
                    or fallback_name
                )
                locale = user.get("locale")
                avatar = profile.get("image_72") or None
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
                log.info("slack: users.info %s failed: %s", user_id, exc)
            cached = (time.monotonic() + CACHE_TTL, str(name or user_id), locale, avatar)
            self._users[user_id] = cached
        return AccountRef(
            platform="slack",
            user_id=user_id,
            display_name=cached[1],
            locale=cached[2],
            avatar_url=cached[3],
        )

    async def _channel_name(self, conversation: str, hint: str | None) -> str:
        if hint and hint not in ("privategroup", "directmessage", "mpdm"):
            self._channel_names[conversation] = (time.monotonic() + CACHE_TTL, hint)
            return f"#{hint}"
        cached = self._channel_names.get(conversation)
        if cached is None or cached[0] < time.monotonic():
            name = conversation
            try:
                resp = await self.client.conversations_info(channel=conversation)
                name = (resp.get("channel") or {}).get("name") or conversation
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
                log.info("slack: conversations.info %s failed: %s", conversation, exc)
            cached = (time.monotonic() + CACHE_TTL, str(name))
            self._channel_names[conversation] = cached
        return f"#{cached[1]}"

    async def _conversation(self, channel: ChannelRef) -> str:
        """The conversation id to post to: a DM is opened first (and remembered)."""
        if not channel.dm:
            return channel.chat
        known = self._dm.get(channel.chat)
        if known:
            return known
        resp = await self._api(lambda: self.client.conversations_open(users=channel.chat))
        conversation = str((resp.get("channel") or {}).get("id") or "")
        if not conversation:
            raise DeliveryError("slack: conversations.open returned no channel")
        self._dm[channel.chat] = conversation
        return conversation

    # ------------------------------------------------------------------ outgoing

    async def send(self, channel: ChannelRef, message: Message) -> str:
        conversation = await self._conversation(channel)
        thread = message.reply_to.split()[0] if message.reply_to else channel.thread or None
        ts = ""
        if message.parts or message.buttons or message.file is None:
            delivery = message.delivery_id
            # chat:write.customize: a relayed message under its author's name
            username = _username(message.author) if message.author is not None else None
            icon = message.author.avatar_url if message.author is not None else None

            async def post(numbered: tuple[int, tuple[str, list[dict[str, Any]]]]) -> str:
                i, (text, blocks) = numbered
                metadata = None
                if delivery:
                    metadata = {
                        "event_type": DELIVERY_EVENT,
                        "event_payload": {"delivery": delivery, "part": i},
                    }
                resp = await self._api(
                    lambda: self.client.chat_postMessage(
                        channel=conversation,
                        text=text,
                        blocks=blocks,
                        thread_ts=thread,
                        unfurl_links=False,
                        unfurl_media=False,
                        link_names=False,
                        metadata=metadata,
                        username=username,
                        icon_url=icon,
                    )
                )
                return str(resp.get("ts") or "")

            parts = render_all(message, self._encoder(channel))
            if delivery and message.resend and delivery not in self._parts_done:
                found = await self._posted_before(conversation, thread, delivery)
                if found:
                    self._parts_done[delivery] = found
            ts = await self.send_parts(delivery, list(enumerate(parts)), post, channel)
        if message.file is not None:
            attached = message.file
            resp = await self._api(
                lambda: self.client.files_upload_v2(
                    channel=conversation,
                    content=attached.content,
                    filename=attached.name,
                    title=attached.name,
                    thread_ts=thread,
                )
            )
            if not ts:
                ts = str((resp.get("file") or {}).get("id") or "")
        return ts

    async def _posted_before(
        self, conversation: str, thread: str | None, delivery: str
    ) -> list[str]:
        """The parts of a delivery that already arrived (an earlier attempt's worker died
        before recording them): looked up by their metadata among the channel's or the
        thread's latest messages. Empty when none did, or when the lookup fails (then the
        message may show twice: the one window left, see docs/DEVELOPING.md)."""
        try:
            if thread:
                resp = await self._api(
                    lambda: self.client.conversations_replies(
                        channel=conversation, ts=thread, limit=200, include_all_metadata=True
                    )
                )
            else:
                resp = await self._api(
                    lambda: self.client.conversations_history(
                        channel=conversation, limit=50, include_all_metadata=True
                    )
                )
        except RetryLater:
            raise
        except DeliveryError as exc:
            log.warning("slack: cannot look for an earlier copy in %s: %s", conversation, exc)
            return []
        parts: dict[int, str] = {}
        for item in resp.get("messages") or []:
            meta = item.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") == DELIVERY_EVENT and payload.get("delivery") == delivery:
                parts[int(payload.get("part") or 0)] = str(item.get("ts") or "")
        found: list[str] = []
        while len(found) in parts:  # the parts in order, up to the first missing one
            found.append(parts[len(found)])
        return found

    async def delete(self, channel: ChannelRef, message_id: str) -> None:
        conversation = await self._conversation(channel)
        for ts in split_ids(message_id):
            try:
                await self._api(
                    functools.partial(self.client.chat_delete, channel=conversation, ts=ts)
                )
            except (ChannelGone, RetryLater):
                raise
            except DeliveryError as exc:  # already gone is no error
                if "message_not_found" not in str(exc):
                    raise

    async def edit(self, channel: ChannelRef, message_id: str, message: Message) -> str | None:
        conversation = await self._conversation(channel)
        parts = render_all(message, self._encoder(channel))
        old = split_ids(message_id)

        async def edit_one(i: int, ts: str) -> None:
            text, blocks = parts[i]
            await self._api(
                lambda: self.client.chat_update(
                    channel=conversation, ts=ts, text=text, blocks=blocks, link_names=False
                )
            )

        async def send_one(i: int) -> str:
            text, blocks = parts[i]
            resp = await self._api(
                lambda: self.client.chat_postMessage(
                    channel=conversation,
                    text=text,
                    blocks=blocks,
                    thread_ts=channel.thread or None,
                    unfurl_links=False,
                    unfurl_media=False,
                    link_names=False,
                )
            )
            return str(resp.get("ts") or "")

        async def delete_one(ts: str) -> None:
            with contextlib.suppress(DeliveryError):
                await self._api(lambda: self.client.chat_delete(channel=conversation, ts=ts))

        ids = await edit_parts(old, len(parts), edit_one, send_one, delete_one)
        return join_ids(ids) if ids != old else None


def _username(author: Author) -> str:
    """A relayed message's name in Slack: the author and their platform (so nobody can
    pose as a member here), 80 characters at most, no mention or formatting."""
    name = " ".join(author.name.replace("<", "").replace(">", "").replace("@", "").split())
    suffix = f" ({author.platform})"
    return (name[: 80 - len(suffix)] or "?") + suffix


def _delivery_error(exc: SlackApiError) -> DeliveryError:
    response = exc.response
    error = str(response.get("error") or "") if response is not None else ""
    status = getattr(response, "status_code", 200)
    if status == 429 or error in ("ratelimited", "rate_limited"):
        headers = getattr(response, "headers", {}) or {}
        raw = headers.get("Retry-After") or headers.get("retry-after") or "1"
        if isinstance(raw, list):
            raw = raw[0]
        try:
            after = max(float(raw), 0.0)
        except ValueError:
            after = 1.0
        return RetryLater(after, f"slack: {status} {error or 'Too Many Requests'}")
    if error in GONE_ERRORS:
        return ChannelGone(error)
    if error in LOST_MESSAGE_ERRORS:
        return ChannelGone(error)
    return DeliveryError(f"slack: {error or status}")


# ---------------------------------------------------------------------- manifest


def _usage_hint(cmd: Any) -> str:
    usages = cmd.usages()
    hints = [u.removeprefix(f"/{cmd.name}").strip() for u in usages]
    return _clip(" | ".join(h for h in hints if h), 1000)


def build_manifest(config: Config) -> dict[str, Any]:
    """The Slack app manifest: every registered command, the scopes, the request URLs."""
    from bridge.registry import registry

    reg = registry.load()
    t = translator(config.community.locale)
    socket = bool(config.section("slack").app_token)
    url = config.http.public_url.rstrip("/") + EVENTS_PATH
    commands = []
    for cmd in reg.visible():
        entry: dict[str, Any] = {
            "command": f"/{SLACK_ALIASES.get(cmd.name, cmd.name)}"[:32],
            "description": _clip(t.gettext(cmd.help), 2000) or cmd.name,
            "should_escape": True,
        }
        hint = _usage_hint(cmd)
        if hint:
            entry["usage_hint"] = hint
        if not socket:
            entry["url"] = url
        commands.append(entry)
    name = _clip(config.community.name, 35) or "community-bridge"
    settings: dict[str, Any] = {
        "event_subscriptions": {"bot_events": list(BOT_EVENTS)},
        "interactivity": {"is_enabled": True},
        "org_deploy_enabled": False,
        "socket_mode_enabled": socket,
        "token_rotation_enabled": False,
    }
    if not socket:
        settings["event_subscriptions"]["request_url"] = url
        settings["interactivity"]["request_url"] = url
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": _clip(
                t.gettext(
                    N_(
                        "Ideas, questions and surveys of the "
                        "community, shared across chat platforms."
                    )
                ),
                140,
            ),
        },
        "features": {
            "app_home": {
                "home_tab_enabled": False,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {
                "display_name": _clip(config.community.name, 80) or "community-bridge",
                "always_online": True,
            },
            "slash_commands": commands,
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": settings,
    }


def print_manifest(config: Config, args: argparse.Namespace | None = None) -> int:
    """``community-bridge slack-manifest``: the manifest as JSON on stdout; refused when
    its request URLs would not be accepted by Slack (HTTP mode without https)."""
    if not config.section("slack").app_token:
        refused = manifest_url_refusal(config)
        if refused:
            print(f"error: {refused}", file=sys.stderr)
            print(
                "  set http.public_url to the bot's public https address, or use Socket Mode "
                "([slack] app_token)",
                file=sys.stderr,
            )
            return 2
    print(json.dumps(build_manifest(config), indent=2, ensure_ascii=False))
    return 0


ADAPTER = SlackAdapter
