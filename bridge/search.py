"""Search in the database: similar ideas and questions, and finding partners.

Every idea, question and profile keeps its terms in ``search_terms`` (Snowball stems and
the 4-letter pieces of long words, from ``bridge.similarity``), written in the same
transaction as the item. A search asks the database for the items sharing the most terms
with the query (an index lookup on ``(kind, term, item_id)``; a suggestion search reads at
most ``PER_TERM`` of each term's newest items, the visibility rule joined into each
lookup), capped at ``CANDIDATES``; only that short list is ranked in Python
(``similarity.rank_texts``, in a worker thread), so the work per search does not grow
with the community.

One table for SQLite and PostgreSQL alike, rather than FTS5 there and ``tsvector`` here:
the same stems, the same compound pieces and the same results on both backends (neither
FTS5 nor PostgreSQL's German configuration splits compounds), and one migration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Select, Subquery, delete, func, insert, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.models.search import SearchTerm
from bridge.similarity import pieces

__all__ = ["CANDIDATES", "PER_TERM", "forget", "hits", "reindex", "terms_of"]

#: at most this many items are ranked in Python per search
CANDIDATES = 200
#: a suggestion search reads at most this many items of each of its terms (the newest)
PER_TERM = 200
TERM_MAX = 64


def terms_of(*texts: str) -> set[str]:
    """The index terms of some texts: stems and compound pieces."""
    return {t[:TERM_MAX] for t in pieces(*((text, 1) for text in texts if text))}


async def reindex(session: AsyncSession, kind: str, item_id: int, *texts: str) -> None:
    """Replace the item's terms by those of ``texts`` (the item's current words)."""
    await session.execute(
        delete(SearchTerm).where(SearchTerm.kind == kind, SearchTerm.item_id == item_id)
    )
    found = sorted(terms_of(*texts))
    if found:
        await session.execute(
            insert(SearchTerm), [{"kind": kind, "item_id": item_id, "term": t} for t in found]
        )


async def forget(session: AsyncSession, kind: str, item_ids: Iterable[int] | Any) -> None:
    """Drop the terms of items that are gone (ids, or a select of them)."""
    ids = list(item_ids) if isinstance(item_ids, (list, tuple, set)) else item_ids
    await session.execute(
        delete(SearchTerm).where(SearchTerm.kind == kind, SearchTerm.item_id.in_(ids))
    )


def hits(
    kind: str,
    query: set[str],
    per_term: int | None = None,
    scope: Callable[[Select[Any]], Select[Any]] | None = None,
) -> Subquery:
    """``(item_id, hits)``: the items of ``kind`` sharing terms with ``query``, with how
    many; join it to the item's table and order by ``hits``.

    ``per_term``: of each term, only the newest that many items (``scope`` narrows them
    first: the items the searcher may see). A term that many items share then costs no
    more than a rare one, so the search no longer grows with the community; an item that
    shares a rarer term is found whatever its age."""
    terms = sorted(query) or [""]
    if per_term is None:
        return (
            select(SearchTerm.item_id.label("item_id"), func.count().label("hits"))
            .where(SearchTerm.kind == kind, SearchTerm.term.in_(terms))
            .group_by(SearchTerm.item_id)
            .subquery()
        )
    each = []
    for term in terms:
        newest = select(SearchTerm.item_id.label("item_id")).where(
            SearchTerm.kind == kind, SearchTerm.term == term
        )
        if scope is not None:
            newest = scope(newest)
        newest = newest.order_by(SearchTerm.item_id.desc()).limit(per_term)
        each.append(select(newest.subquery().c.item_id))
    every = union_all(*each).subquery()
    return (
        select(every.c.item_id.label("item_id"), func.count().label("hits"))
        .group_by(every.c.item_id)
        .subquery()
    )
