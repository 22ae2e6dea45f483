"""Surveys: creating ``S-n``, recording answers once per person, counting, closing,
drawing cards and results, CSV exports, and ``community-bridge survey create``.

Anonymous surveys record *that* a person answered (``survey_respondents``) apart from
*what* was answered (counts in ``survey_tallies``, texts in ``survey_anon_texts``), so
no table links a person to a choice. Every write that must happen once is guarded by a
unique key and a row lock, so concurrent presses from one person count once.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import secrets
import sys
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.db import affected, insert_ignore, upsert
from bridge.db import count as db_count
from bridge.durations import user_duration
from bridge.errors import Denied, NotFound, UsageError, UserError, check_length
from bridge.i18n import N_, Translator
from bridge.messages import Bold, Button, Code, FileAttachment, Italic, Message, Part, Text
from bridge.models import Group
from bridge.models.surveys import (
    Survey,
    SurveyAnonText,
    SurveyChoice,
    SurveyExport,
    SurveyOption,
    SurveyQuestion,
    SurveyRespondent,
    SurveyTally,
    SurveyTextAnswer,
    SurveyView,
)
from bridge.sanitize import csv_cell, is_number
from bridge.services import counters, identity
from bridge.services import groups as groups_svc

if TYPE_CHECKING:
    from bridge.config import Config
    from bridge.context import ActionContext, Context
    from bridge.core import Bridge

__all__ = [
    "CLOSE_DEADLINE",
    "QuestionSpec",
    "SpecError",
    "SurveySpec",
    "close_survey",
    "create_from_file_cli",
    "create_survey",
    "export_csv",
    "get_survey",
    "load_spec",
    "parse_spec",
]

MIN_OPTIONS = 2
MAX_OPTIONS = 10
MAX_OPTION_LEN = 80
MAX_TITLE_LEN = 300
MAX_QUESTIONS = 30
MAX_TEXT_ANSWER = 2000
EXPORT_TTL = timedelta(hours=24)
CLOSE_DEADLINE = "survey.close"
REDRAW_DEADLINE = "survey.redraw"  # an anonymous survey's next batch of counts
QUESTION_KINDS = ("single", "multi", "text")
BAR_WIDTH = 10


# ---------------------------------------------------------------------------- definitions


@dataclass
class QuestionSpec:
    kind: str
    text: str
    options: list[str] = field(default_factory=list)


@dataclass
class SurveySpec:
    title: str
    questions: list[QuestionSpec]
    description: str = ""
    anonymous: bool = False
    closes: timedelta | None = None


def check_options(options: Iterable[str]) -> list[str]:
    """2–10 distinct, non-empty options (case-insensitive); a UserError otherwise."""
    cleaned = [" ".join(o.split()) for o in options]
    if any(not o for o in cleaned):
        raise UsageError(N_("An option is empty."))
    if len(cleaned) < MIN_OPTIONS:
        raise UsageError(
            N_("A survey needs at least {min} options; you gave {n}."),
            min=MIN_OPTIONS,
            n=len(cleaned),
        )
    if len(cleaned) > MAX_OPTIONS:
        raise UsageError(
            N_("A survey can have at most {max} options; you gave {n}."),
            max=MAX_OPTIONS,
            n=len(cleaned),
        )
    for option in cleaned:
        check_length(option, MAX_OPTION_LEN, N_("An option"))
    seen: dict[str, str] = {}
    for option in cleaned:
        key = option.casefold()
        if key in seen:
            raise UserError(
                N_("The option '{option}' is there twice; options must differ."), option=option
            )
        seen[key] = option
    return cleaned


def check_title(title: str) -> str:
    cleaned = " ".join(title.split())
    if not cleaned:
        raise UsageError(N_("The question is empty."))
    check_length(cleaned, MAX_TITLE_LEN, N_("The question"))
    return cleaned


#: the longest a survey may stay open
LONGEST_OPEN = timedelta(days=365)


def check_duration(text: str) -> timedelta:
    return user_duration(text, LONGEST_OPEN)


class SpecError(Exception):
    """A survey file that cannot be used; one line naming the file and the key."""


_SPEC_KEYS = {"title", "description", "anonymous", "closes", "questions"}
_QUESTION_KEYS = {"kind", "text", "options"}


def _english(exc: UserError) -> str:
    return exc.render(lambda s: s)


def parse_spec(data: dict[str, Any], source: str = "survey") -> SurveySpec:
    """Validate a survey definition (the TOML file's content)."""

    def fail(where: str, what: str) -> SpecError:
        return SpecError(f"{source}: {where}: {what}" if where else f"{source}: {what}")

    unknown = sorted(set(data) - _SPEC_KEYS)
    if unknown:
        raise fail(unknown[0], "unknown key (known: " + ", ".join(sorted(_SPEC_KEYS)) + ")")
    title = data.get("title")
    if not isinstance(title, str):
        raise fail("title", "missing or not a string")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise fail("description", "must be a string")
    anonymous = data.get("anonymous", False)
    if not isinstance(anonymous, bool):
        raise fail("anonymous", "must be true or false")
    closes: timedelta | None = None
    if "closes" in data:
        if not isinstance(data["closes"], str):
            raise fail("closes", 'must be a duration string such as "3d"')
        try:
            closes = check_duration(data["closes"])
        except UserError as exc:
            raise fail("closes", _english(exc)) from None
    try:
        title = check_title(title)
    except UserError as exc:
        raise fail("title", _english(exc).replace("question", "title")) from None
    raw_questions = data.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        raise fail("questions", "at least one [[questions]] table is needed")
    if len(raw_questions) > MAX_QUESTIONS:
        raise fail("questions", f"at most {MAX_QUESTIONS} questions, found {len(raw_questions)}")
    questions: list[QuestionSpec] = []
    for i, raw in enumerate(raw_questions, 1):
        where = f"questions[{i}]"
        if not isinstance(raw, dict):
            raise fail(where, "must be a table")
        unknown = sorted(set(raw) - _QUESTION_KEYS)
        if unknown:
            raise fail(
                f"{where}.{unknown[0]}",
                "unknown key (known: " + ", ".join(sorted(_QUESTION_KEYS)) + ")",
            )
        kind = raw.get("kind", "single")
        if kind not in QUESTION_KINDS:
            raise fail(f"{where}.kind", f"{kind!r} is not one of single, multi, text")
        text = raw.get("text")
        if not isinstance(text, str):
            raise fail(f"{where}.text", "missing or not a string")
        try:
            text = check_title(text)
        except UserError as exc:
            raise fail(f"{where}.text", _english(exc)) from None
        options = raw.get("options", [])
        if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
            raise fail(f"{where}.options", "must be a list of strings")
        if kind == "text":
            if options:
                raise fail(f"{where}.options", "a text question has no options")
        else:
            try:
                options = check_options(options)
            except UserError as exc:
                raise fail(f"{where}.options", _english(exc)) from None
        questions.append(QuestionSpec(kind=kind, text=text, options=list(options)))
    return SurveySpec(
        title=title,
        description=description.strip(),
        anonymous=anonymous,
        closes=closes,
        questions=questions,
    )


def load_spec(path: Path) -> SurveySpec:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"{path}: no such file") from None
    except OSError as exc:
        raise SpecError(f"{path}: cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML: {exc}") from None
    return parse_spec(data, str(path))


# ---------------------------------------------------------------------------- records


@dataclass
class Question:
    row: SurveyQuestion
    options: list[SurveyOption]


async def create_survey(
    session: AsyncSession,
    bridge: Bridge,
    community_id: int,
    group: Group,
    owner_id: int | None,
    spec: SurveySpec,
    kind: str,
) -> Survey:
    """Store ``S-n`` with its questions, schedule its closing and post it to the group."""
    now = bridge.clock.now()
    number = await counters.next_number(session, community_id, "survey")
    survey = Survey(
        community_id=community_id,
        number=number,
        group_id=group.id,
        owner_id=owner_id,
        kind=kind,
        title=spec.title,
        description=spec.description,
        anonymous=spec.anonymous,
        status="open",
        closes_at=now + spec.closes if spec.closes else None,
        created_at=now,
    )
    session.add(survey)
    await session.flush()
    for qpos, qspec in enumerate(spec.questions):
        question = SurveyQuestion(
            survey_id=survey.id, position=qpos, kind=qspec.kind, text=qspec.text
        )
        session.add(question)
        await session.flush()
        for opos, label in enumerate(qspec.options):
            option = SurveyOption(question_id=question.id, position=opos, label=label)
            session.add(option)
            await session.flush()
            if spec.anonymous:
                session.add(SurveyTally(option_id=option.id, count=0))
    await session.flush()
    if survey.closes_at is not None:
        await bridge.deadlines.schedule(session, CLOSE_DEADLINE, str(survey.id), survey.closes_at)
    await bridge.outbox.post_to_group(session, group.id, ref_key=card_ref(survey.id))
    return survey


def card_ref(survey_id: int) -> str:
    return f"survey:{survey_id}"


def result_ref(survey_id: int) -> str:
    return f"survey-result:{survey_id}"


async def get_survey(session: AsyncSession, community_id: int, text: str) -> Survey:
    number = counters.parse_ref("S", text)
    survey = (
        await session.execute(
            select(Survey).where(Survey.community_id == community_id, Survey.number == number)
        )
    ).scalar_one_or_none()
    if survey is None:
        raise NotFound(N_("There is no survey S-{number}."), number=number)
    return survey


async def survey_for_update(session: AsyncSession, survey_id: int) -> Survey | None:
    """The survey row with a shared lock: closing waits for answers being recorded."""
    return (
        await session.execute(
            select(Survey)
            .where(Survey.id == survey_id)
            .with_for_update(read=True)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def load_questions(session: AsyncSession, survey_id: int) -> list[Question]:
    questions = (
        (
            await session.execute(
                select(SurveyQuestion)
                .where(SurveyQuestion.survey_id == survey_id)
                .order_by(SurveyQuestion.position)
            )
        )
        .scalars()
        .all()
    )
    options = (
        (
            await session.execute(
                select(SurveyOption)
                .where(SurveyOption.question_id.in_([q.id for q in questions]))
                .order_by(SurveyOption.question_id, SurveyOption.position)
            )
        )
        .scalars()
        .all()
    )
    by_question: dict[int, list[SurveyOption]] = {}
    for option in options:
        by_question.setdefault(option.question_id, []).append(option)
    return [Question(q, by_question.get(q.id, [])) for q in questions]


def is_open(survey: Survey, now: datetime) -> bool:
    return survey.status == "open" and (survey.closes_at is None or now < survey.closes_at)


async def option_counts(session: AsyncSession, survey: Survey) -> dict[int, int]:
    if survey.anonymous:
        rows = (
            await session.execute(
                select(SurveyTally.option_id, SurveyTally.count)
                .join(SurveyOption, SurveyOption.id == SurveyTally.option_id)
                .join(SurveyQuestion, SurveyQuestion.id == SurveyOption.question_id)
                .where(SurveyQuestion.survey_id == survey.id)
            )
        ).all()
    else:
        rows = (
            await session.execute(
                select(SurveyChoice.option_id, func.count())
                .where(SurveyChoice.survey_id == survey.id)
                .group_by(SurveyChoice.option_id)
            )
        ).all()
    return {int(option_id): int(n) for option_id, n in rows}


async def card_counts(
    session: AsyncSession, bridge: Bridge, survey: Survey
) -> tuple[int, dict[int, int]]:
    """(respondents, option counts) as the cards show them: the stored state, except for
    an open anonymous survey, whose cards show the last batch only.

    The batch is taken here, when a card is drawn after the answers committed (taken in
    the answers' own transactions, two at once could each miss the other's)."""
    if not (survey.anonymous and survey.status == "open"):
        return await respondent_count(session, survey.id), await option_counts(session, survey)
    view = await session.get(SurveyView, survey.id, populate_existing=True)
    total = await respondent_count(session, survey.id)
    if _batch_due(bridge, survey, view, total):
        counts = await option_counts(session, survey)
        await session.execute(
            upsert(
                session,
                SurveyView,
                {
                    "survey_id": survey.id,
                    "shown_total": total,
                    "shown_counts": json.dumps({str(k): v for k, v in sorted(counts.items())}),
                    "shown_at": bridge.clock.now(),
                },
                ["survey_id"],
                ["shown_total", "shown_counts", "shown_at"],
            )
        )
        return total, counts
    if view is None:
        return 0, {}
    shown = json.loads(view.shown_counts)
    return view.shown_total, {int(k): int(v) for k, v in shown.items()}


def _batch_due(bridge: Bridge, survey: Survey, view: SurveyView | None, total: int) -> bool:
    """Enough new answers, and long enough since the last redraw."""
    settings = bridge.config.surveys
    if total - (view.shown_total if view else 0) < settings.anonymous_batch:
        return False
    since = view.shown_at if view else survey.created_at
    return bridge.clock.now() >= since + settings.anonymous_delay


async def redraw(session: AsyncSession, bridge: Bridge, survey: Survey) -> None:
    """A response changed the counts: redraw the cards. An anonymous survey's cards are
    redrawn only once at least ``[surveys] anonymous_batch`` new responses have come and
    ``anonymous_delay`` has passed since the last redraw (whichever comes last)."""
    if not survey.anonymous or survey.status != "open":
        await bridge.outbox.refresh(session, card_ref(survey.id))
        return
    settings = bridge.config.surveys
    total = await respondent_count(session, survey.id)
    view = await session.get(SurveyView, survey.id, populate_existing=True)
    if total - (view.shown_total if view else 0) < settings.anonymous_batch:
        return  # not enough new answers to hide each one among the others
    due = (view.shown_at if view else survey.created_at) + settings.anonymous_delay
    if bridge.clock.now() < due:
        await bridge.deadlines.ensure(session, REDRAW_DEADLINE, str(survey.id), due)
        return
    await bridge.outbox.refresh(session, card_ref(survey.id), delay=timedelta(0))


async def redraw_due(session: AsyncSession, bridge: Bridge, ref: str) -> None:
    """The delay of an anonymous survey's batch has passed."""
    survey = await session.get(Survey, int(ref)) if is_number(ref) else None
    if survey is not None:
        await redraw(session, bridge, survey)


async def respondent_count(session: AsyncSession, survey_id: int) -> int:
    return int(
        (
            await session.execute(
                select(func.count())
                .select_from(SurveyRespondent)
                .where(SurveyRespondent.survey_id == survey_id, SurveyRespondent.answered.is_(True))
            )
        ).scalar_one()
    )


async def text_answers(
    session: AsyncSession,
    survey: Survey,
    question_id: int,
) -> list[tuple[int | None, str]]:
    """(person id or None for anonymous, text), anonymous ones in alphabetical order."""
    if survey.anonymous:
        texts = (
            (
                await session.execute(
                    select(SurveyAnonText.text)
                    .where(SurveyAnonText.question_id == question_id)
                    .order_by(SurveyAnonText.text)
                )
            )
            .scalars()
            .all()
        )
        return [(None, t) for t in texts]
    rows = (
        await session.execute(
            select(SurveyTextAnswer.person_id, SurveyTextAnswer.text)
            .where(SurveyTextAnswer.question_id == question_id)
            .order_by(SurveyTextAnswer.answered_at, SurveyTextAnswer.person_id)
        )
    ).all()
    return [(int(p), str(t)) for p, t in rows]


async def lock_respondent(
    session: AsyncSession, survey: Survey, person_id: int, now: datetime
) -> tuple[SurveyRespondent, bool]:
    """The person's respondent row, created if new, locked for this transaction."""
    result = await session.execute(
        insert_ignore(
            session,
            SurveyRespondent,
            {
                "survey_id": survey.id,
                "person_id": person_id,
                "answered": False,
                "step": 0,
                "active": False,
                "responded_at": None if survey.anonymous else now,
            },
            ["survey_id", "person_id"],
        )
    )
    row = (
        await session.execute(
            select(SurveyRespondent)
            .where(SurveyRespondent.survey_id == survey.id, SurveyRespondent.person_id == person_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    return row, affected(result) == 1


async def add_to_tallies(session: AsyncSession, option_ids: Iterable[int]) -> None:
    for option_id in sorted(set(option_ids)):  # one lock order: no deadlock between voters
        await session.execute(
            update(SurveyTally)
            .where(SurveyTally.option_id == option_id)
            .values(count=SurveyTally.count + 1)
        )


async def current_choices(session: AsyncSession, question_id: int, person_id: int) -> set[int]:
    return set(
        (
            await session.execute(
                select(SurveyChoice.option_id).where(
                    SurveyChoice.question_id == question_id, SurveyChoice.person_id == person_id
                )
            )
        )
        .scalars()
        .all()
    )


async def replace_choices(
    session: AsyncSession,
    survey: Survey,
    question_id: int,
    person_id: int,
    option_ids: Iterable[int],
    now: datetime,
) -> None:
    """Non-anonymous only: the person's choices for a question become ``option_ids``."""
    assert not survey.anonymous
    await session.execute(
        delete(SurveyChoice).where(
            SurveyChoice.question_id == question_id, SurveyChoice.person_id == person_id
        )
    )
    for option_id in sorted(set(option_ids)):
        session.add(
            SurveyChoice(
                option_id=option_id,
                person_id=person_id,
                question_id=question_id,
                survey_id=survey.id,
                chosen_at=now,
            )
        )
    await session.flush()


async def record_text(
    session: AsyncSession,
    survey: Survey,
    question_id: int,
    person_id: int,
    text: str,
    now: datetime,
) -> None:
    if survey.anonymous:
        session.add(SurveyAnonText(id=secrets.token_hex(16), question_id=question_id, text=text))
    else:
        await session.execute(
            delete(SurveyTextAnswer).where(
                SurveyTextAnswer.question_id == question_id,
                SurveyTextAnswer.person_id == person_id,
            )
        )
        session.add(
            SurveyTextAnswer(
                question_id=question_id,
                person_id=person_id,
                survey_id=survey.id,
                text=text,
                answered_at=now,
            )
        )
    await session.flush()


async def close_survey(session: AsyncSession, bridge: Bridge, survey_id: int) -> bool:
    """Close once: the card loses its buttons, the results go to every linked channel."""
    now = bridge.clock.now()
    result = await session.execute(
        update(Survey)
        .where(Survey.id == survey_id, Survey.status == "open")
        .values(status="closed", closed_at=now)
    )
    if affected(result) != 1:
        return False
    survey = await session.get(Survey, survey_id, populate_existing=True)
    assert survey is not None
    await bridge.deadlines.cancel(session, CLOSE_DEADLINE, str(survey_id))
    await session.execute(
        update(SurveyRespondent)
        .where(SurveyRespondent.survey_id == survey_id, SurveyRespondent.active.is_(True))
        .values(active=False)
    )
    await bridge.outbox.refresh(session, card_ref(survey_id), delay=timedelta(0))
    await bridge.outbox.post_to_group(session, survey.group_id, ref_key=result_ref(survey_id))
    return True


async def is_host_of_group(
    session: AsyncSession, bridge: Bridge, person_id: int, group_id: int
) -> bool:
    from bridge.services import roles

    return await roles.is_host(session, person_id, group_id, bridge.config.community.admins)


# ---------------------------------------------------------------- for the cards


def short(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def percent(count: int, total: int) -> int:
    return round(100 * count / total) if total else 0


async def voters(session: AsyncSession, question: Question) -> dict[int, list[int]]:
    """Who chose which option of a question (not anonymous), in the order they chose."""
    rows = (
        await session.execute(
            select(SurveyChoice.option_id, SurveyChoice.person_id)
            .where(SurveyChoice.question_id == question.row.id)
            .order_by(SurveyChoice.chosen_at, SurveyChoice.person_id)
        )
    ).all()
    out: dict[int, list[int]] = {}
    for option_id, person_id in rows:
        out.setdefault(int(option_id), []).append(int(person_id))
    return out


async def respondent_names(session: AsyncSession, survey_id: int) -> dict[int, str]:
    """Every respondent's name as results and exports show it (two queries, however many
    responded)."""
    ids = select(SurveyRespondent.person_id).where(SurveyRespondent.survey_id == survey_id)
    accounts = await identity.accounts_by_person(session, ids)
    persons = await identity.display_names(session, ids)
    return {
        p: identity.shown_name(accounts.get(p, []), persons.get(p)) for p in {*accounts, *persons}
    }


# ---------------------------------------------------------------------------- export


async def export_csv(session: AsyncSession, survey: Survey, t: Translator) -> str:
    """Non-anonymous: one row per respondent, one column per question. Anonymous: counts."""
    questions = await load_questions(session, survey.id)
    total = await respondent_count(session, survey.id)
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    if survey.anonymous:
        counts = await option_counts(session, survey)
        out.writerow(
            [
                t.gettext(N_("question")),
                t.gettext(N_("option")),
                t.gettext(N_("count")),
                t.gettext(N_("percent")),
            ]
        )
        for question in questions:
            if question.row.kind == "text":
                n = len(await text_answers(session, survey, question.row.id))
                out.writerow(
                    [csv_cell(question.row.text), t.gettext(N_("(written answers)")), n, ""]
                )
                continue
            for option in question.options:
                n = counts.get(option.id, 0)
                out.writerow(
                    [csv_cell(question.row.text), csv_cell(option.label), n, percent(n, total)]
                )
        out.writerow([t.gettext(N_("respondents")), "", total, ""])
        return buf.getvalue()
    out.writerow(
        [t.gettext(N_("respondent")), t.gettext(N_("accounts")), t.gettext(N_("responded at"))]
        + [csv_cell(q.row.text) for q in questions]
    )
    respondents = (
        (
            await session.execute(
                select(SurveyRespondent)
                .where(SurveyRespondent.survey_id == survey.id, SurveyRespondent.answered.is_(True))
                .order_by(SurveyRespondent.responded_at, SurveyRespondent.person_id)
            )
        )
        .scalars()
        .all()
    )
    labels = {o.id: o.label for q in questions for o in q.options}
    positions = {o.id: o.position for q in questions for o in q.options}
    # the whole survey's answers in four queries, however many responded
    chosen: dict[tuple[int, int], list[int]] = {}
    for person_id, question_id, option_id in (
        await session.execute(
            select(SurveyChoice.person_id, SurveyChoice.question_id, SurveyChoice.option_id).where(
                SurveyChoice.survey_id == survey.id
            )
        )
    ).all():
        chosen.setdefault((int(person_id), int(question_id)), []).append(int(option_id))
    texts: dict[tuple[int, int], str] = {
        (int(person_id), int(question_id)): text
        for person_id, question_id, text in (
            await session.execute(
                select(
                    SurveyTextAnswer.person_id, SurveyTextAnswer.question_id, SurveyTextAnswer.text
                ).where(SurveyTextAnswer.survey_id == survey.id)
            )
        ).all()
    }
    answered = select(SurveyRespondent.person_id).where(
        SurveyRespondent.survey_id == survey.id, SurveyRespondent.answered.is_(True)
    )
    accounts = await identity.accounts_by_person(session, answered)
    persons = await identity.display_names(session, answered)
    for resp in respondents:
        mine = accounts.get(resp.person_id, [])
        name = identity.shown_name(mine, persons.get(resp.person_id))
        row: list[object] = [
            csv_cell(name),
            csv_cell(" ".join(sorted(f"{a.platform}:{a.user_id}" for a in mine))),
            resp.responded_at.strftime("%Y-%m-%d %H:%M:%S") if resp.responded_at else "",
        ]
        for question in questions:
            key = (resp.person_id, question.row.id)
            if question.row.kind == "text":
                row.append(csv_cell(texts.get(key, "")))
            else:
                options = sorted(chosen.get(key, []), key=lambda o: positions[o])
                row.append(csv_cell("; ".join(labels[o] for o in options)))
        out.writerow(row)
    return buf.getvalue()


async def store_export(
    session: AsyncSession, survey: Survey, person_id: int, content: str, now: datetime
) -> str:
    """Keep the CSV behind a fresh one-time token (expired ones are dropped)."""
    await session.execute(delete(SurveyExport).where(SurveyExport.expires_at <= now))
    token = secrets.token_urlsafe(24)
    session.add(
        SurveyExport(
            token=token,
            survey_id=survey.id,
            person_id=person_id,
            filename=f"{survey.ref}.csv",
            content=content,
            created_at=now,
            expires_at=now + EXPORT_TTL,
        )
    )
    await session.flush()
    return token


async def take_export(session: AsyncSession, token: str, now: datetime) -> tuple[str, str] | None:
    """(file name, CSV) for a valid token, which is used up; None when unknown or expired."""
    row = (
        await session.execute(
            delete(SurveyExport)
            .where(SurveyExport.token == token)
            .returning(SurveyExport.filename, SurveyExport.content, SurveyExport.expires_at)
        )
    ).first()
    if row is None or row.expires_at <= now:
        return None
    return str(row.filename), str(row.content)


# ---------------------------------------------------------------------------- persons


async def merge_person(session: AsyncSession, from_id: int, into_id: int) -> None:
    """Move ``from_id``'s survey records to ``into_id``; where both responded to one
    survey, ``into_id``'s response stays. (Anonymous counts cannot be told apart, so both
    stay counted there.)"""
    both = set(
        (
            await session.execute(
                select(SurveyRespondent.survey_id).where(
                    SurveyRespondent.person_id == from_id,
                    SurveyRespondent.survey_id.in_(
                        select(SurveyRespondent.survey_id).where(
                            SurveyRespondent.person_id == into_id
                        )
                    ),
                )
            )
        )
        .scalars()
        .all()
    )
    if both:
        for model in (SurveyChoice, SurveyTextAnswer, SurveyRespondent):
            await session.execute(
                delete(model).where(model.person_id == from_id, model.survey_id.in_(both))
            )
    movable: tuple[Any, ...] = (SurveyChoice, SurveyTextAnswer, SurveyRespondent, SurveyExport)
    for table in movable:
        await session.execute(
            update(table).where(table.person_id == from_id).values(person_id=into_id)
        )
    await session.execute(update(Survey).where(Survey.owner_id == from_id).values(owner_id=into_id))


# ---------------------------------------------------------------------------- command line


def create_from_file_cli(config: Config, args: Any) -> int:
    """``community-bridge survey create FILE.toml --group NAME``: exit 0, or 2 on bad input."""
    try:
        spec = load_spec(Path(args.file))
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from bridge.db import upgrade_blocking

    upgrade_blocking(config.database.url)
    return asyncio.run(_create_cli(config, spec, args.group, print))


async def _create_cli(
    config: Config, spec: SurveySpec, group_name: str, say: Callable[..., None]
) -> int:
    from bridge.core import Bridge

    bridge = Bridge(config)
    try:
        await bridge.start()
        assert bridge.community_id is not None
        async with bridge.db.transaction() as session:
            group = await groups_svc.get_group(session, bridge.community_id, group_name)
            survey = await create_survey(
                session, bridge, bridge.community_id, group, None, spec, "form"
            )
            channels = await groups_svc.linked_channels(session, group.id)
            ref, slug = survey.ref, group.slug
    except UserError as exc:
        say(f"error: {_english(exc)}", file=sys.stderr)
        return 2
    finally:
        await bridge.close()
    n = len(spec.questions)
    say(
        f"created {ref} in group {slug}: {n} question{'s' if n != 1 else ''}"
        f"{', anonymous' if spec.anonymous else ''}"
    )
    if channels:
        names = ", ".join(f"{c.name or c.chat_id} [{c.platform}]" for c in channels)
        say(f"it will be posted to {names} by the running bot")
    else:
        say(
            f"warning: group {slug} has no linked channel yet; /link one to show the survey",
            file=sys.stderr,
        )
    return 0


_NUMBERS = re.compile(r"[\s,;]+")


def parse_choice(text: str, question: Question) -> list[int] | None:
    """Option positions from ``2``, ``1, 3`` or an option's label; None when unreadable."""
    raw = text.strip()
    for option in question.options:
        if raw.casefold() == option.label.casefold():
            return [option.position]
    picks: list[int] = []
    for token in (tok for tok in _NUMBERS.split(raw) if tok):
        if not is_number(token) or not 1 <= int(token) <= len(question.options):
            return None
        if int(token) - 1 not in picks:
            picks.append(int(token) - 1)
    if not picks or (question.row.kind == "single" and len(picks) != 1):
        return None
    return picks


def question_message(
    t: Translator,
    survey: Survey,
    questions: list[Question],
    step: int,
    prefix: list[Part] | None = None,
) -> Message:
    """One question of a form, as asked in the private chat."""
    question = questions[step]
    head = t.gettext(N_("{survey} · question {n} of {total}")).format(
        survey=survey.ref, n=step + 1, total=len(questions)
    )
    parts: list[Part] = list(prefix or [])
    parts += [Bold(text=head), Text(text="\n" + question.row.text)]
    buttons: list[Button] = []
    if question.row.kind != "text":
        parts.append(Text(text="".join(f"\n{o.position + 1}. {o.label}" for o in question.options)))
    if question.row.kind == "single":
        hint = N_("Answer with the number of your choice, or press a button.")
        buttons = [
            Button(
                label=short(o.label, 40),
                action="s.a",
                args=(str(survey.id), str(step), str(o.position)),
            )
            for o in question.options
        ]
    elif question.row.kind == "multi":
        hint = N_("Answer with the numbers of all that apply, for example 1, 3.")
    else:
        hint = N_("Write your answer as one message.")
    parts.append(Text(text="\n"))
    parts.append(Italic(text=t.gettext(hint) + " " + t.gettext(N_("Write stop to pause."))))
    return Message(parts=tuple(parts), buttons=tuple(buttons))


# ------------------------------------------------------------------ one use case per command
# Each takes the command's Context and its parsed arguments; the command module only
# declares the grammar and calls these.


STOP_WORDS = ("stop", "stopp", "pause", "/stop")


async def close_due(session: AsyncSession, bridge: Bridge, ref: str) -> None:
    await close_survey(session, bridge, int(ref))


#: words that look like the survey's settings, typed where an option stands
_SETTING_LIKE = re.compile(
    r"^(?:--?)?(?:multi(?:ple)?|mehrfach|anon(?:ym(?:ous)?)?|close[sd]?|endet|schließt)"
    r"(?:[=:]?\d+[smhdw])?$",
    re.IGNORECASE,
)


def _check_reading(question: str, options: list[str], locale: str) -> None:
    """A survey goes to every linked channel: when the words could mean something else,
    say how they were read and how to write it, instead of posting it."""
    from bridge.registry import Quoted

    unquoted_question = not isinstance(question, Quoted) and not question.endswith("?")
    split_question = any(not isinstance(o, Quoted) and o.endswith("?") for o in options)
    settings = [o for o in options if not isinstance(o, Quoted) and _SETTING_LIKE.match(o)]
    if not (unquoted_question or split_question or settings):
        return
    opening, closing = ("„", "“") if locale == "de" else ("“", "”")
    shown = ", ".join(f"{opening}{o}{closing}" for o in options)
    if settings:
        raise UsageError(
            N_(
                "I read the options {options}. {word} looks like a setting: write anonymous, "
                "multi or closes 2h on their own, or put an option in quotes."
            ),
            options=shown,
            word=f"{opening}{settings[0]}{closing}",
        )
    raise UsageError(
        N_(
            "I read the question “{question}” and the options {options}. If you meant "
            "otherwise, put the question and each option in quotes: {example}"
        ),
        question=question,
        options=shown,
        example='/survey new "Where do we eat?" "Pizza" "Salad"',
    )


async def survey_new(
    ctx: Context,
    question: str,
    options: list[str],
    anonymous: bool,
    multi: bool,
    closes: str | None,
) -> None:
    group = ctx.require_group()
    if group.hosts_run_surveys and not ctx.is_host:
        raise Denied(N_("In the group {group} only hosts may start surveys."), group=group.slug)
    title = check_title(question)
    labels = check_options(options)
    _check_reading(question, options, ctx.locale)
    duration = check_duration(closes) if closes else None
    spec = SurveySpec(
        title=title,
        questions=[QuestionSpec(kind="multi" if multi else "single", text=title, options=labels)],
        anonymous=anonymous,
        closes=duration,
    )
    survey = await create_survey(
        ctx.session, ctx.bridge, ctx.community.id, group, ctx.person_id, spec, "poll"
    )
    ref = Code(text=survey.ref)
    if survey.closes_at is not None:
        ctx.reply(
            *ctx.fmt(
                N_(
                    "Survey {survey} started in {group}; it closes {when}. Close it "
                    "earlier with {command}."
                ),
                survey=ref,
                group=Bold(text=group.slug),
                when=ctx.t.when(survey.closes_at),
                command=Code(text=f"/survey close {survey.ref}"),
            )
        )
    else:
        ctx.reply(
            *ctx.fmt(
                N_("Survey {survey} started in {group}. Close it with {command}."),
                survey=ref,
                group=Bold(text=group.slug),
                command=Code(text=f"/survey close {survey.ref}"),
            )
        )


async def _owned(ctx: Context, text: str) -> Survey:
    """The survey, if this person owns it or hosts its group (admins too), and its group's
    content may be shown here (a closed group's results stay in its channels)."""
    survey = await get_survey(ctx.session, ctx.community.id, text)
    group = await ctx.session.get(Group, survey.group_id)
    here = ctx.group.id if ctx.group is not None else None
    if group is None or not await groups_svc.may_show(
        ctx.session, group, ctx.person_id, here, ctx.is_dm, ctx.is_admin
    ):
        raise NotFound(N_("There is no survey S-{number}."), number=survey.number)
    if survey.owner_id == ctx.person_id:
        return survey
    if await is_host_of_group(ctx.session, ctx.bridge, ctx.person_id, survey.group_id):
        return survey
    raise Denied(
        N_("Only the owner of {survey} or a host of its group may do that."), survey=survey.ref
    )


async def survey_close(ctx: Context, survey: str) -> None:
    found = await _owned(ctx, survey)
    if not await close_survey(ctx.session, ctx.bridge, found.id):
        raise UserError(N_("{survey} is closed already."), survey=found.ref)
    await ctx.audit("survey.close", found.ref)
    ctx.reply(
        *ctx.fmt(
            N_("Closed {survey}. The results are posted in every linked channel."),
            survey=Code(text=found.ref),
        )
    )


async def survey_results(ctx: Context, survey: str) -> None:
    found = await _owned(ctx, survey)
    ctx.reply(*await _results_parts(ctx.session, found, ctx.t, detail=True), private=True)


async def survey_export(ctx: Context, survey: str) -> None:
    found = await _owned(ctx, survey)
    content = await export_csv(ctx.session, found, ctx.t)
    token = await store_export(ctx.session, found, ctx.person_id, content, ctx.now)
    from bridge.exports import export_url

    url = export_url(ctx.bridge, token)
    await ctx.audit("survey.export", found.ref)
    text = (
        N_("The CSV export of {survey} (counts only: the survey is anonymous).")
        if found.anonymous
        else N_("The CSV export of {survey}.")
    )
    ctx.reply(
        *ctx.fmt(text, survey=Code(text=found.ref)),
        file=FileAttachment(
            name=f"{found.ref}.csv",
            content=content.encode("utf-8"),
            mime="text/csv",
            fallback_url=url,
        ),
        private=True,
    )


async def survey_hosts_only(ctx: Context, group: str, setting: str) -> None:
    target = await groups_svc.get_group(ctx.session, ctx.community.id, group)
    on = setting == "on"
    if target.hosts_run_surveys == on:
        raise UserError(N_("Nothing to change in {group}."), group=target.slug)
    target.hosts_run_surveys = on
    await ctx.session.flush()
    await ctx.audit("group.set", target.slug, setting=f"survey-hosts-only={setting}")
    if on:
        ctx.reply(
            *ctx.fmt(
                N_("In {group} only hosts may start surveys now."), group=Bold(text=target.slug)
            )
        )
    else:
        ctx.reply(
            *ctx.fmt(
                N_("In {group} every member may start surveys now."), group=Bold(text=target.slug)
            )
        )


async def _open_survey(ctx: Context, survey_id: str) -> Survey:
    """The survey of a button, locked against closing; a clear message if it is closed."""
    if not is_number(survey_id):
        raise UserError(N_("This button is no longer valid."))
    survey = await survey_for_update(ctx.session, int(survey_id))
    if survey is None:
        raise UserError(N_("This survey no longer exists."))
    # a button is checked like a command: a closed group's survey only in its own
    # channels (or privately, for its members), never through a copied button elsewhere
    if survey.group_id not in await ctx.showable_group_ids():
        raise UserError(N_("This button is no longer valid."))
    if not is_open(survey, ctx.now):
        raise UserError(N_("{survey} is closed; your answer was not recorded."), survey=survey.ref)
    return survey


def _index(value: str, size: int) -> int:
    if not is_number(value) or int(value) >= size:
        raise UserError(N_("This button is no longer valid."))
    return int(value)


async def press_option(ctx: ActionContext, survey_id: str, position: str) -> None:
    survey = await _open_survey(ctx, survey_id)
    questions = await load_questions(ctx.session, survey.id)
    if survey.kind != "poll":
        raise UserError(N_("This button is no longer valid."))
    question = questions[0]
    option = question.options[_index(position, len(question.options))]
    label = Bold(text=option.label)
    ref = Code(text=survey.ref)
    if survey.anonymous:
        if question.row.kind == "multi":
            await _show_picker(ctx, survey, question, 1 << option.position)
            return
        await _answer_anonymously(ctx, survey, [option.id])
        ctx.reply(
            *ctx.fmt(
                N_(
                    "Recorded your anonymous answer {option} in {survey}. Nobody can "
                    "see who chose what, so it cannot be changed."
                ),
                option=label,
                survey=ref,
            ),
            private=True,
        )
        return
    resp, _created = await lock_respondent(ctx.session, survey, ctx.person_id, ctx.now)
    current = await current_choices(ctx.session, question.row.id, ctx.person_id)
    if question.row.kind == "single":
        if current == {option.id}:
            ctx.reply(*ctx.fmt(N_("You chose {option} already; nothing changed."), option=label))
            return
        before = [o.label for o in question.options if o.id in current]
        await replace_choices(
            ctx.session, survey, question.row.id, ctx.person_id, [option.id], ctx.now
        )
        if before:
            ctx.reply(
                *ctx.fmt(
                    N_("Changed your answer in {survey} from {old} to {option}."),
                    survey=ref,
                    old=Bold(text=", ".join(before)),
                    option=label,
                )
            )
        else:
            ctx.reply(
                *ctx.fmt(
                    N_(
                        "You chose {option} in {survey}. Press another option to "
                        "change your answer."
                    ),
                    option=label,
                    survey=ref,
                )
            )
        chosen = {option.id}
    else:
        chosen = current ^ {option.id}
        await replace_choices(ctx.session, survey, question.row.id, ctx.person_id, chosen, ctx.now)
        if option.id in chosen:
            ctx.reply(
                *ctx.fmt(
                    N_(
                        "Added {option} to your answers in {survey}. Press it again "
                        "to take it back."
                    ),
                    option=label,
                    survey=ref,
                )
            )
        else:
            ctx.reply(
                *ctx.fmt(
                    N_("Took {option} back from your answers in {survey}."),
                    option=label,
                    survey=ref,
                )
            )
    resp.answered = bool(chosen)
    resp.responded_at = ctx.now
    await ctx.session.flush()
    await redraw(ctx.session, ctx.bridge, survey)


async def _answer_anonymously(ctx: Context, survey: Survey, option_ids: list[int]) -> None:
    """Count an anonymous answer: once per person, no link from the person to the choice."""
    resp, _created = await lock_respondent(ctx.session, survey, ctx.person_id, ctx.now)
    if resp.answered:
        raise UserError(
            N_(
                "You have answered {survey} already. Its answers are anonymous, "
                "so they cannot be changed."
            ),
            survey=survey.ref,
        )
    resp.answered = True
    await add_to_tallies(ctx.session, option_ids)
    await ctx.session.flush()
    await redraw(ctx.session, ctx.bridge, survey)


async def _show_picker(ctx: Context, survey: Survey, question: Question, mask: int) -> None:
    """Anonymous multiple choice: the selection lives only in the buttons, never stored."""
    if await _has_answered(ctx, survey):
        raise UserError(
            N_(
                "You have answered {survey} already. Its answers are anonymous, "
                "so they cannot be changed."
            ),
            survey=survey.ref,
        )
    chosen = [o for o in question.options if mask >> o.position & 1]
    selection: Part = (
        Bold(text=", ".join(o.label for o in chosen)) if chosen else Text(text=ctx._("nothing yet"))
    )
    buttons = [
        Button(
            label=("☑ " if mask >> o.position & 1 else "☐ ") + short(o.label, 40),
            action="s.pk",
            args=(str(survey.id), str(mask ^ (1 << o.position))),
        )
        for o in question.options
    ]
    buttons.append(
        Button(
            label=ctx._("Submit"), action="s.ps", args=(str(survey.id), str(mask)), style="primary"
        )
    )
    ctx.reply(
        *ctx.fmt(
            N_(
                "{survey} is anonymous: choose every option that applies, then press "
                "Submit. Your answer cannot be changed afterwards. Chosen: "
                "{selection}"
            ),
            survey=Code(text=survey.ref),
            selection=selection,
        ),
        buttons=buttons,
        private=True,
    )


async def _has_answered(ctx: Context, survey: Survey) -> bool:
    return (
        await ctx.session.execute(
            select(SurveyRespondent.answered).where(
                SurveyRespondent.survey_id == survey.id,
                SurveyRespondent.person_id == ctx.person_id,
                SurveyRespondent.answered.is_(True),
            )
        )
    ).first() is not None


async def _anonymous_multi(ctx: Context, survey_id: str) -> tuple[Survey, Question]:
    survey = await _open_survey(ctx, survey_id)
    questions = await load_questions(ctx.session, survey.id)
    if survey.kind != "poll" or not survey.anonymous or questions[0].row.kind != "multi":
        raise UserError(N_("This button is no longer valid."))
    return survey, questions[0]


def _mask(value: str, size: int) -> int:
    if not is_number(value) or int(value) >= 1 << size:
        raise UserError(N_("This button is no longer valid."))
    return int(value)


async def press_pick(ctx: ActionContext, survey_id: str, mask: str) -> None:
    survey, question = await _anonymous_multi(ctx, survey_id)
    await _show_picker(ctx, survey, question, _mask(mask, len(question.options)))


async def press_submit(ctx: ActionContext, survey_id: str, mask: str) -> None:
    survey, question = await _anonymous_multi(ctx, survey_id)
    bits = _mask(mask, len(question.options))
    chosen = [o for o in question.options if bits >> o.position & 1]
    if not chosen:
        raise UserError(N_("Choose at least one option first."))
    await _answer_anonymously(ctx, survey, [o.id for o in chosen])
    ctx.reply(
        *ctx.fmt(
            N_(
                "Recorded your anonymous answer {option} in {survey}. Nobody can "
                "see who chose what, so it cannot be changed."
            ),
            option=Bold(text=", ".join(o.label for o in chosen)),
            survey=Code(text=survey.ref),
        )
    )


async def press_take_part(ctx: ActionContext, survey_id: str) -> None:
    survey = await _open_survey(ctx, survey_id)
    if survey.kind != "form":
        raise UserError(N_("This button is no longer valid."))
    questions = await load_questions(ctx.session, survey.id)
    resp, _created = await lock_respondent(ctx.session, survey, ctx.person_id, ctx.now)
    restart = False
    if resp.step >= len(questions):
        if survey.anonymous:
            raise UserError(
                N_(
                    "You have taken part in {survey} already. Its answers are "
                    "anonymous, so they cannot be changed."
                ),
                survey=survey.ref,
            )
        resp.step = 0
        restart = True
    await _make_active(ctx.session, resp)
    await ctx.session.flush()
    intro: list[Part] = []
    if restart:
        intro = [
            *ctx.fmt(N_("Your new answers replace the ones you gave before.")),
            Text(text="\n\n"),
        ]
    elif resp.step == 0:
        intro = [Bold(text=survey.title), Text(text="\n")]
        if survey.description:
            intro.append(Text(text=survey.description + "\n"))
        intro.append(Text(text="\n"))
    message = question_message(ctx.t, survey, questions, resp.step, intro)
    await ctx.bridge.outbox.notify(ctx.session, ctx.person_id, message)
    accounts = await identity.accounts_of(ctx.session, ctx.person_id)
    if ctx.is_dm or any(a.dm_open for a in accounts):
        ctx.reply(
            *ctx.fmt(
                N_("I have sent you the questions of {survey} in a private chat."),
                survey=Code(text=survey.ref),
            )
        )
    else:
        ctx.reply(
            *ctx.fmt(
                N_(
                    "Open a private chat with me to answer {survey}: the first "
                    "question is waiting there."
                ),
                survey=Code(text=survey.ref),
            )
        )


async def press_answer(ctx: ActionContext, survey_id: str, step: str, position: str) -> None:
    survey = await _open_survey(ctx, survey_id)
    questions = await load_questions(ctx.session, survey.id)
    resp = await _respondent(ctx, survey)
    if resp is None or not is_number(step) or resp.step != int(step) or resp.step >= len(questions):
        raise UserError(N_("You have answered this question already."))
    question = questions[resp.step]
    if question.row.kind != "single":
        raise UserError(N_("This button is no longer valid."))
    await _make_active(ctx.session, resp)
    await _answer(ctx, survey, resp, questions, [_index(position, len(question.options))], "")


async def _make_active(session: AsyncSession, resp: SurveyRespondent) -> None:
    """The survey a person's private-chat answers go to: this one, no other."""
    await session.execute(
        update(SurveyRespondent)
        .where(
            SurveyRespondent.person_id == resp.person_id,
            SurveyRespondent.survey_id != resp.survey_id,
            SurveyRespondent.active.is_(True),
        )
        .values(active=False)
    )
    resp.active = True


async def _respondent(ctx: Context, survey: Survey) -> SurveyRespondent | None:
    return (
        await ctx.session.execute(
            select(SurveyRespondent)
            .where(
                SurveyRespondent.survey_id == survey.id, SurveyRespondent.person_id == ctx.person_id
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def _answer(
    ctx: Context,
    survey: Survey,
    resp: SurveyRespondent,
    questions: list[Question],
    picks: list[int],
    text: str,
) -> None:
    """Store the answer to the current question and ask the next one (or say thanks)."""
    question = questions[resp.step]
    if question.row.kind == "text":
        await record_text(ctx.session, survey, question.row.id, ctx.person_id, text, ctx.now)
        noted: list[Part] = [Text(text="✓ " + ctx._("Noted."))]
    else:
        option_ids = [question.options[p].id for p in picks]
        if survey.anonymous:
            await add_to_tallies(ctx.session, option_ids)
        else:
            await replace_choices(
                ctx.session, survey, question.row.id, ctx.person_id, option_ids, ctx.now
            )
        noted = [
            Text(text="✓ "),
            *ctx.fmt(
                N_("Noted: {answer}."),
                answer=Bold(text=", ".join(question.options[p].label for p in sorted(picks))),
            ),
        ]
    resp.answered = True
    if not survey.anonymous:
        resp.responded_at = ctx.now
    resp.step += 1
    await ctx.session.flush()
    await redraw(ctx.session, ctx.bridge, survey)
    if resp.step < len(questions):
        message = question_message(ctx.t, survey, questions, resp.step, [*noted, Text(text="\n\n")])
        ctx.say(list(message.parts), buttons=message.buttons)
        return
    resp.active = False
    ctx.say(
        *noted,
        Text(text="\n"),
        *ctx.fmt(
            N_("Thank you! Your answers to {survey} are recorded."), survey=Code(text=survey.ref)
        ),
    )


async def answer_in_private(ctx: Context, text: str) -> bool:
    """A plain message in the private chat answers the form the person is taking."""
    if not ctx.is_dm:
        return False
    survey_id = (
        await ctx.session.execute(
            select(SurveyRespondent.survey_id)
            .where(SurveyRespondent.person_id == ctx.person_id, SurveyRespondent.active.is_(True))
            .order_by(SurveyRespondent.survey_id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if survey_id is None:
        return False
    survey = await survey_for_update(ctx.session, survey_id)
    resp = await _respondent(ctx, survey) if survey is not None else None
    if survey is None or resp is None or not resp.active:
        return False
    questions = await load_questions(ctx.session, survey.id)
    ref = Code(text=survey.ref)
    if not is_open(survey, ctx.now) or resp.step >= len(questions):
        resp.active = False
        ctx.say(
            *ctx.fmt(N_("{survey} has closed; thank you for the answers you gave."), survey=ref)
        )
        return True
    if text.strip().casefold() in STOP_WORDS:
        resp.active = False
        ctx.say(
            *ctx.fmt(
                N_("Paused {survey}. Press Take part on it again to go on where you left off."),
                survey=ref,
            )
        )
        return True
    question = questions[resp.step]
    answer = text.strip()
    picks: list[int] = []
    if question.row.kind == "text":
        if not answer:
            raise UserError(N_("Please write your answer as text."))
        check_length(answer, MAX_TEXT_ANSWER, N_("The answer"))
    else:
        found = parse_choice(answer, question)
        if found is None:
            n = len(question.options)
            if question.row.kind == "single":
                raise UserError(N_("Please answer with one number from 1 to {n}."), n=n)
            raise UserError(N_("Please answer with numbers from 1 to {n}, for example 1, 3."), n=n)
        picks = found
    await _answer(ctx, survey, resp, questions, picks, answer)
    return True


async def _results_parts(*args: Any, **kwargs: Any) -> list[Part]:
    from bridge.cards.surveys import results_parts

    return await results_parts(*args, **kwargs)


# ---------------------------------------------------------------- figures for /stats


def _activity_scope(community_id: int, group_id: int | None, since: datetime) -> list[Any]:
    scope: list[Any] = [Survey.community_id == community_id, Survey.created_at >= since]
    if group_id is not None:
        scope.append(Survey.group_id == group_id)
    return scope


def contributions(community_id: int, group_id: int | None, since: datetime) -> dict[str, Any]:
    """Since ``since``: one row (``person_id``) per survey started; a query for ``stats``
    to count in SQL."""
    scope = _activity_scope(community_id, group_id, since)
    return {
        "surveys": select(Survey.owner_id.label("person_id")).where(
            *scope, Survey.owner_id.is_not(None)
        )
    }


async def responses_since(
    session: AsyncSession, community_id: int, group_id: int | None, since: datetime
) -> int:
    """The responses to the surveys started since ``since`` (counted in SQL)."""
    return int(
        (
            await session.execute(
                select(func.count())
                .select_from(SurveyRespondent)
                .join(Survey, Survey.id == SurveyRespondent.survey_id)
                .where(*_activity_scope(community_id, group_id, since))
            )
        ).scalar_one()
    )


# ---------------------------------------------------------------- /surveys and reopening


async def surveys_open(ctx: Context) -> None:
    """``/surveys``: the open surveys whose content may be shown here."""
    shown = await ctx.showable_group_ids()
    rows = (
        await ctx.session.execute(
            select(Survey, Group.slug)
            .join(Group, Group.id == Survey.group_id)
            .where(
                Survey.community_id == ctx.community.id,
                Survey.status == "open",
                Survey.group_id.in_(shown),
            )
            .order_by(Survey.number.desc())
            .limit(25)
        )
    ).all()
    if not rows:
        ctx.reply(ctx._("No survey is open here."))
        return
    parts: list[Part] = [
        Text(
            text=ctx.ngettext("{n} open survey:", "{n} open surveys:", len(rows)).format(
                n=len(rows)
            )
        )
    ]
    for survey, slug in rows:
        parts += [Text(text="\n"), Code(text=survey.ref), Text(text=f" {survey.title} — {slug}")]
        if survey.closes_at is not None:
            parts.append(
                Text(text=" · " + ctx._("closes {when}").format(when=ctx.t.when(survey.closes_at)))
            )
    ctx.reply(*parts)


async def survey_reopen(ctx: Context, survey: str) -> None:
    """``/survey reopen S-3`` (owner, hosts): answers are taken again; the cards follow."""
    found = await _owned(ctx, survey)
    if found.status == "open":
        raise UserError(N_("{survey} is open already."), survey=found.ref)
    if found.closes_at is not None and found.closes_at <= ctx.now:
        found.closes_at = None  # its closing time has passed: open until closed by hand
    found.status, found.closed_at = "open", None
    await ctx.session.flush()
    if found.closes_at is not None:
        await ctx.bridge.deadlines.schedule(
            ctx.session, CLOSE_DEADLINE, str(found.id), found.closes_at
        )
    await ctx.audit("survey.reopen", found.ref)
    await ctx.bridge.outbox.refresh(ctx.session, card_ref(found.id), delay=timedelta(0))
    ctx.reply(
        *ctx.fmt(
            N_("{survey} is open again; close it with {command}."),
            survey=Code(text=found.ref),
            command=Code(text=f"/survey close {found.ref}"),
        )
    )


# ---------------------------------------------------------------- /group delete


async def count_in_group(session: AsyncSession, group_id: int) -> int:
    return await db_count(session, Survey, Survey.group_id == group_id)


async def delete_in_group(session: AsyncSession, group_id: int) -> None:
    """Delete the group's surveys with everything answered to them."""
    surveys = select(Survey.id).where(Survey.group_id == group_id).scalar_subquery()
    questions = (
        select(SurveyQuestion.id).where(SurveyQuestion.survey_id.in_(surveys)).scalar_subquery()
    )
    options = select(SurveyOption.id).where(SurveyOption.question_id.in_(questions))
    for stmt in (
        delete(SurveyChoice).where(SurveyChoice.survey_id.in_(surveys)),
        delete(SurveyTextAnswer).where(SurveyTextAnswer.survey_id.in_(surveys)),
        delete(SurveyTally).where(SurveyTally.option_id.in_(options.scalar_subquery())),
        delete(SurveyAnonText).where(SurveyAnonText.question_id.in_(questions)),
        delete(SurveyOption).where(SurveyOption.question_id.in_(questions)),
        delete(SurveyQuestion).where(SurveyQuestion.survey_id.in_(surveys)),
        delete(SurveyRespondent).where(SurveyRespondent.survey_id.in_(surveys)),
        delete(SurveyExport).where(SurveyExport.survey_id.in_(surveys)),
        delete(SurveyView).where(SurveyView.survey_id.in_(surveys)),
        delete(Survey).where(Survey.group_id == group_id),
    ):
        await session.execute(stmt)
