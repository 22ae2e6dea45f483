"""``/survey``: polls shown in every linked channel, answered once per person, closed on
time with results in every channel, exported as CSV; private-chat forms from a file."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bridge.clock import FakeClock
from bridge.core import Bridge
from bridge.messages import AccountRef, ActionPress, Button, ChannelRef
from bridge.models import AuditEntry
from bridge.models.surveys import Survey
from bridge.services import surveys as svc
from tests.chat import Chat
from tests.conftest import BridgeFactory, attach_console


async def two_channels(chat: Chat) -> None:
    """Group ``meetups`` linked to #general and #lounge; the admin speaks in #general."""
    await chat(
        "/group new meetups",
        "/link meetups",
        ":channel lounge",
        "/link meetups",
        ":channel general",
    )


async def count_surveys(bridge: Bridge) -> int:
    async with bridge.db.transaction() as s:
        return int((await s.execute(select(func.count()).select_from(Survey))).scalar_one())


async def test_console_session(chat: Chat, bridge: Bridge, clock: FakeClock) -> None:
    """The issue's session: create, three voters, a changed vote, an anonymous survey that
    hides its voters, closing on schedule with results in both channels, CSV export."""
    await two_channels(chat)
    out = await chat(
        '/survey new "Which day for the meetup?" Monday „Tuesday evening“ "Friday" closes 2h'
    )
    assert out.lines[0] == (
        "[#general] (only admin) Survey S-1 started in meetups; it closes "
        "Jan 5, 2026, 12:00\u202fPM. Close it earlier with /survey close S-1."
    )
    for channel in ("#general", "#lounge"):
        assert (
            f"[{channel}] 📊 S-1: Which day for the meetup?\n"
            "  Single choice · closes Jan 5, 2026, 12:00\u202fPM\n"
        ) in out
    assert out.count("  [1] Monday (0)  [2] Tuesday evening (0)  [3] Friday (0)") == 2

    await chat.as_("bob")
    out = await chat(":press 1")
    assert "(only bob) You chose Monday in S-1. Press another option to change your answer." in out
    await chat.as_("carol")
    out = await chat(":press 2")
    assert "(only carol) You chose Tuesday evening in S-1." in out
    await chat.as_("dave")
    out = await chat(":press 1")
    assert "(only dave) You chose Monday in S-1." in out
    await chat.as_("carol")
    out = await chat(":press 2")
    assert "(only carol) You chose Tuesday evening already; nothing changed." in out
    out = await chat(":press 3")
    assert "(only carol) Changed your answer in S-1 from Tuesday evening to Friday." in out
    # the card is edited in both channels with the live counts
    for channel in ("#general", "#lounge"):
        assert (
            f"[{channel}] (edited) 📊 S-1: Which day for the meetup?\n"
            "  Single choice · closes Jan 5, 2026, 12:00\u202fPM\n"
            "  Monday           ███████░░░  2 (67%)\n"
            "  Tuesday evening  ░░░░░░░░░░  0 (0%)\n"
            "  Friday           ███░░░░░░░  1 (33%)\n"
            "  3 respondents\n"
            "  [1] Monday (2)  [2] Tuesday evening (0)  [3] Friday (1)"
        ) in out

    # an anonymous survey: counts, but nobody sees who chose what
    await chat.as_("admin", "general")
    await chat('/survey new "Rate the last meetup" Good Okay Bad anonymous')
    await chat.as_("bob")
    out = await chat(":press 1")
    assert (
        "(only bob) Recorded your anonymous answer Good in S-2. Nobody can see who chose "
        "what, so it cannot be changed."
    ) in out
    await chat.as_("carol")
    await chat(":press 3")
    await chat.as_("bob")
    out = await chat(":press 2")
    assert (
        "(only bob) You have answered S-2 already. Its answers are anonymous, so they "
        "cannot be changed."
    ) in out
    await chat.as_("admin")
    out = await chat("/survey results S-2")
    assert "Good  █████░░░░░  1 (50%)" in out
    assert "Bad   █████░░░░░  1 (50%)" in out
    assert "2 respondents" in out
    assert "who chose what is not stored, so nobody can see it" in out
    assert "bob" not in out and "carol" not in out
    out = await chat("/survey export S-2")
    assert "(counts only: the survey is anonymous)" in out
    assert "  | Rate the last meetup,Good,1,50" in out
    assert "  | respondents,,2," in out
    assert "bob" not in out and "carol" not in out
    # the non-anonymous one shows its voters to the owner
    out = await chat("/survey results S-1")
    assert "    Monday: bob, dave\n    Friday: carol" in out

    # closing on schedule: results in both linked channels, cards without buttons
    await chat.flush()
    start = len(chat.printed)
    clock.advance(timedelta(hours=2))
    assert await bridge.deadlines.tick() == 1
    await chat.flush()
    out = "\n".join(chat.printed[start:])
    for channel in ("#general", "#lounge"):
        assert (
            f"[{channel}] 📊 Results of S-1: Which day for the meetup? — closed\n"
            "  Monday           ███████░░░  2 (67%)\n"
            "  Tuesday evening  ░░░░░░░░░░  0 (0%)\n"
            "  Friday           ███░░░░░░░  1 (33%)\n"
            "  3 respondents"
        ) in out
        assert f"[{channel}] (edited) 📊 S-1: Which day for the meetup? — closed" in out
    closed_card = out.split("(edited) 📊 S-1", 1)[1].split("\n[", 1)[0]
    assert "[1]" not in closed_card
    assert await bridge.deadlines.tick() == 0

    # CSV export for the owner
    await chat.as_("admin")
    out = await chat("/survey export S-1")
    assert "[#general] (only admin) The CSV export of S-1.\n  [file S-1.csv," in out
    assert (
        "  | respondent,accounts,responded at,Which day for the meetup?\n"
        "  | bob,console:bob,2026-01-05 09:00:00,Monday\n"
        "  | carol,console:carol,2026-01-05 09:00:00,Friday\n"
        "  | dave,console:dave,2026-01-05 09:00:00,Monday"
    ) in out


async def test_bad_input_is_explained_and_changes_nothing(chat: Chat, bridge: Bridge) -> None:
    out = await chat('/survey new "Lunch?" Pizza')
    assert "This channel is not linked to a group." in out
    await chat("/group new team", "/link team")
    eleven = " ".join(f'"o{i}"' for i in range(11))
    cases = [
        ('/survey new "Lunch?" Pizza', "A survey needs at least 2 options; you gave 1."),
        ('/survey new "Lunch?"', "<option> is missing."),
        (f"/survey new Q {eleven}", "A survey can have at most 10 options; you gave 11."),
        ('/survey new "Lunch?" Pizza "pizza"', "The option 'pizza' is there twice"),
        ('/survey new "Lunch?" Pizza Sushi closes soon', "'soon' is not a duration; use for"),
        ('/survey new "Lunch?" Pizza Sushi closes', "'closes' needs a value."),
        ('/survey new "Lunch? Pizza Sushi', "A quote is not closed."),
        ('/survey new "Lunch?" Pizza ""', "An option is empty."),
        ('/survey new "Lunch?" Pizza Sushi closes 0m', "'0m' is not a duration"),
    ]
    usage = '/survey new "<question>" "<option>"... [anonymous] [multi] [closes <duration>]'
    for line, message in cases:
        out = await chat(line)
        assert message in out, (line, out)
        assert out.startswith("[#general] (only admin)")
    assert usage in await chat('/survey new "Lunch?" Pizza Sushi closes')
    out = await chat('/survey new "Lunch?" Pizza Sushi closes 2h')
    assert usage not in out
    assert await count_surveys(bridge) == 1
    out = await chat("/survey close S-9", "/survey results x")
    assert "There is no survey S-9." in out
    assert "'x' is not an id like S-12." in out


async def test_who_may_close_see_and_export(chat: Chat, bridge: Bridge) -> None:
    await chat("/group new team", "/link team")
    await chat.as_("bob")
    await chat('/survey new "Lunch?" Pizza Sushi')
    await chat.as_("carol")
    for line in ("/survey close S-1", "/survey results S-1", "/survey export S-1"):
        out = await chat(line)
        assert out == (
            "[#general] (only carol) Only the owner of S-1 or a host of its group may do that."
        ), line
    await chat.as_("admin")
    out = await chat("/role console:carol host team")
    assert "is now host in team" in out
    await chat.as_("carol")
    out = await chat("/survey results S-1")
    assert "0 respondents" in out
    await chat.as_("bob")
    out = await chat("/survey close S-1")
    assert "Closed S-1. The results are posted in every linked channel." in out
    assert "📊 Results of S-1: Lunch? — closed" in out
    out = await chat("/survey close S-1")
    assert "S-1 is closed already." in out
    async with bridge.db.transaction() as s:
        actions = list(
            (
                await s.execute(
                    select(AuditEntry.action, AuditEntry.target).where(
                        AuditEntry.action.like("survey%")
                    )
                )
            ).all()
        )
    assert actions == [("survey.close", "S-1")]


async def test_group_may_reserve_surveys_for_hosts(chat: Chat, bridge: Bridge) -> None:
    await chat("/group new board", "/link board")
    await chat.as_("bob")
    out = await chat("/survey hosts-only board on")
    assert "Only admins may use /survey hosts-only." in out
    await chat.as_("admin")
    out = await chat("/survey hosts-only board on")
    assert "In board only hosts may start surveys now." in out
    out = await chat("/survey hosts-only board on")
    assert "Nothing to change in board." in out
    await chat.as_("bob")
    out = await chat('/survey new "Budget?" Yes No')
    assert "In the group board only hosts may start surveys." in out
    assert await count_surveys(bridge) == 0
    await chat.as_("admin")
    await chat("/role console:bob host board")
    await chat.as_("bob")
    out = await chat('/survey new "Budget?" Yes No')
    assert "Survey S-1 started in board." in out
    await chat.as_("admin")
    out = await chat("/survey hosts-only board off")
    assert "In board every member may start surveys now." in out


async def test_multiple_choice_toggles(chat: Chat, bridge: Bridge) -> None:
    await chat("/group new team", "/link team")
    await chat('/survey new "Which snacks?" Fruit Nuts Cake multi')
    await chat.as_("bob")
    out = await chat(":press 1")
    assert "Added Fruit to your answers in S-1. Press it again to take it back." in out
    out = await chat(":press 3")
    assert "[1] Fruit (1)  [2] Nuts (0)  [3] Cake (1)" in out
    out = await chat(":press 1")
    assert "Took Fruit back from your answers in S-1." in out
    assert "[1] Fruit (0)  [2] Nuts (0)  [3] Cake (1)" in out
    assert "  1 respondent\n" in out
    out = await chat(":press 3")
    assert "  0 respondents\n" in out


async def test_anonymous_multiple_choice_keeps_selection_in_buttons_only(
    chat: Chat, bridge: Bridge
) -> None:
    await chat("/group new team", "/link team")
    await chat('/survey new "Which snacks?" Fruit Nuts Cake multi anonymous')
    await chat.as_("bob")
    out = await chat(":press 2")
    assert "S-1 is anonymous: choose every option that applies, then press Submit." in out
    assert "Chosen: Nuts\n  [1] ☐ Fruit  [2] ☑ Nuts  [3] ☐ Cake  [4] Submit" in out
    out = await chat(":press 3")
    assert "Chosen: Nuts, Cake" in out
    out = await chat(":press 2")
    assert "Chosen: Cake\n" in out
    out = await chat(":press 3")
    assert "Chosen: nothing yet" in out
    out = await chat(":press 4")
    assert "Choose at least one option first." in out
    await chat(":press 1")
    await chat(":press 2")
    out = await chat(":press 4")
    assert "Recorded your anonymous answer Fruit, Nuts in S-1." in out
    assert "[1] Fruit (1)  [2] Nuts (1)  [3] Cake (0)" in out
    out = await chat(":press 3")
    assert "You have answered S-1 already." in out


async def test_press_after_close_is_refused(bridge: Bridge, chat: Chat) -> None:
    await chat(
        "/group new team", "/link team", '/survey new "Lunch?" Pizza Sushi', "/survey close S-1"
    )
    async with bridge.db.transaction() as s:
        survey_id = (await s.execute(select(Survey.id))).scalar_one()
    token = bridge.encode_button(
        Button(label="x", action="s.v", args=(str(survey_id), "0")),
        ChannelRef(platform="console", chat="#general"),
    )
    [reply] = await bridge.press(
        ActionPress(
            channel=ChannelRef(platform="console", chat="#general"),
            account=AccountRef(platform="console", user_id="bob"),
            token=token,
        )
    )
    assert reply.text == "S-1 is closed; your answer was not recorded."
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    [reply] = await bridge.press(
        ActionPress(
            channel=ChannelRef(platform="console", chat="#general"),
            account=AccountRef(platform="console", user_id="bob"),
            token=forged,
        )
    )
    assert reply.text == "This button is no longer valid."


FORM = """
title = "Customer survey 2026"
description = "Five minutes that shape next year's roadmap."
closes = "3d"

[[questions]]
kind = "single"
text = "How satisfied are you with the product?"
options = ["Very", "Somewhat", "Not at all"]

[[questions]]
kind = "multi"
text = "Which features do you use?"
options = ["Reports", "Alerts", "API"]

[[questions]]
kind = "text"
text = "What should we improve?"
"""


async def make_form(bridge: Bridge, text: str = FORM, group: str = "customers") -> None:
    import tomllib

    spec = svc.parse_spec(tomllib.loads(text), "survey.toml")
    async with bridge.db.transaction() as s:
        assert bridge.community_id is not None
        from bridge.services import groups as groups_svc

        target = await groups_svc.get_group(s, bridge.community_id, group)
        await svc.create_survey(s, bridge, bridge.community_id, target, None, spec, "form")
    bridge.outbox.kick()


async def test_form_is_answered_in_a_private_chat(chat: Chat, bridge: Bridge) -> None:
    await chat("/group new customers", "/link customers")
    await make_form(bridge)
    out = await chat.flush()
    assert out == (
        "[#general] 📊 S-1: Customer survey 2026\n"
        "  Five minutes that shape next year's roadmap.\n"
        "  3 questions · closes Jan 8, 2026, 10:00\u202fAM\n"
        "  0 respondents\n"
        "  Press Take part: I will ask you the questions in a private chat.\n"
        "  [1] Take part"
    )
    await chat.as_("bob")
    out = await chat(":press 1")
    assert "(only bob) I have sent you the questions of S-1 in a private chat." in out
    assert (
        "[@bob] Customer survey 2026\n"
        "  Five minutes that shape next year's roadmap.\n"
        "\n"
        "  S-1 · question 1 of 3\n"
        "  How satisfied are you with the product?\n"
        "  1. Very\n  2. Somewhat\n  3. Not at all\n"
        "  Answer with the number of your choice, or press a button. Write stop to pause.\n"
        "  [1] Very  [2] Somewhat  [3] Not at all"
    ) in out
    await chat(":channel @")
    out = await chat("7")
    assert out == "[@bob] Please answer with one number from 1 to 3."
    out = await chat(":press 2")
    assert out.startswith(
        "[@bob] ✓ Noted: Somewhat.\n\n  S-1 · question 2 of 3\n  Which features do you use?\n"
    )
    async with bridge.db.transaction() as s:
        survey_id = (await s.execute(select(Survey.id))).scalar_one()
    stale = bridge.encode_button(
        Button(label="Very", action="s.a", args=(str(survey_id), "0", "0")),
        ChannelRef(platform="console", chat="bob", dm=True),
    )
    [reply] = await bridge.press(
        ActionPress(
            channel=ChannelRef(platform="console", chat="bob", dm=True),
            account=AccountRef(platform="console", user_id="bob"),
            token=stale,
        )
    )
    assert reply.text == "You have answered this question already."
    out = await chat("stop")
    assert "Paused S-1. Press Take part on it again to go on where you left off." in out
    out = await chat("1, 3")
    assert out == ""  # not taking a survey now: plain chat
    await chat(":channel general")
    await chat.flush()
    out = await chat(":press 1")
    assert "[@bob] S-1 · question 2 of 3" in out
    await chat(":channel @")
    out = await chat("1, 3, 3")
    assert "✓ Noted: Reports, API." in out
    assert (
        "S-1 · question 3 of 3\n  What should we improve?\n"
        "  Write your answer as one message. Write stop to pause." in out
    )
    out = await chat("Faster exports, please =)")
    assert out == ("[@bob] ✓ Noted.\n  Thank you! Your answers to S-1 are recorded.")
    out = await chat("hello again")
    assert out == ""
    out = await chat.flush()
    await chat(":channel general")
    await chat.as_("carol")
    await chat(":press 1")
    await chat(":channel @")
    await chat("Very", "2", "More dashboards")
    await chat.as_("admin", "general")
    out = await chat("/survey results S-1")
    assert (
        "  1. How satisfied are you with the product?\n"
        "  Very        █████░░░░░  1 (50%)\n"
        "  Somewhat    █████░░░░░  1 (50%)\n"
        "  Not at all  ░░░░░░░░░░  0 (0%)"
    ) in out
    assert (
        "  2 written answers\n    • bob: Faster exports, please =)\n"
        "    • carol: More dashboards" in out
    )
    out = await chat("/survey export S-1")
    assert (
        "  | respondent,accounts,responded at,How satisfied are you with the product?,"
        "Which features do you use?,What should we improve?\n"
        "  | bob,console:bob,2026-01-05 09:00:00,Somewhat,Reports; API,"
        '"Faster exports, please =)"\n'
        "  | carol,console:carol,2026-01-05 09:00:00,Very,Alerts,More dashboards"
    ) in out
    # a second round replaces a non-anonymous person's answers
    await chat.as_("bob", "general")
    await chat.flush()
    out = await chat(":press 1")
    assert "Your new answers replace the ones you gave before." in out


async def test_anonymous_form_cannot_be_taken_twice(
    chat: Chat, bridge: Bridge, clock: FakeClock
) -> None:
    await chat("/group new customers", "/link customers")
    await make_form(bridge, FORM.replace('closes = "3d"', 'anonymous = true\ncloses = "1h"'))
    await chat.flush()
    await chat.as_("bob")
    await chat(":press 1", ":channel @", "1", "2 3", "Nothing")
    await chat(":channel general")
    out = await chat(":press 1")
    assert "You have taken part in S-1 already. Its answers are anonymous" in out
    await chat.as_("carol")
    await chat(":press 1", ":channel @", "3")
    clock.advance(timedelta(hours=1))
    out = await chat("1")
    assert "S-1 has closed; thank you for the answers you gave." in out
    await bridge.deadlines.tick()
    out = await chat.flush()
    assert (
        "[#general] 📊 Results of S-1: Customer survey 2026 — closed\n"
        "  1. How satisfied are you with the product?\n"
        "  Very        █████░░░░░  1 (50%)\n"
        "  Somewhat    ░░░░░░░░░░  0 (0%)\n"
        "  Not at all  █████░░░░░  1 (50%)\n"
        "  2. Which features do you use?\n"
        "  Reports  ░░░░░░░░░░  0 (0%)\n"
        "  Alerts   █████░░░░░  1 (50%)\n"
        "  API      █████░░░░░  1 (50%)\n"
        "  3. What should we improve?\n"
        "  1 written answer\n"
        "  2 respondents"
    ) in out
    await chat.as_("admin", "general")
    out = await chat("/survey results S-1")
    assert "    • Nothing" in out
    assert "bob" not in out and "carol" not in out
    out = await chat("/survey export S-1")
    assert "  | What should we improve?,(written answers),1," in out
    assert "Nothing" not in out


async def test_german_card(make_bridge: BridgeFactory) -> None:
    bridge = await make_bridge(community={"locale": "de"})
    printed: list[str] = []
    chat = Chat(bridge, attach_console(bridge, printed), printed)
    await chat("/group new team", "/link team")
    out = await chat('/survey new "Mittagessen?" Pizza Sushi anonymous closes 1d')
    assert "Umfrage S-1 läuft in team" in out
    assert "Einfachauswahl · anonym · endet 06.01.2026, 10:00" in out
    assert "0 Personen haben teilgenommen" in out
    assert (
        "Anonym: niemand, auch keine Gastgeber oder Admins, kann sehen, wer was gewählt hat." in out
    )


async def test_closed_group_results_stay_in_their_channels(chat: Chat) -> None:
    await chat("/group new trades closed", "/group new ideas", "/link ideas")
    await chat(":channel trades-room", "/link trades", "/role console:carol host trades")
    await chat('/survey new "Which fair?" "Munich" "Cologne"')
    await chat.as_("carol", "general")  # a host of trades, in another group's channel
    out = await chat("/survey results S-1")
    assert "There is no survey S-1." in out
    assert "Munich" not in out
    await chat(":channel trades-room")
    assert "Munich" in await chat("/survey results S-1")
    await chat(":channel @")
    assert "Munich" in await chat("/survey results S-1")


async def test_anonymous_counts_are_redrawn_in_batches_only(
    make_bridge: BridgeFactory, clock: FakeClock
) -> None:
    """Watching the card of an anonymous survey never tells one person's choice: the
    counts change only after 3 new answers and a minute since the last redraw."""
    bridge = await make_bridge(surveys={"anonymous_batch": 3, "anonymous_delay": "1m"})
    printed: list[str] = []
    chat = Chat(bridge, attach_console(bridge, printed), printed)
    await chat("/group new team", "/link team")
    await chat('/survey new "Lunch?" Pizza Salad anonymous')
    card = "[1] Pizza (0)  [2] Salad (0)"
    for voter, button in (("bob", 1), ("carol", 2)):
        await chat.as_(voter)
        out = await chat(f":press {button}")
        assert "Recorded your anonymous answer" in out
        assert "(edited)" not in out  # the card stays as it was
    await chat.as_("dave")
    out = await chat(":press 1")  # the third answer, but within the minute: still nothing
    assert "(edited)" not in out
    clock.advance(timedelta(seconds=61))
    assert await bridge.deadlines.tick() == 1
    await bridge.outbox.drain(include_delayed=True)
    assert "[1] Pizza (2)  [2] Salad (1)" in "\n".join(printed)
    assert card in "\n".join(printed)
    start = len(printed)
    await chat.as_("erin")
    out = await chat(":press 2")
    assert "(edited)" not in out  # one new answer is not shown alone
    await chat.as_("admin")
    await chat("/survey close S-1")
    await bridge.outbox.drain(include_delayed=True)
    closed = "\n".join(printed[start:])
    assert "[#general] (edited) 📊 S-1: Lunch? — closed" in closed  # final counts at the close
    assert "Salad  █████░░░░░  2 (50%)\n  4 respondents" in closed


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "/survey new Where do we eat? Pizza Salad",
            "I read the question “Where” and the options “do”, “we”, “eat?”, “Pizza”, "
            "“Salad”. If you meant otherwise, put the question and each option in quotes: "
            '/survey new "Where do we eat?" "Pizza" "Salad"',
        ),
        (
            '/survey new "Lunch?" Pizza Salad multiple',
            "I read the options “Pizza”, “Salad”, “multiple”. “multiple” looks like a "
            "setting: write anonymous, multi or closes 2h on their own",
        ),
        (
            '/survey new "Lunch?" Pizza Salad closes=2h',
            "“closes=2h” looks like a setting",
        ),
    ],
)
async def test_a_doubtful_survey_is_read_back_not_posted(
    chat: Chat, bridge: Bridge, line: str, expected: str
) -> None:
    await chat("/group new team", "/link team")
    out = await chat(line)
    assert expected in out
    async with bridge.db.transaction() as session:
        assert (await session.execute(select(func.count()).select_from(Survey))).scalar_one() == 0


async def test_single_quotes_group_words_and_apostrophes_stay(chat: Chat) -> None:
    await chat("/group new team", "/link team")
    out = await chat("/survey new 'Where do we eat?' 'Luigi's Pizza' Salad")
    assert "Survey S-1 started in team" in out
    assert "[1] Luigi's Pizza (0)  [2] Salad (0)" in out


async def test_doubtful_survey_in_german(make_bridge: BridgeFactory) -> None:
    bridge = await make_bridge(community={"locale": "de"})
    printed: list[str] = []
    chat = Chat(bridge, attach_console(bridge, printed), printed)
    await chat("/group new team", "/link team")
    out = await chat("/survey new Wo essen wir? Pizza Salat")
    assert (
        "Ich lese die Frage „Wo“ und die Optionen „essen“, „wir?“, „Pizza“, „Salat“. Wenn du "
        "es anders meinst, setz die Frage und jede Option in Anführungszeichen:"
    ) in out


async def test_the_export_reads_a_survey_in_the_same_few_queries_however_many_answered(
    chat: Chat, bridge: Bridge
) -> None:
    """Issue 14: the CSV export loads the answers of all respondents together, not a few
    queries per respondent (it ran five each)."""
    from bridge.i18n import translator
    from tests.conftest import statements

    await chat("/group new team", "/link team")
    await chat('/survey new "Lunch?" Pizza Sushi Salad multi')
    counted: list[int] = []
    for n in range(8):
        await chat.as_(f"p{n}")
        await chat(":press 3")
        if n % 2:
            await chat(":press 1")
        if n in (1, 7):
            async with bridge.db.transaction() as session:
                survey = (await session.execute(select(Survey))).scalar_one()
                with statements(bridge) as seen:
                    text = await svc.export_csv(session, survey, translator("en"))
                counted.append(len(seen))
    assert counted[0] == counted[1], counted
    lines = text.splitlines()
    assert lines[0] == "respondent,accounts,responded at,Lunch?"
    assert [line.split(",")[::3] for line in lines[1:]] == [
        [f"p{n}", "Pizza; Salad" if n % 2 else "Salad"] for n in range(8)
    ]
