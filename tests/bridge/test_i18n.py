"""Every user-facing string has a German translation; a person's platform locale wins."""

from __future__ import annotations

import sys
from pathlib import Path

from bridge.core import Bridge
from bridge.i18n import pick_locale, translator
from bridge.messages import AccountRef, ChannelRef, Invocation

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from missing_translations import missing


def test_german_catalog_is_complete() -> None:
    gaps = [f"{path.name}:{line}: {msg!r}" for msg, path, line in missing()]
    assert gaps == [], "untranslated (run scripts/missing_translations.py):\n" + "\n".join(gaps)


def test_placeholders_survive_translation() -> None:
    import re

    from babel.messages.pofile import read_po

    folder = Path(__file__).resolve().parents[2] / "bridge" / "locale" / "de" / "LC_MESSAGES"
    for po in folder.glob("*.po"):
        with po.open("rb") as fh:
            catalog = read_po(fh)
        for message in catalog:
            if not message.id or not message.string:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            wanted = set(re.findall(r"\{\w+\}", ids[-1]))
            for text in strings:
                assert set(re.findall(r"\{\w+\}", text)) <= wanted | set(
                    re.findall(r"\{\w+\}", ids[0])
                ), f"{po.name}: {message.id!r}"


def test_pick_locale() -> None:
    assert pick_locale("de-DE", "en") == "de"
    assert pick_locale("de_AT", "en") == "de"
    assert pick_locale("fr", "de") == "de"
    assert pick_locale(None, "en") == "en"
    assert translator("de").gettext("Usage:") == "Verwendung:"


async def test_platform_locale_wins_over_community_default(bridge: Bridge) -> None:
    inv = Invocation(
        channel=ChannelRef(platform="console", chat="#general"),
        account=AccountRef(platform="console", user_id="bob", locale="de-DE"),
        command="frobnicate",
    )
    [reply] = await bridge.handle(inv)
    assert reply.text.startswith("Den Befehl /frobnicate kenne ich nicht.")
