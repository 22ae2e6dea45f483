"""Per-community record numbers (``I-n``, ``Q-n``, ``S-n``) without process-local counters."""

from __future__ import annotations

import re

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.db import insert_ignore
from bridge.errors import UsageError
from bridge.i18n import N_
from bridge.models import Counter

__all__ = ["format_ref", "next_number", "parse_ref"]


async def next_number(session: AsyncSession, community_id: int, kind: str) -> int:
    """The next number of ``kind``; the counter row is locked until the transaction ends."""
    await session.execute(
        insert_ignore(
            session,
            Counter,
            {"community_id": community_id, "kind": kind, "value": 0},
            ["community_id", "kind"],
        )
    )
    result = await session.execute(
        update(Counter)
        .where(Counter.community_id == community_id, Counter.kind == kind)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    )
    return int(result.scalar_one())


def format_ref(prefix: str, number: int) -> str:
    return f"{prefix}-{number}"


def parse_ref(prefix: str, text: str) -> int:
    """Accept ``I-12``, ``i-12``, ``#12`` and ``12`` for prefix ``I``."""
    m = re.fullmatch(rf"(?:{prefix}-?|#)?(\d{{1,9}})", text.strip(), flags=re.IGNORECASE)
    if not m:
        raise UsageError(
            N_("'{word}' is not an id like {example}."), word=text, example=f"{prefix}-12"
        )
    return int(m.group(1))
