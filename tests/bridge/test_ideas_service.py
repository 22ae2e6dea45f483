"""Ideas under load and across groups: one vote per person under concurrency, no leaks of a
closed group's ideas, every card converging to the stored count, similar-idea ranking."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import func, select

from bridge.clock import FakeClock
from bridge.core import Bridge
from bridge.messages import AccountRef, ActionPress, Button, ChannelRef, Invocation, Message
from bridge.models import Group, PostedMessage
from bridge.models.ideas import Idea, IdeaVote
from bridge.services import ideas as svc
from tests.chat import Chat
from tests.conftest import attach_console

HERE = ChannelRef(platform="console", chat="#ideas")


def vote(
    user: str, args: str = "I-1", event: str | None = None, channel: ChannelRef = HERE
) -> Invocation:
    return Invocation(
        channel=channel,
        account=AccountRef(platform="console", user_id=user, display_name=user),
        command="vote",
        args=args,
        event_id=event,
    )


async def room(chat: Chat) -> None:
    """Group ideas linked to #ideas and #ideen; bob proposes I-1; every card delivered."""
    await chat(":channel ideas", "/group new ideas", "/link ideas", ":channel ideen", "/link ideas")
    await chat.as_("bob", "#ideas")
    await chat("/idea Bike sharing for employees | Ten company bikes")
    await chat.flush()


async def stored_supporters(bridge: Bridge, number: int = 1) -> int:
    async with bridge.db.transaction() as s:
        return int(
            (
                await s.execute(
                    select(func.count())
                    .select_from(IdeaVote)
                    .join(Idea, Idea.id == IdeaVote.idea_id)
                    .where(Idea.number == number, IdeaVote.value > 0)
                )
            ).scalar_one()
        )


async def shown_labels(bridge: Bridge, chat: Chat) -> dict[str, str]:
    """What every posted copy of every idea card shows now: its first button's label."""
    async with bridge.db.transaction() as s:
        posted = (
            (await s.execute(select(PostedMessage).where(PostedMessage.ref_key.like("idea:%"))))
            .scalars()
            .all()
        )
    return {
        p.channel_key: chat.console._shown[p.platform_message_id].message.buttons[0].label
        for p in posted
    }


# ------------------------------------------------------------------ one vote per person


async def _burst(bridge: Bridge, other: Bridge, chat: Chat) -> None:
    voters = [f"user{i}" for i in range(24)]
    calls: list[Awaitable[list[Message]]] = []
    for i, user in enumerate(voters):
        target = bridge if i % 2 else other  # two processes on one database
        calls.append(target.handle(vote(user, event=f"{user}-a")))
        if i % 3 == 0:
            calls.append(target.handle(vote(user, "i-1 up", event=f"{user}-b")))  # repeat
        if i % 4 == 0:
            calls.append(other.handle(vote(user, event=f"{user}-a")))  # platform retry
    token = bridge.encode_button(Button(label="Support", action="i.sup", args=("1",)), HERE)
    for user in voters[:6]:  # the Support button, pressed by people who also typed /vote
        calls.append(
            bridge.press(
                ActionPress(
                    channel=HERE, account=AccountRef(platform="console", user_id=user), token=token
                )
            )
        )
    replies = await asyncio.gather(*calls)
    texts = [m.text for batch in replies for m in batch]
    assert not [t for t in texts if "went wrong" in t], texts
    assert sum(t.startswith("You support I-1 now") for t in texts) == len(voters)
    assert await stored_supporters(bridge) == len(voters)

    edits_before = chat.transcript.count("(edited)")
    await chat.flush()
    # the burst became one edit per card, and every card shows the stored count
    assert chat.transcript.count("(edited)") - edits_before == 2
    assert await shown_labels(bridge, chat) == {
        "console:#ideas": f"Support ({len(voters)})",
        "console:#ideen": f"Support ({len(voters)})",
    }


async def test_concurrent_votes_count_each_person_once(
    chat: Chat, bridge: Bridge, make_bridge: Callable[..., Awaitable[Bridge]]
) -> None:
    await room(chat)
    other = await make_bridge()
    await _burst(bridge, other, chat)


@pytest.mark.postgres
async def test_concurrent_votes_on_postgresql(
    pg_url: str, make_bridge: Callable[..., Awaitable[Bridge]]
) -> None:
    bridge = await make_bridge(url=pg_url)
    printed: list[str] = []
    chat = Chat(bridge, attach_console(bridge, printed), printed)
    await room(chat)
    other = await make_bridge(url=pg_url)
    await _burst(bridge, other, chat)


async def test_concurrent_switches_and_withdrawals_end_consistent(
    chat: Chat, bridge: Bridge
) -> None:
    await room(chat)
    users = [f"u{i}" for i in range(12)]
    await asyncio.gather(*(bridge.handle(vote(u)) for u in users))
    # at once: a third switch to down, a third withdraw, a third repeat their vote
    calls = []
    for i, user in enumerate(users):
        args = ("I-1 down", "I-1 withdraw", "I-1 up")[i % 3]
        calls.append(bridge.handle(vote(user, args)))
    await asyncio.gather(*calls)
    async with bridge.db.transaction() as s:
        values = sorted((await s.execute(select(IdeaVote.value))).scalars().all())
    assert values == [-1] * 4 + [1] * 4
    await chat.flush()
    assert set((await shown_labels(bridge, chat)).values()) == {"Support (4)"}


# ------------------------------------------------------------------ cards converge


async def test_a_vote_during_an_edit_is_shown_by_the_next_edit(
    chat: Chat, bridge: Bridge, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await room(chat)
    console = chat.console
    real_edit = console.edit
    started, gate = asyncio.Event(), asyncio.Event()

    async def slow_edit(channel: ChannelRef, message_id: str, message: Message) -> None:
        started.set()
        await gate.wait()
        await real_edit(channel, message_id, message)

    monkeypatch.setattr(console, "edit", slow_edit)
    await bridge.handle(vote("alice"))
    clock.advance(3)
    delivering = asyncio.create_task(bridge.outbox.drain())
    await asyncio.wait_for(started.wait(), timeout=10)
    # the edit showing 1 supporter is on its way; another vote lands meanwhile
    await bridge.handle(vote("carol"))
    gate.set()
    await asyncio.wait_for(delivering, timeout=10)
    assert set((await shown_labels(bridge, chat)).values()) == {"Support (1)"}  # stale...
    clock.advance(3)
    await bridge.outbox.drain()
    # ...but not for good: the next edit brings every copy to the stored count
    assert set((await shown_labels(bridge, chat)).values()) == {"Support (2)"}
    assert await stored_supporters(bridge) == 2


async def test_refresh_waits_until_the_card_is_out(chat: Chat, bridge: Bridge) -> None:
    """Votes before the first send: the card is drawn at send time with the stored count."""
    await chat(":channel ideas", "/group new ideas", "/link ideas")
    async with bridge.db.transaction() as s:
        group = (await s.execute(select(Group))).scalar_one()
        await svc.create_idea(
            s, bridge, bridge.community_id or 0, group.id, 1, "Solar panels", "", bridge.now()
        )
    for user in ("a", "b", "c"):
        await bridge.handle(vote(user))
    out = await chat.flush()
    assert "[1] Support (3)" in out
    assert set((await shown_labels(bridge, chat)).values()) == {"Support (3)"}


# ------------------------------------------------------------------ visibility


async def _closed_room(chat: Chat) -> None:
    await chat(
        ":channel ideas",
        "/group new ideas",
        "/link ideas",
        ":channel board",
        "/group new board closed",
        "/link board",
    )
    await chat.as_("boss", "#board")
    await chat("/idea Merge with a competitor | Confidential: talks with ACME")
    await chat.as_("bob", "#ideas")
    await chat("/idea Bike sharing for employees")


async def test_closed_group_ideas_do_not_leak_into_other_groups(chat: Chat, bridge: Bridge) -> None:
    await _closed_room(chat)
    async with bridge.db.transaction() as s:
        groups = {g.slug: g for g in (await s.execute(select(Group))).scalars()}
        ideas_g, board = groups["ideas"], groups["board"]
        # listing
        rows, total = await svc.list_ideas(s, ideas_g.id, "new", 0, 0, 10)
        assert [i.ref for i, _ in rows] == ["I-2"] and total == 1
        # similar suggestions, asked from the other group's channel, and from inside
        cid = bridge.community_id or 0
        assert await svc.similar_ideas(s, cid, ideas_g.id, "Merge with ACME", "competitor") == []
        inside = await svc.similar_ideas(s, cid, board.id, "Merge with ACME", "competitor")
        assert [i.ref for i in inside] == ["I-1"]
        # who may see it where
        boss = (await s.execute(select(Idea.proposer_id).where(Idea.number == 1))).scalar_one()
        assert not await svc.visible_to(s, board, boss, ideas_g.id, False, False)
        assert not await svc.visible_to(s, board, boss, ideas_g.id, False, True)  # admin too
        assert not await svc.visible_to(s, board, boss, None, True, False)  # DM, no member
        assert await svc.visible_to(s, board, boss, board.id, False, False)
        assert await svc.visible_to(s, board, boss, None, True, True)  # DM, admin
        assert await svc.visible_to(s, ideas_g, boss, board.id, False, False)  # internal

    # in chat: /ideas, /vote, /comment, the similar offer from another group's channel
    await chat.as_("bob", "#ideas")
    out = await chat(
        "/ideas", "/ideas top", "/vote I-1", "/comment I-1 hi", "/idea Merge with a competitor"
    )
    assert "ACME" not in out and "Merge with a competitor —" not in out
    assert out.count("There is no idea I-1 that you can see here.") == 2


async def test_a_group_closed_after_promotion_leaves_the_showcase(
    chat: Chat, bridge: Bridge
) -> None:
    await chat(
        ":channel ideas",
        "/group new ideas",
        "/link ideas",
        ":channel showcase",
        "/group new showcase showcase",
        "/link showcase",
        ":channel ideas",
    )
    await chat("/idea Bike sharing for employees", "/promote I-1")
    assert "[#showcase] ⭐ I-1 Bike sharing for employees" in chat.transcript
    closing = await chat("/group set ideas closed")
    # issue 16: at once, not at the idea's next change
    assert "[#showcase] (edited) This idea is no longer shown here." in closing
    out = await chat("/vote I-1", "/comment I-1 still here")
    assert "[#showcase]" not in out
    assert "[#ideas] ↳ 💬 @admin on I-1: still here" in out


async def test_person_without_private_chat_is_mentioned_in_the_group(
    chat: Chat, bridge: Bridge
) -> None:
    await room(chat)
    tg = Invocation(
        channel=ChannelRef(platform="telegram", chat="-100"),
        account=AccountRef(platform="telegram", user_id="42", display_name="tina"),
        command="vote",
        args="I-1",
    )
    [reply] = await bridge.handle(tg)
    assert reply.text == "You support I-1 now (1 supporter)."
    await chat.as_("admin", "#ideas")
    out = await chat("/status I-1 shortlisted")
    assert "[#ideas] @tina: I-1 has a new status: shortlisted." in out
    assert "[@bob] Your idea I-1 “Bike sharing for employees” has a new status: shortlisted." in out
    # the DM waits for the day tina opens the bot
    assert await bridge.dm_opened(AccountRef(platform="telegram", user_id="42")) == 1


# ------------------------------------------------------------------ ranking


CANDIDATES = [
    (1, "Bike sharing for employees", "Ten company bikes at the main entrance"),
    (2, "Better coffee in the kitchen", "The coffee machine on floor 3 is broken"),
    (3, "Remote work Fridays", "Allow employees to work from home on Fridays"),
    (4, "Fahrräder für Mitarbeitende", "Diensträder am Haupteingang"),
    (5, "Quarterly hackathon", "Two days to build anything"),
]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Company bikes for employees", [1]),
        ("More coffee machines", [2]),
        ("Work from home", [3]),
        ("Ein Fahrrad für alle", [4]),
        ("Hackathon every quarter", [5]),
        ("Employees lunch together", []),  # one common word is not enough
        ("Parking garage", []),
    ],
)
def test_similar_ideas_rank_like_a_person_would(title: str, expected: list[int]) -> None:
    assert [k for k, _ in svc.rank_similar(title, "", CANDIDATES)] == expected


def test_ranking_prefers_the_closer_idea_and_caps_at_three() -> None:
    candidates = [(i, f"Bike idea number {i}", "bikes at the entrance") for i in range(1, 6)]
    candidates.append((9, "Bike sharing for employees at the entrance", "company bikes"))
    ranked = svc.rank_similar("Bike sharing at the entrance", "bikes for employees", candidates)
    assert len(ranked) == 3 and ranked[0][0] == 9


def test_terms_fold_case_accents_and_stop_words() -> None:
    assert svc.terms("The BIKES, the Bike!") == ["bik", "bik"]
    assert svc.terms("Größere Räder für die Straße") == ["gross", "rad", "strass"]


async def test_similar_ideas_are_found_by_the_database(chat: Chat, bridge: Bridge) -> None:
    """The candidates come from the search index, more ideas than the ranking ever sees
    included; a compound meets its parts; a closed group's idea is found only there."""
    await chat(":channel ideas", "/group new ideas", "/link ideas", "/group new board closed")
    async with bridge.db.transaction() as s:
        ideas_group = (await s.execute(select(Group).where(Group.slug == "ideas"))).scalar_one()
        board = (await s.execute(select(Group).where(Group.slug == "board"))).scalar_one()
        cid, person = ideas_group.community_id, ideas_group.created_by_id or 1
        for n in range(svc.index.CANDIDATES + 50):  # noise sharing one word with the query
            await svc.create_idea(
                s,
                bridge,
                cid,
                ideas_group.id,
                person,
                f"Mitarbeitende treffen {n}",
                "",
                bridge.now(),
            )
        await svc.create_idea(
            s,
            bridge,
            cid,
            ideas_group.id,
            person,
            "Fahrräder für Mitarbeitende",
            "Diensträder am Eingang",
            bridge.now(),
        )
        await svc.create_idea(
            s,
            bridge,
            cid,
            board.id,
            person,
            "Diensträder für alle Mitarbeitenden",
            "",
            bridge.now(),
        )
    async with bridge.db.transaction() as s:
        here = await svc.similar_ideas(
            s, cid, ideas_group.id, "Dienstfahrräder für Mitarbeiter", ""
        )
        there = await svc.similar_ideas(s, cid, board.id, "Dienstfahrräder für Mitarbeiter", "")
        edited = await svc.similar_ideas(s, cid, ideas_group.id, "Kaffeemaschine kaputt", "")
    assert [i.title for i in here] == ["Fahrräder für Mitarbeitende"]  # never the board's
    assert "Diensträder für alle Mitarbeitenden" in [i.title for i in there]
    assert edited == []
    # an edit is searched by its new words
    await chat("/idea edit I-1 Kaffeemaschine kaputt | in der Küche")
    async with bridge.db.transaction() as s:
        found = await svc.similar_ideas(
            s, cid, ideas_group.id, "Kaffeemaschine in der Küche kaputt", ""
        )
    assert [i.number for i in found] == [1]


async def test_the_similar_search_never_blocks_the_loop_long(chat: Chat, bridge: Bridge) -> None:
    """Issue 14: while /idea looks for similar ideas among 600 that share its words, a
    probe on the same event loop is never held up longer than LAG_BOUND (the ranking sees
    at most index.CANDIDATES of them). A generous bound: Slack and Discord give 3 s."""
    LAG_BOUND = 0.5
    await chat(":channel ideas", "/group new ideas", "/link ideas")
    async with bridge.db.transaction() as s:
        group = (await s.execute(select(Group).where(Group.slug == "ideas"))).scalar_one()
        for n in range(600):  # three times what the ranking sees
            await svc.create_idea(
                s,
                bridge,
                group.community_id,
                group.id,
                group.created_by_id or 1,
                f"Fahrräder und Lieferungen für Mitarbeitende {n}",
                "Dienstfahrräder am Eingang, Lieferungen ins Lager",
                bridge.now(),
            )
    lags: list[float] = []
    stop = asyncio.Event()

    async def probe() -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            before = loop.time()
            await asyncio.sleep(0.01)
            lags.append(loop.time() - before - 0.01)

    # the garbage of the suite's earlier tests collected first: a full collection of it
    # is a pause of its own, nothing to do with the search (seen once: 0.5 s)
    gc.collect()
    task = asyncio.create_task(probe())
    await asyncio.sleep(0.05)
    out = await chat("/idea Dienstfahrräder für alle Mitarbeitenden | Lieferungen ins Lager")
    stop.set()
    await task
    assert "these ideas look like yours" in str(out)
    assert max(lags) < LAG_BOUND, f"the loop was blocked {max(lags):.3f} s"


async def test_the_kept_score_always_equals_the_votes(chat: Chat, bridge: Bridge) -> None:
    """Issue 14: /ideas top orders by a score kept in each vote's transaction; after
    votes up and down, changes, withdrawals, concurrent votes and a merge of two persons
    it equals the sum of the stored votes, and /ideas top follows it."""
    import random

    await room(chat)
    await chat("/idea Second idea about parking | spaces", "/idea Third idea about coffee")
    rng = random.Random(7)
    invocations = []
    for n in range(120):
        user = f"u{rng.randrange(12)}"
        args = f"I-{rng.randrange(1, 4)} {rng.choice(['up', 'down', 'withdraw', 'up'])}"
        invocations.append(vote(user, args, event=f"s{n}"))
    for start in range(0, len(invocations), 6):  # six at a time, as a storm would
        await asyncio.gather(*(bridge.handle(i) for i in invocations[start : start + 6]))
    # u1 joins u2's accounts: where both voted, one vote is kept
    [code] = await bridge.handle(
        Invocation(
            channel=ChannelRef(platform="console", chat="u1", dm=True),
            account=AccountRef(platform="console", user_id="u1"),
            command="connect",
        )
    )
    token = code.text.split("/connect ")[1].split()[0].rstrip(".")
    await bridge.handle(
        Invocation(
            channel=ChannelRef(platform="console", chat="u2", dm=True),
            account=AccountRef(platform="console", user_id="u2"),
            command="connect",
            args=token,
        )
    )
    async with bridge.db.transaction() as s:
        kept = dict((await s.execute(select(Idea.number, Idea.score))).all())
        summed = dict(
            (
                await s.execute(
                    select(Idea.number, func.coalesce(func.sum(IdeaVote.value), 0))
                    .outerjoin(IdeaVote, IdeaVote.idea_id == Idea.id)
                    .group_by(Idea.number)
                )
            ).all()
        )
    assert kept == summed
    out = await chat(":channel ideas", "/ideas top")
    order = sorted(kept, key=lambda n: (-kept[n], -n))
    shown = [line for line in out.lines if line.lstrip().startswith("I-")]
    assert [int(line.split()[0][2:]) for line in shown] == order
