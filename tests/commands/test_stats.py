"""/stats: what a community manager sees about activity, people, answer times and ideas."""

from __future__ import annotations

from datetime import timedelta

from bridge.clock import FakeClock
from tests.chat import Chat


async def test_stats_report_for_a_group(chat: Chat, clock: FakeClock) -> None:
    await chat("/group new ideas", "/link ideas", "/role console:carol host")
    await chat("/idea Better coffee | beans from a local roaster")
    await chat.as_("bob")
    await chat("/vote I-1", "/comment I-1 yes please", "/ask Where is the parking?")
    await chat.as_("dora")
    await chat("/vote I-1", "/ask Is there a canteen?")
    clock.advance(timedelta(minutes=30))
    await chat.as_("carol")
    await chat("/answer Q-1 Behind building B", "/status I-1 review")
    clock.advance(timedelta(hours=5))
    out = await chat("/stats")
    lines = out.lines
    assert lines[0] == "[#general] (only carol) Statistics for ideas, last 30 days"
    assert (
        "  Activity: 1 idea, 2 votes, 1 comment, 2 questions, 1 answer, 0 surveys with 0 responses."
    ) in lines
    assert "  Super users: bob (3), dora (2), admin (1), carol (1)" in lines
    assert (
        "  Answer times: median first response 30 minutes, median answer 30 minutes; 1 of 1 "
        "answered within the SLA of 4 hours."
    ) in lines
    assert "  Open questions now: 1, overdue: 1." in lines
    assert (
        "  Idea funnel: new 0 → in review 1 → shortlisted 0 → project 0 → done 0; rejected 0."
    ) in lines


async def test_stats_are_for_hosts_and_take_a_period(chat: Chat) -> None:
    await chat("/group new ideas", "/link ideas")
    await chat.as_("bob")
    assert "Only hosts may use /stats." in await chat("/stats")
    await chat.as_("admin")
    assert "last 7 days" in await chat("/stats 7d")
    out = await chat("/stats soon")
    assert "'soon' is not a period like 7d or 12w." in out
    await chat(":channel elsewhere")
    assert "Statistics for Test Community" in await chat("/stats")
