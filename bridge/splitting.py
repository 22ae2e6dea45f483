"""One splitting rule for every platform: a message longer than the platform allows is
cut at paragraph boundaries (else at line ends, else at spaces) into numbered parts.

Each adapter owns its measure (Discord counts its markdown, Slack its mrkdwn, Telegram
UTF-16 units of the visible text) and its limits; the cutting is the same everywhere.
The parts of a message are stored as one platform message id: the ids of the parts,
separated by spaces (``join_ids``/``split_ids``), so a tracked card spanning several
parts is edited part by part (``edit_parts``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from bridge.messages import Italic, Link, Mention, Part, Text

__all__ = [
    "NUMBER_ROOM",
    "edit_parts",
    "join_ids",
    "numbered",
    "part_label",
    "split_ids",
    "split_parts",
]

T = TypeVar("T")

#: what the "(2/3)" line of a numbered part needs, at most
NUMBER_ROOM = 12


def _atoms(part: Part) -> list[Part]:
    """A part cut at its line ends (the newline stays with the line before it)."""
    if isinstance(part, (Link, Mention)) or "\n" not in part.text:
        return [part]
    lines = part.text.splitlines(keepends=True)
    return [part.model_copy(update={"text": line}) for line in lines if line]


def _cut_long(part: Part, size: Callable[[Part], int], limit: int) -> list[Part]:
    """A single line longer than the limit: cut at spaces, else anywhere."""
    if isinstance(part, (Link, Mention)):
        return [part]
    out: list[Part] = []
    text = part.text
    while text:
        low, high = 1, len(text)
        while low < high:  # the longest head that fits
            mid = (low + high + 1) // 2
            if size(part.model_copy(update={"text": text[:mid]})) <= limit:
                low = mid
            else:
                high = mid - 1
        cut = low
        space = text.rfind(" ", 0, cut + 1)
        if cut < len(text) and space > cut // 2:
            cut = space + 1
        out.append(part.model_copy(update={"text": text[:cut]}))
        text = text[cut:]
    return out


def _ends_line(part: Part) -> bool:
    return not isinstance(part, (Link, Mention)) and part.text.endswith("\n")


def split_parts(parts: Sequence[Part], size: Callable[[Part], int], limit: int) -> list[list[Part]]:
    """``parts`` in chunks whose sizes add up to at most ``limit`` each (``size`` of a
    part is its rendered length on the platform). A chunk ends at a paragraph boundary
    (a blank line) when one lies in its second half, else at a line end, else where it
    must. One chunk when everything fits."""
    atoms: list[tuple[Part, int]] = []
    for part in parts:
        for atom in _atoms(part):
            measured = size(atom)
            if measured > limit:
                atoms.extend((a, size(a)) for a in _cut_long(atom, size, limit))
            else:
                atoms.append((atom, measured))
    chunks: list[list[Part]] = []
    current: list[tuple[Part, int]] = []
    total = 0
    for atom, measured in atoms:
        if current and total + measured > limit:
            cut = _best_cut(current, limit)
            chunks.append([a for a, _ in current[:cut]])
            current = current[cut:]
            total = sum(m for _, m in current)
        current.append((atom, measured))
        total += measured
    if current:
        chunks.append([a for a, _ in current])
    return [_trim(c) for c in chunks if any(not _blank(p) for p in c)] or [list(parts)]


def _blank(part: Part) -> bool:
    return isinstance(part, Text) and not part.text.strip()


def _best_cut(current: list[tuple[Part, int]], limit: int) -> int:
    """Where to end the chunk: after the last paragraph (a line followed by a blank line)
    that ends in the chunk's second half, else after the last line end, else after all."""
    running = 0
    line_end = paragraph_end = 0
    for i, (part, measured) in enumerate(current):
        running += measured
        if not _ends_line(part):
            continue
        line_end = i + 1
        after = current[i + 1][0] if i + 1 < len(current) else None
        blank_follows = after is not None and _blank(after) and _ends_line(after)
        if running >= limit // 2 and (part.text.endswith("\n\n") or blank_follows):
            paragraph_end = i + 1
    return paragraph_end or line_end or len(current)


def _trim(chunk: list[Part]) -> list[Part]:
    """No blank lines at the start or end of a part."""
    while chunk and _blank(chunk[0]):
        chunk = chunk[1:]
    while chunk and _blank(chunk[-1]):
        chunk = chunk[:-1]
    if chunk and isinstance(chunk[-1], Text) and chunk[-1].text.endswith("\n"):
        chunk = [*chunk[:-1], Text(text=chunk[-1].text.rstrip("\n"))]
    if chunk and isinstance(chunk[0], Text) and chunk[0].text.startswith("\n"):
        chunk = [Text(text=chunk[0].text.lstrip("\n")), *chunk[1:]]
    return chunk


def part_label(i: int, n: int) -> str:
    """How part ``i`` of ``n`` says so, on every platform: "(2/3)"."""
    return f"({i}/{n})"


def numbered(chunks: list[list[Part]]) -> list[list[Part]]:
    """Each part of a split message ends with "(i/n)"; a message in one part stays as it is."""
    if len(chunks) < 2:
        return chunks
    n = len(chunks)
    return [[*c, Text(text="\n"), Italic(text=part_label(i, n))] for i, c in enumerate(chunks, 1)]


def join_ids(ids: Sequence[str]) -> str:
    return " ".join(ids)


def split_ids(message_id: str) -> list[str]:
    return message_id.split()


async def edit_parts(
    old: Sequence[str],
    count: int,
    edit_one: Callable[[int, str], Awaitable[None]],
    send_one: Callable[[int], Awaitable[str]],
    delete_one: Callable[[str], Awaitable[None]],
) -> list[str]:
    """Edit a message of ``len(old)`` parts into one of ``count`` parts: the existing parts
    edited in place, parts it grew by sent after them, parts it no longer needs deleted.
    Returns the ids of the parts now."""
    ids: list[str] = []
    for i in range(count):
        if i < len(old):
            await edit_one(i, old[i])
            ids.append(old[i])
        else:
            ids.append(await send_one(i))
    for extra in old[count:]:
        await delete_one(extra)
    return ids
