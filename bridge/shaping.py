"""Traffic shaping: the delivery worker keeps each platform's published limits before the
platform has to refuse anything.

One mechanism for every platform: sliding windows of send times, one per limit and key (a
chat, a whole platform), declared by the adapter (``Adapter.limits``) and adjustable in ``bot.toml``
(``[delivery] shaping``). A message waits for a slot in every bucket that applies to it,
in its own chat's lane only, so a busy chat never holds up another. A ``retry_after``
the platform sends anyway still postpones the row, as before.

The buckets live in this process: two processes serving the same platform each keep the
limits for what they send (documented as the one gap; see docs/DEVELOPING.md).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass

__all__ = ["Limit", "Shaper", "parse_limit"]


@dataclass(frozen=True)
class Limit:
    """At most ``count`` messages within ``per`` seconds, for each ``scope`` key: "chat"
    (one channel, chat or DM), "group" (a chat that is a group, where the platform limits
    groups further) or "all" (the bot on that platform)."""

    count: int
    per: float
    scope: str = "chat"


def parse_limit(text: str) -> Limit:
    """``"20/60s group"``: count, a duration, the scope (chat when left out)."""
    from bridge.durations import parse_duration

    head, _, scope = text.strip().partition(" ")
    count, slash, per = head.partition("/")
    scope = scope.strip() or "chat"
    if not slash or not count.isascii() or not count.isdigit() or int(count) < 1:
        raise ValueError(f"{text!r} is not <count>/<duration> [chat|group|all]")
    if scope not in ("chat", "group", "all"):
        raise ValueError(f"{text!r}: the scope is chat, group or all")
    seconds = parse_duration(per).total_seconds()
    if seconds <= 0:
        raise ValueError(f"{text!r}: the duration must be more than 0")
    return Limit(int(count), seconds, scope)


class _Window:
    """The send times of one limit and key: at most ``count`` within any ``per`` seconds
    (a sliding window, exact: Telegram's "20 a minute" is a window, not a rate)."""

    def __init__(self, limit: Limit) -> None:
        self.count = limit.count
        self.per = limit.per
        self.times: deque[float] = deque()

    def forget(self, now: float) -> None:
        """Drop the send times no window from ``now`` on can hold any more."""
        while self.times and self.times[0] <= now - self.per:
            self.times.popleft()

    def earliest(self, at: float) -> float:
        """The first time from ``at`` on at which one more message keeps the limit."""
        inside = [t for t in self.times if t > at - self.per]
        if len(inside) < self.count:
            return at
        return inside[len(inside) - self.count] + self.per

    def record(self, at: float) -> None:
        self.times.append(at)
        if len(self.times) > 1 and self.times[-2] > at:  # keep them sorted
            self.times = deque(sorted(self.times))


class Shaper:
    def __init__(self, limits: dict[str, tuple[Limit, ...]], enabled: bool = True) -> None:
        self.limits = limits
        self.enabled = enabled
        self._windows: dict[tuple[str, int, str], _Window] = {}

    def slot(self, platform: str, chat: str, group: bool) -> float:
        """Reserve a slot for one message to ``chat`` that keeps every limit that applies;
        seconds to wait for it (0: now)."""
        if not self.enabled:
            return 0.0
        now = time.monotonic()
        windows = []
        for n, limit in enumerate(self.limits.get(platform, ())):
            if limit.scope == "group" and not group:
                continue
            key = "*" if limit.scope == "all" else chat
            window = self._windows.get((platform, n, key))
            if window is None:
                window = self._windows[(platform, n, key)] = _Window(limit)
            window.forget(now)  # by the clock, never by a slot in the future
            windows.append(window)
        at = now
        for _ in range(100):  # the latest of the earliest times, until all agree
            later = max((w.earliest(at) for w in windows), default=at)
            if later <= at:
                break
            at = later
        for window in windows:
            window.record(at)
        return at - now

    async def wait(self, platform: str, chat: str, group: bool = False) -> None:
        delay = self.slot(platform, chat, group)
        if delay > 0:
            await asyncio.sleep(delay)
