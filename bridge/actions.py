"""Compact, signed button tokens: ``<action>|<args>|<signature>``, at most 64 bytes.

Telegram's callback_data, Slack's action value and Discord's custom_id all carry the token.
The signature (HMAC with a key shared through the database) makes a forged or garbled
token fail verification; the handler decides whether the target is stale.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from bridge.errors import UserError
from bridge.i18n import N_
from bridge.messages import Button

__all__ = ["ActionCodec", "ExpiredButton"]

MAX_TOKEN = 64


class ExpiredButton(UserError):
    def __init__(self) -> None:
        super().__init__(N_("This button has expired."))


class ActionCodec:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _sign(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()[:6]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def encode(self, button: Button) -> str:
        for arg in button.args:
            if "|" in arg or "," in arg:
                raise ValueError(f"button argument {arg!r} contains a separator")
        body = f"{button.action}|{','.join(button.args)}"
        token = f"{body}|{self._sign(body)}"
        if len(token.encode()) > MAX_TOKEN:
            raise ValueError(f"button token too long ({len(token)} bytes): {token}")
        return token

    def decode(self, token: str) -> tuple[str, tuple[str, ...]]:
        """Return (action, args); raise ExpiredButton when the token is not one of ours."""
        body, sep, sig = token.rpartition("|")
        # bytes: compare_digest refuses str with non-ASCII characters (a forged token)
        try:
            expected = self._sign(body).encode()
            given = sig.encode()
        except UnicodeEncodeError:  # lone surrogates: never a token of ours
            raise ExpiredButton() from None
        if not sep or not hmac.compare_digest(given, expected):
            raise ExpiredButton()
        action, _, args = body.partition("|")
        return action, tuple(a for a in args.split(",") if a)
