"""Migrations: up from an empty database, and exactly what the models declare."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from bridge.db import alembic_config, upgrade
from bridge.models import metadata


async def _diff(url: str) -> list[object]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:

            def run(sync_conn):  # type: ignore[no-untyped-def]
                ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return compare_metadata(ctx, metadata)

            return list(await conn.run_sync(run))
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_upgrade_from_empty_sqlite_creates_every_table(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    await upgrade(url)
    assert set(metadata.tables) <= await _tables(url)
    await upgrade(url)  # a second run is a no-op


async def test_models_and_migrations_agree(db_url: str) -> None:
    diff = await _diff(db_url)
    assert diff == [], "models and migrations differ; add a migration:\n" + "\n".join(
        map(str, diff)
    )


def test_every_feature_branch_starts_at_the_foundation() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite:///unused.db"))
    bases = script.get_bases()
    assert bases == ["0001"], f"more than one root migration: {bases}"
    revisions = {r.revision for r in script.walk_revisions()}
    assert len(revisions) == len(list(script.walk_revisions())), "duplicate revision ids"


async def test_audit_log_is_append_only(bridge: object) -> None:
    import pytest
    from sqlalchemy import select

    from bridge.core import Bridge
    from bridge.models import AuditEntry
    from bridge.services.audit import record

    assert isinstance(bridge, Bridge)
    async with bridge.db.transaction() as s:
        await record(s, bridge.community_id or 0, None, "group.create", "ideas", bridge.now())
    with pytest.raises(PermissionError):
        async with bridge.db.transaction() as s:
            entry = (await s.execute(select(AuditEntry))).scalar_one()
            entry.target = "rewritten"
    with pytest.raises(PermissionError):
        async with bridge.db.transaction() as s:
            await s.delete((await s.execute(select(AuditEntry))).scalar_one())


async def test_the_search_index_is_filled_for_what_existed_before_it(tmp_path: Path) -> None:
    """0009 indexes the ideas, questions and profiles already stored."""
    import asyncio

    from alembic import command
    from sqlalchemy import text

    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    config = alembic_config(url)
    for head in ("0003", "0005", "0006", "0008"):  # every branch, up to before the index
        await asyncio.to_thread(command.upgrade, config, head)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            now = "2026-01-01 00:00:00"
            await conn.execute(
                text(
                    "INSERT INTO communities (id, slug, name, locale, created_at) "
                    "VALUES (1, 'c', 'C', 'de', :now)"
                ),
                {"now": now},
            )
            await conn.execute(
                text(
                    "INSERT INTO groups (id, community_id, slug, name, visibility, showcase, "
                    "hostdesk, hosts_run_surveys, created_at) "
                    "VALUES (1, 1, 'g', 'g', 'internal', false, false, false, :now)"
                ),
                {"now": now},
            )
            await conn.execute(
                text(
                    "INSERT INTO persons (id, community_id, display_name, created_at, notify) "
                    "VALUES (1, 1, 'p', :now, 'on')"
                ),
                {"now": now},
            )
            await conn.execute(
                text(
                    "INSERT INTO ideas (id, community_id, group_id, number, title, description,"
                    " proposer_id, status, created_at, updated_at) VALUES (7, 1, 1, 1, "
                    "'Dienstfahrräder', 'für alle Mitarbeitenden', 1, 'new', :now, :now)"
                ),
                {"now": now},
            )
        await upgrade(url)
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT term FROM search_terms WHERE kind = 'idea' AND item_id = 7")
            )
            terms = {r[0] for r in rows}
    finally:
        await engine.dispose()
    assert {"dienstfahrrad", "mitarbeit", "#fahr"} <= terms
