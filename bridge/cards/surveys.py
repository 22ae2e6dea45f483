"""How surveys look: the live card in linked channels, charts, the results."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bridge.i18n import N_, Translator, translator
from bridge.messages import Bold, Button, Code, Italic, Message, Part, Text, continued
from bridge.models.surveys import Survey
from bridge.services.surveys import (
    BAR_WIDTH,
    Question,
    card_counts,
    load_questions,
    option_counts,
    percent,
    respondent_count,
    respondent_names,
    short,
    text_answers,
    voters,
)

if TYPE_CHECKING:
    from bridge.core import Bridge


def bar(count: int, total: int, width: int = BAR_WIDTH) -> str:
    filled = min(width, round(width * count / total)) if total else 0
    return "█" * filled + "░" * (width - filled)


def chart(rows: list[tuple[str, int]], total: int) -> list[str]:
    """``Support  ████████░░  8 (53%)`` lines, labels padded to one width."""
    labels = [short(label, 32) for label, _ in rows]
    width = max((len(label) for label in labels), default=0)
    return [
        f"{label.ljust(width)}  {bar(count, total)}  {count} ({percent(count, total)}%)"
        for label, (_, count) in zip(labels, rows, strict=True)
    ]


def chart_parts(lines: list[str]) -> list[Part]:
    """Chart lines as parts: bars in monospace (Code), so columns line up on every platform."""
    parts: list[Part] = []
    for line in lines:
        parts.append(Text(text="\n"))
        parts.append(Code(text=line) if "█" in line or "░" in line else Text(text=line))
    return parts


def respondents_line(t: Translator, n: int) -> str:
    return t.ngettext("{n} respondent", "{n} respondents", n).format(n=n)


def kind_line(t: Translator, survey: Survey, questions: list[Question]) -> str:
    bits: list[str] = []
    if survey.kind == "poll":
        q = questions[0].row
        bits.append(
            t.gettext(N_("Multiple choice"))
            if q.kind == "multi"
            else t.gettext(N_("Single choice"))
        )
    else:
        n = len(questions)
        bits.append(t.ngettext("{n} question", "{n} questions", n).format(n=n))
    if survey.anonymous:
        bits.append(t.gettext(N_("anonymous")))
    if survey.status == "open" and survey.closes_at is not None:
        bits.append(t.gettext(N_("closes {when}")).format(when=t.when(survey.closes_at)))
    return " · ".join(bits)


async def question_chart(
    session: AsyncSession,
    survey: Survey,
    question: Question,
    counts: dict[int, int],
    total: int,
    t: Translator,
) -> list[str]:
    if question.row.kind == "text":
        n = len(await text_answers(session, survey, question.row.id))
        return [t.ngettext("{n} written answer", "{n} written answers", n).format(n=n)]
    return chart([(o.label, counts.get(o.id, 0)) for o in question.options], total)


async def render_card(
    session: AsyncSession, bridge: Bridge, ident: str, locale: str
) -> Message | None:
    """The posted survey: live counts and one button per option while open."""
    survey = await session.get(Survey, int(ident))
    if survey is None:
        return None
    t = translator(locale)
    questions = await load_questions(session, survey.id)
    total, counts = await card_counts(session, bridge, survey)
    closed = survey.status != "open"
    head = f"📊 {survey.ref}: {survey.title}"
    parts: list[Part] = [Bold(text=head)]
    if closed:
        parts.append(Text(text=" — " + t.gettext(N_("closed"))))
    if survey.description:
        parts.append(Text(text="\n" + continued(survey.description)))
    parts.append(Text(text="\n" + kind_line(t, survey, questions)))
    buttons: list[Button] = []
    if survey.kind == "poll":
        question = questions[0]
        lines = chart([(o.label, counts.get(o.id, 0)) for o in question.options], total)
        parts.extend(chart_parts(lines))
        if not closed:
            buttons = [
                Button(
                    label=f"{short(o.label, 40)} ({counts.get(o.id, 0)})",
                    action="s.v",
                    args=(str(survey.id), str(o.position)),
                )
                for o in question.options
            ]
    elif not closed:
        buttons = [
            Button(
                label=t.gettext(N_("Take part")),
                action="s.go",
                args=(str(survey.id),),
                style="primary",
            )
        ]
    parts.append(Text(text="\n" + respondents_line(t, total)))
    if not closed and survey.anonymous:
        parts.append(Text(text="\n"))
        parts.append(
            Italic(
                text=t.gettext(
                    N_(
                        "Anonymous: nobody, not even hosts or admins, can see who chose what. "
                        "Answers cannot be changed."
                    )
                )
            )
        )
    elif not closed and survey.kind == "form":
        parts.append(Text(text="\n"))
        parts.append(
            Italic(
                text=t.gettext(
                    N_("Press Take part: I will ask you the questions in a private chat.")
                )
            )
        )
    return Message(parts=tuple(parts), buttons=tuple(buttons))


async def results_parts(
    session: AsyncSession, survey: Survey, t: Translator, detail: bool = False
) -> list[Part]:
    """Bar charts of every question, respondents; with ``detail`` (owner and hosts) who
    chose what and the written answers, as far as the survey stores them."""
    questions = await load_questions(session, survey.id)
    total = await respondent_count(session, survey.id)
    counts = await option_counts(session, survey)
    title = t.gettext(N_("Results of {survey}: {title}")).format(
        survey=survey.ref, title=survey.title
    )
    parts: list[Part] = [Bold(text="📊 " + title)]
    if survey.status != "open":
        parts.append(Text(text=" — " + t.gettext(N_("closed"))))
    names = await respondent_names(session, survey.id) if detail and not survey.anonymous else {}
    for question in questions:
        if survey.kind == "form":
            parts.append(Text(text="\n"))
            parts.append(Bold(text=f"{question.row.position + 1}. {question.row.text}"))
        lines = await question_chart(session, survey, question, counts, total, t)
        parts.extend(chart_parts(lines))
        if not detail:
            continue
        if question.row.kind == "text":
            answers = await text_answers(session, survey, question.row.id)
            shown = answers[:20]
            for person_id, text in shown:
                who = ""
                if person_id is not None:
                    who = names.get(person_id, "?") + ": "
                parts.append(Text(text=f"\n  • {who}{continued(short(text, 300))}"))
            if len(answers) > len(shown):
                parts.append(
                    Text(
                        text="\n  "
                        + t.gettext(N_("… and {n} more (see /survey export)")).format(
                            n=len(answers) - len(shown)
                        )
                    )
                )
        elif not survey.anonymous:
            chosen_by = await voters(session, question)
            for option in question.options:
                people = [names.get(p, "?") for p in chosen_by.get(option.id, [])]
                if people:
                    parts.append(Text(text=f"\n  {short(option.label, 32)}: " + ", ".join(people)))
    parts.append(Text(text="\n" + respondents_line(t, total)))
    if detail and survey.anonymous:
        parts.append(Text(text="\n"))
        parts.append(
            Italic(
                text=t.gettext(
                    N_("Anonymous survey: who chose what is not stored, so nobody can see it.")
                )
            )
        )
    return parts


async def render_result(
    session: AsyncSession, bridge: Bridge, ident: str, locale: str
) -> Message | None:
    """The results posted to every linked channel when a survey closes."""
    survey = await session.get(Survey, int(ident))
    if survey is None:
        return None
    return Message(parts=tuple(await results_parts(session, survey, translator(locale))))
