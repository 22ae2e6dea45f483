"""Presses while the bot dies: issue 13's inbox under SIGKILL and SIGTERM.

One real ``community-bridge run`` process serves Slack (HTTP), Telegram (long polling:
the offset path) and Discord (the gateway) against the fakes, on the suite's database.
Each of ``presses`` persons per platform presses Support on the idea's card once, and
again only when the platform says the press did not reach the bot (Slack's request
failed, Discord's interaction got no callback) or the bot said its database did not take
it; Telegram keeps what the bot did not confirm. A press the platform took is never
repeated, so nothing masks a lost one. At a third of the presses the process is killed
with SIGKILL, at two thirds stopped with SIGTERM, and restarted each time.

What the people and the platforms saw is then compared with what the database holds:

- *lost*: a press the platform was told was received (Slack's 200, Telegram's confirmed
  offset, Discord's interaction callback) whose vote is not stored, or a person whose
  vote is missing at all (Telegram keeps what was never confirmed);
- *doubled*: a vote counted twice (the idea's score against its voters), or a press
  answered twice.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.storm import TG_GROUPS, Bot, Person, Storm, _free_port, refused

__all__ = ["Crash", "CrashResult"]


@dataclass
class CrashResult:
    persons: int
    presses: int
    #: per platform: persons whose vote is not stored
    lost: dict[str, list[str]]
    #: Slack response_urls and Discord interactions answered more than once
    doubled: list[str]
    score: int
    voters: int
    resumed: int
    seconds: float
    logs: dict[str, str] = field(default_factory=dict)


class Crash(Storm):
    def __init__(self, db_url: str, workdir: Path, presses: int = 300) -> None:
        super().__init__(db_url, workdir, persons=presses * 3, actions=presses * 3, concurrency=60)
        self.answer_within = 6.0
        self.presses = 0
        self.events: list[tuple[float, str]] = []

    @property
    def db_url(self) -> str:
        return self.pg_url

    def _config(self, name: str, port: int, discord: bool) -> Path:
        path = super()._config(name, port, discord)
        lines = [
            line
            for line in path.read_text(encoding="utf-8").splitlines()
            if not line.startswith(("mode =", "webhook_secret ="))
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")  # Telegram polls
        return path

    async def start(self) -> None:
        """The storm's platforms and channels; one process only."""
        await self.start_fakes()
        port = _free_port()
        self.bots["A"] = Bot("A", self._config("A", port, True), port, self.workdir / "bot-A.log")
        began = time.monotonic()
        self.bots["A"].start()
        await self.bots["A"].ready(self.session)
        #: from starting the process until /healthz said ok (bench.footprint)
        self.ready_seconds = time.monotonic() - began
        await self.discord.wait_for(lambda: bool(self.discord.guild_commands), 30)

    async def telegram_command(self, user_id: int, chat: int | None, text: str) -> bool:
        user = self.telegram.users[user_id]
        where = self.telegram.private_chat(user) if chat is None else self.telegram.chats[chat]
        update = self.telegram.command(user, where, text)
        return await self._confirmed(update["update_id"])

    async def _confirmed(self, update_id: int, within: float | None = None) -> bool:
        deadline = time.monotonic() + (within or self.answer_within)
        while time.monotonic() < deadline:
            if self.telegram.confirmed > update_id:
                return True
            await asyncio.sleep(0.05)
        return False

    async def telegram_press(self, user_id: int, chat: int, repeat: bool = False) -> bool:
        """Once: Telegram keeps an update until the bot confirms it (the next offset); a
        confirmed press is the bot's to keep."""
        user = self.telegram.users[user_id]
        update = self.telegram.press(user, self._tg_card(chat))
        return await self._confirmed(update["update_id"], within=120.0)

    async def slack_press(self, user: str, channel: str, repeat: bool = False) -> bool:
        """Until Slack got its 200 (a refused request the person sees fail, and presses
        again); an acknowledged press is the bot's to keep."""
        import json
        from urllib.parse import urlencode

        sender = self.slack.sender("http://unused")
        card = self._slack_card(channel)
        label = next(label for label, _ in card.buttons if label.startswith("Support"))
        payload = sender.press_payload(
            card.blocks, label, user=user, channel=channel, message_ts=card.ts
        )
        await self._slack_post(urlencode({"payload": json.dumps(payload)}))
        # told at once when the database did not take it: then the person presses again
        url = payload["response_url"]
        if not await self.slack.answered(url, self.answer_within):
            return True  # acknowledged; answered later (after a restart, say)
        return not refused(self.slack.replies_to(url)[:1])

    def _make_persons(self) -> None:
        from tests.storm import SLACK_CHANNELS

        for n in range(self.n_persons):
            platform = ("slack", "telegram", "discord")[n % 3]
            if platform == "slack":
                user, channel = f"U{10000 + n}", SLACK_CHANNELS[n % 2]
                self.slack.add_user(user, f"Slack {n}")
            elif platform == "telegram":
                user, channel = str(100000 + n), str(TG_GROUPS[n % 2])
                self.telegram.user(100000 + n, f"Tele {n}")
            else:
                user, channel = str(3_000_000 + n), self.discord_channels[n % 2]
            self.persons.append(Person(platform, user, channel, ["up"], True))
        self.planned = len(self.persons)

    async def _act(self, person: Person, action: str) -> bool:
        self.presses += 1
        return await self._press(person, False)

    async def _killer(self, on_kill: Any = None) -> None:
        """SIGKILL at a third of the presses, SIGTERM at two thirds; restarted each time."""
        bot = self.bots["A"]
        assert self.session is not None
        for share, how in ((1 / 3, "kill"), (2 / 3, "stop")):
            while True:
                if self.done >= share * self.planned:
                    break
                await asyncio.sleep(0.02)
            self.events.append((time.monotonic(), how))
            bot.kill() if how == "kill" else bot.stop()
            await asyncio.sleep(0.5)
            bot.start()
            await bot.ready(self.session)

    async def crash(self) -> CrashResult:
        gate = asyncio.Semaphore(self.concurrency)
        started = time.monotonic()
        killer = asyncio.create_task(self._killer())
        await asyncio.gather(*(self._person(p, gate) for p in self.persons))
        await killer
        seconds = time.monotonic() - started
        return await self._crash_result(seconds)

    async def _query(self, sql: str) -> list[Any]:
        engine = create_async_engine(self.db_url)
        try:
            async with engine.connect() as conn:
                return list((await conn.execute(text(sql))).all())
        finally:
            await engine.dispose()

    async def _crash_result(self, seconds: float, within: float = 60.0) -> CrashResult:
        wanted = {(p.platform, p.user_id) for p in self.persons}
        deadline = time.monotonic() + within
        voters: set[tuple[str, str]] = set()
        while time.monotonic() < deadline:  # what is stored gets handled, resumed or not
            rows = await self._query(
                "SELECT a.platform, a.user_id FROM idea_votes v "
                "JOIN accounts a ON a.person_id = v.person_id WHERE v.value > 0"
            )
            voters = {(str(r[0]), str(r[1])) for r in rows}
            pending = (await self._query("SELECT count(*) FROM inbox WHERE status = 'pending'"))[0][
                0
            ]
            if voters >= wanted and not pending:
                break
            await asyncio.sleep(0.2)
        score = int((await self._query("SELECT score FROM ideas ORDER BY id LIMIT 1"))[0][0])
        lost: dict[str, list[str]] = {"slack": [], "telegram": [], "discord": []}
        for platform, user in sorted(wanted - voters):
            lost[platform].append(user)
        answers = Counter(r["key"] for r in self.slack.responses)
        doubled = [f"slack:{key}" for key, n in answers.items() if n > 1]
        doubled += [
            f"discord:{iid}"
            for iid, record in self.discord.interactions.items()
            if len(record.callbacks) > 1
        ]
        return CrashResult(
            persons=len(self.persons),
            presses=self.presses,
            lost=lost,
            doubled=doubled,
            score=score,
            voters=len(voters),
            resumed=self._resumed_in_logs(),
            seconds=seconds,
            logs=self.logs(),
        )

    def _resumed_in_logs(self) -> int:
        return sum(
            bot.log.read_text(errors="replace").count("inbox: resuming")
            for bot in self.bots.values()
        )
