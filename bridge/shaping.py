"""Traffic shaping: the delivery worker keeps each platform's published limits before the
platform has to refuse anything.

One mechanism for every platform: sliding windows of send times, one per limit and key (a
chat, a whole platform), declared by the adapter (``Adapter.limits``) and adjustable in
``bot.toml`` (``[delivery] shaping``, ``[delivery] limits``). A message waits for a slot in
every window that applies to it, in its own chat's lane only, so a busy chat never holds up
another. A ``retry_after`` the platform sends anyway still postpones the row.

Where the windows live decides who shares them:

- ``LocalWindows``: in this process (SQLite, one process).
- ``DatabaseWindows``: in the ``send_windows`` table, one row per limit and key, locked
  while a slot is reserved, so every process on one PostgreSQL keeps one allowance.
- ``RedisWindows``: in Redis sorted sets, reserved by one Lua script (``[redis] url``),
  the same sharing without the database round trip.

Times are epoch seconds (``time.time()``): processes on one machine, or on machines whose
clocks agree, share a window.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bridge.db import Database

__all__ = [
    "DatabaseWindows",
    "Limit",
    "LocalWindows",
    "RedisWindows",
    "Shaper",
    "Windows",
    "parse_limit",
]

#: key → limit, as the shaper asks a store to reserve one slot in all of them
Wanted = list[tuple[str, "Limit"]]


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


def earliest(times: list[float], limit: Limit, at: float) -> float:
    """The first time from ``at`` on at which one more message keeps ``limit``, given the
    window's sorted send times (a sliding window, exact: "20 a minute" is a window, not a
    rate)."""
    inside = [t for t in times if t > at - limit.per]
    if len(inside) < limit.count:
        return at
    return inside[len(inside) - limit.count] + limit.per


def agree(windows: list[tuple[list[float], Limit]], now: float) -> float:
    """The earliest time from ``now`` on that keeps every window's limit."""
    at = now
    for _ in range(100):  # the latest of the earliest times, until all agree
        later = max((earliest(times, limit, at) for times, limit in windows), default=at)
        if later <= at:
            break
        at = later
    return at


def _insert(times: list[float], at: float) -> None:
    times.append(at)
    if len(times) > 1 and times[-2] > at:  # keep them sorted
        times.sort()


class Windows(Protocol):
    async def reserve(self, wanted: Wanted, now: float, only_now: bool) -> float:
        """Reserve one slot in every window of ``wanted`` at the earliest time from ``now``
        on that keeps them all; returns that time. ``only_now``: reserve only when that
        time is ``now`` (else nothing is recorded)."""
        ...


class LocalWindows:
    """The windows of this process."""

    def __init__(self) -> None:
        self._times: dict[str, list[float]] = {}

    async def reserve(self, wanted: Wanted, now: float, only_now: bool) -> float:
        windows = []
        for key, limit in wanted:  # forget by the clock, never by a slot in the future
            times = [t for t in self._times.get(key, ()) if t > now - limit.per]
            self._times[key] = times
            windows.append((times, limit))
        at = agree(windows, now)
        if only_now and at > now:
            return at
        for key, _limit in wanted:
            _insert(self._times[key], at)
        return at


class DatabaseWindows:
    """Windows in the ``send_windows`` table, shared by every process on the database.
    The rows are locked (``FOR UPDATE``, in key order so two reservations never deadlock)
    for the few statements a reservation takes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def reserve(self, wanted: Wanted, now: float, only_now: bool) -> float:
        from sqlalchemy import select

        from bridge.db import insert_ignore
        from bridge.models import SendWindow

        keys = sorted({key for key, _ in wanted})
        limits = dict(wanted)
        async with self.db.transaction() as session:
            for key in keys:
                await session.execute(
                    insert_ignore(session, SendWindow, {"key": key, "times": "[]"}, ["key"])
                )
            rows = {
                row.key: row
                for row in (
                    await session.execute(
                        select(SendWindow)
                        .where(SendWindow.key.in_(keys))
                        .order_by(SendWindow.key)
                        .with_for_update()
                    )
                ).scalars()
            }
            stored: dict[str, list[float]] = {}
            for key in keys:
                per = limits[key].per
                stored[key] = sorted(t for t in json.loads(rows[key].times) if t > now - per)
            at = agree([(stored[key], limits[key]) for key in keys], now)
            if only_now and at > now:
                return at
            for key in keys:
                _insert(stored[key], at)
                rows[key].times = json.dumps([round(t, 4) for t in stored[key]])
        return at


# KEYS: one sorted set per window (member: a unique token, score: the send time).
# ARGV: now, only_now (0/1), a token, then count and per of each key in turn.
_RESERVE = """
local now = tonumber(ARGV[1])
local only_now = ARGV[2] == '1'
local token = ARGV[3]
local n = #KEYS
local times = {}
for i = 1, n do
  local per = tonumber(ARGV[3 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - per)
  local flat = redis.call('ZRANGE', KEYS[i], 0, -1, 'WITHSCORES')
  local list = {}
  for j = 2, #flat, 2 do list[#list + 1] = tonumber(flat[j]) end
  times[i] = list
end
local at = now
for _ = 1, 100 do
  local later = at
  for i = 1, n do
    local count = tonumber(ARGV[2 + 2 * i])
    local per = tonumber(ARGV[3 + 2 * i])
    local inside = {}
    for _, t in ipairs(times[i]) do
      if t > at - per then inside[#inside + 1] = t end
    end
    if #inside >= count then
      local e = inside[#inside - count + 1] + per
      if e > later then later = e end
    end
  end
  if later <= at then break end
  at = later
end
if only_now and at > now then return string.format('%.17g', at) end
for i = 1, n do
  local per = tonumber(ARGV[3 + 2 * i])
  redis.call('ZADD', KEYS[i], at, token)
  redis.call('PEXPIRE', KEYS[i], math.ceil((at - now + per) * 1000) + 1000)
end
return string.format('%.17g', at)
"""


class RedisWindows:
    """Windows in Redis (``[redis] url``): one Lua script reserves a slot atomically."""

    def __init__(self, url: str, prefix: str = "cb:window:") -> None:
        import redis.asyncio as redis

        self.client: Any = redis.from_url(url)
        self.prefix = prefix
        self._script: Any = self.client.register_script(_RESERVE)

    async def reserve(self, wanted: Wanted, now: float, only_now: bool) -> float:
        keys = [self.prefix + key for key, _ in wanted]
        args: list[Any] = [repr(now), "1" if only_now else "0", uuid.uuid4().hex]
        for _key, limit in wanted:
            args += [limit.count, repr(limit.per)]
        return float(await self._script(keys=keys, args=args))

    async def close(self) -> None:
        await self.client.aclose()


class Shaper:
    def __init__(
        self,
        limits: dict[str, tuple[Limit, ...]],
        enabled: bool = True,
        store: Windows | None = None,
        clock: Any = time.time,
    ) -> None:
        self.limits = limits
        self.enabled = enabled
        self.store: Windows = store or LocalWindows()
        self.clock = clock

    def _wanted(self, platform: str, chat: str, group: bool) -> Wanted:
        wanted: Wanted = []
        for n, limit in enumerate(self.limits.get(platform, ())):
            if limit.scope == "group" and not group:
                continue
            key = "*" if limit.scope == "all" else chat
            wanted.append((f"{platform}/{n}/{key}", limit))
        return wanted

    async def slot(self, platform: str, chat: str, group: bool = False) -> float:
        """Reserve a slot for one message to ``chat`` that keeps every limit that applies;
        seconds to wait for it (0: now)."""
        wanted = self._wanted(platform, chat, group) if self.enabled else []
        if not wanted:
            return 0.0
        now = self.clock()
        return max(await self.store.reserve(wanted, now, False) - now, 0.0)

    async def now(self, platform: str, chat: str, group: bool = False) -> float:
        """Reserve a slot only if one is free right now: 0 when reserved, else the seconds
        until one would be (nothing reserved). For answers sent straight from a handler,
        which go to the outbox, delayed, when the chat's allowance is used up."""
        wanted = self._wanted(platform, chat, group) if self.enabled else []
        if not wanted:
            return 0.0
        now = self.clock()
        wait = await self.store.reserve(wanted, now, True) - now
        return wait if wait > 1e-3 else 0.0

    async def wait(self, platform: str, chat: str, group: bool = False) -> None:
        delay = await self.slot(platform, chat, group)
        if delay > 0:
            await asyncio.sleep(delay)
