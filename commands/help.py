"""``/help``: the commands this person may use here, or one command's usage."""

from __future__ import annotations

from bridge.context import Context
from bridge.errors import NotFound
from bridge.i18n import N_
from bridge.registry import WHO_RANK, Param, command


@command(
    "help",
    who="all",
    help=N_("Show the commands you may use here, or how to use one command."),
    params=[Param("command", N_("a command to explain"), required=False)],
)
async def help_(ctx: Context, command: str | None) -> None:
    reg = ctx.bridge.registry
    if command:
        cmd = reg.commands.get(command.lower().lstrip("/"))
        if cmd is None:
            raise NotFound(
                N_("I don't know the command /{name}. Type /help for the commands you can use."),
                name=command.lstrip("/"),
            )
        lines = [f"/{cmd.name}: {ctx._(cmd.help)}", ctx._("Usage:")]
        for name, sub in cmd.subcommands.items():
            lines.append(f"  {cmd.usage(name)}  {ctx._(sub.help)}")
        if not cmd.subcommands:
            lines.append(f"  {cmd.usage()}")
            for p in cmd.params:
                if p.help:
                    lines.append(f"    {p.usage()}: {ctx._(p.help)}")
        ctx.reply("\n".join(lines))
        return
    lines = [ctx._("Commands you can use here:")]
    for cmd in reg.visible():
        if WHO_RANK[cmd.min_who] > ctx.rank:
            continue
        lines.append(f"/{cmd.name}: {ctx._(cmd.help)}")
    if ctx.group is None and not ctx.is_dm:
        lines.append("")
        lines.append(ctx._("This channel is not linked to a group yet."))
    lines.append(ctx._("Type /help <command> for details."))
    ctx.reply("\n".join(lines))
