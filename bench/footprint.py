"""P5 footprint (issue 14): one real ``community-bridge run`` with Slack, Telegram and
Discord against the platform fakes (tests/crash.py's world, no kill): the time from
starting the process to ``/healthz`` ready, and its resident memory when ready and after
a few hundred presses.

The floor is a bare Python process that only imports the three SDKs (slack-bolt,
python-telegram-bot, discord.py), measured in the same run: start time and memory are
printed as ratios to it. Goals: ready within 2 s, at most 150 MB.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE = "import slack_bolt.async_app, telegram.ext, discord, sqlalchemy, aiohttp"


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _floor() -> tuple[float, float]:
    """Seconds and MB of a process that imports the SDKs and nothing of ours."""
    began = time.monotonic()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"{BARE}\nimport sys; sys.stdout.write('ok'); sys.stdout.flush()\n"
            "import time; time.sleep(2)",
        ],
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.read(2)
    seconds = time.monotonic() - began
    rss = _rss_mb(proc.pid)
    proc.kill()
    proc.wait()
    return seconds, rss


async def main(url: str | None, presses: int = 100) -> None:
    from bridge.db import upgrade
    from tests.crash import Crash

    db = url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'footprint.db'}"
    await upgrade(db)
    floor_s, floor_mb = _floor()
    crash = Crash(db, Path(tempfile.mkdtemp()), presses=presses)

    async def no_kill(on_kill: object = None) -> None:
        return None

    crash._killer = no_kill  # type: ignore[method-assign]
    try:
        await crash.start()
        ready = crash.ready_seconds
        bot = crash.bots["A"]
        assert bot.proc is not None
        rss_ready = _rss_mb(bot.proc.pid)
        await crash.prepare()
        result = await crash.crash()
        rss_after = _rss_mb(bot.proc.pid)
    finally:
        await crash.close()
    print(f"floor: bare SDK imports {floor_s:.2f} s, {floor_mb:.0f} MB")
    print(
        f"process start to /healthz ready (three adapters): {ready:.2f} s "
        f"({ready / floor_s:.1f}x the floor; goal 2 s)"
    )
    print(f"RSS when ready: {rss_ready:.0f} MB ({rss_ready / floor_mb:.1f}x the floor)")
    print(
        f"RSS after {result.presses} presses: {rss_after:.0f} MB "
        f"({rss_after / floor_mb:.1f}x the floor; goal 150 MB)"
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else None))
