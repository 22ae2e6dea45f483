"""Translations: gettext catalogs (Babel ``.po`` files), one file per feature, merged per locale.

English is the source language (msgids are English). German lives in
``bridge/locale/de/LC_MESSAGES/*.po``; every feature adds its own file, so features never
edit one shared catalog. ``pybabel extract`` (see README) refreshes them.
"""

from __future__ import annotations

import gettext as _gettext
import io
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

__all__ = [
    "N_",
    "ROLE_PLURALS",
    "SUPPORTED",
    "WORDS",
    "Translator",
    "pick_locale",
    "set_timezone",
    "translator",
]

SUPPORTED = ("en", "de")
LOCALE_DIR = Path(__file__).parent / "locale"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now (help texts, labels)."""
    return message


#: "Only {role} may ..." takes these, translated.
ROLE_PLURALS = {
    "all": N_("everyone"),
    "member": N_("members"),
    "host": N_("hosts"),
    "admin": N_("admins"),
}
#: Words shown from stored values (roles, visibilities), marked for extraction.
WORDS = (N_("member"), N_("host"), N_("admin"), N_("closed"), N_("internal"), N_("public"))


class Translator:
    """gettext and ngettext for one locale."""

    def __init__(self, locale: str, translations: _gettext.NullTranslations) -> None:
        self.locale = locale
        self._t = translations

    def gettext(self, message: str) -> str:
        return self._t.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._t.ngettext(singular, plural, n)

    __call__ = gettext

    def when(self, at: datetime) -> str:
        """A moment as the reader writes it, in the community's time zone
        (``01.12.2026, 16:41`` in German, ``Dec 1, 2026, 4:41 PM`` in English)."""
        from babel.dates import format_date, format_time

        local = at.astimezone(ZoneInfo(_ZONE[0]))
        day = format_date(local, "medium", locale=self.locale)
        return f"{day}, {format_time(local, 'short', locale=self.locale)}"

    def span(self, delta: timedelta) -> str:
        """A duration in words, its two largest units (``1 Tag, 2 Stunden``, ``45 minutes``)."""
        from babel.units import format_unit

        total = abs(int(delta.total_seconds()))
        pieces: list[str] = []
        for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
            if total >= size or (unit == "second" and not pieces):
                value, total = divmod(total, size)
                pieces.append(
                    format_unit(value, f"duration-{unit}", length="long", locale=self.locale)
                )
            if len(pieces) == 2:
                break
        return ("-" if delta.total_seconds() < 0 else "") + " ".join(pieces)


def _load(locale: str) -> _gettext.NullTranslations:
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    merged: _gettext.NullTranslations | None = None
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        part = _gettext.GNUTranslations(buf)
        if merged is None:
            merged = part
        else:
            merged.add_fallback(part)
    return merged or _gettext.NullTranslations()


@cache
def translator(locale: str) -> Translator:
    """The Translator for a supported locale (anything else: English)."""
    locale = locale if locale in SUPPORTED else "en"
    if locale == "en":
        return Translator("en", _gettext.NullTranslations())
    return Translator(locale, _load(locale))


#: the community's time zone (``[community] timezone``), set once at start
_ZONE = ["Europe/Berlin"]


def set_timezone(name: str) -> None:
    _ZONE[0] = name


def pick_locale(platform_locale: str | None, default: str) -> str:
    """A person's platform locale wins when supported (``de-DE`` → ``de``), else the default."""
    if platform_locale:
        short = platform_locale.replace("_", "-").split("-")[0].lower()
        if short in SUPPORTED:
            return short
    return default if default in SUPPORTED else "en"
