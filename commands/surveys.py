"""``/survey``: polls and multi-question surveys shown in every linked channel, counted once
per person across platforms; buttons to answer, private-chat questions, closing, export.

Declarations only: the use cases live in ``bridge/services/surveys.py``.
"""

from __future__ import annotations

from bridge import exports
from bridge.cards import surveys as cards
from bridge.context import ActionContext, Context
from bridge.i18n import N_
from bridge.registry import (
    Param,
    action,
    command,
    deadline,
    group_content,
    http_route,
    merge_hook,
    renderer,
    subcommand,
    text_handler,
)
from bridge.services import surveys as svc

http_route(exports.mount)  # GET /exports/{token}.csv: one-time links to exports
renderer("survey")(cards.render_card)


renderer("survey-result")(cards.render_result)


merge_hook(svc.merge_person)
group_content(N_("surveys"), svc.count_in_group, svc.delete_in_group)


SURVEY_PARAM = Param("survey", N_("the survey, e.g. S-3"))


deadline(svc.CLOSE_DEADLINE)(svc.close_due)
deadline(svc.REDRAW_DEADLINE)(svc.redraw_due)


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
    await svc.survey_new(ctx, question, options, anonymous, multi, closes)


@subcommand(
    "survey",
    "close",
    who="member",
    help=N_("Close a survey now; its results are posted in every linked channel (owner or hosts)."),
    params=[SURVEY_PARAM],
)
async def survey_close(ctx: Context, survey: str) -> None:
    await svc.survey_close(ctx, survey)


@subcommand(
    "survey",
    "results",
    who="member",
    help=N_("Show a survey's results so far (owner or hosts)."),
    params=[SURVEY_PARAM],
)
async def survey_results(ctx: Context, survey: str) -> None:
    await svc.survey_results(ctx, survey)


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
    await svc.survey_export(ctx, survey)


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
    await svc.survey_hosts_only(ctx, group, setting)


@action("s.v")
async def press_option(ctx: ActionContext, survey_id: str, position: str) -> None:
    await svc.press_option(ctx, survey_id, position)


@action("s.pk")
async def press_pick(ctx: ActionContext, survey_id: str, mask: str) -> None:
    await svc.press_pick(ctx, survey_id, mask)


@action("s.ps")
async def press_submit(ctx: ActionContext, survey_id: str, mask: str) -> None:
    await svc.press_submit(ctx, survey_id, mask)


@action("s.go")
async def press_take_part(ctx: ActionContext, survey_id: str) -> None:
    await svc.press_take_part(ctx, survey_id)


@action("s.a")
async def press_answer(ctx: ActionContext, survey_id: str, step: str, position: str) -> None:
    await svc.press_answer(ctx, survey_id, step, position)


text_handler(svc.answer_in_private)


@subcommand(
    "survey",
    "reopen",
    who="member",
    help=N_("Open a closed survey again (owner or hosts)."),
    params=[SURVEY_PARAM],
)
async def survey_reopen(ctx: Context, survey: str) -> None:
    await svc.survey_reopen(ctx, survey)


@command("surveys", who="member", help=N_("The open surveys you can answer here."))
async def surveys(ctx: Context) -> None:
    await svc.surveys_open(ctx)
