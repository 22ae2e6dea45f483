"""Errors that become a clear message in chat and change nothing.

The message is an English msgid; the dispatcher translates it for the person and fills
``params`` in (so a raise site need not know the reader's language)::

    raise NotFound(N_("There is no group called {name}."), name=name)
"""

from __future__ import annotations

from typing import Any

__all__ = ["BridgeError", "Denied", "NotFound", "UsageError", "UserError"]


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
