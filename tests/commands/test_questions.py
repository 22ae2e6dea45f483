"""/ask, /answer, /queue: similar questions first, the host desk, claims, answers relayed to
where the asker asked (also from another platform), private questions kept to the hosts."""

from __future__ import annotations

from sqlalchemy import func, select

from bridge.adapter import Adapter
from bridge.clock import FakeClock
from bridge.core import Bridge
from bridge.messages import AccountRef, ActionPress, ChannelRef, Invocation, Message
from bridge.models import AuditEntry, Deadline, OutboxRow
from bridge.models.questions import Question, QuestionAnswer, QuestionDraft
from tests.chat import Chat, Output


async def setup_support(chat: Chat, desk: bool = True) -> None:
    """#general shows the group support; #desk is the host desk; carol is a host."""
    await chat("/group new support", "/link support", "/role console:carol host")
    if desk:
        await chat("/group new desk closed hostdesk")
        await chat.as_("admin", "#desk")
        await chat("/link desk")
    await chat.as_("carol", "#desk" if desk else "#general")
    await chat("/help")  # carol has used the bot: she can get direct messages


def messages(out: str) -> list[str]:
    """Printed output split into messages (delivery to different channels runs in parallel,
    so only the order within one channel is fixed)."""
    found: list[str] = []
    for line in out.split("\n"):
        if line.startswith("  ") and found:
            found[-1] += "\n" + line
        elif line:
            found.append(line)
    return found


async def press(chat: Chat, label: str, on: str) -> Output:
    """Press the button ``label`` of the latest message showing ``on`` (as ``:press N``)."""
    shown = chat.console._shown
    for message_id in reversed(list(shown)):
        message = shown[message_id].message
        labels = [b.label for b in message.buttons]
        if on in message.text and label in labels:
            chat.console._last_buttons = message_id
            return await chat(f":press {labels.index(label) + 1}")
    raise AssertionError(f"no message with {on!r} and a button {label!r}")


async def question(bridge: Bridge, number: int) -> Question:
    async with bridge.db.transaction() as s:
        q = (await s.execute(select(Question).where(Question.number == number))).scalar_one()
        return q


async def count(bridge: Bridge, model: type) -> int:
    async with bridge.db.transaction() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def sent_to(bridge: Bridge, channel_key: str) -> list[str]:
    """The text of every message queued for one channel (what people there could see)."""
    async with bridge.db.transaction() as s:
        rows = (
            await s.execute(
                select(OutboxRow).where(
                    OutboxRow.channel_key == channel_key, OutboxRow.kind == "send"
                )
            )
        ).scalars()
        return [str(r.payload) + (r.ref_key or "") for r in rows]


async def test_console_session_ask_suggest_desk_claim_answer(chat: Chat, bridge: Bridge) -> None:
    await setup_support(chat)

    # bob asks in #general: the card shows in the group's channel, the desk is told
    await chat.as_("bob", "#general")
    out = await chat("/ask When does the X200 ship to Austria?")
    assert sorted(messages(out)) == [
        "[#desk] Q-1 from bob in #general (console), group support:\n"
        "  When does the X200 ship to Austria?\n"
        "  Nobody has claimed it yet. Answer by Jan 5, 2026, 2:00\u202fPM.\n"
        "  [1] Claim  [2] Answer",
        "[#general] (only bob) Asked as Q-1; the hosts have been told. Answers will appear here.",
        "[#general] Q-1: question from bob\n"
        "  When does the X200 ship to Austria?\n"
        "  Open: the hosts have been told. Anyone here may answer with /answer Q-1 <text>.\n"
        "  [1] Answer",
    ]

    # carol claims it on the desk: the desk card shows who has it
    await chat.as_("carol", "#desk")
    out = await press(chat, "Claim", "Q-1 from bob")
    assert out.lines == [
        "[#desk] (only carol) You claimed Q-1. Answer with /answer Q-1 <text>.",
        "[#desk] (edited) Q-1 from bob in #general (console), group support:",
        "  When does the X200 ship to Austria?",
        "  Claimed by carol. Answer by Jan 5, 2026, 2:00\u202fPM.",
        "  [1] Answer",
    ]
    out = await chat("/queue")
    assert "Q-1 · 4 hours left · claimed by carol · group support · bob: When does the X200" in out

    # carol answers from the desk: bob gets it in #general, under his question
    out = await chat("/answer Q-1 Next week, from the Vienna warehouse.")
    assert (
        out.lines[0] == "[#desk] (only carol) Your answer to Q-1 went to bob in #general (console)."
    )
    assert (
        "[#general] ↳ @bob, carol (host) answered your question Q-1:\n"
        "  Next week, from the Vienna warehouse." in out
    )
    assert "[#general] (edited) Q-1: question from bob" in out
    assert "Answered by carol." in out
    q = await question(bridge, 1)
    assert q.status == "answered"
    assert q.answered_at == q.first_response_at == bridge.now()
    assert q.claimed_by_id == q.answered_by_id

    # dave asks something similar: he is offered Q-1 with its answer first
    await chat.as_("dave", "#general")
    out = await chat("/ask Does the X200 ship to Austria and Germany?")
    assert out.lines == [
        "[#general] (only dave) Before I pass this on to the hosts: these answered questions "
        "look similar.",
        "  Q-1: When does the X200 ship to Austria?",
        "    Answer from carol: Next week, from the Vienna warehouse.",
        "  Does one of them answer your question?",
        "  [1] That helps  [2] Ask anyway",
    ]
    assert await count(bridge, Question) == 1
    out = await press(chat, "Ask anyway", "look similar")
    assert "[#general] (only dave) Asked as Q-2" in out
    assert "[#desk] Q-2 from dave in #general (console), group support:" in out

    # a private question reaches the desk and, answered, bob's private chat only
    await chat.as_("bob", "#general")
    out = await chat("/ask private My invoice 4711 is wrong")
    assert out.lines[0] == (
        "[#general] (only bob) Your private question Q-3 went to the hosts only. Their answer "
        "will come to you as a direct message."
    )
    assert "[#desk] Q-3 (private) from bob in #general (console), group support:" in out
    await chat.as_("carol", "#desk")
    out = await chat("/answer q-3 Fixed, a new invoice is on its way.")
    assert (
        "[@bob] @bob, carol (host) answered your question Q-3:\n"
        "  Fixed, a new invoice is on its way." in out
    )
    assert "4711" not in "\n".join(
        line for line in chat.transcript.split("\n[") if line.startswith("#general")
    )
    assert not any(
        "4711" in text or "question:3" in text for text in await sent_to(bridge, "console:#general")
    )


async def test_private_question_stays_with_the_hosts(chat: Chat, bridge: Bridge) -> None:
    await setup_support(chat)
    await chat.as_("bob", "#general")
    await chat("/ask private Why was my card charged twice?")
    # a member sees nothing of it, cannot answer it, is not offered it as similar
    await chat.as_("dave", "#general")
    out = await chat("/answer Q-1 No idea")
    assert out == "[#general] (only dave) There is no question Q-1."
    await chat.as_("carol", "#desk")
    await chat("/answer Q-1 A double booking; it is refunded.")
    await chat.as_("dave", "#general")
    out = await chat("/ask Why was my card charged twice?")
    assert "Asked as Q-2" in out and "look similar" not in out
    # bob himself is offered his own answered private question
    await chat.as_("bob", "#general")
    out = await chat("/ask Card charged twice again?")
    assert "Q-1: Why was my card charged twice?" in out
    assert "Answer from carol: A double booking; it is refunded." in out
    assert not any(
        "charged twice" in text and "Why" in text
        for text in await sent_to(bridge, "console:#general")
        if "question:1" in text
    )


async def test_without_desk_the_hosts_get_a_direct_message(chat: Chat, bridge: Bridge) -> None:
    await setup_support(chat, desk=False)
    await chat.as_("bob", "#general")
    out = await chat("/ask Is there a manual in German?")
    assert "[@carol] Q-1 from bob in #general (console), group support:" in out
    assert "  [1] Claim  [2] Answer" in out
    await chat.as_("carol", "#general")
    out = await press(chat, "Claim", "Q-1 from bob")
    assert "[@carol] You claimed Q-1." in out


async def test_group_hosts_first_then_community_hosts_then_admins(
    chat: Chat, bridge: Bridge
) -> None:
    await chat("/group new support", "/link support")
    await chat.as_("bob", "#general")
    out = await chat("/ask Who reads this?")
    assert "[@admin] Q-1 from bob" in out  # nobody hosts: the admins are told
    await chat.as_("admin", "#general")
    await chat("/role console:erin host support", "/role console:carol host")
    await chat.as_("erin", "#general")
    await chat("/help")
    await chat.as_("bob", "#general")
    out = await chat("/ask And now?")
    assert "[@erin] Q-2 from bob" in out
    assert "[@carol]" not in out and "[@admin]" not in out


async def test_member_answers_and_the_asker_accepts(chat: Chat, bridge: Bridge) -> None:
    await setup_support(chat)
    await chat.as_("bob", "#general")
    await chat("/ask Which charger fits the X200?")
    await chat.as_("dave", "#general")
    out = await chat("/answer Q-1 The USB-C one from the X100 works for me.")
    assert messages(out)[:2] == [
        "[#general] (only dave) Your answer to Q-1 went to bob in #general (console).",
        "[#general] ↳ @bob, dave answered your question Q-1 (answer 1):\n"
        "  The USB-C one from the X100 works for me.\n"
        "  If this answers your question, press Accept or type /answer Q-1 accept 1.\n"
        "  [1] Accept",
    ]
    q = await question(bridge, 1)
    assert q.status == "open" and q.first_response_at is not None and q.answered_at is None
    # only bob may accept
    out = await press(chat, "Accept", "answer 1")
    assert out == "[#general] (only dave) Only the person who asked Q-1 can accept an answer."
    await chat.as_("bob", "#general")
    out = await press(chat, "Accept", "answer 1")
    assert "[#general] (only bob) You accepted answer 1 to Q-1." in out
    assert "[@dave] bob accepted your answer to Q-1. Thank you!" in out
    assert "Answered by dave." in out
    q = await question(bridge, 1)
    assert q.status == "answered" and q.answered_by_id is not None
    async with bridge.db.transaction() as s:
        assert await bridge.deadlines.pending(s, "question.sla", str(q.id)) is None
    out = await press(chat, "Accept", "answer 1")
    assert out == "[#general] (only bob) You accepted answer 1 to Q-1 already."
    # the command form: a second member answer, accepted by typing
    await chat.as_("erin", "#general")
    await chat("/answer Q-1 Any 65 W charger.")
    await chat.as_("bob", "#general")
    out = await chat("/answer Q-1 accept 2")
    assert out.startswith("[#general] (only bob) You accepted answer 2 to Q-1.")
    out = await chat("/answer Q-1 accept 7")
    assert out == "[#general] (only bob) Q-1 has no answer 7."


async def test_first_claimer_wins(chat: Chat, bridge: Bridge) -> None:
    await setup_support(chat)
    await chat.as_("admin", "#general")
    await chat("/role console:dave host")
    await chat.as_("bob", "#general")
    await chat("/ask Can I pick up my order in Graz?")
    await chat.as_("carol", "#desk")
    await chat("/queue claim Q-1")
    await chat.as_("dave", "#desk")
    out = await chat("/queue claim Q-1")
    assert out == "[#desk] (only dave) carol has claimed Q-1 already."
    out = await chat("/queue release Q-1")
    assert out == "[#desk] (only dave) carol has claimed Q-1; only they or an admin can release it."
    await chat.as_("carol", "#desk")
    out = await chat("/queue claim Q-1")
    assert out == "[#desk] (only carol) You have claimed Q-1 already."
    out = await chat("/queue release Q-1")
    assert "[#desk] (only carol) Q-1 is unclaimed again." in out
    assert "Nobody has claimed it yet." in out  # the desk card is redrawn
    await chat.as_("dave", "#desk")
    out = await chat("/queue claim 1")
    assert "You claimed Q-1." in out
    q = await question(bridge, 1)
    assert q.claimed_by_id is not None
    async with bridge.db.transaction() as s:
        actions = (
            (
                await s.execute(
                    select(AuditEntry.action)
                    .where(AuditEntry.action.like("question.%"))
                    .order_by(AuditEntry.id)
                )
            )
            .scalars()
            .all()
        )
    assert actions == ["question.claim", "question.release", "question.claim"]


async def test_queue_oldest_first_with_time_left(
    chat: Chat, bridge: Bridge, clock: FakeClock
) -> None:
    await setup_support(chat)
    await chat.as_("bob", "#general")
    await chat("/ask Is the shop open on Sunday?")
    clock.advance(3600 * 3)
    await chat("/ask private Where is my parcel 123?")
    clock.advance(3600 * 2)
    await chat.as_("carol", "#desk")
    out = await chat("/queue")
    assert out.lines == [
        "[#desk] (only carol) 2 open questions, oldest first:",
        "  Q-1 · overdue by 1 hour · unclaimed · group support · bob: Is the shop open on Sunday?",
        "  Q-2 (private) · 2 hours left · unclaimed · group support · bob: Where is my parcel 123?",
        "  Claim one with /queue claim Q-n, answer with /answer Q-n <text>.",
    ]
    await chat("/answer Q-1 Yes, 10 to 16.", "/queue close Q-2")
    out = await chat("/queue")
    assert out == "[#desk] (only carol) No open questions. Well done!"
    await chat.as_("bob", "#general")
    out = await chat("/queue")
    assert out == "[#general] (only bob) Only hosts may use /queue."


async def test_close_stops_answers_and_tells_the_asker(chat: Chat, bridge: Bridge) -> None:
    await setup_support(chat)
    await chat.as_("bob", "#general")
    await chat("/ask Do you sell spare parts?")
    await chat.as_("carol", "#desk")
    out = await chat("/queue close Q-1")
    assert "[#desk] (only carol) Q-1 is closed: no more answers, no more reminders." in out
    assert "[@bob] The hosts closed your question Q-1 without an answer." in out
    assert "[#general] (edited) Q-1: question from bob" in out
    out = await chat("/answer Q-1 Yes")
    assert out == "[#desk] (only carol) Q-1 is closed; it takes no more answers."
    out = await chat("/queue close Q-1")
    assert out == "[#desk] (only carol) Q-1 is closed already."
    assert await count(bridge, QuestionAnswer) == 0


async def test_bad_input_is_answered_and_changes_nothing(chat: Chat, bridge: Bridge) -> None:
    await chat("/ask Is anyone there?")  # #general is not linked yet
    await setup_support(chat)
    await chat.as_("bob", "#general")
    await chat("/ask private My contract number is 42")
    before = (
        await count(bridge, Question),
        await count(bridge, QuestionAnswer),
        await count(bridge, OutboxRow),
    )
    await chat.as_("dave", "#general")
    cases = {
        "/answer Q-99 hello": "There is no question Q-99.",
        "/answer Q-1 hello": "There is no question Q-1.",  # private, not dave's
        "/answer Q-1": "<text> is missing.",
        "/answer banana hello": "'banana' is not an id like Q-12.",
        "/ask": "<question> is missing.",
        "/ask private": "<question> is missing.",
        "/queue": "Only hosts may use /queue.",
        # issue 16: one wording for every text over its limit
        "/ask " + "x" * 2001: "The question is too long (2001 characters, at most 2000).",
    }
    for line, expected in cases.items():
        out = await chat(line)
        assert expected in out, (line, out)
    await chat.as_("carol", "#desk")
    for line, expected in {
        "/queue Q-1": "Say what to do with Q-1: claim, release or close.",
        "/queue claim": "<question> is missing.",
        "/queue claim Q-7": "There is no question Q-7.",
        "/answer Q-1 accept 1": "Only the person who asked Q-1 can accept an answer.",
    }.items():
        out = await chat(line)
        assert expected in out, (line, out)
    after = (
        await count(bridge, Question),
        await count(bridge, QuestionAnswer),
        await count(bridge, OutboxRow),
    )
    assert after == before
    # the same answer twice (a platform retry without an event id) is recorded once
    await chat("/answer Q-1 Noted.")
    out = await chat("/answer Q-1 Noted.")
    assert out == "[#desk] (only carol) You gave this answer to Q-1 already."
    assert await count(bridge, QuestionAnswer) == 1


async def test_platform_retry_of_ask_creates_one_question(chat: Chat, bridge: Bridge) -> None:
    await setup_support(chat)
    inv = Invocation(
        channel=ChannelRef(platform="console", chat="#general"),
        account=AccountRef(platform="console", user_id="bob"),
        command="ask",
        args="Unique question about warranty terms?",
        event_id="evt-1",
    )
    first = await bridge.handle(inv)
    again = await bridge.handle(inv)
    assert "Asked as Q-1" in first[0].text and again == []
    assert await count(bridge, Question) == 1
    async with bridge.db.transaction() as s:
        assert (await s.execute(select(func.count()).select_from(Deadline))).scalar_one() == 1


async def test_suggestion_buttons_are_single_use(chat: Chat, bridge: Bridge) -> None:
    await setup_support(chat)
    await chat.as_("bob", "#general")
    await chat("/ask How long is the warranty on the X200?")
    await chat.as_("carol", "#desk")
    await chat("/answer Q-1 Two years.")
    await chat.as_("dave", "#general")
    out = await chat("/ask What warranty does the X200 have?")
    assert "Q-1: How long is the warranty on the X200?" in out
    out = await press(chat, "That helps", "look similar")
    assert out == "[#general] (only dave) Glad it helped! I did not pass your question on."
    out = await press(chat, "Ask anyway", "look similar")
    assert "You said a suggestion helped, so I did not pass this on." in out
    assert await count(bridge, Question) == 1
    await chat("/ask What warranty does the X200 have, in years?")
    await chat.as_("erin", "#general")
    out = await press(chat, "Ask anyway", "look similar")
    assert out == "[#general] (only erin) Only the person who asked can use these buttons."
    await chat.as_("dave", "#general")
    out = await press(chat, "Ask anyway", "look similar")
    assert "Asked as Q-2" in out
    out = await press(chat, "Ask anyway", "look similar")
    assert "You asked this already as Q-2." in out
    assert await count(bridge, Question) == 2
    async with bridge.db.transaction() as s:
        outcomes = (
            (await s.execute(select(QuestionDraft.outcome).order_by(QuestionDraft.id)))
            .scalars()
            .all()
        )
    assert outcomes == ["helped", "asked"]


async def test_suggestions_only_from_groups_the_asker_sees(chat: Chat, bridge: Bridge) -> None:
    await setup_support(chat)
    await chat.as_("admin", "#vip")
    await chat("/group new vip closed", "/link vip")
    await chat.as_("vera", "#vip")
    await chat("/ask Is the X200 launch date fixed yet?")
    await chat.as_("carol", "#desk")
    await chat("/answer Q-1 Yes, 1 March, keep it quiet.")
    await chat.as_("dave", "#general")
    out = await chat("/ask Is the X200 launch date fixed?")
    assert "look similar" not in out and "Asked as Q-2" in out


class Recorder(Adapter):
    """A second platform that remembers what it was asked to show."""

    platform = "tg"

    def __init__(self, bridge: Bridge) -> None:
        super().__init__(bridge)
        self.state = "ready"
        self.sent: list[tuple[str, Message]] = []

    async def send(self, channel: ChannelRef, message: Message) -> str:
        self.sent.append((channel.key, message))
        return f"m{len(self.sent)}"

    async def edit(self, channel: ChannelRef, message_id: str, message: Message) -> None:
        self.sent.append((channel.key + " (edit)", message))


async def test_host_on_another_platform_answers_into_the_askers_channel(
    chat: Chat, bridge: Bridge
) -> None:
    tg = Recorder(bridge)
    bridge.add_adapter(tg)
    await chat(
        "/group new support",
        "/link support",
        "/group new desk closed hostdesk",
        "/role tg:77 admin",
    )
    desk = ChannelRef(platform="tg", chat="-100")
    host = AccountRef(platform="tg", user_id="77", display_name="Tanja")
    await bridge.handle(Invocation(channel=desk, account=host, command="link", args="desk"))
    await chat.as_("bob", "#general")
    await chat("/ask Do you ship to Switzerland?")
    await chat.flush()
    card = next(m for key, m in tg.sent if key == "tg:-100" and "Q-1" in m.text)
    assert "Q-1 from bob in #general (console), group support:" in card.text
    claim = bridge.encode_button(card.buttons[0], desk)
    replies = await bridge.press(ActionPress(channel=desk, account=host, token=claim))
    assert [r.text for r in replies] == ["You claimed Q-1. Answer with /answer Q-1 <text>."]
    replies = await bridge.handle(
        Invocation(
            channel=desk, account=host, command="answer", args="Q-1 Yes, with DHL, duties included."
        )
    )
    assert replies[0].text == "Your answer to Q-1 went to bob in #general (console)."
    out = await chat.flush()
    assert (
        "[#general] ↳ @bob, Tanja (host) answered your question Q-1:\n"
        "  Yes, with DHL, duties included." in out
    )
    async with bridge.db.transaction() as s:
        row = (
            await s.execute(select(OutboxRow).where(OutboxRow.reply_to_ref == "question:1"))
        ).scalar_one()
    assert (row.platform, row.channel_key) == ("console", "console:#general")


async def test_german_speaker_gets_german_replies(chat: Chat, bridge: Bridge) -> None:
    await setup_support(chat)
    here = ChannelRef(platform="console", chat="#general")
    anna = AccountRef(platform="console", user_id="anna", locale="de-DE")
    [reply] = await bridge.handle(
        Invocation(channel=here, account=anna, command="ask", args="Gibt es Ersatzakkus?")
    )
    assert reply.text == (
        "Gefragt als Q-1; die Gastgeber wissen Bescheid. Antworten erscheinen hier."
    )
    [reply] = await bridge.handle(
        Invocation(channel=here, account=anna, command="answer", args="Q-9 hallo")
    )
    assert reply.text == "Es gibt keine Frage Q-9."


async def test_connected_accounts_keep_their_questions(chat: Chat, bridge: Bridge) -> None:
    await setup_support(chat)
    await chat.as_("bob", "#general")
    await chat("/ask Can I change my delivery address?")
    tg = Recorder(bridge)
    bridge.add_adapter(tg)
    bob_tg = AccountRef(platform="tg", user_id="5", display_name="Bob")
    [code] = await bridge.handle(
        Invocation(
            channel=ChannelRef(platform="tg", chat="5", dm=True), account=bob_tg, command="connect"
        )
    )
    token = code.text.split()[3].rstrip(".")
    await chat(f"/connect {token}")
    [reply] = await bridge.handle(
        Invocation(
            channel=ChannelRef(platform="tg", chat="5", dm=True),
            account=bob_tg,
            command="answer",
            args="Q-1 accept 1",
        )
    )
    assert reply.text == "Q-1 has no answer 1."  # bob on Telegram is the asker now


async def test_closed_group_questions_stay_in_their_channels(chat: Chat) -> None:
    """The one visibility rule (groups.may_show): a closed group's question is not shown in
    another group's channel, not even to one of its members (the asker excepted)."""
    await chat("/group new trades closed", "/group new ideas", "/link ideas")
    await chat(":channel trades-room", "/link trades")
    await chat("/role console:bob member trades", "/role console:carol member trades")
    await chat.as_("bob", "trades-room")
    await chat("/ask How long does delivery to Vienna take?")
    await chat.as_("carol", "general")
    out = await chat("/answer Q-1 About three days")
    assert "There is no question Q-1." in out
    await chat(":channel @")  # privately, a member of the group may
    out = await chat("/answer Q-1 About three days")
    assert "There is no question Q-1." not in out
    assert "[#trades-room] ↳" in out  # the answer reaches bob where he asked
