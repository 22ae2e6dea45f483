"""Across groups (issue 13): listings follow the visibility rule of the channel they are
typed in, and a button of a closed group's survey does nothing in another group's
channel; a refused command is recorded, so a platform's retry changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from bridge.core import Bridge
from bridge.messages import AccountRef, ActionPress, Button, ChannelRef, Invocation
from bridge.models import ProcessedEvent
from bridge.models.surveys import Survey, SurveyChoice
from tests.chat import Chat


async def _two_groups(chat: Chat) -> None:
    await chat(":channel ideas", "/group new ideas", "/link ideas")
    await chat(":channel board", "/group new board closed", "/link board")
    await chat("/role console:hana host ideas", "/role console:hana host board")
    await chat.as_("dora", "#board")
    await chat('/ask "Wann kommt das neue Budget für den Vorstand?"')
    await chat.flush()


async def test_queue_in_another_groups_channel_hides_a_closed_groups_questions(
    chat: Chat,
) -> None:
    await _two_groups(chat)
    await chat.as_("hana", "#ideas")
    out = await chat("/queue")
    assert "Budget" not in out
    assert "No open questions. Well done!" in out
    assert "1 question of a closed group shows only in its channels or privately." in out
    await chat.as_("hana", "#board")
    out = await chat("/queue")
    assert "Budget" in out


async def test_a_closed_groups_survey_button_does_nothing_elsewhere(
    chat: Chat, bridge: Bridge
) -> None:
    await _two_groups(chat)
    await chat.as_("admin", "#board")
    await chat('/survey new "Geheimes Projekt?" "Ja, Codename Falke" "Nein"')
    await chat.flush()
    async with bridge.db.transaction() as s:
        survey = (await s.execute(select(Survey))).scalar_one()
    button = Button(label="x", action="s.v", args=(str(survey.id), "0"))
    board = ChannelRef(platform="console", chat="#board")
    for where in ("#ideas", "#general"):
        here = ChannelRef(platform="console", chat=where)
        # the button as shown in #board is bound to it; one bound here (as if the survey
        # had been shown here) meets the visibility rule
        for token in (bridge.encode_button(button, board), bridge.encode_button(button, here)):
            [reply] = await bridge.press(
                ActionPress(
                    channel=here,
                    account=AccountRef(platform="console", user_id="eve", display_name="eve"),
                    token=token,
                )
            )
            assert reply.text == "This button is no longer valid."  # no label, no vote
    async with bridge.db.transaction() as s:
        assert (await s.execute(select(func.count()).select_from(SurveyChoice))).scalar() == 0


async def test_a_refused_command_is_recorded_so_a_retry_changes_nothing(
    chat: Chat, bridge: Bridge
) -> None:
    await chat(":channel ideas", "/group new ideas", "/link ideas")
    here = ChannelRef(platform="console", chat="#ideas")
    bob = AccountRef(platform="console", user_id="bob", display_name="bob")
    vote = Invocation(channel=here, account=bob, command="vote", args="I-9", event_id="ev-1")
    [first] = await bridge.handle(vote)
    assert "I-9" in first.text
    assert await bridge.handle(vote) == []  # the retry: recorded, not answered again
    async with bridge.db.transaction() as s:
        recorded = await s.get(ProcessedEvent, ("console", "ev-1"))
    assert recorded is not None
