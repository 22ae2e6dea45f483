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
import contextvars
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
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

#: seconds added to every window: a message reaches the platform a little after its slot
#: (a busy loop, the network), and the platform counts by arrival
MARGIN = 0.15

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


#: how long a message in flight counts as arriving "now" at the latest (a process that
#: died mid-send never says it is out)
IN_FLIGHT = 10.0

#: no slot reserved by this task yet (a read-only default for every task's map)
_NONE: Mapping[tuple[str, str], tuple[list[str], str]] = MappingProxyType({})

#: one send in a window: [time, token]; the token is "" once the message is out (``sent``)
Entry = list[Any]


def effective(entry: Entry, now: float) -> float:
    """When an entry counts: a message out at its time; one still in flight may arrive
    any moment, so at ``now`` at the earliest (for at most IN_FLIGHT seconds)."""
    t = float(entry[0])
    if entry[1]:
        return min(max(t, now), t + IN_FLIGHT)
    return t


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


def _reserve(
    stored: dict[str, list[Entry]], wanted: Wanted, now: float, only_now: bool, token: str
) -> float | None:
    """The one reservation rule of every store, on its entries (changed in place): the
    slot's time, or None when ``only_now`` and it is later than ``now``.

    A ``token`` already there is a reservation confirmed when its slot came: it keeps its
    place in line, so the entries ahead of it (slots no later than its own) count, and of
    those behind it only the ones it now falls behind (they confirm without it, being
    ahead of it then); so no two waiters leapfrog forever, nor land too close."""
    limits = dict(wanted)
    own: float | None = None
    others: dict[str, list[Entry]] = {}
    for key, entries in stored.items():
        per = limits[key].per
        mine = next((float(e[0]) for e in entries if e[1] == token), None)
        own = mine if own is None else own if mine is None else min(own, mine)
        entries[:] = [e for e in entries if e[1] != token and effective(e, now) > now - per]
        others[key] = list(entries)
    bound = own if own is not None else float("inf")
    at = now
    for _ in range(50):
        windows = [
            (
                sorted(effective(e, now) for e in entries if float(e[0]) <= bound),
                limits[key],
            )
            for key, entries in others.items()
        ]
        at = agree(windows, now)
        if at <= bound:
            break
        bound = at  # moved back: the ones it now comes after count too
    if only_now and at > now:
        return None
    for entries in stored.values():
        entries.append([round(at, 4), token])
    return at


def _out(entries: list[Entry], token: str, now: float) -> bool:
    """The entry of ``token`` is out: it counts from ``now``."""
    for entry in entries:
        if entry[1] == token:
            entry[0] = round(max(float(entry[0]), now), 4)
            entry[1] = ""
            return True
    return False


class Windows(Protocol):
    async def reserve(self, wanted: Wanted, now: float, only_now: bool, token: str) -> float:
        """Reserve one slot in every window of ``wanted`` at the earliest time from ``now``
        on that keeps them all, in flight (``token``) until ``restamp``; returns that time.
        ``only_now``: reserve only when that time is ``now`` (else nothing is recorded)."""
        ...

    async def restamp(self, keys: list[str], token: str, now: float) -> None:
        """The message of ``token`` has reached the platform: its slot counts from ``now``
        (the platform counted it on arrival, somewhere in between)."""
        ...


class LocalWindows:
    """The windows of this process."""

    def __init__(self) -> None:
        self._entries: dict[str, list[Entry]] = {}

    async def restamp(self, keys: list[str], token: str, now: float) -> None:
        for key in keys:
            _out(self._entries.get(key, []), token, now)

    async def reserve(self, wanted: Wanted, now: float, only_now: bool, token: str) -> float:
        stored = {key: self._entries.setdefault(key, []) for key, _ in wanted}
        at = _reserve(stored, wanted, now, only_now, token)
        return at if at is not None else agree_later(stored, wanted, now)


def agree_later(stored: dict[str, list[Entry]], wanted: Wanted, now: float) -> float:
    """When a slot would be free (nothing reserved): for a refused ``only_now``."""
    limits = dict(wanted)
    return agree(
        [(sorted(effective(e, now) for e in entries), limits[k]) for k, entries in stored.items()],
        now,
    )


class DatabaseWindows:
    """Windows in the ``send_windows`` table, shared by every process on the database.
    The rows are locked (``FOR UPDATE``, in key order so two reservations never deadlock)
    for the few statements a reservation takes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def _rows(self, session: Any, keys: list[str]) -> dict[str, Any]:
        from sqlalchemy import select

        from bridge.models import SendWindow

        return {
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

    async def restamp(self, keys: list[str], token: str, now: float) -> None:
        async with self.db.transaction() as session:
            for row in (await self._rows(session, sorted(set(keys)))).values():
                entries = _entries(row.times)
                if _out(entries, token, now):
                    row.times = json.dumps(entries)

    async def reserve(self, wanted: Wanted, now: float, only_now: bool, token: str) -> float:
        from bridge.db import insert_ignore
        from bridge.models import SendWindow

        keys = sorted({key for key, _ in wanted})
        async with self.db.transaction() as session:
            for key in keys:
                await session.execute(
                    insert_ignore(session, SendWindow, {"key": key, "times": "[]"}, ["key"])
                )
            rows = await self._rows(session, keys)
            stored = {key: _entries(rows[key].times) for key in keys}
            at = _reserve(stored, wanted, now, only_now, token)
            if at is None:
                return agree_later(stored, wanted, now)
            for key in keys:
                rows[key].times = json.dumps(stored[key])
        return at


def _entries(text: str) -> list[Entry]:
    """A row's entries (a bare number: one that is out)."""
    return [e if isinstance(e, list) else [e, ""] for e in json.loads(text or "[]")]


# KEYS: per window a sorted set (member: a send's token, score: its time) and the set of
# its tokens still in flight. ARGV: now, only_now (0/1), a token (one already there is
# moved), IN_FLIGHT, then count and per of each window in turn. The same rule as _reserve.
_RESERVE = """
local now = tonumber(ARGV[1])
local only_now = ARGV[2] == '1'
local token = ARGV[3]
local in_flight = tonumber(ARGV[4])
local n = #KEYS / 2
local entries = {}
local bound = nil
for i = 1, n do
  local per = tonumber(ARGV[4 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[2 * i - 1], '-inf', now - per - in_flight)
  local own = redis.call('ZSCORE', KEYS[2 * i - 1], token)
  if own then
    own = tonumber(own)
    if bound == nil or own < bound then bound = own end
  end
  redis.call('ZREM', KEYS[2 * i - 1], token)
  local flat = redis.call('ZRANGE', KEYS[2 * i - 1], 0, -1, 'WITHSCORES')
  local list = {}
  for j = 1, #flat, 2 do
    local t = tonumber(flat[j + 1])
    local e = t
    if redis.call('SISMEMBER', KEYS[2 * i], flat[j]) == 1 then
      e = math.min(math.max(t, now), t + in_flight)
    end
    if e > now - per then list[#list + 1] = {t, e} end
  end
  entries[i] = list
end
if bound == nil then bound = math.huge end
local at = now
for _ = 1, 50 do
  local times = {}
  for i = 1, n do
    local list = {}
    for _, pair in ipairs(entries[i]) do
      if pair[1] <= bound then list[#list + 1] = pair[2] end
    end
    table.sort(list)
    times[i] = list
  end
  at = now
  for _ = 1, 100 do
    local later = at
    for i = 1, n do
      local count = tonumber(ARGV[3 + 2 * i])
      local per = tonumber(ARGV[4 + 2 * i])
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
  if at <= bound then break end
  bound = at
end
if only_now and at > now then return string.format('%.17g', at) end
for i = 1, n do
  local per = tonumber(ARGV[4 + 2 * i])
  local ttl = math.ceil((at - now + per + in_flight) * 1000) + 1000
  redis.call('ZADD', KEYS[2 * i - 1], at, token)
  redis.call('SADD', KEYS[2 * i], token)
  redis.call('PEXPIRE', KEYS[2 * i - 1], ttl)
  redis.call('PEXPIRE', KEYS[2 * i], ttl)
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

    async def restamp(self, keys: list[str], token: str, now: float) -> None:
        async with self.client.pipeline(transaction=True) as pipe:
            for key in keys:
                pipe.zadd(self.prefix + key, {token: now}, xx=True, gt=True)
                pipe.srem(self.prefix + key + ":f", token)
            await pipe.execute()

    async def reserve(self, wanted: Wanted, now: float, only_now: bool, token: str) -> float:
        keys: list[str] = []
        for key, _ in wanted:
            keys += [self.prefix + key, self.prefix + key + ":f"]
        args: list[Any] = [repr(now), "1" if only_now else "0", token, repr(IN_FLIGHT)]
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
        #: the slot this task reserved for each chat, until ``sent``: a task's own, so that
        #: another task's send to the same chat, done first, never marks this one as out
        #: while it is still on its way (it would then count from too early a time)
        self._mine: contextvars.ContextVar[Mapping[tuple[str, str], tuple[list[str], str]]] = (
            contextvars.ContextVar(f"shaper-{id(self)}", default=_NONE)
        )

    def _wanted(self, platform: str, chat: str, group: bool) -> Wanted:
        wanted: Wanted = []
        for n, limit in enumerate(self.limits.get(platform, ())):
            if limit.scope == "group" and not group:
                continue
            key = "*" if limit.scope == "all" else chat
            kept = Limit(limit.count, limit.per + MARGIN, limit.scope)
            wanted.append((f"{platform}/{n}/{key}", kept))
        return wanted

    async def slot(self, platform: str, chat: str, group: bool = False) -> float:
        """Reserve a slot for one message to ``chat`` that keeps every limit that applies;
        seconds to wait for it (0: now). Call ``sent`` once the message is out."""
        return (await self._reserve(platform, chat, group, False))[0]

    async def now(self, platform: str, chat: str, group: bool = False) -> float:
        """Reserve a slot only if one is free right now: 0 when reserved, else the seconds
        until one would be (nothing reserved). For answers sent straight from a handler,
        which go to the outbox, delayed, when the chat's allowance is used up."""
        wait = (await self._reserve(platform, chat, group, True))[0]
        return wait if wait > 1e-3 else 0.0

    async def _reserve(
        self, platform: str, chat: str, group: bool, only_now: bool, token: str = ""
    ) -> tuple[float, str]:
        """(seconds to the slot, its token); a known ``token`` moves that reservation."""
        wanted = self._wanted(platform, chat, group) if self.enabled else []
        if not wanted:
            return 0.0, ""
        now = self.clock()
        token = token or uuid.uuid4().hex[:12]
        at = await self.store.reserve(wanted, now, only_now, token)
        if at - now <= 1e-3 or not only_now:  # reserved
            mine = dict(self._mine.get())
            mine[(platform, chat)] = ([key for key, _ in wanted], token)
            self._mine.set(mine)
        return max(at - now, 0.0), token

    async def sent(self, platform: str, chat: str) -> None:
        """The message of the slot this task reserved last for the chat is out: its slot
        counts from now, not from when it was reserved. A slow send (a busy loop, a queued
        connection) then never brings the next message closer to it than the limit allows.
        A second call, or one from a task that reserved nothing, changes nothing."""
        mine = dict(self._mine.get())
        last = mine.pop((platform, chat), None)
        if last is None:
            return
        self._mine.set(mine)
        keys, token = last
        await self.store.restamp(keys, token, self.clock())

    async def wait(self, platform: str, chat: str, group: bool = False) -> None:
        """Wait for a slot. One reserved ahead is confirmed when it comes: the messages
        before it may still be in flight (a process slower than its slots), and then it
        moves on (they count as arriving at that moment at the earliest)."""
        delay, token = await self._reserve(platform, chat, group, False)
        for _ in range(50):
            if delay <= 1e-3:
                return
            await asyncio.sleep(delay)
            delay, token = await self._reserve(platform, chat, group, False, token)
