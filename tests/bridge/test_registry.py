"""The one command grammar: parsing, usage lines, and Discord-style options composed back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.errors import UsageError
from bridge.registry import Param, compose_args, parse_args, registry, tokenize

GROUP_NEW = [
    Param("name"),
    Param("visibility", kind="choice", choices=("closed", "internal", "public"), required=False),
    Param("showcase", kind="flag", required=False),
    Param("hostdesk", kind="flag", required=False),
]
SURVEY_NEW = [
    Param("question"),
    Param("options", kind="words", metavar="option"),
    Param("anonymous", kind="flag", required=False),
    Param("multi", kind="flag", required=False),
    Param("closes", kind="option", required=False, metavar="duration"),
]
ASK = [Param("private", kind="flag", required=False), Param("question", kind="text")]


def test_flags_and_choices_in_any_order() -> None:
    assert parse_args(GROUP_NEW, "wholesale hostdesk closed") == {
        "name": "wholesale",
        "visibility": "closed",
        "showcase": False,
        "hostdesk": True,
    }


def test_quoted_words_and_options() -> None:
    values = parse_args(SURVEY_NEW, '"Lunch on Friday?" "Pizza" „Döner Kebab“ anonymous closes 2h')
    assert values == {
        "question": "Lunch on Friday?",
        "options": ["Pizza", "Döner Kebab"],
        "anonymous": True,
        "multi": False,
        "closes": "2h",
    }


def test_quoted_flag_word_is_an_option_not_a_flag() -> None:
    values = parse_args(SURVEY_NEW, '"Mode?" "multi" "single"')
    assert values["options"] == ["multi", "single"]
    assert values["multi"] is False


def test_text_is_verbatim_to_the_end() -> None:
    values = parse_args(ASK, 'private  When do <b>you</b> ship & "why"?  ')
    assert values == {"private": True, "question": 'When do <b>you</b> ship & "why"?'}
    assert parse_args(ASK, "is private data safe?")["private"] is False


@pytest.mark.parametrize(
    ("params", "raw", "message"),
    [
        (GROUP_NEW, "", "<{name}> is missing."),
        (GROUP_NEW, "a b", "I did not expect '{word}'."),
        (SURVEY_NEW, '"Q" "A" closes', "'{word}' needs a value."),
        (SURVEY_NEW, '"Q" "A', "A quote is not closed."),
        # issue 16: the message names the parameter and the range
        ([Param("n", kind="int")], "x", "<{name}>: '{word}' is not a number from {low} to {high}."),
        (
            [Param("n", kind="int")],
            "99999999999999999999",
            "<{name}>: '{word}' is not a number from {low} to {high}.",
        ),
        ([Param("n", kind="int")], "0", "<{name}>: '{word}' is not a number from {low} to {high}."),
        (
            [Param("r", kind="choice", choices=("up", "down"))],
            "sideways",
            "'{word}' is not one of {choices}.",
        ),
    ],
)
def test_bad_arguments_raise_usage_errors(params: list[Param], raw: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_args(params, raw)
    assert info.value.message == message


def test_usage_lines() -> None:
    cmd = registry.load().commands["group"]
    assert cmd.usage("new") == "/group new <name> [closed|internal|public] [showcase] [hostdesk]"
    assert registry.commands["link"].usage() == "/link <group>"
    assert registry.commands["survey"].usage("new") == (
        '/survey new "<question>" "<option>"... [anonymous] [multi] [closes <duration>]'
    )


word = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Zs", "Cc"), blacklist_characters="\"“”„«»'"
    ),
    min_size=1,
    max_size=12,
)


@given(
    name=word,
    visibility=st.sampled_from([None, "closed", "internal", "public"]),
    showcase=st.booleans(),
    hostdesk=st.booleans(),
)
def test_composed_options_parse_back(
    name: str, visibility: str | None, showcase: bool, hostdesk: bool
) -> None:
    if name.lower() in ("closed", "internal", "public", "showcase", "hostdesk"):
        name = name + "x"
    options = {"name": name, "visibility": visibility, "showcase": showcase, "hostdesk": hostdesk}
    assert parse_args(GROUP_NEW, compose_args(GROUP_NEW, options)) == options


@given(st.lists(word, min_size=1, max_size=5))
def test_tokenize_keeps_quoted_groups(words: list[str]) -> None:
    raw = " ".join(f'"{w} x"' for w in words)
    assert [t.value for t in tokenize(raw)] == [f"{w} x" for w in words]
