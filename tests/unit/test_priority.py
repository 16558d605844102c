"""Priority parsing and display: names, ints 0..100, and everything else rejected."""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from jobsched.constants import PRIORITY_IMMEDIATE
from jobsched.priority import (
    DEFAULT_PRIORITY,
    PriorityInput,
    PriorityValue,
    display_priority,
    parse_priority,
    parse_stored_priority,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("low", 25),
        ("normal", 50),
        ("high", 75),
        ("immediate", PRIORITY_IMMEDIATE),
        ("  High ", 75),  # names are trimmed and case-insensitive
        ("IMMEDIATE", PRIORITY_IMMEDIATE),
        (0, 0),
        (1, 1),
        (50, 50),
        (100, 100),
        ("0", 0),
        ("100", 100),
        (" 42 ", 42),
    ],
)
def test_accepts_names_and_ints_0_to_100(raw: Any, expected: int) -> None:
    assert parse_priority(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        True,
        False,
        101,
        -1,
        "101",
        "-1",
        "urgent",
        "",
        "5.5",
        "\u0661\u0662",
        "\u00b2",
        50.0,
        None,
        [50],
        {"p": 1},
    ],
)
def test_rejects_everything_else(raw: Any) -> None:
    with pytest.raises(ValueError, match="priority"):
        parse_priority(raw)


def test_immediate_is_above_every_int() -> None:
    assert parse_priority("immediate") > parse_priority(100)


@given(st.integers(min_value=0, max_value=100))
def test_every_int_in_range_round_trips(value: int) -> None:
    assert parse_priority(value) == value
    assert parse_priority(str(value)) == value


@given(st.integers().filter(lambda v: not 0 <= v <= 100))
def test_every_int_out_of_range_is_rejected(value: int) -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        parse_priority(value)


@given(st.text(max_size=12))
def test_any_text_parses_or_raises_value_error(raw: str) -> None:
    # Whatever a client sends, the outcome is a priority or a ValueError (a 422), never a crash.
    try:
        value = parse_priority(raw)
    except ValueError:
        return
    assert 0 <= value <= PRIORITY_IMMEDIATE


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (25, "low"),
        (50, "normal"),
        (75, "high"),
        (PRIORITY_IMMEDIATE, "immediate"),
        (0, 0),
        (51, 51),
    ],
)
def test_display_names_levels_and_keeps_other_ints(value: int, shown: str | int) -> None:
    assert display_priority(value) == shown


def test_stored_value_of_immediate_reads_back_but_is_not_client_input() -> None:
    assert parse_stored_priority(PRIORITY_IMMEDIATE) == PRIORITY_IMMEDIATE
    assert parse_stored_priority("high") == 75
    with pytest.raises(ValueError, match="priority"):
        parse_stored_priority(True)
    with pytest.raises(ValueError, match="between"):
        parse_priority(PRIORITY_IMMEDIATE)


class _Request(BaseModel):
    priority: PriorityInput = DEFAULT_PRIORITY


class _Stored(BaseModel):
    priority: PriorityValue = DEFAULT_PRIORITY


def test_field_types_validate_and_serialise_names() -> None:
    assert _Request().priority == 50
    assert _Request(priority="immediate").priority == PRIORITY_IMMEDIATE
    assert _Request(priority=60).model_dump() == {"priority": 60}
    assert _Request(priority=75).model_dump(mode="json") == {"priority": "high"}
    assert _Stored(priority=PRIORITY_IMMEDIATE).model_dump() == {"priority": "immediate"}
    with pytest.raises(ValidationError):
        _Request(priority=PRIORITY_IMMEDIATE)
    with pytest.raises(ValidationError):
        _Request(priority="urgent")
