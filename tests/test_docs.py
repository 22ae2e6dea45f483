"""Every example console session in README.md and docs/ runs against the bot, and what it
prints is compared with what the page shows, so the docs cannot drift from the bot.

A session is a ```text block whose lines are what a user types (``/command``, ``:user``,
``:channel``, ``:press``) followed by what the bot printed (``[#channel] …`` and its
indented lines). A line ``...`` stands for any number of printed lines left out; a typed
line with nothing under it is a set-up step whose output the page leaves out.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.chat import Chat
from tests.conftest import BridgeFactory, attach_console

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```text\n(.*?)```", re.S)


def _sessions() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for n, match in enumerate(BLOCK.finditer(page.read_text(encoding="utf-8")), 1):
            body = match.group(1)
            lines = [line for line in body.splitlines() if not line.startswith("$ ")]
            if lines and lines[0][:1] in ("/", ":") and any(x.startswith("[") for x in lines):
                found.append((f"{page.name}#{n}", "\n".join(lines)))
    return found


def _is_input(line: str) -> bool:
    return line[:1] in ("/", ":")


def _matches(expected: list[str], actual: list[str]) -> bool:
    """``expected`` with ``...`` as a wildcard for any run of lines."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head.strip() == "...":
        return any(_matches(rest, actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and actual[0] == head and _matches(rest, actual[1:])


@pytest.mark.parametrize(("where", "session"), _sessions(), ids=[w for w, _ in _sessions()])
async def test_the_session_on_the_page_is_what_the_bot_prints(
    make_bridge: BridgeFactory, where: str, session: str
) -> None:
    bridge = await make_bridge()
    printed: list[str] = []
    chat = Chat(bridge, attach_console(bridge, printed), printed)
    steps: list[tuple[str, list[str]]] = []
    for line in session.splitlines():
        if _is_input(line):
            steps.append((line, []))
        elif steps:
            steps[-1][1].append(line)
    for typed, expected in steps:
        out = await chat(typed)
        if not expected:
            continue
        assert _matches(expected, out.lines), (
            f"{where}: after {typed!r} the page shows\n"
            + "\n".join(expected)
            + "\nbut the bot printed\n"
            + str(out)
        )


def test_there_are_sessions_to_check() -> None:
    assert len(_sessions()) >= 3
