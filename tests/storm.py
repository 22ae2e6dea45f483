"""A vote storm on one idea, shown in six channels on the three platforms, with two bot
processes on one PostgreSQL database, one of them killed with SIGKILL mid-storm and
restarted. Shared by the test (tests/bridge/test_storm.py asserts what people see) and
the benchmark (``python -m bench storm`` prints the figures).

The platforms are the fakes at the platforms' own limits (speed 1), on real sockets; the
bots are real ``community-bridge run`` processes talking to them through the real SDKs:

- process A serves Slack, Telegram and Discord; process B serves Slack and Telegram (one
  Discord gateway session is the bot's; two processes share Slack and Telegram traffic
  behind a load balancer, and deliver each other's outbox rows),
- Slack's requests and Telegram's webhook deliveries go to A and B in turn, and one that
  finds its process gone is retried at the other (Slack with ``X-Slack-Retry-Num``,
  Telegram with the same ``update_id``), as the platforms retry,
- each person acts in order (the next press after the bot answered the last), persons side
  by side; an action whose answer never comes (its process died after acknowledging it)
  is repeated by the person, as people do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from tests.fakes.discord import FakeDiscord
from tests.fakes.slack import FakeSlack
from tests.fakes.telegram import FakeTelegram

__all__ = ["Storm", "StormResult"]

SUPPORT = re.compile(r"Support \((\d+)\)")
TG_SECRET = "storm-webhook-secret"
SLACK_CHANNELS = ("C1", "C2")
TG_GROUPS = (-1001, -1002)
ADMIN_SLACK, ADMIN_TG, ADMIN_DISCORD = "UADMIN", 1, "111"
#: seconds a person waits for the bot's answer before acting again: an overloaded bot may
#: answer an action late, or (Discord, past its 3 s deadline) never, and still apply it;
#: a person who acted again at once could see their earlier action land after the later
ANSWER_WITHIN = 30.0
#: the bot's answer when its database did not take an event in time: nothing changed,
#: and the person does it again
REFUSED = "My database is not answering right now"


def refused(replies: list[dict[str, Any]]) -> bool:
    return any(REFUSED in json.dumps(r) for r in replies)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Person:
    platform: str
    user_id: str
    channel: str  # Slack channel, Telegram group id, Discord channel id
    actions: list[str]
    final: bool = False  # supports the idea when done


@dataclass
class StormResult:
    persons: int
    actions: int
    seconds: float
    settle_seconds: float
    expected: int
    stored: int
    stored_persons: set[tuple[str, str]]
    expected_persons: set[tuple[str, str]]
    shown: dict[str, int | None]
    cards: dict[str, int]
    left_sending: int
    left_pending: int
    refusals: dict[str, list[Any]]
    repeats: int
    most_edits: dict[str, int]
    logs: dict[str, str] = field(default_factory=dict)


class Bot:
    """One ``community-bridge run`` process and its configuration."""

    def __init__(self, name: str, config: Path, port: int, log: Path) -> None:
        self.name, self.config, self.port, self.log = name, config, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        out = self.log.open("ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for key in ("SLACK_BOT_TOKEN", "TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN", "DATABASE_URL"):
            env.pop(key, None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bridge", "run", "--config", str(self.config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    async def ready(self, session: aiohttp.ClientSession, within: float = 60.0) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"bot {self.name} exited: {self.log.read_text()[-3000:]}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(f"{self.url}/healthz") as resp:
                    if resp.status == 200 and (await resp.json())["status"] == "ok":
                        return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"bot {self.name} not ready: {self.log.read_text()[-3000:]}")


class Storm:
    def __init__(
        self,
        pg_url: str,
        workdir: Path,
        persons: int = 2000,
        actions: int = 10_000,
        seed: int = 12,
        concurrency: int = 48,
        kill_at: float = 0.3,
    ) -> None:
        self.pg_url, self.workdir = pg_url, workdir
        self.n_persons, self.n_actions = persons, actions
        self.rng = random.Random(seed)
        self.concurrency = concurrency
        self.kill_at = kill_at
        self.slack = FakeSlack()
        self.telegram = FakeTelegram(token="123:STORM", username="storm_bot")
        self.discord = FakeDiscord()
        self.bots: dict[str, Bot] = {}
        self.persons: list[Person] = []
        self.done = 0
        self.repeats = 0
        self.last_vote = 0.0
        self._turn = 0
        self._kill_time = asyncio.Event()
        #: seconds from an action until the bot answered it
        self.latencies: list[float] = []
        self.session: aiohttp.ClientSession | None = None
        self.answer_within = ANSWER_WITHIN
        self.discord_channels: tuple[str, str] = ("", "")
        self.guild = ""

    # ------------------------------------------------------------------ set-up

    def _config(self, name: str, port: int, discord: bool) -> Path:
        lines = [
            "[community]",
            'name = "Storm"',
            'locale = "en"',
            f'admins = ["slack:{ADMIN_SLACK}", "telegram:{ADMIN_TG}", "discord:{ADMIN_DISCORD}"]',
            "[database]",
            f'url = "{self.pg_url}"',
            "[http]",
            'host = "127.0.0.1"',
            f"port = {port}",
            'public_url = "https://bot.example.org"',
            "[delivery]",
            'poll_interval = "1s"',
            'edit_delay = "1s"',
            "[slack]",
            f'bot_token = "{self.slack.token}"',
            f'signing_secret = "{self.slack.secret}"',
            f'api_url = "{self.slack.api_url}"',
            "[telegram]",
            f'token = "{self.telegram.token}"',
            f'base_url = "{self.telegram.base_url}"',
            'mode = "webhook"',
            f'webhook_secret = "{TG_SECRET}"',
        ]
        if discord:
            lines += [
                "[discord]",
                'token = "x"',
                f'api_base = "{self.discord.api_base}"',
                f'gateway_url = "{self.discord.ws_url}"',
                f'guild_id = "{self.guild}"',
            ]
        path = self.workdir / f"bot-{name}.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    async def start_fakes(self) -> None:
        """The three platforms, their six channels and the admin; the client session."""
        await self.slack.start()
        await self.telegram.start()
        await self.discord.start()
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        self.slack.add_user(ADMIN_SLACK, "Ada Admin")
        for channel in SLACK_CHANNELS:
            self.slack.add_channel(channel, f"ideas-{channel.lower()}")
        for chat in TG_GROUPS:
            self.telegram.group(chat, f"Ideas {chat}", supergroup=True)
        self.telegram.user(ADMIN_TG, "Ada")
        self.guild = self.discord.add_guild("Storm")
        self.discord_channels = (
            self.discord.add_channel(self.guild, "ideas-a"),
            self.discord.add_channel(self.guild, "ideas-b"),
        )

    async def start(self) -> None:
        await self.start_fakes()
        for name, discord in (("A", True), ("B", False)):
            port = _free_port()
            self.bots[name] = Bot(
                name, self._config(name, port, discord), port, self.workdir / f"bot-{name}.log"
            )
        self.telegram.webhook_targets = [bot.url for bot in self.bots.values()]
        for bot in self.bots.values():  # one after the other: the first migrates
            bot.start()
            await bot.ready(self.session)
        await self.discord.wait_for(lambda: bool(self.discord.guild_commands), 30)

    async def close(self) -> None:
        for bot in self.bots.values():
            bot.stop()
        if self.session is not None:
            await self.session.close()
        await self.slack.close()
        await self.telegram.stop()
        await self.discord.stop()

    def logs(self) -> dict[str, str]:
        return {
            name: bot.log.read_text(errors="replace")[-4000:] for name, bot in self.bots.items()
        }

    # ------------------------------------------------------------------ talking

    def _slack_targets(self) -> list[str]:
        self._turn += 1
        order = list(self.bots.values())
        first = order[self._turn % len(order)]
        return [first.url] + [b.url for b in order if b is not first]

    async def _slack_post(self, body: str) -> None:
        """A request as Slack sends it; retried at the other process when one is gone (as
        Slack retries a request nobody acknowledged)."""
        assert self.session is not None
        sender = self.slack.sender("http://unused")
        deadline = time.monotonic() + 60
        attempt = 0
        while time.monotonic() < deadline:
            for url in self._slack_targets():
                headers = {
                    "Content-Type": "application/x-www-form-urlencoded",
                    **sender.sign(body),
                }
                if attempt:
                    headers["X-Slack-Retry-Num"] = str(min(attempt, 3))
                    headers["X-Slack-Retry-Reason"] = "http_timeout"
                try:
                    async with self.session.post(
                        f"{url}/slack/events", data=body.encode(), headers=headers
                    ) as resp:
                        if resp.status == 200:
                            return
                except (aiohttp.ClientError, TimeoutError):
                    pass
                attempt += 1
            await asyncio.sleep(0.2)
        raise RuntimeError("no bot process took the Slack request")

    async def slack_command(self, user: str, channel: str, command: str, text: str) -> bool:
        sender = self.slack.sender("http://unused")
        body = sender.command_body(command, text, user=user, channel=channel)
        url = re.search(r"response_url=([^&]+)", body)
        assert url is not None
        from urllib.parse import unquote

        before = len(self.slack.posted(channel))
        await self._slack_post(body)
        answered = asyncio.ensure_future(
            self.slack.answered(unquote(url.group(1)), self.answer_within)
        )
        deadline = time.monotonic() + self.answer_within
        while not answered.done() and time.monotonic() < deadline:
            if len(self.slack.posted(channel)) > before:  # answered in the channel
                answered.cancel()
                return True
            await asyncio.sleep(0.05)
        return await answered

    def _slack_card(self, channel: str) -> Any:
        for posted in self.slack.posted(channel):
            if any(label.startswith("Support") for label, _ in posted.buttons):
                return posted
        return None

    async def slack_press(self, user: str, channel: str, repeat: bool = False) -> bool:
        sender = self.slack.sender("http://unused")
        card = self._slack_card(channel)
        label = next(label for label, _ in card.buttons if label.startswith("Support"))
        payload = sender.press_payload(
            card.blocks, label, user=user, channel=channel, message_ts=card.ts
        )
        body = urlencode({"payload": json.dumps(payload)})
        await self._slack_post(body)
        if repeat:  # Slack delivers the same request again
            assert self.session is not None
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                **sender.sign(body),
                "X-Slack-Retry-Num": "1",
                "X-Slack-Retry-Reason": "http_timeout",
            }
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with self.session.post(
                    f"{self._slack_targets()[0]}/slack/events", data=body.encode(), headers=headers
                ):
                    pass
        if not await self.slack.answered(payload["response_url"], self.answer_within):
            return False
        return not refused(self.slack.replies_to(payload["response_url"])[:1])

    def _tg_card(self, chat: int) -> Any:
        for (chat_id, _mid), message in self.telegram.messages.items():
            rows = message.get("reply_markup", {}).get("inline_keyboard", [])
            if chat_id == chat and rows and rows[0][0]["text"].startswith("Support"):
                return message
        return None

    async def telegram_press(self, user_id: int, chat: int, repeat: bool = False) -> bool:
        user = self.telegram.users[user_id]
        update = self.telegram.press(user, self._tg_card(chat))
        if repeat:  # Telegram delivers the same update again
            self.telegram.push(update, update["update_id"])
        return await self.telegram.delivered(update["update_id"]) >= 0

    async def telegram_command(self, user_id: int, chat: int | None, text: str) -> bool:
        user = self.telegram.users[user_id]
        where = self.telegram.private_chat(user) if chat is None else self.telegram.chats[chat]
        update = self.telegram.command(user, where, text)
        return await self.telegram.delivered(update["update_id"]) >= 0

    def _dc_card(self, channel: str) -> Any:
        for message in self.discord.channel_messages(channel):
            for button in self.discord.buttons(message):
                if str(button.get("label", "")).startswith("Support"):
                    return message, button["custom_id"]
        return None

    async def _interaction(self, payload: dict[str, Any], repeat: bool = False) -> bool:
        record = await self.discord.dispatch_interaction(payload)
        if repeat:  # the same interaction delivered again
            await self.discord.dispatch("INTERACTION_CREATE", payload)
        try:
            await self.discord.wait_for(lambda: record.acked, self.answer_within)
        except (AssertionError, TimeoutError):
            return False
        return not refused(record.callbacks[:1])

    async def discord_press(self, user_id: str, channel: str, repeat: bool = False) -> bool:
        message, custom_id = self._dc_card(channel)
        user = self.discord.user(user_id, f"user{user_id}")
        return await self._interaction(self.discord.button(message, custom_id, user=user), repeat)

    async def discord_slash(
        self, user_id: str, channel: str, name: str, options: dict[str, Any], sub: str | None = None
    ) -> bool:
        user = self.discord.user(user_id, f"user{user_id}")
        return await self._interaction(
            self.discord.slash(name, options, user=user, channel=channel, sub=sub)
        )

    # ------------------------------------------------------------------ the storm

    async def prepare(self) -> None:
        """The group, six linked channels and the idea's card in each of them."""
        assert await self.slack_command(ADMIN_SLACK, "C1", "/group", "new ideas")
        for channel in SLACK_CHANNELS:
            assert await self.slack_command(ADMIN_SLACK, channel, "/link", "ideas")
        for chat in TG_GROUPS:
            assert await self.telegram_command(ADMIN_TG, chat, "/link ideas")
        for channel in self.discord_channels:
            assert await self.discord_slash(ADMIN_DISCORD, channel, "link", {"group": "ideas"})
        assert await self.slack_command(ADMIN_SLACK, "C1", "/idea", "Storm idea | everybody votes")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if (
                all(self._slack_card(c) for c in SLACK_CHANNELS)
                and all(self._tg_card(c) for c in TG_GROUPS)
                and all(self._dc_card(c) for c in self.discord_channels)
            ):
                break
            await asyncio.sleep(0.2)
        else:
            raise RuntimeError("the idea's card did not reach the six channels")
        self._make_persons()

    def _make_persons(self) -> None:
        kinds = ["up"] * 45 + ["withdraw"] * 20 + ["double"] * 15 + ["repeat"] * 20
        weight = {"up": 1, "withdraw": 1, "double": 2, "repeat": 2}
        per_person = max(1, self.n_actions // self.n_persons)
        total = 0
        for n in range(self.n_persons):
            platform = ("slack", "telegram", "discord")[n % 3]
            actions: list[str] = []
            while sum(weight[a] for a in actions) < per_person:
                actions.append(self.rng.choice(kinds))
            total += sum(weight[a] for a in actions)
            if platform == "slack":
                user, channel = f"U{10000 + n}", SLACK_CHANNELS[n % 2]
                self.slack.add_user(user, f"Slack {n}")
            elif platform == "telegram":
                user, channel = str(100000 + n), str(TG_GROUPS[n % 2])
                self.telegram.user(100000 + n, f"Tele {n}")
                self.telegram.started.add(100000 + n)
            else:
                user, channel = str(3_000_000 + n), self.discord_channels[n % 2]
            final = next((a != "withdraw" for a in reversed(actions)), False)
            self.persons.append(Person(platform, user, channel, actions, final))
        self.planned = total

    async def _act(self, person: Person, action: str) -> bool:
        repeat = action == "repeat"
        if action == "withdraw":
            if person.platform == "slack":
                return await self.slack_command(
                    person.user_id, person.channel, "/vote", "I-1 withdraw"
                )
            if person.platform == "telegram":  # in the private chat: the answer goes there
                return await self.telegram_command(int(person.user_id), None, "/vote I-1 withdraw")
            return await self.discord_slash(
                person.user_id, person.channel, "vote", {"idea": "I-1", "direction": "withdraw"}
            )
        if action == "double":  # two presses at once
            one, two = await asyncio.gather(self._press(person, False), self._press(person, False))
            return one or two
        return await self._press(person, repeat)

    async def _press(self, person: Person, repeat: bool) -> bool:
        if person.platform == "slack":
            return await self.slack_press(person.user_id, person.channel, repeat)
        if person.platform == "telegram":
            return await self.telegram_press(int(person.user_id), int(person.channel), repeat)
        return await self.discord_press(person.user_id, person.channel, repeat)

    async def _person(self, person: Person, gate: asyncio.Semaphore) -> None:
        async with gate:
            for action in person.actions:
                began = time.monotonic()
                for _ in range(5):
                    if await self._act(person, action):
                        self.latencies.append(time.monotonic() - began)
                        break
                    self.repeats += 1  # no answer: the person does it again
                else:
                    raise RuntimeError(f"{person.platform}:{person.user_id}: {action} failed")
                self.done += 2 if action in ("double", "repeat") else 1
                self.last_vote = time.monotonic()
                if self.done >= self.kill_at * self.planned:
                    self._kill_time.set()

    async def _killer(self, on_kill: Callable[[], Awaitable[None]] | None) -> None:
        """SIGKILL process B once ``kill_at`` of the storm is done; restart it."""
        await self._kill_time.wait()
        bot = self.bots["B"]
        bot.kill()
        if on_kill is not None:
            await on_kill()
        await asyncio.sleep(1.0)
        bot.start()
        assert self.session is not None
        await bot.ready(self.session)

    async def run(self, on_kill: Callable[[], Awaitable[None]] | None = None) -> StormResult:
        gate = asyncio.Semaphore(self.concurrency)
        started = time.monotonic()
        killer = asyncio.create_task(self._killer(on_kill))
        await asyncio.gather(*(self._person(p, gate) for p in self.persons))
        await killer
        seconds = time.monotonic() - started
        expected = sum(1 for p in self.persons if p.final)
        settle = await self._settle(expected)
        return await self._result(seconds, settle, expected)

    def shown(self) -> dict[str, int | None]:
        """The count each of the six cards shows."""

        def count(label: str | None) -> int | None:
            m = SUPPORT.search(label or "")
            return int(m.group(1)) if m else None

        out: dict[str, int | None] = {}
        for channel in SLACK_CHANNELS:
            card = self._slack_card(channel)
            out[f"slack:{channel}"] = count(
                next((label for label, _ in card.buttons if label.startswith("Support")), None)
            )
        for chat in TG_GROUPS:
            card = self._tg_card(chat)
            out[f"telegram:{chat}"] = count(card["reply_markup"]["inline_keyboard"][0][0]["text"])
        for channel in self.discord_channels:
            message, _ = self._dc_card(channel)
            labels = [str(b.get("label")) for b in self.discord.buttons(message)]
            out[f"discord:{channel}"] = count(next(x for x in labels if x.startswith("Support")))
        return out

    async def _outbox_left(self) -> tuple[int, int]:
        import asyncpg

        conn = await asyncpg.connect(self.pg_url.replace("+asyncpg", ""))
        try:
            sending = await conn.fetchval("SELECT count(*) FROM outbox WHERE status = 'sending'")
            pending = await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE status = 'pending' AND kind = 'refresh'"
            )
        finally:
            await conn.close()
        return int(sending), int(pending)

    async def _settle(self, expected: int, within: float = 120.0) -> float:
        """Seconds from the last vote until every card shows ``expected`` and nothing is
        left in flight (rows a killed process held wait out their lease)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if all(v == expected for v in self.shown().values()):
                if await self._outbox_left() == (0, 0):
                    break
            await asyncio.sleep(0.1)
        return time.monotonic() - self.last_vote

    async def _result(self, seconds: float, settle: float, expected: int) -> StormResult:
        import asyncpg

        conn = await asyncpg.connect(self.pg_url.replace("+asyncpg", ""))
        try:
            rows = await conn.fetch(
                "SELECT a.platform, a.user_id FROM idea_votes v "
                "JOIN accounts a ON a.person_id = v.person_id WHERE v.value > 0"
            )
            score = await conn.fetchval("SELECT score FROM ideas ORDER BY id LIMIT 1")
        finally:
            await conn.close()
        sending, pending = await self._outbox_left()
        cards = {
            f"slack:{c}": sum(
                1
                for p in self.slack.posted(c)
                if any(label.startswith("Support") for label, _ in p.buttons)
            )
            for c in SLACK_CHANNELS
        }
        for chat in TG_GROUPS:
            cards[f"telegram:{chat}"] = sum(
                1
                for (cid, _), m in self.telegram.messages.items()
                if cid == chat and m.get("reply_markup")
            )
        for channel in self.discord_channels:
            cards[f"discord:{channel}"] = sum(
                1 for m in self.discord.channel_messages(channel) if self.discord.buttons(m)
            )
        refusals: dict[str, list[Any]] = {
            "slack": list(self.slack.allowance.refusals if self.slack.allowance else []),
            "telegram": list(self.telegram.limit_refusals),
            "discord": list(self.discord.allowance.refusals if self.discord.allowance else []),
        }
        edits: dict[str, int] = {}
        for name, allowance in (
            ("slack", self.slack.allowance),
            ("telegram", self.telegram.allowance),
            ("discord", self.discord.allowance),
        ):
            assert allowance is not None
            keys = [k for k in allowance.accepted if k.startswith("chat:")]
            per = {"slack": 1.0, "telegram": 60.0, "discord": 5.0}[name]
            edits[name] = max(
                (allowance.most_in(k.partition(":")[2], per) for k in keys), default=0
            )
        return StormResult(
            persons=len(self.persons),
            actions=self.done,
            seconds=seconds,
            settle_seconds=settle,
            expected=expected,
            stored=int(score or 0),
            stored_persons={(str(r["platform"]), str(r["user_id"])) for r in rows},
            expected_persons={(p.platform, p.user_id) for p in self.persons if p.final},
            shown=self.shown(),
            cards=cards,
            left_sending=sending,
            left_pending=pending,
            refusals=refusals,
            repeats=self.repeats,
            most_edits=edits,
            logs=self.logs(),
        )
