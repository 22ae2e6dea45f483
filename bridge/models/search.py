"""The search index: the terms of ideas, questions and profiles, looked up by the database."""

from __future__ import annotations

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bridge.db import Base

__all__ = ["SearchTerm"]


class SearchTerm(Base):
    """One term of one item: a Snowball stem, or a 4-letter piece of a long word (``#fahr``)
    so that German compounds meet their parts. ``kind`` is ``idea``, ``question`` or
    ``profile``; ``item_id`` that row's id. Written in the item's own transaction."""

    __tablename__ = "search_terms"
    __table_args__ = (Index("ix_search_terms_lookup", "kind", "term", "item_id"),)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    term: Mapped[str] = mapped_column(String(64), primary_key=True)
