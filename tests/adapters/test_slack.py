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

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy import func, select

from adapters.slack import SlackAdapter, build_manifest, from_slack, render, render_all
from bridge.cli import main as cli_main
from bridge.core import Bridge
from bridge.http import HttpServer
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
from bridge.models import Channel, ChannelLink, Group, OutboxRow, ProcessedEvent
from tests.chat import Chat
from tests.conftest import SPEED, BridgeFactory, attach_console, make_config
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
        community={"admins": [f"slack:{ADMIN}", "console:admin"]},
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
    fake = await FakeSlack(speed=SPEED).start()
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


async def test_echoed_command_text_is_escaped(slack: SlackEnv) -> None:
    # typed in Slack: Slack itself escapes & < > in the command text
    [reply] = await slack.command("/help", "<!channel>&<@U123>", user=ADMIN)
    assert "&lt;!channel&gt;&amp;&lt;@U123&gt;" in reply
    assert "<!channel>" not in reply and "<@U123>" not in reply
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
    assert text.startswith("Hi @Bob, a ∗bold* idea")  # the notification text formats nothing either
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


async def test_a_send_repeated_after_a_crash_posts_once(slack: SlackEnv, clock: Any) -> None:
    """Issue 12: the worker posted, then died before recording it. Slack takes no
    idempotency key, so every post carries its delivery id as message metadata, and the
    retry after the lease finds the first copy instead of posting a second one; for a
    split message the retry posts only the parts still missing."""
    from datetime import timedelta

    from bridge.models import PostedMessage

    await _linked(slack)
    long_text = "\n\n".join(f"Absatz {n}: " + "Wort " * 500 for n in range(8))
    async with slack.bridge.db.transaction() as session:
        one = await slack.bridge.outbox.post(
            session, "slack:C1", Message(parts=(Text(text="only once"),)), ref_key="testnote:1"
        )
        split = await slack.bridge.outbox.post(
            session, "slack:C1", Message(parts=(Text(text=long_text),))
        )
    claimed = {row.id: row for row in await slack.bridge.outbox.claim(["slack"])}
    channel = ChannelRef(platform="slack", chat="C1")
    first_ts = ""
    for row in (one, split):  # sent by the dying worker: all of the first, part 1 of split
        message = Message.model_validate(claimed[row.id].payload).model_copy(
            update={"delivery_id": f"{slack.bridge.outbox.install}{row.id}"}
        )
        if row is one:
            first_ts = await slack.adapter.send(channel, message)
        else:
            parts = render_all(message, lambda b: slack.bridge.encode_button(b, channel))
            assert len(parts) >= 2
            await slack.adapter.client.chat_postMessage(
                channel="C1",
                text=parts[0][0],
                blocks=parts[0][1],
                metadata={
                    "event_type": "community_bridge_delivery",
                    "event_payload": {"delivery": message.delivery_id, "part": 0},
                },
            )
            total = len(parts)
    before = len(slack.fake.posted("C1"))

    clock.advance(timedelta(seconds=61))  # the lease runs out; another worker takes over
    await slack.bridge.outbox.drain()
    shown = [m.shown for m in slack.fake.posted("C1")]
    assert shown.count("only once") == 1
    assert len(slack.fake.posted("C1")) == before + total - 1  # only the missing parts
    assert sum(1 for text in shown if "Absatz 0:" in text) == 1
    async with slack.bridge.db.transaction() as session:
        sent = await session.get(OutboxRow, one.id)
        assert sent is not None and sent.status == "sent" and sent.platform_message_id == first_ts
        posted = (await session.execute(select(PostedMessage))).scalar_one()
        assert posted.platform_message_id == first_ts


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
    expected = {f"/{name}" for name in bridge.registry.commands}
    # Slack's built-in /status cannot be taken by an app: ours is /idea-status there
    assert set(commands) == (expected - {"/status"}) | {"/idea-status"}
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

    # /idea-status is Slack's name for /status (Slack keeps /status for itself)
    [moved] = await slack.command("/idea-status", "I-1 review", user=ADMIN)
    assert "I-1" in moved and "review" in moved
    card = slack.fake.message("C1", card.ts)
    assert "review" in card.shown.lower()


async def test_idea_without_arguments_opens_a_modal(slack: SlackEnv) -> None:
    await _linked(slack)
    replies = await slack.command("/idea")
    assert replies == []  # the modal instead of a usage message
    [opened] = slack.fake.views
    view = opened["view"]
    [field] = view["blocks"]
    assert field["element"]["type"] == "plain_text_input" and field["element"]["multiline"]
    slack.fake.fail("chat.postEphemeral", "not_in_channel")
    await slack.user.submit(view, {"text": "Standing desks | for everyone"})
    await slack.flush()
    card = _card(slack, "I-1")
    assert "*Standing desks*" in card.shown
    # the bot may not whisper in that channel: the confirmation comes privately
    [thanks] = slack.fake.posted("DU1")
    assert "Your idea `I-1` is posted" in thanks.shown


async def test_rate_limited_reply_is_retried(slack: SlackEnv) -> None:
    await _linked(slack)
    slack.fake.rate_limit("chat.postMessage", retry_after=0)
    await slack.command("/unlink", user=ADMIN)
    statuses = [c.answered for c in slack.fake.calls if c.method == "chat.postMessage"]
    assert statuses[-2:] == [429, 200]
    assert "no longer shows the group *ideas*" in slack.fake.posted("C1")[-1].shown


# ---------------------------------------------------------------------- questions end to end


async def test_question_answered_from_another_platform_lands_in_the_thread(
    make_bridge: BridgeFactory, fake: FakeSlack
) -> None:
    async with _env(make_bridge, fake) as slack:
        printed: list[str] = []
        chat = Chat(slack.bridge, attach_console(slack.bridge, printed), printed)
        await chat.as_("admin", "#desk")
        out = await chat("/group new desk hostdesk", "/link desk")
        assert "linked to the group desk" in out
        await _linked(slack)

        [asked] = await slack.command("/ask", "Where do I get a badge & a <@U999> key?")
        assert "Asked as *Q-1*" in asked
        [card] = [m for m in slack.fake.posted("C1") if "Q-1" in m.shown]
        assert "a &lt;@U999&gt; key" in card.shown
        assert "[#desk] Q-1 from Alice in #general (slack), group ideas:" in chat.transcript

        out = await chat("/answer Q-1 At the front desk, <!channel> & ask for Kim")
        assert "Your answer to Q-1 went to" in out
        await slack.flush()
        [answer] = [m for m in slack.fake.posted("C1") if m.thread_ts == card.ts]
        assert "At the front desk, &lt;!channel&gt; &amp; ask for Kim" in answer.shown


# ---------------------------------------------------------------------- surveys end to end


async def test_survey_from_a_modal_answered_by_button_and_exported(slack: SlackEnv) -> None:
    await _linked(slack)
    slack.fake.add_user("U2", "Bob")
    assert await slack.command("/survey", "new") == []
    [opened] = slack.fake.views
    view = opened["view"]
    assert [b["block_id"] for b in view["blocks"]] == [
        "question",
        "options",
        "anonymous",
        "multi",
        "closes",
    ]
    await slack.user.submit(
        view, {"question": "Where for lunch?", "options": "Pizza place\nSushi bar\n"}
    )
    await slack.flush()
    [card] = [m for m in slack.fake.posted("C1") if "S-1:" in m.shown]
    assert "Where for lunch?" in card.shown
    labels = [label for label, _ in card.buttons]
    assert labels[:2] == ["Pizza place (0)", "Sushi bar (0)"]

    await slack.user.press(card, "Pizza place (0)", user="U2", user_name="bob")
    await slack.flush()
    [reply] = slack.fake.replies_to(slack.user.last_response_url)
    assert "Pizza place" in shown(reply["blocks"])
    card = slack.fake.message("C1", card.ts)
    assert [label for label, _ in card.buttons][:2] == ["Pizza place (1)", "Sushi bar (0)"]

    # the export is a file: Slack cannot whisper files, so it comes privately
    [note] = await slack.command("/survey", "export S-1")
    assert note == "I sent you the file in a private message."
    [upload] = slack.fake.files
    assert upload["filename"] == "S-1.csv" and upload["channel"] == "DU1"
    assert b"Pizza place" in upload["content"]
    assert "The CSV export of `S-1`" in slack.fake.posted("DU1")[-1].shown


async def test_private_chat_answers_and_a_retried_event_counts_once(slack: SlackEnv) -> None:
    from bridge.services import surveys as survey_svc

    await _linked(slack)
    async with slack.bridge.db.transaction() as session:
        group = (await session.execute(select(Group))).scalar_one()
        spec = survey_svc.SurveySpec(
            title="Team day",
            questions=[
                survey_svc.QuestionSpec(kind="text", text="What should we improve?"),
                survey_svc.QuestionSpec(kind="single", text="Come again?", options=["yes", "no"]),
            ],
        )
        assert slack.bridge.community_id is not None
        await survey_svc.create_survey(
            session, slack.bridge, slack.bridge.community_id, group, None, spec, "form"
        )
    await slack.flush()
    [card] = [m for m in slack.fake.posted("C1") if "S-1:" in m.shown]
    await slack.user.press(card, "Take part")
    await slack.flush()
    [first] = slack.fake.posted("DU1")
    assert "What should we improve?" in first.shown

    event = {
        "type": "message",
        "channel": "DU1",
        "channel_type": "im",
        "user": "U1",
        "text": "More &lt;coffee&gt;",
        "ts": "1700000100.000100",
    }
    assert (await slack.user.event(event, event_id="Ev1"))[0] == 200
    assert (await slack.user.event(event, event_id="Ev1", retry_num=1))[0] == 200
    await slack.flush()
    texts = [m.shown for m in slack.fake.posted("DU1")]
    assert len(texts) == 2, texts  # one answer, one next question
    assert "Come again?" in texts[1]
    async with slack.bridge.db.transaction() as session:
        answers = await session.execute(
            select(func.count()).select_from(ProcessedEvent).where(ProcessedEvent.event_id == "Ev1")
        )
        assert answers.scalar_one() == 1

    second = slack.fake.posted("DU1")[1]
    await slack.user.press(second, "yes", channel="DU1", channel_name="directmessage")
    await slack.flush()
    assert any("Thank" in m.shown for m in slack.fake.posted("DU1")[2:])


async def test_private_channel_name_from_conversations_info(slack: SlackEnv) -> None:
    slack.fake.add_channel("G9", "secret-plans", private=True)
    await slack.command(
        "/group", "new plans closed", user=ADMIN, channel="G9", channel_name="privategroup"
    )
    await slack.command("/help", user=ADMIN, channel="G9", channel_name="privategroup")
    async with slack.bridge.db.transaction() as session:
        channel = (await session.execute(select(Channel))).scalar_one()
    assert channel.name == "#secret-plans"
    assert len(slack.fake.called("conversations.info")) == 1  # cached


async def test_run_starts_the_slack_adapter(db_url: str, fake: FakeSlack) -> None:
    from bridge.runtime import Runtime

    config = make_config(
        db_url,
        slack={"bot_token": fake.token, "signing_secret": fake.secret, "api_url": fake.api_url},
        community={"admins": [f"slack:{ADMIN}"]},
    )
    runtime = Runtime(config)
    bridge = await runtime.start()
    try:
        assert list(bridge.adapters) == ["slack"]
        assert runtime.http is not None
        base = f"http://127.0.0.1:{runtime.http.port}"
        async with aiohttp.ClientSession() as session, session.get(f"{base}/healthz") as resp:
            health = await resp.json()
        assert health["adapters"]["slack"]["state"] == "ready"
        user = fake.sender(f"{base}/slack/events")
        assert (await user.command("/group", "new ideas", user=ADMIN))[0] == 200
        adapter = bridge.adapters["slack"]
        assert isinstance(adapter, SlackAdapter)
        await adapter.settle()
        assert fake.replies_to(user.last_response_url)
    finally:
        await runtime.stop()


# ---------------------------------------------------------------------- replies for one person


async def test_a_private_reply_whose_ephemeral_is_refused_comes_by_dm_never_in_the_channel(
    slack: SlackEnv,
) -> None:
    """In a private channel the bot was not invited to, with the response_url expired,
    Slack refuses the ephemeral (channel_not_found): the /connect code comes privately."""
    slack.fake.add_channel("G9", "secret-room", private=True, bot_member=False)
    status, _ = await slack.user.command("/connect", "", user="U1", channel="G9")
    assert status == 200
    slack.fake.expire_response_urls()
    await slack.flush()
    assert slack.fake.posted("G9") == []
    [dm] = slack.fake.posted("DU1")
    assert "Your code is" in dm.shown


async def test_the_fake_refuses_ephemerals_as_slack_does(slack: SlackEnv) -> None:
    slack.fake.add_channel("G8", "hidden", private=True, bot_member=False)
    slack.fake.add_channel("C8", "few", members={"U1"})
    slack.fake.add_channel("C7", "public-no-bot", bot_member=False)
    client = slack.adapter.client
    for channel, user, error in (
        ("G8", "U1", "channel_not_found"),
        ("C8", "U2", "user_not_in_channel"),
        ("C7", "U1", "not_in_channel"),
    ):
        with pytest.raises(SlackApiError) as info:
            await client.chat_postEphemeral(channel=channel, user=user, text="x")
        assert info.value.response["error"] == error
    assert (await client.chat_postEphemeral(channel="C8", user="U1", text="x"))["ok"]


async def test_the_fake_response_url_takes_five_uses_within_thirty_minutes(
    slack: SlackEnv,
) -> None:
    url = slack.user.new_response_url()
    async with aiohttp.ClientSession() as http:
        statuses = []
        for _ in range(6):
            async with http.post(url, json={"text": "x"}) as resp:
                statuses.append((resp.status, await resp.text()))
        assert statuses[:5] == [(200, "ok")] * 5
        assert statuses[5] == (404, "used_url")
        other = slack.user.new_response_url()
        slack.fake.expire_response_urls()
        async with http.post(other, json={"text": "x"}) as resp:
            assert (resp.status, await resp.text()) == (404, "expired_url")


# ---------------------------------------------------------------------- partner network


async def test_partner_network_through_slack(slack: SlackEnv) -> None:
    """A profile from the modal (the current values shown, an emptied field cleared), a
    reference the customer confirms by button, a recommendation through host approval,
    and the search by trade and region."""
    await slack.command("/group", "new trades", user=ADMIN)
    await slack.command("/link", "trades", user=ADMIN)
    await slack.command("/trades", "add Elektriker", user=ADMIN)
    slack.fake.add_user("U2", "Bob")

    assert await slack.command("/profile", "edit") == []  # the modal instead
    view = slack.fake.views[-1]["view"]
    assert [b["block_id"] for b in view["blocks"]] == [
        "company",
        "trade",
        "region",
        "website",
        "contact",
    ]
    await slack.user.submit(
        view,
        {
            "company": "Meier <!channel> Elektro",
            "trade": "elektriker",
            "region": "80331 München",
            "website": "https://meier.example",
        },
    )
    await slack.flush()
    saved = slack.fake.ephemerals[-1]
    assert "Your profile is saved (Company, Trade, Region, Website)." in shown(saved["blocks"])
    assert "Meier &lt;!channel&gt; Elektro" in shown(saved["blocks"])

    # the description has a form of its own, behind a button
    await slack.user.press(saved, "Edit the description")
    await slack.flush()
    view = slack.fake.views[-1]["view"]
    [field] = view["blocks"]
    assert field["block_id"] == "description" and field["element"]["multiline"]
    await slack.user.submit(view, {"description": "Kabel, Licht\nund Strom."})
    await slack.flush()
    assert "Your profile is saved (Description)." in shown(slack.fake.ephemerals[-1]["blocks"])

    # opened again, the form shows what is stored; emptying the website clears it
    await slack.command("/profile", "edit")
    view = slack.fake.views[-1]["view"]
    initial = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"]}
    assert initial["region"] == "80331 München" and initial["contact"] is None
    await slack.user.submit(view, {"website": None, "contact": "089 123"})
    await slack.flush()
    assert "Your profile is saved (Website, Contact)." in shown(slack.fake.ephemerals[-1]["blocks"])

    # a bad value in the form changes nothing and says why
    await slack.command("/profile", "edit")
    await slack.user.submit(slack.fake.views[-1]["view"], {"website": "meier.example"})
    await slack.flush()
    assert "A website starts with https:// or http://." in shown(
        slack.fake.ephemerals[-1]["blocks"]
    )

    # a reference naming Bob: Bob confirms it by the button in his private chat
    [added] = await slack.command("/reference", 'add "Schulhaus Nord" customer <@U2|bob>')
    assert "`R-1` is on your profile" in added
    [ask] = [m for m in slack.fake.posted("DU2") if "`R-1`" in m.shown]
    assert [label for label, _ in ask.buttons] == ["Confirm", "Decline"]
    await slack.user.press(ask, "Confirm", user="U2", user_name="bob")
    await slack.flush()
    assert "Thank you: R-1 now names you as its customer." in slack.fake.posted("DU2")[-1].shown

    # Bob recommends Alice; it shows once a host approved it
    [thanks] = await slack.command("/recommend", "<@U1|alice> Schnell und sauber", user="U2")
    assert "Your recommendation #1 goes to the hosts" in thanks
    [queue] = await slack.command("/recommend", "queue", user=ADMIN)
    assert "Schnell und sauber" in queue
    await slack.command("/recommend", "approve 1", user=ADMIN)
    [card] = await slack.command("/profile", "<@U1|alice>", user="U2")
    assert "Schulhaus Nord — customer: Bob" in card  # the name Bob acts under, not U2
    assert "“Schnell und sauber” — *Bob*" in card and "089 123" in card
    assert "https://meier.example" not in card

    [found] = await slack.command("/partners", "elektriker 80", user="U2")
    assert "Meier &lt;!channel&gt; Elektro" in found and "1 recommendation" in found
    [none] = await slack.command("/partners", "elektriker 10", user="U2")
    assert "No partner matches that." in none


# ---------------------------------------------------------------------- long content


async def test_long_content_arrives_whole_in_numbered_parts(slack: SlackEnv) -> None:
    """A long German idea card, a /groups list of 220 groups and the results of a
    30-question survey: every part within Slack's limits (the fake refuses the rest),
    nothing lost, the card's parts edited when it changes."""
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

    await _linked(slack)
    slack.fake.add_user("U2", "Bob")
    await slack.command("/idea", f"{TITLE} | {DESCRIPTION}")
    async with slack.bridge.db.transaction() as s:
        [posted] = (await s.execute(select(PostedMessage))).scalars().all()
    parts = [slack.fake.message("C1", ts) for ts in posted.platform_message_id.split()]
    assert len(parts) == 1 and len(parts[0].blocks) > 2  # one message, several sections
    assert_whole([p.shown for p in parts], [TITLE, *LAST_WORDS, "0 supporters"])
    assert all(not p.buttons for p in parts[:-1]) and parts[-1].buttons

    await slack.user.press(parts[-1], "Support (0)", user="U2", user_name="bob")
    await slack.flush()
    parts = [slack.fake.message("C1", p.ts) for p in parts]
    assert_whole([p.shown for p in parts], [TITLE, *LAST_WORDS, "1 supporter"])
    assert parts[-1].buttons[0][0] == "Support (1)"

    await make_groups(slack.bridge, AccountRef(platform="slack", user_id=ADMIN))
    replies = await slack.command("/groups", user=ADMIN)
    assert len(replies) > 1
    assert_whole(replies, [GROUPS[0], GROUPS[-1]])

    await make_long_survey(slack.bridge, "ideas")
    await slack.flush()
    replies = await slack.command("/survey", "results S-1", user=ADMIN)
    assert len(replies) > 1
    assert_whole(replies, ["Frage 1:", "Frage 30:", "Antwort 30.5"])


async def test_a_refused_command_retried_by_slack_is_answered_once(slack: SlackEnv) -> None:
    """Issue 13: Slack retries a command whose ack it missed; a refused one must not run
    (and answer) a second time."""
    await _linked(slack)
    body = slack.user.command_body("/vote", "I-99", user="U1", trigger_id="43.def")
    ctype = "application/x-www-form-urlencoded"
    assert (await slack.user.post(body, ctype))[0] == 200
    assert (await slack.user.post(body, ctype, retry_num=1))[0] == 200
    assert (await slack.user.post(body, ctype, retry_num=2))[0] == 200
    await slack.flush()
    replies = slack.fake.replies_to(slack.user.last_response_url)
    assert len(replies) == 1 and "I-99" in shown(replies[0]["blocks"])


def test_user_text_never_formats() -> None:
    """Issue 13: Slack formatting typed by a user shows literally."""
    text, _blocks = render(
        Message(parts=(Text(text="*bold* _it_ ~gone~ `code` snake_case 5*3"), Bold(text="_x_"))),
        lambda b: "t",
    )
    assert "*bold*" not in text and "∗bold*" in text and "＿it_" in text
    assert "∼gone~" in text and "ˋcode`" in text
    assert "snake_case 5*3" in text
    _text, blocks = render(Message(parts=(Bold(text="a _b_"),)), lambda b: "t")
    assert blocks[0]["text"]["text"] == "*a ＿b_*"


@pytest.mark.parametrize(
    "body",
    [
        "payload=not-json",
        "payload=%7B%22type%22%3A%22block_actions%22%7D",  # no user, no actions
        "payload=%5B1%2C2%5D",  # a list, not an object
        "command=%2Fgroups",  # no user, no channel
        "\xff\xfe",
    ],
)
async def test_malformed_signed_bodies_are_refused_without_a_traceback(
    slack: SlackEnv, body: str
) -> None:
    status, _text = await slack.user.post(body, "application/x-www-form-urlencoded")
    assert status != 500
    if body == "payload=not-json":
        assert status == 400  # does not parse
    await slack.flush()
    assert slack.fake.posted() == []
