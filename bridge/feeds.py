"""Atom and RSS feeds of public groups: ``GET /feeds/{group}.atom`` and ``/feeds/{group}.rss``.

Features contribute entries with ``@feed_source`` (ideas do). A group that is not public,
or does not exist, answers 404 either way, so a feed never tells what a closed group holds.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web
from feedgen.feed import FeedGenerator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.i18n import N_, translator
from bridge.models import Group
from bridge.registry import http_route
from bridge.services.groups import slugify

if TYPE_CHECKING:
    from bridge.core import Bridge

__all__ = ["FeedItem", "feed_source", "render_feed"]

MAX_ITEMS = 50
MIME = {"atom": "application/atom+xml", "rss": "application/rss+xml"}


@dataclass(frozen=True)
class FeedItem:
    """One entry: ``key`` is unique within the group's feed (``I-12``)."""

    key: str
    title: str
    summary: str
    published: datetime
    updated: datetime


FeedSource = Callable[[AsyncSession, "Bridge", Group], Awaitable[list[FeedItem]]]
SOURCES: list[FeedSource] = []


def feed_source(fn: FeedSource) -> FeedSource:
    """Declare a source of entries for a public group's feed."""
    if fn not in SOURCES:
        SOURCES.append(fn)
    return fn


def _base(bridge: Bridge) -> str:
    return bridge.config.http.public_url.rstrip("/")


async def _public_items(bridge: Bridge, name: str) -> tuple[Group, list[FeedItem]] | None:
    """A public group and its newest entries; None when there is no public group so named."""
    if bridge.community_id is None:
        return None
    async with bridge.db.reading() as session:
        group = (
            await session.execute(
                select(Group).where(
                    Group.community_id == bridge.community_id, Group.slug == slugify(name)
                )
            )
        ).scalar_one_or_none()
        if group is None or group.visibility != "public":
            return None
        items: list[FeedItem] = []
        for source in SOURCES:
            items.extend(await source(session, bridge, group))
    items.sort(key=lambda i: (i.updated, i.key), reverse=True)
    return group, items[:MAX_ITEMS]


async def render_feed(bridge: Bridge, name: str, kind: str) -> bytes | None:
    """The feed document, or None when there is no public group of that name."""
    found = await _public_items(bridge, name) if kind in MIME else None
    if found is None:
        return None
    group, items = found

    t = translator(bridge.default_locale)
    base = f"{_base(bridge)}/feeds/{group.slug}"
    fg = FeedGenerator()
    fg.id(f"{base}.atom")
    fg.title(t.gettext(N_("{group}: ideas and news")).format(group=group.name))
    fg.description(t.gettext(N_("What is new in the group {group}.")).format(group=group.name))
    fg.language(bridge.default_locale)
    fg.link(href=f"{base}.{kind}", rel="self")
    fg.link(href=f"{base}.{'rss' if kind == 'atom' else 'atom'}", rel="alternate")
    fg.updated(items[0].updated if items else group.created_at)
    for item in reversed(items):  # feedgen prepends: add oldest first, newest ends on top
        entry = fg.add_entry()
        entry.id(f"{base}#{item.key}")
        entry.guid(f"{base}#{item.key}", permalink=False)
        entry.title(item.title)
        entry.link(href=f"{base}/{item.key}")
        entry.description(item.summary)
        entry.published(item.published)
        entry.updated(item.updated)
    out: bytes = fg.atom_str(pretty=True) if kind == "atom" else fg.rss_str(pretty=True)
    return out


@http_route
def mount(app: web.Application, bridge: Bridge) -> None:
    def handler(kind: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def serve(request: web.Request) -> web.Response:
            body = await render_feed(bridge, request.match_info["group"], kind)
            if body is None:
                raise web.HTTPNotFound(text="no public group of that name\n")
            return web.Response(
                body=body,
                content_type=MIME[kind],
                charset="utf-8",
                headers={"Cache-Control": "public, max-age=60"},
            )

        return serve

    async def item_page(request: web.Request) -> web.Response:
        body = await render_item(bridge, request.match_info["group"], request.match_info["key"])
        if body is None:
            raise web.HTTPNotFound(text="no such public entry\n")
        return web.Response(
            text=body,
            content_type="text/html",
            charset="utf-8",
            headers={"Cache-Control": "public, max-age=60"},
        )

    app.router.add_get("/feeds/{group}.atom", handler("atom"))
    app.router.add_get("/feeds/{group}.rss", handler("rss"))
    app.router.add_get("/feeds/{group}/{key}", item_page)


async def render_item(bridge: Bridge, name: str, key: str) -> str | None:
    """One entry of a public group's feed as a small HTML page (what an entry links to)."""
    found = await _public_items(bridge, name)
    if found is None:
        return None
    group, items = found
    item = next((i for i in items if i.key.lower() == key.lower()), None)
    if item is None:
        return None
    t = translator(bridge.default_locale)
    feed = f"{_base(bridge)}/feeds/{group.slug}.atom"
    summary = html.escape(item.summary).replace("\n", "<br>\n")
    return (
        f'<!doctype html>\n<html lang="{bridge.default_locale}"><head><meta charset="utf-8">'
        f"<title>{html.escape(item.title)}</title>"
        f'<link rel="alternate" type="application/atom+xml" href="{html.escape(feed)}">'
        f"</head><body><main><h1>{html.escape(item.title)}</h1><p>{summary}</p>"
        f"<p><small>{html.escape(t.when(item.updated))} · "
        f'<a href="{html.escape(feed)}">{html.escape(group.name)}</a></small></p>'
        "</main></body></html>\n"
    )
