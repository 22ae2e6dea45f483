"""What a command or button handler gets: who, where, in which group, a session in one
transaction, translations for the person, and ways to reply and to reach others."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bridge.errors import UserError
from bridge.i18n import N_, Translator
from bridge.messages import Button, Mention, Message, Part, Text, fmt
from bridge.services import audit, groups, identity, roles

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bridge.core import Bridge
    from bridge.models import Account, Channel, ChannelLink, Community, Group

__all__ = ["ActionContext", "Context"]


@dataclass
class Context:
    bridge: Bridge
    session: AsyncSession
    community: Community
    account: Account
    channel: Channel | None
    link: ChannelLink | None
    t: Translator
    rank: int
    command: str = ""
    replies: list[Message] = field(default_factory=list)
    channel_key: str = ""
    is_dm: bool = False

    # ---- who and where
    @property
    def person_id(self) -> int:
        return self.account.person_id

    @property
    def group(self) -> Group | None:
        return self.link.group if self.link is not None and self.link.active else None

    @property
    def now(self) -> datetime:
        return self.bridge.clock.now()

    @property
    def locale(self) -> str:
        return self.t.locale

    @property
    def is_admin(self) -> bool:
        return self.rank >= roles.RANK["admin"]

    @property
    def is_host(self) -> bool:
        """Host of this channel's group or of the community (admins included)."""
        return self.rank >= roles.RANK["host"]

    async def is_host_of(self, group_id: int | None) -> bool:
        """Host of that group or of the community (admins included)."""
        return await roles.is_host(
            self.session, self.person_id, group_id, self.bridge.config.community.admins
        )

    async def resolve_account(self, text: str) -> Account:
        """The account a command names: ``platform:user_id``, a mention as any installed
        platform writes it, or ``@name`` of someone seen on this platform."""
        return await identity.resolve_account(
            self.session,
            self.community.id,
            self.account.platform,
            text,
            self.now,
            lambda mention: self.bridge.parse_mention(mention, self.account.platform),
        )

    async def showable_group_ids(self) -> set[int]:
        """The groups whose content may be shown here, to this person (the one rule)."""
        return await groups.showable_group_ids(
            self.session,
            self.community.id,
            self.person_id,
            self.group.id if self.group else None,
            self.is_dm,
            self.is_admin,
        )

    def require_group(self) -> Group:
        group = self.group
        if group is None:
            raise UserError(
                N_(
                    "This channel is not linked to a group. An admin can link it with "
                    "/link <group>."
                )
            )
        return group

    # ---- translation and text
    def _(self, message: str) -> str:
        return self.t.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.t.ngettext(singular, plural, n)

    def fmt(self, template: str, **values: Any) -> list[Part]:
        """Translate ``template`` and fill in values as safe parts."""
        return fmt(self.t.gettext(template), **values)

    def me(self) -> Mention:
        return Mention(
            text=self.account.display_name or self.account.user_id,
            accounts={self.account.platform: self.account.user_id},
        )

    # ---- replying
    def reply(
        self,
        *content: Part | str | list[Part],
        buttons: tuple[Button, ...] | list[Button] = (),
        ephemeral: bool = True,
        file: Any = None,
        form: Any = None,
        private: bool = False,
    ) -> Message:
        """Answer the person who acted (ephemeral by default: only they see it).

        ``private``: the content must never be shown where others see it, even when the
        platform cannot reach the person privately yet (it then waits for them)."""
        parts: list[Part] = []
        for item in content:
            if isinstance(item, str):
                parts.append(Text(text=item))
            elif isinstance(item, list):
                parts.extend(item)
            else:
                parts.append(item)
        message = Message(
            parts=tuple(parts),
            buttons=tuple(buttons),
            ephemeral=ephemeral or private,
            file=file,
            form=form,
            private=private,
        )
        self.replies.append(message)
        return message

    def say(
        self, *content: Part | str | list[Part], buttons: tuple[Button, ...] | list[Button] = ()
    ) -> Message:
        """Answer in the channel, for everybody there."""
        return self.reply(*content, buttons=buttons, ephemeral=False)

    async def audit(self, action: str, target: str, **details: Any) -> None:
        await audit.record(
            self.session, self.community.id, self.person_id, action, target, self.now, **details
        )


@dataclass
class ActionContext(Context):
    """A button press: the same as a command, plus the pressed message's id."""

    message_id: str | None = None
