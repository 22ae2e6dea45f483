"""Fixtures: a real database (SQLite file or PostgreSQL, chosen by BRIDGE_TEST_DB), a
bridge with a controllable clock, and a console chat to talk to it.

    BRIDGE_TEST_DB=sqlite (default) | postgres
    BRIDGE_TEST_PG=postgresql+asyncpg://postgres@127.0.0.1:5432/bridge_test   (default)

The PostgreSQL database is created when missing and emptied before every test. Tests
that need PostgreSQL whatever the backend (two processes on one database) use ``pg_url``:
skipped where no server answers, but a failure under CI=true.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from adapters.console import ConsoleAdapter
from bridge.clock import FakeClock
from bridge.config import Config, load_config
from bridge.core import Bridge
from bridge.db import Database, upgrade_blocking
from bridge.models import metadata
from tests.chat import Chat

BACKEND = os.environ.get("BRIDGE_TEST_DB", "sqlite")
PG_URL = os.environ.get(
    "BRIDGE_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/bridge_test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
#: the platform fakes enforce the platforms' limits with this many times their counts, and
#: the bridges here shape to the same (``[delivery] limits``), so a test talking to one
#: chat is not paced at one message a second; the limits' own tests use speed 1
SPEED = 10


def quick_limits(speed: int = SPEED) -> dict[str, list[str]]:
    """``[delivery] limits`` with ``speed`` times the counts of the adapters' own."""
    from bridge.plugins import adapter_classes

    out: dict[str, list[str]] = {}
    for name, cls in adapter_classes().items():
        if cls.limits:
            out[name] = [f"{lim.count * speed}/{lim.per:g}s {lim.scope}" for lim in cls.limits]
    return out


def _pg_parts(url: str) -> tuple[str, str]:
    base, _, name = url.rpartition("/")
    return base.replace("+asyncpg", ""), name.split("?")[0]


async def _pg_prepare(url: str) -> None:
    import asyncpg

    base, name = _pg_parts(url)
    conn = await asyncpg.connect(f"{base}/postgres", timeout=5)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def _pg_available(url: str) -> str | None:
    try:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _pg_prepare(url)).result()
    except Exception as exc:  # no server, no permission
        return f"PostgreSQL not reachable at {url}: {exc!r}"
    return None


_pg_state: dict[str, Any] = {}


def _pg_ready() -> None:
    if "error" not in _pg_state:
        _pg_state["error"] = _pg_available(PG_URL)
        if _pg_state["error"] is None:
            upgrade_blocking(PG_URL)
    if _pg_state["error"]:
        if IN_CI:
            pytest.fail(_pg_state["error"])
        pytest.skip(_pg_state["error"])


async def _pg_truncate(url: str) -> None:
    """Empty every table and restart its ids: DELETE, children first, and the sequences
    set back (a TRUNCATE of every table took about 100 ms a test; this about a tenth)."""
    import asyncpg

    base, name = _pg_parts(url)
    conn = await asyncpg.connect(f"{base}/{name}")
    try:
        if "empty" not in _pg_state:
            sequences = await conn.fetch(
                "SELECT sequence_name FROM information_schema.sequences "
                "WHERE sequence_schema = 'public'"
            )
            _pg_state["empty"] = "; ".join(
                [f'DELETE FROM "{t.name}"' for t in reversed(metadata.sorted_tables)]
                + [f'ALTER SEQUENCE "{r["sequence_name"]}" RESTART' for r in sequences]
            )
        await conn.execute(_pg_state["empty"])
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade_blocking(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
async def pg_url() -> str:
    """A clean PostgreSQL database, whatever the chosen backend."""
    _pg_ready()
    await _pg_truncate(PG_URL)
    return PG_URL


@pytest.fixture
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of the chosen backend."""
    if BACKEND == "postgres":
        _pg_ready()
        await _pg_truncate(PG_URL)
        return PG_URL
    template = request.getfixturevalue("sqlite_template")
    target = tmp_path / "community.db"
    shutil.copy(template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_config(db_url: str, **sections: dict[str, Any]) -> Config:
    data: dict[str, Any] = {
        "community": {"name": "Test Community", "locale": "en", "admins": ["console:admin"]},
        "database": {"url": db_url},
        "http": {"host": "127.0.0.1", "port": 0},
        # shaping on, as in production, to the fakes' limits (SPEED times the platforms')
        "delivery": {"poll_interval": "1s", "edit_delay": "2s", "limits": quick_limits()},
        # live counts on every response (the default batches anonymous ones; tested apart)
        "surveys": {"anonymous_batch": 1, "anonymous_delay": "0s"},
    }
    for key, value in sections.items():
        data.setdefault(key, {}).update(value)
    return Config.model_validate(data)


BridgeFactory = Callable[..., Awaitable[Bridge]]


@pytest.fixture
async def make_bridge(db_url: str, clock: FakeClock) -> AsyncIterator[BridgeFactory]:
    """Build started bridges on the test database (several = several processes)."""
    made: list[Bridge] = []

    async def factory(
        url: str | None = None, clk: FakeClock | None = None, **sections: dict[str, Any]
    ) -> Bridge:
        config = make_config(url or db_url, **sections)
        bridge = Bridge(config, Database(config.database.url), clk or clock)
        await bridge.start()
        made.append(bridge)
        return bridge

    yield factory
    for bridge in made:
        await bridge.close()


@pytest.fixture
async def bridge(make_bridge: BridgeFactory) -> Bridge:
    return await make_bridge()


def attach_console(bridge: Bridge, printed: list[str]) -> ConsoleAdapter:
    console = ConsoleAdapter(bridge, out=printed.append)
    console.state = "ready"
    bridge.add_adapter(console)
    return console


@pytest.fixture
async def chat(bridge: Bridge) -> Chat:
    """The console, speaking as ``admin`` in ``#general``."""
    printed: list[str] = []
    return Chat(bridge, attach_console(bridge, printed), printed)


@pytest.fixture
def tmp_config(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str) -> Path:
        path = tmp_path / "bot.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


__all__ = ["load_config", "make_config"]


@contextlib.contextmanager
def statements(bridge: Bridge) -> Iterator[list[str]]:
    """The SQL statements the bridge's engine runs inside the block (their first lines):
    what a query that grows with the data, not with the page, keeps constant."""
    from sqlalchemy import event

    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append(str(args[2]).split("\n")[0][:120])

    engine = bridge.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)
