"""The question SLA: stored deadlines remind the hosts at ``answer_within``, again every
``remind_every``, tell the admins after the second reminder, and fire once whatever the
restarts or the number of bot processes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bridge.clock import FakeClock
from bridge.core import Bridge
from bridge.models import Deadline, OutboxRow
from bridge.models.questions import Question
from tests.chat import Chat
from tests.conftest import BridgeFactory, attach_console

HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)


async def setup_desk(chat: Chat) -> None:
    """#general shows the group support, #desk is the hosts' desk, carol hosts."""
    await chat(
        "/group new support",
        "/link support",
        "/group new desk closed hostdesk",
        "/role console:carol host",
    )
    await chat.as_("admin", "#desk")
    await chat("/link desk")


def reminders(out: str) -> list[str]:
    return [line for line in out.split("\n") if "Reminder" in line or "Escalation" in line]


async def fire(bridge: Bridge, chat: Chat) -> list[str]:
    await bridge.deadlines.tick()
    return reminders(await chat.flush())


async def test_reminds_at_the_sla_repeats_and_escalates(
    chat: Chat, bridge: Bridge, clock: FakeClock
) -> None:
    await setup_desk(chat)
    await chat.as_("bob", "#general")
    await chat("/ask Can I return an opened X200?")

    clock.advance(4 * HOUR - SECOND)
    assert await fire(bridge, chat) == []
    clock.advance(SECOND)  # answer_within (4h) is reached
    out = await fire(bridge, chat)
    assert out == ["[#desk] Reminder 1: Q-1 from bob has waited 4 hours for an answer."]
    assert await fire(bridge, chat) == []  # a second tick at the same time: nothing new

    clock.advance(HOUR - SECOND)
    assert await fire(bridge, chat) == []
    clock.advance(SECOND)  # remind_every (1h) later
    assert await fire(bridge, chat) == [
        "[#desk] Reminder 2: Q-1 from bob has waited 5 hours for an answer."
    ]

    clock.advance(HOUR)  # after the second reminder the admins are told too
    await bridge.deadlines.tick()
    shown = await chat.flush()
    assert sorted(reminders(shown)) == [
        "[#desk] Reminder 3: Q-1 from bob has waited 6 hours for an answer.",
        "[@admin] Escalation: Q-1 from bob in group support has waited 6 hours for an answer; "
        "the hosts were reminded 2 times.",
    ]
    assert "Nobody has claimed it yet." in shown

    clock.advance(HOUR)  # hosts keep being reminded; the admins were told once
    assert await fire(bridge, chat) == [
        "[#desk] Reminder 4: Q-1 from bob has waited 7 hours for an answer."
    ]

    await chat.as_("carol", "#desk")
    await chat("/answer Q-1 Yes, within 30 days.")
    for _ in range(5):
        clock.advance(HOUR)
        assert await fire(bridge, chat) == []
    async with bridge.db.transaction() as s:
        q = (await s.execute(select(Question))).scalar_one()
        assert q.reminders == 4 and q.escalated_at is not None and q.status == "answered"
        assert await bridge.deadlines.pending(s, "question.sla", str(q.id)) is None


async def test_settings_from_bot_toml(make_bridge: BridgeFactory, clock: FakeClock) -> None:
    bridge = await make_bridge(questions={"answer_within": "30m", "remind_every": "10m"})
    printed: list[str] = []
    chat = Chat(bridge, attach_console(bridge, printed), printed)
    await setup_desk(chat)
    await chat.as_("bob", "#general")
    await chat("/ask Is the hotline open today?")
    clock.advance(timedelta(minutes=30))
    assert await fire(bridge, chat) == [
        "[#desk] Reminder 1: Q-1 from bob has waited 30 minutes for an answer."
    ]
    clock.advance(timedelta(minutes=10))
    assert await fire(bridge, chat) == [
        "[#desk] Reminder 2: Q-1 from bob has waited 40 minutes for an answer."
    ]


async def test_no_desk_reminds_hosts_by_direct_message(
    chat: Chat, bridge: Bridge, clock: FakeClock
) -> None:
    await chat("/group new support", "/link support", "/role console:carol host support")
    await chat.as_("carol", "#general")
    await chat("/queue claim Q-1")  # carol has used the bot; nothing to claim yet
    await chat.as_("bob", "#general")
    await chat("/ask Where do I find the invoice?")
    await chat.as_("carol", "#general")
    await chat("/queue claim Q-1")
    clock.advance(4 * HOUR)
    await bridge.deadlines.tick()
    out = await chat.flush()
    assert "[@carol] Reminder 1: Q-1 from bob has waited 4 hours for an answer." in out
    assert "  Claimed by carol." in out
    assert "[#general]" not in out


async def test_closed_and_answered_questions_never_remind(
    chat: Chat, bridge: Bridge, clock: FakeClock
) -> None:
    await setup_desk(chat)
    await chat.as_("bob", "#general")
    await chat(
        "/ask First question about the X200 battery?",
        "/ask private Second question about my account?",
    )
    await chat.as_("carol", "#desk")
    await chat("/answer Q-1 It lasts a day.", "/queue close Q-2")
    for _ in range(8):
        clock.advance(HOUR)
        assert await fire(bridge, chat) == []


async def test_the_bot_was_down_for_hours_reminds_once(
    chat: Chat, bridge: Bridge, clock: FakeClock
) -> None:
    await setup_desk(chat)
    await chat.as_("bob", "#general")
    await chat("/ask Anybody home?")
    clock.advance(12 * HOUR)
    assert len(await fire(bridge, chat)) == 1
    assert await fire(bridge, chat) == []  # not one reminder per missed hour
    clock.advance(HOUR)
    assert await fire(bridge, chat) == [
        "[#desk] Reminder 2: Q-1 from bob has waited 13 hours for an answer."
    ]


async def test_restart_between_ask_and_sla_fires_exactly_once(
    make_bridge: BridgeFactory, clock: FakeClock
) -> None:
    first = await make_bridge()
    printed: list[str] = []
    chat = Chat(first, attach_console(first, printed), printed)
    await setup_desk(chat)
    await chat.as_("bob", "#general")
    await chat("/ask Is the X200 waterproof?")
    await first.close()  # the process stops before the SLA

    clock.advance(4 * HOUR)
    second = await make_bridge()  # a new process on the same database
    printed2: list[str] = []
    chat2 = Chat(second, attach_console(second, printed2), printed2)
    for _ in range(3):
        await second.deadlines.tick()
    assert reminders(await chat2.flush()) == [
        "[#desk] Reminder 1: Q-1 from bob has waited 4 hours for an answer."
    ]
    clock.advance(HOUR)
    await second.deadlines.tick()
    assert reminders(await chat2.flush()) == [
        "[#desk] Reminder 2: Q-1 from bob has waited 5 hours for an answer."
    ]


async def test_two_processes_on_postgres_fire_each_reminder_once(
    pg_url: str, make_bridge: BridgeFactory, clock: FakeClock
) -> None:
    b1 = await make_bridge(url=pg_url)
    b2 = await make_bridge(url=pg_url)
    printed: list[str] = []
    chat = Chat(b1, attach_console(b1, printed), printed)
    attach_console(b2, printed)  # both processes deliver; people see one transcript
    await setup_desk(chat)
    await chat.as_("bob", "#general")
    await chat("/ask Does the X200 work with 110 V?", "/ask Is there a student discount?")

    async def both_tick(times: int = 10) -> None:
        await asyncio.gather(*(b.deadlines.tick() for _ in range(times) for b in (b1, b2)))
        await asyncio.gather(
            b1.outbox.drain(include_delayed=True), b2.outbox.drain(include_delayed=True)
        )

    seen = len(printed)
    clock.advance(4 * HOUR)
    await both_tick()
    assert sorted(reminders("\n".join(printed[seen:]))) == [
        "[#desk] Reminder 1: Q-1 from bob has waited 4 hours for an answer.",
        "[#desk] Reminder 1: Q-2 from bob has waited 4 hours for an answer.",
    ]
    for n in (2, 3):
        seen = len(printed)
        clock.advance(HOUR)
        await both_tick()
        new = reminders("\n".join(printed[seen:]))
        expected = [
            f"[#desk] Reminder {n}: Q-{i} from bob has waited {3 + n} hours for an answer."
            for i in (1, 2)
        ]
        if n == 3:
            expected += [
                f"[@admin] Escalation: Q-{i} from bob in group support has waited 6 hours "
                "for an answer; the hosts were reminded 2 times."
                for i in (1, 2)
            ]
        assert sorted(new) == sorted(expected)

    async with b1.db.transaction() as s:
        fired = await s.execute(select(Deadline).where(Deadline.fired_at.is_not(None)))
        assert len(fired.scalars().all()) == 6  # 3 firings x 2 questions, each once
        texts = [
            row.payload["parts"][0]["text"] + row.payload["parts"][1]["text"]
            for row in (
                await s.execute(
                    select(OutboxRow).where(
                        OutboxRow.kind == "send", OutboxRow.payload.is_not(None)
                    )
                )
            ).scalars()
            if row.payload
            and row.payload["parts"]
            and row.payload["parts"][0]["text"].startswith(("Reminder", "Escalation"))
        ]
        assert len(texts) == 8  # 6 reminders on the desk, 2 escalations to the one admin
        assert all(
            row.status == "sent"
            for row in (
                await s.execute(select(OutboxRow).where(OutboxRow.kind == "send"))
            ).scalars()
        )
