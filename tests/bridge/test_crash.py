"""Issue 13's inbox: 300 presses on each platform while the bot is killed (SIGKILL) and
stopped (SIGTERM) and restarted, through the real SDKs against the fakes (tests/crash.py).
What people see: every press counted once, none lost, none answered twice."""

from __future__ import annotations

import os
from pathlib import Path

from tests.crash import Crash

PRESSES = int(os.environ.get("CRASH_PRESSES", "300"))


async def test_presses_survive_sigkill_and_sigterm(db_url: str, tmp_path: Path) -> None:
    crash = Crash(db_url, tmp_path, presses=PRESSES)
    try:
        await crash.start()
        await crash.prepare()
        result = await crash.crash()
    finally:
        await crash.close()
    logs = "\n".join(f"--- bot {name}\n{text}" for name, text in result.logs.items())
    assert result.persons == 3 * PRESSES
    assert result.lost == {"slack": [], "telegram": [], "discord": []}, logs
    assert result.doubled == [], logs
    assert result.score == result.voters == result.persons
