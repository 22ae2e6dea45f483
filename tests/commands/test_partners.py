"""The partner network as console transcripts: profiles with trades and regions,
references a customer confirms, recommendations through host approval, search, private
profiles, the CRM export; bad input answers with the reason and changes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from bridge.core import Bridge
from bridge.models.partners import Profile, Recommendation, Reference
from tests.chat import Chat
from tests.conftest import BACKEND, PG_URL, BridgeFactory, attach_console


async def _network(chat: Chat) -> None:
    await chat("/group new trades", "/link trades", "/trades add Elektriker", "/trades add Maler")
    await chat.as_("eva")
    await chat("/groups")  # eva is known to the bot
    await chat.as_("max")
    await chat(
        "/profile set company Meier Elektro",
        "/profile set trade elektriker",
        "/profile set region 80331 München",
        "/profile set website https://meier.example",
    )


async def test_profiles_references_recommendations_and_search(chat: Chat, bridge: Bridge) -> None:
    await _network(chat)
    out = await chat("/profile")
    assert out.lines[:3] == [
        "[#general] (only max) 🏷 Meier Elektro (max)",
        "  Elektriker · 80331 München",
        "  https://meier.example",
    ]
    out = await chat(
        '/reference add "Schulhaus Nord" | Komplette Elektrik https://meier.example/s '
        "customer console:eva"
    )
    assert "R-1 is on your profile; it names the customer once they confirm it." in out
    assert "[@eva] @max names you as the customer of the project Schulhaus Nord (R-1)." in out
    out = await chat("/profile")
    assert "  • R-1 Schulhaus Nord: Komplette Elektrik https://meier.example/s" in out.lines
    await chat.as_("dora", "@")
    out = await chat(":press 1")  # dora did not get the question; the last buttons are eva's
    assert "Only the customer named in R-1 may answer this." in out
    await chat.as_("eva", "@")
    out = await chat(":press 1")
    assert "Thank you: R-1 now names you as its customer." in out
    await chat(":channel general")
    out = await chat("/recommend console:max Schnell und sauber")
    assert "Your recommendation #1 goes to the hosts" in out
    out = await chat("/recommend console:max Again")
    assert "You recommended console:max already" in out
    out = await chat("/profile console:max")
    assert "recommendation" not in out  # not approved yet
    await chat.as_("admin")
    out = await chat("/recommend queue")
    assert "  #1 eva recommends max: Schnell und sauber" in out.lines
    out = await chat("/recommend approve 1", "/recommend approve 1")
    assert "Recommendation #1 is approved; it shows on the profile." in out
    assert "Recommendation #1 is decided already." in out
    out = await chat("/profile console:max")
    assert "  • R-1 Schulhaus Nord — customer: eva: Komplette Elektrik" in out
    assert "  1 recommendation:" in out.lines
    assert "  “Schnell und sauber” — eva" in out.lines
    out = await chat("/partners elektriker 80")
    assert "  Meier Elektro (max) — Elektriker · 80331 München — 1 recommendation" in out.lines
    out = await chat("/partners maler", "/partners elektriker 10")
    assert out.count("No partner matches that. Try fewer words.") == 2
    out = await chat("/stats")
    assert "  Most recommended partners: max (1)" in out.lines


async def test_bad_input_changes_nothing(chat: Chat, bridge: Bridge) -> None:
    await _network(chat)
    for line, expected in (
        ("/profile set trade Bäcker", "Bäcker is not on the list of trades. Choose one of:"),
        ("/profile set website meier.example", "A website starts with https:// or http://."),
        ("/profile set colour red", "'colour' is not one of company, trade, region"),
        ("/profile set private maybe", "private takes on or off."),
        ("/recommend console:max", "<text> is missing."),
        ("/recommend console:max myself", "You cannot recommend yourself."),
        ('/reference add "X" www.example.com', "A link starts with https:// or http://."),
        ("/reference remove R-9", "You have no reference R-9."),
        ("/trades add Dachdecker", "Only admins may change the list of trades."),
        ("/profile console:nobody", "console:nobody has no profile yet."),
    ):
        out = await chat(line)
        assert expected in out, (line, str(out))
    async with bridge.db.transaction() as s:
        assert (await s.execute(select(func.count()).select_from(Reference))).scalar_one() == 0
        assert (await s.execute(select(func.count()).select_from(Recommendation))).scalar_one() == 0
        profile = await s.get(Profile, 2)
    assert profile is None or profile.website == "https://meier.example"


async def test_a_private_profile_stays_within_its_groups(chat: Chat) -> None:
    await _network(chat)
    await chat("/profile set private on")
    await chat.as_("eva")
    out = await chat("/profile console:max", "/partners elektriker")
    assert "There is no profile of console:max that you can see." in out
    assert "No partner matches that." in out
    await chat.as_("admin")
    await chat("/group new elektro closed", "/role console:max member elektro")
    await chat("/role console:eva member elektro")
    await chat.as_("eva")
    out = await chat("/profile console:max")
    assert "🏷 Meier Elektro (max)" in out  # a member of one of max's groups


async def test_the_partner_network_in_german(make_bridge: BridgeFactory) -> None:
    bridge = await make_bridge(community={"locale": "de", "admins": ["console:admin"]})
    printed: list[str] = []
    chat = Chat(bridge, attach_console(bridge, printed), printed)
    await _network(chat)
    out = await chat("/profile set trade Bäcker")
    assert (
        "Bäcker steht nicht auf der Liste der Gewerke. Wähle eines von: Elektriker, Maler." in out
    )
    out = await chat("/profile set description Wir verlegen Kabel und Leitungen.")
    assert "Beschreibung ist gesetzt." in out
    # the words are found by their stems in the search index; every word must meet
    out = await chat("/partners Kabeln", "/partners elektriker Leitung", "/partners Kabel Gas")
    assert out.count("Meier Elektro (max) — Elektriker · 80331 München") == 2
    assert "Dazu passt kein Partner. Versuch es mit weniger Wörtern." in out
    await chat.as_("eva")
    out = await chat("/recommend console:max Schnell und sauber")
    assert "Danke! Deine Empfehlung #1 geht an die Gastgeber" in out
    await chat.as_("admin")
    out = await chat("/recommend queue")
    assert "1 Empfehlung wartet:" in out


def test_export_profiles_for_the_crm(tmp_path: Path, bridge: Bridge) -> None:
    url = PG_URL if BACKEND == "postgres" else str(bridge.config.database.url)
    config = tmp_path / "bot.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    for fmt in ("csv", "json"):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "bridge",
                "export",
                "profiles",
                "--format",
                fmt,
                "--config",
                str(config),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        if fmt == "json":
            assert json.loads(result.stdout) == []
        else:
            assert result.stdout.startswith("name,accounts,company,trade,region")


async def test_several_fields_at_once_and_one_bad_value_changes_nothing(chat: Chat) -> None:
    await _network(chat)
    out = await chat('/profile edit company "Meier & Söhne" region 80 contact "Tel. 089 123"')
    assert "Your profile is saved (Company, Region, Contact)." in out
    assert "🏷 Meier & Söhne (max)" in out
    out = await chat('/profile edit company "Other" website meier.example')
    assert "A website starts with https:// or http://." in out
    assert "Usage:" in out
    out = await chat("/profile")
    assert "🏷 Meier & Söhne (max)" in out  # the good field of the refused edit did not land
    out = await chat("/profile edit region -")
    assert "Your profile is saved (Region)." in out
    out = await chat("/profile edit colour red")
    assert "I did not expect 'colour'." in out


async def test_field_by_field_in_the_private_chat(chat: Chat) -> None:
    await _network(chat)
    out = await chat("/profile edit")  # the console has no forms: the private chat asks
    assert "I'll ask for each field of your profile in turn." in out
    assert "1/6 Company? Now: Meier Elektro" in out
    await chat(":channel @")
    out = await chat(".")
    assert "2/6 Trade? Choose one of: Elektriker, Maler. Now: Elektriker" in out
    out = await chat("Bäcker")  # refused with the reason; the question stays
    assert "Bäcker is not on the list of trades." in out
    out = await chat("maler")
    assert "3/6 Region? Now: 80331 München" in out
    out = await chat("-", "Wir streichen alles.")
    assert "4/6 Description? Now empty." in out
    assert "5/6 Website? Now: https://meier.example" in out
    out = await chat("www.meier.example")
    assert "A website starts with https:// or http://." in out
    out = await chat(".", "stop")
    assert "6/6 Contact? Now empty." in out
    assert "Nothing changed in your profile." not in out or "Meier Elektro" in out
    out = await chat("/profile")
    assert "  Maler" in out.lines
    assert "  Wir streichen alles." in out.lines
    out = await chat("hello")  # the edit is over: a plain message is nobody's answer now
    assert "Company" not in out


async def test_field_by_field_in_german(make_bridge: BridgeFactory) -> None:
    bridge = await make_bridge(community={"locale": "de", "admins": ["console:admin"]})
    printed: list[str] = []
    chat = Chat(bridge, attach_console(bridge, printed), printed)
    await _network(chat)
    out = await chat("/profile edit")
    assert "1/6 Firma? Jetzt: Meier Elektro" in out
    await chat(":channel @")
    out = await chat("Meier GmbH", ".", ".", ".", ".", "Tel. 089 1")
    assert "Dein Profil ist gespeichert." in out
    assert "🏷 Meier GmbH (max)" in out
