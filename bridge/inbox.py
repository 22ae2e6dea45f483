"""The inbox: nothing a platform hands us is lost.

Every incoming event (a command, a button press, a form, a plain message) is stored here,
keyed by the platform's own id for it, *before* the platform is told it was received:
Telegram's next ``getUpdates`` offset, Slack's HTTP 200 or Socket Mode ack, Discord's
interaction callback. The process that stored it handles it at once and marks it done; a
process that dies in between leaves it ``pending``, and whoever comes next resumes it:

- the same process restarted (same host and HTTP port, ``take_over``) at once,
- any other process once its lease ran out (``resume``, every few seconds).

A platform's retry of an event already stored (done, or in another process's hands)
changes nothing: ``store`` says it is not new, and the adapter only acknowledges it. An
event resumed after its handler had committed is a duplicate to the pipeline
(``processed_events``), so nothing is applied twice either way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, or_, select, update

from bridge.db import affected, insert_ignore
from bridge.models.inbox import InboxEvent
from bridge.sanitize import storable

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bridge.core import Bridge

__all__ = ["Inbox"]

log = logging.getLogger(__name__)

#: how long an event stays with the process that took it before another may resume it
LEASE = timedelta(seconds=30)
#: handling that broke this often is given up (kept as ``failed``, logged)
MAX_ATTEMPTS = 5
#: done events are kept this long against the platforms' retries (Slack: up to an hour)
KEEP = timedelta(days=2)
RESUME_EVERY = 2.0


class Inbox:
    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge

    @property
    def owner(self) -> str:
        return self.bridge.outbox.worker_id

    def _now(self) -> datetime:
        return self.bridge.clock.now()

    async def store(self, platform: str, events: Sequence[tuple[str, dict[str, Any]]]) -> set[str]:
        """Store ``(key, payload)`` events in one transaction, in hand with this process;
        the keys that were new (the others were stored before: a retry, or another
        process has them). Raises when the database cannot be reached: then nothing may
        be acknowledged."""
        if not events:
            return set()
        now = self._now()
        rows = [
            {
                "platform": platform,
                "key": key[:200],
                "payload": storable(payload),
                "status": "pending",
                "owner": self.owner,
                "lease_until": now + LEASE,
                "attempts": 1,
                "received_at": now,
            }
            for key, payload in events
        ]
        async with self.bridge.db.transaction() as session:
            stmt = insert_ignore(session, InboxEvent, rows, ["platform", "key"])
            new = set((await session.execute(stmt.returning(InboxEvent.key))).scalars())
        self.bridge.metrics.inbox.labels(platform, "stored").inc(len(new))
        if len(new) < len(rows):
            self.bridge.metrics.inbox.labels(platform, "again").inc(len(rows) - len(new))
        return new

    async def in_hand(self, platform: str, key: str) -> bool:
        """Stored and not handled yet (by this process or another)."""
        async with self.bridge.db.reading() as session:
            status = (
                await session.execute(
                    select(InboxEvent.status).where(
                        InboxEvent.platform == platform, InboxEvent.key == key[:200]
                    )
                )
            ).scalar_one_or_none()
        return status == "pending"

    async def done(self, platform: str, key: str, failed: bool = False) -> None:
        """The event was handled (or, ``failed``, its handling broke: it is resumed later,
        up to ``MAX_ATTEMPTS`` times)."""
        now = self._now()
        async with self.bridge.db.transaction() as session:
            row = and_(InboxEvent.platform == platform, InboxEvent.key == key[:200])
            if failed:
                await session.execute(
                    update(InboxEvent)
                    .where(row, InboxEvent.status == "pending")
                    .values(lease_until=now + timedelta(seconds=RESUME_EVERY))
                )
                return
            await session.execute(
                update(InboxEvent)
                .where(row)
                .values(status="done", done_at=now, owner=None, lease_until=None)
            )

    async def refuse(self, platform: str, keys: Sequence[str]) -> int:
        """Events stored too late (the person was already told nothing changed): set
        aside as ``refused``, never handled; a retry of one is only acknowledged."""
        async with self.bridge.db.transaction() as session:
            result = await session.execute(
                update(InboxEvent)
                .where(
                    InboxEvent.platform == platform,
                    InboxEvent.key.in_([k[:200] for k in keys]),
                    InboxEvent.status == "pending",
                    InboxEvent.owner == self.owner,
                )
                .values(status="refused", owner=None, lease_until=None, done_at=self._now())
            )
        log.warning("inbox: %s events %s stored too late; set aside", platform, ", ".join(keys))
        return affected(result)

    async def take_over(self, identity: str) -> int:
        """Events this process's predecessor of the same identity had in hand when it
        died are due at once (nobody else holds its port)."""
        async with self.bridge.db.transaction() as session:
            result = await session.execute(
                update(InboxEvent)
                .where(
                    InboxEvent.status == "pending",
                    InboxEvent.owner.startswith(f"{identity}/", autoescape=True),
                    InboxEvent.owner != self.owner,
                )
                .values(lease_until=self._now())
            )
        return affected(result)

    async def claim(self, platforms: Sequence[str], limit: int = 50) -> list[InboxEvent]:
        """Pending events whose lease ran out, oldest first, now in this process's hands."""
        if not platforms:
            return []
        now = self._now()
        async with self.bridge.db.transaction() as session:
            query = (
                select(InboxEvent)
                .where(
                    InboxEvent.status == "pending",
                    InboxEvent.platform.in_(platforms),
                    or_(InboxEvent.lease_until.is_(None), InboxEvent.lease_until <= now),
                )
                .order_by(InboxEvent.id)
                .limit(limit)
            )
            if session.bind is not None and session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list((await session.execute(query)).scalars())
            for row in rows:
                row.attempts += 1
                if row.attempts > MAX_ATTEMPTS:
                    row.status = "failed"
                    log.error(
                        "inbox: %s event %s failed %d times; given up",
                        row.platform,
                        row.key,
                        MAX_ATTEMPTS,
                    )
                    continue
                row.owner = self.owner
                row.lease_until = now + LEASE
            session.expunge_all()
        return [r for r in rows if r.status == "pending"]

    async def resume(self, platforms: Sequence[str] | None = None) -> int:
        """Hand the due events to their adapters, one after the other; how many.
        ``platforms``: only these (an adapter about to take new events), else every
        ready one."""
        ready = (
            list(platforms)
            if platforms is not None
            else [p for p, a in self.bridge.adapters.items() if a.state == "ready"]
        )
        n = 0
        for row in await self.claim(ready):
            adapter = self.bridge.adapters[row.platform]
            log.info("inbox: resuming %s event %s", row.platform, row.key)
            self.bridge.metrics.inbox.labels(row.platform, "resumed").inc()
            try:
                await adapter.redeliver(row.key, row.payload)
            except Exception:
                log.exception("inbox: resuming %s event %s failed", row.platform, row.key)
                await self.done(row.platform, row.key, failed=True)
                continue
            await self.done(row.platform, row.key)
            n += 1
        return n

    async def run(self, stop: asyncio.Event) -> None:
        """Resume what was left every few seconds until ``stop``."""
        while not stop.is_set():
            try:
                await self.resume()
            except Exception as exc:  # the database may be away for a while
                log.warning("inbox: resuming failed: %r", exc)
            try:
                await asyncio.wait_for(stop.wait(), timeout=RESUME_EVERY)
            except TimeoutError:
                pass

    async def backlog(self, session: AsyncSession) -> dict[str, Any]:
        """Events stored and not yet handled, failed ones, and how long the oldest pending
        one has waited (seconds; /healthz)."""
        counts = dict(
            (
                await session.execute(
                    select(InboxEvent.status, func.count())
                    .where(InboxEvent.status.in_(("pending", "failed")))
                    .group_by(InboxEvent.status)
                )
            ).all()
        )
        oldest = (
            await session.execute(
                select(func.min(InboxEvent.received_at)).where(InboxEvent.status == "pending")
            )
        ).scalar_one_or_none()
        waited = (self._now() - oldest).total_seconds() if oldest is not None else 0.0
        return {
            "pending": int(counts.get("pending", 0)),
            "failed": int(counts.get("failed", 0)),
            "oldest_pending_seconds": round(max(waited, 0.0), 1),
        }

    async def prune(self) -> int:
        async with self.bridge.db.transaction() as session:
            result = await session.execute(
                delete(InboxEvent).where(
                    InboxEvent.status.in_(("done", "refused")),
                    InboxEvent.done_at < self._now() - KEEP,
                )
            )
        return affected(result)
