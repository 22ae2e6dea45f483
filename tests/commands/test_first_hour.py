"""What members, hosts and admins reach for in their first hour (issue 16), as console
transcripts in English and German: one idea on its own, editing and withdrawing it,
search, comments edited and deleted, open surveys, roles, renaming and deleting groups,
separating accounts again, notification settings, the ideas export."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from bridge.clock import FakeClock
from bridge.core import Bridge
from bridge.messages import AccountRef, ChannelRef, Invocation
from bridge.models import Account, AuditEntry, Group, OutboxRow
from bridge.models.ideas import Idea
from tests.chat import Chat
from tests.conftest import BridgeFactory, attach_console


async def _room(chat: Chat) -> None:
    await chat("/group new ideas", "/link ideas", "/role console:carol host ideas")


async def test_one_idea_shown_edited_and_withdrawn(chat: Chat, bridge: Bridge) -> None:
    await _room(chat)
    await chat.as_("bob")
    await chat("/idea Bike racks | next to the entrance", "/comment I-1 Covered, please")
    out = await chat("/idea I-1")
    assert out.lines[0] == "[#general] (only bob) 💡 I-1 Bike racks"
    assert "  1 comment:" in out.lines
    assert "  1. bob: Covered, please" in out.lines
    assert not [line for line in out.lines if line.startswith("[#general] 💡")]  # not posted

    out = await chat("/idea edit I-1 Covered bike racks | next to the entrance")
    assert "[#general] (only bob) I-1 is changed; its cards follow." in out
    assert "[#general] (edited) 💡 I-1 Covered bike racks" in out

    await chat.as_("dora")
    out = await chat("/idea edit I-1 Mine now")
    assert "Only its proposer or the hosts of ideas may change I-1." in out
    await chat.as_("carol")
    await chat("/status I-1 review")
    await chat.as_("bob")
    out = await chat("/idea edit I-1 Too late")
    assert "I-1 is being looked at already (in review); ask a host to change it." in out

    await chat.as_("carol")
    out = await chat("/idea withdraw I-1 Done by facilities already")
    assert "I-1 is withdrawn. I told 1 person about it." in out
    assert "Status: withdrawn (Done by facilities already)" in out
    assert "[1] Support" not in out.split("(edited)")[-1]  # voting is closed
    out = await chat("/ideas")
    assert "No ideas here yet." in out  # a withdrawn idea leaves the lists
    out = await chat("/vote I-1")
    assert "I-1 is withdrawn; voting on it is closed." in out
    out = await chat("/idea withdraw I-1")
    assert "I-1 is withdrawn already." in out
    out = await chat("/idea edit the wiki pages")  # not an idea number: an idea of that name
    assert "Thanks! Your idea I-2 is posted" in out


async def test_search_finds_only_what_may_be_shown(chat: Chat, bridge: Bridge) -> None:
    await _room(chat)
    await chat("/idea Parking for bikes", "/idea Coffee machine on floor 2")
    await chat(":channel board", "/group new board closed", "/link board")
    await chat("/idea Bike budget 2027")
    await chat(":channel general")
    out = await chat("/ideas search bike")
    assert "Ideas matching bike:" in out
    assert "I-1 Parking for bikes" in out
    assert "Bike budget" not in out  # a closed group's idea, in another group's channel
    out = await chat("/ideas search 100%_sure")
    assert "No idea here matches 100%_sure." in out
    await chat("/ask Where can I park my bike?")
    await chat("/answer Q-1 Behind building B")
    out = await chat("/ask search park bike")
    assert "Q-1: Where can I park my bike?" in out
    assert "Answer: Behind building B" in out


async def test_comments_edited_and_deleted_follow_on_the_cards(chat: Chat, bridge: Bridge) -> None:
    await _room(chat)
    await chat.as_("bob")
    await chat("/idea Standing desks", "/comment I-1 Yes please", "/comment I-1 Two of them")
    out = await chat("/comment edit I-1 2 Three of them")
    assert "[#general] (only bob) Comment 2 on I-1 is changed." in out
    assert "[#general] (edited) 💬 @bob on I-1: Three of them (edited)" in out
    await chat.as_("dora")
    out = await chat("/comment delete I-1 1")
    assert "Only its author or a host may change comment 1." in out
    await chat.as_("carol")
    out = await chat("/comment delete I-1 1")
    assert "[#general] (edited) 💬 A comment on I-1 was deleted." in out
    out = await chat("/idea I-1")
    assert "  1. (deleted)" in out.lines and "  2. bob: Three of them" in out.lines
    out = await chat("/comment edit I-1 9 nope", "/comment edit I-1 x nope")
    assert "I-1 has no comment 9." in out
    assert "<number>: 'x' is not a number from 1 to 100000." in out
    async with bridge.db.transaction() as s:
        audit = (await s.execute(select(AuditEntry.action))).scalars().all()
    assert "comment.delete" in audit  # a host deleting someone's comment is logged


async def test_the_hosts_export_ideas_as_csv(chat: Chat) -> None:
    await _room(chat)
    await chat("/idea =HYPERLINK(evil) | formula", "/vote I-1")
    await chat.as_("bob")
    out = await chat("/ideas export")
    assert "Only hosts may use /ideas export." in out
    await chat.as_("carol")
    out = await chat("/ideas export")
    assert "[file ideas-ideas.csv," in out
    assert "  | idea,title,description,status,reason,proposer,supporters,against," in out
    assert "  | I-1,'=HYPERLINK(evil),formula,new,,admin,1,0," in out


async def test_open_surveys_and_reopening(chat: Chat, clock: FakeClock) -> None:
    await _room(chat)
    await chat('/survey new "Lunch?" Pizza Salad closes 1h', '/survey new "Team day?" Mon Fri')
    out = await chat("/surveys")
    assert "2 open surveys:" in out
    assert "S-2 Team day? — ideas" in out and "S-1 Lunch? — ideas · closes" in out
    await chat("/survey close S-2")
    out = await chat("/survey reopen S-2")
    assert "S-2 is open again; close it with /survey close S-2." in out
    assert "[#general] (edited) 📊 S-2: Team day?" in out
    out = await chat("/survey reopen S-2")
    assert "S-2 is open already." in out
    await chat.as_("bob")
    out = await chat("/survey reopen S-1")
    assert "Only the owner of S-1 or a host of its group may do that." in out


async def test_roles_listed_and_revoked(chat: Chat, bridge: Bridge) -> None:
    await _room(chat)
    out = await chat("/roles")
    assert "Roles in Test Community:" in out
    assert "• carol: host (ideas)" in out
    assert "• console:admin: admin (bot.toml)" in out
    out = await chat("/role revoke console:carol host ideas")
    assert "is no longer host in ideas." in out
    out = await chat("/role revoke console:carol host ideas")
    assert "@carol is not host in ideas." in out
    out = await chat("/role revoke console:admin admin")
    assert "console:admin is an admin in bot.toml; remove them there." in out
    out = await chat("/roles ideas")
    assert "Nobody has a role in ideas yet." in out
    await chat.as_("bob")
    out = await chat("/roles")
    assert "Only admins may use /roles." in out


async def test_groups_renamed_and_deleted(chat: Chat, bridge: Bridge) -> None:
    await _room(chat)
    out = await chat("/group rename ideas Ideen-Raum")
    assert "The group ideas is now called ideen-raum." in out
    out = await chat("/group rename ideen-raum ideen-raum")
    assert "The group is called ideen-raum already." in out
    await chat("/idea Bike racks")
    out = await chat("/group delete ideen-raum")
    assert "The group ideen-raum still has 1 ideas. Delete it with all of it:" in out
    out = await chat("/group delete ideen-raum force")
    assert "Deleted the group ideen-raum. 1 channel is unlinked." in out
    async with bridge.db.transaction() as s:
        assert (await s.execute(select(func.count()).select_from(Idea))).scalar_one() == 0
        assert (await s.execute(select(func.count()).select_from(Group))).scalar_one() == 0
        actions = (await s.execute(select(AuditEntry.action))).scalars().all()
    assert "group.delete" in actions and "group.rename" in actions
    out = await chat("/idea After the delete")
    assert "This channel is not linked to a group." in out


async def test_connect_undo_separates_the_accounts(chat: Chat, bridge: Bridge) -> None:
    out = await chat("/connect undo")
    assert "This account is not joined to another one." in out
    out = await chat("/connect")
    code = re.search(r"Your code is ([A-Z0-9]+)\.", out)
    assert code
    slack = AccountRef(platform="slack", user_id="U9", display_name="ada")
    here = ChannelRef(platform="slack", chat="C1")
    [done] = await bridge.handle(Invocation(here, slack, "connect", code.group(1)))
    assert "are now one person" in done.text
    [undone] = await bridge.handle(Invocation(here, slack, "connect", "undo"))
    assert "This account (slack:U9) stands on its own again; console:admin keep" in undone.text
    async with bridge.db.transaction() as s:
        people = {a.key: a.person_id for a in (await s.execute(select(Account))).scalars()}
    assert people["slack:U9"] != people["console:admin"]


async def test_notify_off_and_digest(chat: Chat, bridge: Bridge, clock: FakeClock) -> None:
    await _room(chat)
    await chat.as_("bob")
    await chat("/idea Bike racks", "/idea Coffee")
    out = await chat("/notify")
    assert "Your notifications: as they happen. Change with /notify on|off|digest." in out
    out = await chat("/notify off")
    assert "Your notifications are now off." in out
    await chat.as_("carol")
    out = await chat("/status I-1 review")
    assert "[@bob]" not in out  # nothing private for bob
    await chat.as_("bob")
    await chat("/notify digest")
    await chat.as_("carol")
    out = await chat("/status I-1 shortlisted", "/status I-2 review")
    assert "[@bob]" not in out  # collected for the summary
    clock.advance(timedelta(days=1, minutes=1))
    assert await bridge.outbox.send_digests() == 1
    await bridge.outbox.drain(include_delayed=True)
    summary = "\n".join(chat.printed[-6:])
    assert "[@bob] Your summary of the last day:" in summary
    assert "Your idea I-1 “Bike racks” has a new status: shortlisted." in summary
    assert "Your idea I-2 “Coffee” has a new status: in review." in summary
    async with bridge.db.transaction() as s:
        left = (
            await s.execute(select(func.count()).where(OutboxRow.status == "digest"))
        ).scalar_one()
    assert left == 0


async def test_the_first_hour_in_german(make_bridge: BridgeFactory) -> None:
    bridge = await make_bridge(community={"locale": "de", "admins": ["console:admin"]})
    printed: list[str] = []
    chat = Chat(bridge, attach_console(bridge, printed), printed)
    await _room(chat)
    await chat("/idea Fahrradständer | am Eingang", "/comment I-1 Überdacht bitte")
    out = await chat("/idea I-1")
    assert "  1 Kommentar:" in out.lines and "  1. admin: Überdacht bitte" in out.lines
    out = await chat("/ideas search Fahrrad")
    assert "Ideen zu Fahrrad:" in out
    out = await chat("/idea withdraw I-1 Schon erledigt")
    assert "I-1 ist zurückgezogen." in out
    out = await chat("/notify digest")
    assert "Deine Benachrichtigungen: ab jetzt einmal am Tag, in einer Zusammenfassung." in out
    out = await chat("/group delete ideas")
    assert "Die Gruppe ideas hat noch 1 Ideen." in out
    out = await chat("/ideas 99999999999999999999")
    assert "<page>: „99999999999999999999“ ist keine Zahl von 1 bis 10000." in out
    out = await chat("/stats 99999999d")
    assert "„99999999d“ ist zu lang: höchstens" in out


async def test_the_changelog_example_of_compounds_holds(chat: Chat) -> None:
    await _room(chat)
    await chat("/idea Fahrräder für den Hof")
    out = await chat("/idea Dienstfahrräder")
    assert "Before I post it: these ideas look like yours." in out
    assert "I-1 Fahrräder für den Hof" in out
