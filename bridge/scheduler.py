"""Stored deadlines fired by APScheduler's asyncio scheduler, exactly once.

A deadline row is the canonical record (``schedule`` writes it in the caller's
transaction). Every process ticks; a tick claims each due row with a conditional UPDATE
and runs its handler in the same transaction, so the handler's effects (outbox rows, the
next reminder) commit together with the claim: a crash re-fires it later, a second process
finds it claimed. Nothing lives only in memory, so a restart loses no deadline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.db import affected, insert_ignore
from bridge.models import Deadline, OutboxRow, ProcessedEvent
from bridge.services import relay

if TYPE_CHECKING:
    from bridge.core import Bridge

__all__ = ["Deadlines"]

log = logging.getLogger(__name__)

EVENT_MEMORY = timedelta(days=7)
HISTORY = timedelta(days=30)


class Deadlines:
    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge
        self._scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[object]] = set()

    async def schedule(self, session: AsyncSession, kind: str, ref: str, due_at: datetime) -> None:
        """Set the one pending deadline of (kind, ref) to ``due_at`` (replacing an earlier one)."""
        await self.cancel(session, kind, ref)
        session.add(Deadline(kind=kind, ref=ref, due_at=due_at, created_at=self.bridge.clock.now()))
        await session.flush()

    async def ensure(self, session: AsyncSession, kind: str, ref: str, due_at: datetime) -> None:
        """A pending deadline of (kind, ref), unless one is pending already (safe when two
        transactions ask at once: the unique index keeps one)."""
        await session.execute(
            insert_ignore(
                session,
                Deadline,
                {
                    "kind": kind,
                    "ref": ref,
                    "due_at": due_at,
                    "created_at": self.bridge.clock.now(),
                },
                ["kind", "ref"],
                index_where=text("fired_at IS NULL"),
            )
        )

    async def cancel(self, session: AsyncSession, kind: str, ref: str) -> None:
        await session.execute(
            delete(Deadline).where(
                Deadline.kind == kind, Deadline.ref == ref, Deadline.fired_at.is_(None)
            )
        )

    async def pending(self, session: AsyncSession, kind: str, ref: str) -> Deadline | None:
        return (
            await session.execute(
                select(Deadline).where(
                    Deadline.kind == kind, Deadline.ref == ref, Deadline.fired_at.is_(None)
                )
            )
        ).scalar_one_or_none()

    async def tick(self) -> int:
        """Fire every due deadline once; returns how many this process fired."""
        now = self.bridge.clock.now()
        async with self.bridge.db.transaction() as session:
            due = (
                (
                    await session.execute(
                        select(Deadline.id)
                        .where(Deadline.fired_at.is_(None), Deadline.due_at <= now)
                        .order_by(Deadline.due_at, Deadline.id)
                        .limit(200)
                    )
                )
                .scalars()
                .all()
            )
        fired = 0
        for deadline_id in due:
            try:
                fired += await self._fire(deadline_id, now)
            except Exception:
                log.exception("deadline %s failed; it will be tried again", deadline_id)
        if fired:
            self.bridge.outbox.kick()
        return fired

    async def _fire(self, deadline_id: int, now: datetime) -> int:
        async with self.bridge.db.transaction() as session:
            claimed = await session.execute(
                update(Deadline)
                .where(Deadline.id == deadline_id, Deadline.fired_at.is_(None))
                .values(fired_at=now, fired_by=self.bridge.outbox.worker_id)
                .returning(Deadline.kind, Deadline.ref)
            )
            row = claimed.first()
            if row is None:
                return 0
            kind, ref = row
            handler = self.bridge.registry.deadlines.get(kind)
            if handler is None:
                log.warning("no handler for deadline kind %r (ref %s)", kind, ref)
                return 1
            await handler(session, self.bridge, ref)
            self.bridge.metrics.deadlines.labels(kind).inc()
            return 1

    async def prune(self) -> dict[str, int]:
        """Forget what is only kept against retries and for a look back: processed event ids
        after a week, delivered outbox rows and fired deadlines after 30 days. Failed and
        given-up deliveries stay for inspection."""
        now = self.bridge.clock.now()
        async with self.bridge.db.transaction() as session:
            events = await session.execute(
                delete(ProcessedEvent).where(ProcessedEvent.at < now - EVENT_MEMORY)
            )
            rows = await session.execute(
                delete(OutboxRow).where(
                    OutboxRow.status.in_(("sent", "dropped", "digested", "rerouted")),
                    OutboxRow.sent_at < now - HISTORY,
                )
            )
            fired = await session.execute(
                delete(Deadline).where(
                    Deadline.fired_at.is_not(None), Deadline.fired_at < now - HISTORY
                )
            )
            relayed = await relay.prune(session, now, self.bridge.config.relay.keep)
        inbox = await self.bridge.inbox.prune()
        return {
            "events": affected(events),
            "outbox": affected(rows),
            "deadlines": affected(fired),
            "relayed": relayed,
            "inbox": inbox,
        }

    def start(self) -> None:
        """Tick every second on the running loop (APScheduler's asyncio scheduler), prune
        hourly."""
        self._scheduler = AsyncIOScheduler()
        self._scheduler.add_job(
            self._job,
            "interval",
            args=(self.tick,),
            seconds=1,
            max_instances=1,
            coalesce=True,
            id="deadlines",
            misfire_grace_time=30,
        )
        self._scheduler.add_job(
            self._job,
            "interval",
            args=(self.bridge.outbox.send_digests,),
            minutes=10,
            max_instances=1,
            coalesce=True,
            id="digests",
        )
        self._scheduler.add_job(
            self._job,
            "interval",
            args=(self.prune,),
            hours=1,
            max_instances=1,
            coalesce=True,
            id="prune",
        )
        self._scheduler.start()

    async def _job(self, fn: Callable[[], Awaitable[object]]) -> None:
        """One run of a job; a stop in the middle ends it quietly (its transaction rolls
        back, so the deadline fires on the next start)."""
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            await fn()
        except asyncio.CancelledError:
            log.debug("job %s stopped", getattr(fn, "__name__", fn))
        finally:
            if task is not None:
                self._running.discard(task)

    def stop(self) -> None:
        """No new runs; a run in progress is left to finish (``aclose`` waits for it)."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None

    async def aclose(self, grace: float = 1.0) -> None:
        """Stop, and end a run still in progress (after ``grace`` seconds)."""
        self.stop()
        running = list(self._running)
        if not running:
            return
        _done, pending = await asyncio.wait(running, timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
