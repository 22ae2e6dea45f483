"""The console: the whole bot in a terminal (like errbot's text backend), and the
cheapest adapter for tests. Lines starting with ``/`` are commands, ``:user``,
``:channel``, ``:press`` and ``:quit`` steer the session, anything else is chat."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import secrets
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bridge.adapter import Adapter, CliVerb
from bridge.config import PlatformConfig
from bridge.messages import AccountRef, ActionPress, ChannelRef, Invocation, Message

if TYPE_CHECKING:
    from bridge.config import Config
    from bridge.port import Port

__all__ = ["ADAPTER", "ConsoleAdapter", "ConsoleConfig"]

HELP = (
    "console: /command args | plain text | :user NAME | :channel NAME | :channel @ (private "
    "chat with the bot) | :press N | :quit"
)


#: control characters (ANSI/OSC escapes, NUL, bell, …) and bidi overrides in user text
#: are shown as ``\x1b``-style escapes, never passed to the terminal to execute
_UNSAFE = {
    c: f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"
    for c in [
        *range(0x00, 0x09),
        *range(0x0B, 0x20),
        0x7F,
        *range(0x80, 0xA0),
        0x200E,
        0x200F,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    ]
}


def safe(line: str) -> str:
    """A line as text the terminal shows, not runs."""
    return line.translate(_UNSAFE)


@dataclass
class _Shown:
    channel: ChannelRef
    message: Message


class ConsoleConfig(PlatformConfig):
    """``[console]``: who speaks and where when the session starts (``--user``,
    ``--channel`` on the command line win)."""

    user: str = "admin"
    channel: str = "general"

    def describe(self) -> str:
        return "on (no chat platform configured; `run` opens the console)"


class ConsoleAdapter(Adapter):
    platform = "console"
    order = 0
    config_model = ConsoleConfig
    interactive = True
    config: ConsoleConfig

    @classmethod
    def cli_verbs(cls) -> list[CliVerb]:
        return [
            CliVerb(
                "console",
                "chat with the bot in the terminal (scriptable: reads stdin)",
                _console_cli,
                _console_arguments,
            )
        ]

    def __init__(
        self,
        port: Port,
        out: Callable[[str], None] | None = None,
        user: str | None = None,
        channel: str | None = None,
        config: ConsoleConfig | None = None,
    ) -> None:
        super().__init__(port, config)
        self._out = out or (lambda line: print(line, flush=True))
        self.user = (user or self.config.user).lstrip("@")
        self.channel = (channel or self.config.channel).lstrip("#")
        self.dm = False
        self._ids = itertools.count(1)
        self._prefix = secrets.token_hex(2)
        self._shown: dict[str, _Shown] = {}
        self._last_buttons: str | None = None
        self._lock = asyncio.Lock()

    # ------------------------------------------------------------------ output

    @staticmethod
    def label(channel: ChannelRef) -> str:
        if channel.dm:
            return f"[@{channel.chat}]"
        return f"[{channel.chat}]"

    def _print(self, channel: ChannelRef, message: Message, note: str = "") -> None:
        head = self.label(channel)
        if note:
            head += f" {note}"
        if message.reply_to:
            head += " ↳"
        text = message.text
        if message.author is not None:
            text = f"{message.author.name} ({message.author.platform}): {text}"
        lines = [safe(line) for line in text.split("\n")] if message.parts else [""]
        self._out(f"{head} {lines[0]}".rstrip())
        for line in lines[1:]:
            self._out(f"  {line}".rstrip())
        if message.buttons:
            self._out(
                "  " + "  ".join(f"[{i}] {safe(b.label)}" for i, b in enumerate(message.buttons, 1))
            )
        if message.file is not None:
            self._out(f"  [file {safe(message.file.name)}, {len(message.file.content)} bytes]")
            for line in message.file.content.decode("utf-8", "replace").splitlines():
                self._out(f"  | {safe(line)}")

    def _remember(self, channel: ChannelRef, message: Message) -> str:
        message = message.model_copy(update={"delivery_id": None})  # content is what counts
        message_id = f"{self._prefix}-{next(self._ids)}"
        self._shown[message_id] = _Shown(channel, message)
        if message.buttons:
            self._last_buttons = message_id
        return message_id

    async def send(self, channel: ChannelRef, message: Message) -> str:
        self._print(channel, message)
        return self._remember(channel, message)

    async def edit(self, channel: ChannelRef, message_id: str, message: Message) -> None:
        shown = self._shown.get(message_id)
        if shown is not None and shown.message == message:
            return  # unchanged: nothing to show
        self._print(channel, message, "(edited)")
        self._shown[message_id] = _Shown(channel, message)
        if message.buttons:
            self._last_buttons = message_id

    async def delete(self, channel: ChannelRef, message_id: str) -> None:
        shown = self._shown.pop(message_id, None)
        if shown is not None:
            self._out(f"{self.label(channel)} (deleted) {safe(shown.message.text)}".rstrip())

    def _reply(self, channel: ChannelRef, replies: list[Message]) -> None:
        for message in replies:
            note = f"(only {self.user})" if message.ephemeral and not channel.dm else ""
            self._print(channel, message, note)
            self._remember(channel, message)

    # ------------------------------------------------------------------ input

    @property
    def here(self) -> ChannelRef:
        if self.dm:
            return ChannelRef(platform="console", chat=self.user, dm=True)
        return ChannelRef(platform="console", chat=f"#{self.channel}")

    @property
    def me(self) -> AccountRef:
        return AccountRef(platform="console", user_id=self.user, display_name=self.user)

    async def line(self, text: str) -> bool:
        """Handle one input line; False when the session should end (``:quit``)."""
        async with self._lock:
            text = text.rstrip("\n").strip()
            if not text:
                return True
            if text.startswith(":"):
                keep = await self._steer(text)
            elif text.startswith("/"):
                name, _, args = text[1:].partition(" ")
                name = name.split("@", 1)[0]
                replies = await self.port.handle(
                    Invocation(
                        channel=self.here,
                        account=self.me,
                        command=name,
                        args=args,
                        channel_name=self.here.chat,
                    )
                )
                self._reply(self.here, replies)
                keep = True
            else:
                replies = await self.port.handle_text(self.here, self.me, text)
                self._reply(self.here, replies)
                keep = True
            await self.port.settle()
            return keep

    async def _steer(self, text: str) -> bool:
        word, _, arg = text[1:].partition(" ")
        arg = arg.strip()
        if word == "quit":
            return False
        if word == "user" and arg:
            self.user = arg.lstrip("@")
        elif word == "channel" and arg:
            if arg == "@":
                self.dm = True
            else:
                self.dm = False
                self.channel = arg.lstrip("#")
        elif word == "press" and arg.isdigit():
            await self._press(int(arg))
        else:
            self._out(HELP)
        return True

    async def _press(self, n: int) -> None:
        shown = self._shown.get(self._last_buttons or "")
        if shown is None or not 1 <= n <= len(shown.message.buttons):
            self._out("(no such button)")
            return
        token = self.port.encode_button(shown.message.buttons[n - 1], shown.channel)
        replies = await self.port.press(
            ActionPress(
                channel=shown.channel,
                account=self.me,
                token=token,
                message_id=self._last_buttons,
                channel_name=shown.channel.chat,
            )
        )
        self._reply(shown.channel, replies)

    async def serve(self, stdin: TextIO | None = None) -> None:
        await self.interact(stdin)

    def prompt(self) -> str:
        where = "@" if self.dm else f"#{self.channel}"
        return f"{self.user}@{where}> "

    async def interact(
        self,
        stream: TextIO | None = None,
        stop: asyncio.Event | None = None,
        prompt: bool | None = None,
    ) -> None:
        """Read lines until EOF or ``:quit`` (stdin by default), then deliver what is left."""
        stream = stream or sys.stdin
        show_prompt = stream.isatty() if prompt is None else prompt
        lines = _read_lines(stream, self.prompt if show_prompt else None)
        while stop is None or not stop.is_set():
            line = await lines.get()
            if line is None:
                break
            if not await self.line(line):
                break
        await self.port.settle()


def _history() -> Callable[[], None] | None:
    """Line editing and a history file (``~/.community_bridge_history``) where readline
    exists; returns what saves the history."""
    try:
        import readline
    except ImportError:  # not on every platform
        return None
    path = Path.home() / ".community_bridge_history"
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    readline.set_history_length(1000)

    def save() -> None:
        with contextlib.suppress(OSError):
            readline.write_history_file(path)

    return save


def _console_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", help="who speaks (default admin)")
    parser.add_argument("--channel", help="where (default general)")


def _console_cli(config: Config, args: argparse.Namespace) -> int:
    """``community-bridge console``: the console alone, no HTTP server."""
    from bridge.runtime import Runtime

    chosen = {k: v for k in ("user", "channel") if (v := getattr(args, k, None))}
    section = config.section("console").model_copy(update=chosen)
    config = config.model_copy(update={"sections": {**config.sections, "console": section}})
    return asyncio.run(Runtime(config, ["console"], http=False).run())


def _read_lines(
    stream: TextIO, prompt: Callable[[], str] | None = None
) -> asyncio.Queue[str | None]:
    """Lines of a blocking stream, read on a daemon thread (None at EOF).

    A daemon thread, not the loop's executor: a shutdown never waits for a pending read.
    With a ``prompt`` (a terminal), lines are read with readline: editing and history.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    history = _history() if prompt is not None else None

    def pump() -> None:
        try:
            if prompt is not None and stream is sys.stdin:
                while True:
                    line = input(prompt())
                    loop.call_soon_threadsafe(queue.put_nowait, line)
                    if history is not None:
                        history()
            else:
                for line in iter(stream.readline, ""):
                    loop.call_soon_threadsafe(queue.put_nowait, line)
        except (OSError, ValueError, RuntimeError, EOFError, KeyboardInterrupt):
            pass
        try:
            loop.call_soon_threadsafe(queue.put_nowait, None)
        except RuntimeError:  # the loop is gone
            pass

    threading.Thread(target=pump, name="console-stdin", daemon=True).start()
    return queue


ADAPTER = ConsoleAdapter
