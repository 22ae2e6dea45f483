"""The outbox: nothing lost and nothing sent twice across crashes; retries; lost channels;
tracked messages drawn at send time and edits coalesced until they show the stored state."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.console import ConsoleAdapter
from bridge.adapter import ChannelGone, RetryLater
from bridge.clock import FakeClock
from bridge.core import Bridge
from bridge.messages import ChannelRef, Message, Text
from bridge.models import ChannelLink, OutboxRow, PostedMessage, Setting
from bridge.registry import registry, renderer
from tests.chat import Chat
from tests.conftest import BridgeFactory, attach_console


def note(text: str) -> Message:
    return Message(parts=(Text(text=text),))


async def queue(bridge: Bridge, channel_key: str, text: str, **kw: object) -> None:
    async with bridge.db.transaction() as session:
        await bridge.outbox.post(session, channel_key, note(text), **kw)  # type: ignore[arg-type]


class Flaky(ConsoleAdapter):
    """The console, failing as told: a list of exceptions raised by the next sends."""

    failures: list[Exception]

    async def send(self, channel: ChannelRef, message: Message) -> str:
        if self.failures:
            raise self.failures.pop(0)
        return await super().send(channel, message)


async def test_crash_after_commit_before_send_delivers_once(make_bridge: BridgeFactory) -> None:
    first = await make_bridge()
    await queue(first, "console:#general", "hello")
    await first.close()  # the process dies before its worker ran

    printed: list[str] = []
    second = await make_bridge()
    attach_console(second, printed)
    assert await second.outbox.drain() == 1
    assert await second.outbox.drain() == 0

    third = await make_bridge()
    attach_console(third, printed)
    assert await third.outbox.drain() == 0
    assert printed == ["[#general] hello"]


async def test_claimed_row_of_a_dead_worker_is_sent_after_its_lease(
    make_bridge: BridgeFactory, clock: FakeClock
) -> None:
    dead = await make_bridge()
    await queue(dead, "console:#general", "once")
    async with dead.db.transaction() as s:
        row_id = (await s.execute(select(OutboxRow.id))).scalar_one()
    [claimed] = await dead.outbox.claim(["console"])  # claimed, then the worker dies
    assert claimed.id == row_id

    printed: list[str] = []
    alive = await make_bridge()
    attach_console(alive, printed)
    assert await alive.outbox.drain() == 0  # the lease still holds
    clock.advance(timedelta(seconds=61))
    assert await alive.outbox.drain() == 1
    assert printed == ["[#general] once"]


async def test_rate_limit_is_waited_out_and_nothing_dropped(
    bridge: Bridge, clock: FakeClock
) -> None:
    printed: list[str] = []
    flaky = Flaky(bridge, out=printed.append)
    flaky.failures = [RetryLater(30)]
    flaky.state = "ready"
    bridge.add_adapter(flaky)
    await queue(bridge, "console:#general", "first")
    await queue(bridge, "console:#general", "second")
    assert await bridge.outbox.drain() == 0
    assert printed == []
    clock.advance(31)
    assert await bridge.outbox.drain() == 2
    assert printed == ["[#general] first", "[#general] second"]  # order kept


async def test_transient_errors_retry_with_backoff_then_give_up(
    bridge: Bridge, clock: FakeClock
) -> None:
    printed: list[str] = []
    flaky = Flaky(bridge, out=printed.append)
    flaky.failures = [OSError("reset")] * 20
    flaky.state = "ready"
    bridge.add_adapter(flaky)
    await queue(bridge, "console:#general", "doomed")
    for _ in range(12):
        await bridge.outbox.drain()
        clock.advance(301)
    async with bridge.db.transaction() as s:
        row = (await s.execute(select(OutboxRow))).scalar_one()
    assert row.status == "dead"
    assert row.attempts == bridge.config.delivery.max_attempts
    assert printed == []


async def test_lost_channel_pauses_its_link_and_tells_admins(chat: Chat, bridge: Bridge) -> None:
    await chat("/group new ideas", "/link ideas")
    printed: list[str] = []
    flaky = Flaky(bridge, out=printed.append)
    flaky.failures = [ChannelGone("channel_not_found")]
    flaky.state = "ready"
    bridge.add_adapter(flaky)
    await queue(bridge, "console:#general", "into the void")
    await bridge.outbox.drain()
    async with bridge.db.transaction() as s:
        link = (await s.execute(select(ChannelLink))).scalar_one()
    assert link.active is False
    assert link.inactive_reason == "channel_not_found"
    assert printed == [
        "[@admin] I can no longer post in #general (console: channel_not_found). Its link to "
        "the group ideas is paused; /link it again once I have access."
    ]
    out = await chat("/groups")
    assert "#general [console] (paused)" in out


COUNTER: dict[str, int] = {}


@renderer("testcard")
async def _draw(session: object, bridge: Bridge, ident: str, locale: str) -> Message:
    return note(f"card {ident}: {COUNTER.get(ident, 0)} votes")


async def test_tracked_message_drawn_at_send_time_and_edits_coalesce(
    chat: Chat, bridge: Bridge, clock: FakeClock
) -> None:
    assert "testcard" in registry.renderers
    await chat("/group new ideas", "/link ideas")
    COUNTER["a"] = 0
    async with bridge.db.transaction() as s:
        group_id = (await s.execute(select(ChannelLink.group_id))).scalar_one()
        await bridge.outbox.post_to_group(s, group_id, ref_key="testcard:a")
    COUNTER["a"] = 1  # changes before the first send are shown by the first send
    assert await chat.flush() == "[#general] card a: 1 votes"
    for n in range(2, 7):
        COUNTER["a"] = n
        async with bridge.db.transaction() as s:
            await bridge.outbox.refresh(s, "testcard:a")
    assert await bridge.outbox.drain() == 0  # within the edit delay: nothing yet
    clock.advance(bridge.config.delivery.edit_delay)
    assert await chat.flush() == "[#general] (edited) card a: 6 votes"  # one edit, final count
    async with bridge.db.transaction() as s:
        posted = (await s.execute(select(PostedMessage))).scalars().all()
        assert [(p.ref_key, p.channel_key) for p in posted] == [("testcard:a", "console:#general")]


async def test_replies_wait_for_the_card_they_belong_under(chat: Chat, bridge: Bridge) -> None:
    COUNTER["b"] = 3
    async with bridge.db.transaction() as s:
        await bridge.outbox.post(
            s, "console:#general", note("a comment"), reply_to_ref="testcard:b"
        )
        await bridge.outbox.post(s, "console:#general", ref_key="testcard:b")
    out = await chat.flush()
    assert out.lines == ["[#general] card b: 3 votes", "[#general] ↳ a comment"]


async def test_action_key_is_shared_by_processes(make_bridge: BridgeFactory) -> None:
    one = await make_bridge()
    two = await make_bridge()
    assert one.codec is not None and two.codec is not None
    from bridge.messages import Button

    token = one.encode_button(
        Button(label="x", action="i.sup", args=("7",)), ChannelRef(platform="console", chat="#a")
    )
    assert two.codec.decode(token, "console:#a", one.now()) == ("i.sup", ("7",))
    async with one.db.transaction() as s:
        assert len((await s.execute(select(Setting))).scalars().all()) == 1


async def test_prune_forgets_old_events_and_deliveries_but_keeps_failures(
    chat: Chat, bridge: Bridge, clock: FakeClock
) -> None:
    from bridge.messages import AccountRef, Invocation
    from bridge.models import ProcessedEvent

    inv = Invocation(
        channel=ChannelRef(platform="console", chat="#general"),
        account=AccountRef(platform="console", user_id="bob"),
        command="groups",
        event_id="evt-1",
    )
    await bridge.handle(inv)
    await queue(bridge, "console:#general", "old news")
    await chat.flush()
    async with bridge.db.transaction() as s:
        s.add(
            OutboxRow(
                kind="send",
                platform="console",
                channel_key="console:#x",
                status="dead",
                not_before=clock.now(),
                created_at=clock.now(),
                locale="en",
                attempts=8,
            )
        )
    clock.advance(timedelta(days=31))
    assert await bridge.deadlines.prune() == {
        "events": 1,
        "outbox": 1,
        "deadlines": 0,
        "relayed": 0,
        "inbox": 0,
    }
    async with bridge.db.transaction() as s:
        assert (await s.execute(select(ProcessedEvent))).first() is None
        assert [r.status for r in (await s.execute(select(OutboxRow))).scalars()] == ["dead"]


async def test_metrics_show_the_outbox_backlog(bridge: Bridge) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from bridge.http import build_app

    await queue(bridge, "slack:C1", "waits for a slack process")
    async with TestClient(TestServer(build_app(bridge))) as client:
        body = await (await client.get("/metrics")).text()
    assert 'bridge_outbox_rows{status="pending"} 1.0' in body


class VoteDuringEdit(ConsoleAdapter):
    """The console, answering its first edit with 429 while another vote's refresh of the
    same card is written meanwhile (the storm of issue 12)."""

    bridge: Bridge
    limited = 0

    async def edit(self, channel: ChannelRef, message_id: str, message: Message) -> str | None:
        if not self.limited:
            self.limited += 1
            COUNTER["storm"] += 1
            async with self.bridge.db.transaction() as s:
                await self.bridge.outbox.refresh(s, "testcard:storm", delay=timedelta(0))
            raise RetryLater(1.0, "429: Too Many Requests")
        return await super().edit(channel, message_id, message)


async def test_a_rate_limited_edit_meeting_a_new_vote_merges_into_it(
    make_bridge: BridgeFactory, clock: FakeClock
) -> None:
    bridge = await make_bridge()
    printed: list[str] = []
    adapter = VoteDuringEdit(bridge, printed.append)  # type: ignore[arg-type]
    adapter.bridge = bridge
    bridge.add_adapter(adapter)
    await adapter.start()
    COUNTER["storm"] = 1
    async with bridge.db.transaction() as s:
        await bridge.outbox.post(s, "console:#general", ref_key="testcard:storm")
    await bridge.outbox.drain()
    COUNTER["storm"] = 2
    async with bridge.db.transaction() as s:
        await bridge.outbox.refresh(s, "testcard:storm", delay=timedelta(0))
    await bridge.outbox.drain()  # the edit meets 429 and a newer refresh: no error
    clock.advance(timedelta(seconds=2))
    await bridge.outbox.drain(include_delayed=True)
    async with bridge.db.transaction() as s:
        rows = (await s.execute(select(OutboxRow).order_by(OutboxRow.id))).scalars().all()
    assert [r.status for r in rows] == ["sent", "merged", "sent"]
    assert printed[-1] == "[#general] (edited) card storm: 3 votes"  # the stored state


async def test_operators_see_and_resend_what_failed(chat: Chat, bridge: Bridge) -> None:
    """/outbox (admins) counts the backlog and lists the newest failures by number;
    /outbox retry sends them again; members may not look."""
    await chat("/group new ideas", "/link ideas")
    async with bridge.db.transaction() as s:
        row = await bridge.outbox.post(s, "console:#gone", note("lost"))
        row_id = row.id
        await s.execute(
            OutboxRow.__table__.update()
            .where(OutboxRow.id == row_id)
            .values(status="failed", last_error="channel_not_found")
        )
    out = await chat("/outbox")
    assert "Outbox: 0 waiting, 0 being sent, 0 held" in out and "1 failed, 0 given up." in out
    assert f"    {row_id} console:#gone: channel_not_found" in out.lines
    out = await chat("/outbox retry 99999", "/outbox retry soon", f"/outbox retry {row_id}")
    assert "There is no failed message to send again." in out
    assert "'soon' is not a message number or failed." in out
    assert "1 message(s) will be sent again." in out
    assert "[#gone] lost" in out  # delivered now
    await chat.as_("bob")
    out = await chat("/outbox")
    assert "Outbox:" not in out


def test_outbox_command_line(tmp_path: Path, bridge: Bridge) -> None:
    import subprocess
    import sys

    from tests.conftest import BACKEND, PG_URL

    url = PG_URL if BACKEND == "postgres" else str(bridge.config.database.url)
    config = tmp_path / "bot.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bridge", "outbox", *args, "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
        )

    listed = cli("list", "--failed")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("outbox: pending 0, sending 0, held 0, failed 0, dead 0")
    refused = cli("retry")
    assert refused.returncode == 2 and "needs row ids or --all-failed" in refused.stderr
    assert cli("retry", "--all-failed").stdout == "0 message(s) will be sent again\n"


async def test_healthz_shows_the_backlog_and_a_database_that_is_down(
    make_bridge: BridgeFactory, tmp_path: Path
) -> None:
    import aiohttp

    from bridge.http import HttpServer
    from tests.conftest import BACKEND

    bridge = await make_bridge()
    await queue(bridge, "console:#general", "waiting")
    server = HttpServer(bridge)
    await server.start("127.0.0.1", 0)
    bridge.ready = True  # as Runtime marks it once everything started
    url = f"http://127.0.0.1:{server.port}/healthz"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as resp:
                body = await resp.json()
            assert resp.status == 200
            assert body["outbox"]["pending"] == 1 and "oldest_pending_seconds" in body["outbox"]
            if BACKEND != "sqlite":
                return  # the down case needs a database file we can take away
            await bridge.db.engine.dispose()
            path = Path(str(bridge.db.engine.url.database))

            def take_away() -> None:  # where the database was, nothing can open it now
                path.rename(tmp_path / "moved.db")
                path.mkdir()

            await asyncio.to_thread(take_away)
            async with http.get(url) as resp:
                body = await resp.json()
            assert resp.status == 503
            assert body["status"] == "down" and body["database"].startswith("unreachable: ")
    finally:
        await server.stop()


@pytest.mark.postgres
async def test_a_write_in_one_process_wakes_the_other_processes_worker(
    make_bridge: BridgeFactory, pg_url: str
) -> None:
    """On PostgreSQL the workers LISTEN: a message written by another process is sent
    without waiting for the next poll (here an hour away)."""
    worker = await make_bridge(pg_url, delivery={"poll_interval": "1h"})
    printed: list[str] = []
    attach_console(worker, printed)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.outbox.run(stop))
    try:
        await asyncio.sleep(0.5)  # listening
        writer = await make_bridge(pg_url)
        await queue(writer, "console:#general", "woken")
        for _ in range(100):
            if printed:
                break
            await asyncio.sleep(0.1)
        assert printed == ["[#general] woken"]
    finally:
        stop.set()
        worker.outbox.kick()
        await task
