"""Parsing and formatting of human durations such as ``30m``, ``4h``, ``3d`` or ``1h30m``."""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["format_duration", "parse_duration"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+)\s*([smhdw])")
_WHOLE = re.compile(r"^\s*(?:\d+\s*[smhdw]\s*)+$")


def parse_duration(text: str) -> timedelta:
    """Parse ``2h``, ``3d``, ``1h30m``, ``90s``; raise ValueError on anything else or zero."""
    raw = text.strip().lower()
    if not _WHOLE.match(raw):
        raise ValueError(f"bad duration {text!r} (use e.g. 30m, 4h, 3d, 1h30m)")
    seconds = sum(int(n) * _UNITS[u] for n, u in _PART.findall(raw))
    if seconds <= 0:
        raise ValueError(f"bad duration {text!r}: must be longer than zero")
    return timedelta(seconds=seconds)


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
