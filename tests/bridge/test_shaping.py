"""The shaper's windows: no reservation it hands out breaks a limit, however the chats'
messages interleave."""

from __future__ import annotations

import itertools
import random
import time

from bridge.shaping import Limit, Shaper

SLACK = 0.01  # the calls' own clock readings differ by microseconds


def test_no_window_ever_holds_more_than_its_limit() -> None:
    limits = (Limit(1, 1.0), Limit(5, 10.0, "group"), Limit(8, 2.0, "all"))
    shaper = Shaper({"t": limits})
    rng = random.Random(3)
    slots: list[tuple[str, float]] = []
    for _ in range(120):
        chat = rng.choice(["-1", "-2", "-3", "9"])
        before = time.monotonic()  # the slot's time: the call's clock plus its wait
        slots.append((chat, before + shaper.slot("t", chat, chat.startswith("-"))))
    for chat in {c for c, _ in slots}:
        mine = sorted(t for c, t in slots if c == chat)
        assert all(b - a >= 1.0 - SLACK for a, b in itertools.pairwise(mine))
        if chat.startswith("-"):
            assert all(
                sum(1 for t in mine if start <= t < start + 10.0 - SLACK) <= 5 for start in mine
            )
    every = sorted(t for _, t in slots)
    assert all(sum(1 for t in every if start <= t < start + 2.0 - SLACK) <= 8 for start in every)
