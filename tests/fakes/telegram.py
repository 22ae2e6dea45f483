"""A protocol-faithful fake of the Telegram Bot API on aiohttp, for the real PTB client.

It speaks the Bot API's wire format: ``POST /bot<token>/<method>`` with query string,
url-encoded, JSON or multipart parameters; answers ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code", "description", "parameters"}`` with the HTTP status Telegram
uses. State is kept like Telegram keeps it: chats and whom the bot may write to, forum
topics, migrated groups, sent messages (HTML parsed into text + entities, strictly), the
update queue (``getUpdates`` long poll with offsets) or a webhook it pushes to.

Tests inject updates as Telegram shapes them (``command`` carries ``bot_command``
entities, messages in topics carry ``message_thread_id`` and ``is_topic_message``), read
what the bot sent (``sent``/``wait_for``) and script errors (``fail_next``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from tests.fakes.allowance import Allowance, Rule, scaled

__all__ = ["ApiError", "Call", "FakeTelegram", "parse_html", "utf16_len"]

#: the methods Telegram counts against a chat's allowance
#: about one message a second per chat, 20 a minute per group, 30 a second in all
TELEGRAM_RULES = (Rule(1, 1.0), Rule(20, 60.0, "group"), Rule(30, 1.0, "all"))
LIMITED_METHODS = ("sendMessage", "sendDocument", "editMessageText", "editMessageReplyMarkup")

JSONDict = dict[str, Any]

# ---------------------------------------------------------------------------- HTML


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
}
_ATTR = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot);")


def _unescape(match: re.Match[str]) -> str:
    name = match.group(1)
    if name.startswith("#x"):
        return chr(int(name[2:], 16))
    if name.startswith("#"):
        return chr(int(name[1:]))
    return {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}[name]


def parse_html(source: str, users: dict[int, JSONDict] | None = None) -> tuple[str, list[JSONDict]]:
    """Parse Telegram's HTML style into (text, entities), as strictly as the Bot API.

    Only the supported tags and the entities ``&lt; &gt; &amp; &quot;`` and numeric ones
    are understood; any other ``<...>`` is an error, just like Telegram's
    "can't parse entities".
    """
    users = users or {}
    out: list[str] = []
    length = 0  # in UTF-16 code units
    stack: list[tuple[str, int, JSONDict]] = []
    entities: list[JSONDict] = []
    pos = 0

    def fail(what: str, at: int) -> ApiError:
        byte = len(source[:at].encode())
        return ApiError(400, f"Bad Request: can't parse entities: {what} at byte offset {byte}")

    while pos < len(source):
        ch = source[pos]
        if ch == "<":
            end = source.find(">", pos)
            if end < 0:
                raise fail("Unclosed start tag", pos)
            inner = source[pos + 1 : end]
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise fail(f'Unexpected end tag "{name}"', pos)
                open_name, start, attrs = stack.pop()
                if open_name != name:
                    raise fail(
                        f'Unmatched end tag at byte offset, expected "</{open_name}>", '
                        f'found "</{name}>"',
                        pos,
                    )
                if length > start:
                    entity: JSONDict = {
                        "type": _TAGS[open_name],
                        "offset": start,
                        "length": length - start,
                    }
                    if open_name == "a":
                        href = attrs.get("href", "")
                        m = re.fullmatch(r"tg://user\?id=(\d+)", href)
                        if m:
                            uid = int(m.group(1))
                            entity = {
                                "type": "text_mention",
                                "offset": start,
                                "length": length - start,
                                "user": users.get(
                                    uid, {"id": uid, "is_bot": False, "first_name": ""}
                                ),
                            }
                        else:
                            entity["url"] = href
                    if open_name == "span" and attrs.get("class") != "tg-spoiler":
                        raise fail('Unsupported start tag "span"', pos)
                    entities.append(entity)
            else:
                m = re.match(r"\s*([a-zA-Z][\w-]*)", inner)
                name = m.group(1).lower() if m else ""
                if name not in _TAGS:
                    raise fail(f'Unsupported start tag "{name}"', pos)
                attrs = {
                    a.group(1).lower(): _ENTITY.sub(
                        _unescape, a.group(2) or a.group(3) or a.group(4) or ""
                    )
                    for a in _ATTR.finditer(inner[m.end() if m else 0 :])
                }
                if name == "a" and "href" not in attrs:
                    raise fail('Unsupported start tag "a" without href', pos)
                stack.append((name, length, attrs))
            pos = end + 1
            continue
        if ch == "&":
            m = _ENTITY.match(source, pos)
            if m:
                text = _unescape(m)
                out.append(text)
                length += utf16_len(text)
                pos = m.end()
                continue
        out.append(ch)
        length += utf16_len(ch)
        pos += 1
    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"', len(source))
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


_COMMAND = re.compile(r"(?<![\w/@])/[a-zA-Z0-9_]{1,32}(?:@[a-zA-Z0-9_]{3,32})?")
_MENTION = re.compile(r"(?<![\w@])@[a-zA-Z0-9_]{5,32}")


def detect_entities(text: str) -> list[JSONDict]:
    """The entities Telegram adds to a plain user message: bot commands and @mentions."""
    found: list[JSONDict] = []
    for kind, pattern in (("bot_command", _COMMAND), ("mention", _MENTION)):
        for m in pattern.finditer(text):
            found.append(
                {
                    "type": kind,
                    "offset": utf16_len(text[: m.start()]),
                    "length": utf16_len(m.group(0)),
                }
            )
    found.sort(key=lambda e: e["offset"])
    return found


# ---------------------------------------------------------------------------- server


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: JSONDict
    ok: bool = True
    result: Any = None
    error: JSONDict | None = None
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


@dataclass
class _Failure:
    method: str
    code: int
    description: str
    parameters: JSONDict | None
    times: int
    when: Callable[[JSONDict], bool] | None


class FakeTelegram:
    """The Bot API for one bot. ``await fake.start()``; ``fake.url`` + "/bot" is base_url."""

    def __init__(
        self,
        token: str = "123:ABC",
        username: str = "community_bot",
        privacy_mode: bool = True,
        speed: int = 1,
    ) -> None:
        self.token = token
        self.bot = {
            "id": int(token.split(":")[0]),
            "is_bot": True,
            "first_name": "Community",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": not privacy_mode,
            "supports_inline_queries": False,
        }
        self.privacy_mode = privacy_mode
        self.calls: list[Call] = []
        self.users: dict[int, JSONDict] = {}
        self.chats: dict[int, JSONDict] = {}
        self.member_status: dict[int, str] = {}  # chat id -> the bot's status there
        self.started: set[int] = set()  # users who started (and did not block) the bot
        self.topics: dict[int, dict[int, str]] = {}  # forum chat id -> thread id -> name
        self.topic_messages: dict[tuple[int, int], JSONDict] = {}
        self.migrated: dict[int, int] = {}
        self.messages: dict[tuple[int, int], JSONDict] = {}
        self.deleted: set[tuple[int, int]] = set()
        #: Telegram's limits, enforced unless a test lifts them (``lift_limits``)
        self.allowance: Allowance | None = Allowance(scaled(TELEGRAM_RULES, speed))
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        self.callback_queries: dict[str, JSONDict] = {}
        self.answers: dict[str, JSONDict] = {}
        self.webhook: JSONDict = {"url": ""}
        #: where webhook deliveries really go (the bot's local address behind its public
        #: https URL, as a reverse proxy would forward them); None: to the URL itself
        self.proxy: str | None = None
        #: several bot processes behind one public URL (a load balancer): each delivery
        #: goes to the next, and one refused or unreachable is retried at the others, as
        #: Telegram retries a webhook delivery that failed; ``delivered`` awaits one
        self.webhook_targets: list[str] = []
        #: getUpdates' highest offset: every update below it was confirmed (and forgotten)
        self.confirmed = 0
        self._next_target = 0
        self._delivered: dict[int, asyncio.Future[int]] = {}
        self.webhook_responses: list[int] = []
        self._updates: list[JSONDict] = []
        self._update_ids = itertools.count(500_000)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._query_ids = itertools.count(9_000)
        self._changed = asyncio.Condition()
        self._failures: list[_Failure] = []
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    async def start(self) -> FakeTelegram:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._endpoint)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ world building

    def user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        language_code: str | None = "en",
        last_name: str | None = None,
    ) -> JSONDict:
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self.users[user_id] = user
        return user

    def group(
        self, chat_id: int, title: str, supergroup: bool = False, forum: bool = False
    ) -> JSONDict:
        """A group the bot is a member of (privacy mode: it sees commands only)."""
        chat: JSONDict = {
            "id": chat_id,
            "type": "supergroup" if supergroup or forum else "group",
            "title": title,
        }
        if forum:
            chat["is_forum"] = True
            self.topics.setdefault(chat_id, {})
        self.chats[chat_id] = chat
        self.member_status[chat_id] = "member"
        return chat

    def topic(self, chat_id: int, thread_id: int, name: str) -> None:
        """A forum topic; like Telegram, its id is the id of its creation service message."""
        self.topics.setdefault(chat_id, {})[thread_id] = name
        self.topic_messages[(chat_id, thread_id)] = {
            "message_id": thread_id,
            "date": int(time.time()),
            "chat": self.chats[chat_id],
            "message_thread_id": thread_id,
            "is_topic_message": True,
            "forum_topic_created": {"name": name, "icon_color": 7322096},
        }

    def private_chat(self, user: JSONDict) -> JSONDict:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        if "username" in user:
            chat["username"] = user["username"]
        self.chats[user["id"]] = chat
        return chat

    # ------------------------------------------------------------------ injecting updates

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1000))
        return next(counter)

    def _message(
        self,
        user: JSONDict,
        chat: JSONDict,
        text: str,
        thread: int | None = None,
        entities: list[JSONDict] | None = None,
        **extra: Any,
    ) -> JSONDict:
        message: JSONDict = {
            "message_id": self._next_message_id(chat["id"]),
            "from": user,
            "chat": chat,
            "date": int(time.time()),
        }
        if thread is not None:
            message["message_thread_id"] = thread
            message["is_topic_message"] = True
            # Telegram: a message in a topic "replies" to the topic's creation message
            topic = self.topic_messages.get((chat["id"], thread))
            if topic is not None:
                message["reply_to_message"] = topic
        if text:
            message["text"] = text
            found = detect_entities(text) if entities is None else entities
            if found:
                message["entities"] = found
        message.update(extra)
        self.messages[(chat["id"], message["message_id"])] = message
        return message

    def push(self, update: JSONDict, update_id: int | None = None) -> JSONDict:
        """Queue an update (for getUpdates) or push it to the webhook; returns it."""
        update = {
            "update_id": next(self._update_ids) if update_id is None else update_id,
            **{k: v for k, v in update.items() if k != "update_id"},
        }
        if self.webhook["url"]:
            asyncio.get_running_loop().create_task(self._post_webhook(update))
        else:
            self._updates.append(update)
            self._notify()
        return update

    def command(
        self,
        user: JSONDict,
        chat: JSONDict,
        text: str,
        thread: int | None = None,
        update_id: int | None = None,
    ) -> JSONDict:
        """A user types a command (``/link ideas`` or ``/link@bot ideas``) in a chat."""
        assert text.startswith("/")
        if chat["type"] == "private":
            self.started.add(user["id"])
        return self.push({"message": self._message(user, chat, text, thread)}, update_id)

    def text(
        self,
        user: JSONDict,
        chat: JSONDict,
        text: str,
        thread: int | None = None,
        reply_to: JSONDict | None = None,
    ) -> JSONDict | None:
        """A plain message (``reply_to``: the message it answers). With privacy mode on,
        the bot never sees one in a group."""
        extra = {"reply_to_message": reply_to} if reply_to is not None else {}
        if chat["type"] != "private" and self.privacy_mode and not text.startswith("/"):
            self._message(user, chat, text, thread, **extra)
            return None
        return self.push({"message": self._message(user, chat, text, thread, **extra)})

    def edit_text(self, user: JSONDict, message: JSONDict, text: str) -> JSONDict | None:
        """The author edits their message: an ``edited_message`` update (none for the bot
        in a group while privacy mode is on)."""
        assert message["from"]["id"] == user["id"], "only the author edits a message"
        message["text"] = text
        message["edit_date"] = int(time.time())
        if message["chat"]["type"] != "private" and self.privacy_mode:
            return None
        return self.push({"edited_message": dict(message)})

    def messages_in(self, chat_id: int) -> list[JSONDict]:
        """Every message in the chat, the bot's and the members', in order."""
        return [m for (cid, _), m in sorted(self.messages.items()) if cid == chat_id]

    def start_bot(self, user: JSONDict, payload: str | None = None) -> JSONDict:
        """The user opens the private chat and presses Start (a deep link adds a payload)."""
        self.started.add(user["id"])
        self.member_status.pop(user["id"], None)
        chat = self.private_chat(user)
        return self.command(user, chat, f"/start {payload}" if payload else "/start")

    def press(
        self,
        user: JSONDict,
        message: JSONDict,
        data: str | None = None,
        button: int = 0,
        update_id: int | None = None,
    ) -> JSONDict:
        """The user presses an inline button of a message the bot sent."""
        if data is None:
            rows = message.get("reply_markup", {}).get("inline_keyboard", [])
            flat = [b for row in rows for b in row]
            data = flat[button]["callback_data"]
        query_id = str(next(self._query_ids))
        query = {
            "id": query_id,
            "from": user,
            "message": message,
            "chat_instance": str(-abs(message["chat"]["id"])),
            "data": data,
        }
        self.callback_queries[query_id] = query
        return self.push({"callback_query": query}, update_id)

    def kick_bot(self, chat_id: int, by: JSONDict) -> JSONDict:
        """An admin removes the bot from a group: a ``my_chat_member`` update."""
        chat = self.chats[chat_id]
        old = self.member_status.get(chat_id, "member")
        new = "kicked" if chat["type"] == "supergroup" else "left"
        self.member_status[chat_id] = new
        return self.push(
            {
                "my_chat_member": {
                    "chat": chat,
                    "from": by,
                    "date": int(time.time()),
                    "old_chat_member": {"status": old, "user": self.bot},
                    "new_chat_member": {
                        "status": new,
                        "user": self.bot,
                        **({"until_date": 0} if new == "kicked" else {}),
                    },
                }
            }
        )

    def add_bot(self, chat_id: int, by: JSONDict) -> JSONDict:
        chat = self.chats[chat_id]
        old = self.member_status.get(chat_id, "left")
        self.member_status[chat_id] = "member"
        return self.push(
            {
                "my_chat_member": {
                    "chat": chat,
                    "from": by,
                    "date": int(time.time()),
                    "old_chat_member": {"status": old, "user": self.bot},
                    "new_chat_member": {"status": "member", "user": self.bot},
                }
            }
        )

    def block_bot(self, user: JSONDict) -> JSONDict:
        self.started.discard(user["id"])
        self.member_status[user["id"]] = "kicked"
        chat = self.private_chat(user)
        return self.push(
            {
                "my_chat_member": {
                    "chat": chat,
                    "from": user,
                    "date": int(time.time()),
                    "old_chat_member": {"status": "member", "user": self.bot},
                    "new_chat_member": {"status": "kicked", "user": self.bot, "until_date": 0},
                }
            }
        )

    def migrate(self, chat_id: int, new_id: int, by: JSONDict) -> JSONDict:
        """A group becomes a supergroup: the two service messages Telegram sends."""
        old = self.chats[chat_id]
        new = {"id": new_id, "type": "supergroup", "title": old["title"]}
        self.chats[new_id] = new
        self.member_status[new_id] = self.member_status.get(chat_id, "member")
        self.migrated[chat_id] = new_id
        first = self.push({"message": self._message(by, old, "", migrate_to_chat_id=new_id)})
        self.push({"message": self._message(by, new, "", migrate_from_chat_id=chat_id)})
        return first

    def fail_next(
        self,
        method: str,
        code: int,
        description: str,
        parameters: JSONDict | None = None,
        times: int = 1,
        when: Callable[[JSONDict], bool] | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (matching ``when``) with an error."""
        self._failures.append(_Failure(method, code, description, parameters, times, when))

    # ------------------------------------------------------------------ reading

    def sent(
        self, method: str | None = "sendMessage", chat_id: int | None = None, ok: bool = True
    ) -> list[Call]:
        """Calls of ``method`` (None: every method but getUpdates) that succeeded (or not)."""
        return [
            c
            for c in self.calls
            if (c.method == method if method else c.method != "getUpdates")
            and c.ok == ok
            and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))
        ]

    def texts(self, chat_id: int | None = None) -> list[str]:
        """The plain text of every message the bot sent (to a chat), as users see it."""
        out = []
        for call in self.calls:
            if not call.ok or call.method not in ("sendMessage", "sendDocument"):
                continue
            if chat_id is not None and str(call.params.get("chat_id")) != str(chat_id):
                continue
            out.append(call.result.get("text") or call.result.get("caption") or "")
        return out

    def _notify(self) -> None:
        async def wake() -> None:
            async with self._changed:
                self._changed.notify_all()

        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().create_task(wake())

    async def wait_for(self, predicate: Callable[[], Any], within: float = 10.0) -> Any:
        """Wait (bounded) until ``predicate()`` is truthy; return its value."""
        deadline = asyncio.get_running_loop().time() + within
        async with self._changed:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    raise AssertionError(
                        f"condition not met within {within}s; calls: "
                        f"{[c.method for c in self.calls][-20:]}"
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=left)

    async def wait_sent(
        self,
        count: int = 1,
        method: str = "sendMessage",
        chat_id: int | None = None,
        within: float = 10.0,
    ) -> list[Call]:
        calls: list[Call] = await self.wait_for(
            lambda: (found := self.sent(method, chat_id)) and len(found) >= count and found,
            within,
        )
        return calls

    # ------------------------------------------------------------------ HTTP

    async def _params(self, request: web.Request) -> tuple[JSONDict, dict[str, tuple[str, bytes]]]:
        params: JSONDict = dict(request.query)
        files: dict[str, tuple[str, bytes]] = {}
        if request.method == "POST" and request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                params.update(await request.json())
            elif ctype == "multipart/form-data":
                reader = await request.multipart()
                while (part := await reader.next()) is not None:
                    assert isinstance(part, aiohttp.BodyPartReader)
                    if part.filename:
                        files[part.name or ""] = (part.filename, await part.read())
                    else:
                        params[part.name or ""] = await part.text()
            else:
                params.update(dict(await request.post()))
        return params, files

    async def _endpoint(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params, files = await self._params(request)
        call = Call(method=method, params=params, files=files)
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            self._scripted(method, params)
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            call.result = await handler(params, files)
        except ApiError as exc:
            call.ok = False
            call.error = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.parameters:
                call.error["parameters"] = exc.parameters
            if method != "getUpdates":
                self.calls.append(call)
                self._notify()
            return web.json_response(call.error, status=exc.code)
        if method != "getUpdates" or call.result:
            self.calls.append(call)
            self._notify()
        return web.json_response({"ok": True, "result": call.result})

    def enforce_limits(self, rules: tuple[Rule, ...] = ()) -> None:
        """Answer 429 as Telegram does when the bot exceeds about one message a second in
        a chat, 20 a minute in a group or 30 a second in all (the default, on from the
        start; ``rules`` replaces it)."""
        self.allowance = Allowance(rules or TELEGRAM_RULES)

    def lift_limits(self) -> None:
        self.allowance = None

    @property
    def limit_refusals(self) -> list[tuple[str, int]]:
        """The requests refused for a limit (method, chat id)."""
        if self.allowance is None:
            return []
        return [(method, int(chat)) for method, chat in self.allowance.refusals]

    def _limited(self, method: str, params: JSONDict) -> None:
        if self.allowance is None or method not in LIMITED_METHODS:
            return
        chat_id = self._int(params, "chat_id")
        if chat_id is None:
            return
        wait = self.allowance.check(method, str(chat_id), group=chat_id < 0)
        if wait > 0:
            after = max(1, int(wait + 0.999))
            raise ApiError(429, f"Too Many Requests: retry after {after}", {"retry_after": after})

    def _scripted(self, method: str, params: JSONDict) -> None:
        self._limited(method, params)
        for failure in self._failures:
            if (
                failure.method == method
                and failure.times > 0
                and (failure.when is None or failure.when(params))
            ):
                failure.times -= 1
                raise ApiError(failure.code, failure.description, failure.parameters)

    # ------------------------------------------------------------------ parameter helpers

    @staticmethod
    def _json(params: JSONDict, key: str) -> Any:
        value = params.get(key)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from None
        return value

    @staticmethod
    def _int(params: JSONDict, key: str) -> int | None:
        value = params.get(key)
        if value in (None, ""):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError(400, f"Bad Request: invalid {key} specified") from None

    @staticmethod
    def _bool(params: JSONDict, key: str) -> bool:
        value = params.get(key)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def _chat_for_send(self, params: JSONDict) -> JSONDict:
        chat_id = self._int(params, "chat_id")
        if chat_id is None:
            raise ApiError(400, "Bad Request: chat_id is empty")
        if chat_id in self.migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self.migrated[chat_id]},
            )
        if chat_id in self.users:  # a private chat: only with people who started the bot
            if chat_id not in self.started:
                if self.member_status.get(chat_id) == "kicked":
                    raise ApiError(403, "Forbidden: bot was blocked by the user")
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            chat = self.chats.get(chat_id) or self.private_chat(self.users[chat_id])
        elif chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        else:
            chat = self.chats[chat_id]
            status = self.member_status.get(chat_id)
            if status == "kicked":
                raise ApiError(403, f"Forbidden: bot was kicked from the {chat['type']} chat")
            if status != "member" and status != "administrator":
                raise ApiError(403, f"Forbidden: bot is not a member of the {chat['type']} chat")
        thread = self._int(params, "message_thread_id")
        if (
            thread is not None
            and chat.get("is_forum")
            and thread not in self.topics.get(chat_id, {})
        ):
            raise ApiError(400, "Bad Request: message thread not found")
        return chat

    def _markup(self, params: JSONDict) -> JSONDict | None:
        markup = self._json(params, "reply_markup")
        if not markup:
            return None
        rows = markup.get("inline_keyboard")
        if rows is None:
            return dict(markup)
        for row in rows:
            for button in row:
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: BUTTON_TEXT_INVALID")
                data = button.get("callback_data")
                url = button.get("url")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if url is not None and not re.match(r"(https?|tg)://", url):
                    raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
                if data is None and url is None:
                    raise ApiError(
                        400,
                        "Bad Request: can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard",
                    )
        return {"inline_keyboard": rows}

    def _formatted(self, params: JSONDict, key: str, limit: int) -> tuple[str, list[JSONDict]]:
        raw = str(params.get(key) or "")
        mode = str(params.get("parse_mode") or "")
        if mode.upper() == "HTML":
            text, entities = parse_html(raw, self.users)
        elif mode:
            raise ApiError(400, f"Bad Request: unsupported parse_mode {mode}")
        else:
            text, entities = raw, self._json(params, "entities") or []
        if utf16_len(text) > limit:
            raise ApiError(
                400,
                "Bad Request: message is too long"
                if key == "text"
                else "Bad Request: message caption is too long",
            )
        return text, entities

    def _reply_to(self, chat_id: int, params: JSONDict) -> JSONDict | None:
        reply = self._json(params, "reply_parameters")
        target = self._int(params, "reply_to_message_id")
        allow = self._bool(params, "allow_sending_without_reply")
        if isinstance(reply, dict):
            target = int(reply["message_id"])
            allow = bool(reply.get("allow_sending_without_reply", allow))
        if target is None:
            return None
        found = self.messages.get((chat_id, target))
        if found is None and not allow:
            raise ApiError(400, "Bad Request: message to be replied not found")
        return found

    def _new_message(self, chat: JSONDict, params: JSONDict) -> JSONDict:
        message: JSONDict = {
            "message_id": self._next_message_id(chat["id"]),
            "from": self.bot,
            "chat": chat,
            "date": int(time.time()),
        }
        thread = self._int(params, "message_thread_id")
        if thread is not None and chat.get("is_forum"):
            message["message_thread_id"] = thread
            message["is_topic_message"] = True
        replied = self._reply_to(chat["id"], params)
        if replied is not None:
            message["reply_to_message"] = {
                k: v for k, v in replied.items() if k != "reply_to_message"
            }
        markup = self._markup(params)
        if markup:
            message["reply_markup"] = markup
        return message

    # ------------------------------------------------------------------ methods

    async def _api_getMe(self, params: JSONDict, files: Any) -> JSONDict:
        return self.bot

    async def _api_logOut(self, params: JSONDict, files: Any) -> bool:
        return True

    async def _api_getUpdates(self, params: JSONDict, files: Any) -> list[JSONDict]:
        if self.webhook["url"]:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is "
                "active; use deleteWebhook to delete the webhook first",
            )
        offset = self._int(params, "offset")
        limit = self._int(params, "limit") or 100
        timeout = self._int(params, "timeout") or 0
        allowed = self._json(params, "allowed_updates")
        if allowed is not None:
            self.webhook["allowed_updates"] = allowed
        if offset is not None:
            # like Telegram: updates before the offset are confirmed and forgotten
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self.confirmed = max(self.confirmed, offset)

        def ready() -> list[JSONDict]:
            kinds = self.webhook.get("allowed_updates") or []
            return [u for u in self._updates if not kinds or any(k in u for k in kinds)][:limit]

        deadline = asyncio.get_running_loop().time() + timeout
        async with self._changed:
            while not (found := ready()):
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    return []
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=left)
        return found

    async def _api_deleteWebhook(self, params: JSONDict, files: Any) -> bool:
        self.webhook = {"url": ""}
        if self._bool(params, "drop_pending_updates"):
            self._updates.clear()
        return True

    async def _api_setWebhook(self, params: JSONDict, files: Any) -> bool:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if url:
            parts = urlsplit(url)
            if parts.scheme != "https":
                raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
            try:
                port = parts.port or 443
            except ValueError:
                port = -1
            if port not in (443, 80, 88, 8443):
                raise ApiError(
                    400,
                    "Bad Request: bad webhook: "
                    "Webhook can be set up only on ports 80, 88, 443 or 8443",
                )
            host = parts.hostname or ""
            if host in ("localhost", "127.0.0.1", "::1") or host.startswith(("10.", "192.168.")):
                raise ApiError(400, f"Bad Request: bad webhook: IP address {host} is reserved")
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "allowed_updates": self._json(params, "allowed_updates"),
        }
        if self._bool(params, "drop_pending_updates"):
            self._updates.clear()
        pending, self._updates = self._updates, []
        for update in pending:
            asyncio.get_running_loop().create_task(self._post_webhook(update))
        return True

    async def _api_getWebhookInfo(self, params: JSONDict, files: Any) -> JSONDict:
        return {
            "url": self.webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _post_webhook(self, update: JSONDict) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {}
        if self.webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
        url = self.webhook["url"]
        if self.webhook_targets:
            await self._balanced(url, update, headers)
            return
        if self.proxy:  # the TLS-terminating proxy in front of the bot, as in production
            parts = urlsplit(url)
            url = self.proxy.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
        async with self._session.post(url, json=update, headers=headers) as resp:
            self.webhook_responses.append(resp.status)
        self._notify()

    async def _balanced(self, url: str, update: JSONDict, headers: dict[str, str]) -> None:
        assert self._session is not None
        parts = urlsplit(url)
        done = self._delivered.setdefault(
            update["update_id"], asyncio.get_running_loop().create_future()
        )
        for attempt in range(200):
            target = self.webhook_targets[self._next_target % len(self.webhook_targets)]
            self._next_target += 1
            try:
                async with self._session.post(
                    target.rstrip("/") + parts.path,
                    json=update,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=30),
                ) as resp:
                    self.webhook_responses.append(resp.status)
                    if resp.status == 200:
                        if not done.done():
                            done.set_result(attempt)
                        self._notify()
                        return
            except (aiohttp.ClientError, TimeoutError):
                self.webhook_responses.append(0)
            await asyncio.sleep(0.2)
        if not done.done():
            done.set_result(-1)

    async def delivered(self, update_id: int) -> int:
        """Wait until a pushed update was answered 200 by one of ``webhook_targets``;
        the number of failed attempts before (-1: never)."""
        done = self._delivered.setdefault(update_id, asyncio.get_running_loop().create_future())
        return await done

    async def _api_sendMessage(self, params: JSONDict, files: Any) -> JSONDict:
        chat = self._chat_for_send(params)
        text, entities = self._formatted(params, "text", 4096)
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        message = self._new_message(chat, params)
        message["text"] = text
        if entities:
            message["entities"] = entities
        self.messages[(chat["id"], message["message_id"])] = message
        return message

    async def _api_sendDocument(
        self, params: JSONDict, files: dict[str, tuple[str, bytes]]
    ) -> JSONDict:
        chat = self._chat_for_send(params)
        document = params.get("document")
        if isinstance(document, str) and document.startswith("attach://"):
            document = files.get(document[len("attach://") :])
        elif "document" in files:
            document = files["document"]
        if not isinstance(document, tuple):
            raise ApiError(400, "Bad Request: there is no document in the request")
        name, content = document
        caption, entities = self._formatted(params, "caption", 1024)
        message = self._new_message(chat, params)
        message["document"] = {
            "file_id": f"DOC{message['message_id']}",
            "file_unique_id": f"U{message['message_id']}",
            "file_name": name,
            "file_size": len(content),
        }
        message["_content"] = content
        if caption:
            message["caption"] = caption
        if entities:
            message["caption_entities"] = entities
        self.messages[(chat["id"], message["message_id"])] = message
        return {k: v for k, v in message.items() if not k.startswith("_")}

    def _edited_target(self, params: JSONDict) -> JSONDict:
        chat_id = self._int(params, "chat_id")
        message_id = self._int(params, "message_id")
        if chat_id is None or message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        if chat_id in self.migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self.migrated[chat_id]},
            )
        if self.member_status.get(chat_id) in ("kicked", "left"):
            raise ApiError(403, "Forbidden: bot was kicked from the group chat")
        message = self.messages.get((chat_id, message_id))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message.get("from", {}).get("id") != self.bot["id"]:
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    async def _api_editMessageText(self, params: JSONDict, files: Any) -> JSONDict:
        message = self._edited_target(params)
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities = self._formatted(params, "text", 4096)
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        markup = self._markup(params)
        if (
            text == message["text"]
            and entities == message.get("entities", [])
            and markup == message.get("reply_markup")
        ):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message "
                "content and reply markup are exactly the same as a current "
                "content and reply markup of the message",
            )
        message["text"] = text
        message["entities"] = entities
        if not entities:
            message.pop("entities")
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = int(time.time())
        return {k: v for k, v in message.items() if not k.startswith("_")}

    async def _api_deleteMessage(self, params: JSONDict, files: Any) -> bool:
        chat_id = self._int(params, "chat_id")
        message_id = self._int(params, "message_id")
        if chat_id is None or message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        message = self.messages.get((chat_id, message_id))
        if message is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        if message.get("from", {}).get("id") != self.bot["id"]:
            raise ApiError(400, "Bad Request: message can't be deleted")
        del self.messages[(chat_id, message_id)]
        self.deleted.add((chat_id, message_id))
        return True

    async def _api_editMessageReplyMarkup(self, params: JSONDict, files: Any) -> JSONDict:
        message = self._edited_target(params)
        markup = self._markup(params)
        if markup == message.get("reply_markup"):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message "
                "content and reply markup are exactly the same as a current "
                "content and reply markup of the message",
            )
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = int(time.time())
        return {k: v for k, v in message.items() if not k.startswith("_")}

    async def _api_answerCallbackQuery(self, params: JSONDict, files: Any) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self.callback_queries or query_id in self.answers:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        text = str(params.get("text") or "")
        if len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.answers[query_id] = {
            "text": text,
            "show_alert": self._bool(params, "show_alert"),
            "url": params.get("url"),
        }
        return True

    async def _api_setMyCommands(self, params: JSONDict, files: Any) -> bool:
        commands = self._json(params, "commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands must be a list of at most 100")
        for cmd in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(cmd.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(cmd.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        scope = self._json(params, "scope") or {"type": "default"}
        language = str(params.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise ApiError(400, "Bad Request: LANG_CODE_INVALID")
        self.commands[(scope["type"], language)] = commands
        return True

    async def _api_deleteMyCommands(self, params: JSONDict, files: Any) -> bool:
        scope = self._json(params, "scope") or {"type": "default"}
        self.commands.pop((scope["type"], str(params.get("language_code") or "")), None)
        return True
