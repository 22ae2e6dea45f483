"""Survey storage and timing: once-only under concurrent presses (also from two processes),
no person-to-choice link for anonymous surveys, the closing deadline fires once across a
restart, one response per person across platforms, merges, the survey file and CLI, and
the one-time CSV link."""

from __future__ import annotations

import argparse
import asyncio
import re
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bridge.adapter import Adapter
from bridge.clock import FakeClock
from bridge.core import Bridge
from bridge.http import build_app
from bridge.messages import (
    AccountRef,
    ActionPress,
    Button,
    ChannelRef,
    Invocation,
    Message,
)
from bridge.models import AuditEntry, Deadline, OutboxRow, metadata
from bridge.models.surveys import (
    Survey,
    SurveyAnonText,
    SurveyChoice,
    SurveyRespondent,
    SurveyTally,
    SurveyTextAnswer,
)
from bridge.services import surveys as svc
from tests.chat import Chat
from tests.conftest import BridgeFactory, attach_console, make_config

GENERAL = ChannelRef(platform="console", chat="#general")


class FakeAdapter(Adapter):
    """A second platform that records what it was asked to send and edit."""

    platform = "fake"

    def __init__(self, bridge: Bridge) -> None:
        super().__init__(bridge)
        self.state = "ready"
        self.sent: list[tuple[str, Message]] = []
        self.edited: list[tuple[str, str, Message]] = []

    async def send(self, channel: ChannelRef, message: Message) -> str:
        self.sent.append((channel.key, message))
        return f"m{len(self.sent)}"

    async def edit(self, channel: ChannelRef, message_id: str, message: Message) -> None:
        self.edited.append((channel.key, message_id, message))


def console_chat(bridge: Bridge) -> Chat:
    printed: list[str] = []
    return Chat(bridge, attach_console(bridge, printed), printed)


async def survey_ids(bridge: Bridge) -> dict[str, int]:
    async with bridge.db.transaction() as s:
        rows = (await s.execute(select(Survey.number, Survey.id))).all()
    return {f"S-{n}": i for n, i in rows}


async def press(
    bridge: Bridge, user: str, action: str, *args: object, channel: ChannelRef = GENERAL
) -> str:
    token = bridge.encode_button(
        Button(label="x", action=action, args=tuple(map(str, args))), channel
    )
    replies = await bridge.press(
        ActionPress(
            channel=channel,
            account=AccountRef(platform=channel.platform, user_id=user),
            token=token,
        )
    )
    return "\n".join(r.text for r in replies)


async def scalar(bridge: Bridge, stmt: object) -> int:
    async with bridge.db.transaction() as s:
        return int((await s.execute(stmt)).scalar_one())  # type: ignore[call-overload]


# ---------------------------------------------------------------------------- once-only


async def test_once_only_under_concurrent_presses(make_bridge: BridgeFactory) -> None:
    """Many presses at once, from distinct and repeated accounts, through two processes."""
    first = await make_bridge()
    second = await make_bridge()
    chat = console_chat(first)
    await chat(
        "/group new team",
        "/link team",
        '/survey new "Lunch?" Pizza Sushi Salad',
        '/survey new "Secret?" Yes No anonymous',
    )
    ids = await survey_ids(first)
    users = [f"u{i}" for i in range(8)]
    calls = []
    for user in users:
        for rep in range(3):
            bridge = first if rep % 2 == 0 else second
            calls.append(press(bridge, user, "s.v", ids["S-1"], 0))
            calls.append(press(bridge, user, "s.v", ids["S-2"], rep % 2))
    replies = await asyncio.gather(*calls)
    assert not [r for r in replies if "went wrong" in r]
    recorded = [r for r in replies if r.startswith("Recorded your anonymous answer")]
    refused = [r for r in replies if r.startswith("You have answered S-2 already")]
    chose = [r for r in replies if r.startswith("You chose Pizza in S-1")]
    again = [r for r in replies if r.startswith("You chose Pizza already")]
    assert (len(recorded), len(refused)) == (8, 16)
    assert (len(chose), len(again)) == (8, 16)
    async with first.db.transaction() as s:
        choices = (
            await s.execute(
                select(SurveyChoice.person_id, func.count()).group_by(SurveyChoice.person_id)
            )
        ).all()
        assert len(choices) == 8 and all(n == 1 for _p, n in choices)
        tallies = (await s.execute(select(func.sum(SurveyTally.count)))).scalar_one()
        assert tallies == 8
        for survey_id in ids.values():
            assert await svc.respondent_count(s, survey_id) == 8
    out = await chat.flush()
    assert "[1] Pizza (8)  [2] Sushi (0)  [3] Salad (0)" in out
    yes_no = re.search(r"\[1\] Yes \((\d+)\)  \[2\] No \((\d+)\)", out)
    assert yes_no is not None and int(yes_no[1]) + int(yes_no[2]) == 8


async def test_concurrent_vote_changes_of_one_person_end_consistent(
    make_bridge: BridgeFactory,
) -> None:
    first = await make_bridge()
    second = await make_bridge()
    chat = console_chat(first)
    await chat("/group new team", "/link team", '/survey new "Lunch?" Pizza Sushi Salad')
    ids = await survey_ids(first)
    calls = [press(first if i % 2 else second, "bob", "s.v", ids["S-1"], i % 3) for i in range(12)]
    await asyncio.gather(*calls)
    assert await scalar(first, select(func.count()).select_from(SurveyChoice)) == 1
    assert await scalar(first, select(func.count()).select_from(SurveyRespondent)) == 1


# ---------------------------------------------------------------------------- anonymity


async def test_anonymous_storage_holds_no_person_to_choice_link(chat: Chat, bridge: Bridge) -> None:
    await chat(
        "/group new team",
        "/link team",
        '/survey new "Secret?" Yes No Maybe anonymous',
        '/survey new "Which?" A B C anonymous multi',
    )
    ids = await survey_ids(bridge)
    assert (await press(bridge, "bob", "s.v", ids["S-1"], 0)).startswith("Recorded")
    assert (await press(bridge, "carol", "s.v", ids["S-1"], 2)).startswith("Recorded")
    assert (await press(bridge, "bob", "s.ps", ids["S-2"], 0b101)).startswith("Recorded")
    spec = svc.parse_spec(
        {
            "title": "Feedback",
            "anonymous": True,
            "questions": [
                {"kind": "single", "text": "Good?", "options": ["Yes", "No"]},
                {"kind": "text", "text": "Why?"},
            ],
        }
    )
    async with bridge.db.transaction() as s:
        from bridge.services import groups as groups_svc

        assert bridge.community_id is not None
        group = await groups_svc.get_group(s, bridge.community_id, "team")
        form = await svc.create_survey(s, bridge, bridge.community_id, group, None, spec, "form")
    await press(bridge, "dave", "s.go", form.id)
    await chat.as_("dave")
    await chat(":channel @", "2", "Too slow, sorry")

    # the tables that hold anonymous answers have no person, no time and no order
    tables = {t.name: t for t in metadata.sorted_tables}
    for name in ("survey_tallies", "survey_anon_texts"):
        columns = {c.name for c in tables[name].columns}
        assert not any("person" in c or c.endswith("_at") for c in columns), (name, columns)
        assert all(fk.column.table.name != "persons" for fk in tables[name].foreign_keys)
    assert {c.name for c in tables["survey_respondents"].columns} == {
        "survey_id",
        "person_id",
        "answered",
        "step",
        "active",
        "responded_at",
    }
    async with bridge.db.transaction() as s:
        assert (await s.execute(select(func.count()).select_from(SurveyChoice))).scalar_one() == 0
        assert (
            await s.execute(select(func.count()).select_from(SurveyTextAnswer))
        ).scalar_one() == 0
        respondents = (await s.execute(select(SurveyRespondent))).scalars().all()
        assert len(respondents) == 4
        assert all(r.responded_at is None for r in respondents)
        tallies = dict((await s.execute(select(SurveyTally.option_id, SurveyTally.count))).all())
        assert sorted(tallies.values()) == [0, 0, 0, 1, 1, 1, 1, 1]
        [text] = (await s.execute(select(SurveyAnonText))).scalars().all()
        assert text.text == "Too slow, sorry" and re.fullmatch(r"[0-9a-f]{32}", text.id)
        # nothing else kept the answer with the person: no audit entry, no stored message
        assert (
            await s.execute(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action.like("survey%"))
            )
        ).scalar_one() == 0
        payloads = (await s.execute(select(OutboxRow.payload))).scalars().all()
        assert not [p for p in payloads if p and "Too slow" in str(p)]
        assert not [p for p in payloads if p and "Noted" in str(p)]


# ---------------------------------------------------------------------------- deadline


async def test_deadline_fires_once_across_restart_and_processes(
    make_bridge: BridgeFactory, clock: FakeClock
) -> None:
    before = await make_bridge()
    chat = console_chat(before)
    await chat(
        "/group new team",
        "/link team",
        ":channel lounge",
        "/link team",
        ":channel general",
        '/survey new "Lunch?" Pizza Sushi closes 1h',
    )
    survey_id = (await survey_ids(before))["S-1"]
    await before.close()  # the process stops; the deadline lives on in the database

    after = await make_bridge()
    other = await make_bridge()
    clock.advance(timedelta(minutes=59))
    assert await after.deadlines.tick() == 0
    clock.advance(timedelta(minutes=1))
    fired = await asyncio.gather(
        after.deadlines.tick(), other.deadlines.tick(), after.deadlines.tick()
    )
    assert sum(fired) == 1
    assert await after.deadlines.tick() + await other.deadlines.tick() == 0
    async with after.db.transaction() as s:
        survey = await s.get(Survey, survey_id)
        assert survey is not None and survey.status == "closed"
        rows = (
            (
                await s.execute(
                    select(OutboxRow.channel_key).where(
                        OutboxRow.ref_key == f"survey-result:{survey_id}"
                    )
                )
            )
            .scalars()
            .all()
        )
        assert sorted(rows) == ["console:#general", "console:#lounge"]
        deadline = (
            await s.execute(select(Deadline).where(Deadline.kind == "survey.close"))
        ).scalar_one()
        assert deadline.fired_at is not None
    chat = console_chat(after)
    out = await chat.flush()
    assert out.count("📊 Results of S-1: Lunch? — closed") == 2


async def test_closing_early_cancels_the_deadline(
    chat: Chat, bridge: Bridge, clock: FakeClock
) -> None:
    await chat(
        "/group new team",
        "/link team",
        '/survey new "Lunch?" Pizza Sushi closes 1h',
        "/survey close S-1",
    )
    clock.advance(timedelta(hours=2))
    assert await bridge.deadlines.tick() == 0
    assert chat.transcript.count("Results of S-1") == 1


# ---------------------------------------------------------------------------- platforms


async def two_platforms(make_bridge: BridgeFactory) -> tuple[Bridge, Chat, FakeAdapter]:
    bridge = await make_bridge(community={"admins": ["console:admin", "fake:ADMIN"]})
    chat = console_chat(bridge)
    fake = FakeAdapter(bridge)
    bridge.add_adapter(fake)
    await chat("/group new team", "/link team")
    await bridge.handle(
        Invocation(
            channel=ChannelRef(platform="fake", chat="C1"),
            account=AccountRef(platform="fake", user_id="ADMIN"),
            command="link",
            args="team",
        )
    )
    return bridge, chat, fake


async def connect(bridge: Bridge, chat: Chat, console_user: str, fake_user: str) -> None:
    await chat.as_(console_user, "general")
    out = await chat("/connect")
    code = re.search(r"Your code is (\w+)", out)
    assert code is not None
    [reply] = await bridge.handle(
        Invocation(
            channel=ChannelRef(platform="fake", chat="C1"),
            account=AccountRef(platform="fake", user_id=fake_user),
            command="connect",
            args=code.group(1),
        )
    )
    assert reply.text.startswith("Done:"), reply.text


async def test_one_response_per_person_across_platforms(make_bridge: BridgeFactory) -> None:
    bridge, chat, fake = await two_platforms(make_bridge)
    await chat('/survey new "Lunch?" Pizza Sushi')
    await chat.flush()
    [(key, card)] = fake.sent[-1:]
    assert key == "fake:C1" and [b.label for b in card.buttons] == ["Pizza (0)", "Sushi (0)"]
    await connect(bridge, chat, "bob", "B1")
    fake_c1 = ChannelRef(platform="fake", chat="C1")
    reply = await press(
        bridge, "B1", card.buttons[1].action, *card.buttons[1].args, channel=fake_c1
    )
    assert reply == "You chose Sushi in S-1. Press another option to change your answer."
    await chat.as_("bob")
    out = await chat(":press 1")
    assert "Changed your answer in S-1 from Sushi to Pizza." in out
    assert "[1] Pizza (1)  [2] Sushi (0)" in out
    await chat.flush()
    assert [b.label for b in fake.edited[-1][2].buttons] == ["Pizza (1)", "Sushi (0)"]
    assert "1 respondent" in fake.edited[-1][2].text


async def test_merge_keeps_the_code_owners_response(make_bridge: BridgeFactory) -> None:
    bridge, chat, _fake = await two_platforms(make_bridge)
    await chat('/survey new "Lunch?" Pizza Sushi', '/survey new "Dessert?" Yes No')
    ids = await survey_ids(bridge)
    fake_c1 = ChannelRef(platform="fake", chat="C1")
    await press(bridge, "bob", "s.v", ids["S-1"], 0)
    await press(bridge, "B1", "s.v", ids["S-1"], 1, channel=fake_c1)
    await press(bridge, "B1", "s.v", ids["S-2"], 0, channel=fake_c1)
    await connect(bridge, chat, "bob", "B1")
    async with bridge.db.transaction() as s:
        assert await svc.respondent_count(s, ids["S-1"]) == 1
        assert await svc.respondent_count(s, ids["S-2"]) == 1
        persons = set((await s.execute(select(SurveyChoice.person_id))).scalars().all())
        assert len(persons) == 1
    await chat.as_("admin")
    out = await chat("/survey results S-1", "/survey export S-2")
    # one person now, named after the account they used last
    assert "    Pizza: B1\n" in out and "Sushi:" not in out
    assert "  | B1,console:bob fake:B1,2026-01-05 09:00:00,Yes" in out


# ---------------------------------------------------------------------------- file and CLI


def test_survey_file_is_validated_with_clear_errors(tmp_path: Path) -> None:
    def error(data: dict[str, object]) -> str:
        with pytest.raises(svc.SpecError) as info:
            svc.parse_spec(data, "s.toml")
        return str(info.value)

    q = {"kind": "single", "text": "Good?", "options": ["Yes", "No"]}
    assert error({"questions": [q]}) == "s.toml: title: missing or not a string"
    assert error({"title": "T", "colour": "red", "questions": [q]}).startswith(
        "s.toml: colour: unknown key"
    )
    assert error({"title": "T"}) == "s.toml: questions: at least one [[questions]] table is needed"
    assert (
        error({"title": "T", "questions": [{**q, "kind": "scale"}]})
        == "s.toml: questions[1].kind: 'scale' is not one of single, multi, text"
    )
    assert (
        error({"title": "T", "questions": [{**q, "options": ["Yes"]}]})
        == "s.toml: questions[1].options: A survey needs at least 2 options; you gave 1."
    )
    assert (
        error({"title": "T", "questions": [q, {**q, "options": ["a", "A"]}]})
        == "s.toml: questions[2].options: The option 'A' is there twice; options must differ."
    )
    assert (
        error(
            {"title": "T", "questions": [{"kind": "text", "text": "Why?", "options": ["x", "y"]}]}
        )
        == "s.toml: questions[1].options: a text question has no options"
    )
    assert (
        error({"title": "T", "closes": "soon", "questions": [q]})
        == "s.toml: closes: 'soon' is not a duration; use for example 30m, 2h or 3d."
    )
    assert error({"title": "T", "questions": [{**q, "hint": "x"}]}).startswith(
        "s.toml: questions[1].hint: unknown key"
    )
    spec = svc.parse_spec(
        {"title": " T ", "closes": "3d", "questions": [q, {"kind": "text", "text": "Why?"}]}
    )
    assert spec.title == "T" and spec.closes == timedelta(days=3)
    assert [x.kind for x in spec.questions] == ["single", "text"]
    bad = tmp_path / "bad.toml"
    bad.write_text("title = ", encoding="utf-8")
    with pytest.raises(svc.SpecError, match="not valid TOML"):
        svc.load_spec(bad)
    with pytest.raises(svc.SpecError, match="no such file"):
        svc.load_spec(tmp_path / "missing.toml")


async def test_cli_creates_a_form_that_the_bot_posts(
    chat: Chat,
    bridge: Bridge,
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await chat("/group new customers", "/link customers")
    config = make_config(db_url)
    path = tmp_path / "survey.toml"

    def run(group: str) -> int:
        args = argparse.Namespace(file=str(path), group=group, action="create")
        return svc.create_from_file_cli(config, args)

    path.write_text(
        'title = "Customer survey"\n[[questions]]\nkind = "single"\n'
        'text = "Good?"\noptions = ["Yes"]\n',
        encoding="utf-8",
    )
    assert await asyncio.to_thread(run, "customers") == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {path}: questions[1].options: A survey needs at least 2 options; you gave 1."
    )
    path.write_text(
        'title = "Customer survey"\nanonymous = true\n'
        '[[questions]]\nkind = "multi"\ntext = "Which?"\noptions = ["A", "B"]\n'
        '[[questions]]\nkind = "text"\ntext = "Why?"\n',
        encoding="utf-8",
    )
    assert await asyncio.to_thread(run, "nope") == 2
    assert "error: There is no group called nope." in capsys.readouterr().err
    assert await scalar(bridge, select(func.count()).select_from(Survey)) == 0
    assert await asyncio.to_thread(run, "customers") == 0
    out = capsys.readouterr().out
    assert "created S-1 in group customers: 2 questions, anonymous" in out
    assert "it will be posted to #general [console] by the running bot" in out
    printed = await chat.flush()
    assert "[#general] 📊 S-1: Customer survey\n  2 questions · anonymous\n" in printed
    assert "[1] Take part" in printed


# ---------------------------------------------------------------------------- export link


async def test_export_link_works_once(chat: Chat, bridge: Bridge, clock: FakeClock) -> None:
    await chat("/group new team", "/link team", '/survey new "Lunch?" Pizza "=cmd()"')
    ids = await survey_ids(bridge)
    await press(bridge, "bob", "s.v", ids["S-1"], 1)

    async def export() -> Message:
        [reply] = await bridge.handle(
            Invocation(
                channel=GENERAL,
                account=AccountRef(platform="console", user_id="admin"),
                command="survey",
                args="export S-1",
            )
        )
        return reply

    reply = await export()
    assert reply.ephemeral and reply.file is not None
    assert reply.file.name == "S-1.csv" and reply.file.mime == "text/csv"
    assert "bob,console:bob,2026-01-05 09:00:00,'=cmd()" in reply.file.content.decode()
    url = reply.file.fallback_url
    assert url is not None and url.startswith("http://127.0.0.1:8080/exports/")
    path = url.removeprefix("http://127.0.0.1:8080")
    async with TestClient(TestServer(build_app(bridge))) as client:
        first = await client.get(path)
        assert first.status == 200
        assert first.headers["Content-Type"].startswith("text/csv")
        assert 'filename="S-1.csv"' in first.headers["Content-Disposition"]
        assert (await first.read()) == reply.file.content
        assert (await client.get(path)).status == 404
        assert (await client.get("/exports/not-a-real-token-at-all.csv")).status == 404
        later = await export()
        assert later.file is not None and later.file.fallback_url is not None
        clock.advance(timedelta(hours=25))
        late = later.file.fallback_url.removeprefix("http://127.0.0.1:8080")
        assert (await client.get(late)).status == 404
