"""``/connect``: join this chat account to the same person's account on another platform."""

from __future__ import annotations

from bridge.context import Context
from bridge.i18n import N_
from bridge.messages import Code
from bridge.registry import Param, command
from bridge.services import identity


@command(
    "connect",
    who="all",
    help=N_("Join your accounts on several platforms, so you count as one person."),
    params=[
        Param("code", N_("the code you got from /connect on your other account"), required=False)
    ],
)
async def connect(ctx: Context, code: str | None) -> None:
    if not code:
        new_code = await identity.create_connect_code(ctx.session, ctx.account, ctx.now)
        ctx.reply(
            *ctx.fmt(
                N_(
                    "Your code is {code}. Within 15 minutes, send {command} from your account on "
                    "the other platform. Keep it to yourself: whoever uses it joins your accounts."
                ),
                code=Code(text=new_code),
                command=Code(text=f"/connect {new_code}"),
            ),
            private=True,
        )
        return
    _person, origin = await identity.redeem_connect_code(ctx.session, ctx.account, code, ctx.now)
    await ctx.audit("account.connect", ctx.account.key, joined_to=origin.key)
    ctx.reply(
        *ctx.fmt(
            N_(
                "Done: this account ({here}) and {there} are now one person. Your votes and "
                "answers count once, wherever you use them."
            ),
            here=ctx.account.key,
            there=origin.key,
        )
    )
