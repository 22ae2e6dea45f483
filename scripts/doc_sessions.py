"""Rewrite the example console sessions in README.md and docs/*.md with what the bot really
prints (tests/test_docs.py checks them):

    python scripts/doc_sessions.py          # show which sessions differ
    python scripts/doc_sessions.py --write  # rewrite them

Typed lines stay as they are; the bot's lines are replaced by its real output, with the
re-drawn copies of cards (``(edited)``) folded into one ``...`` line. A typed line whose
output the page leaves out (nothing under it) stays without output.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_docs import BLOCK, PAGES, _is_input  # noqa: E402


def _fold(lines: list[str]) -> list[str]:
    """Fold every re-drawn card (a ``(edited)`` line and its indented lines) into ``...``."""
    out: list[str] = []
    folding = False
    for line in lines:
        if line.startswith("[") and " (edited) " in line:
            folding = True
            if not out or out[-1] != "...":
                out.append("...")
            continue
        if folding and line.startswith("  "):
            continue
        folding = False
        out.append(line)
    return out


async def _run(session: str) -> str:
    from bridge.clock import FakeClock
    from bridge.core import Bridge
    from bridge.db import Database, upgrade
    from tests.chat import Chat
    from tests.conftest import attach_console, make_config

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/docs.db"
        await upgrade(url)
        config = make_config(url)
        bridge = Bridge(config, Database(url), FakeClock())
        await bridge.start()
        printed: list[str] = []
        chat = Chat(bridge, attach_console(bridge, printed), printed)
        lines: list[str] = []
        typed = [line for line in session.splitlines() if _is_input(line)]
        shown = {i for i, line in enumerate(session.splitlines()) if _is_input(line)}
        raw = session.splitlines()
        for n, line in enumerate(typed):
            out = await chat(line)
            lines.append(line)
            index = sorted(shown)[n]
            has_output = index + 1 < len(raw) and not _is_input(raw[index + 1])
            if has_output:
                lines.extend(_fold(out.lines))
        await bridge.close()
    return "\n".join(lines)


def main() -> int:
    write = "--write" in sys.argv
    changed = 0
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        new = text
        for match in BLOCK.finditer(text):
            body = match.group(1)
            kept = [line for line in body.splitlines() if line.startswith("$ ")]
            session = "\n".join(line for line in body.splitlines() if not line.startswith("$ "))
            first = session.splitlines()[0] if session else ""
            if first[:1] not in ("/", ":") or not any(
                line.startswith("[") for line in session.splitlines()
            ):
                continue
            real = asyncio.run(_run(session))
            if real != session:
                changed += 1
                print(f"{page.relative_to(ROOT)}: a session differs")
                new = new.replace(body, "\n".join([*kept, real]) + "\n", 1)
        if write and new != text:
            page.write_text(new, encoding="utf-8")
    return 1 if changed and not write else 0


if __name__ == "__main__":
    raise SystemExit(main())
