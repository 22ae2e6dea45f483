"""Delivery of outgoing messages through the outbox table.

Writers add rows in the transaction of the change that causes them (``post``,
``post_to_group``, ``refresh``, ``notify``). The worker claims due rows with a lease,
hands each to its platform's adapter, and records the platform's message id in the same
step that marks the row sent. A crash before the send leaves the row pending (sent later,
once); a lease that runs out makes a claimed row due again. Tracked messages (``ref_key``
such as ``idea:12``) are drawn by their renderer at send time and edited on ``refresh``, so
every card converges to the stored state; refreshes of one ref coalesce into one edit.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import and_, delete, func, insert, or_, select, text, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.adapter import ChannelGone, RetryLater
from bridge.db import affected, insert_ignore
from bridge.messages import ChannelRef, Mention, Message, Part
from bridge.models import Account, Channel, ChannelLink, OutboxRow, Person, PostedMessage
from bridge.shaping import DatabaseWindows, LocalWindows, RedisWindows, Shaper, Windows, parse_limit

if TYPE_CHECKING:
    from bridge.core import Bridge

__all__ = ["Outbox"]

T = TypeVar("T")

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)
BATCH = 100
#: kept for operators: "failed" (the channel is gone), "dead" (given up after retries)
FAILED_STATUSES = ("failed", "dead")
NOTIFY_CHANNEL = "community_bridge_outbox"
#: how a row postponed by the platform's rate limit starts its ``last_error``: its channel's
#: later rows wait for it (order is kept), unlike a failure's backoff
RATE_LIMITED = "rate limited: "
OPERATOR_STATUSES = ("pending", "sending", "held", "failed", "dead")


class _WaitForParent(Exception):
    """A reply whose card in the same channel has not been sent yet."""


def _shaper(bridge: Bridge) -> Shaper:
    """The platforms' limits (their adapters' declarations, or ``[delivery] limits``),
    kept in Redis when ``[redis] url`` is set, else in the database on PostgreSQL (shared
    by every process), else in this process (SQLite)."""
    from bridge.plugins import adapter_classes

    settings = bridge.config.delivery
    limits = {name: tuple(cls.limits) for name, cls in adapter_classes().items()}
    for platform, items in settings.limits.items():
        limits[platform] = tuple(parse_limit(item) for item in items)
    store: Windows
    if bridge.config.redis.url:
        store = RedisWindows(bridge.config.redis.url)
    elif not bridge.db.is_sqlite:
        store = DatabaseWindows(bridge.db)
    else:
        store = LocalWindows()
    return Shaper(limits, enabled=settings.shaping, store=store)


async def posted_ref(
    session: AsyncSession,
    channel_key: str,
    message_id: str,
    kind: str = "",
    threads: bool = False,
) -> str | None:
    """The ref of the tracked message a platform id belongs to in this channel (a part of
    it, for a split one), or None. ``kind``: only refs of that kind (``relay``);
    ``threads``: the channel's threads too (a press in a Slack thread reports the
    channel)."""
    ids = PostedMessage.platform_message_id
    where = PostedMessage.channel_key == channel_key
    if threads:
        where = or_(where, PostedMessage.channel_key.startswith(f"{channel_key}/", autoescape=True))
    query = select(PostedMessage.ref_key).where(
        where,
        or_(
            ids == message_id,
            ids.startswith(f"{message_id} ", autoescape=True),
            ids.endswith(f" {message_id}", autoescape=True),
            ids.contains(f" {message_id} ", autoescape=True),
        ),
    )
    if kind:
        query = query.where(PostedMessage.ref_key.startswith(f"{kind}:", autoescape=True))
    return (await session.execute(query.limit(1))).scalar_one_or_none()


class Outbox:
    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge
        self.worker_id = f"w-{uuid.uuid4().hex[:10]}"
        self.install = "cb"  # replaced at start by a prefix unique to this database
        self._kick = asyncio.Event()
        #: one row after the other, in the order written (a terminal session shows the
        #: conversation the same way every time); else the chats' lanes run side by side
        self.in_order = False
        self._pass = asyncio.Lock()
        self.shaper = _shaper(bridge)
        #: ref kind → where a reply to that ref goes in a channel where no copy of it was
        #: posted (a relayed message's original, written there): its platform id or None
        self.anchors: dict[str, Callable[[AsyncSession, str, str], Awaitable[str | None]]] = {}

    # ---------------------------------------------------------------- writing

    def _now(self) -> datetime:
        return self.bridge.clock.now()

    async def post(
        self,
        session: AsyncSession,
        channel_key: str,
        message: Message | None = None,
        *,
        ref_key: str | None = None,
        reply_to_ref: str | None = None,
        locale: str | None = None,
        delay: timedelta | None = None,
        status: str = "pending",
    ) -> OutboxRow:
        """Queue one message to one channel (or ``platform:@user`` DM)."""
        row = OutboxRow(
            **self._row(
                channel_key,
                message,
                ref_key=ref_key,
                reply_to_ref=reply_to_ref,
                locale=locale,
                delay=delay,
                status=status,
            )
        )
        session.add(row)
        await session.flush()
        await self._notify(session)
        self.kick()
        return row

    def _row(
        self,
        channel_key: str,
        message: Message | None = None,
        *,
        ref_key: str | None = None,
        reply_to_ref: str | None = None,
        locale: str | None = None,
        delay: timedelta | None = None,
        status: str = "pending",
    ) -> dict[str, Any]:
        """The values of the row that ``post`` queues."""
        if message is None and ref_key is None:
            raise ValueError("post needs a message or a ref_key with a renderer")
        now = self._now()
        return {
            "kind": "send",
            "platform": channel_key.partition(":")[0],
            "channel_key": channel_key,
            "ref_key": ref_key,
            "reply_to_ref": reply_to_ref,
            "payload": message.model_dump(mode="json") if message is not None else None,
            "locale": locale or self.bridge.default_locale,
            "status": status,
            "attempts": 0,
            "not_before": now + (delay or timedelta(0)),
            "created_at": now,
        }

    async def post_to_group(
        self,
        session: AsyncSession,
        group_id: int,
        message: Message | None = None,
        *,
        ref_key: str | None = None,
        reply_to_ref: str | None = None,
        exclude: set[str] | None = None,
    ) -> list[str]:
        """Queue a message to every active channel linked to the group; returns channel keys."""
        channels = (
            (
                await session.execute(
                    select(Channel)
                    .join(ChannelLink, ChannelLink.channel_id == Channel.id)
                    .where(ChannelLink.group_id == group_id, ChannelLink.active.is_(True))
                    .order_by(Channel.id)
                )
            )
            .scalars()
            .all()
        )
        keys = []
        for channel in channels:
            if exclude and channel.key in exclude:
                continue
            await self.post(
                session, channel.key, message, ref_key=ref_key, reply_to_ref=reply_to_ref
            )
            keys.append(channel.key)
        return keys

    async def refresh(
        self, session: AsyncSession, ref_key: str, delay: timedelta | None = None
    ) -> None:
        """Have every posted copy of a tracked message re-drawn (coalesced, after a delay):
        one query for the platforms it is on (posted, or still being sent) and one insert
        of a refresh row per platform (a pending one already there is kept)."""
        platforms = sorted(
            (
                await session.execute(
                    select(PostedMessage.platform)
                    .where(PostedMessage.ref_key == ref_key)
                    .union(
                        select(OutboxRow.platform).where(
                            OutboxRow.ref_key == ref_key,
                            OutboxRow.kind == "send",
                            OutboxRow.status.in_(("pending", "sending")),
                        )
                    )
                )
            )
            .scalars()
            .all()
        )
        if not platforms:
            return
        now = self._now()
        wait = self.bridge.config.delivery.edit_delay if delay is None else delay
        rows = [
            {
                "kind": "refresh",
                "platform": platform,
                "channel_key": "",
                "ref_key": ref_key,
                "locale": self.bridge.default_locale,
                "status": "pending",
                "dedupe_key": f"{ref_key}@{platform}",
                "attempts": 0,
                "not_before": now + wait,
                "created_at": now,
            }
            for platform in platforms
        ]
        await session.execute(
            insert_ignore(
                session,
                OutboxRow,
                rows,
                ["dedupe_key"],
                # literal SQL, not a bound parameter: PostgreSQL must match the partial
                # index even in a generic plan (prepared statements, 6th run onwards)
                index_where=text("status = 'pending' AND dedupe_key IS NOT NULL"),
            )
        )
        await self._notify(session)
        self.kick()

    async def delete_copies(self, session: AsyncSession, ref_key: str) -> None:
        """Delete every posted copy of a tracked message (a relayed message its author
        deleted); copies still being sent are deleted once they are out."""
        now = self._now()
        platforms = (
            await session.execute(
                select(PostedMessage.platform)
                .where(PostedMessage.ref_key == ref_key)
                .union(
                    select(OutboxRow.platform).where(
                        OutboxRow.ref_key == ref_key,
                        OutboxRow.kind == "send",
                        OutboxRow.status.in_(("pending", "sending")),
                    )
                )
            )
        ).scalars()
        for platform in sorted(set(platforms)):
            session.add(
                OutboxRow(
                    kind="delete",
                    platform=platform,
                    channel_key="",
                    ref_key=ref_key,
                    locale=self.bridge.default_locale,
                    status="pending",
                    attempts=0,
                    not_before=now,
                    created_at=now,
                )
            )
        await session.flush()
        await self._notify(session)
        self.kick()

    async def notify(
        self,
        session: AsyncSession,
        person_id: int,
        message: Message,
        *,
        fallback_channel: str | None = None,
        fallback_message: Message | None = None,
        kind: str | None = None,
    ) -> str | None:
        """Tell a person privately, on the account they used last that can get a DM.

        ``kind`` ("status", "answer", "reminder") makes it a notification the person's
        ``/notify`` setting governs: ``off`` sends nothing, ``digest`` collects it for one
        summary a day. Replies to what the person did themselves pass no kind.

        Where none can (a Telegram user who never opened the bot, or blocked it), the DM is
        held until they do, and ``fallback_message`` (a short mention) goes to
        ``fallback_channel``. Returns the DM's channel key, or None when the person has no
        account at all.
        """
        fallback = fallback_message
        keys = await self.notify_all(
            session,
            [person_id],
            lambda _person, _locale: message,
            fallback_channel=fallback_channel,
            fallback_message=None if fallback is None else (lambda _who: fallback),
            kind=kind,
        )
        return keys[person_id]

    async def notify_all(
        self,
        session: AsyncSession,
        person_ids: Sequence[int],
        message: Callable[[int, str], Message],
        *,
        fallback_channel: str | None = None,
        fallback_message: Callable[[Mention], Message] | None = None,
        kind: str | None = None,
    ) -> dict[int, str | None]:
        """``notify`` for many persons in a few statements, however many they are (the
        supporters of an idea): ``message(person_id, locale)`` in each one's language (of
        the account they used last), ``fallback_message(mention)`` naming them where they
        cannot be reached privately. Each one's DM channel key, or None."""
        from bridge.services.identity import accounts_by_person, mention_of

        accounts = await accounts_by_person(session, person_ids)
        persons = {
            person.id: person
            for person in (
                await session.execute(select(Person).where(Person.id.in_(person_ids)))
            ).scalars()
        }
        rows: list[dict[str, Any]] = []
        keys: dict[int, str | None] = {}
        for person_id in person_ids:
            mine, person = accounts.get(person_id), persons.get(person_id)
            keys[person_id] = None
            if not mine:
                continue
            setting = person.notify if kind is not None and person is not None else "on"
            if setting == "off":
                continue
            last = mine[0]
            text = message(person_id, self.bridge.locale_for(last.locale))
            # digest: collected on the account used last, sent as one summary; else the
            # first that takes DMs; else held on the last until they open one
            account = next((a for a in mine if a.dm_open), last) if setting == "on" else last
            key = keys[person_id] = f"{account.platform}:@{account.user_id}"
            status = "digest" if setting == "digest" else "pending" if account.dm_open else "held"
            rows.append(
                self._row(key, text, status=status, locale=self.bridge.locale_for(account.locale))
            )
            if status == "held" and fallback_channel and fallback_message is not None:
                who = mention_of(mine, person.display_name if person else None)
                notice = fallback_message(who).model_copy(update={"dm_invite": True})
                rows.append(self._row(fallback_channel, notice))
        if rows:  # one statement for them all
            await session.execute(insert(OutboxRow), rows)
            await self._notify(session)
            self.kick()
        return keys

    async def send_digests(self, every: timedelta = timedelta(days=1)) -> int:
        """Send each person's collected notifications as one message, a day after the first
        of them (``/notify digest``); returns how many summaries went out."""
        from bridge.i18n import N_, translator
        from bridge.messages import Text

        now = self._now()
        sent = 0
        async with self.bridge.db.transaction() as session:
            due = (
                await session.execute(
                    select(OutboxRow.channel_key)
                    .where(OutboxRow.status == "digest")
                    .group_by(OutboxRow.channel_key)
                    .having(func.min(OutboxRow.created_at) <= now - every)
                )
            ).scalars()
            for key in list(due):
                rows = (
                    (
                        await session.execute(
                            select(OutboxRow)
                            .where(OutboxRow.status == "digest", OutboxRow.channel_key == key)
                            .order_by(OutboxRow.id)
                        )
                    )
                    .scalars()
                    .all()
                )
                locale = rows[0].locale
                t = translator(locale)
                parts: list[Part] = [Text(text=t.gettext(N_("Your summary of the last day:")))]
                for row in rows:
                    if row.payload is not None:
                        parts.append(Text(text="\n\n"))
                        parts.extend(Message.model_validate(row.payload).parts)
                    row.status = "digested"
                await self.post(session, key, Message(parts=tuple(parts)), locale=locale)
                sent += 1
        return sent

    async def release_held(self, session: AsyncSession, platform: str, user_id: str) -> int:
        """A person opened the bot's private chat: send what waited for it."""
        result = await session.execute(
            update(OutboxRow)
            .where(OutboxRow.status == "held", OutboxRow.channel_key == f"{platform}:@{user_id}")
            .values(status="pending", not_before=self._now())
        )
        if affected(result):
            await self._notify(session)
        self.kick()
        return affected(result)

    async def _notify(self, session: AsyncSession) -> None:
        """Tell the other processes' workers, once per transaction however many rows it
        writes (PostgreSQL delivers it on commit)."""
        if self.bridge.db.is_sqlite or session.info.get("outbox_notified"):
            return
        session.info["outbox_notified"] = True
        await session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))

    # ---------------------------------------------------------------- inspecting

    async def backlog(self, session: AsyncSession) -> dict[str, Any]:
        """Rows by status, and how long the oldest due pending row has waited (seconds)."""
        counts = {
            str(status): int(n)
            for status, n in (
                await session.execute(
                    select(OutboxRow.status, func.count())
                    .where(OutboxRow.status.in_(OPERATOR_STATUSES))
                    .group_by(OutboxRow.status)
                )
            ).all()
        }
        now = self._now()
        oldest = (
            await session.execute(
                select(func.min(OutboxRow.not_before)).where(
                    OutboxRow.status == "pending", OutboxRow.not_before <= now
                )
            )
        ).scalar_one_or_none()
        waited = (now - oldest).total_seconds() if oldest is not None else 0.0
        return {
            **{status: counts.get(status, 0) for status in OPERATOR_STATUSES},
            "oldest_pending_seconds": round(max(waited, 0.0), 1),
        }

    async def listing(
        self, session: AsyncSession, failed_only: bool = False, limit: int = 50
    ) -> list[OutboxRow]:
        """The newest rows an operator looks at: failed and given up ones (``failed_only``),
        else everything not yet delivered."""
        statuses = FAILED_STATUSES if failed_only else (*FAILED_STATUSES, "pending", "sending")
        return list(
            (
                await session.execute(
                    select(OutboxRow)
                    .where(OutboxRow.status.in_(statuses))
                    .order_by(OutboxRow.id.desc())
                    .limit(limit)
                )
            )
            .scalars()
            .all()
        )

    async def retry(self, session: AsyncSession, ids: list[int] | None) -> int:
        """Send failed or given-up rows again (``ids``, or every one when None): pending,
        due now, their attempts counted from zero. Returns how many."""
        where = [OutboxRow.status.in_(FAILED_STATUSES), OutboxRow.kind == "send"]
        if ids is not None:
            where.append(OutboxRow.id.in_(ids))
        result = await session.execute(
            update(OutboxRow)
            .where(*where)
            .values(status="pending", attempts=0, not_before=self._now(), claim_until=None)
        )
        await self._notify(session)
        self.kick()
        return affected(result)

    # ---------------------------------------------------------------- delivering

    async def take_over(self, identity: str) -> int:
        """Name this worker after what makes its process unique while it runs (the host
        and the HTTP port it listens on) and hand back, due now, the rows its predecessor
        of the same name held when it died: nobody else holds that port, so that process
        is gone, and its rows need not wait out their lease. Returns how many."""
        self.worker_id = f"{identity}/{uuid.uuid4().hex[:8]}"
        theirs = and_(
            OutboxRow.status == "sending",
            OutboxRow.claimed_by.startswith(f"{identity}/", autoescape=True),
            OutboxRow.claimed_by != self.worker_id,
        )
        async with self.bridge.db.transaction() as session:
            waiting = select(OutboxRow.dedupe_key).where(
                OutboxRow.status == "pending", OutboxRow.dedupe_key.is_not(None)
            )
            await session.execute(  # a newer refresh of the same card waits: it does the edit
                update(OutboxRow)
                .where(theirs, OutboxRow.dedupe_key.in_(waiting.scalar_subquery()))
                .values(status="merged", claim_until=None)
                .execution_options(synchronize_session=False)
            )
            result = await session.execute(
                update(OutboxRow)
                .where(theirs)
                .values(status="pending", claim_until=None, not_before=self._now())
            )
            if affected(result):
                await self._notify(session)
        if affected(result):
            log.info(
                "outbox: %s rows of this process's predecessor are due again", affected(result)
            )
            self.kick()
        return affected(result)

    async def close(self) -> None:
        close = getattr(self.shaper.store, "close", None)
        if close is not None:
            await close()

    def kick(self) -> None:
        self._kick.set()

    async def _listen(self) -> Any:
        """On PostgreSQL, wake up when any process writes to the outbox (LISTEN/NOTIFY)
        instead of waiting for the next poll; None on SQLite (its writers are in this
        process and kick the worker directly) or when listening is not possible."""
        if self.bridge.db.is_sqlite:
            return None
        import asyncpg

        url = self.bridge.db.engine.url.set(drivername="postgresql")
        try:
            conn = await asyncpg.connect(url.render_as_string(hide_password=False))
            await conn.add_listener(NOTIFY_CHANNEL, lambda *_args: self.kick())
        except Exception as exc:  # polling still delivers everything
            log.warning("outbox: cannot LISTEN on PostgreSQL (%r); polling", exc)
            return None
        return conn

    async def run(self, stop: asyncio.Event) -> None:
        """The worker loop: deliver what is due, then wait for a kick (this process's
        writers, or another process's through NOTIFY on PostgreSQL) or the poll interval."""
        listener = await self._listen()
        try:
            await self._run(stop)
        finally:
            if listener is not None:
                with contextlib.suppress(Exception):
                    await listener.close()

    async def _run(self, stop: asyncio.Event) -> None:
        interval = self.bridge.config.delivery.poll_interval.total_seconds()
        while not stop.is_set():
            self._kick.clear()
            try:
                await self.deliver_due()
            except Exception:  # the loop must survive a database hiccup
                log.exception("outbox delivery pass failed")
            try:
                await asyncio.wait_for(self._kick.wait(), timeout=interval)
            except TimeoutError:
                pass

    async def drain(
        self, include_delayed: bool = False, max_passes: int = 20, in_order: bool = False
    ) -> int:
        """Deliver until nothing is due (console and tests). ``in_order``: one row after the
        other in the order they were written (a scripted console session is the same on
        every run)."""
        total = 0
        for _ in range(max_passes):
            n = await self.deliver_due(include_delayed=include_delayed, in_order=in_order)
            total += n
            if n == 0:
                break
        return total

    async def deliver_due(self, include_delayed: bool = False, in_order: bool = False) -> int:
        if in_order or self.in_order:
            async with self._pass:  # the worker and a settle() never interleave
                return await self._deliver_due(include_delayed, True)
        return await self._deliver_due(include_delayed, False)

    async def _deliver_due(self, include_delayed: bool, in_order: bool) -> int:
        platforms = [p for p, a in self.bridge.adapters.items() if a.state == "ready"]
        if not platforms:
            return 0
        lanes = await self._claim_batch(platforms, include_delayed)
        if in_order:
            return sum([await self._lane(rows) for rows in lanes.values()])
        results = await asyncio.gather(*(self._lane(rows) for rows in lanes.values()))
        return sum(results)

    async def claim(self, platforms: list[str]) -> list[OutboxRow]:
        """Claim the rows one pass would deliver, without delivering them (what a worker
        that dies right after its claim leaves behind; tests)."""
        lanes = await self._claim_batch(platforms, False)
        return [row for lane in lanes.values() for row in lane]

    async def _claim_batch(
        self, platforms: list[str], include_delayed: bool
    ) -> OrderedDict[str, list[OutboxRow]]:
        """Claim the due rows of one pass in one transaction, grouped into lanes (one per
        channel, one per card's refresh).

        On PostgreSQL the rows are locked ``FOR UPDATE SKIP LOCKED``: two processes never
        wait for each other and never claim the same row. A channel's rows go out in the
        order written, whichever process holds them: a lane is left out of this pass while
        an earlier row of its channel is in another's hands (claimed, or being claimed) or
        waits out a rate limit."""
        now = self._now()
        due = OutboxRow.not_before <= now if not include_delayed else true()
        async with self.bridge.db.transaction() as session:
            query = (
                select(OutboxRow)
                .where(
                    OutboxRow.platform.in_(platforms),
                    or_(
                        and_(OutboxRow.status == "pending", due),
                        and_(OutboxRow.status == "sending", OutboxRow.claim_until < now),
                    ),
                )
                .order_by(OutboxRow.id)
                .limit(BATCH)
            )
            if not self.bridge.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            rows = list((await session.execute(query)).scalars().all())
            if not rows:
                return OrderedDict()
            lanes: OrderedDict[str, list[OutboxRow]] = OrderedDict()
            for row in rows:
                lane = row.channel_key if row.kind == "send" else f"{row.kind}:{row.ref_key}"
                lanes.setdefault(lane, []).append(row)
            refreshing = [lane[0].dedupe_key for lane in lanes.values() if lane[0].kind != "send"]
            if refreshing:  # one edit of a card at a time: a slower older one never wins
                busy = set(
                    (
                        await session.execute(
                            select(OutboxRow.dedupe_key).where(
                                OutboxRow.dedupe_key.in_(refreshing),
                                OutboxRow.kind == "refresh",
                                OutboxRow.status == "sending",
                                OutboxRow.claim_until >= now,
                            )
                        )
                    ).scalars()
                )
                for lane_key, held in list(lanes.items()):
                    if held[0].kind != "send" and held[0].dedupe_key in busy:
                        del lanes[lane_key]
            keys = [k for k, lane in lanes.items() if lane[0].kind == "send"]
            if keys:
                earliest = dict(
                    (
                        await session.execute(
                            select(OutboxRow.channel_key, func.min(OutboxRow.id))
                            .where(
                                OutboxRow.channel_key.in_(keys),
                                OutboxRow.kind == "send",
                                or_(
                                    and_(
                                        OutboxRow.status == "sending",
                                        OutboxRow.claim_until >= now,
                                    ),
                                    and_(
                                        OutboxRow.status == "pending",
                                        or_(
                                            due,  # locked: being claimed by another
                                            OutboxRow.last_error.startswith(RATE_LIMITED),
                                        ),
                                    ),
                                ),
                            )
                            .group_by(OutboxRow.channel_key)
                        )
                    ).all()
                )
                for key in keys:
                    first = earliest.get(key)
                    if first is not None and first < lanes[key][0].id:
                        del lanes[key]  # an earlier row of this channel goes first
            claimed = [row.id for lane in lanes.values() for row in lane]
            if not claimed:
                return OrderedDict()
            await session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id.in_(claimed),
                    or_(
                        OutboxRow.status == "pending",
                        and_(OutboxRow.status == "sending", OutboxRow.claim_until < now),
                    ),
                )
                .values(
                    status="sending",
                    claimed_by=self.worker_id,
                    claim_until=now + LEASE,
                    attempts=OutboxRow.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            for held in lanes.values():
                for row in held:
                    row.status = "sending"
                    row.claimed_by = self.worker_id
                    row.claim_until = now + LEASE
                    row.attempts = (row.attempts or 0) + 1
                    session.expunge(row)
        return lanes

    async def _lane(self, rows: list[OutboxRow]) -> int:
        """Deliver one channel's claimed rows in order; stop the lane at the first that
        must wait and hand the rest back. A row that fails in an unexpected way stops only
        its lane, never the pass: the other chats go on, and the row is retried later (its
        lease runs out)."""
        done = 0
        for n, row in enumerate(rows):
            try:
                if not await self._renew(rows[n:]):
                    return done
                outcome = await self._deliver(row)
            except Exception:
                log.exception("outbox row %s: delivery failed unexpectedly", row.id)
                await self._release(rows[n + 1 :])
                return done
            if outcome == "stop":
                await self._release(rows[n + 1 :])
                return done
            if outcome == "sent":
                done += 1
            # "later": a reply waiting for its card steps aside; the card may be behind it
        return done

    async def _renew(self, rows: list[OutboxRow]) -> bool:
        """Keep the lease of a lane's rows while it waits for the chat's allowance: renewed
        when less than half of it is left. False when they are no longer ours."""
        now = self._now()
        head = rows[0]
        if head.claim_until is not None and head.claim_until - now > LEASE / 2:
            return True
        until = now + LEASE
        async with self.bridge.db.transaction() as session:
            result = await session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id.in_([row.id for row in rows]),
                    OutboxRow.status == "sending",
                    OutboxRow.claimed_by == self.worker_id,
                )
                .values(claim_until=until)
            )
        for row in rows:
            row.claim_until = until
        return affected(result) > 0

    async def _release(self, rows: list[OutboxRow]) -> None:
        """Hand claimed rows back, untried (their attempt not counted), to go out in order
        in a later pass."""
        if not rows:
            return
        async with self.bridge.db.transaction() as session:
            await session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id.in_([row.id for row in rows]),
                    OutboxRow.status == "sending",
                    OutboxRow.claimed_by == self.worker_id,
                )
                .values(status="pending", claim_until=None, attempts=OutboxRow.attempts - 1)
            )

    def _mine(self, row: OutboxRow) -> Any:
        """Only the worker holding the row's lease changes it (two processes serving one
        platform never both settle a row)."""
        return and_(
            OutboxRow.id == row.id,
            OutboxRow.status == "sending",
            OutboxRow.claimed_by == self.worker_id,
        )

    async def _render(self, session: AsyncSession, ref_key: str, locale: str) -> Message | None:
        kind, _, ident = ref_key.partition(":")
        render = self.bridge.registry.renderers.get(kind)
        if render is None:
            return None
        return await render(session, self.bridge, ident, locale)

    async def _deliver(self, row: OutboxRow) -> str:
        """Deliver one claimed row: "sent", "later" (lane goes on) or "stop" (lane waits)."""
        adapter = self.bridge.adapters[row.platform]
        try:
            if row.kind == "refresh":
                return "sent" if await self._deliver_refresh(row) else "stop"
            if row.kind == "delete":
                return "sent" if await self._deliver_delete(row) else "stop"
            async with self.bridge.db.transaction() as session:
                message: Message | None = None
                if row.ref_key:
                    message = await self._render(session, row.ref_key, row.locale)
                if message is None and row.payload is not None:
                    message = Message.model_validate(row.payload)
                if message is None:  # the tracked record is gone: nothing to show
                    await self._finish(session, row, "dropped")
                    return "sent"
                if row.reply_to_ref:
                    parent = (
                        await session.execute(
                            select(PostedMessage.platform_message_id).where(
                                PostedMessage.ref_key == row.reply_to_ref,
                                PostedMessage.channel_key == row.channel_key,
                            )
                        )
                    ).scalar_one_or_none()
                    if parent is None and await self._parent_pending(session, row):
                        raise _WaitForParent()
                    if parent is None:  # the original itself may be in this channel
                        anchor = self.anchors.get(row.reply_to_ref.partition(":")[0])
                        if anchor is not None:
                            parent = await anchor(session, row.reply_to_ref, row.channel_key)
                    if parent is not None:
                        message = message.model_copy(update={"reply_to": parent})
            message = message.model_copy(
                update={"delivery_id": f"{self.install}{row.id}", "resend": row.attempts > 1}
            )
            target = ChannelRef.from_key(row.channel_key)
            message_id = await self._shaped(
                target, functools.partial(adapter.send, target, message)
            )
        except _WaitForParent:
            await self._postpone(row, 1.0, "waiting for the message to reply to", count=False)
            return "later"
        except RetryLater as exc:
            await self._postpone(row, exc.after, RATE_LIMITED + str(exc), count=False)
            return "stop"
        except ChannelGone as exc:
            if ChannelRef.from_key(row.channel_key).dm:
                await self._private_refused(row, str(exc))
            else:
                await self._channel_gone(row, str(exc))
            return "sent"
        except Exception as exc:
            log.warning("delivery of outbox row %s failed: %r", row.id, exc)
            await self._failed(row, repr(exc))
            return "stop"
        async with self.bridge.db.transaction() as session:
            await self._finish(session, row, "sent", message_id)
            if row.ref_key:
                await session.execute(
                    insert_ignore(
                        session,
                        PostedMessage,
                        {
                            "ref_key": row.ref_key,
                            "channel_key": row.channel_key,
                            "platform": row.platform,
                            "platform_message_id": message_id,
                            "locale": row.locale,
                            "created_at": self._now(),
                        },
                        ["ref_key", "channel_key"],
                    )
                )
        self.bridge.metrics.delivered.labels(row.platform).inc()
        return "sent"

    async def _parent_pending(self, session: AsyncSession, row: OutboxRow) -> bool:
        return (
            await session.execute(
                select(OutboxRow.id).where(
                    OutboxRow.ref_key == row.reply_to_ref,
                    OutboxRow.channel_key == row.channel_key,
                    OutboxRow.kind == "send",
                    OutboxRow.status.in_(("pending", "sending")),
                )
            )
        ).first() is not None

    async def _shaped(self, target: ChannelRef, call: Callable[[], Awaitable[T]]) -> T:
        """One platform call for ``target`` within its chat's allowance: it waits for a
        slot, and the slot counts from when the call returned (Shaper.sent)."""
        adapter = self.bridge.adapters[target.platform]
        chat = adapter.limit_key(target)
        await self.shaper.wait(target.platform, chat, adapter.is_group(target))
        try:
            return await call()
        finally:
            await self.shaper.sent(target.platform, chat)

    @staticmethod
    async def _copies(session: AsyncSession, row: OutboxRow) -> tuple[bool, list[PostedMessage]]:
        """For a refresh or delete row: whether a first send of its ref to the platform is
        still on its way, and the copies posted there."""
        sending = (
            await session.execute(
                select(OutboxRow.id).where(
                    OutboxRow.ref_key == row.ref_key,
                    OutboxRow.kind == "send",
                    OutboxRow.platform == row.platform,
                    OutboxRow.status.in_(("pending", "sending")),
                )
            )
        ).first() is not None
        posted = (
            await session.execute(
                select(PostedMessage).where(
                    PostedMessage.ref_key == row.ref_key,
                    PostedMessage.platform == row.platform,
                )
            )
        ).scalars()
        return sending, list(posted)

    async def _deliver_refresh(self, row: OutboxRow) -> bool:
        assert row.ref_key
        async with self.bridge.db.transaction() as session:
            sending, posted = await self._copies(session, row)
            drawn: dict[str, Message | None] = {}
            for p in posted:
                if p.locale not in drawn:
                    drawn[p.locale] = await self._render(session, row.ref_key, p.locale)
        if sending:
            await self._postpone(row, 1.0, "waiting for the first send", count=False)
            return False
        adapter = self.bridge.adapters[row.platform]
        for p in posted:
            message = drawn[p.locale]
            if message is None:
                continue
            try:
                target = ChannelRef.from_key(p.channel_key)
                grown = await self._shaped(
                    target, functools.partial(adapter.edit, target, p.platform_message_id, message)
                )
                if grown and grown != p.platform_message_id:  # its parts changed
                    async with self.bridge.db.transaction() as session:
                        await session.execute(
                            update(PostedMessage)
                            .where(PostedMessage.id == p.id)
                            .values(platform_message_id=grown)
                        )
            except RetryLater as exc:
                await self._postpone(row, exc.after, str(exc), count=False)
                return False
            except ChannelGone as exc:
                log.info("cannot edit %s in %s: %s", row.ref_key, p.channel_key, exc)
            except Exception as exc:
                log.warning("edit of %s in %s failed: %r", row.ref_key, p.channel_key, exc)
                await self._failed(row, repr(exc))
                return False
        async with self.bridge.db.transaction() as session:
            await self._finish(session, row, "sent")
        self.bridge.metrics.edited.labels(row.platform).inc()
        return True

    async def _deliver_delete(self, row: OutboxRow) -> bool:
        assert row.ref_key
        async with self.bridge.db.transaction() as session:
            sending, posted = await self._copies(session, row)
        if sending:  # a copy still on its way: deleted once it is out
            await self._postpone(row, 1.0, "waiting for the copies to be out", count=False)
            return False
        adapter = self.bridge.adapters[row.platform]
        for p in posted:
            target = ChannelRef.from_key(p.channel_key)
            try:
                await self._shaped(
                    target, functools.partial(adapter.delete, target, p.platform_message_id)
                )
            except RetryLater as exc:
                await self._postpone(row, exc.after, RATE_LIMITED + str(exc), count=False)
                return False
            except ChannelGone as exc:
                log.info("cannot delete %s in %s: %s", row.ref_key, p.channel_key, exc)
            except Exception as exc:
                log.warning("delete of %s in %s failed: %r", row.ref_key, p.channel_key, exc)
                await self._failed(row, repr(exc))
                return False
            async with self.bridge.db.transaction() as session:
                await session.execute(delete(PostedMessage).where(PostedMessage.id == p.id))
        async with self.bridge.db.transaction() as session:
            await self._finish(session, row, "sent")
        return True

    async def _finish(
        self, session: AsyncSession, row: OutboxRow, status: str, message_id: str | None = None
    ) -> bool:
        result = await session.execute(
            update(OutboxRow)
            .where(self._mine(row))
            .values(
                status=status, platform_message_id=message_id, sent_at=self._now(), claim_until=None
            )
        )
        if affected(result) != 1:
            log.warning("outbox row %s: its lease ran out before it was settled", row.id)
            return False
        return True

    async def _postpone(self, row: OutboxRow, after: float, reason: str, count: bool) -> None:
        """Back to pending, due in ``after`` seconds. A refresh postponed while a newer one
        of the same card waits merges into it (one edit shows the stored state anyway)."""
        async with self.bridge.db.transaction() as session:
            if row.dedupe_key is not None:
                newer = (
                    await session.execute(
                        select(OutboxRow.id).where(
                            OutboxRow.dedupe_key == row.dedupe_key,
                            OutboxRow.status == "pending",
                            OutboxRow.id != row.id,
                        )
                    )
                ).first()
                if newer is not None:
                    await self._merge(session, row, reason)
                    later = self._now() + timedelta(seconds=after)
                    await session.execute(  # the newer one waits out the same allowance
                        update(OutboxRow)
                        .where(OutboxRow.id == newer[0], OutboxRow.not_before < later)
                        .values(not_before=later)
                    )
                    self.bridge.metrics.postponed.labels(row.platform).inc()
                    return
        values: dict[str, Any] = {
            "status": "pending",
            "not_before": self._now() + timedelta(seconds=after),
            "last_error": reason,
            "claim_until": None,
        }
        if not count:
            values["attempts"] = OutboxRow.attempts - 1
        try:
            async with self.bridge.db.transaction() as session:
                await session.execute(update(OutboxRow).where(self._mine(row)).values(**values))
        except IntegrityError:  # a newer refresh of the card arrived meanwhile: merge
            async with self.bridge.db.transaction() as session:
                await self._merge(session, row, reason)
        self.bridge.metrics.postponed.labels(row.platform).inc()

    async def _merge(self, session: AsyncSession, row: OutboxRow, reason: str) -> None:
        """A refresh gives way to a newer pending one of the same card."""
        await session.execute(
            update(OutboxRow)
            .where(self._mine(row))
            .values(status="merged", last_error=reason, claim_until=None)
        )

    async def _failed(self, row: OutboxRow, error: str) -> None:
        if row.attempts >= self.bridge.config.delivery.max_attempts:
            async with self.bridge.db.transaction() as session:
                await session.execute(
                    update(OutboxRow)
                    .where(self._mine(row))
                    .values(status="dead", last_error=error, claim_until=None)
                )
            log.error(
                "giving up on outbox row %s after %s attempts: %s", row.id, row.attempts, error
            )
            self.bridge.metrics.dead.labels(row.platform).inc()
            return
        await self._postpone(row, min(2.0**row.attempts, 300.0), error, count=True)

    async def _private_refused(self, row: OutboxRow, reason: str) -> None:
        """A private message was refused (never started, blocked, DMs closed): the account is
        marked, and the message goes to the person's next account that takes DMs, or waits
        (``held``) until they open the chat. It is never posted where others see it."""
        ref = ChannelRef.from_key(row.channel_key)
        async with self.bridge.db.transaction() as session:
            account = (
                await session.execute(
                    select(Account).where(
                        Account.platform == ref.platform, Account.user_id == ref.chat
                    )
                )
            ).scalar_one_or_none()
            target: Account | None = None
            if account is not None:
                account.dm_open = False
                target = (
                    await session.execute(
                        select(Account)
                        .where(
                            Account.person_id == account.person_id,
                            Account.id != account.id,
                            Account.dm_open.is_(True),
                        )
                        .order_by(Account.last_seen_at.desc(), Account.id.desc())
                        .limit(1)
                    )
                ).scalar_one_or_none()
            if target is not None and row.payload is not None:
                await self.post(
                    session,
                    f"{target.platform}:@{target.user_id}",
                    Message.model_validate(row.payload),
                    locale=self.bridge.locale_for(target.locale),
                )
                status = "rerouted"
            else:
                status = "held"
            await session.execute(
                update(OutboxRow)
                .where(self._mine(row))
                .values(status=status, last_error=reason[:500], claim_until=None)
            )
        log.info("private message %s refused (%s): %s", row.id, reason, status)

    async def _channel_gone(self, row: OutboxRow, reason: str) -> None:
        async with self.bridge.db.transaction() as session:
            await session.execute(
                update(OutboxRow)
                .where(self._mine(row))
                .values(status="failed", last_error=reason, claim_until=None)
            )
            ref = ChannelRef.from_key(row.channel_key)
            if not ref.dm:
                await self.bridge.mark_channel_inactive(session, ref, reason)
