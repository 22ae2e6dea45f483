"""Database engine, sessions and small dialect helpers (SQLite embedded, PostgreSQL shared)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Base",
    "Database",
    "UTCDateTime",
    "affected",
    "insert_ignore",
    "upgrade",
]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use bridge.clock")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_setup(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        # Take the write lock up front: no deadlock when a reader turns writer. Work that
        # only reads (Database.reading) leaves it to the writers: WAL readers never wait.
        readonly = conn.get_execution_options().get(READ_ONLY)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


#: the execution option that marks a read-only transaction (``Database.reading``)
READ_ONLY = "community_bridge_read_only"


class Database:
    """The async engine and a transaction helper."""

    def __init__(self, url: str, echo: bool = False) -> None:
        self.url = url
        kwargs: dict[str, Any] = {"echo": echo}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30}
            _ensure_sqlite_dir(url)
        else:
            kwargs["pool_pre_ping"] = True
        self.engine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _sqlite_setup(self.engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        #: SQLite has one writer at a time: this process's writers queue here, in order,
        #: instead of in SQLite's busy handler (which sleeps up to 100 ms between tries,
        #: and whose waits a deadline can only cut by dropping the connection)
        self._writer = asyncio.Lock()
        self._writing: asyncio.Task[Any] | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on any error."""
        task = asyncio.current_task()
        if not self.is_sqlite or (task is not None and self._writing is task):
            async with self.sessions() as session, session.begin():
                yield session
            return
        async with self._writer:
            self._writing = task
            try:
                async with self.sessions() as session, session.begin():
                    yield session
            finally:
                self._writing = None

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A transaction that only reads. On SQLite it takes no write lock (a plain
        ``BEGIN``; WAL lets it read while a writer works); writing in it is an error
        there, so use ``transaction`` for anything that may write."""
        async with self.sessions() as session, session.begin():
            if self.is_sqlite:
                await session.connection(execution_options={READ_ONLY: True})
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split(":///", 1)[-1].split("?", 1)[0]
    if path and path != ":memory:":
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)


def insert_ignore(
    session: AsyncSession,
    model: Any,
    values: dict[str, Any] | list[dict[str, Any]],
    index_elements: list[str],
    index_where: Any = None,
) -> Any:
    """An INSERT (of one row, or several) that does nothing where the unique key exists
    (both dialects)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(model).values(values)
    return stmt.on_conflict_do_nothing(index_elements=index_elements, index_where=index_where)


def upsert(
    session: AsyncSession,
    model: Any,
    values: dict[str, Any],
    index_elements: list[str],
    update: list[str],
) -> Any:
    """An INSERT that updates ``update`` when the unique key exists (both dialects)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(model).values(**values)
    return stmt.on_conflict_do_update(
        index_elements=index_elements, set_={key: stmt.excluded[key] for key in update}
    )


async def count(session: AsyncSession, model: Any, *where: Any) -> int:
    """How many rows of ``model`` match ``where``."""
    from sqlalchemy import func, select

    stmt = select(func.count()).select_from(model).where(*where)
    return int((await session.execute(stmt)).scalar_one())


def like_pattern(term: str, prefix_only: bool = False) -> str:
    """``%term%`` (or ``term%``) for ``ilike(..., escape="\\")``: the user's own ``%``,
    ``_`` and ``\\`` match themselves."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%" if prefix_only else f"%{escaped}%"


def affected(result: Any) -> int:
    """Rows changed by an INSERT/UPDATE/DELETE result (typed helper for ``rowcount``)."""
    return int(getattr(result, "rowcount", 0) or 0)


def alembic_config(url: str) -> Any:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def describe_error(exc: BaseException) -> str:
    """One line for a database that cannot be reached or used."""
    inner = getattr(exc, "orig", None) or exc
    text = str(inner).strip().splitlines()[0] if str(inner).strip() else type(inner).__name__
    return f"{type(inner).__name__}: {text}"[:300]


PROBE_SECONDS = 5.0


async def probe(url: str) -> str | None:
    """None when the database answers within a few seconds; else what is wrong, in one line."""
    from sqlalchemy import text

    kwargs: dict[str, Any] = {}
    if url.startswith("postgresql"):
        kwargs["connect_args"] = {"timeout": PROBE_SECONDS}
    engine = create_async_engine(url, **kwargs)
    try:
        async with asyncio.timeout(PROBE_SECONDS + 1):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception as exc:
        return describe_error(exc) if not isinstance(exc, TimeoutError) else "no answer in time"
    finally:
        await engine.dispose()
    return None


#: one migration run at a time on a PostgreSQL database (processes starting together)
MIGRATION_LOCK = 0x63622D6D  # "cb-m"


def _upgrade_sync(url: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(url), "heads")


async def upgrade(url: str) -> None:
    """Apply every migration (all feature branches) up to their heads."""
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
    await asyncio.to_thread(_upgrade_sync, url)


def upgrade_blocking(url: str) -> None:
    """Apply migrations from synchronous code (CLI ``db upgrade``, test set-up)."""
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        _upgrade_sync(url)
        return
    with ThreadPoolExecutor(1) as pool:  # alembic's env runs its own event loop
        pool.submit(_upgrade_sync, url).result()
