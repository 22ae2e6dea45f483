"""The registries that features plug into: commands (grammar, permission, help), button
actions, renderers of tracked messages, deadline handlers and person-merge hooks.

A command module in ``commands/`` declares everything about a command once, right above
its function::

    @command("link", who="admin", help=N_("Link this channel to a group"),
             params=[Param("group", N_("name of the group"))])
    async def link(ctx: Context, group: str) -> None: ...

Every adapter reads the same declarations: Slack's manifest, Telegram's setMyCommands,
Discord's application commands with typed options, and ``/help``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from bridge.errors import UsageError
from bridge.i18n import N_
from bridge.sanitize import is_number

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bridge.core import Bridge
    from bridge.messages import Message

__all__ = [
    "Action",
    "Command",
    "Param",
    "Registry",
    "Subcommand",
    "action",
    "command",
    "deadline",
    "merge_hook",
    "registry",
    "renderer",
]

Who = Literal["all", "member", "host", "admin"]
ParamKind = Literal["word", "text", "choice", "flag", "option", "words", "int"]
WHO_RANK = {"all": 0, "member": 1, "host": 2, "admin": 3}


@dataclass(frozen=True)
class Param:
    """One argument of a command.

    - ``word``: one token (quotes allowed); ``int``: a whole number
    - ``text``: the rest of the line, verbatim
    - ``choice``: one of ``choices`` (optional ones may stand anywhere after the required)
    - ``flag``: the bare word ``name`` (true when present)
    - ``option``: the word ``name`` followed by a value (``closes 2h``)
    - ``words``: one or more tokens (quoted for spaces): survey options
    """

    name: str
    help: str = ""
    kind: ParamKind = "word"
    required: bool = True
    choices: tuple[str, ...] = ()
    metavar: str | None = None
    quoted: bool = False
    """Show the placeholder in quotes (``"<question>"``): a value of several words."""
    minimum: int = 1
    maximum: int = 10_000
    """The range of an ``int``; a number outside it is refused with the range."""
    shown: str | None = None
    """How usage writes it, where the default would mislead (``<title> [| description]``)."""
    multiline: bool = False
    """A long value of several lines in a form (a text param always is)."""

    @property
    def long(self) -> bool:
        return self.multiline or self.kind in ("text", "words")

    def usage(self) -> str:
        if self.shown is not None:
            return self.shown
        if self.kind == "flag":
            inner = self.name
        elif self.kind == "option":
            value = f"<{self.metavar or 'value'}>"
            inner = f'{self.name} "{value}"' if self.quoted else f"{self.name} {value}"
        elif self.kind == "choice":
            inner = "|".join(self.choices)
            if self.required:
                inner = f"<{inner}>" if len(self.choices) > 1 else inner
        elif self.kind == "words":
            inner = f'"<{self.metavar or self.name}>"...'
        else:
            inner = f"<{self.metavar or self.name}>"
            if self.quoted:
                inner = f'"{inner}"'
        return inner if self.required else f"[{inner}]"

    @property
    def positional(self) -> bool:
        return self.kind in ("word", "text", "words", "int") or (
            self.kind == "choice" and self.required
        )


@dataclass
class Subcommand:
    name: str
    help: str
    params: list[Param]
    handler: Callable[..., Awaitable[None]]
    who: Who = "member"
    in_group: bool = False


@dataclass
class Command:
    name: str
    help: str
    who: Who
    params: list[Param] = field(default_factory=list)
    handler: Callable[..., Awaitable[None]] | None = None
    subcommands: dict[str, Subcommand] = field(default_factory=dict)
    in_group: bool = False
    """True when the command needs a channel linked to a group."""

    def usage(self, sub: str | None = None) -> str:
        if sub and sub in self.subcommands:
            s = self.subcommands[sub]
            return " ".join([f"/{self.name} {s.name}", *(p.usage() for p in s.params)])
        if self.subcommands and self.handler is None:
            return f"/{self.name} " + "|".join(self.subcommands)
        return " ".join([f"/{self.name}", *(p.usage() for p in self.params)])

    def usages(self) -> list[str]:
        """Every form: the command's own (when it has a handler), then its subcommands'."""
        own = [self.usage()] if self.handler is not None else []
        return own + [self.usage(name) for name in self.subcommands]

    @property
    def min_who(self) -> Who:
        """The lowest role that may use some form of this command (for listing it)."""
        if not self.subcommands:
            return self.who
        return min((s.who for s in self.subcommands.values()), key=WHO_RANK.__getitem__)


ActionHandler = Callable[..., Awaitable[None]]
Renderer = Callable[["AsyncSession", "Bridge", str, str], Awaitable["Message | None"]]
DeadlineHandler = Callable[["AsyncSession", "Bridge", str], Awaitable[None]]
MergeHook = Callable[["AsyncSession", int, int], Awaitable[None]]


@dataclass(frozen=True)
class GroupContent:
    """What a feature keeps in a group: how much (``/group delete`` refuses a group that is
    not empty), and how to delete it all (``/group delete <name> force``)."""

    name: str
    count: Callable[[AsyncSession, int], Awaitable[int]]
    delete: Callable[[AsyncSession, int], Awaitable[None]]
    closed: Callable[[AsyncSession, Bridge, int], Awaitable[None]] | None = None
    """The group became closed: what of it is shown elsewhere must go now."""


@dataclass
class Action:
    name: str
    handler: ActionHandler
    who: Who = "all"


class Registry:
    """Everything commands/ declares, collected at import time."""

    def __init__(self) -> None:
        self.commands: dict[str, Command] = {}
        self.actions: dict[str, Action] = {}
        self.renderers: dict[str, Renderer] = {}
        self.deadlines: dict[str, DeadlineHandler] = {}
        self.merge_hooks: list[MergeHook] = []
        self.text_handlers: list[Callable[..., Awaitable[bool]]] = []
        self.http_routes: list[Callable[..., None]] = []
        self.group_content: list[GroupContent] = []
        self._loaded = False

    def load(self) -> Registry:
        """Import every installed command pack (entry points ``community_bridge.commands``);
        each registers itself."""
        if not self._loaded:
            from bridge.plugins import command_modules

            command_modules()
            self._loaded = True
        return self

    def visible(self) -> list[Command]:
        return sorted(self.commands.values(), key=lambda c: c.name)


registry = Registry()


def command(
    name: str,
    *,
    help: str,
    who: Who = "member",
    params: list[Param] | None = None,
    in_group: bool = False,
) -> Callable[[Callable[..., Awaitable[None]]], Callable[..., Awaitable[None]]]:
    """Declare a chat command: grammar (``params``), who may use it, help text."""

    def wrap(fn: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        if name in registry.commands and registry.commands[name].handler is not None:
            raise RuntimeError(f"command /{name} declared twice")
        existing = registry.commands.get(name)
        cmd = Command(
            name=name,
            help=help,
            who=who,
            params=params or [],
            handler=fn,
            in_group=in_group,
        )
        if existing:
            cmd.subcommands = existing.subcommands
        registry.commands[name] = cmd
        return fn

    return wrap


def subcommand(
    parent: str,
    name: str,
    *,
    help: str,
    who: Who = "member",
    params: list[Param] | None = None,
    parent_help: str | None = None,
    in_group: bool = False,
) -> Callable[[Callable[..., Awaitable[None]]], Callable[..., Awaitable[None]]]:
    """Declare ``/parent name ...`` (``/group new``, ``/survey close``)."""

    def wrap(fn: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        cmd = registry.commands.get(parent)
        if cmd is None:
            cmd = registry.commands[parent] = Command(
                name=parent, help=parent_help or help, who=who, in_group=in_group
            )
        elif parent_help:
            cmd.help = parent_help
        cmd.subcommands[name] = Subcommand(
            name=name, help=help, params=params or [], handler=fn, who=who, in_group=in_group
        )
        return fn

    return wrap


def action(name: str, who: Who = "all") -> Callable[[ActionHandler], ActionHandler]:
    """Declare a button action. The handler gets ``(ctx: ActionContext, *args)``."""

    def wrap(fn: ActionHandler) -> ActionHandler:
        registry.actions[name] = Action(name=name, handler=fn, who=who)
        return fn

    return wrap


def renderer(kind: str) -> Callable[[Renderer], Renderer]:
    """Declare how a tracked message of ``kind`` (ref key ``kind:id``) is drawn now."""

    def wrap(fn: Renderer) -> Renderer:
        registry.renderers[kind] = fn
        return fn

    return wrap


def deadline(kind: str) -> Callable[[DeadlineHandler], DeadlineHandler]:
    """Declare what happens when a stored deadline of ``kind`` is due."""

    def wrap(fn: DeadlineHandler) -> DeadlineHandler:
        registry.deadlines[kind] = fn
        return fn

    return wrap


def merge_hook(fn: MergeHook) -> MergeHook:
    """Called when person ``from_id`` is joined into ``into_id`` (``/connect``)."""
    registry.merge_hooks.append(fn)
    return fn


def http_route(fn: Callable[..., None]) -> Callable[..., None]:
    """``fn(app, bridge)`` mounts routes on the shared aiohttp server (feeds, exports)."""
    registry.http_routes.append(fn)
    return fn


def group_content(
    name: str,
    count: Callable[[AsyncSession, int], Awaitable[int]],
    delete: Callable[[AsyncSession, int], Awaitable[None]],
    closed: Callable[[AsyncSession, Bridge, int], Awaitable[None]] | None = None,
) -> None:
    """Declare a feature's content of a group (``name`` is a msgid: "ideas")."""
    registry.group_content.append(GroupContent(name, count, delete, closed))


def text_handler(fn: Callable[..., Awaitable[bool]]) -> Callable[..., Awaitable[bool]]:
    """Plain (non-command) messages, e.g. answers in a private survey; return True if taken."""
    registry.text_handlers.append(fn)
    return fn


# --------------------------------------------------------------------------------------
# Parsing


@dataclass
class Token:
    value: str
    start: int
    quoted: bool


_QUOTES = {'"': '"', "“": "”", "„": "“", "'": "'", "«": "»", "»": "«"}


class Quoted(str):
    """A value that was typed in quotes (``"Where do we eat?"``)."""

    __slots__ = ()


def _single_quote_end(raw: str, i: int) -> int | None:
    """Where a ``'…'`` opened at ``i`` closes (a ``'`` before a space or the end), if it
    does: ``'Wo essen wir?'`` groups words, an apostrophe (``don't``, ``'90s``) does not."""
    j = raw.find("'", i + 1)
    while j != -1:
        if j + 1 == len(raw) or raw[j + 1].isspace():
            return j
        j = raw.find("'", j + 1)
    return None


def tokenize(raw: str) -> list[Token]:
    """Split on whitespace; double, single and typographic quotes group words (German „…“
    too)."""
    tokens: list[Token] = []
    i, n = 0, len(raw)
    while i < n:
        if raw[i].isspace():
            i += 1
            continue
        start = i
        ch = raw[i]
        if ch == "'":
            end = _single_quote_end(raw, i)
            if end is not None:
                tokens.append(Token(raw[i + 1 : end], start, True))
                i = end + 1
                continue
        if ch in _QUOTES and ch != "'":
            close = _QUOTES[ch]
            j = i + 1
            while j < n and raw[j] not in (close, '"', "”", "“"):
                j += 1
            if j >= n:
                raise UsageError(N_("A quote is not closed."))
            tokens.append(Token(raw[i + 1 : j], start, True))
            i = j + 1
            continue
        j = i
        while j < n and not raw[j].isspace():
            j += 1
        tokens.append(Token(raw[i:j], start, False))
        i = j
    return tokens


def parse_args(params: list[Param], raw: str) -> dict[str, Any]:
    """Match ``raw`` against ``params``; raise UsageError (with a reason) when it does not fit."""
    raw = raw.strip()
    tokens = tokenize(raw)
    values: dict[str, Any] = {}
    for p in params:
        if p.kind == "flag":
            values[p.name] = False
        elif p.kind == "words":
            values[p.name] = []
        else:
            values[p.name] = None
    positional = [p for p in params if p.positional]
    optional = {p.name: p for p in params if not p.positional}
    pos_i = 0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        low = tok.value.lower()
        matched = False
        if not tok.quoted:
            for p in optional.values():
                if p.kind == "flag" and low == p.name and not values[p.name]:
                    values[p.name] = True
                    matched = True
                elif (
                    p.kind == "choice"
                    and low in p.choices
                    and values[p.name] is None
                    and (
                        pos_i >= len(positional)
                        or positional[pos_i].kind != "text"
                        or not _pending_required(positional, pos_i, values)
                    )
                ):
                    values[p.name] = low
                    matched = True
                elif p.kind == "option" and low == p.name and values[p.name] is None:
                    if i + 1 >= len(tokens):
                        raise UsageError(N_("'{word}' needs a value."), word=p.name)
                    values[p.name] = tokens[i + 1].value
                    i += 1
                    matched = True
                if matched:
                    break
        if matched:
            i += 1
            continue
        if pos_i >= len(positional):
            raise UsageError(N_("I did not expect '{word}'."), word=tok.value[:40])
        p = positional[pos_i]
        if p.kind == "text":
            values[p.name] = raw[tok.start :].strip()
            break
        if p.kind == "words":
            values[p.name].append(Quoted(tok.value) if tok.quoted else tok.value)
            i += 1
            continue
        if p.kind == "choice":
            if low not in p.choices:
                raise UsageError(
                    N_("'{word}' is not one of {choices}."),
                    word=tok.value,
                    choices=", ".join(p.choices),
                )
            values[p.name] = low
        elif p.kind == "int":
            values[p.name] = _number(p, tok.value)
        else:
            values[p.name] = Quoted(tok.value) if tok.quoted else tok.value
        pos_i += 1
        i += 1
    for p in params:
        if p.required and p.kind != "flag" and (values[p.name] in (None, "", [])):
            raise UsageError(N_("<{name}> is missing."), name=p.metavar or p.name)
    return values


def _number(p: Param, text: str) -> int:
    number = int(text) if is_number(text, 11) else None
    if number is None or not p.minimum <= number <= p.maximum:
        raise UsageError(
            N_("<{name}>: '{word}' is not a number from {low} to {high}."),
            name=p.metavar or p.name,
            word=text[:40],
            low=p.minimum,
            high=p.maximum,
        )
    return number


def bind_options(params: list[Param], options: dict[str, Any]) -> dict[str, Any]:
    """Typed values (a form's fields, Discord's options) bound to ``params`` as typed,
    never joined into text and parsed again: a value keeps its quotes, its words such as
    "private", its typographic quotes. The same checks as the grammar apply (choices,
    number ranges, required); an empty optional value stays ``""`` (the field was shown
    and left empty), an absent one ``None``."""
    known = {p.name: p for p in params}
    for name in options:
        if name not in known:
            raise UsageError(N_("I did not expect '{word}'."), word=str(name)[:40])
    values: dict[str, Any] = {}
    for p in params:
        value = options.get(p.name)
        if p.kind == "flag":
            values[p.name] = value is True or str(value).lower() in ("1", "true", "on", "yes")
            continue
        if p.kind == "words":
            items = value if isinstance(value, list) else str(value or "").splitlines()
            values[p.name] = [Quoted(str(v).strip()) for v in items if str(v).strip()]
        elif value is None:
            values[p.name] = None
        else:
            text = str(value).strip()
            if p.kind == "choice" and text:
                if text.lower() not in p.choices:
                    raise UsageError(
                        N_("'{word}' is not one of {choices}."),
                        word=text[:40],
                        choices=", ".join(p.choices),
                    )
                text = text.lower()
            if p.kind == "int" and text:
                values[p.name] = _number(p, text)
                continue
            values[p.name] = Quoted(text) if p.kind != "text" and text else text
        if p.required and values[p.name] in (None, "", []):
            raise UsageError(N_("<{name}> is missing."), name=p.metavar or p.name)
    return values


def _pending_required(positional: list[Param], pos_i: int, values: dict[str, Any]) -> bool:
    return any(values.get(p.name) in (None, []) for p in positional[pos_i:] if p.required)


def compose_args(params: list[Param], options: dict[str, Any]) -> str:
    """Turn typed options (Discord) back into the one command grammar."""
    out: list[str] = []
    for p in params:
        value = options.get(p.name)
        if value in (None, False, ""):
            continue
        if p.kind == "flag":
            out.append(p.name)
        elif p.kind == "option":
            out.append(f"{p.name} {value}")
        elif p.kind == "text":
            out.append(str(value))
        elif p.kind == "words":
            items = value if isinstance(value, list) else [value]
            out.extend('"' + str(v).replace('"', "'") + '"' for v in items)
        else:
            text = str(value)
            out.append('"' + text.replace('"', "'") + '"' if " " in text else text)
    # a text param must stay last: the grammar reads it to the end of the line
    return " ".join(out)
