"""``/status`` and ``/promote``: hosts move ideas through their lifecycle and into the showcase."""

from __future__ import annotations

from bridge.context import Context
from bridge.errors import Denied, UserError
from bridge.i18n import N_, translator
from bridge.messages import Bold, Code, Message, Part, Text, fmt
from bridge.models import Group
from bridge.models.ideas import Idea
from bridge.registry import Param, command
from bridge.services import groups as groups_svc
from bridge.services import ideas as svc
from bridge.services import identity, roles
from commands.ideas import IDEA_PARAM, find_idea, status_label


async def _require_host_of(ctx: Context, item: Idea, group: Group) -> None:
    if not await ctx.is_host_of(group.id):
        raise Denied(
            N_("Only hosts of the group {group} may change {idea}."),
            group=group.slug,
            idea=item.ref,
        )


@command(
    "status",
    who="host",
    help=N_(
        "Move an idea: new, review, shortlisted, project, done or rejected. Its proposer "
        "and supporters are told."
    ),
    params=[
        IDEA_PARAM,
        Param("status", N_("the new status"), kind="choice", choices=svc.STATUSES),
        Param(
            "reason", N_("why (shown on the card and to supporters)"), kind="text", required=False
        ),
    ],
)
async def status(ctx: Context, idea: str, status: str, reason: str | None) -> None:
    item, group = await find_idea(ctx, idea)
    await _require_host_of(ctx, item, group)
    if item.status == status:
        raise UserError(
            N_("{idea} has the status {status} already; nothing changed."),
            idea=item.ref,
            status=status_label(ctx.t, status),
        )
    before = item.status
    item.status = status
    item.status_reason = (reason or "").strip() or None
    item.updated_at = ctx.now
    project: Group | None = None
    if status == "project":
        project = await _project_group(ctx, item)
    await ctx.session.flush()
    await ctx.audit("idea.status", item.ref, before=before, after=status, reason=item.status_reason)
    told = await _notify(ctx, item, group, project)
    await svc.refresh_idea(ctx.session, ctx.bridge, item)
    parts: list[Part] = ctx.fmt(
        N_("{idea} now has the status {status}."),
        idea=Code(text=item.ref),
        status=Bold(text=status_label(ctx.t, status)),
    )
    parts.append(
        Text(
            text=" "
            + ctx.ngettext(
                "I told {n} person about it.", "I told {n} people about it.", told
            ).format(n=told)
        )
    )
    if project is not None:
        parts.append(Text(text="\n"))
        parts.extend(
            ctx.fmt(
                N_(
                    "The project group {group} is ready, with the proposer and supporters as "
                    "members. An admin can link a channel to it with {command}."
                ),
                group=Bold(text=project.slug),
                command=Code(text=f"/link {project.slug}"),
            )
        )
    ctx.reply(*parts)


async def _project_group(ctx: Context, item: Idea) -> Group:
    """The idea's project group (created once, closed), with proposer and supporters in it."""
    group = await ctx.session.get(Group, item.project_group_id) if item.project_group_id else None
    if group is None:
        taken = await svc.taken_slugs(ctx.session, ctx.community.id)
        slug = svc.project_slug(item.title, item.number, taken)
        group = await groups_svc.create_group(
            ctx.session, ctx.community.id, slug, "closed", ctx.now, ctx.person_id
        )
        group.name = item.title
        item.project_group_id = group.id
        await ctx.session.flush()
        await ctx.audit("group.create", group.slug, visibility="closed", project_of=item.ref)
    members = {item.proposer_id, *await svc.supporters(ctx.session, item.id)}
    for person_id in sorted(members):
        await roles.grant(ctx.session, person_id, "member", group.id, ctx.person_id, ctx.now)
    return group


async def _notify(ctx: Context, item: Idea, group: Group, project: Group | None) -> int:
    """Tell the proposer and every supporter once (not the host who made the change)."""
    recipients = {item.proposer_id, *await svc.supporters(ctx.session, item.id)}
    recipients.discard(ctx.person_id)
    channels = await groups_svc.linked_channels(ctx.session, group.id)
    fallback_channel = channels[0].key if channels else None
    here = translator(ctx.bridge.default_locale)
    for person_id in sorted(recipients):
        t = translator(await svc.person_locale(ctx.session, ctx.bridge, person_id))
        status = Bold(text=status_label(t, item.status))
        if person_id == item.proposer_id:
            msgid = N_("Your idea {idea} “{title}” has a new status: {status}.")
        else:
            msgid = N_("The idea {idea} “{title}” that you support has a new status: {status}.")
        parts = fmt(t.gettext(msgid), idea=Code(text=item.ref), title=item.title, status=status)
        if item.status_reason:
            parts.extend(fmt("\n" + t.gettext(N_("Reason: {reason}")), reason=item.status_reason))
        if project is not None:
            parts.extend(
                fmt(
                    "\n" + t.gettext(N_("You are a member of its project group {group}.")),
                    group=Bold(text=project.slug),
                )
            )
        who = await identity.person_mention(ctx.session, person_id)
        fallback = Message(
            parts=tuple(
                fmt(
                    here.gettext(N_("{who}: {idea} has a new status: {status}.")),
                    who=who,
                    idea=Code(text=item.ref),
                    status=status_label(here, item.status),
                )
            )
        )
        await ctx.bridge.outbox.notify(
            ctx.session,
            person_id,
            Message(parts=tuple(parts)),
            fallback_channel=fallback_channel,
            fallback_message=fallback,
        )
    return len(recipients)


@command(
    "promote",
    who="host",
    help=N_("Show an idea in the community's showcase group."),
    params=[IDEA_PARAM],
)
async def promote(ctx: Context, idea: str) -> None:
    item, group = await find_idea(ctx, idea)
    await _require_host_of(ctx, item, group)
    if group.visibility == "closed":
        raise UserError(
            N_("{idea} belongs to the closed group {group}; its ideas never leave that group."),
            idea=item.ref,
            group=group.slug,
        )
    showcase = await groups_svc.showcase_group(ctx.session, ctx.community.id)
    if showcase is None:
        raise UserError(
            N_(
                "There is no showcase group yet. An admin can make one with "
                "/group set <name> showcase."
            )
        )
    if showcase.id == group.id:
        raise UserError(
            N_("{idea} is an idea of the showcase group {group} already."),
            idea=item.ref,
            group=showcase.slug,
        )
    if item.showcase_group_id == showcase.id:
        raise UserError(
            N_("{idea} is in the showcase {group} already."), idea=item.ref, group=showcase.slug
        )
    item.showcase_group_id = showcase.id
    item.promoted_at = ctx.now
    item.updated_at = ctx.now
    await ctx.session.flush()
    keys = await ctx.bridge.outbox.post_to_group(
        ctx.session, showcase.id, ref_key=svc.showcase_ref(item)
    )
    await ctx.audit("idea.promote", item.ref, showcase=showcase.slug)
    parts = ctx.fmt(
        N_("{idea} is now shown in the showcase {group}."),
        idea=Code(text=item.ref),
        group=Bold(text=showcase.slug),
    )
    if not keys:
        parts.append(Text(text=" "))
        parts.extend(
            ctx.fmt(
                N_("It has no linked channel yet; an admin can add one with {command}."),
                command=Code(text=f"/link {showcase.slug}"),
            )
        )
    ctx.reply(*parts)
