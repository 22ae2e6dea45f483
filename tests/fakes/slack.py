"""A fake Slack on 127.0.0.1: the Web API methods the bot calls, a response_url sink, a
Socket Mode websocket, and a sender of correctly signed requests to the bot's
``/slack/events`` (slash commands, block_actions, view_submission, events).

    fake = await FakeSlack().start()
    bridge = await make_bridge(slack={"bot_token": fake.token, "signing_secret": fake.secret,
                                      "api_url": fake.api_url})
    ...
    user = fake.sender(f"http://127.0.0.1:{port}/slack/events")
    status = await user.command("/link", "ideas", user="UADMIN", channel="C1")

Errors follow Slack: HTTP 200 with ``{"ok": false, "error": ...}``; a rate limit (about
one message a second per channel, enforced by default, or a scripted one) answers 429 with
``Retry-After``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
from aiohttp import web

from tests.fakes.allowance import Allowance, Rule, scaled

__all__ = ["FakeSlack", "Script", "SlackSender", "buttons", "shown"]

CHANNEL_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral")
#: what Slack lets a bot post: about one message a second per channel (chat.postMessage's
#: special limit; the fake counts the bot's edits of a channel's messages with it)
SLACK_RULES = (Rule(1, 1.0),)
LIMITED_METHODS = ("chat.postMessage", "chat.update")


@dataclass
class Script:
    """A scripted answer for the next ``times`` calls of ``method`` (matching ``when``)."""

    method: str
    error: str = ""
    status: int = 200
    retry_after: int | None = None
    times: int = 1
    when: Callable[[dict[str, Any]], bool] | None = None


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    answered: int = 200


@dataclass
class Posted:
    """A message as Slack stores it (chat.postMessage, then chat.update)."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    edits: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    #: the name it is shown under (``username``, chat:write.customize), else the bot's
    username: str | None = None
    icon_url: str | None = None

    def as_history(self, with_metadata: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "message",
            "ts": self.ts,
            "text": self.text,
            "blocks": self.blocks,
            "bot_id": "BBOT",
        }
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if with_metadata and self.metadata:
            out["metadata"] = self.metadata
        return out

    @property
    def shown(self) -> str:
        return shown(self.blocks, self.text)

    @property
    def buttons(self) -> list[tuple[str, str]]:
        return buttons(self.blocks)


def shown(blocks: list[dict[str, Any]] | None, text: str = "") -> str:
    """The raw mrkdwn a person sees: section and context texts, one block per line."""
    if not blocks:
        return text
    lines = []
    for block in blocks:
        if block.get("type") == "section":
            lines.append(block["text"]["text"])
        elif block.get("type") == "context":
            lines.extend(e.get("text", "") for e in block.get("elements", []))
    return "\n".join(lines)


def buttons(blocks: list[dict[str, Any]] | None) -> list[tuple[str, str]]:
    """(label, value) of every button."""
    out = []
    for block in blocks or []:
        if block.get("type") == "actions":
            for element in block.get("elements", []):
                if element.get("type") == "button":
                    out.append((element["text"]["text"], element.get("value", "")))
    return out


def _json_field(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


TRIGGER_TTL = 3.0
SECTION_TEXT = 3000
MESSAGE_BLOCKS = 50
MODAL_BLOCKS = 100
BLOCKS_TEXT = 12_000  # reported by Slack staff (bolt-js 2509, 2867): msg_blocks_too_long
BUTTON_TEXT = 75
ACTION_ID = 255
BUTTON_VALUE = 2000
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25


def _text_object(obj: Any, limit: int, kinds: tuple[str, ...] = ("mrkdwn", "plain_text")) -> bool:
    return (
        isinstance(obj, dict)
        and obj.get("type") in kinds
        and isinstance(obj.get("text"), str)
        and 1 <= len(obj["text"]) <= limit
    )


def block_errors(blocks: Any, most: int = MESSAGE_BLOCKS) -> list[str]:
    """What Slack's Block Kit validation says of ``blocks`` (empty: valid)."""
    if not isinstance(blocks, list):
        return ["blocks must be an array"]
    errors: list[str] = []
    if len(blocks) > most:
        errors.append(
            f"must provide an array with no more than {most} items [json-pointer:/blocks]"
        )
    action_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"[json-pointer:/blocks/{i}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "section":
            if not _text_object(block.get("text"), SECTION_TEXT):
                errors.append(f"must be less than {SECTION_TEXT + 1} characters {where}/text")
        elif kind == "context":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= CONTEXT_ELEMENTS or not all(
                _text_object(e, SECTION_TEXT) for e in elements
            ):
                errors.append(f"invalid context elements {where}/elements")
        elif kind == "actions":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= ACTIONS_ELEMENTS:
                errors.append(f"must provide 1-{ACTIONS_ELEMENTS} elements {where}/elements")
            for j, element in enumerate(elements):
                at = f"{where}/elements/{j}"
                if element.get("type") != "button":
                    errors.append(f"unsupported element {at}")
                    continue
                if not _text_object(element.get("text"), BUTTON_TEXT, ("plain_text",)):
                    errors.append(f"must be less than {BUTTON_TEXT + 1} characters {at}/text")
                action_id = str(element.get("action_id") or "")
                if not action_id or len(action_id) > ACTION_ID:
                    errors.append(f"invalid action_id {at}/action_id")
                elif action_id in action_ids:
                    errors.append(f"action_id must be unique within the message {at}/action_id")
                action_ids.add(action_id)
                if len(str(element.get("value") or "")) > BUTTON_VALUE:
                    errors.append(f"must be less than {BUTTON_VALUE + 1} characters {at}/value")
        elif kind == "input":
            if not _text_object(block.get("label"), 2000, ("plain_text",)):
                errors.append(f"invalid label {where}/label")
            element = block.get("element") or {}
            initial = element.get("initial_value")
            if initial is not None and len(str(initial)) > 3000:
                errors.append(f"must be less than 3001 characters {where}/element/initial_value")
        elif kind not in ("divider", "header", "image"):
            errors.append(f"unsupported block type {where}")
    return errors


def _blocks_text(blocks: list[Any]) -> int:
    total = 0
    for block in blocks:
        if not isinstance(block, dict):
            continue
        text = block.get("text")
        if isinstance(text, dict):
            total += len(str(text.get("text", "")))
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("type") in ("mrkdwn", "plain_text"):
                total += len(str(element.get("text", "")))
    return total


def check_message(args: dict[str, Any]) -> str | None:
    """``invalid_blocks`` or ``msg_blocks_too_long`` as chat.postMessage answers, or None."""
    blocks = args.get("blocks")
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            return "invalid_blocks_format"
    if blocks is None:
        return None
    if block_errors(blocks):
        return "invalid_blocks"
    if _blocks_text(blocks) > BLOCKS_TEXT:
        return "msg_blocks_too_long"
    return None


def check_view(view: Any) -> str | None:
    """views.open's refusals of a modal: ``invalid_arguments`` with Slack's limits."""
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError:
            return "invalid_arguments"
    if not isinstance(view, dict) or view.get("type") != "modal":
        return "invalid_arguments"
    for key, limit in (("title", 24), ("submit", 24), ("close", 24)):
        if key in view and not _text_object(view[key], limit, ("plain_text",)):
            return "invalid_arguments"
    if len(str(view.get("private_metadata") or "")) > 3000:
        return "invalid_arguments"
    if block_errors(view.get("blocks"), MODAL_BLOCKS):
        return "invalid_arguments"
    return None


class FakeSlack:
    """The Slack Web API as far as the bot uses it, recording every call."""

    def __init__(
        self,
        token: str = "xoxb-test",
        secret: str = "s3cret",
        app_token: str = "xapp-test",
        speed: int = 1,
    ) -> None:
        self.token = token
        self.secret = secret
        self.app_token = app_token
        self.calls: list[Call] = []
        self.messages: list[Posted] = []
        self.deleted: list[Posted] = []
        self.ephemerals: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []
        #: response_url key → set when its first answer arrives (``answered``)
        self._answered: dict[str, asyncio.Event] = {}
        self.views: list[dict[str, Any]] = []
        self.files: list[dict[str, Any]] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.channel_errors: dict[str, str] = {}
        self.members: dict[str, set[str]] = {}
        self.bot_absent: set[str] = set()
        #: response_url key -> (issued at, uses): Slack allows 5 uses within 30 minutes
        self.response_keys: dict[str, tuple[float, int]] = {}
        #: trigger_id -> issued at; a trigger opens one view, within 3 seconds
        self.triggers: dict[str, float] = {}
        self.used_triggers: set[str] = set()
        self.scripts: list[Script] = []
        #: Slack's posting limit, enforced unless a test lifts it (``allowance = None``)
        self.allowance: Allowance | None = Allowance(scaled(SLACK_RULES, speed))
        self.socket_acks: list[dict[str, Any]] = []
        self._sockets: list[web.WebSocketResponse] = []
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._uploads: dict[str, dict[str, Any]] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------------ server

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/response/{key}", self._response)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ scripting

    def fail(
        self,
        method: str,
        error: str,
        times: int = 1,
        when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        self.scripts.append(Script(method, error=error, times=times, when=when))

    def rate_limit(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        self.scripts.append(
            Script(method, error="ratelimited", status=429, retry_after=retry_after, times=times)
        )

    def add_user(
        self, user_id: str, name: str, locale: str = "en-US", display_name: str | None = None
    ) -> None:
        self.users[user_id] = {
            "id": user_id,
            "name": name.lower(),
            "real_name": name,
            "locale": locale,
            "profile": {
                "display_name": display_name if display_name is not None else name,
                "real_name": name,
                "image_72": f"https://avatars.slack-edge.com/{user_id}_72.png",
            },
        }

    def add_channel(
        self,
        channel_id: str,
        name: str,
        private: bool = False,
        members: set[str] | None = None,
        bot_member: bool = True,
    ) -> None:
        """A channel; ``members`` (when given) are its users, and the bot is in it unless
        ``bot_member`` is false (Slack hides a private channel from a bot not in it)."""
        self.channels[channel_id] = {
            "id": channel_id,
            "name": name,
            "is_private": private,
            "is_channel": not private,
        }
        if members is not None:
            self.members[channel_id] = set(members)
        if not bot_member:
            self.bot_absent.add(channel_id)

    def expire_response_urls(self) -> None:
        """Every response_url issued so far is past its 30 minutes."""
        for key in self.response_keys:
            self.response_keys[key] = (
                self.response_keys[key][0] - 1801,
                self.response_keys[key][1],
            )

    def sender(self, events_url: str, secret: str | None = None) -> SlackSender:
        return SlackSender(self, events_url, secret or self.secret)

    # ------------------------------------------------------------------ queries

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.answered == 200]

    def posted(self, channel: str | None = None) -> list[Posted]:
        return [m for m in self.messages if channel is None or m.channel == channel]

    def message(self, channel: str, ts: str) -> Posted:
        for m in self.messages:
            if m.channel == channel and m.ts == ts:
                return m
        raise KeyError((channel, ts))

    async def answered(self, response_url: str, within: float) -> bool:
        """Whether the bot answered through ``response_url`` within ``within`` seconds."""
        event = self._answered.setdefault(response_url.rsplit("/", 1)[-1], asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), within)
        except TimeoutError:
            return False
        return True

    def replies_to(self, response_url: str) -> list[dict[str, Any]]:
        key = response_url.rsplit("/", 1)[-1]
        return [r["payload"] for r in self.responses if r["key"] == key]

    async def wait_for(self, predicate: Callable[[], Any], within: float = 5.0) -> Any:
        """Wait (bounded) until ``predicate()`` is truthy; return its value."""
        deadline = time.monotonic() + within
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError("condition not met within the timeout")
            await asyncio.sleep(0.01)

    # ------------------------------------------------------------------ handlers

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            raw = await request.read()
            ctype = request.content_type
            if ctype == "application/json":
                args.update(json.loads(raw or b"{}"))
            elif raw:
                args.update(dict(parse_qsl(raw.decode(), keep_blank_values=True)))
        return {k: _json_field(v) for k, v in args.items()}

    def _scripted(self, method: str, args: dict[str, Any]) -> Script | None:
        for script in self.scripts:
            if (
                script.method == method
                and script.times > 0
                and (script.when is None or script.when(args))
            ):
                script.times -= 1
                return script
        return None

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        call = Call(method, args)
        self.calls.append(call)
        auth = request.headers.get("Authorization", "")
        expected = self.app_token if method == "apps.connections.open" else self.token
        if auth != f"Bearer {expected}":
            return self._error(call, "invalid_auth")
        script = self._scripted(method, args)
        if script is not None:
            call.answered = script.status
            headers = {} if script.retry_after is None else {"Retry-After": str(script.retry_after)}
            return web.json_response(
                {"ok": False, "error": script.error}, status=script.status, headers=headers
            )
        channel = str(args.get("channel") or args.get("channel_id") or "")
        if self.allowance is not None and method in LIMITED_METHODS and channel:
            wait = self.allowance.check(method, channel)
            if wait > 0:
                call.answered = 429
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(max(1, int(wait + 0.999)))},
                )
        if method in (*CHANNEL_METHODS, "files.completeUploadExternal") and (
            channel in self.channel_errors
        ):
            return self._error(call, self.channel_errors[channel])
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return self._error(call, "unknown_method")
        result = handler(args)
        if isinstance(result, str):
            return self._error(call, result)
        return web.json_response({"ok": True, **result})

    def _error(self, call: Call, error: str) -> web.Response:
        call.answered = 0
        return web.json_response({"ok": False, "error": error})

    def _next_ts(self) -> str:
        n = next(self._ts)
        return f"{1700000000 + n}.{n:06d}"

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://test.slack.com/",
            "team": "Test",
            "user": "bridge",
            "team_id": "T1",
            "user_id": "UBOT",
            "bot_id": "BBOT",
        }

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any] | str:
        channel = str(args.get("channel", ""))
        if not channel:
            return "channel_not_found"
        if not args.get("text") and not args.get("blocks"):
            return "no_text"
        refused = check_message(args)
        if refused:
            return refused
        metadata = args.get("metadata")
        if metadata is not None and (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not isinstance(metadata.get("event_payload"), dict)
        ):
            return "invalid_metadata_format"
        ts = self._next_ts()
        self.messages.append(
            Posted(
                channel=channel,
                ts=ts,
                text=str(args.get("text", "")),
                blocks=list(args.get("blocks") or []),
                thread_ts=args.get("thread_ts") or None,
                metadata=metadata,
                username=args.get("username") or None,
                icon_url=args.get("icon_url") or None,
            )
        )
        return {"channel": channel, "ts": ts, "message": {"ts": ts, "text": args.get("text")}}

    def _m_conversations_history(self, args: dict[str, Any]) -> dict[str, Any] | str:
        """A channel's top-level messages, newest first (``limit``, default 100)."""
        channel = str(args.get("channel", ""))
        if channel not in self.channels and not any(m.channel == channel for m in self.messages):
            return "channel_not_found"
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        limit = int(args.get("limit") or 100)
        top = [
            m
            for m in self.messages
            if m.channel == channel and (m.thread_ts is None or m.thread_ts == m.ts)
        ]
        messages = [m.as_history(with_metadata) for m in reversed(top)][:limit]
        return {"messages": messages, "has_more": len(top) > limit}

    def _m_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any] | str:
        """A thread: its parent, then the replies, oldest first."""
        channel, ts = str(args.get("channel", "")), str(args.get("ts", ""))
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        thread = [
            m for m in self.messages if m.channel == channel and (m.ts == ts or m.thread_ts == ts)
        ]
        if not thread:
            return "thread_not_found"
        return {"messages": [m.as_history(with_metadata) for m in thread], "has_more": False}

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any] | str:
        try:
            posted = self.message(str(args.get("channel")), str(args.get("ts")))
        except KeyError:
            return "message_not_found"
        refused = check_message(args)
        if refused:
            return refused
        posted.edits.append({"text": posted.text, "blocks": posted.blocks})
        posted.text = str(args.get("text", ""))
        posted.blocks = list(args.get("blocks") or [])
        return {"channel": posted.channel, "ts": posted.ts}

    def _m_chat_delete(self, args: dict[str, Any]) -> dict[str, Any] | str:
        channel, ts = str(args.get("channel", "")), str(args.get("ts", ""))
        try:
            posted = self.message(channel, ts)
        except KeyError:
            return "message_not_found"
        self.messages.remove(posted)
        self.deleted.append(posted)
        return {"channel": channel, "ts": ts}

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any] | str:
        if not args.get("user"):
            return "user_not_found"
        refused = check_message(args)
        if refused:
            return refused
        channel = str(args.get("channel", ""))
        if channel in self.bot_absent:
            info = self.channels.get(channel, {})
            return "channel_not_found" if info.get("is_private") else "not_in_channel"
        if channel in self.members and args["user"] not in self.members[channel]:
            return "user_not_in_channel"
        self.ephemerals.append(
            {
                "channel": args.get("channel"),
                "user": args.get("user"),
                "text": args.get("text", ""),
                "blocks": args.get("blocks"),
            }
        )
        return {"message_ts": self._next_ts()}

    def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any] | str:
        users = str(args.get("users", ""))
        if not users or users.startswith("UGONE"):
            return "user_not_found"
        return {"channel": {"id": "D" + users.replace(",", "")}}

    def _m_conversations_info(self, args: dict[str, Any]) -> dict[str, Any] | str:
        channel = self.channels.get(str(args.get("channel", "")))
        if channel is None:
            return "channel_not_found"
        return {"channel": channel}

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any] | str:
        user_id = str(args.get("user", ""))
        if user_id not in self.users:
            if not user_id.startswith(("U", "W")):
                return "user_not_found"
            self.add_user(user_id, user_id.lower())
        return {"user": self.users[user_id]}

    def _m_views_open(self, args: dict[str, Any]) -> dict[str, Any] | str:
        trigger = str(args.get("trigger_id") or "")
        if trigger not in self.triggers:
            return "invalid_trigger_id"
        if trigger in self.used_triggers:
            return "exchanged_trigger_id"
        if time.time() - self.triggers[trigger] > TRIGGER_TTL:
            return "expired_trigger_id"
        view_error = check_view(args.get("view"))
        if view_error:
            return view_error
        self.used_triggers.add(trigger)
        view = dict(args.get("view") or {})
        view["id"] = f"V{next(self._ids)}"
        self.views.append({"trigger_id": args["trigger_id"], "view": view})
        return {"view": view}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any] | str:
        if not args.get("filename") or not args.get("length"):
            return "invalid_arguments"
        file_id = f"F{next(self._ids)}"
        self._uploads[file_id] = {
            "id": file_id,
            "filename": args["filename"],
            "length": int(args["length"]),
            "content": None,
        }
        return {"upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any] | str:
        files = args.get("files") or []
        done = []
        for item in files:
            upload = self._uploads.pop(str(item.get("id")), None)
            if upload is None or upload["content"] is None:
                return "file_not_found"
            upload.update(
                title=item.get("title"),
                channel=args.get("channel_id"),
                thread_ts=args.get("thread_ts") or None,
                initial_comment=args.get("initial_comment"),
            )
            self.files.append(upload)
            done.append({"id": upload["id"], "title": upload["title"], "name": upload["filename"]})
        return {"files": done}

    def _m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"url": f"ws://127.0.0.1:{self.port}/socket"}

    async def _upload(self, request: web.Request) -> web.Response:
        upload = self._uploads.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404, text="no such upload")
        upload["content"] = await request.read()
        return web.Response(text="OK - " + str(len(upload["content"])))

    async def _response(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        issued = self.response_keys.get(key)
        if issued is None or time.time() - issued[0] > 1800:
            return web.Response(status=404, text="expired_url")
        if issued[1] >= 5:
            return web.Response(status=404, text="used_url")
        payload = await request.json()
        refused = check_message(payload)
        if refused:  # Slack answers a response_url's refusal with the error as text
            return web.Response(status=400, text=refused)
        self.response_keys[key] = (issued[0], issued[1] + 1)
        self.responses.append({"key": key, "payload": payload})
        self._answered.setdefault(key, asyncio.Event()).set()
        return web.Response(text="ok")

    # ------------------------------------------------------------------ socket mode

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}}
        )
        try:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    self.socket_acks.append(json.loads(msg.data))
        finally:
            self._sockets.remove(ws)
        return ws

    async def socket_send(self, kind: str, payload: dict[str, Any], retry_attempt: int = 0) -> str:
        """Push an envelope (slash_commands, interactive, events_api); returns its id."""
        ws = await self.wait_for(lambda: self._sockets and self._sockets[-1])
        envelope_id = secrets.token_hex(8)
        await ws.send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": retry_attempt,
                "retry_reason": "",
            }
        )
        return envelope_id


class SlackSender:
    """Slack's side of ``/slack/events``: correctly signed requests, as Slack sends them."""

    def __init__(self, fake: FakeSlack, events_url: str, secret: str) -> None:
        self.fake = fake
        self.events_url = events_url
        self.secret = secret
        self._n = itertools.count(1)
        self.last_response_url = ""

    def new_response_url(self) -> str:
        key = secrets.token_hex(6)
        self.fake.response_keys[key] = (time.time(), 0)
        self.last_response_url = f"{self.fake.url}/response/{key}"
        return self.last_response_url

    def trigger(self) -> str:
        trigger = f"{next(self._n)}.{secrets.token_hex(8)}"
        self.fake.triggers[trigger] = time.time()
        return trigger

    def sign(
        self, body: str, timestamp: int | None = None, secret: str | None = None
    ) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        base = f"v0:{ts}:{body}".encode()
        digest = hmac.new((secret or self.secret).encode(), base, hashlib.sha256).hexdigest()
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        signed: bool = True,
        timestamp: int | None = None,
        secret: str | None = None,
        retry_num: int | None = None,
    ) -> tuple[int, str]:
        sent = {"Content-Type": content_type}
        if signed:
            sent.update(self.sign(body, timestamp, secret))
        if retry_num is not None:
            sent["X-Slack-Retry-Num"] = str(retry_num)
            sent["X-Slack-Retry-Reason"] = "http_timeout"
        sent.update(headers or {})
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.events_url, data=body.encode(), headers=sent) as resp,
        ):
            return resp.status, await resp.text()

    def command_body(
        self,
        command: str,
        text: str = "",
        *,
        user: str = "U1",
        user_name: str = "alice",
        channel: str = "C1",
        channel_name: str = "general",
        trigger_id: str | None = None,
        response_url: str | None = None,
    ) -> str:
        return urlencode(
            {
                "token": "legacy",
                "team_id": "T1",
                "team_domain": "test",
                "channel_id": channel,
                "channel_name": channel_name,
                "user_id": user,
                "user_name": user_name,
                "command": command,
                "text": escape_text(text),
                "api_app_id": "A1",
                "is_enterprise_install": "false",
                "response_url": response_url or self.new_response_url(),
                "trigger_id": self._known(trigger_id) if trigger_id else self.trigger(),
            }
        )

    def _known(self, trigger_id: str) -> str:
        self.fake.triggers.setdefault(trigger_id, time.time())
        return trigger_id

    async def command(self, command: str, text: str = "", **kw: Any) -> tuple[int, str]:
        """A slash command as typed (``& < >`` escaped by Slack); returns (status, body)."""
        sign = {
            k: kw.pop(k)
            for k in ("headers", "signed", "timestamp", "secret", "retry_num")
            if k in kw
        }
        body = self.command_body(command, text, **kw)
        return await self.post(body, "application/x-www-form-urlencoded", **sign)

    async def interactive(self, payload: dict[str, Any], **sign: Any) -> tuple[int, str]:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded", **sign)

    def press_payload(
        self,
        blocks: list[dict[str, Any]],
        label: str,
        *,
        user: str = "U1",
        user_name: str = "alice",
        channel: str = "C1",
        channel_name: str = "general",
        message_ts: str = "",
        ephemeral: bool = False,
    ) -> dict[str, Any]:
        for block in blocks:
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("type") == "button" and element["text"]["text"] == label:
                    return {
                        "type": "block_actions",
                        "user": {
                            "id": user,
                            "username": user_name,
                            "name": user_name,
                            "team_id": "T1",
                        },
                        "api_app_id": "A1",
                        "token": "legacy",
                        "container": {
                            "type": "message",
                            "message_ts": message_ts,
                            "channel_id": channel,
                            "is_ephemeral": ephemeral,
                        },
                        "trigger_id": self.trigger(),
                        "team": {"id": "T1", "domain": "test"},
                        "channel": {"id": channel, "name": channel_name},
                        "message": {"ts": message_ts, "blocks": blocks},
                        "response_url": self.new_response_url(),
                        "actions": [
                            {
                                "action_id": element["action_id"],
                                "block_id": block.get("block_id", "b"),
                                "text": element["text"],
                                "value": element.get("value", ""),
                                "type": "button",
                                "action_ts": f"{time.time():.6f}",
                            }
                        ],
                    }
        raise AssertionError(f"no button {label!r} in {buttons(blocks)}")

    async def press(
        self, message: Posted | dict[str, Any], label: str, **kw: Any
    ) -> tuple[int, str]:
        """Press the button labelled ``label`` on a posted message (or an ephemeral reply)."""
        if isinstance(message, Posted):
            kw.setdefault("channel", message.channel)
            kw.setdefault("message_ts", message.ts)
            blocks = message.blocks
        else:
            blocks = message.get("blocks") or []
            kw.setdefault("ephemeral", True)
        return await self.interactive(self.press_payload(blocks, label, **kw))

    async def submit(
        self,
        view: dict[str, Any],
        values: dict[str, Any],
        *,
        user: str = "U1",
        user_name: str = "alice",
    ) -> tuple[int, str]:
        """Submit a modal the bot opened, with ``values`` per input block (param name)."""
        state: dict[str, Any] = {}
        for block in view.get("blocks", []):
            if block.get("type") != "input":
                continue
            element = block["element"]
            # an input the person did not touch keeps what it started with; a value of
            # None is an input they emptied (Slack then sends null)
            value = (
                values[block["block_id"]]
                if block["block_id"] in values
                else element.get("initial_value")
            )
            kind = element["type"]
            if kind == "static_select":
                entry = {
                    "type": kind,
                    "selected_option": None
                    if value is None
                    else {"value": value, "text": {"type": "plain_text", "text": value}},
                }
            elif kind == "checkboxes":
                entry = {"type": kind, "selected_options": element["options"] if value else []}
            else:
                entry = {"type": kind, "value": value}
            state[block["block_id"]] = {element["action_id"]: entry}
        payload = {
            "type": "view_submission",
            "team": {"id": "T1", "domain": "test"},
            "user": {"id": user, "username": user_name, "name": user_name, "team_id": "T1"},
            "api_app_id": "A1",
            "token": "legacy",
            "trigger_id": self.trigger(),
            "view": {
                **view,
                "state": {"values": state},
                "hash": secrets.token_hex(4),
                "team_id": "T1",
                "app_id": "A1",
                "bot_id": "BBOT",
            },
            "response_urls": [],
        }
        return await self.interactive(payload)

    async def event(
        self, event: dict[str, Any], event_id: str | None = None, **sign: Any
    ) -> tuple[int, str]:
        """An Events API callback (JSON)."""
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": "T1",
                "api_app_id": "A1",
                "event": event,
                "type": "event_callback",
                "event_id": event_id or f"Ev{secrets.token_hex(5)}",
                "event_time": int(time.time()),
                "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
            }
        )
        return await self.post(body, "application/json", **sign)


def escape_text(text: str) -> str:
    """What Slack does to a typed command text: ``& < >`` as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
