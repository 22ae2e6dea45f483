"""Each refusal rule of the platform fakes, shown refusing with the platform's own error.

The adapter tests are only as good as the fakes are strict: a rule that quietly stopped
being enforced would let a real defect through. So every rule the fakes enforce on
behalf of Telegram, Slack and Discord is asked of them here, over HTTP, as an SDK would.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakes.discord import FakeDiscord, Interaction
from tests.fakes.slack import FakeSlack
from tests.fakes.telegram import FakeTelegram

TOKEN = "123:ABC"

# ---------------------------------------------------------------------------- Telegram


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    fake = await FakeTelegram(token=TOKEN).start()
    fake.group(-100, "Group")
    fake.lift_limits()  # these tests send many requests to one chat; the limits have theirs
    yield fake
    await fake.stop()


async def _tg(fake: FakeTelegram, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.base_url}{TOKEN}/{method}", json=params) as resp,
    ):
        return resp.status, await resp.json()


def _refused(answer: tuple[int, dict[str, Any]], status: int, description: str) -> None:
    code, body = answer
    assert code == status and body["ok"] is False and body["error_code"] == status
    assert body["description"].startswith(description), body


async def test_telegram_text_over_4096_utf16_units(telegram: FakeTelegram) -> None:
    _refused(
        await _tg(telegram, "sendMessage", chat_id=-100, text="x" * 4097),
        400,
        "Bad Request: message is too long",
    )
    # 2,049 emoji are 4,098 UTF-16 units: too long although fewer than 4,096 characters
    _refused(
        await _tg(telegram, "sendMessage", chat_id=-100, text="😀" * 2049),
        400,
        "Bad Request: message is too long",
    )
    # the limit counts the text after entity parsing: tags are free
    ok = await _tg(
        telegram, "sendMessage", chat_id=-100, text="<b>" + "x" * 4096 + "</b>", parse_mode="HTML"
    )
    assert ok[0] == 200


async def test_telegram_caption_over_1024(telegram: FakeTelegram) -> None:
    form = aiohttp.FormData()
    form.add_field("chat_id", "-100")
    form.add_field("caption", "x" * 1025)
    form.add_field("document", b"a,b\n", filename="a.csv", content_type="text/csv")
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{telegram.base_url}{TOKEN}/sendDocument", data=form) as resp,
    ):
        answer = resp.status, await resp.json()
    _refused(answer, 400, "Bad Request: message caption is too long")


async def test_telegram_callback_data_over_64_bytes(telegram: FakeTelegram) -> None:
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "ä" * 33}]]}  # 66 bytes
    _refused(
        await _tg(telegram, "sendMessage", chat_id=-100, text="x", reply_markup=markup),
        400,
        "Bad Request: BUTTON_DATA_INVALID",
    )


async def test_telegram_html_that_does_not_parse(telegram: FakeTelegram) -> None:
    _refused(
        await _tg(telegram, "sendMessage", chat_id=-100, text="<b>open", parse_mode="HTML"),
        400,
        "Bad Request: can't parse entities",
    )


async def test_telegram_an_edit_that_changes_nothing(telegram: FakeTelegram) -> None:
    _, sent = await _tg(telegram, "sendMessage", chat_id=-100, text="same")
    message_id = sent["result"]["message_id"]
    _refused(
        await _tg(telegram, "editMessageText", chat_id=-100, message_id=message_id, text="same"),
        400,
        "Bad Request: message is not modified",
    )


async def test_telegram_a_private_chat_nobody_started(telegram: FakeTelegram) -> None:
    user = telegram.user(5, "Eve")
    telegram.private_chat(user)
    _refused(
        await _tg(telegram, "sendMessage", chat_id=5, text="hi"),
        403,
        "Forbidden: bot can't initiate conversation with a user",
    )


async def test_telegram_deleting_a_message_twice(telegram: FakeTelegram) -> None:
    _, sent = await _tg(telegram, "sendMessage", chat_id=-100, text="bye")
    message_id = sent["result"]["message_id"]
    assert (await _tg(telegram, "deleteMessage", chat_id=-100, message_id=message_id))[0] == 200
    _refused(
        await _tg(telegram, "deleteMessage", chat_id=-100, message_id=message_id),
        400,
        "Bad Request: message to delete not found",
    )


# ------------------------------------------------------------------------------- Slack


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    fake.add_channel("C1", "general")
    fake.allowance = None  # these tests send many requests to one channel
    yield fake
    await fake.close()


async def _slack(fake: FakeSlack, method: str, **args: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {fake.token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.api_url.rstrip('/')}/{method}", json=args, headers=headers) as resp,
    ):
        assert resp.status == 200  # Slack answers refusals with 200 and ok: false
        return dict(await resp.json())


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _button(label: str, action_id: str) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "value": "v",
    }


@pytest.mark.parametrize(
    ("blocks", "error"),
    [
        ([_section("x" * 3001)], "invalid_blocks"),  # a section holds 3,000
        ([_section("x")] * 51, "invalid_blocks"),  # a message holds 50 blocks
        ([_section("x" * 2900)] * 5, "msg_blocks_too_long"),  # about 12,000 in all
        (
            [{"type": "actions", "elements": [_button("a", "b1"), _button("b", "b1")]}],
            "invalid_blocks",  # action ids are unique within a message
        ),
        ([{"type": "actions", "elements": [_button("x" * 76, "b1")]}], "invalid_blocks"),
        (
            [{"type": "actions", "elements": [_button("x", f"b{i}") for i in range(26)]}],
            "invalid_blocks",
        ),
        ([{"type": "fancy"}], "invalid_blocks"),
    ],
)
async def test_slack_block_kit_rules(slack: FakeSlack, blocks: list[Any], error: str) -> None:
    for method in ("chat.postMessage", "chat.postEphemeral"):
        answer = await _slack(slack, method, channel="C1", user="U1", text="t", blocks=blocks)
        assert answer == {"ok": False, "error": error}, method
    assert not slack.messages and not slack.ephemerals


async def test_slack_trigger_ids_open_one_view_within_three_seconds(slack: FakeSlack) -> None:
    sender = slack.sender("http://127.0.0.1:9/slack/events")
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Form"},
        "blocks": [
            {
                "type": "input",
                "block_id": "a",
                "label": {"type": "plain_text", "text": "A"},
                "element": {"type": "plain_text_input", "action_id": "v"},
            }
        ],
    }
    unknown = await _slack(slack, "views.open", trigger_id="1.abc", view=view)
    assert unknown["error"] == "invalid_trigger_id"
    trigger = sender.trigger()
    long_title = {**view, "title": {"type": "plain_text", "text": "x" * 25}}
    assert (await _slack(slack, "views.open", trigger_id=trigger, view=long_title))[
        "error"
    ] == "invalid_arguments"
    assert (await _slack(slack, "views.open", trigger_id=trigger, view=view))["ok"] is True
    again = await _slack(slack, "views.open", trigger_id=trigger, view=view)
    assert again["error"] == "exchanged_trigger_id"
    late = sender.trigger()
    slack.triggers[late] -= 3.5
    assert (await _slack(slack, "views.open", trigger_id=late, view=view))[
        "error"
    ] == "expired_trigger_id"


async def test_slack_deleting_a_message_twice(slack: FakeSlack) -> None:
    posted = await _slack(slack, "chat.postMessage", channel="C1", text="bye")
    assert (await _slack(slack, "chat.delete", channel="C1", ts=posted["ts"]))["ok"] is True
    gone = await _slack(slack, "chat.delete", channel="C1", ts=posted["ts"])
    assert gone == {"ok": False, "error": "message_not_found"}


async def test_slack_response_url_refuses_blocks_as_slack_does(slack: FakeSlack) -> None:
    sender = slack.sender("http://127.0.0.1:9/slack/events")
    url = sender.new_response_url()
    payload = {"text": "t", "blocks": [_section("x" * 3001)], "response_type": "ephemeral"}
    async with aiohttp.ClientSession() as session, session.post(url, json=payload) as resp:
        assert (resp.status, await resp.text()) == (400, "invalid_blocks")
    assert slack.responses == []


# ----------------------------------------------------------------------------- Discord


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    fake = await FakeDiscord().start()
    fake.allowance = None  # these tests send many requests to one channel
    yield fake
    await fake.stop()


async def _dc(
    fake: FakeDiscord, method: str, path: str, body: Any = None, bot: bool = True
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bot {fake.token}"} if bot else {}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{fake.url}/api/v10{path}", json=body, headers=headers) as resp,
    ):
        text = await resp.text()
        return resp.status, json.loads(text) if text else None


def _form_body_refused(answer: tuple[int, Any], detail: str) -> None:
    status, body = answer
    assert status == 400 and body["code"] == 50035 and body["message"] == "Invalid Form Body"
    assert detail in body["errors"]["_errors"][0]["message"], body


def _row(*custom_ids: str) -> dict[str, Any]:
    return {
        "type": 1,
        "components": [{"type": 2, "style": 2, "label": "b", "custom_id": c} for c in custom_ids],
    }


async def test_discord_message_rules(discord_fake: FakeDiscord) -> None:
    cid = discord_fake.add_channel(discord_fake.add_guild(), "general")
    path = f"/channels/{cid}/messages"
    _form_body_refused(
        await _dc(discord_fake, "POST", path, {"content": "x" * 2001}), "2000 or fewer"
    )
    _form_body_refused(
        await _dc(discord_fake, "POST", path, {"embeds": [{"description": "x" * 4097}]}),
        "description",
    )
    _form_body_refused(
        await _dc(discord_fake, "POST", path, {"content": "x", "components": [_row("a", "a")]}),
        "custom id cannot be duplicated",
    )
    rows = [_row(f"r{i}") for i in range(6)]
    _form_body_refused(
        await _dc(discord_fake, "POST", path, {"content": "x", "components": rows}),
        "at most 5 rows",
    )
    status, body = await _dc(discord_fake, "POST", path, {"content": ""})
    assert (status, body["code"]) == (400, 50006)
    status, body = await _dc(discord_fake, "POST", path, {"content": "x"}, bot=False)
    assert status == 401
    status, sent = await _dc(discord_fake, "POST", path, {"content": "bye"})
    assert (await _dc(discord_fake, "DELETE", f"{path}/{sent['id']}"))[0] == 204
    status, body = await _dc(discord_fake, "DELETE", f"{path}/{sent['id']}")
    assert (status, body["code"]) == (404, 10008)


async def test_discord_a_repeated_nonce_returns_the_first_message(
    discord_fake: FakeDiscord,
) -> None:
    cid = discord_fake.add_channel(discord_fake.add_guild(), "general")
    body = {"content": "once", "nonce": "n-1", "enforce_nonce": True}
    _, first = await _dc(discord_fake, "POST", f"/channels/{cid}/messages", body)
    _, second = await _dc(discord_fake, "POST", f"/channels/{cid}/messages", body)
    assert first["id"] == second["id"] and len(discord_fake.channel_messages(cid)) == 1


def _interaction(fake: FakeDiscord) -> Interaction:
    payload = fake._base_interaction(2, {"name": "help"}, fake.user("1", "ada"), None, "en-US")
    return fake.interactions.setdefault(str(payload["id"]), Interaction(payload))


async def test_discord_interaction_deadlines(discord_fake: FakeDiscord) -> None:
    late = _interaction(discord_fake)
    late.age(3.5)  # Discord wants the answer within 3 seconds
    status, body = await _dc(
        discord_fake,
        "POST",
        f"/interactions/{late.id}/{late.token}/callback",
        {"type": 4, "data": {"content": "hi"}},
        bot=False,
    )
    assert (status, body["code"]) == (404, 10062)

    record = _interaction(discord_fake)
    callback = f"/interactions/{record.id}/{record.token}/callback"
    reply = {"type": 4, "data": {"content": "hi"}}
    assert (await _dc(discord_fake, "POST", callback, reply, bot=False))[0] == 204
    status, body = await _dc(discord_fake, "POST", callback, reply, bot=False)
    assert (status, body["code"]) == (400, 40060)  # answered already
    followup = f"/webhooks/{discord_fake.app_id}/{record.token}?wait=true"
    assert (await _dc(discord_fake, "POST", followup, {"content": "more"}, bot=False))[0] == 200
    record.age(15 * 60 + 1)  # a follow-up token lives 15 minutes
    status, body = await _dc(discord_fake, "POST", followup, {"content": "late"}, bot=False)
    assert (status, body["code"]) == (401, 50027)


async def test_discord_modal_rules(discord_fake: FakeDiscord) -> None:
    def label(i: int, text: str = "Field") -> dict[str, Any]:
        return {
            "type": 18,
            "label": text,
            "component": {"type": 4, "custom_id": f"f{i}", "style": 1},
        }

    async def open_modal(components: list[Any]) -> tuple[int, Any]:
        record = _interaction(discord_fake)
        modal = {"type": 9, "data": {"custom_id": "m", "title": "T", "components": components}}
        return await _dc(
            discord_fake,
            "POST",
            f"/interactions/{record.id}/{record.token}/callback",
            modal,
            bot=False,
        )

    assert (await open_modal([label(1)]))[0] == 204
    _form_body_refused(await open_modal([label(i) for i in range(6)]), "Invalid modal")
    _form_body_refused(await open_modal([label(1, "x" * 46)]), "Invalid modal")
    inner_label = {
        "type": 18,
        "label": "A",
        "component": {"type": 4, "custom_id": "a", "style": 1, "label": "A"},
    }
    _form_body_refused(await open_modal([inner_label]), "Invalid modal")


async def test_discord_command_localizations_take_discord_locales(
    discord_fake: FakeDiscord,
) -> None:
    command = {
        "name": "help",
        "description": "Help",
        "description_localizations": {"de": "Hilfe"},
    }
    path = f"/applications/{discord_fake.app_id}/commands"
    assert (await _dc(discord_fake, "PUT", path, [command]))[0] == 200
    wrong = {**command, "description_localizations": {"de-DE": "Hilfe"}}  # Discord says "de"
    _form_body_refused(await _dc(discord_fake, "PUT", path, [wrong]), "Invalid locale")


async def test_discord_gateway_heartbeats_and_resume(discord_fake: FakeDiscord) -> None:
    """The gateway closes a connection whose heartbeats stopped (4009) and answers a
    RESUME of an unknown session with INVALID_SESSION (op 9)."""
    discord_fake.heartbeat_interval = 200  # milliseconds
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(discord_fake.ws_url + "?v=10&encoding=json") as ws:
            hello = await ws.receive_json(timeout=5)
            assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] == 200
            await ws.send_json({"op": 1, "d": None})
            assert (await ws.receive_json(timeout=5))["op"] == 11  # HEARTBEAT_ACK
            closed = await ws.receive(timeout=5)  # then silence: Discord hangs up
            assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            assert ws.close_code == 4009
        assert discord_fake.timed_out == 1
        discord_fake.heartbeat_interval = 41250
        async with session.ws_connect(discord_fake.ws_url + "?v=10&encoding=json") as ws:
            await ws.receive_json(timeout=5)
            resume = {"token": discord_fake.token, "session_id": "nope", "seq": 3}
            await ws.send_json({"op": 6, "d": resume})
            invalid = await ws.receive_json(timeout=5)
            assert (invalid["op"], invalid["d"]) == (9, False)


# ------------------------------------------------------------- the remaining rules, one each


async def test_telegram_chat_rules(telegram: FakeTelegram) -> None:
    admin = telegram.user(42, "Ada")
    forum = telegram.group(-300, "Forum", forum=True)
    telegram.topic(forum["id"], 7, "Ideas")
    telegram.group(-400, "Old")
    telegram.migrate(-400, -1000400, admin)
    telegram.group(-500, "Gone")
    telegram.kick_bot(-500, admin)  # a basic group: the bot has left it
    telegram.group(-1000600, "Super", supergroup=True)
    telegram.kick_bot(-1000600, admin)  # a supergroup: the bot is banned
    bob = telegram.user(7, "Bob")
    telegram.start_bot(bob)
    telegram.block_bot(bob)
    for params, status, description in (
        ({"text": "x"}, 400, "Bad Request: chat_id is empty"),
        ({"chat_id": -999, "text": "x"}, 400, "Bad Request: chat not found"),
        ({"chat_id": -400, "text": "x"}, 400, "Bad Request: group chat was upgraded"),
        ({"chat_id": -500, "text": "x"}, 403, "Forbidden: bot is not a member of the group chat"),
        (
            {"chat_id": -1000600, "text": "x"},
            403,
            "Forbidden: bot was kicked from the supergroup chat",
        ),
        ({"chat_id": 7, "text": "x"}, 403, "Forbidden: bot was blocked by the user"),
        (
            {"chat_id": -300, "message_thread_id": 99, "text": "x"},
            400,
            "Bad Request: message thread not found",
        ),
        ({"chat_id": -100, "text": ""}, 400, "Bad Request: message text is empty"),
        (
            {"chat_id": -100, "text": "x", "parse_mode": "Markdown3"},
            400,
            "Bad Request: unsupported parse_mode",
        ),
        (
            {"chat_id": -100, "text": "x", "reply_parameters": {"message_id": 999999}},
            400,
            "Bad Request: message to be replied not found",
        ),
    ):
        _refused(await _tg(telegram, "sendMessage", **params), status, description)
    migrated = await _tg(telegram, "sendMessage", chat_id=-400, text="x")
    assert migrated[1]["parameters"] == {"migrate_to_chat_id": -1000400}


@pytest.mark.parametrize(
    ("button", "description"),
    [
        ({"text": "", "callback_data": "a"}, "Bad Request: BUTTON_TEXT_INVALID"),
        ({"text": "a", "url": "ftp://x"}, "Bad Request: BUTTON_URL_INVALID"),
        ({"text": "a"}, "Bad Request: can't parse inline keyboard button"),
    ],
)
async def test_telegram_button_rules(
    telegram: FakeTelegram, button: dict[str, Any], description: str
) -> None:
    markup = {"inline_keyboard": [[button]]}
    _refused(
        await _tg(telegram, "sendMessage", chat_id=-100, text="x", reply_markup=markup),
        400,
        description,
    )


async def test_telegram_edit_rules(telegram: FakeTelegram) -> None:
    user = telegram.user(5, "Eve")
    inbound = telegram.command(user, telegram.chats[-100], "/hello")  # the person's message
    for params, description in (
        ({"chat_id": -100}, "Bad Request: message identifier is not specified"),
        (
            {"chat_id": -100, "message_id": 999999, "text": "x"},
            "Bad Request: message to edit not found",
        ),
        (
            {"chat_id": -100, "message_id": inbound["message"]["message_id"], "text": "x"},
            "Bad Request: message can't be edited",
        ),
    ):
        _refused(await _tg(telegram, "editMessageText", **params), 400, description)
    _refused(
        await _tg(telegram, "setWebhook", url="https://bot.example.org", secret_token="no spaces"),
        400,
        "Bad Request: secret token contains unallowed characters",
    )
    for url, description in (
        ("http://bot.example.org", "Bad Request: bad webhook: An HTTPS URL must be provided"),
        ("https://bot.example.org:8080", "Bad Request: bad webhook: Webhook can be set up only"),
        ("https://127.0.0.1", "Bad Request: bad webhook: IP address 127.0.0.1 is reserved"),
    ):
        _refused(await _tg(telegram, "setWebhook", url=url), 400, description)


async def test_slack_method_rules(slack: FakeSlack) -> None:
    for method, args, error in (
        ("chat.postMessage", {"channel": "C1"}, "no_text"),
        ("chat.postMessage", {"text": "x"}, "channel_not_found"),
        ("chat.update", {"channel": "C1", "ts": "1.2", "text": "x"}, "message_not_found"),
        ("chat.postEphemeral", {"channel": "C1", "text": "x"}, "user_not_found"),
        ("conversations.open", {"users": "UGONE1"}, "user_not_found"),
        ("conversations.info", {"channel": "C404"}, "channel_not_found"),
        ("users.info", {"user": "X1"}, "user_not_found"),
        ("files.getUploadURLExternal", {"filename": "a.csv"}, "invalid_arguments"),
        ("no.such.method", {}, "unknown_method"),
    ):
        assert await _slack(slack, method, **args) == {"ok": False, "error": error}, method
    headers = {"Authorization": "Bearer wrong"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{slack.api_url.rstrip('/')}/auth.test", headers=headers) as resp,
    ):
        assert await resp.json() == {"ok": False, "error": "invalid_auth"}


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"name": "Help"}, "Invalid command name"),
        ({"description": ""}, "description must be 1-100"),
        ({"description_localizations": {"de": "x" * 101}}, "localized description too long"),
        ({"default_member_permissions": "all"}, "default_member_permissions must be a string"),
        (
            {"options": [{"type": 3, "name": f"o{i}", "description": "d"} for i in range(26)]},
            "more than 25 options",
        ),
        ({"options": [{"type": 3, "name": "Bad Name", "description": "d"}]}, "invalid option name"),
        ({"options": [{"type": 3, "name": "o", "description": ""}]}, "description must be 1-100"),
        (
            {
                "options": [
                    {"type": 3, "name": "a", "description": "d"},
                    {"type": 3, "name": "b", "description": "d", "required": True},
                ]
            },
            "required options must be placed before optional",
        ),
        (
            {
                "options": [
                    {
                        "type": 3,
                        "name": "o",
                        "description": "d",
                        "choices": [{"name": f"c{i}", "value": f"c{i}"} for i in range(26)],
                    }
                ]
            },
            "more than 25 choices",
        ),
    ],
)
async def test_discord_command_rules(
    discord_fake: FakeDiscord, change: dict[str, Any], detail: str
) -> None:
    command = {"name": "help", "description": "Help", **change}
    path = f"/applications/{discord_fake.app_id}/commands"
    _form_body_refused(await _dc(discord_fake, "PUT", path, [command]), detail)
    duplicate = [{"name": "help", "description": "Help"}] * 2
    _form_body_refused(await _dc(discord_fake, "PUT", path, duplicate), "duplicate name")


async def test_discord_channel_rules(discord_fake: FakeDiscord) -> None:
    guild = discord_fake.add_guild()
    gone = discord_fake.add_channel(guild, "gone")
    discord_fake.remove_channel(gone)
    closed = discord_fake.add_channel(guild, "closed")
    discord_fake.forbid(closed)
    status, body = await _dc(discord_fake, "POST", f"/channels/{gone}/messages", {"content": "x"})
    assert (status, body["code"]) == (404, 10003)
    status, body = await _dc(discord_fake, "POST", f"/channels/{closed}/messages", {"content": "x"})
    assert (status, body["code"]) == (403, 50001)
    status, body = await _dc(discord_fake, "POST", "/users/@me/channels", {"recipient_id": "x"})
    assert (status, body["code"]) == (400, 50035)


async def test_telegram_a_chats_allowance(telegram: FakeTelegram) -> None:
    """With the limits enforced, a second message within a second is refused with 429
    and retry_after, as Telegram does."""
    telegram.enforce_limits()
    assert (await _tg(telegram, "sendMessage", chat_id=-100, text="one"))[0] == 200
    code, body = await _tg(telegram, "sendMessage", chat_id=-100, text="two")
    assert (code, body["error_code"]) == (429, 429)
    assert body["description"].startswith("Too Many Requests: retry after")
    assert body["parameters"]["retry_after"] >= 1
    assert telegram.limit_refusals == [("sendMessage", -100)]
