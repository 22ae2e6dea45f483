"""Property tests (issue 13): no input makes the parser, the typed-value binder or the
button token decoder raise anything but their own clear refusals; a corpus of hostile
input is answered by every command without a traceback, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.actions import ActionCodec, ExpiredButton
from bridge.core import Bridge
from bridge.errors import UsageError
from bridge.messages import AccountRef, ActionPress, ChannelRef, Invocation
from bridge.registry import bind_options, parse_args, registry, tokenize

GRAMMARS = [
    params
    for cmd in registry.load().visible()
    for params in [cmd.params, *(sub.params for sub in cmd.subcommands.values())]
]
CODEC = ActionCodec(b"k" * 32)
#: text with what platforms hand us: quotes of every kind, separators, controls, bidi
HOSTILE = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from([*"\"'„“”«» |,\n\t\x00\u202e\u2066", "\ud800", "\udfff"]),
    ),
    max_size=300,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=HOSTILE, which=st.integers(min_value=0, max_value=len(GRAMMARS) - 1))
def test_the_parser_refuses_clearly_or_parses(raw: str, which: int) -> None:
    try:
        tokenize(raw)
        parse_args(GRAMMARS[which], raw)
    except UsageError:
        pass


@settings(max_examples=300, deadline=None)
@given(
    options=st.dictionaries(
        st.text(max_size=12),
        st.one_of(st.none(), st.booleans(), HOSTILE, st.lists(HOSTILE, max_size=4)),
        max_size=5,
    ),
    which=st.integers(min_value=0, max_value=len(GRAMMARS) - 1),
)
def test_typed_values_are_bound_or_refused(options: dict[str, object], which: int) -> None:
    try:
        bind_options(GRAMMARS[which], options)
    except UsageError:
        pass


@settings(max_examples=500, deadline=None)
@given(token=HOSTILE)
def test_a_forged_token_is_just_expired(token: str) -> None:
    try:
        CODEC.decode(token, "console:#general", datetime.now(UTC), timedelta(days=7))
    except ExpiredButton:
        pass


CORPUS = [
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\u202egnp.exe",
    "x" * 10_000,
    '"' * 50,
    "„unbalanced",
    "I-99999999999999999999",
    "@everyone <!channel> <@U1>",
    "| | |",
    "private",
]


@pytest.mark.parametrize("text", CORPUS)
async def test_every_command_answers_hostile_input(bridge: Bridge, text: str) -> None:
    """Every command and subcommand, with each piece of the corpus, typed by an admin in a
    linked channel: an answer each time, never the "something went wrong" reply."""
    here = ChannelRef(platform="console", chat="#general")
    admin = AccountRef(platform="console", user_id="admin", display_name="admin")
    for args in ("new general", "general"):
        await bridge.handle(Invocation(channel=here, account=admin, command="group", args=args))
    await bridge.handle(Invocation(channel=here, account=admin, command="link", args="general"))
    crashed = []
    for cmd in registry.load().visible():
        forms = [""] + [f"{sub} " for sub in cmd.subcommands]
        for form in forms:
            replies = await bridge.handle(
                Invocation(channel=here, account=admin, command=cmd.name, args=form + text)
            )
            if any("Something went wrong" in r.text for r in replies):
                crashed.append(f"/{cmd.name} {form}")
    assert crashed == []
    [reply] = await bridge.press(
        ActionPress(channel=here, account=admin, token=f"s.v|1,{text[:50]}|AAAAAAAA")
    )
    assert reply.text == "This button is no longer valid."
