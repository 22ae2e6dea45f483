"""One cleaning step for text that comes in from a platform: what no database or terminal
should ever get (NUL, lone surrogates) is removed before any handler sees it."""

from __future__ import annotations

import re

__all__ = ["clean", "csv_cell"]

_BAD = re.compile("[\x00\ud800-\udfff]")


def clean(text: str) -> str:
    """``text`` without NUL bytes and lone surrogates (PostgreSQL refuses both in text)."""
    return _BAD.sub("", text) if text else text


def csv_cell(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text
