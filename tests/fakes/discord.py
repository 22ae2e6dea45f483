"""A fake Discord for tests: REST v10 and a gateway websocket on one aiohttp server.

The real discord.py client talks to it over real sockets. It keeps what a user would see
(channel messages, interaction responses and follow-ups, DMs, registered application
commands), checks payloads the way Discord does where it matters (lengths, option order,
custom ids), sends rate-limit headers, can answer one request with a scripted 429, and
runs a gateway with HELLO, heartbeat ACK, IDENTIFY → READY + GUILD_CREATE, dispatches,
RESUME → replay of missed events + RESUMED, and can drop or hold connections.

    fake = FakeDiscord(); await fake.start()
    guild = fake.add_guild("Acme"); general = fake.add_channel(guild, "general")
    payload = fake.slash("link", {"group": "ideas"}, user=fake.user("111", "ada"),
                         channel=general)
    await fake.dispatch_interaction(payload)
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, WSMsgType, web

from tests.fakes.allowance import Allowance, Rule, scaled

__all__ = ["FakeDiscord", "Interaction"]

EPHEMERAL = 1 << 6
NAME_RE = re.compile(r"^[-_\w]{1,32}$")
TIMESTAMP = "2024-05-01T12:00:00.000000+00:00"


#: the bucket of a channel's messages (create and edit) and the bot's global limit
DISCORD_RULES = (Rule(5, 5.0), Rule(50, 1.0, "all"))
MESSAGE_ROUTE = re.compile(r"^/api/v10/channels/(\d+)/messages(?:/\d+)?$")
GUILD_MESSAGES = 1 << 9
MESSAGE_CONTENT = 1 << 15
RESPONSE_DEADLINE = 3.0  # seconds to answer an interaction
TOKEN_LIFETIME = 15 * 60  # an interaction token's follow-ups
#: the locales Discord accepts as localization keys
LOCALES = frozenset(
    "id da de en-GB en-US es-ES es-419 fr hr it lt hu nl no pl pt-BR ro fi sv-SE vi tr cs "
    "el bg ru uk hi th zh-CN ja zh-TW ko".split()
)


class _Reject(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class Interaction:
    """One interaction as the fake saw it: its payload and how the bot answered."""

    payload: dict[str, Any]
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)  # original first, follow-ups
    original_id: str | None = None
    deleted: set[str] = field(default_factory=set)
    created: float = field(default_factory=time.monotonic)
    """When Discord sent it: the response is due within 3 s, follow-ups for 15 minutes."""

    def age(self, seconds: float) -> None:
        """Make the interaction ``seconds`` older (deadline tests)."""
        self.created -= seconds

    @property
    def id(self) -> str:
        return str(self.payload["id"])

    @property
    def token(self) -> str:
        return str(self.payload["token"])

    @property
    def acked(self) -> bool:
        return bool(self.callbacks)

    @property
    def modal(self) -> dict[str, Any] | None:
        for cb in self.callbacks:
            if cb.get("type") == 9:
                return dict(cb["data"])
        return None

    def replies(self) -> list[dict[str, Any]]:
        """The response and follow-ups the person sees (deleted and "thinking" left out)."""
        return [m for m in self.messages if m["id"] not in self.deleted and not m.get("deferred")]


class FakeDiscord:
    def __init__(self, token: str = "x", speed: int = 1) -> None:
        self.token = token
        self.speed = speed
        self._ids = itertools.count(1_250_000_000_000_000_001)
        self.app_id = self.snowflake()
        self.bot = self.user(self.app_id, "bridge-bot", bot=True)
        self.guilds: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.forbidden: set[str] = set()
        self.messages: dict[str, dict[str, Any]] = {}
        self.nonces: dict[tuple[str, str], str] = {}
        self.dm_channels: dict[str, str] = {}  # user id -> DM channel id
        #: users who accept no DMs from the bot (privacy settings, no shared server)
        self.closed_dms: set[str] = set()
        self.interactions: dict[str, Interaction] = {}
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, str]] = []
        self.rejected: list[tuple[str, str, int, str]] = []
        self._limits: list[tuple[str, re.Pattern[str], float]] = []
        #: Discord's per-channel message bucket (5 in 5 s) and its global limit (50 a
        #: second), enforced unless a test lifts them (``allowance = None``)
        self.allowance: Allowance | None = Allowance(scaled(DISCORD_RULES, speed))
        self.intents: int | None = None  # what the session identified with
        #: channel webhooks: id → {"id", "token", "channel_id", "name"}
        self.webhooks: dict[str, dict[str, Any]] = {}
        #: channels where the bot lacks Manage Webhooks (403 on creating one)
        self.no_webhooks: set[str] = set()
        # gateway
        self.session_id: str | None = None
        self.seq = 0
        self.events: list[dict[str, Any]] = []
        self.ops: list[int] = []
        self.identifies = 0
        self.resumes = 0
        self.heartbeats = 0
        #: milliseconds, as HELLO announces; a connection silent for 1.5 of them is closed
        self.heartbeat_interval = 41250
        self.timed_out = 0
        self.compressions: list[str] = []
        self._ws: web.WebSocketResponse | None = None
        self._send: Callable[[dict[str, Any]], Any] | None = None
        self._open = asyncio.Event()
        self._open.set()
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------------ set-up

    async def start(self) -> FakeDiscord:
        app = web.Application(middlewares=[self._middleware], client_max_size=32 * 1024**2)
        r = app.router
        api = "/api/v10"
        r.add_get(f"{api}/users/@me", self._me)
        r.add_get(f"{api}/oauth2/applications/@me", self._application)
        r.add_get(f"{api}/gateway", self._gateway_info)
        r.add_get(f"{api}/gateway/bot", self._gateway_bot)
        r.add_get(f"{api}/applications/{{app}}/commands", self._get_commands)
        r.add_put(f"{api}/applications/{{app}}/commands", self._put_commands)
        r.add_get(f"{api}/applications/{{app}}/guilds/{{guild}}/commands", self._get_commands)
        r.add_put(f"{api}/applications/{{app}}/guilds/{{guild}}/commands", self._put_commands)
        r.add_post(f"{api}/interactions/{{iid}}/{{token}}/callback", self._callback)
        r.add_post(f"{api}/webhooks/{{app}}/{{token}}", self._followup)
        r.add_route(
            "*", f"{api}/webhooks/{{app}}/{{token}}/messages/{{mid}}", self._webhook_message
        )
        r.add_get(f"{api}/channels/{{cid}}/webhooks", self._channel_webhooks)
        r.add_post(f"{api}/channels/{{cid}}/webhooks", self._create_webhook)
        r.add_post(f"{api}/channels/{{cid}}/messages", self._create_message)
        r.add_patch(f"{api}/channels/{{cid}}/messages/{{mid}}", self._edit_message)
        r.add_delete(f"{api}/channels/{{cid}}/messages/{{mid}}", self._delete_message)
        r.add_post(f"{api}/users/@me/channels", self._create_dm)
        r.add_get("/gateway", self._gateway)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.url}/api/v10"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def snowflake(self) -> str:
        return str(next(self._ids))

    @staticmethod
    def user(
        user_id: str, name: str, *, bot: bool = False, global_name: str | None = None
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(user_id),
            "username": name,
            "discriminator": "0",
            "global_name": global_name,
            "avatar": None,
            "public_flags": 0,
        }
        if bot:
            data["bot"] = True
        return data

    def add_guild(self, name: str = "Acme") -> str:
        gid = self.snowflake()
        self.guilds[gid] = {"id": gid, "name": name, "channels": [], "threads": []}
        return gid

    def add_channel(self, guild_id: str, name: str, kind: int = 0) -> str:
        cid = self.snowflake()
        channel = {
            "id": cid,
            "type": kind,
            "guild_id": guild_id,
            "name": name,
            "position": len(self.guilds[guild_id]["channels"]),
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
        }
        self.channels[cid] = channel
        self.guilds[guild_id]["channels"].append(cid)
        return cid

    def add_thread(self, parent_id: str, name: str) -> str:
        parent = self.channels[parent_id]
        tid = self.snowflake()
        thread = {
            "id": tid,
            "type": 11,
            "guild_id": parent["guild_id"],
            "name": name,
            "parent_id": parent_id,
            "owner_id": self.bot["id"],
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "flags": 0,
            "last_message_id": None,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": TIMESTAMP,
                "locked": False,
            },
        }
        self.channels[tid] = thread
        self.guilds[parent["guild_id"]]["threads"].append(tid)
        return tid

    def remove_channel(self, channel_id: str) -> None:
        """The channel is deleted: posting to it answers 404 Unknown Channel."""
        channel = self.channels.pop(channel_id)
        guild = self.guilds.get(channel.get("guild_id") or "")
        if guild is not None:
            for key in ("channels", "threads"):
                if channel_id in guild[key]:
                    guild[key].remove(channel_id)

    def forbid(self, channel_id: str) -> None:
        """The bot lost access to the channel: 403 Missing Access."""
        self.forbidden.add(channel_id)

    def rate_limit(self, method: str, path_pattern: str, retry_after: float) -> None:
        """Answer the next request matching METHOD and the path regex with a 429."""
        self._limits.append((method.upper(), re.compile(path_pattern), retry_after))

    # ------------------------------------------------------------------ members write

    async def member_says(
        self,
        channel_id: str,
        user: dict[str, Any],
        content: str,
        reply_to: str | None = None,
        files: tuple[str, ...] = (),
        mentions: tuple[dict[str, Any], ...] = (),
    ) -> dict[str, Any]:
        """A member writes in a guild channel (with ``files`` attached, by name):
        MESSAGE_CREATE for a session with the GUILD_MESSAGES intent, its text and files
        only with MESSAGE_CONTENT (else empty, as Discord sends it)."""
        body: dict[str, Any] = {"content": content}
        if reply_to is not None:
            body["message_reference"] = {"message_id": reply_to, "channel_id": channel_id}
        attached = [
            {"filename": name, "content": b"x", "content_type": "application/octet-stream"}
            for name in files
        ]
        message = self._message(channel_id, body, attached)
        message["author"] = user
        message["mentions"] = list(mentions)  # the users written as <@id> in the content
        await self._member_event("MESSAGE_CREATE", message)
        return message

    async def member_edits(self, message: dict[str, Any], content: str) -> None:
        message["content"] = content
        message["edited_timestamp"] = TIMESTAMP
        await self._member_event("MESSAGE_UPDATE", message)

    async def member_deletes(self, message: dict[str, Any]) -> None:
        del self.messages[message["id"]]
        if self.intents is not None and self.intents & GUILD_MESSAGES:
            guild = self.channels[message["channel_id"]].get("guild_id")
            await self.dispatch(
                "MESSAGE_DELETE",
                {"id": message["id"], "channel_id": message["channel_id"], "guild_id": guild},
            )

    async def _member_event(self, event: str, message: dict[str, Any]) -> None:
        if self.intents is None or not self.intents & GUILD_MESSAGES:
            return
        data = self._public(message)
        data["guild_id"] = self.channels[message["channel_id"]].get("guild_id")
        data["member"] = {
            "roles": [],
            "joined_at": TIMESTAMP,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "nick": None,
            "avatar": None,
        }
        if not self.intents & MESSAGE_CONTENT:  # a privileged intent: the text stays away
            data.update(content="", embeds=[], attachments=[], components=[])
        await self.dispatch(event, data)

    # ------------------------------------------------------------------ what tests read

    def channel_messages(self, channel_id: str) -> list[dict[str, Any]]:
        """What everybody in the channel sees from the bot (no ephemeral answers)."""
        hidden = {mid for record in self.interactions.values() for mid in record.deleted}
        return [
            m
            for m in self.messages.values()
            if m["channel_id"] == channel_id
            and not m["flags"] & EPHEMERAL
            and not m.get("deferred")
            and m["id"] not in hidden
        ]

    def dm_messages(self, user_id: str) -> list[dict[str, Any]]:
        cid = self.dm_channels.get(str(user_id))
        return self.channel_messages(cid) if cid else []

    def commands(self, guild_id: str | None = None) -> dict[str, dict[str, Any]]:
        cmds = self.guild_commands.get(guild_id, []) if guild_id else self.global_commands
        return {c["name"]: c for c in cmds}

    def count(self, method: str, pattern: str) -> int:
        rx = re.compile(pattern)
        return sum(1 for m, p in self.requests if m == method and rx.search(p))

    async def wait_for(self, predicate: Callable[[], bool], within: float = 10.0) -> None:
        """Wait until ``predicate()`` holds (checked after every request and gateway op)."""

        async def until() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        await asyncio.wait_for(until(), within)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ------------------------------------------------------------------ interactions

    def _base_interaction(
        self,
        kind: int,
        data: dict[str, Any],
        user: dict[str, Any],
        channel: str | None,
        locale: str,
    ) -> dict[str, Any]:
        iid = self.snowflake()
        payload: dict[str, Any] = {
            "id": iid,
            "application_id": self.app_id,
            "type": kind,
            "data": data,
            "token": f"tok-{iid}-{secrets.token_hex(6)}",
            "version": 1,
            "locale": locale,
            "app_permissions": "2248473465835073",
            "attachment_size_limit": 10 * 1024 * 1024,
            "entitlements": [],
        }
        if channel is None:  # a DM with the bot
            cid = self._dm_channel_for(user["id"])
            payload.update(
                channel_id=cid,
                user=user,
                context=1,
                channel={"id": cid, "type": 1, "recipients": [user], "flags": 0},
                authorizing_integration_owners={"1": user["id"]},
            )
            return payload
        chan = self.channels[channel]
        gid = chan["guild_id"]
        payload.update(
            guild_id=gid,
            guild_locale="en-US",
            guild={"id": gid, "locale": "en-US", "features": []},
            channel_id=channel,
            channel=dict(chan),
            context=0,
            authorizing_integration_owners={"0": gid},
            member={
                "user": user,
                "roles": [],
                "joined_at": TIMESTAMP,
                "deaf": False,
                "mute": False,
                "flags": 0,
                "pending": False,
                "nick": None,
                "permissions": "1071698660929",
                "avatar": None,
            },
        )
        return payload

    def slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: dict[str, Any],
        channel: str | None,
        sub: str | None = None,
        locale: str = "en-US",
    ) -> dict[str, Any]:
        """An APPLICATION_COMMAND interaction: ``/name [sub] option:value ...``.

        Option types are taken from the registered command (so the payload is what Discord
        would send); values are given as Python values.
        """
        cmd = self.commands().get(name) or next(
            (c for cmds in self.guild_commands.values() for c in cmds if c["name"] == name), None
        )
        declared = cmd.get("options", []) if cmd else []
        opts = self._typed_options(declared, options or {})
        if sub is not None:
            sub_decl: dict[str, Any] = next(
                (o for o in declared if o["name"] == sub), {"options": []}
            )
            opts = [
                {
                    "type": 1,
                    "name": sub,
                    "options": self._typed_options(sub_decl.get("options", []), options or {}),
                }
            ]
        data = {
            "id": cmd["id"] if cmd else self.snowflake(),
            "name": name,
            "type": 1,
            "options": opts,
        }
        return self._base_interaction(2, data, user, channel, locale)

    @staticmethod
    def _typed_options(
        declared: list[dict[str, Any]], values: dict[str, Any]
    ) -> list[dict[str, Any]]:
        types = {o["name"]: o["type"] for o in declared}
        out = []
        for key, value in values.items():
            kind = types.get(key)
            if kind is None:
                kind = 5 if isinstance(value, bool) else 4 if isinstance(value, int) else 3
            out.append({"name": key, "type": kind, "value": value})
        return out

    def button(
        self,
        message: dict[str, Any],
        custom_id: str,
        *,
        user: dict[str, Any],
        locale: str = "en-US",
    ) -> dict[str, Any]:
        """A MESSAGE_COMPONENT interaction: pressing a button of ``message``."""
        channel = message["channel_id"]
        in_dm = channel in self.dm_channels.values()
        payload = self._base_interaction(
            3,
            {"custom_id": custom_id, "component_type": 2},
            user,
            None if in_dm else channel,
            locale,
        )
        payload["message"] = self._public(message)
        return payload

    def modal_submit(
        self,
        custom_id: str,
        values: dict[str, str],
        *,
        user: dict[str, Any],
        channel: str | None,
        locale: str = "en-US",
    ) -> dict[str, Any]:
        rows = [
            {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
            for k, v in values.items()
        ]
        return self._base_interaction(
            5, {"custom_id": custom_id, "components": rows}, user, channel, locale
        )

    def submit(
        self,
        modal: dict[str, Any],
        values: dict[str, str],
        *,
        user: dict[str, Any],
        channel: str | None,
        locale: str = "en-US",
    ) -> dict[str, Any]:
        """Submit a modal the bot opened, as Discord does: every field in the modal's order,
        an untouched one with the value it started with (``values`` what the person typed)."""
        rows = []
        for row in modal["components"]:
            field = row.get("component") or row["components"][0]
            value = values.get(field["custom_id"], field.get("value", ""))
            submitted = {"type": 4, "custom_id": field["custom_id"], "value": value}
            if row["type"] == 18:  # a Label holds one component
                rows.append({"type": 18, "component": submitted})
            else:
                rows.append({"type": row["type"], "components": [submitted]})
        return self._base_interaction(
            5, {"custom_id": modal["custom_id"], "components": rows}, user, channel, locale
        )

    @staticmethod
    def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
        return [c for row in message.get("components", []) for c in row["components"]]

    async def dispatch_interaction(self, payload: dict[str, Any]) -> Interaction:
        record = self.interactions.setdefault(str(payload["id"]), Interaction(payload))
        await self.dispatch("INTERACTION_CREATE", payload)
        return record

    # ------------------------------------------------------------------ gateway

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Record a dispatch for the session and send it if a connection is live."""
        self.seq += 1
        frame = {"op": 0, "t": event, "s": self.seq, "d": data}
        self.events.append(frame)
        if self._send is not None and self._open.is_set():
            try:
                await self._send(frame)
            except ConnectionError:  # the bot's end went away meanwhile (killed): lost
                pass

    async def drop(self, hold: bool = False) -> None:
        """Close the bot's gateway connection (code 4000, resumable).

        With ``hold`` the next connection waits before HELLO until ``release()``; events
        dispatched meanwhile are kept for the RESUME replay.
        """
        if hold:
            self._open.clear()
        ws, self._ws, self._send = self._ws, None, None
        if ws is not None and not ws.closed:
            await ws.close(code=4000, message=b"fake: connection dropped")

    def release(self) -> None:
        self._open.set()

    @property
    def connected(self) -> bool:
        return self._send is not None

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        compress = request.query.get("compress", "")
        self.compressions.append(compress)
        send = self._sender(ws, compress)
        await self._open.wait()
        interval = self.heartbeat_interval
        await send({"op": 10, "s": None, "t": None, "d": {"heartbeat_interval": interval}})
        beats = [time.monotonic()]

        async def watchdog() -> None:
            # Discord closes a connection whose heartbeats stopped (a zombie)
            while not ws.closed:
                await asyncio.sleep(interval / 1000 * 1.5)
                if time.monotonic() - beats[-1] > interval / 1000 * 1.5:
                    self.timed_out += 1
                    await ws.close(code=4009, message=b"Session timed out")
                    return

        dog = asyncio.get_running_loop().create_task(watchdog())
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op = frame.get("op")
                self.ops.append(op)
                if op == 1:
                    self.heartbeats += 1
                    beats.append(time.monotonic())
                    await send({"op": 11, "s": None, "t": None, "d": None})
                elif op == 2:
                    await self._identify(ws, send, frame["d"])
                elif op == 6:
                    await self._resume(ws, send, frame["d"])
                await self._notify()
        finally:
            dog.cancel()
        if self._ws is ws:
            self._ws, self._send = None, None
        await self._notify()
        return ws

    def _sender(self, ws: web.WebSocketResponse, compress: str) -> Callable[[dict[str, Any]], Any]:
        if compress == "zlib-stream":
            deflate = zlib.compressobj()

            async def send_zlib(frame: dict[str, Any]) -> None:
                raw = json.dumps(frame).encode()
                await ws.send_bytes(deflate.compress(raw) + deflate.flush(zlib.Z_SYNC_FLUSH))

            return send_zlib
        if compress == "zstd-stream":
            try:
                import zstandard
            except ImportError:  # pragma: no cover - the library only asks when it has it
                pass
            else:
                zobj = zstandard.ZstdCompressor().compressobj()

                async def send_zstd(frame: dict[str, Any]) -> None:
                    raw = json.dumps(frame).encode()
                    await ws.send_bytes(
                        zobj.compress(raw) + zobj.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
                    )

                return send_zstd

        async def send_text(frame: dict[str, Any]) -> None:
            await ws.send_str(json.dumps(frame))

        return send_text

    async def _identify(
        self, ws: web.WebSocketResponse, send: Callable[..., Any], data: dict[str, Any]
    ) -> None:
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        self.identifies += 1
        self.session_id = secrets.token_hex(8)
        self.seq = 0
        self.events = []
        self.intents = data.get("intents")
        self._ws, self._send = ws, send
        await self.dispatch(
            "READY",
            {
                "v": 10,
                "user": self.bot,
                "guilds": [{"id": gid, "unavailable": True} for gid in self.guilds],
                "session_id": self.session_id,
                "resume_gateway_url": self.ws_url,
                "application": {"id": self.app_id, "flags": 0},
            },
        )
        for gid in self.guilds:
            await self.dispatch("GUILD_CREATE", self._guild_payload(gid))

    async def _resume(
        self, ws: web.WebSocketResponse, send: Callable[..., Any], data: dict[str, Any]
    ) -> None:
        if data.get("token") != self.token or data.get("session_id") != self.session_id:
            await send({"op": 9, "s": None, "t": None, "d": False})
            return
        self.resumes += 1
        last = data.get("seq") or 0
        for frame in self.events:
            if frame["s"] > last:
                await send(frame)
        self._ws, self._send = ws, send
        await self.dispatch("RESUMED", {})

    def _guild_payload(self, gid: str) -> dict[str, Any]:
        guild = self.guilds[gid]
        return {
            "id": gid,
            "name": guild["name"],
            "icon": None,
            "owner_id": "1",
            "unavailable": False,
            "member_count": 2,
            "large": False,
            "features": [],
            "emojis": [],
            "stickers": [],
            "members": [],
            "presences": [],
            "voice_states": [],
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "system_channel_flags": 0,
            "joined_at": TIMESTAMP,
            "roles": [
                {
                    "id": gid,
                    "name": "@everyone",
                    "permissions": "1071698660929",
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
            "channels": [self.channels[c] for c in guild["channels"]],
            "threads": [self.channels[t] for t in guild["threads"]],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    # ------------------------------------------------------------------ REST plumbing

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        path = request.path
        self.requests.append((request.method, path))
        try:
            if path.startswith("/api/") and not path.startswith(
                ("/api/v10/interactions/", "/api/v10/webhooks/")
            ):
                if request.headers.get("Authorization") != f"Bot {self.token}":
                    raise _Reject(401, 0, "401: Unauthorized")
            for i, (method, rx, after) in enumerate(self._limits):
                if method == request.method and rx.search(path):
                    del self._limits[i]
                    return self._json(
                        {
                            "message": "You are being rate limited.",
                            "retry_after": after,
                            "global": False,
                        },
                        status=429,
                        extra={
                            "Retry-After": str(max(1, int(after))),
                            "X-RateLimit-Scope": "user",
                            "X-RateLimit-Remaining": "0",
                        },
                    )
            bucket = MESSAGE_ROUTE.match(path) if request.method in ("POST", "PATCH") else None
            if bucket is not None and self.allowance is not None:
                wait = self.allowance.check(request.method, bucket.group(1))
                if wait > 0:
                    return self._json(
                        {
                            "message": "You are being rate limited.",
                            "retry_after": round(wait, 3),
                            "global": False,
                        },
                        status=429,
                        extra={
                            "Retry-After": str(max(1, int(wait + 0.999))),
                            "X-RateLimit-Scope": "user",
                            "X-RateLimit-Limit": str(5 * self.speed),
                            "X-RateLimit-Remaining": "0",
                            "X-RateLimit-Reset-After": f"{wait:.3f}",
                            "X-RateLimit-Bucket": f"messages-{bucket.group(1)}",
                        },
                    )
            response = await handler(request)
            if bucket is not None and self.allowance is not None:
                per_bucket = 5 * self.speed
                ages = self.allowance.recent(bucket.group(1), 5.0)  # the oldest first
                reset = 5.0 - ages[max(len(ages) - per_bucket, 0)] if ages else 0.0
                response.headers["X-RateLimit-Limit"] = str(per_bucket)
                response.headers["X-RateLimit-Remaining"] = str(max(per_bucket - len(ages), 0))
                response.headers["X-RateLimit-Reset-After"] = f"{max(reset, 0.001):.3f}"
                response.headers["X-RateLimit-Bucket"] = f"messages-{bucket.group(1)}"
        except _Reject as exc:
            self.rejected.append((request.method, path, exc.code, exc.message))
            error: dict[str, Any] = {"message": exc.message, "code": exc.code}
            if exc.code == 50035:  # Discord's shape: a fixed message, the details in errors
                error = {
                    "message": "Invalid Form Body",
                    "code": 50035,
                    "errors": {"_errors": [{"code": "INVALID_FORM_BODY", "message": exc.message}]},
                }
            response = self._json(error, status=exc.status)
        await self._notify()
        return response

    def _json(
        self, data: Any, status: int = 200, extra: dict[str, str] | None = None
    ) -> web.Response:
        headers = {
            "Content-Type": "application/json",
            "Via": "1.1 google",
            "X-RateLimit-Limit": "50",
            "X-RateLimit-Remaining": "49",
            "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.000",
        }
        headers.update(extra or {})
        response = web.Response(body=json.dumps(data).encode(), status=status)
        for key, value in headers.items():
            response.headers[key] = value
        return response

    def _no_content(self) -> web.Response:
        response = web.Response(status=204)
        response.headers["X-RateLimit-Limit"] = "50"
        response.headers["X-RateLimit-Remaining"] = "49"
        response.headers["X-RateLimit-Reset-After"] = "1.000"
        return response

    async def _body(self, request: web.Request) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """JSON or multipart (payload_json + files[n]) like Discord accepts."""
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("multipart/"):
            payload: dict[str, Any] = {}
            files: list[dict[str, Any]] = []
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue
                name = part.name
                raw = await part.read()
                if name == "payload_json":
                    payload = json.loads(raw)
                elif name and name.startswith("files["):
                    files.append(
                        {
                            "filename": part.filename,
                            "content": bytes(raw),
                            "content_type": part.headers.get("Content-Type"),
                        }
                    )
            return payload, files
        if ctype != "application/json":
            raise _Reject(400, 50109, "The request body contains invalid JSON.")
        return await request.json(), []

    # ------------------------------------------------------------------ REST: identity

    async def _me(self, request: web.Request) -> web.Response:
        return self._json(self.bot)

    async def _application(self, request: web.Request) -> web.Response:
        return self._json(
            {
                "id": self.app_id,
                "name": "bridge-bot",
                "icon": None,
                "description": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "00" * 32,
                "owner": self.user("1", "owner"),
                "team": None,
                "flags": 0,
                "summary": "",
                "rpc_origins": [],
                "tags": [],
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "bot": self.bot,
            }
        )

    async def _gateway_info(self, request: web.Request) -> web.Response:
        return self._json({"url": self.ws_url})

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        return self._json(
            {
                "url": self.ws_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 14400000,
                    "max_concurrency": 1,
                },
            }
        )

    # ------------------------------------------------------------------ REST: commands

    async def _get_commands(self, request: web.Request) -> web.Response:
        if request.match_info["app"] != self.app_id:
            raise _Reject(403, 50001, "Missing Access")
        guild = request.match_info.get("guild")
        return self._json(self.guild_commands.get(guild, []) if guild else self.global_commands)

    async def _put_commands(self, request: web.Request) -> web.Response:
        if request.match_info["app"] != self.app_id:
            raise _Reject(403, 50001, "Missing Access")
        body, _ = await self._body(request)
        if not isinstance(body, list) or len(body) > 100:
            raise _Reject(400, 50035, "Invalid Form Body")
        names = set()
        stored = []
        for cmd in body:
            self._check_command(cmd)
            if cmd["name"] in names:
                raise _Reject(400, 50035, f"Invalid Form Body: duplicate name {cmd['name']}")
            names.add(cmd["name"])
            stored.append(
                {
                    **cmd,
                    "id": self.snowflake(),
                    "application_id": self.app_id,
                    "version": self.snowflake(),
                }
            )
        guild = request.match_info.get("guild")
        if guild:
            self.guild_commands[guild] = stored
        else:
            self.global_commands = stored
        return self._json(stored)

    def _check_command(self, cmd: dict[str, Any]) -> None:
        name = cmd.get("name", "")
        if not NAME_RE.match(name) or name != name.lower():
            raise _Reject(400, 50035, f"Invalid command name {name!r}")
        desc = cmd.get("description", "")
        if not 1 <= len(desc) <= 100:
            raise _Reject(400, 50035, f"/{name}: description must be 1-100 characters")
        for key in ("name_localizations", "description_localizations"):
            for locale in cmd.get(key) or {}:
                if locale not in LOCALES:
                    raise _Reject(400, 50035, f"/{name}: {key}.{locale}: Invalid locale")
        for loc in (cmd.get("description_localizations") or {}).values():
            if not 1 <= len(loc) <= 100:
                raise _Reject(400, 50035, f"/{name}: localized description too long")
        perms = cmd.get("default_member_permissions")
        if perms is not None and not str(perms).isdigit():
            raise _Reject(400, 50035, f"/{name}: default_member_permissions must be a string")
        self._check_options(name, cmd.get("options", []))

    def _check_options(self, where: str, options: list[dict[str, Any]]) -> None:
        if len(options) > 25:
            raise _Reject(400, 50035, f"{where}: more than 25 options")
        seen_optional = False
        names = set()
        for opt in options:
            oname = opt.get("name", "")
            if not NAME_RE.match(oname) or oname != oname.lower() or oname in names:
                raise _Reject(400, 50035, f"{where}: invalid option name {oname!r}")
            names.add(oname)
            if not 1 <= len(opt.get("description", "")) <= 100:
                raise _Reject(400, 50035, f"{where} {oname}: description must be 1-100")
            if opt.get("type") in (1, 2):
                self._check_options(f"{where} {oname}", opt.get("options", []))
                continue
            if opt.get("required"):
                if seen_optional:
                    raise _Reject(
                        400, 50035, f"{where}: required options must be placed before optional"
                    )
            else:
                seen_optional = True
            if len(opt.get("choices", [])) > 25:
                raise _Reject(400, 50035, f"{where} {oname}: more than 25 choices")

    # ------------------------------------------------------------------ REST: messages

    def _check_message(
        self, body: dict[str, Any], files: list[dict[str, Any]], partial: bool = False
    ) -> None:
        content = body.get("content") or ""
        if len(content) > 2000:
            raise _Reject(400, 50035, "content: Must be 2000 or fewer in length.")
        if not partial and not (content or body.get("embeds") or body.get("components") or files):
            raise _Reject(400, 50006, "Cannot send an empty message")
        for embed in body.get("embeds") or []:
            if len(embed.get("description") or "") > 4096:
                raise _Reject(400, 50035, "embeds.0.description: too long")
        rows = body.get("components") or []
        seen_ids: set[str] = set()
        if len(rows) > 5:
            raise _Reject(400, 50035, "components: at most 5 rows")
        for row in rows:
            if row.get("type") != 1 or not 1 <= len(row.get("components", [])) <= 5:
                raise _Reject(400, 50035, "components: an action row holds 1-5 components")
            for comp in row["components"]:
                if comp.get("type") == 2:
                    if len(comp.get("custom_id", "")) > 100 or not comp.get("custom_id"):
                        raise _Reject(400, 50035, "custom_id: 1-100 characters")
                    if comp["custom_id"] in seen_ids:
                        raise _Reject(
                            400, 50035, "components: Component custom id cannot be duplicated"
                        )
                    seen_ids.add(comp["custom_id"])
                    if len(comp.get("label", "")) > 80:
                        raise _Reject(400, 50035, "label: at most 80 characters")

    def _message(
        self,
        channel_id: str,
        body: dict[str, Any],
        files: list[dict[str, Any]],
        flags: int = 0,
        interaction: str | None = None,
    ) -> dict[str, Any]:
        mid = self.snowflake()
        message = {
            "id": mid,
            "channel_id": channel_id,
            "author": self.bot,
            "content": body.get("content") or "",
            "timestamp": TIMESTAMP,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "pinned": False,
            "type": 19 if body.get("message_reference") else 0,
            "flags": flags | int(body.get("flags") or 0),
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "attachments": [
                {
                    "id": self.snowflake(),
                    "filename": f["filename"],
                    "size": len(f["content"]),
                    "url": f"{self.url}/a/{f['filename']}",
                    "proxy_url": f"{self.url}/a/{f['filename']}",
                    "content_type": f["content_type"],
                }
                for f in files
            ],
            # what the fake keeps besides what Discord returns
            "allowed_mentions": body.get("allowed_mentions"),
            "message_reference": body.get("message_reference"),
            "files": files,
            "edits": 0,
        }
        chan = self.channels.get(channel_id)
        if chan is not None and chan.get("guild_id"):
            message["guild_id"] = chan["guild_id"]
        if interaction:
            message["webhook_id"] = self.app_id
        self.messages[mid] = message
        return message

    def _public(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            k: v
            for k, v in message.items()
            if v is not None
            and k not in ("allowed_mentions", "files", "edits", "deferred", "avatar_url")
        }

    def _writable(self, channel_id: str) -> None:
        if channel_id not in self.channels and channel_id not in self.dm_channels.values():
            raise _Reject(404, 10003, "Unknown Channel")
        for user_id, dm in self.dm_channels.items():
            if dm == channel_id and user_id in self.closed_dms:
                raise _Reject(403, 50007, "Cannot send messages to this user")
        if channel_id in self.forbidden:
            raise _Reject(403, 50001, "Missing Access")

    async def _create_message(self, request: web.Request) -> web.Response:
        cid = request.match_info["cid"]
        self._writable(cid)
        body, files = await self._body(request)
        self._check_message(body, files)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            # Discord: the same nonce from the same user within minutes returns the first
            if len(str(nonce)) > 25:
                raise _Reject(400, 50035, "Invalid Form Body (nonce)")
            earlier = self.nonces.get((cid, str(nonce)))
            if earlier is not None:
                return self._json(self._public(self.messages[earlier]))
        reference = body.get("message_reference") or {}
        if reference and reference.get("fail_if_not_exists", True):
            replied = self.messages.get(str(reference.get("message_id")))
            if replied is None or replied["channel_id"] != cid:
                raise _Reject(400, 50035, "message_reference: Unknown message")
        message = self._message(cid, body, files)
        if nonce is not None and body.get("enforce_nonce"):
            self.nonces[(cid, str(nonce))] = str(message["id"])
        return self._json(self._public(message))

    async def _edit_message(self, request: web.Request) -> web.Response:
        cid, mid = request.match_info["cid"], request.match_info["mid"]
        self._writable(cid)
        message = self.messages.get(mid)
        if message is None or message["channel_id"] != cid:
            raise _Reject(404, 10008, "Unknown Message")
        body, files = await self._body(request)
        self._check_message(body, files, partial=True)
        self._apply_edit(message, body)
        return self._json(self._public(message))

    async def _delete_message(self, request: web.Request) -> web.Response:
        cid, mid = request.match_info["cid"], request.match_info["mid"]
        self._writable(cid)
        message = self.messages.get(mid)
        if message is None or message["channel_id"] != cid:
            raise _Reject(404, 10008, "Unknown Message")
        del self.messages[mid]
        return self._no_content()

    @staticmethod
    def _apply_edit(message: dict[str, Any], body: dict[str, Any]) -> None:
        for key in ("content", "embeds", "components", "allowed_mentions"):
            if key in body:
                message[key] = (
                    body[key] if body[key] is not None else ("" if key == "content" else [])
                )
        message["edited_timestamp"] = TIMESTAMP
        message["edits"] += 1

    async def _create_dm(self, request: web.Request) -> web.Response:
        body, _ = await self._body(request)
        user_id = str(body.get("recipient_id", ""))
        if not user_id.isdigit():
            raise _Reject(400, 50035, "recipient_id: invalid")
        cid = self._dm_channel_for(user_id)
        return self._json(
            {
                "id": cid,
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [self.user(user_id, f"user{user_id}")],
            }
        )

    def _dm_channel_for(self, user_id: str) -> str:
        if user_id not in self.dm_channels:
            self.dm_channels[user_id] = self.snowflake()
        return self.dm_channels[user_id]

    # ------------------------------------------------------------------ REST: interactions

    def _interaction(self, iid: str, token: str) -> Interaction:
        record = self.interactions.get(iid)
        if record is None or record.token != token:
            raise _Reject(404, 10062, "Unknown interaction")
        return record

    def _by_token(self, app: str, token: str) -> Interaction:
        if app != self.app_id:
            raise _Reject(404, 10015, "Unknown Webhook")
        for record in self.interactions.values():
            if record.token == token and record.acked:
                if time.monotonic() - record.created > TOKEN_LIFETIME:
                    raise _Reject(401, 50027, "Invalid Webhook Token")
                return record
        raise _Reject(404, 10015, "Unknown Webhook")

    async def _callback(self, request: web.Request) -> web.Response:
        record = self._interaction(request.match_info["iid"], request.match_info["token"])
        body, files = await self._body(request)
        if time.monotonic() - record.created > RESPONSE_DEADLINE:
            raise _Reject(404, 10062, "Unknown interaction")
        if record.acked:
            raise _Reject(400, 40060, "Interaction has already been acknowledged.")
        kind = body.get("type")
        data = body.get("data") or {}
        itype = record.payload["type"]
        if (
            kind not in (4, 5, 6, 7, 9)
            or (kind in (6, 7) and itype != 3)
            or (kind == 9 and itype == 5)
        ):
            raise _Reject(400, 40043, f"Invalid interaction callback type {kind}")
        if kind == 4:
            self._check_message(data, files)
        if kind == 9:
            if (
                len(data.get("title", "")) > 45
                or not data.get("custom_id")
                or len(data["custom_id"]) > 100
                or not 1 <= len(data.get("components", [])) <= 5
                or any(not self._modal_field_ok(row) for row in data["components"])
            ):
                raise _Reject(400, 50035, "Invalid modal")
        record.callbacks.append(body)
        channel = str(record.payload.get("channel_id"))
        if kind == 4:
            message = self._message(channel, data, files, interaction=record.id)
            record.messages.append(message)
            record.original_id = message["id"]
        elif kind == 5:  # "thinking": an empty original until edited
            message = self._message(
                channel,
                {"content": ""},
                [],
                flags=int(data.get("flags") or 0),
                interaction=record.id,
            )
            message["deferred"] = True
            record.messages.append(message)
            record.original_id = message["id"]
        elif kind == 7:
            target = self.messages[str(record.payload["message"]["id"])]
            self._apply_edit(target, data)
        return self._no_content()

    @staticmethod
    def _modal_field_ok(row: dict[str, Any]) -> bool:
        """A text input in an action row (or a Label): label 1-45, value within max_length."""
        if row.get("type") == 18:  # Label: the label outside, the input without one
            fields = [row.get("component") or {}]
            label = row.get("label")
            if "label" in fields[0] or len(row.get("description") or "") > 100:
                return False
        elif row.get("type") == 1:  # the deprecated action row with a labelled input
            fields = row.get("components") or []
            label = fields[0].get("label") if fields else None
        else:
            return False
        if len(fields) != 1 or fields[0].get("type") != 4:
            return False
        field = fields[0]
        longest = int(field.get("max_length", 4000))
        return (
            bool(label)
            and len(label) <= 45
            and 1 <= longest <= 4000
            and len(field.get("value") or "") <= longest
            and len(field.get("placeholder") or "") <= 100
        )

    async def _channel_webhooks(self, request: web.Request) -> web.Response:
        cid = request.match_info["cid"]
        self._writable(cid)
        return self._json([w for w in self.webhooks.values() if w["channel_id"] == cid])

    async def _create_webhook(self, request: web.Request) -> web.Response:
        cid = request.match_info["cid"]
        self._writable(cid)
        if cid in self.no_webhooks:
            raise _Reject(403, 50013, "Missing Permissions")
        body, _ = await self._body(request)
        name = str(body.get("name") or "")
        if not 1 <= len(name) <= 80 or "discord" in name.lower():
            raise _Reject(400, 50035, "name: invalid webhook name")
        wid = self.snowflake()
        hook = {
            "id": wid,
            "type": 1,
            "channel_id": cid,
            "guild_id": self.channels[cid].get("guild_id"),
            "name": name,
            "token": secrets.token_hex(16),
            "application_id": self.app_id,
        }
        self.webhooks[wid] = hook
        return self._json(hook)

    def _channel_hook(self, wid: str, token: str) -> dict[str, Any] | None:
        hook = self.webhooks.get(wid)
        if hook is None:
            return None
        if hook["token"] != token:
            raise _Reject(401, 50027, "Invalid Webhook Token")
        return hook

    async def _execute_webhook(self, request: web.Request, hook: dict[str, Any]) -> web.Response:
        """A channel webhook posts as whoever ``username`` names (1 to 80 characters,
        never containing "discord" or "clyde"), into its channel or a thread of it."""
        body, files = await self._body(request)
        self._check_message(body, files)
        username = body.get("username")
        if username is not None and (
            not 1 <= len(str(username)) <= 80
            or any(word in str(username).lower() for word in ("discord", "clyde"))
        ):
            raise _Reject(400, 50035, 'username: Username cannot contain "discord"')
        if "message_reference" in body:
            raise _Reject(400, 50035, "message_reference: webhooks cannot reply")
        cid = request.query.get("thread_id") or hook["channel_id"]
        message = self._message(cid, body, files)
        message["author"] = {
            "id": hook["id"],
            "username": username or hook["name"],
            "avatar": None,
            "discriminator": "0000",
            "bot": True,
        }
        message["webhook_id"] = hook["id"]
        message["avatar_url"] = body.get("avatar_url")  # what the fake keeps: the picture
        if request.query.get("wait") == "true":
            return self._json(self._public(message))
        return self._no_content()

    async def _followup(self, request: web.Request) -> web.Response:
        hook = self._channel_hook(request.match_info["app"], request.match_info["token"])
        if hook is not None:
            return await self._execute_webhook(request, hook)
        record = self._by_token(request.match_info["app"], request.match_info["token"])
        body, files = await self._body(request)
        self._check_message(body, files)
        message = self._message(
            str(record.payload.get("channel_id")), body, files, interaction=record.id
        )
        record.messages.append(message)
        if request.query.get("wait") == "true":
            return self._json(self._public(message))
        return self._no_content()

    async def _webhook_message(self, request: web.Request) -> web.StreamResponse:
        hook = self._channel_hook(request.match_info["app"], request.match_info["token"])
        if hook is not None:  # a channel webhook's own message
            message = self.messages.get(request.match_info["mid"])
            if message is None or message.get("webhook_id") != hook["id"]:
                raise _Reject(404, 10008, "Unknown Message")
            if request.method == "DELETE":
                del self.messages[message["id"]]
                return self._no_content()
            if request.method == "PATCH":
                body, files = await self._body(request)
                self._check_message(body, files, partial=True)
                self._apply_edit(message, body)
                return self._json(self._public(message))
            return self._json(self._public(message))
        record = self._by_token(request.match_info["app"], request.match_info["token"])
        mid = request.match_info["mid"]
        if mid == "@original":
            mid = record.original_id or ""
        message = self.messages.get(mid)
        if (
            message is None
            or all(m["id"] != mid for m in record.messages)
            or (mid in record.deleted)
        ):
            raise _Reject(404, 10008, "Unknown Message")
        if request.method == "GET":
            return self._json(self._public(message))
        if request.method == "DELETE":
            record.deleted.add(mid)
            return self._no_content()
        if request.method == "PATCH":
            body, files = await self._body(request)
            self._check_message(body, files, partial=True)
            self._apply_edit(message, body)
            message.pop("deferred", None)
            if files:
                message["files"] = files
            return self._json(self._public(message))
        raise _Reject(405, 0, "405: Method Not Allowed")
