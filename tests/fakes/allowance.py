"""What a platform lets through: sliding windows of accepted requests, per chat and for the
whole bot, as the fakes enforce them by default. A request that would exceed one is
refused (the fake answers its platform's 429) and recorded in ``refusals``, so a test can
assert that the bot never needed refusing.

The windows are a little shorter than the platform's (``jitter``): the bot reserves a
slot by its clock and the request arrives a few milliseconds later, and no platform
measures its allowance to the millisecond either.
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass, field

__all__ = ["Allowance", "Rule", "scaled"]


@dataclass(frozen=True)
class Rule:
    count: int
    per: float
    scope: str = "chat"  # "chat", "group" (group chats only) or "all"


def scaled(rules: tuple[Rule, ...], speed: int) -> tuple[Rule, ...]:
    """The rules with ``speed`` times the count: the suite's quick fakes (``SPEED`` in
    tests/conftest.py) against a bridge configured with the same ``[delivery] limits``;
    the tests about the limits themselves use the platforms' own (speed 1)."""
    return tuple(Rule(rule.count * speed, rule.per, rule.scope) for rule in rules)


@dataclass
class Allowance:
    rules: tuple[Rule, ...]
    jitter: float = 0.05
    refusals: list[tuple[str, str]] = field(default_factory=list)
    #: every accepted request's time, by chat ("*" for the whole bot)
    accepted: dict[str, list[float]] = field(default_factory=dict)

    def check(self, what: str, chat: str, group: bool = False) -> float:
        """0 when the request to ``chat`` is within every rule (it is then counted), else
        the seconds until it would be (it is refused and recorded)."""
        now = time.monotonic()
        wait = 0.0
        for rule in self.rules:
            if rule.scope == "group" and not group:
                continue
            key = "*" if rule.scope == "all" else f"{rule.scope}:{chat}"
            times = self.accepted.get(key, [])  # in the order accepted: sorted
            first = bisect.bisect_right(times, now - (rule.per - self.jitter))
            if len(times) - first >= rule.count:
                wait = max(wait, times[len(times) - rule.count] + rule.per - self.jitter - now)
        if wait > 0:
            self.refusals.append((what, chat))
            return wait
        keys = {
            "*" if rule.scope == "all" else f"{rule.scope}:{chat}"
            for rule in self.rules
            if rule.scope != "group" or group
        }
        for key in keys:
            self.accepted.setdefault(key, []).append(now)
        return 0.0

    def most_in(self, chat: str, per: float, scope: str = "chat") -> int:
        """The most requests to ``chat`` accepted within any ``per`` seconds (benchmarks)."""
        times = self.accepted.get(f"{scope}:{chat}", [])
        best = 0
        start = 0
        for end, t in enumerate(times):
            while times[start] <= t - per:
                start += 1
            best = max(best, end - start + 1)
        return best

    def recent(self, chat: str, per: float, scope: str = "chat") -> list[float]:
        """The requests to ``chat`` accepted within the last ``per`` seconds (their ages)."""
        now = time.monotonic()
        times = self.accepted.get(f"{scope}:{chat}", [])
        return [now - t for t in times[bisect.bisect_right(times, now - per) :]]
