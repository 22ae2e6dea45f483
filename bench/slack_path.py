"""P1 Slack path (issue 14): signed ``/vote`` slash commands over HTTP through Bolt into
a real ``community-bridge run`` process (Slack only, the fake Slack for its Web API and
response_urls), parse, commit, answer; against a bare slack-bolt ``AsyncApp`` in its own
process that only acks, on the same aiohttp request path.

- saturation: ``requests`` commands, ``concurrency`` at a time; requests a second of both
  (the bot's counted until every command was answered) and their ratio (goal ≥ 0.6; at
  least 0.25 in issue 14);
- at half of the bot's saturation rate, for ``seconds``: p50 and p99 of the time until the
  ack (goal p99 ≤ 100 ms).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

BARE = textwrap.dedent(
    """
    import re, sys
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    secret, token, api, port = sys.argv[1:5]
    app = AsyncApp(client=AsyncWebClient(token=token, base_url=api), signing_secret=secret)

    @app.command(re.compile("^/"))
    async def command(ack):
        await ack()

    async def handle(request):
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", handle)
    web.run_app(web_app, host="127.0.0.1", port=int(port), print=None)
    """
)


def _spawn(
    args: list[str], env: dict[str, str], log: Path | None = None
) -> subprocess.Popen[bytes]:
    out = log.open("ab") if log is not None else None
    return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT if out else None)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _ready(url: str, proc: subprocess.Popen[bytes], within: float = 60.0) -> None:
    import aiohttp

    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("the server exited")
            try:
                async with http.get(url) as resp:
                    if resp.status in (200, 404, 405):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} not ready")


class Load:
    def __init__(self, fake: Any, url: str) -> None:
        self.fake = fake
        self.url = url
        self.sender = fake.sender(url)
        self.n = 0
        self.refused = 0

    def body(self) -> tuple[str, str]:
        self.n += 1
        user = f"UV{self.n % 200:04d}"
        body = self.sender.command_body("/vote", "I-1 up", user=user, channel="C1")
        from urllib.parse import parse_qs

        return body, parse_qs(body)["response_url"][0]

    async def one(self, http: Any) -> tuple[float, str]:
        """The time until the ack, and the response_url (empty when the ack itself said
        the database did not take the command in time)."""
        body, response_url = self.body()
        headers = {"Content-Type": "application/x-www-form-urlencoded", **self.sender.sign(body)}
        began = time.monotonic()
        async with http.post(self.url, data=body.encode(), headers=headers) as resp:
            text = await resp.text()
            assert resp.status == 200, resp.status
        took = time.monotonic() - began
        if "not answering" in text:
            self.refused += 1
            return took, ""
        return took, response_url

    async def saturate(self, requests: int, concurrency: int, answered: bool) -> float:
        """Requests a second: all acked (and, with ``answered``, all answered)."""
        import aiohttp

        gate = asyncio.Semaphore(concurrency)
        urls: list[str] = []

        async def go(http: Any) -> None:
            async with gate:
                _, url = await self.one(http)
                urls.append(url)

        async with aiohttp.ClientSession() as http:
            began = time.monotonic()
            await asyncio.gather(*(go(http) for _ in range(requests)))
            if answered:
                for url in urls:
                    if url:
                        assert await self.fake.answered(url, 120), "a command was never answered"
            return requests / (time.monotonic() - began)

    async def latencies(self, rate: float, seconds: float) -> list[float]:
        import aiohttp

        out: list[float] = []
        async with aiohttp.ClientSession() as http:
            tasks = []
            began = time.monotonic()
            k = 0
            while time.monotonic() - began < seconds:
                tasks.append(asyncio.create_task(self.one(http)))
                k += 1
                await asyncio.sleep(max(0.0, began + k / rate - time.monotonic()))
            for took, _ in await asyncio.gather(*tasks):
                out.append(took)
        return sorted(out)


async def main(
    url: str | None, requests: int = 300, concurrency: int = 16, seconds: float = 8.0
) -> None:
    from bridge.db import upgrade
    from tests.fakes.slack import FakeSlack

    db = url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'slack_path.db'}"
    await upgrade(db)
    fake = await FakeSlack().start()
    fake.add_user("UADMIN", "Ada")
    fake.add_channel("C1", "ideas")
    for n in range(200):
        fake.add_user(f"UV{n:04d}", f"Voter {n}")
    work = Path(tempfile.mkdtemp())
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for key in ("SLACK_BOT_TOKEN", "TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN", "DATABASE_URL"):
        env.pop(key, None)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        bare_port = _free_port()
        bare = _spawn(
            [sys.executable, "-c", BARE, fake.secret, fake.token, fake.api_url, str(bare_port)],
            env,
        )
        procs.append(bare)
        bare_url = f"http://127.0.0.1:{bare_port}/slack/events"
        await _ready(f"http://127.0.0.1:{bare_port}/", bare)

        port = _free_port()
        config = work / "bot.toml"
        config.write_text(
            textwrap.dedent(
                f"""
                [community]
                name = "Bench"
                admins = ["slack:UADMIN"]
                [database]
                url = "{db}"
                [http]
                host = "127.0.0.1"
                port = {port}
                public_url = "https://bot.example.org"
                [slack]
                bot_token = "{fake.token}"
                signing_secret = "{fake.secret}"
                api_url = "{fake.api_url}"
                """
            ),
            encoding="utf-8",
        )
        bot = _spawn(
            [sys.executable, "-m", "bridge", "run", "--config", str(config)], env, work / "bot.log"
        )
        procs.append(bot)
        await _ready(f"http://127.0.0.1:{port}/healthz", bot)
        bot_url = f"http://127.0.0.1:{port}/slack/events"
        admin = fake.sender(bot_url)
        for command, text in (("/group", "new ideas"), ("/link", "ideas"), ("/idea", "Bench")):
            before = len(fake.posted("C1"))
            status, _ = await admin.command(command, text, user="UADMIN", channel="C1")
            assert status == 200
            answered = asyncio.ensure_future(fake.answered(admin.last_response_url, 30))
            while True:  # answered privately, or in the channel
                if answered.done() or len(fake.posted("C1")) > before:
                    break
                await asyncio.sleep(0.05)
            answered.cancel()

        bare_load, bot_load = Load(fake, bare_url), Load(fake, bot_url)
        await bare_load.saturate(50, concurrency, answered=False)  # warm-up
        await bot_load.saturate(30, concurrency, answered=True)
        bare_rate = await bare_load.saturate(requests * 3, concurrency, answered=False)
        bot_load.refused = 0
        bot_rate = await bot_load.saturate(requests, concurrency, answered=True)
        refused = bot_load.refused
        acks = await bot_load.latencies(bot_rate / 2, seconds)
        bare_acks = await bare_load.latencies(bot_rate / 2, seconds)
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        await fake.close()

    def p(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))]

    print(
        f"saturation ({concurrency} at a time): bare AsyncApp {bare_rate:.0f} acks/s, "
        f"the bot {bot_rate:.0f} /vote/s answered; ratio {bot_rate / bare_rate:.3f} "
        "(goal 0.6, at least 0.25)"
    )
    print(
        f"  refused in the ack because the database did not store them within 2.4 s: "
        f"{refused} of {requests}"
    )
    print(
        f"at half the bot's rate ({bot_rate / 2:.0f}/s for {seconds:.0f} s): ack p50 "
        f"{statistics.median(acks) * 1000:.0f} ms, p99 {p(acks, 0.99) * 1000:.0f} ms "
        f"(goal p99 100 ms); the bare AsyncApp p50 {statistics.median(bare_acks) * 1000:.0f} "
        f"ms, p99 {p(bare_acks, 0.99) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else None))
