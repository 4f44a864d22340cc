"""Validation problems in our words, and counts that agree with their nouns."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, SecretStr, ValidationError

from oncall_tui.core.plural import counted
from oncall_tui.core.validation_text import describe_problem, location


class Server(BaseModel):
    port: int = Field(9977, le=65535)
    mode: str = "approve"
    secret: SecretStr | None = None
    ratio: float = 0.5


def problems(data: dict[str, object], *, show_input: bool = True) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        Server.model_validate(data)
    return [
        f"{location(e['loc'])}: {describe_problem(e, show_input=show_input)}"
        for e in caught.value.errors()
    ]


def test_a_type_mistake_says_what_was_expected_and_what_was_given() -> None:
    assert problems({"port": "abc"}) == ['port: expected an integer, got "abc"']
    assert problems({"ratio": "half"}) == ['ratio: expected a number, got "half"']


def test_a_bound_is_named_without_quoting_the_value() -> None:
    assert problems({"port": 918273645}) == ["port: must be at most 65535"]


def test_a_secret_is_never_quoted() -> None:
    assert problems({"secret": 918273645}, show_input=False) == ["secret: expected a string"]
    assert problems({"port": "s3cret"}, show_input=False) == ["port: expected an integer"]


def test_a_quoted_input_is_short_and_without_control_characters() -> None:
    [text] = problems({"port": "\x1b[2J" + "9" * 100})
    assert "\x1b" not in text and len(text) < 80


def test_locations_read_as_written_in_toml() -> None:
    assert location(("sources", "pagerduty", "secret")) == "sources.pagerduty.secret"
    assert location(("allowed_hosts", 2)) == "allowed_hosts[2]"
    assert location(("variables", "[key]")) == "variables"


@pytest.mark.parametrize(
    ("count", "noun", "expected"),
    [
        (1, "active incident", "1 active incident"),
        (0, "active incident", "0 active incidents"),
        (2, "pending push", "2 pending pushes"),
        (1, "pending push", "1 pending push"),
        (3, "delivery", "3 deliveries"),
        (1, "session", "1 session"),
    ],
)
def test_counts_agree_with_their_nouns(count: int, noun: str, expected: str) -> None:
    assert counted(count, noun) == expected
