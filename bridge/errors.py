"""Errors that become a clear message in chat and change nothing.

The message is an English msgid; the dispatcher translates it for the person and fills
``params`` in (so a raise site need not know the reader's language)::

    raise NotFound(N_("There is no group called {name}."), name=name)
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BridgeError",
    "Denied",
    "NotFound",
    "TooLong",
    "UsageError",
    "UserError",
    "check_length",
]


class BridgeError(Exception):
    """Base of the bridge's own errors."""


class UserError(BridgeError):
    """Something the user can fix; shown to them, translated, and nothing is changed."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params

    def render(self, gettext: Any) -> str:
        text: str = gettext(self.message)
        return text.format(**self.params) if self.params else text


class UsageError(UserError):
    """The arguments do not fit the command's grammar; usage is shown with the reason."""


class Denied(UserError):
    """The person may not do this here."""


class NotFound(UserError):
    """A named record does not exist or is not visible to the person."""


class TooLong(UserError):
    """One wording for every text over its limit: ``The title is too long (201 characters,
    at most 200).`` ``what`` is a msgid too, translated with the message."""

    def __init__(self, what: str, length: int, limit: int, hint: str = "") -> None:
        from bridge.i18n import N_

        super().__init__(
            N_("{what} is too long ({length} characters, at most {limit})."),
            what=what,
            length=length,
            limit=limit,
        )
        self.hint = hint

    def render(self, gettext: Any) -> str:
        text: str = gettext(self.message).format(
            what=gettext(self.params["what"]),
            length=self.params["length"],
            limit=self.params["limit"],
        )
        return f"{text} {gettext(self.hint)}" if self.hint else text


def check_length(text: str, limit: int, what: str, hint: str = "") -> str:
    """``text`` if it is within ``limit`` characters; else TooLong."""
    if len(text) > limit:
        raise TooLong(what, len(text), limit, hint)
    return text
