"""A console-driven chat: a test reads like the transcript of a chat session.

out = await chat("/group new ideas")
assert "Created group ideas" in out
await chat.as_("bob", "#ideas")        # switch speaker and channel
out = await chat(":press 1")
"""

from __future__ import annotations

from adapters.console import ConsoleAdapter
from bridge.core import Bridge


class Output(str):
    """What the bot printed for some input lines: a str, plus ``.lines``."""

    @property
    def lines(self) -> list[str]:
        return self.split("\n") if self else []


class Chat:
    def __init__(self, bridge: Bridge, console: ConsoleAdapter, printed: list[str]) -> None:
        self.bridge = bridge
        self.console = console
        self.printed = printed

    async def __call__(self, *lines: str) -> Output:
        start = len(self.printed)
        for line in lines:
            await self.console.line(line)
        return Output("\n".join(self.printed[start:]))

    async def as_(self, user: str, channel: str | None = None) -> None:
        await self.console.line(f":user {user}")
        if channel:
            await self.console.line(f":channel {channel}")

    @property
    def transcript(self) -> str:
        return "\n".join(self.printed)

    async def flush(self) -> Output:
        """Deliver everything queued (delayed edits too) and return what was printed."""
        start = len(self.printed)
        await self.bridge.outbox.drain(include_delayed=True)
        return Output("\n".join(self.printed[start:]))
