"""Parsing and formatting of human durations such as ``30m``, ``4h``, ``3d`` or ``1h30m``."""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["LONGEST", "format_duration", "parse_duration", "user_duration"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
#: no duration the bot takes is longer (ten years); the caller may set a tighter bound
LONGEST = timedelta(days=3650)
_PART = re.compile(r"(\d+)\s*([smhdw])")
_WHOLE = re.compile(r"^\s*(?:\d+\s*[smhdw]\s*)+$")


def parse_duration(text: str, longest: timedelta = LONGEST) -> timedelta:
    """Parse ``2h``, ``3d``, ``1h30m``, ``90s``; raise ValueError on anything else, on zero
    and on more than ``longest``."""
    raw = text.strip().lower()
    if len(raw) > 40 or not _WHOLE.match(raw):
        raise ValueError(f"bad duration {text[:40]!r} (use e.g. 30m, 4h, 3d, 1h30m)")
    seconds = sum(int(n[:12]) * _UNITS[u] for n, u in _PART.findall(raw))
    if seconds <= 0:
        raise ValueError(f"bad duration {text!r}: must be longer than zero")
    if seconds > longest.total_seconds():
        raise ValueError(f"bad duration {text!r}: at most {format_duration(longest)}")
    return timedelta(seconds=seconds)


def user_duration(
    text: str | None, longest: timedelta = LONGEST, bad: str | None = None
) -> timedelta:
    """A duration typed in chat: refused with a clear message naming what is wrong, and the
    longest allowed. ``bad``: the msgid for a value that is no duration (``{value}``)."""
    from bridge.errors import UsageError
    from bridge.i18n import N_

    value = (text or "").strip()
    try:
        return parse_duration(value, longest)
    except ValueError as exc:
        if "at most" in str(exc):
            raise UsageError(
                N_("'{value}' is too long: at most {longest}."),
                value=value[:40],
                longest=format_duration(longest),
            ) from None
        raise UsageError(
            bad or N_("'{value}' is not a duration; use for example 30m, 2h or 3d."),
            value=value[:40],
        ) from None


def format_duration(delta: timedelta) -> str:
    """Format a timedelta compactly: ``1d 2h``, ``45m``, ``30s``; negative values get a minus."""
    total = int(delta.total_seconds())
    sign = "-" if total < 0 else ""
    total = abs(total)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if total >= size:
            parts.append(f"{total // size}{unit}")
            total %= size
    if total or not parts:
        parts.append(f"{total}s")
    return sign + " ".join(parts[:2])
