"""Compact, signed button tokens: ``<action>|<args>|<issued>|<signature>``, at most 64
bytes.

Telegram's callback_data, Slack's action value and Discord's custom_id all carry the token.
The signature (HMAC with a key shared through the database) covers the action, its
arguments, when the token was issued (hours since 2025, base 36) and *where it was
shown*: the chat (the adapter's ``button_scope``; a private chat is its person). A token
pressed in another chat, a forged or garbled one, and one older than
``[community] buttons_expire`` are all "no longer valid"; a genuine but stale one
(``StaleButton``) lets the core draw its card again with fresh buttons.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bridge.errors import UserError
from bridge.i18n import N_
from bridge.messages import Button

__all__ = ["ActionCodec", "ExpiredButton", "StaleButton"]

MAX_TOKEN = 64
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


class ExpiredButton(UserError):
    """Not a button of ours for this chat, or no longer: the press changes nothing."""

    def __init__(self) -> None:
        super().__init__(N_("This button is no longer valid."))


class StaleButton(ExpiredButton):
    """Genuine and shown in this chat, but past its time (or of the older, unbound shape):
    its message may be drawn again with fresh buttons."""


def _base36(n: int) -> str:
    out = ""
    while True:
        n, d = divmod(n, 36)
        out = _DIGITS[d] + out
        if not n:
            return out


class ActionCodec:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _sign(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()[:6]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def encode(self, button: Button, scope: str, now: datetime) -> str:
        """The token for ``button`` shown in the chat ``scope`` at ``now``."""
        for arg in button.args:
            if "|" in arg or "," in arg:
                raise ValueError(f"button argument {arg!r} contains a separator")
        body = f"{button.action}|{','.join(button.args)}"
        issued = _base36(max(0, int((now - EPOCH).total_seconds() // 3600)))
        token = f"{body}|{issued}|{self._sign(f'{body}|{issued}|{scope}')}"
        if len(token.encode()) > MAX_TOKEN:
            raise ValueError(f"button token too long ({len(token)} bytes): {token}")
        return token

    def decode(
        self,
        token: str,
        scope: str | Sequence[str],
        now: datetime,
        max_age: timedelta | None = None,
    ) -> tuple[str, tuple[str, ...]]:
        """Return (action, args) of a token shown in ``scope`` (or in any of several: a
        chat, and the chat for one person); raise ExpiredButton when it is not one of
        ours there, StaleButton when it is but too old (``max_age``) or of the older
        shape without chat and time."""
        scopes = [scope] if isinstance(scope, str) else list(scope)
        fields = token.split("|")
        try:
            if len(fields) == 4:
                action, args, issued, sig = fields
                signed = [f"{action}|{args}|{issued}|{s}" for s in scopes]
            elif len(fields) == 3:  # before tokens knew their chat: genuine, but stale
                action, args, sig = fields
                issued, signed = "", [f"{action}|{args}"]
            else:
                raise ExpiredButton()
            # bytes: compare_digest refuses str with non-ASCII characters (a forged token)
            given = sig.encode()
            expected = [self._sign(body).encode() for body in signed]
        except UnicodeEncodeError:  # lone surrogates: never a token of ours
            raise ExpiredButton() from None
        if not any(hmac.compare_digest(given, e) for e in expected):
            raise ExpiredButton()
        if not issued:
            raise StaleButton()
        try:
            hours = int(issued, 36)
        except ValueError:
            raise ExpiredButton() from None
        if max_age and now - (EPOCH + timedelta(hours=hours)) > max_age:
            raise StaleButton()
        return action, tuple(a for a in args.split(",") if a)
