"""The Slack adapter end to end: the real Bolt app and slack_sdk client against a fake
Slack on 127.0.0.1, with correctly signed requests to the bot's ``/slack/events``."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import func, select

from adapters.slack import SlackAdapter, build_manifest, from_slack, render
from bridge.cli import main as cli_main
from bridge.core import Bridge
from bridge.http import HttpServer
from bridge.messages import (
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
from bridge.models import Channel, ChannelLink, Group, OutboxRow, ProcessedEvent
from tests.conftest import BridgeFactory, make_config
from tests.fakes.slack import FakeSlack, Posted, SlackSender, shown

ADMIN = "UADMIN"
INJECTION = "<!channel> <@U123> <https://evil.example|click> & co"
ESCAPED = "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|click&gt; &amp; co"


class SlackEnv:
    """A bridge with the Slack adapter, its HTTP server, and the fake Slack."""

    def __init__(
        self, bridge: Bridge, adapter: SlackAdapter, fake: FakeSlack, user: SlackSender
    ) -> None:
        self.bridge = bridge
        self.adapter = adapter
        self.fake = fake
        self.user = user

    async def flush(self) -> None:
        """Finish the work after the acks, then deliver what the outbox holds."""
        for _ in range(3):
            await self.adapter.settle()
            await self.bridge.outbox.drain(include_delayed=True)
        await self.adapter.settle()

    async def command(self, command: str, text: str = "", **kw: Any) -> list[str]:
        """Send a slash command; return the ephemeral replies it got (mrkdwn)."""
        status, _ = await self.user.command(command, text, **kw)
        assert status == 200
        url = self.user.last_response_url
        await self.flush()
        return [shown(r.get("blocks"), r.get("text", "")) for r in self.fake.replies_to(url)]

    async def count(self, model: Any, *where: Any) -> int:
        async with self.bridge.db.transaction() as session:
            return int(
                (
                    await session.execute(select(func.count()).select_from(model).where(*where))
                ).scalar_one()
            )


@contextlib.asynccontextmanager
async def _env(
    make_bridge: BridgeFactory, fake: FakeSlack, **slack: Any
) -> AsyncIterator[SlackEnv]:
    fake.add_user(ADMIN, "Ada Admin")
    fake.add_user("U1", "Alice")
    fake.add_channel("C1", "general")
    fake.add_channel("C2", "random")
    bridge = await make_bridge(
        slack={
            "bot_token": fake.token,
            "signing_secret": fake.secret,
            "api_url": fake.api_url,
            **slack,
        },
        community={"admins": [f"slack:{ADMIN}"]},
    )
    adapter = SlackAdapter(bridge)
    bridge.add_adapter(adapter)
    server = HttpServer(bridge)
    await server.start("127.0.0.1", 0)
    await adapter.start()
    try:
        yield SlackEnv(
            bridge, adapter, fake, fake.sender(f"http://127.0.0.1:{server.port}/slack/events")
        )
    finally:
        await adapter.stop()
        await server.stop()


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.close()


@pytest.fixture
async def slack(make_bridge: BridgeFactory, fake: FakeSlack) -> AsyncIterator[SlackEnv]:
    async with _env(make_bridge, fake) as env:
        yield env


async def _linked(slack: SlackEnv, channel: str = "C1", name: str = "general") -> None:
    await slack.command("/group", "new ideas", user=ADMIN, channel=channel, channel_name=name)
    await slack.command("/link", "ideas", user=ADMIN, channel=channel, channel_name=name)


# ---------------------------------------------------------------------- commands


async def test_link_and_help(slack: SlackEnv) -> None:
    assert slack.adapter.state == "ready"
    assert slack.fake.calls == []  # no Web API call at start

    replies = await slack.command("/link", "ideas", user=ADMIN)
    assert any("/group new" in r for r in replies)
    assert await slack.count(ChannelLink) == 0

    await slack.command("/group", "new ideas", user=ADMIN)
    assert await slack.count(Group, Group.slug == "ideas") == 1
    await slack.command("/link", "ideas", user=ADMIN)
    [posted] = [m for m in slack.fake.posted("C1") if "linked" in m.shown]
    assert "This channel is now linked to the group *ideas*" in posted.shown
    async with slack.bridge.db.transaction() as session:
        channel = (await session.execute(select(Channel))).scalar_one()
        assert (channel.platform, channel.chat_id, channel.name) == ("slack", "C1", "#general")

    [help_text] = await slack.command("/help")
    assert "Commands you can use here:" in help_text
    assert "/link" not in help_text  # alice is no admin
    [admin_help] = await slack.command("/help", user=ADMIN)
    assert "/link" in admin_help


async def test_member_locale_from_users_info(slack: SlackEnv) -> None:
    slack.fake.add_user("U7", "Bernd", locale="de-DE")
    [reply] = await slack.command("/help", user="U7")
    assert "Befehle" in reply
    await slack.command("/help", user="U7")
    assert len(slack.fake.called("users.info")) == 1  # cached


async def test_unknown_group_reply_is_ephemeral_and_escaped(slack: SlackEnv) -> None:
    replies = await slack.command("/link", INJECTION.replace(" ", "-"), user=ADMIN)
    assert replies, "the admin gets an answer"
    text = "\n".join(replies)
    assert "<!channel>" not in text and "<@U123>" not in text
    assert not slack.fake.posted()  # nothing public


# ---------------------------------------------------------------------- security


async def test_bad_signature_stale_timestamp_missing_headers(slack: SlackEnv) -> None:
    body = slack.user.command_body("/group", "new ideas", user=ADMIN)
    ctype = "application/x-www-form-urlencoded"
    assert (await slack.user.post(body, ctype, secret="wrong"))[0] == 401
    assert (await slack.user.post(body, ctype, timestamp=int(time.time()) - 600))[0] == 401
    assert (await slack.user.post(body, ctype, signed=False))[0] == 401
    tampered = body.replace("ideas", "other")
    headers = slack.user.sign(body)
    assert (await slack.user.post(tampered, ctype, signed=False, headers=headers))[0] == 401
    await slack.flush()
    assert await slack.count(Group) == 0
    assert await slack.count(ProcessedEvent) == 0
    assert await slack.count(Channel) == 0
    assert slack.fake.calls == [] and slack.fake.responses == []


async def test_retried_command_is_processed_once(slack: SlackEnv) -> None:
    body = slack.user.command_body("/group", "new ideas", user=ADMIN, trigger_id="42.abc")
    ctype = "application/x-www-form-urlencoded"
    assert (await slack.user.post(body, ctype))[0] == 200
    assert (await slack.user.post(body, ctype, retry_num=1))[0] == 200
    await slack.flush()
    assert await slack.count(Group) == 1
    assert len(slack.fake.replies_to(slack.user.last_response_url)) + len(slack.fake.posted()) == 1


async def test_injection_arrives_escaped(slack: SlackEnv) -> None:
    await _linked(slack)
    async with slack.bridge.db.transaction() as session:
        await slack.bridge.outbox.post(
            session,
            "slack:C1",
            Message(
                parts=(
                    Text(text=INJECTION + " "),
                    Bold(text=INJECTION),
                    Text(text=" "),
                    Mention(text="<!here>", accounts={"telegram": "1"}),
                )
            ),
        )
    await slack.flush()
    posted = slack.fake.posted("C1")[-1]
    assert ESCAPED in posted.shown
    assert "<!" not in posted.shown and "<@" not in posted.shown and "<http" not in posted.shown
    assert "<!" not in posted.text and "<@" not in posted.text
    assert posted.shown.count("&amp;") == 2
    call = slack.fake.called("chat.postMessage")[-1]
    assert call.args.get("link_names") in (False, 0, "0", "false")


def test_render_parts() -> None:
    message = Message(
        parts=(
            Text(text="Hi "),
            Mention(text="Bob", accounts={"slack": "U42"}),
            Text(text=", "),
            Bold(text="a *bold* idea"),
            Text(text=" "),
            Code(text="I-`3`"),
            Text(text=" "),
            Link(url="https://example.com/?a=1&b=2", text="the <list>"),
            Text(text=" "),
            Link(url="javascript:alert(1)", text="js"),
            Text(text="\n\n"),
            Italic(text="3 supporters"),
        ),
        buttons=(
            Button(label="Support (3)", action="i.sup", args=("3",), style="primary"),
            Button(label="Comment", action="i.com", args=("3",)),
        ),
    )
    text, blocks = render(message, lambda b: f"tok-{b.action}")
    section, context, actions = blocks
    assert section["text"]["text"] == (
        "Hi <@U42>, *a ∗bold∗ idea* `I-ˋ3ˋ` "
        "<https://example.com/?a=1&amp;b=2|the &lt;list&gt;> js (javascript:alert(1))"
    )
    assert context == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "_3 supporters_", "verbatim": True}],
    }
    assert [e["action_id"] for e in actions["elements"]] == ["cb:0", "cb:1"]
    assert [e["value"] for e in actions["elements"]] == ["tok-i.sup", "tok-i.com"]
    assert actions["elements"][0]["style"] == "primary"
    assert "style" not in actions["elements"][1]
    assert text.startswith("Hi @Bob, a *bold* idea")
    assert "&lt;list&gt;" in text


def test_incoming_text_is_plain() -> None:
    assert from_slack("&lt;!channel&gt; &amp; co") == "<!channel> & co"
    assert from_slack("see <https://example.com> or <http://x.org|x.org>") == (
        "see https://example.com or x.org"
    )
    assert from_slack("<!here> in <#C1|general>") == "@here in #general"
    assert from_slack("<@U123|bob> host") == "<@U123|bob> host"


# ---------------------------------------------------------------------- delivery


async def test_rate_limit_is_honoured_and_delivered_once(slack: SlackEnv, clock: Any) -> None:
    await _linked(slack)
    before = len(slack.fake.posted("C1"))
    slack.fake.rate_limit("chat.postMessage", retry_after=7)
    async with slack.bridge.db.transaction() as session:
        await slack.bridge.outbox.post(session, "slack:C1", Message(parts=(Text(text="hi"),)))
    await slack.bridge.outbox.drain()
    assert [c.answered for c in slack.fake.calls if c.method == "chat.postMessage"][-1] == 429
    await slack.bridge.outbox.drain()
    assert len(slack.fake.posted("C1")) == before  # waits for Retry-After
    clock.advance(7)
    await slack.bridge.outbox.drain()
    await slack.bridge.outbox.drain(include_delayed=True)
    assert [m.shown for m in slack.fake.posted("C1")[before:]] == ["hi"]
    assert (
        await slack.count(
            OutboxRow, OutboxRow.status == "sent", OutboxRow.channel_key == "slack:C1"
        )
        >= 1
    )


async def test_channel_not_found_pauses_the_link_and_tells_admins(slack: SlackEnv) -> None:
    await _linked(slack)
    slack.fake.channel_errors["C1"] = "channel_not_found"
    async with slack.bridge.db.transaction() as session:
        group = (await session.execute(select(Group))).scalar_one()
        await slack.bridge.outbox.post_to_group(
            session, group.id, Message(parts=(Text(text="news"),))
        )
    await slack.flush()
    assert await slack.count(ChannelLink, ChannelLink.active.is_(True)) == 0
    [note] = slack.fake.posted("DUADMIN")
    assert "I can no longer post in #general" in note.shown
    assert "channel_not_found" in note.shown


async def test_private_message_opens_the_conversation_once(slack: SlackEnv) -> None:
    dm = ChannelRef(platform="slack", chat="U5", dm=True)
    ts1 = await slack.adapter.send(dm, Message(parts=(Text(text="one"),)))
    ts2 = await slack.adapter.send(dm, Message(parts=(Text(text="two"),), reply_to=ts1))
    assert [m.shown for m in slack.fake.posted("DU5")] == ["one", "two"]
    assert slack.fake.message("DU5", ts2).thread_ts == ts1
    assert len(slack.fake.called("conversations.open")) == 1


async def test_edit_updates_the_message(slack: SlackEnv) -> None:
    channel = ChannelRef(platform="slack", chat="C1")
    ts = await slack.adapter.send(channel, Message(parts=(Text(text="Support (1)"),)))
    await slack.adapter.edit(channel, ts, Message(parts=(Text(text="Support (2)"),)))
    assert slack.fake.message("C1", ts).shown == "Support (2)"


async def test_file_upload(slack: SlackEnv) -> None:
    channel = ChannelRef(platform="slack", chat="C1")
    await slack.adapter.send(
        channel,
        Message(
            parts=(Text(text="export"),),
            file=FileAttachment(name="s-1.csv", content=b"option,votes\na,1\n", mime="text/csv"),
        ),
    )
    [upload] = slack.fake.files
    assert (upload["filename"], upload["content"], upload["channel"]) == (
        "s-1.csv",
        b"option,votes\na,1\n",
        "C1",
    )
    assert slack.fake.posted("C1")[-1].shown == "export"


# ---------------------------------------------------------------------- manifest


def _check_manifest(manifest: dict[str, Any], bridge: Bridge, socket: bool) -> None:
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert set(commands) == {f"/{name}" for name in bridge.registry.commands}
    for entry in commands.values():
        assert entry["description"]
        assert len(entry["command"]) <= 32
        assert ("url" in entry) is not socket
    assert "usage_hint" in commands["/link"]
    assert "<group>" in commands["/link"]["usage_hint"]
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert {"commands", "chat:write", "im:write", "users:read", "files:write"} <= set(scopes)
    assert manifest["settings"]["socket_mode_enabled"] is socket


async def test_manifest_lists_every_command(
    bridge: Bridge, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(db_url, http={"public_url": "https://community.example.com"})
    manifest = json.loads(json.dumps(build_manifest(config)))
    _check_manifest(manifest, bridge, socket=False)
    url = "https://community.example.com/slack/events"
    assert manifest["settings"]["interactivity"]["request_url"] == url
    assert manifest["settings"]["event_subscriptions"]["request_url"] == url

    path = tmp_path / "bot.toml"
    path.write_text(
        '[http]\npublic_url = "https://c.example.org/"\n[slack]\n'
        'bot_token = "xoxb-1"\napp_token = "xapp-1"\n',
        encoding="utf-8",
    )
    assert cli_main(["slack-manifest", "--config", str(path)]) == 0
    printed = json.loads(capsys.readouterr().out)
    _check_manifest(printed, bridge, socket=True)
    assert "request_url" not in printed["settings"]["interactivity"]


def test_manifest_command_line(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    path.write_text('[http]\npublic_url = "https://c.example.org"\n', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bridge", "slack-manifest", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads(done.stdout)
    names = [c["command"] for c in manifest["features"]["slash_commands"]]
    assert "/link" in names and "/help" in names
    assert manifest["settings"]["interactivity"]["request_url"] == (
        "https://c.example.org/slack/events"
    )


# ---------------------------------------------------------------------- socket mode


async def test_socket_mode_same_handlers(make_bridge: BridgeFactory, fake: FakeSlack) -> None:
    async with _env(make_bridge, fake, app_token=fake.app_token, signing_secret=None) as env:
        assert env.adapter.state == "ready"
        payload = dict(parse_qsl(env.user.command_body("/group", "new ideas", user=ADMIN)))
        envelope = await fake.socket_send("slash_commands", payload)
        await fake.wait_for(lambda: envelope in {a.get("envelope_id") for a in fake.socket_acks})
        await env.flush()
        assert await env.count(Group, Group.slug == "ideas") == 1
        status, _ = await env.user.command("/help")
        assert status == 404  # no HTTP endpoint in Socket Mode


# ---------------------------------------------------------------------- ideas end to end


def _card(slack: SlackEnv, ref: str, channel: str = "C1") -> Posted:
    [card] = [m for m in slack.fake.posted(channel) if f"`{ref}`" in m.shown and m.buttons]
    return card


async def test_idea_support_and_comment_in_the_thread(slack: SlackEnv) -> None:
    await _linked(slack)
    slack.fake.add_user("U2", "Bob")

    [thanks] = await slack.command("/idea", "Better coffee | Beans from a local roaster")
    assert "Your idea `I-1` is posted" in thanks
    card = _card(slack, "I-1")
    assert "*Better coffee*" in card.shown and "Beans from a local roaster" in card.shown
    assert [label for label, _ in card.buttons] == ["Support (0)", "Comment"]

    status, _ = await slack.user.press(card, "Support (0)", user="U2", user_name="bob")
    assert status == 200
    await slack.flush()
    [supported] = slack.fake.replies_to(slack.user.last_response_url)
    assert supported["response_type"] == "ephemeral"
    assert "You support `I-1` now (1 supporter)" in shown(supported["blocks"])
    card = slack.fake.message("C1", card.ts)  # live count through chat.update
    assert [label for label, _ in card.buttons] == ["Support (1)", "Comment"]
    assert card.edits

    # Comment opens a modal; its submission lands in the card's thread
    await slack.user.press(card, "Comment", user="U2", user_name="bob")
    await slack.flush()
    [opened] = slack.fake.views
    view = opened["view"]
    assert view["title"]["text"] == "Comment on I-1"
    assert [b["block_id"] for b in view["blocks"]] == ["text"]  # the idea is prefilled
    status, _ = await slack.user.submit(
        view, {"text": "Yes & <!here> please"}, user="U2", user_name="bob"
    )
    assert status == 200
    await slack.flush()
    [comment] = [m for m in slack.fake.posted("C1") if m.thread_ts == card.ts]
    assert comment.shown == "💬 <@U2> on `I-1`: Yes &amp; &lt;!here&gt; please"
    [note] = slack.fake.ephemerals
    assert (note["channel"], note["user"]) == ("C1", "U2")
    assert "Your comment is posted under `I-1`" in shown(note["blocks"])

    # a slash /comment goes into the same thread
    await slack.command("/comment", "I-1 from the command line")
    threaded = [m.shown for m in slack.fake.posted("C1") if m.thread_ts == card.ts]
    assert threaded[-1].endswith("from the command line")


async def test_idea_without_arguments_opens_a_modal(slack: SlackEnv) -> None:
    await _linked(slack)
    replies = await slack.command("/idea")
    assert replies == []  # the modal instead of a usage message
    [opened] = slack.fake.views
    view = opened["view"]
    [field] = view["blocks"]
    assert field["element"]["type"] == "plain_text_input" and field["element"]["multiline"]
    await slack.user.submit(view, {"text": "Standing desks | for everyone"})
    await slack.flush()
    card = _card(slack, "I-1")
    assert "*Standing desks*" in card.shown
