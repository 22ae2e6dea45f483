"""Long content for the adapter tests: what must arrive whole on every platform (issue 15).

A long German idea, a long list of groups, the results of a 30-question survey.
"""

from __future__ import annotations

import tomllib

from bridge.core import Bridge
from bridge.messages import AccountRef, ChannelRef, Invocation

#: a description of 3,900 characters in paragraphs, umlauts and ß included
PARAGRAPH = (
    "Wir schlagen vor, die Lieferungen an die Filialen in Süddeutschland gebündelt "
    "über das Außenlager zu führen; größere Fahrzeuge, weniger Fahrten, pünktlichere Ankunft."
)
DESCRIPTION = "\n\n".join(f"{i}. {PARAGRAPH}" for i in range(1, 24))[:3900].rstrip()
TITLE = "Gebündelte Lieferungen über das Außenlager"
LAST_WORDS = DESCRIPTION.split()[-3:]

GROUPS = [f"arbeitsgruppe-{i:03d}-qualitaetssicherung-und-lieferkette" for i in range(220)]


async def make_groups(bridge: Bridge, admin: AccountRef) -> None:
    """Many groups (a /groups list of more than 12,000 characters), made by an admin."""
    here = ChannelRef(platform=admin.platform, chat=admin.user_id, dm=True)
    for name in GROUPS:
        [reply] = await bridge.handle(
            Invocation(channel=here, account=admin, command="group", args=f"new {name}")
        )
        assert "created" in reply.text.lower() or name in reply.text, reply.text


def survey_toml(questions: int = 30) -> str:
    parts = ['title = "Kundenbefragung 2026"', 'closes = "3d"']
    for q in range(1, questions + 1):
        options = ", ".join(
            f'"Antwort {q}.{o}: sehr zufrieden mit Lieferung und Beratung"' for o in range(1, 6)
        )
        parts.append(
            "[[questions]]\n"
            'kind = "single"\n'
            f'text = "Frage {q}: Wie zufrieden sind Sie mit der Lieferzeit, der Beratung '
            f'und der Qualität der Ware im Quartal {q}?"\n'
            f"options = [{options}]"
        )
    return "\n\n".join(parts)


async def make_long_survey(bridge: Bridge, group: str) -> None:
    from bridge.services import groups as groups_svc
    from bridge.services import surveys as svc

    spec = svc.parse_spec(tomllib.loads(survey_toml()), "survey.toml")
    async with bridge.db.transaction() as s:
        assert bridge.community_id is not None
        target = await groups_svc.get_group(s, bridge.community_id, group)
        await svc.create_survey(s, bridge, bridge.community_id, target, None, spec, "form")
    bridge.outbox.kick()


def assert_whole(texts: list[str], needles: list[str]) -> None:
    """Every needle shows in the parts, and the parts are numbered 1..n when split."""
    joined = "\n".join(texts)
    missing = [n for n in needles if n not in joined]
    assert not missing, f"missing {missing[:3]} in {len(texts)} parts"
    if len(texts) > 1:
        for i, text in enumerate(texts, 1):
            assert f"({i}/{len(texts)})" in text, (i, text[-40:])
