"""The Discord adapter end to end: the real discord.py client (REST and gateway) against a
fake Discord on 127.0.0.1, no mocking of discord.py."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.discord import (
    EPHEMERAL,
    HASH_SETTING,
    DiscordAdapter,
    command_options,
    command_payloads,
    escape,
    render_parts,
)
from bridge.core import Bridge
from bridge.messages import (
    AccountRef,
    Bold,
    Button,
    ChannelRef,
    Code,
    FileAttachment,
    Italic,
    Link,
    Mention,
    Message,
    Text,
)
from bridge.models import Channel, ChannelLink, OutboxRow
from bridge.registry import Command, Param, Subcommand, bind_options
from bridge.runtime import Runtime
from tests.conftest import SPEED, BridgeFactory, attach_console, make_config
from tests.fakes.discord import FakeDiscord, Interaction

ADA = FakeDiscord.user("111", "ada", global_name="Ada")  # a bootstrap admin
BOB = FakeDiscord.user("222", "bob")
INJECTION = "@everyone @here <@&123456789012345678> <@123456789012345678> **loud** [x](https://evil.example)"


class DiscordEnv:
    """A bridge with the Discord adapter, the fake Discord, a guild with #general and a
    thread in it."""

    def __init__(
        self,
        bridge: Bridge,
        adapter: DiscordAdapter,
        fake: FakeDiscord,
        guild: str,
        general: str,
        thread: str,
    ) -> None:
        self.bridge = bridge
        self.adapter = adapter
        self.fake = fake
        self.guild = guild
        self.general = general
        self.thread = thread

    async def flush(self) -> None:
        """Finish the answers being sent, then deliver what the outbox holds."""
        for _ in range(3):
            await self.adapter.settle()
            await self.bridge.outbox.drain(include_delayed=True)
        await self.adapter.settle()

    async def send(self, payload: dict[str, Any]) -> Interaction:
        record = await self.fake.dispatch_interaction(payload)
        await self.fake.wait_for(lambda: record.acked)
        await self.flush()
        return record

    async def slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: dict[str, Any] = ADA,
        channel: str | bool | None = True,
        sub: str | None = None,
        locale: str = "en-US",
    ) -> Interaction:
        where = self.general if channel is True else channel or None
        return await self.send(
            self.fake.slash(name, options, user=user, channel=where, sub=sub, locale=locale)
        )

    async def press(
        self, message: dict[str, Any], label: str, *, user: dict[str, Any] = ADA
    ) -> Interaction:
        current = self.fake.messages[message["id"]]
        [button] = [b for b in self.fake.buttons(current) if b["label"].startswith(label)]
        return await self.send(self.fake.button(current, button["custom_id"], user=user))

    def shown(self, channel: str) -> list[str]:
        return [m["content"] for m in self.fake.channel_messages(channel)]

    async def count(self, model: Any, *where: Any) -> int:
        async with self.bridge.db.transaction() as session:
            return int(
                (
                    await session.execute(select(func.count()).select_from(model).where(*where))
                ).scalar_one()
            )


def said(record: Interaction) -> list[tuple[str, bool]]:
    """What the person saw: (text, ephemeral) per response and follow-up."""
    return [(m["content"], bool(m["flags"] & EPHEMERAL)) for m in record.replies()]


async def start_adapter(bridge: Bridge) -> DiscordAdapter:
    adapter = DiscordAdapter(bridge)
    bridge.add_adapter(adapter)
    await adapter.start()
    assert adapter.state == "ready"
    return adapter


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = await FakeDiscord(speed=SPEED).start()
    yield server
    await server.stop()


@pytest.fixture
async def env(make_bridge: BridgeFactory, fake: FakeDiscord) -> AsyncIterator[DiscordEnv]:
    guild = fake.add_guild("Acme")
    general = fake.add_channel(guild, "general")
    thread = fake.add_thread(general, "ideas-talk")
    bridge = await make_bridge(
        discord={"token": "x", "api_base": f"{fake.url}/api/v10", "gateway_url": fake.ws_url},
        community={"admins": ["discord:111"]},
    )
    adapter = await start_adapter(bridge)
    yield DiscordEnv(bridge, adapter, fake, guild, general, thread)
    await adapter.stop()


async def linked(env: DiscordEnv, group: str = "ideas", channel: str | None = None) -> None:
    await env.slash("group", {"name": group}, sub="new")
    await env.slash("link", {"group": group}, channel=channel or env.general)


# ------------------------------------------------------------------ connecting and commands


async def test_connects_with_minimal_intents_and_compressed_gateway(env: DiscordEnv) -> None:
    fake = env.fake
    assert fake.identifies == 1
    assert fake.intents == 1  # GUILDS only: no privileged intent
    assert fake.compressions == ["zlib-stream"]
    assert env.adapter.health() == {"state": "ready"}
    await env.adapter.stop()
    assert env.adapter.state == "stopped"
    assert not fake.connected or await _eventually(lambda: not fake.connected)


async def _eventually(predicate: Any, within: float = 5.0) -> bool:
    """A bounded wait for a condition that nothing signals (the adapter's own counters)."""

    async def until() -> None:
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    await asyncio.wait_for(until(), within)
    return True


async def test_command_sync_payload(env: DiscordEnv) -> None:
    cmds = env.fake.commands()
    # every command, and each further form of a command that has its own form too: Discord
    # gives a command with subcommands no form of its own, so /idea edit is /idea-edit there
    further = {
        f"{c.name}-{sub}"
        for c in env.bridge.registry.commands.values()
        if c.handler
        for sub in c.subcommands
    }
    assert set(cmds) == set(env.bridge.registry.commands) | further

    link = cmds["link"]
    assert link["description"] == "Link this channel to a group: the group's content is shown here."
    assert link["description_localizations"] == {
        "de": "Verknüpft diesen Kanal mit einer Gruppe: Ihre Inhalte erscheinen dann hier."
    }
    assert link["default_member_permissions"] == "32"  # Manage Server: hidden from members
    assert link["contexts"] == [0]
    assert link["options"] == [
        {
            "type": 3,
            "name": "group",
            "description": "the group's name",
            "required": True,
            "description_localizations": {
                "de": link["options"][0]["description_localizations"]["de"]
            },
        }
    ]

    helps = cmds["help"]
    assert "default_member_permissions" not in helps
    assert helps["contexts"] == [0, 1]
    assert helps["options"][0]["required"] is False

    # subcommands with typed options; choices with German names where the catalog has them
    group = cmds["group"]
    new = next(o for o in group["options"] if o["name"] == "new")
    assert new["type"] == 1
    kinds = {o["name"]: (o["type"], o["required"]) for o in new["options"]}
    assert kinds == {
        "name": (3, True),
        "visibility": (3, False),
        "showcase": (5, False),
        "hostdesk": (5, False),
    }
    visibility = next(o for o in new["options"] if o["name"] == "visibility")
    assert [c["value"] for c in visibility["choices"]] == ["closed", "internal", "public"]
    assert visibility["choices"][0]["name_localizations"] == {"de": "geschlossen"}

    # required options come first, whatever the grammar's order (/ask [private] <question>)
    ask = cmds["ask"]
    assert [(o["name"], o["type"], o["required"]) for o in ask["options"]] == [
        ("question", 3, True),
        ("private", 5, False),
    ]
    ideas = cmds["ideas"]
    assert ("page", 4) in [(o["name"], o["type"]) for o in ideas["options"]]
    assert "default_member_permissions" not in cmds["idea"]


async def test_sync_only_when_the_command_set_changed(env: DiscordEnv) -> None:
    fake = env.fake
    assert fake.count("PUT", r"/commands$") == 1
    await env.adapter.stop()
    again = await start_adapter(env.bridge)  # same commands: no new registration
    assert fake.count("PUT", r"/commands$") == 1
    await again.stop()
    await env.bridge.set_setting(HASH_SETTING, "an older command set")
    third = await start_adapter(env.bridge)
    assert fake.count("PUT", r"/commands$") == 2
    await third.stop()


async def test_guild_commands_when_a_guild_is_configured(
    make_bridge: BridgeFactory, fake: FakeDiscord
) -> None:
    guild = fake.add_guild()
    bridge = await make_bridge(
        discord={
            "token": "x",
            "api_base": fake.api_base,
            "gateway_url": fake.ws_url,
            "guild_id": guild,
        }
    )
    adapter = await start_adapter(bridge)
    try:
        assert fake.global_commands == []
        link = fake.commands(guild)["link"]
        assert "contexts" not in link and link["default_member_permissions"] == "32"
    finally:
        await adapter.stop()


async def test_a_refused_token_shows_in_health_and_sends_nothing(
    make_bridge: BridgeFactory, fake: FakeDiscord
) -> None:
    bridge = await make_bridge(
        discord={"token": "wrong", "api_base": fake.api_base, "gateway_url": fake.ws_url}
    )
    adapter = DiscordAdapter(bridge)
    bridge.add_adapter(adapter)
    await adapter.start()
    assert adapter.health() == {
        "state": "error",
        "detail": "login failed: Improper token has been passed.",
    }
    assert fake.identifies == 0 and fake.global_commands == []
    await adapter.stop()
    assert adapter.state == "stopped"


def test_words_become_numbered_options_and_back() -> None:
    survey = Command(name="poll", help="Start a poll.", who="member")
    params = [
        Param("question", "the question"),
        Param("options", "the options", kind="words", metavar="option"),
        Param("multi", "several may be chosen", kind="flag", required=False),
        Param("closes", "close after", kind="option", required=False, metavar="time"),
    ]
    survey.subcommands["new"] = Subcommand("new", "New poll.", params, _noop)
    [payload] = command_payloads([survey])
    new = payload["options"][0]
    names = [(o["name"], o["required"]) for o in new["options"]]
    assert names[:3] == [("question", True), ("option1", True), ("option2", False)]
    assert ("option10", False) in names and ("multi", False) in names
    options = [
        {
            "type": 1,
            "name": "new",
            "options": [
                {"name": "question", "type": 3, "value": "Lunch?"},
                {"name": "option1", "type": 3, "value": "Pizza"},
                {"name": "option2", "type": 3, "value": 'Sushi "fresh"'},
                {"name": "multi", "type": 5, "value": True},
                {"name": "closes", "type": 3, "value": "2h"},
            ],
        }
    ]
    sub, values = command_options(survey, options)
    assert sub == "new"
    # typed values reach the command as typed: quotes and words such as "multi" kept
    assert bind_options(params, values) == {
        "question": "Lunch?",
        "options": ["Pizza", 'Sushi "fresh"'],
        "multi": True,
        "closes": "2h",
    }


async def _noop(*args: Any) -> None:
    return None


# ------------------------------------------------------------------ channels and threads


async def test_link_in_a_text_channel_and_in_a_thread(env: DiscordEnv) -> None:
    made = await env.slash("group", {"name": "ideas"}, sub="new")
    assert said(made) == [
        ("Created group **ideas** (internal). Link a channel to it with `/link ideas`.", True)
    ]
    here = await env.slash("link", {"group": "ideas"}, channel=env.general)
    assert said(here) == [
        (
            "This channel is now linked to the group **ideas**. Type /help to "
            "see what you can do here.",
            False,
        )
    ]
    there = await env.slash("link", {"group": "ideas"}, channel=env.thread)
    assert said(there)[0][0].startswith("This channel is now linked to the group **ideas**")
    listed = await env.slash("groups")
    assert said(listed) == [
        (
            "Groups:\n• **ideas** (internal) — #general \\[discord\\], "
            "#general › ideas-talk \\[discord\\]",
            True,
        )
    ]
    async with env.bridge.db.transaction() as s:
        rows = (
            await s.execute(
                select(Channel.chat_id, Channel.thread_id, Channel.name).order_by(Channel.id)
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        (env.general, "", "#general"),
        (env.thread, "", "#general › ideas-talk"),
    ]
    assert await env.count(ChannelLink, ChannelLink.active.is_(True)) == 2


async def test_a_member_may_not_link_and_nothing_changes(env: DiscordEnv) -> None:
    await env.slash("group", {"name": "ideas"}, sub="new")
    refused = await env.slash("link", {"group": "ideas"}, user=BOB)
    assert said(refused) == [("Only admins may use /link.", True)]
    assert await env.count(ChannelLink) == 0


async def test_help_in_english_and_german_and_in_a_dm(env: DiscordEnv) -> None:
    english = await env.slash("help", user=BOB)
    [(text, ephemeral)] = said(english)
    assert ephemeral and text.startswith("Commands you can use here:")
    assert "/link" not in text and "/idea" in text
    german = await env.slash("help", user=BOB, locale="de")
    assert said(german)[0][0].startswith("Befehle, die du hier nutzen kannst:")
    private = await env.slash("help", {"command": "vote"}, user=BOB, channel=None)
    assert said(private)[0][0].startswith("/vote: Vote for an idea")
    assert said(private)[0][1] is True


# ------------------------------------------------------------------ retries and the gateway


async def test_a_repeated_interaction_is_processed_once(env: DiscordEnv) -> None:
    await linked(env)
    payload = env.fake.slash(
        "idea", {"text": "Solar roof | on the warehouse"}, user=BOB, channel=env.general
    )
    first = await env.send(payload)
    await env.fake.dispatch("INTERACTION_CREATE", payload)  # the gateway delivers it again
    await _eventually(lambda: env.adapter.received == 4)
    await env.flush()
    assert len(first.callbacks) == 1
    cards = [m for m in env.shown(env.general) if "Solar roof" in m]
    assert len(cards) == 1

    # after a restart the adapter forgets, the core still knows the interaction id
    await env.adapter.stop()
    adapter = await start_adapter(env.bridge)
    await env.fake.dispatch("INTERACTION_CREATE", payload)
    await _eventually(lambda: adapter.received == 1)
    await adapter.settle()
    await env.bridge.outbox.drain(include_delayed=True)
    assert len([m for m in env.shown(env.general) if "Solar roof" in m]) == 1
    assert len(first.callbacks) == 1
    assert said(first) == [
        (
            "Thanks! Your idea `I-1` is posted in the group's channels; "
            "others can support it there.",
            True,
        )
    ]  # and the answer stays
    # the inbox knows the interaction: no second answer is even tried
    assert not any(code == 40060 for _m, _p, code, _t in env.fake.rejected)
    await adapter.stop()


async def test_gateway_disconnect_and_resume_lose_no_interaction(env: DiscordEnv) -> None:
    fake = env.fake
    await env.fake.drop(hold=True)
    await _eventually(lambda: not fake.connected)
    payload = fake.slash("help", user=BOB, channel=env.general)
    record = await fake.dispatch_interaction(payload)  # while the bot is away
    assert not record.acked
    fake.release()
    await fake.wait_for(lambda: record.acked)
    await env.flush()
    assert said(record)[0][0].startswith("Commands you can use here:")
    assert fake.identifies == 1 and fake.resumes == 1
    assert env.adapter.state == "ready"
    # and the resumed session goes on as before
    later = await env.slash("help", user=BOB)
    assert said(later)[0][0].startswith("Commands you can use here:")


# ------------------------------------------------------------------ rendering and safety


def test_escape_neutralises_markdown_and_mentions() -> None:
    assert escape("@everyone and @here") == "@\u200beveryone and @\u200bhere"
    assert escape("<@123456789012345678>") == "\\<@\u200b123456789012345678>"
    assert (
        escape("**x** _y_ ~~z~~ `c` ||s||")
        == "\\*\\*x\\*\\* \\_y\\_ \\~\\~z\\~\\~ \\`c\\` \\|\\|s\\|\\|"
    )
    assert escape("[x](https://evil.example)") == "\\[x\\](https://evil.example)"
    assert escape("# big\n> quote\n- item\n1. first") == "\\# big\n\\> quote\n\\- item\n1\\. first"
    assert escape("see https://example.com/a_b_c now") == "see https://example.com/a_b_c now"
    assert escape("I-12 costs 5-10 €") == "I-12 costs 5-10 €"


def test_render_parts() -> None:
    content, users = render_parts(
        [
            Text(text="Hi "),
            Mention(text="ada", accounts={"discord": "111"}),
            Text(text=" and "),
            Mention(text="@everyone", accounts={"slack": "U1"}),
            Text(text=": "),
            Bold(text=" *big* "),
            Italic(text="small"),
            Text(text=" "),
            Code(text="a`b"),
            Text(text=" "),
            Link(url="https://x.example/a)b", text="[docs]"),
            Text(text=" "),
            Link(url="javascript:alert(1)", text="evil"),
        ]
    )
    assert content == (
        "Hi <@111> and @@\u200beveryone:  **\\*big\\*** *small* `aˋb` "
        "[\\[docs\\]](<https://x.example/a%29b>) evil"
    )
    assert users == ["111"]


async def test_mention_injection_is_neutralised(env: DiscordEnv) -> None:
    await linked(env)
    await env.slash("idea", {"text": INJECTION}, user=BOB)
    [card] = [m for m in env.fake.channel_messages(env.general) if "I-1" in m["content"]]
    assert card["allowed_mentions"] == {
        "parse": [],
        "users": ["222"],
        "roles": [],
        "replied_user": False,
    }
    content = card["content"]
    assert "@everyone" not in content and "@here" not in content
    assert "<@&" not in content and "<@1234" not in content and "[x](" not in content
    assert (
        "@\u200beveryone @\u200bhere \\<@\u200b&123456789012345678> "
        "\\<@\u200b123456789012345678> \\*\\*loud\\*\\* \\[x\\](https://evil.example)"
    ) in content
    assert "<@222>" in content  # the proposer, a real Discord user, may be named
    # every message the bot sent forbids @everyone, @here and role pings
    for message in env.fake.messages.values():
        assert message["allowed_mentions"]["parse"] == []
    unknown = await env.slash("help", {"command": INJECTION}, user=BOB)
    assert "@\u200beveryone" in said(unknown)[0][0]
    assert unknown.callbacks[0]["data"]["allowed_mentions"]["parse"] == []


async def test_a_forged_button_is_no_longer_valid_and_changes_nothing(env: DiscordEnv) -> None:
    await linked(env)
    await env.slash("idea", {"text": "Bike racks"}, user=BOB)
    [card] = [m for m in env.fake.channel_messages(env.general) if "Bike racks" in m["content"]]
    support = env.fake.buttons(card)[0]["custom_id"]
    action, args, issued, _sig = support.split("|")
    forged = f"{action}|{args}|{issued}|AAAAAAAA"
    record = await env.send(env.fake.button(card, forged, user=ADA))
    assert said(record) == [("This button is no longer valid.", True)]
    assert "Support (0)" in [b["label"] for b in env.fake.buttons(env.fake.messages[card["id"]])]
    assert env.fake.messages[card["id"]]["edits"] == 0


async def test_slow_work_is_deferred_then_answered(env: DiscordEnv) -> None:
    env.adapter.defer_after = 0.0  # as if the database were slow
    made = await env.slash("group", {"name": "ideas"}, sub="new")
    assert made.callbacks == [{"type": 5, "data": {"flags": EPHEMERAL}}]
    assert said(made) == [
        ("Created group **ideas** (internal). Link a channel to it with `/link ideas`.", True)
    ]
    linked_here = await env.slash("link", {"group": "ideas"})
    assert said(linked_here) == []  # the private "thinking" answer was removed ...
    assert env.shown(env.general) == [  # ... and the public reply went to the channel
        "This channel is now linked to the group **ideas**. Type /help to see what you can do here."
    ]


# ------------------------------------------------------------------ delivery errors


@pytest.mark.parametrize("lose", ["deleted", "forbidden"])
async def test_a_lost_channel_pauses_its_link_and_admins_are_told(
    env: DiscordEnv, lose: str
) -> None:
    await linked(env)
    await env.slash("link", {"group": "ideas"}, channel=env.thread)
    if lose == "deleted":
        env.fake.remove_channel(env.general)
        reason = "Unknown Channel"
    else:
        env.fake.forbid(env.general)
        reason = "Missing Access"
    await env.slash("idea", {"text": "Night shift bus"}, user=BOB, channel=env.thread)
    async with env.bridge.db.transaction() as s:
        links = dict(
            (
                await s.execute(
                    select(Channel.chat_id, ChannelLink.active).join(
                        ChannelLink, ChannelLink.channel_id == Channel.id
                    )
                )
            ).all()
        )
    assert links == {env.general: False, env.thread: True}
    [note] = [m["content"] for m in env.fake.dm_messages("111")]
    assert note.startswith(f"I can no longer post in #general (discord: {reason}).")
    assert any("Night shift bus" in text for text in env.shown(env.thread))


async def test_a_send_repeated_after_a_crash_posts_once(env: DiscordEnv) -> None:
    """The worker sent, then died before recording the message id: the retry after the
    lease carries the same nonce, and Discord returns the first message."""
    from datetime import timedelta

    from bridge.messages import ChannelRef, Message, Text
    from bridge.models import OutboxRow, PostedMessage

    key = f"discord:{env.general}"
    async with env.bridge.db.transaction() as s:
        row = await env.bridge.outbox.post(
            s, key, Message(parts=(Text(text="only once"),)), ref_key="testnote:1"
        )
    [claimed] = await env.bridge.outbox.claim(["discord"])
    assert claimed.id == row.id and claimed.payload is not None
    first = Message.model_validate(claimed.payload).model_copy(
        update={"delivery_id": f"{env.bridge.outbox.install}{row.id}"}
    )
    first_id = await env.adapter.send(ChannelRef.from_key(key), first)  # ... and the crash

    env.bridge.clock.advance(timedelta(seconds=61))  # type: ignore[attr-defined]
    assert await env.bridge.outbox.drain() == 1
    assert env.shown(env.general).count("only once") == 1
    async with env.bridge.db.transaction() as s:
        sent = await s.get(OutboxRow, row.id)
        assert sent is not None and sent.status == "sent"
        assert sent.platform_message_id == first_id
        posted = (await s.execute(select(PostedMessage))).scalar_one()
        assert posted.platform_message_id == first_id


async def test_429_is_waited_out_or_handed_back(env: DiscordEnv) -> None:
    await linked(env)
    channel = ChannelRef(platform="discord", chat=env.general)
    env.fake.rate_limit("POST", rf"/channels/{env.general}/messages$", retry_after=0.05)
    message_id = await env.adapter.send(channel, Message(parts=(Text(text="after a wait"),)))
    assert env.fake.messages[message_id]["content"] == "after a wait"
    assert env.fake.count("POST", rf"/channels/{env.general}/messages$") == 2

    # a long wait is not sat out in the delivery lane: the outbox retries it later
    env.fake.rate_limit("POST", rf"/channels/{env.general}/messages$", retry_after=120.0)
    async with env.bridge.db.transaction() as s:
        await env.bridge.outbox.post(
            s, f"discord:{env.general}", Message(parts=(Text(text="later"),))
        )
    await env.bridge.outbox.drain()
    async with env.bridge.db.transaction() as s:
        row = (
            (
                await s.execute(
                    select(OutboxRow)
                    .where(OutboxRow.payload.is_not(None))
                    .order_by(OutboxRow.id.desc())
                )
            )
            .scalars()
            .first()
        )
        assert row is not None
        assert row.status == "pending"
        assert row.last_error == "rate limited: discord: 429 Too Many Requests"
        assert row.not_before >= env.bridge.now()
    assert "later" not in env.shown(env.general)
    await env.bridge.outbox.drain(include_delayed=True)
    assert "later" in env.shown(env.general)


async def test_send_edit_reply_dm_and_file(env: DiscordEnv) -> None:
    adapter, fake = env.adapter, env.fake
    here = ChannelRef(platform="discord", chat=env.general)
    first = await adapter.send(
        here,
        Message(
            parts=(Text(text="v1"),), buttons=(Button(label="Go", action="i.sup", args=("1",)),)
        ),
    )
    await adapter.edit(here, first, Message(parts=(Text(text="v2"),)))
    assert fake.messages[first]["content"] == "v2"
    assert fake.messages[first]["components"] == []
    reply = await adapter.send(here, Message(parts=(Text(text="under it"),), reply_to=first))
    assert fake.messages[reply]["message_reference"] == {
        "message_id": first,
        "fail_if_not_exists": False,
    }
    dm = ChannelRef(platform="discord", chat="222", dm=True)
    sent = await adapter.send(
        dm,
        Message(
            parts=(Text(text="psst"),),
            file=FileAttachment(name="votes.csv", content=b"a,b\n1,2\n", mime="text/csv"),
        ),
    )
    [shown] = fake.dm_messages("222")
    assert shown["id"] == sent and shown["content"] == "psst"
    assert shown["files"][0]["filename"] == "votes.csv"
    assert shown["files"][0]["content"] == b"a,b\n1,2\n"
    # longer than 2,000 characters: numbered parts, nothing clipped (issue 15)
    long = await adapter.send(here, Message(parts=(Text(text="x " * 1250),)))
    first, second = (fake.messages[i] for i in long.split())
    assert first["content"].endswith("\n*(1/2)*") and second["content"].endswith("*(2/2)*")
    shown = (first["content"] + second["content"]).replace(" ", "")
    assert shown.count("x") == 1250 and not first.get("embeds")


# ------------------------------------------------------------------ the whole story


async def test_end_to_end_link_idea_support_comment_ask_and_survey(env: DiscordEnv) -> None:
    fake = env.fake
    printed: list[str] = []
    console = attach_console(env.bridge, printed)  # the hosts work on another platform

    # the admin links #general to the group support; carol (console) hosts it
    await linked(env, "support")
    await env.slash("role", {"person": "console:carol", "role": "host"})
    console.user, console.channel = "carol", "desk"
    await console.line("/help")

    # bob proposes an idea: the card shows in #general with Support and Comment
    proposed = await env.slash("idea", {"text": "Standing desks | for the support team"}, user=BOB)
    assert said(proposed) == [
        (
            "Thanks! Your idea `I-1` is posted in the group's channels; "
            "others can support it there.",
            True,
        )
    ]
    [card] = [m for m in fake.channel_messages(env.general) if "I-1" in m["content"]]
    assert "**Standing desks**" in card["content"]
    assert [b["label"] for b in fake.buttons(card)] == ["Support (0)", "Comment"]

    # ada supports it: a private confirmation, the card's count is edited live
    supported = await env.press(card, "Support", user=ADA)
    assert said(supported) == [("You support `I-1` now (1 supporter).", True)]
    card = fake.messages[card["id"]]
    assert fake.buttons(card)[0]["label"] == "Support (1)"
    assert "1 supporter" in card["content"] and card["edits"] == 1

    # the Comment button opens a form; its submission comments under the card
    opened = await env.press(card, "Comment", user=ADA)
    modal = opened.modal
    assert modal is not None and modal["title"] == "Comment on I-1"
    assert [row["type"] for row in modal["components"]] == [18]  # a Label component
    [field] = [row["component"] for row in modal["components"]]
    assert (field["custom_id"], field["style"]) == ("text", 2)
    submitted = await env.send(
        fake.modal_submit(
            modal["custom_id"], {"text": "Yes, and monitor arms"}, user=ADA, channel=env.general
        )
    )
    assert said(submitted) == [("Your comment is posted under `I-1`.", True)]
    [comment] = [
        m for m in fake.channel_messages(env.general) if "Yes, and monitor arms" in m["content"]
    ]
    assert comment["message_reference"]["message_id"] == card["id"]

    # bob asks; carol answers on the console; the answer comes back to #general on Discord
    asked = await env.slash("ask", {"question": "Who pays for the desks?"}, user=BOB)
    assert said(asked) == [
        ("Asked as **Q-1**; the hosts have been told. Answers will appear here.", True)
    ]
    await console.line("/answer Q-1 The company does, from the facilities budget.")
    await env.flush()
    answer = [m for m in fake.channel_messages(env.general) if "facilities budget" in m["content"]]
    assert len(answer) == 1
    assert "<@222>" in answer[0]["content"]  # bob is named natively ...
    assert answer[0]["allowed_mentions"]["users"] == ["222"]  # ... and only bob
    [question] = [
        m for m in fake.channel_messages(env.general) if "Q-1**: question" in m["content"]
    ]
    assert question["content"].endswith("Answered by **carol**.")  # the card was edited
    assert answer[0]["message_reference"]["message_id"] == question["id"]

    # a survey answered by button: the poll's counts are edited in place
    started = await env.slash(
        "survey",
        {"question": "Which desk?", "option1": "Oak", "option2": "Birch"},
        sub="new",
        user=ADA,
    )
    assert said(started) == [
        ("Survey `S-1` started in **support**. Close it with `/survey close S-1`.", True)
    ]
    [poll] = [m for m in fake.channel_messages(env.general) if "Which desk?" in m["content"]]
    assert [b["label"] for b in fake.buttons(poll)] == ["Oak (0)", "Birch (0)"]
    voted = await env.press(poll, "Birch", user=BOB)
    assert said(voted) == [
        ("You chose **Birch** in `S-1`. Press another option to change your answer.", True)
    ]
    poll = fake.messages[poll["id"]]
    assert [b["label"] for b in fake.buttons(poll)] == ["Oak (0)", "Birch (1)"]
    assert "1 respondent" in poll["content"]
    exported = await env.slash("survey", {"survey": "S-1"}, sub="export", user=ADA)
    [csv] = exported.replies()
    assert csv["flags"] & EPHEMERAL and csv["content"] == "The CSV export of `S-1`."
    assert csv["files"][0]["filename"] == "S-1.csv"
    assert b"Birch" in csv["files"][0]["content"]


# ------------------------------------------------------------------ the process and the CLI


async def test_run_starts_the_adapter_and_the_delivery_worker(
    fake: FakeDiscord, db_url: str
) -> None:
    guild = fake.add_guild()
    general = fake.add_channel(guild, "general")
    config = make_config(
        db_url,
        discord={"token": "x", "api_base": fake.api_base, "gateway_url": fake.ws_url},
        community={"admins": ["discord:111"]},
        http={"enabled": False},
    )
    runtime = Runtime(config, ["discord"])
    bridge = await runtime.start()
    try:
        adapter = bridge.adapters["discord"]
        assert isinstance(adapter, DiscordAdapter) and adapter.state == "ready"
        made = await fake.dispatch_interaction(
            fake.slash("group", {"name": "ideas"}, sub="new", user=ADA, channel=general)
        )
        await fake.wait_for(lambda: made.acked)
        linked_here = await fake.dispatch_interaction(
            fake.slash("link", {"group": "ideas"}, user=ADA, channel=general)
        )
        await fake.wait_for(lambda: linked_here.acked)
        idea = await fake.dispatch_interaction(
            fake.slash("idea", {"text": "Quiet room"}, user=BOB, channel=general)
        )
        # the outbox worker of the process posts the card, no test help
        await fake.wait_for(
            lambda: any("Quiet room" in m["content"] for m in fake.channel_messages(general))
        )
        assert idea.acked
    finally:
        await runtime.stop()
    assert adapter.state == "stopped"


async def test_discord_sync_command_line(fake: FakeDiscord, db_url: str, tmp_path: Path) -> None:
    config = tmp_path / "bot.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n'
        f'[discord]\ntoken = "x"\napi_base = "{fake.api_base}"\n'
        f'gateway_url = "{fake.ws_url}"\n',
        encoding="utf-8",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge",
        "discord-sync",
        "--config",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    assert out.decode().startswith("registered ") and "globally" in out.decode()
    assert "link" in fake.commands()
    assert fake.identifies == 0  # REST only: no gateway session for a sync

    bad = tmp_path / "bad.toml"
    bad.write_text(config.read_text().replace('token = "x"', 'token = "wrong"'), "utf-8")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge",
        "discord-sync",
        "--config",
        str(bad),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1
    assert "login failed" in err.decode()


# ------------------------------------------------------------------ the partner network

CAROL = FakeDiscord.user("333", "carol")


async def test_partner_network_through_discord(env: DiscordEnv) -> None:
    """The profile modal (current values shown, an emptied field cleared), the description
    in a modal of its own, a reference the customer confirms in a DM, a recommendation
    through host approval, the search by trade and region."""
    fake = env.fake
    await linked(env, "trades")
    await env.slash("trades", {"action": "add", "trade": "Elektriker"})

    opened = await env.slash("profile-edit", {}, user=BOB)
    modal = opened.modal
    assert modal is not None and modal["title"] == "Your profile"
    fields = [row["component"] for row in modal["components"]]
    assert [f["custom_id"] for f in fields] == ["company", "trade", "region", "website", "contact"]
    typed = {"company": "Meier @everyone Elektro", "trade": "elektriker", "region": "80331"}
    saved = await env.send(fake.submit(modal, typed, user=BOB, channel=env.general))
    [(text, private)] = said(saved)
    assert private and "Your profile is saved (Company, Trade, Region)." in text
    [reply] = saved.replies()
    assert reply["allowed_mentions"]["parse"] == []  # the company's @everyone pings nobody
    assert [b["label"] for b in fake.buttons(reply)] == ["Edit the description"]

    described = await env.send(fake.button(reply, fake.buttons(reply)[0]["custom_id"], user=BOB))
    modal = described.modal
    assert modal is not None
    [field] = [row["component"] for row in modal["components"]]
    assert (field["custom_id"], field["style"]) == ("description", 2)
    saved = await env.send(
        fake.submit(modal, {"description": "Kabel und Licht."}, user=BOB, channel=env.general)
    )
    assert "Your profile is saved (Description)." in said(saved)[0][0]

    # opened again it shows what is stored; emptying the region clears it, the rest stays
    opened = await env.slash("profile-edit", {}, user=BOB)
    assert opened.modal is not None
    values = {
        row["component"]["custom_id"]: row["component"].get("value")
        for row in opened.modal["components"]
    }
    assert values["region"] == "80331" and values["trade"] == "Elektriker"
    saved = await env.send(fake.submit(opened.modal, {"region": ""}, user=BOB, channel=env.general))
    assert "Your profile is saved (Region)." in said(saved)[0][0]
    await env.slash("profile-set", {"field": "region", "value": "80 München"}, user=BOB)

    # a reference naming carol: she confirms it in her private chat
    added = await env.slash(
        "reference-add", {"title": "Schulhaus Nord", "details": "customer <@333>"}, user=BOB
    )
    assert "`R-1` is on your profile" in said(added)[0][0]
    [ask] = [m for m in fake.dm_messages("333") if "R-1" in m["content"]]
    assert [b["label"] for b in fake.buttons(ask)] == ["Confirm", "Decline"]
    confirmed = await env.send(fake.button(ask, fake.buttons(ask)[0]["custom_id"], user=CAROL))
    assert "Thank you: R-1 now names you as its customer." in said(confirmed)[0][0]

    # carol recommends bob; it shows once a host approved it
    thanks = await env.slash("recommend", {"person": "<@222>", "text": "Schnell"}, user=CAROL)
    assert "Your recommendation #1 goes to the hosts" in said(thanks)[0][0]
    approved = await env.slash("recommend-approve", {"number": 1})
    assert "Recommendation #1 is approved" in said(approved)[0][0]
    card = await env.slash("profile", {"person": "<@222>"}, user=CAROL)
    [(text, private)] = said(card)
    assert "Schulhaus Nord — customer: carol" in text and "“Schnell” — **carol**" in text
    assert "Kabel und Licht." in text

    found = await env.slash("partners", {"query": "elektriker 80"}, user=CAROL)
    assert "Elektriker · 80 München — 1 recommendation" in said(found)[0][0]
    none = await env.slash("partners", {"query": "elektriker 10"}, user=CAROL)
    assert "No partner matches that." in said(none)[0][0]


# ------------------------------------------------------------------ long content


async def test_long_content_arrives_whole_in_numbered_parts(env: DiscordEnv) -> None:
    """A long German idea card (no embed clipping: numbered parts of at most 2,000
    characters), a /groups list of 220 groups, a 30-question survey's results; the card's
    parts are edited when its count changes."""
    from bridge.models import PostedMessage
    from tests.long_content import (
        DESCRIPTION,
        GROUPS,
        LAST_WORDS,
        TITLE,
        assert_whole,
        make_groups,
        make_long_survey,
    )

    fake = env.fake
    await linked(env)
    await env.slash("idea", {"text": f"{TITLE} | {DESCRIPTION}"}, user=BOB)
    async with env.bridge.db.transaction() as s:
        [posted] = (await s.execute(select(PostedMessage))).scalars().all()
    ids = posted.platform_message_id.split()
    assert len(ids) >= 2
    parts = [fake.messages[i] for i in ids]
    assert all(len(p["content"]) <= 2000 and not p.get("embeds") for p in parts)
    assert_whole([p["content"] for p in parts], [TITLE, *LAST_WORDS, "0 supporters"])
    assert all(not p.get("components") for p in parts[:-1])

    await env.press(parts[-1], "Support", user=ADA)
    parts = [fake.messages[i] for i in ids]
    assert_whole([p["content"] for p in parts], [TITLE, *LAST_WORDS, "1 supporter"])
    assert fake.buttons(parts[-1])[0]["label"] == "Support (1)"

    await make_groups(env.bridge, AccountRef(platform="discord", user_id="111"))
    listed = await env.slash("groups")
    texts = [text for text, private in said(listed)]
    assert len(texts) > 1 and all(private for _text, private in said(listed))
    assert_whole(texts, [GROUPS[0], GROUPS[-1]])

    await make_long_survey(env.bridge, "ideas")
    await env.flush()
    results = await env.slash("survey", {"survey": "S-1"}, sub="results")
    texts = [text for text, _private in said(results)]
    assert len(texts) > 1
    assert_whole(texts, ["Frage 1:", "Frage 30:", "Antwort 30.5"])
