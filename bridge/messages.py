"""The platform-neutral message model: what comes in from chat and what goes out to it.

Outgoing text is a list of *parts*. Every part carries plain user-safe text; only the
adapter decides how a part looks on its platform (Block Kit mrkdwn, Telegram HTML, Discord
markdown), and it escapes the text of every part, so user text is never markup.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AccountRef",
    "ActionPress",
    "Author",
    "Bold",
    "Button",
    "ChannelRef",
    "ChatPost",
    "Code",
    "FileAttachment",
    "FormRequest",
    "Invocation",
    "Italic",
    "Link",
    "Mention",
    "Mentioned",
    "Message",
    "Part",
    "Text",
    "authored",
    "fmt",
    "plain_text",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Text(_Frozen):
    """Plain text, shown exactly as written."""

    kind: Literal["text"] = "text"
    text: str


class Bold(_Frozen):
    kind: Literal["bold"] = "bold"
    text: str


class Italic(_Frozen):
    kind: Literal["italic"] = "italic"
    text: str


class Code(_Frozen):
    """Inline monospace, for ids and commands (``I-12``, ``/vote``)."""

    kind: Literal["code"] = "code"
    text: str


class Link(_Frozen):
    kind: Literal["link"] = "link"
    url: str
    text: str


class Mention(_Frozen):
    """A person: a native mention where the person has an account on the platform, else a name.

    ``accounts`` maps platform to user id (``{"slack": "U1", "telegram": "42"}``).
    """

    kind: Literal["mention"] = "mention"
    text: str
    accounts: dict[str, str] = Field(default_factory=dict)


Part = Annotated[Text | Bold | Italic | Code | Link | Mention, Field(discriminator="kind")]


class Button(_Frozen):
    """A button: ``action`` names a registered action, ``args`` its arguments (ids)."""

    label: str
    action: str
    args: tuple[str, ...] = ()
    style: Literal["default", "primary", "danger"] = "default"


class FileAttachment(_Frozen):
    name: str
    content: bytes
    mime: str = "text/plain"
    fallback_url: str | None = None


class FormRequest(_Frozen):
    """Ask for a command's arguments in a form (Slack/Discord modal) where the platform can.

    ``command`` (and ``subcommand``) name a registered command; its params become the
    fields, ``prefill`` fixes some of them (``{"idea": "I-3"}``). On submit the adapter
    hands the values to ``port.handle`` as ``Invocation.options`` (typed, not parsed).
    Platforms without forms show the message's text, which must say what to type instead.
    """

    command: str
    subcommand: str | None = None
    title: str = ""
    prefill: dict[str, str] = Field(default_factory=dict)
    initial: dict[str, str] = Field(default_factory=dict)
    """Values the fields start with (the current profile); the person may change them."""
    fields: tuple[str, ...] = ()
    """The parameters shown, in this order; empty: every one not prefilled."""


class ChannelRef(_Frozen):
    """A place to talk: a channel, a chat, a forum topic or thread, or a person's DM.

    ``chat`` is the platform's channel/chat id; ``thread`` the topic/thread id inside it.
    For a direct message ``dm`` is true and ``chat`` is the platform user id.
    """

    platform: str
    chat: str
    thread: str = ""
    dm: bool = False

    @property
    def key(self) -> str:
        base = f"{self.platform}:{'@' if self.dm else ''}{self.chat}"
        return f"{base}/{self.thread}" if self.thread else base

    @classmethod
    def from_key(cls, key: str) -> ChannelRef:
        platform, _, rest = key.partition(":")
        dm = rest.startswith("@")
        rest = rest[1:] if dm else rest
        chat, _, thread = rest.partition("/")
        return cls(platform=platform, chat=chat, thread=thread, dm=dm)


class Author(_Frozen):
    """Who wrote a relayed message, on which platform: adapters show it natively (Slack's
    ``username``, a name in bold elsewhere), never as something a member could type."""

    name: str
    platform: str
    avatar_url: str | None = None


class Message(_Frozen):
    """One outgoing message.

    ``ephemeral`` replies are seen only by the person who issued the command. Where the
    platform has no such replies (Telegram groups) the adapter sends them privately; when
    the private send is refused, an ordinary ephemeral reply (a confirmation, a refusal)
    is shown as a reply where they asked. A ``private`` reply (survey results with who
    chose what, exports, ``/connect`` codes, host queues) never is: the person gets only a
    hint there, and the reply waits for them in the outbox until they open the chat.
    ``reply_to`` is the platform message id to thread under (set by delivery).
    ``dm_invite`` marks the short mention that stands in for a private message the person
    cannot get yet (``Outbox.notify``): the adapter adds how to open a private chat with the
    bot (Telegram: a ``t.me/<bot>?start=`` deep link); others may ignore it.
    """

    parts: tuple[Part, ...] = ()
    buttons: tuple[Button, ...] = ()
    ephemeral: bool = False
    private: bool = False
    file: FileAttachment | None = None
    reply_to: str | None = None
    form: FormRequest | None = None
    delivery_id: str | None = None
    """Set by the outbox: the same for every attempt at one row, so a platform that can
    recognise a repeated send (Discord's enforced nonce) keeps one message."""
    resend: bool = False
    """Set by the outbox when an earlier attempt at the row may have reached the platform
    (its worker died after sending, before recording it): an adapter whose platform takes
    no idempotency key looks for the first copy before posting again."""
    dm_invite: bool = False
    author: Author | None = None
    """A relayed message's author (``bridge.services.relay``)."""

    @property
    def text(self) -> str:
        return plain_text(self.parts)


def plain_text(parts: Sequence[Part]) -> str:
    """The text of parts without any formatting (console, notifications, tests)."""
    out = []
    for part in parts:
        if isinstance(part, Link):
            out.append(part.text if part.text == part.url else f"{part.text} <{part.url}>")
        elif isinstance(part, Mention):
            out.append(f"@{part.text}")
        else:
            out.append(part.text)
    return "".join(out)


_FIELD = re.compile(r"\{(\w+)\}")


def fmt(template: str, **values: Any) -> list[Part]:
    """Fill a (translated) template with values, keeping them as separate parts.

    ``fmt(_("{who} proposed {title}"), who=Mention(...), title=Bold(text=title))``.
    Strings become Text parts, so user text never turns into markup; ``{{``/``}}`` escape.
    """
    parts: list[Part] = []
    for literal, name, spec, _conv in string.Formatter().parse(template):
        if literal:
            parts.append(Text(text=literal))
        if name is None:
            continue
        value = values[name]
        if isinstance(value, Text | Bold | Italic | Code | Link | Mention):
            parts.append(value)
        else:
            parts.append(Text(text=format(value, spec or "")))
    return _merge(parts)


def _merge(parts: list[Part]) -> list[Part]:
    merged: list[Part] = []
    for part in parts:
        if merged and isinstance(part, Text) and isinstance(merged[-1], Text):
            merged[-1] = Text(text=merged[-1].text + part.text)
        else:
            merged.append(part)
    return merged


class AccountRef(_Frozen):
    """Who acts, as the platform names them."""

    platform: str
    user_id: str
    display_name: str = ""
    locale: str | None = None
    #: their picture, where the platform gives a public https URL (the relay shows it)
    avatar_url: str | None = None

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.user_id}"


@dataclass
class Invocation:
    """An incoming chat command, as every adapter hands it to the core.

    ``event_id`` is the platform's id of the event (update id, interaction id, trigger id);
    the core processes one event id once, so platform retries change nothing.
    """

    channel: ChannelRef
    account: AccountRef
    command: str
    args: str = ""
    event_id: str | None = None
    channel_name: str | None = None
    options: dict[str, Any] | None = None
    """Typed values (a form's fields, Discord's options) for the command's parameters;
    ``args`` then names only the subcommand. They are bound as typed, never parsed."""

    @property
    def platform(self) -> str:
        return self.channel.platform


@dataclass
class ActionPress:
    """A pressed button: the adapter decoded the compact action token into action and args."""

    channel: ChannelRef
    account: AccountRef
    token: str
    message_id: str | None = None
    event_id: str | None = None
    channel_name: str | None = None


class Mentioned(_Frozen):
    """A person a relayed message mentions: the ``fragment`` as it stands in the text
    (``<@U123>``, ``@ann``), their user id and name on the message's platform."""

    fragment: str
    user_id: str
    name: str = ""


class ChatPost(_Frozen):
    """A plain message a member wrote in a channel (for the relay): the platform's id of
    it, and of the message it replies to, if any; the persons it mentions."""

    channel: ChannelRef
    account: AccountRef
    message_id: str
    text: str
    reply_to: str | None = None
    event_id: str | None = None
    mentions: tuple[Mentioned, ...] = ()


#: what starts every further line of a person's text shown among the bot's lines
CONTINUED = "│ "


def continued(text: str) -> str:
    """A person's text as it may sit among the bot's own lines: every line they began
    with a newline starts with ``│ ``, so a typed newline never starts a line that looks
    like the bot's (a forged status line, or another author's relayed message)."""
    return text.replace("\n", "\n" + CONTINUED)


def authored(message: Message) -> Message:
    """A relayed message with its author in front, in bold, as adapters show it that have
    no native way (Telegram; Discord without a webhook). Escaped like any other part, so
    a name can neither ping nor format."""
    if message.author is None:
        return message
    head = (
        Bold(text=f"{message.author.name} ({message.author.platform})"),
        Text(text=": "),
    )
    return message.model_copy(update={"parts": (*head, *message.parts), "author": None})
