"""``/survey``: polls and multi-question surveys shown in every linked channel, counted once
per person across platforms; buttons to answer, private-chat questions, closing, export."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.context import ActionContext, Context
from bridge.core import Bridge
from bridge.errors import Denied, NotFound, UserError
from bridge.exports import export_url  # importing it mounts GET /exports/{token}.csv
from bridge.i18n import N_
from bridge.messages import Bold, Button, Code, FileAttachment, Part, Text
from bridge.models import Group
from bridge.models.surveys import Survey, SurveyRespondent
from bridge.registry import (
    Param,
    action,
    deadline,
    merge_hook,
    renderer,
    subcommand,
    text_handler,
)
from bridge.services import groups as groups_svc
from bridge.services import identity
from bridge.services import surveys as svc

renderer("survey")(svc.render_card)
renderer("survey-result")(svc.render_result)
merge_hook(svc.merge_person)

STOP_WORDS = ("stop", "stopp", "pause", "/stop")
SURVEY_PARAM = Param("survey", N_("the survey, e.g. S-3"))


@deadline(svc.CLOSE_DEADLINE)
async def close_due(session: AsyncSession, bridge: Bridge, ref: str) -> None:
    await svc.close_survey(session, bridge, int(ref))


# ---------------------------------------------------------------------------- commands


@subcommand(
    "survey",
    "new",
    who="member",
    parent_help=N_("Polls and surveys in a group: one result across all platforms."),
    help=N_(
        "Start a survey in this channel's group: every linked channel shows it with "
        "one button per option."
    ),
    params=[
        Param("question", N_("the question, in quotes"), metavar="question", quoted=True),
        Param("options", N_("2 to 10 options, each in quotes"), kind="words", metavar="option"),
        Param("anonymous", N_("nobody can see who chose what"), kind="flag", required=False),
        Param("multi", N_("several options may be chosen"), kind="flag", required=False),
        Param(
            "closes",
            N_("close after this time, e.g. 2h or 3d"),
            kind="option",
            required=False,
            metavar="duration",
        ),
    ],
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
    title = svc.check_title(question)
    labels = svc.check_options(options)
    duration = svc.check_duration(closes) if closes else None
    spec = svc.SurveySpec(
        title=title,
        questions=[
            svc.QuestionSpec(kind="multi" if multi else "single", text=title, options=labels)
        ],
        anonymous=anonymous,
        closes=duration,
    )
    survey = await svc.create_survey(
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
                when=svc.when(survey.closes_at),
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
    survey = await svc.get_survey(ctx.session, ctx.community.id, text)
    group = await ctx.session.get(Group, survey.group_id)
    here = ctx.group.id if ctx.group is not None else None
    if group is None or not await groups_svc.may_show(
        ctx.session, group, ctx.person_id, here, ctx.is_dm, ctx.is_admin
    ):
        raise NotFound(N_("There is no survey S-{number}."), number=survey.number)
    if survey.owner_id == ctx.person_id:
        return survey
    if await svc.is_host_of_group(ctx.session, ctx.bridge, ctx.person_id, survey.group_id):
        return survey
    raise Denied(
        N_("Only the owner of {survey} or a host of its group may do that."), survey=survey.ref
    )


@subcommand(
    "survey",
    "close",
    who="member",
    help=N_("Close a survey now; its results are posted in every linked channel (owner or hosts)."),
    params=[SURVEY_PARAM],
)
async def survey_close(ctx: Context, survey: str) -> None:
    found = await _owned(ctx, survey)
    if not await svc.close_survey(ctx.session, ctx.bridge, found.id):
        raise UserError(N_("{survey} is closed already."), survey=found.ref)
    await ctx.audit("survey.close", found.ref)
    ctx.reply(
        *ctx.fmt(
            N_("Closed {survey}. The results are posted in every linked channel."),
            survey=Code(text=found.ref),
        )
    )


@subcommand(
    "survey",
    "results",
    who="member",
    help=N_("Show a survey's results so far (owner or hosts)."),
    params=[SURVEY_PARAM],
)
async def survey_results(ctx: Context, survey: str) -> None:
    found = await _owned(ctx, survey)
    ctx.reply(*await svc.results_parts(ctx.session, found, ctx.t, detail=True), private=True)


@subcommand(
    "survey",
    "export",
    who="member",
    help=N_(
        "Get a survey's answers as a CSV file; anonymous surveys give counts only (owner or hosts)."
    ),
    params=[SURVEY_PARAM],
)
async def survey_export(ctx: Context, survey: str) -> None:
    found = await _owned(ctx, survey)
    content = await svc.export_csv(ctx.session, found, ctx.t)
    token = await svc.store_export(ctx.session, found, ctx.person_id, content, ctx.now)
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


@subcommand(
    "survey",
    "hosts-only",
    who="admin",
    help=N_("Let only hosts start surveys in a group (on), or every member (off)."),
    params=[
        Param("group", N_("the group's name")),
        Param("setting", N_("on or off"), kind="choice", choices=("on", "off")),
    ],
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


# ---------------------------------------------------------------------------- buttons


async def _open_survey(ctx: Context, survey_id: str) -> Survey:
    """The survey of a button, locked against closing; a clear message if it is closed."""
    if not survey_id.isdigit():
        raise UserError(N_("This button has expired."))
    survey = await svc.survey_for_update(ctx.session, int(survey_id))
    if survey is None:
        raise UserError(N_("This survey no longer exists."))
    if not svc.is_open(survey, ctx.now):
        raise UserError(N_("{survey} is closed; your answer was not recorded."), survey=survey.ref)
    return survey


def _index(value: str, size: int) -> int:
    if not value.isdigit() or int(value) >= size:
        raise UserError(N_("This button has expired."))
    return int(value)


@action("s.v")
async def press_option(ctx: ActionContext, survey_id: str, position: str) -> None:
    survey = await _open_survey(ctx, survey_id)
    questions = await svc.load_questions(ctx.session, survey.id)
    if survey.kind != "poll":
        raise UserError(N_("This button has expired."))
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
            )
        )
        return
    resp, _created = await svc.lock_respondent(ctx.session, survey, ctx.person_id, ctx.now)
    current = await svc.current_choices(ctx.session, question.row.id, ctx.person_id)
    if question.row.kind == "single":
        if current == {option.id}:
            ctx.reply(*ctx.fmt(N_("You chose {option} already; nothing changed."), option=label))
            return
        before = [o.label for o in question.options if o.id in current]
        await svc.replace_choices(
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
        await svc.replace_choices(
            ctx.session, survey, question.row.id, ctx.person_id, chosen, ctx.now
        )
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
    await ctx.bridge.outbox.refresh(ctx.session, svc.card_ref(survey.id))


async def _answer_anonymously(ctx: Context, survey: Survey, option_ids: list[int]) -> None:
    """Count an anonymous answer: once per person, no link from the person to the choice."""
    resp, _created = await svc.lock_respondent(ctx.session, survey, ctx.person_id, ctx.now)
    if resp.answered:
        raise UserError(
            N_(
                "You have answered {survey} already. Its answers are anonymous, "
                "so they cannot be changed."
            ),
            survey=survey.ref,
        )
    resp.answered = True
    await svc.add_to_tallies(ctx.session, option_ids)
    await ctx.bridge.outbox.refresh(ctx.session, svc.card_ref(survey.id))


async def _show_picker(ctx: Context, survey: Survey, question: svc.Question, mask: int) -> None:
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
            label=("☑ " if mask >> o.position & 1 else "☐ ") + svc.short(o.label, 40),
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


async def _anonymous_multi(ctx: Context, survey_id: str) -> tuple[Survey, svc.Question]:
    survey = await _open_survey(ctx, survey_id)
    questions = await svc.load_questions(ctx.session, survey.id)
    if survey.kind != "poll" or not survey.anonymous or questions[0].row.kind != "multi":
        raise UserError(N_("This button has expired."))
    return survey, questions[0]


def _mask(value: str, size: int) -> int:
    if not value.isdigit() or int(value) >= 1 << size:
        raise UserError(N_("This button has expired."))
    return int(value)


@action("s.pk")
async def press_pick(ctx: ActionContext, survey_id: str, mask: str) -> None:
    survey, question = await _anonymous_multi(ctx, survey_id)
    await _show_picker(ctx, survey, question, _mask(mask, len(question.options)))


@action("s.ps")
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


@action("s.go")
async def press_take_part(ctx: ActionContext, survey_id: str) -> None:
    survey = await _open_survey(ctx, survey_id)
    if survey.kind != "form":
        raise UserError(N_("This button has expired."))
    questions = await svc.load_questions(ctx.session, survey.id)
    resp, _created = await svc.lock_respondent(ctx.session, survey, ctx.person_id, ctx.now)
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
    await ctx.session.execute(
        update(SurveyRespondent)
        .where(
            SurveyRespondent.person_id == ctx.person_id,
            SurveyRespondent.survey_id != survey.id,
            SurveyRespondent.active.is_(True),
        )
        .values(active=False)
    )
    resp.active = True
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
    message = svc.question_message(ctx.t, survey, questions, resp.step, intro)
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


@action("s.a")
async def press_answer(ctx: ActionContext, survey_id: str, step: str, position: str) -> None:
    survey = await _open_survey(ctx, survey_id)
    questions = await svc.load_questions(ctx.session, survey.id)
    resp = await _respondent(ctx, survey)
    if resp is None or not step.isdigit() or resp.step != int(step) or resp.step >= len(questions):
        raise UserError(N_("You have answered this question already."))
    question = questions[resp.step]
    if question.row.kind != "single":
        raise UserError(N_("This button has expired."))
    resp.active = True
    await ctx.session.execute(
        update(SurveyRespondent)
        .where(
            SurveyRespondent.person_id == ctx.person_id,
            SurveyRespondent.survey_id != survey.id,
            SurveyRespondent.active.is_(True),
        )
        .values(active=False)
    )
    await _answer(ctx, survey, resp, questions, [_index(position, len(question.options))], "")


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
    questions: list[svc.Question],
    picks: list[int],
    text: str,
) -> None:
    """Store the answer to the current question and ask the next one (or say thanks)."""
    question = questions[resp.step]
    if question.row.kind == "text":
        await svc.record_text(ctx.session, survey, question.row.id, ctx.person_id, text, ctx.now)
        noted: list[Part] = [Text(text="✓ " + ctx._("Noted."))]
    else:
        option_ids = [question.options[p].id for p in picks]
        if survey.anonymous:
            await svc.add_to_tallies(ctx.session, option_ids)
        else:
            await svc.replace_choices(
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
    await ctx.bridge.outbox.refresh(ctx.session, svc.card_ref(survey.id))
    if resp.step < len(questions):
        message = svc.question_message(
            ctx.t, survey, questions, resp.step, [*noted, Text(text="\n\n")]
        )
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


# ---------------------------------------------------------------------------- private chat


@text_handler
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
    survey = await svc.survey_for_update(ctx.session, survey_id)
    resp = await _respondent(ctx, survey) if survey is not None else None
    if survey is None or resp is None or not resp.active:
        return False
    questions = await svc.load_questions(ctx.session, survey.id)
    ref = Code(text=survey.ref)
    if not svc.is_open(survey, ctx.now) or resp.step >= len(questions):
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
        if len(answer) > svc.MAX_TEXT_ANSWER:
            raise UserError(
                N_("Please keep your answer under {max} characters."), max=svc.MAX_TEXT_ANSWER
            )
    else:
        found = svc.parse_choice(answer, question)
        if found is None:
            n = len(question.options)
            if question.row.kind == "single":
                raise UserError(N_("Please answer with one number from 1 to {n}."), n=n)
            raise UserError(N_("Please answer with numbers from 1 to {n}, for example 1, 3."), n=n)
        picks = found
    await _answer(ctx, survey, resp, questions, picks, answer)
    return True
