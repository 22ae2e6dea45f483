"""The append-only audit log of changes made by admins and hosts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bridge.models import AuditEntry

__all__ = ["record"]


async def record(
    session: AsyncSession,
    community_id: int,
    actor_id: int | None,
    action: str,
    target: str,
    at: datetime,
    **details: Any,
) -> None:
    session.add(
        AuditEntry(
            community_id=community_id,
            actor_id=actor_id,
            action=action,
            target=target,
            at=at,
            details=details,
        )
    )
    await session.flush()
