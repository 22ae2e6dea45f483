"""One cleaning step for text that comes in from a platform: what no database or terminal
should ever get (NUL, lone surrogates, control characters, bidi overrides) is removed
before any handler sees it."""

from __future__ import annotations

import re

__all__ = ["clean", "csv_cell", "is_number", "storable"]

#: NUL and lone surrogates (PostgreSQL refuses both in text), the other C0 and C1
#: control characters but tab and newline, and the bidi embeddings, overrides and
#: isolates that can make a text read differently from what it says (U+202A-U+202E,
#: U+2066-U+2069); carriage returns become newlines
_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def clean(text: str) -> str:
    """``text`` as the bot may keep and show it: without NUL, lone surrogates, control
    characters (tab and newline stay) and bidi overrides."""
    if not text:
        return text
    return _BAD.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: object) -> object:
    """A JSON value as the database can keep it: NUL and lone surrogates out of every
    string in it (keys too); everything else as it came (handlers clean it later)."""
    if isinstance(value, str):
        return _UNSTORABLE.sub("", value)
    if isinstance(value, dict):
        return {str(storable(k)): storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(v) for v in value]
    return value


def csv_cell(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


def is_number(text: str, digits: int = 9) -> bool:
    """A plain decimal number that fits a database integer: ASCII digits only ("²" and
    "٣" are digits to ``str.isdigit`` but not to ``int``), at most ``digits`` of them."""
    return text.isascii() and text.isdigit() and len(text) <= digits
