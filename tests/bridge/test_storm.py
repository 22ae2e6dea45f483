"""Issue 12's storm: 2,000 persons, 10,000 vote actions on one idea shown in six channels
on the three platforms, two bot processes on PostgreSQL, one killed with SIGKILL mid-storm
and restarted (tests/storm.py). What people see: every vote counted once, every card at
the stored count, nothing left in flight, and no platform had to refuse a message.

It runs in the PostgreSQL run of the suite (it needs PostgreSQL whatever the backend, and
takes a minute or two); ``STORM_PERSONS`` and ``STORM_ACTIONS`` make it smaller or larger.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import BACKEND
from tests.storm import Storm

PERSONS = int(os.environ.get("STORM_PERSONS", "2000"))
ACTIONS = int(os.environ.get("STORM_ACTIONS", "10000"))


@pytest.mark.skipif(BACKEND != "postgres", reason="runs in the PostgreSQL run of the suite")
async def test_a_vote_storm_across_two_processes_one_killed(pg_url: str, tmp_path: Path) -> None:
    storm = Storm(pg_url, tmp_path, persons=PERSONS, actions=ACTIONS)
    try:
        await storm.start()
        await storm.prepare()
        result = await storm.run()
    finally:
        await storm.close()
    logs = "\n".join(f"--- bot {name}\n{text}" for name, text in storm.logs().items())
    assert result.actions >= ACTIONS, logs
    # 0 votes lost, 0 doubled: exactly the persons whose last action was a vote
    assert result.stored_persons == result.expected_persons, logs
    assert result.stored == result.expected
    # every card (one per channel, none posted twice) ends at the stored count
    assert result.cards == dict.fromkeys(result.cards, 1), result.cards
    assert result.shown == dict.fromkeys(result.shown, result.expected), logs
    assert (result.left_sending, result.left_pending) == (0, 0), logs
    # no platform had to refuse a message for a limit: the bot kept them all
    assert result.refusals == {"slack": [], "telegram": [], "discord": []}
