"""Ideas in chat: propose, similar-idea offers, votes, comments, lifecycle, showcase, projects."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from bridge.core import Bridge
from bridge.messages import AccountRef, ActionPress, Button, ChannelRef, Invocation
from bridge.models import AuditEntry, Group, RoleGrant
from bridge.models.ideas import Idea, IdeaComment, IdeaDraft, IdeaVote
from tests.chat import Chat, Output


def blocks(out: str) -> list[str]:
    """The printed messages: a first line, plus its indented continuation lines."""
    found: list[str] = []
    for line in out.split("\n"):
        if line.startswith("  ") and found:
            found[-1] += "\n" + line
        elif line:
            found.append(line)
    return found


def card(
    channel: str,
    supporters: int,
    status: str = "new",
    edited: bool = False,
    extra: str = "",
    mark: str = "💡",
) -> str:
    people = "1 supporter" if supporters == 1 else f"{supporters} supporters"
    buttons = f"  [1] Support ({supporters})  [2] Comment"
    if status in ("done", "rejected"):
        buttons = "  [1] Comment"
    return (
        f"[{channel}]{' (edited)' if edited else ''} {mark} I-1 Bike sharing for employees\n"
        "  Ten company bikes at the main entrance\n"
        f"  Proposed by @bob in ideas · Status: {status} · {people}\n"
        + (f"  {extra}\n" if extra else "")
        + buttons
    )


async def count(bridge: Bridge, model: type) -> int:
    async with bridge.db.transaction() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def setup_room(chat: Chat) -> None:
    """Group ``ideas`` shown in #ideas and #ideen, a showcase in #showcase, carol a host."""
    await chat(
        ":channel ideas",
        "/group new ideas",
        "/link ideas",
        ":channel ideen",
        "/link ideas",
        ":channel showcase",
        "/group new showcase showcase",
        "/link showcase",
        "/role console:carol host",
    )


async def propose_bike_idea(chat: Chat) -> Output:
    await chat.as_("bob", "#ideas")
    return await chat("/idea Bike sharing for employees | Ten company bikes at the main entrance")


async def test_console_session_from_idea_to_project(chat: Chat, bridge: Bridge) -> None:
    await setup_room(chat)

    # bob proposes: a confirmation for him, the card in both linked channels
    out = await propose_bike_idea(chat)
    assert blocks(out)[0] == (
        "[#ideas] (only bob) Thanks! Your idea I-1 is posted in the group's channels; "
        "others can support it there."
    )
    assert sorted(blocks(out)[1:]) == [card("#ideas", 0), card("#ideen", 0)]

    # alice proposes nearly the same: offered I-1 first, nothing posted yet
    await chat.as_("alice", "#ideen")
    out = await chat("/idea Company bikes for employees")
    assert out == (
        "[#ideen] (only alice) Before I post it: these ideas look like yours. Support one of "
        "them, or propose yours anyway.\n"
        "  • I-1 Bike sharing for employees — 0 votes — new\n"
        "  [1] Support I-1  [2] Propose anyway"
    )
    assert await count(bridge, Idea) == 1

    # she supports I-1 instead: counted, both cards edited
    out = await chat(":press 1")
    assert blocks(out)[0] == "[#ideen] (only alice) You support I-1 now (1 supporter)."
    assert sorted(blocks(out)[1:]) == [
        card("#ideas", 1, edited=True),
        card("#ideen", 1, edited=True),
    ]

    # the same vote again changes nothing: no edit
    out = await chat("/vote I-1")
    assert out == (
        "[#ideen] (only alice) You support I-1 already; nothing changed. To take it "
        "back: /vote I-1 withdraw"
    )

    # carol votes (i-1 and a bare number work too), withdraws, and votes again
    await chat.as_("carol", "#ideas")
    out = await chat("/vote i-1 up")
    assert blocks(out)[0] == "[#ideas] (only carol) You support I-1 now (2 supporters)."
    assert card("#ideen", 2, edited=True) in blocks(out)
    out = await chat("/vote 1 withdraw")
    assert blocks(out)[0] == "[#ideas] (only carol) Your vote on I-1 is withdrawn (1 supporter)."
    assert card("#ideas", 1, edited=True) in blocks(out)
    out = await chat("/vote 1 withdraw")
    assert out == "[#ideas] (only carol) You have no vote on I-1 to withdraw."
    out = await chat("/vote I-1")
    assert card("#ideas", 2, edited=True) in blocks(out)

    # comments appear under the card in both channels
    out = await chat("/comment I-1 Great, let's ask facilities")
    assert sorted(blocks(out)) == [
        "[#ideas] (only carol) Your comment is posted under I-1.",
        "[#ideas] ↳ 💬 @carol on I-1: Great, let's ask facilities",
        "[#ideen] ↳ 💬 @carol on I-1: Great, let's ask facilities",
    ]
    # the Comment button says what to type (and asks platforms with forms for a form)
    await chat.as_("bob", "#ideas")
    out = await chat(":press 2")
    assert out.endswith("(only bob) To comment, type /comment I-1 followed by your comment.")

    # only hosts move ideas
    out = await chat("/status I-1 done")
    assert out == "[#ideas] (only bob) Only hosts may use /status."

    # carol moves it: proposer and supporter are told once each, the cards change
    await chat.as_("carol", "#ideas")
    out = await chat("/status I-1 review Checking the budget")
    found = blocks(out)
    assert (
        found[0] == "[#ideas] (only carol) I-1 now has the status in review. I told 2 "
        "people about it."
    )
    assert (
        "[@bob] Your idea I-1 “Bike sharing for employees” has a new status: in review.\n"
        "  Reason: Checking the budget" in found
    )
    assert (
        "[@alice] The idea I-1 “Bike sharing for employees” that you support has a new "
        "status: in review.\n  Reason: Checking the budget" in found
    )
    assert not any(b.startswith("[@carol]") for b in found)  # she did it herself
    assert card("#ideen", 2, "in review (Checking the budget)", edited=True) in found
    out = await chat("/status I-1 review")
    assert out == "[#ideas] (only carol) I-1 has the status in review already; nothing changed."
    out = await chat("/status I-1 shortlisted")
    assert card("#ideas", 2, "shortlisted", edited=True) in blocks(out)

    # promote: the card appears in the showcase
    out = await chat("/promote I-1")
    assert blocks(out) == [
        "[#ideas] (only carol) I-1 is now shown in the showcase showcase.",
        card("#showcase", 2, "shortlisted", mark="⭐"),
    ]
    out = await chat("/promote I-1")
    assert out == "[#ideas] (only carol) I-1 is in the showcase showcase already."

    # project: a closed group with bob and alice as members, every card updated
    out = await chat("/status I-1 project")
    found = blocks(out)
    assert found[0] == (
        "[#ideas] (only carol) I-1 now has the status project. I told 2 people about it.\n"
        "  The project group bike-sharing-for-employees is ready, with the proposer and "
        "supporters as members. An admin can link a channel to it with "
        "/link bike-sharing-for-employees."
    )
    assert (
        "[@bob] Your idea I-1 “Bike sharing for employees” has a new status: project.\n"
        "  You are a member of its project group bike-sharing-for-employees." in found
    )
    extra = "Project group: bike-sharing-for-employees"
    for channel, mark in (("#ideas", "💡"), ("#ideen", "💡"), ("#showcase", "⭐")):
        assert card(channel, 2, "project", edited=True, extra=extra, mark=mark) in found
    await chat.as_("alice", "#ideen")
    out = await chat("/groups")
    assert "bike-sharing-for-employees (closed) — no linked channel" in out

    # the list
    out = await chat("/ideas top")
    assert out == (
        "[#ideen] (only alice) Ideas of ideas (most votes first), page 1 of 1:\n"
        "  I-1 Bike sharing for employees — 2 votes — project"
    )

    # a finished idea takes no more votes; its card loses the Support button
    await chat.as_("carol", "#ideas")
    out = await chat("/status I-1 done")
    assert card("#ideen", 2, "done", edited=True, extra=extra) in blocks(out)
    await chat.as_("dave", "#ideas")
    out = await chat("/vote I-1")
    assert out == "[#ideas] (only dave) I-1 is done; voting on it is closed."

    async with bridge.db.transaction() as s:
        assert (await s.execute(select(func.count()).select_from(IdeaVote))).scalar_one() == 2
        assert (await s.execute(select(func.count()).select_from(IdeaComment))).scalar_one() == 1
        actions = (
            await s.execute(
                select(AuditEntry.action, AuditEntry.target)
                .where(AuditEntry.action.like("idea.%"))
                .order_by(AuditEntry.id)
            )
        ).all()
        assert [tuple(a) for a in actions] == [
            ("idea.status", "I-1"),
            ("idea.status", "I-1"),
            ("idea.promote", "I-1"),
            ("idea.status", "I-1"),
            ("idea.status", "I-1"),
        ]
        project = (
            await s.execute(select(Group).where(Group.slug == "bike-sharing-for-employees"))
        ).scalar_one()
        assert project.visibility == "closed"
        assert project.name == "Bike sharing for employees"
        members = (
            await s.execute(
                select(func.count())
                .select_from(RoleGrant)
                .where(RoleGrant.group_id == project.id, RoleGrant.role == "member")
            )
        ).scalar_one()
        assert members == 3  # bob (proposer), alice and carol (supporters)


async def test_propose_anyway_creates_the_idea_once(chat: Chat, bridge: Bridge) -> None:
    await setup_room(chat)
    await propose_bike_idea(chat)
    await chat.as_("alice", "#ideen")
    out = await chat("/idea Company bikes | bikes for the employees")
    assert "[2] Propose anyway" in out
    draft_button = Button(
        label="Propose anyway", action="i.new", args=(str(await last_draft_id(bridge)),)
    )
    token = bridge.encode_button(draft_button, ChannelRef(platform="console", chat="#ideen"))

    async def press(user: str) -> str:
        replies = await bridge.press(
            ActionPress(
                channel=ChannelRef(platform="console", chat="#ideen"),
                account=AccountRef(platform="console", user_id=user, display_name=user),
                token=token,
            )
        )
        return "\n".join(r.text for r in replies)

    assert await press("bob") == "This draft is not yours or no longer exists. Send /idea again."
    assert await press("alice") == (
        "Thanks! Your idea I-2 is posted in the group's channels; others can support it there."
    )
    assert await press("alice") == "You proposed this idea already: I-2."
    out = await chat.flush()
    assert sorted(b.split("\n")[0] for b in blocks(out)) == [
        "[#ideas] 💡 I-2 Company bikes",
        "[#ideen] 💡 I-2 Company bikes",
    ]
    assert await count(bridge, Idea) == 2


async def test_a_button_shown_to_one_person_works_for_them_alone(
    chat: Chat, bridge: Bridge
) -> None:
    """An ephemeral message's buttons (Slack, Discord) are bound to the person who sees
    them: the same token pressed by anyone else is no longer valid."""
    await setup_room(chat)
    await propose_bike_idea(chat)
    await chat.as_("alice", "#ideen")
    await chat("/idea Company bikes | bikes for the employees")
    here = ChannelRef(platform="console", chat="#ideen")
    button = Button(
        label="Propose anyway", action="i.new", args=(str(await last_draft_id(bridge)),)
    )
    token = bridge.encode_button(button, here, person="alice")

    async def press(user: str) -> str:
        replies = await bridge.press(
            ActionPress(
                channel=here,
                account=AccountRef(platform="console", user_id=user, display_name=user),
                token=token,
            )
        )
        return "\n".join(r.text for r in replies)

    assert await press("bob") == "This button is no longer valid."
    assert (await press("alice")).startswith("Thanks! Your idea I-2 is posted")


async def last_draft_id(bridge: Bridge) -> int:
    async with bridge.db.transaction() as s:
        return int((await s.execute(select(func.max(IdeaDraft.id)))).scalar_one())


async def test_expired_draft_is_refused(chat: Chat, bridge: Bridge, clock) -> None:  # type: ignore[no-untyped-def]
    await setup_room(chat)
    await propose_bike_idea(chat)
    out = await chat("/idea Bikes for employees")
    assert "Propose anyway" in out
    clock.advance(2 * 3600)
    out = await chat(":press 2")
    assert out == "[#ideas] (only bob) This draft has expired. Send /idea again."
    assert await count(bridge, Idea) == 1


async def test_bad_input_is_answered_and_changes_nothing(chat: Chat, bridge: Bridge) -> None:
    await setup_room(chat)
    await propose_bike_idea(chat)
    before = (
        await count(bridge, Idea),
        await count(bridge, IdeaVote),
        await count(bridge, IdeaComment),
    )

    out = await chat("/vote I-99")
    assert out == (
        "[#ideas] (only bob) There is no idea I-99 that you can see here. /ideas "
        "lists the ideas of this channel's group."
    )
    out = await chat("/vote X-1")
    assert "'X-1' is not an id like I-12." in out and "/vote <idea> [up|down|withdraw]" in out
    out = await chat("/vote I-1 sideways")
    assert "I did not expect 'sideways'." in out
    out = await chat("/idea")
    assert "<title [| description]> is missing." in out
    out = await chat("/idea  | only a description")
    assert out == "[#ideas] (only bob) Your idea needs a title: /idea <title> | <description>."
    out = await chat("/idea " + "x" * 201)
    assert "The title is too long (201 characters, at most 200)." in out
    out = await chat("/comment I-1")
    assert "<text> is missing." in out
    out = await chat("/comment I-7 hello")
    assert "There is no idea I-7" in out
    await chat.as_("carol", "#ideas")
    out = await chat("/status I-1 finished")
    assert "'finished' is not one of new, review, shortlisted, project, done, rejected." in out
    out = await chat("/status I-5 done")
    assert "There is no idea I-5" in out
    await chat.as_("bob", "#general")  # not linked to a group
    out = await chat("/idea Something")
    assert "This channel is not linked to a group." in out
    out = await chat("/ideas")
    assert "This channel is not linked to a group." in out

    after = (
        await count(bridge, Idea),
        await count(bridge, IdeaVote),
        await count(bridge, IdeaComment),
    )
    assert after == before


async def test_promote_needs_a_showcase(chat: Chat, bridge: Bridge) -> None:
    await chat(":channel ideas", "/group new ideas", "/link ideas")
    await propose_bike_idea(chat)
    await chat.as_("admin", "#ideas")
    out = await chat("/promote I-1")
    assert out == (
        "[#ideas] (only admin) There is no showcase group yet. An admin can make "
        "one with /group set <name> showcase."
    )
    await chat("/group new showcase showcase")
    out = await chat("/promote I-1")
    assert out == (
        "[#ideas] (only admin) I-1 is now shown in the showcase showcase. It has no linked "
        "channel yet; an admin can add one with /link showcase."
    )


async def test_closed_group_ideas_stay_inside(chat: Chat, bridge: Bridge) -> None:
    await setup_room(chat)
    await chat(":channel board", "/group new board closed", "/link board")
    await chat.as_("admin", "#board")
    out = await chat("/idea Bike sharing for the board members | secret budget numbers")
    assert "I-1" in out
    assert "[#board] 💡 I-1" in out and "[#ideas]" not in out and "[#showcase]" not in out

    # another group's channel: no listing, no similar offer, no vote, no comment
    await chat.as_("bob", "#ideas")
    out = await chat("/ideas")
    assert "I-1" not in out
    out = await chat("/idea Bike sharing for employees")
    assert "look like yours" not in out and "secret" not in out
    assert "Your idea I-2 is posted" in out
    for line in ("/vote I-1", "/comment I-1 hello", "/ideas top"):
        out = await chat(line)
        assert "board" not in out and "Bike sharing for the board" not in out
    await chat.as_("carol", "#ideas")  # a host elsewhere sees nothing either
    out = await chat("/promote I-1")
    assert "There is no idea I-1 that you can see here." in out
    # even an admin, asked in another group's channel
    await chat.as_("admin", "#ideas")
    out = await chat("/vote I-1")
    assert "There is no idea I-1 that you can see here." in out
    # inside the group, promoting is refused with a reason
    await chat.as_("admin", "#board")
    out = await chat("/promote I-1")
    assert out == (
        "[#board] (only admin) I-1 belongs to the closed group board; its ideas "
        "never leave that group."
    )
    assert await count(bridge, IdeaVote) == 0
    assert await count(bridge, IdeaComment) == 0


TWELVE = [
    "Better coffee",
    "More parking",
    "Lunch roulette",
    "Roof garden",
    "Book swap",
    "Music room",
    "Yoga classes",
    "Printer repair",
    "Open windows",
    "Office plants",
    "Sauna visit",
    "Piano lounge",
]


async def test_ideas_list_pages_and_filters(chat: Chat, bridge: Bridge) -> None:
    await setup_room(chat)
    await chat.as_("bob", "#ideas")
    for title in TWELVE:
        out = await chat(f"/idea {title}")
        assert "posted" in out, out
    await chat.as_("alice", "#ideas")
    await chat("/vote I-3", "/vote I-5 down")
    out = await chat("/ideas")
    lines = out.lines
    assert lines[0] == "[#ideas] (only alice) Ideas of ideas (newest first), page 1 of 2:"
    assert lines[1] == "  I-12 Piano lounge — 0 votes — new"
    assert len(lines) == 12 and lines[-1] == "  [1] More"
    out = await chat(":press 1")
    assert out.lines == [
        "[#ideas] (only alice) Ideas of ideas (newest first), page 2 of 2:",
        "  I-2 More parking — 0 votes — new",
        "  I-1 Better coffee — 0 votes — new",
    ]
    out = await chat("/ideas top")
    assert out.lines[1] == "  I-3 Lunch roulette — 1 vote — new"
    out = await chat("/ideas top 2")
    assert out.lines[-1] == "  I-5 Book swap — -1 votes — new"
    out = await chat("/ideas mine")
    assert out == "[#ideas] (only alice) You have not proposed an idea in this group yet."
    out = await chat("/ideas shortlisted")
    assert out == "[#ideas] (only alice) No idea of this group is shortlisted yet."
    out = await chat("/ideas new 3")
    assert out == "[#ideas] (only alice) There is no page 3; the list has 2."
    await chat.as_("bob", "#ideas")
    out = await chat("/ideas mine")
    assert "page 1 of 2" in out


async def test_a_long_list_is_counted_only_so_far(
    chat: Chat, bridge: Bridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14: a list's ideas are counted up to ``COUNTED`` (1,000: a hundred pages), so
    that the first page costs the same in a group of any size; past that the list says
    "100+" and pages on while there are ideas."""
    from bridge.services import ideas as svc

    monkeypatch.setattr(svc, "COUNTED", 10)
    await setup_room(chat)
    await chat.as_("bob", "#ideas")
    for title in TWELVE:
        assert "posted" in await chat(f"/idea {title}")
    out = await chat("/ideas")
    assert out.lines[0] == "[#ideas] (only bob) Ideas of ideas (newest first), page 1 of 1+:"
    assert out.lines[-1] == "  [1] More"
    out = await chat(":press 1")
    assert out.lines == [
        "[#ideas] (only bob) Ideas of ideas (newest first), page 2 of 2+:",
        "  I-2 More parking — 0 votes — new",
        "  I-1 Better coffee — 0 votes — new",
    ]
    out = await chat("/ideas new 3")
    assert out == "[#ideas] (only bob) There is no page 3; the list has 2."


async def test_connect_joins_votes_of_one_person(chat: Chat, bridge: Bridge) -> None:
    await setup_room(chat)
    await propose_bike_idea(chat)
    await chat("/vote I-1")
    slack = Invocation(
        channel=ChannelRef(platform="slack", chat="C1"),
        account=AccountRef(platform="slack", user_id="U1", display_name="bob"),
        command="vote",
        args="I-1",
    )
    [reply] = await bridge.handle(slack)
    assert reply.text == "You support I-1 now (2 supporters)."
    await chat.flush()
    out = await chat("/connect")
    code = re.search(r"Your code is ([A-Z0-9]{8})\.", out)
    assert code
    [reply] = await bridge.handle(
        Invocation(
            channel=slack.channel, account=slack.account, command="connect", args=code.group(1)
        )
    )
    assert "are now one person" in reply.text
    out = await chat.flush()
    assert sorted(blocks(out)) == [card("#ideas", 1, edited=True), card("#ideen", 1, edited=True)]
    [reply] = await bridge.handle(slack)
    assert reply.text.startswith("You support I-1 already; nothing changed.")


async def test_german_card_and_replies(make_bridge, clock) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import attach_console

    bridge = await make_bridge(community={"locale": "de"})
    printed: list[str] = []
    chat = Chat(bridge, attach_console(bridge, printed), printed)
    await chat(":channel ideen", "/group new ideen", "/link ideen")
    await chat.as_("bob", "#ideen")
    out = await chat("/idea Fahrräder für alle | Zehn Diensträder am Eingang")
    assert blocks(out) == [
        "[#ideen] (only bob) Danke! Deine Idee I-1 steht jetzt in den Kanälen der Gruppe; "
        "andere können sie dort unterstützen.",
        "[#ideen] 💡 I-1 Fahrräder für alle\n  Zehn Diensträder am Eingang\n"
        "  Vorgeschlagen von @bob in ideen · Stand: neu · 0 Unterstützungen\n"
        "  [1] Unterstützen (0)  [2] Kommentieren",
    ]
    out = await chat("/vote I-1")
    assert blocks(out)[0] == "[#ideen] (only bob) Du unterstützt jetzt I-1 (1 Unterstützung)."


async def test_a_status_change_tells_its_supporters_in_the_same_few_statements(
    chat: Chat, bridge: Bridge
) -> None:
    """Issue 14: telling the supporters of a new status costs the same few statements for
    2 supporters as for 12 (it ran about four a supporter)."""
    from tests.conftest import statements

    await chat("/group new ideas", "/link ideas", "/idea Small idea", "/idea Big idea")
    for n in range(12):
        await chat.as_(f"p{n}")
        await chat("/vote I-2" if n >= 2 else "/vote I-1", "/vote I-2")
    admin = AccountRef(platform="console", user_id="admin", display_name="admin")
    counted: list[int] = []
    for ref in ("I-1", "I-2"):
        with statements(bridge) as seen:
            await bridge.handle(
                Invocation(
                    channel=ChannelRef(platform="console", chat="#general"),
                    account=admin,
                    command="status",
                    args=f"{ref} review",
                    event_id=f"status-{ref}",
                )
            )
        counted.append(len(seen))
        print("\n".join(seen))
        print("-----")
    assert counted[0] == counted[1], counted
    out = await chat.flush()
    for n in range(12):
        assert (
            f"[@p{n}] The idea I-2 “Big idea” that you support has a new status: in review." in out
        )
    assert out.count("that you support has a new status") == 2 + 12
