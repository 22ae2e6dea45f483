"""GET /feeds/{group}.atom and .rss: public groups only, newest ideas with their status."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from xml.etree import ElementTree

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bridge.clock import FakeClock
from bridge.core import Bridge
from bridge.http import build_app
from tests.chat import Chat
from tests.conftest import attach_console

ATOM = "{http://www.w3.org/2005/Atom}"
PUBLIC_URL = "https://community.example.com/"


@pytest.fixture
async def site(
    make_bridge: Callable[..., Awaitable[Bridge]], clock: FakeClock
) -> AsyncIterator[tuple[Chat, TestClient]]:  # type: ignore[type-arg]
    bridge = await make_bridge(http={"public_url": PUBLIC_URL})
    printed: list[str] = []
    chat = Chat(bridge, attach_console(bridge, printed), printed)
    await chat(
        ":channel news",
        "/group new news public",
        "/link news",
        ":channel staff",
        "/group new staff internal",
        "/link staff",
        ":channel board",
        "/group new board closed",
        "/link board",
        ":channel showcase",
        "/group new showcase public showcase",
        "/link showcase",
    )
    async with TestClient(TestServer(build_app(bridge))) as client:
        yield chat, client


async def test_public_group_feed_lists_newest_ideas_with_status(
    site: tuple[Chat, TestClient],
    clock: FakeClock,  # type: ignore[type-arg]
) -> None:
    chat, client = site
    await chat(":channel news", "/idea Open office hours | Every Friday <b>afternoon</b>")
    clock.advance(60)
    await chat("/idea Dark mode for the app & the website")
    clock.advance(60)
    await chat("/vote I-1", "/status I-1 shortlisted Popular")

    resp = await client.get("/feeds/news.atom")
    assert resp.status == 200
    assert resp.content_type == "application/atom+xml"
    feed = ElementTree.fromstring(await resp.read())
    assert feed.findtext(f"{ATOM}title") == "news: ideas and news"
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links["self"] == "https://community.example.com/feeds/news.atom"
    entries = feed.findall(f"{ATOM}entry")
    # the status change made I-1 the newest
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "I-1: Open office hours [shortlisted]",
        "I-2: Dark mode for the app & the website [new]",
    ]
    first = entries[0]
    assert first.findtext(f"{ATOM}id") == "https://community.example.com/feeds/news#I-1"
    # issue 16: an entry links to its own page, not to the feed
    assert first.find(f"{ATOM}link").get("href") == "https://community.example.com/feeds/news/I-1"  # type: ignore[union-attr]
    page = await client.get("/feeds/news/I-1")
    assert page.status == 200 and page.content_type == "text/html"
    text = await page.text()
    assert "<h1>I-1: Open office hours [shortlisted]</h1>" in text
    assert "Every Friday &lt;b&gt;afternoon&lt;/b&gt;" in text  # user text, escaped
    assert (await client.get("/feeds/news/I-99")).status == 404
    summary = first.findtext(f"{ATOM}summary") or first.findtext(f"{ATOM}content") or ""
    assert "Every Friday <b>afternoon</b>" in summary  # user text, escaped as text
    assert "Status: shortlisted · 1 supporter (Popular)" in summary
    assert b"<b>afternoon</b>" not in await resp.read()  # never markup

    resp = await client.get("/feeds/news.rss")
    assert resp.status == 200
    assert resp.content_type == "application/rss+xml"
    rss = ElementTree.fromstring(await resp.read())
    channel = rss.find("channel")
    assert channel is not None
    assert channel.findtext("link") in (
        "https://community.example.com/feeds/news.atom",
        "https://community.example.com/feeds/news.rss",
    )
    assert [i.findtext("title") for i in channel.findall("item")] == [
        "I-1: Open office hours [shortlisted]",
        "I-2: Dark mode for the app & the website [new]",
    ]


async def test_groups_that_are_not_public_have_no_feed(
    site: tuple[Chat, TestClient],  # type: ignore[type-arg]
) -> None:
    chat, client = site
    await chat(":channel staff", "/idea Staff party")
    await chat(":channel board", "/idea Secret merger")
    for path in (
        "/feeds/staff.atom",
        "/feeds/board.rss",
        "/feeds/board.atom",
        "/feeds/nothing.atom",
        "/feeds/news.json",
        "/feeds/staff/I-1",
        "/feeds/board/I-2",
    ):
        resp = await client.get(path)
        assert resp.status == 404, path
        body = await resp.text()
        assert "Secret" not in body and "Staff party" not in body
    # the public group's feed does not carry other groups' ideas
    body = await (await client.get("/feeds/news.atom")).text()
    assert "Secret" not in body and "Staff party" not in body
    # a public group turned closed loses its feed
    await chat(":channel news", "/group set news closed")
    assert (await client.get("/feeds/news.atom")).status == 404


async def test_showcase_feed_shows_promoted_ideas_of_public_groups_only(
    site: tuple[Chat, TestClient],  # type: ignore[type-arg]
) -> None:
    chat, client = site
    await chat(":channel news", "/idea Open office hours", "/promote I-1")
    await chat(":channel staff", "/idea Staff party", "/promote I-2")
    body = await (await client.get("/feeds/showcase.atom")).text()
    assert "I-1: Open office hours" in body
    assert "Staff party" not in body  # internal: in the showcase channel, never in a feed
