"""The strict reading of request bodies (api/strict_json.py): what it refuses, and where."""

import pytest

from api.strict_json import MalformedBodyError, parse_body, unstorable_values


def fields(raw: bytes) -> list[str]:
    return [problem.field for problem in unstorable_values(parse_body(raw))]


@pytest.mark.parametrize(
    "number",
    ["0", "-0", "0.0", "0e-999", "1e-130", "-1E-130", "9.99e125", "9" * 38, "1" + "0" * 125],
)
def test_numbers_a_dynamodb_item_holds_are_kept(number: str) -> None:
    assert fields(b'{"n":' + number.encode() + b"}") == []


@pytest.mark.parametrize(
    "number",
    [
        "1e-131",
        "9.9e-131",
        "1e126",
        "-1e126",
        "1e999",
        "9" * 39,
        "1" + "0" * 126,
        "7" * 5000,
        "1.00000000000000000000000000000000000001",
        "NaN",
        "Infinity",
        "-Infinity",
    ],
)
def test_numbers_no_store_holds_are_named(number: str) -> None:
    assert fields(b'{"a":{"n":[1,' + number.encode() + b"]}}") == ["a.n.1"]


def test_lone_surrogates_are_named_in_values_and_keys() -> None:
    raw = b'{"ok":"\\ud83d\\udca5","v":"\\ud800","\\udfff":1,"l":["\\udc00"]}'
    assert fields(raw) == ["v", "\\udfff", "l.0"]
    assert fields(b'"\\ud800"') == ["body"]


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        (b"{,}", "line 1 column 2 (char 1)"),
        (b'{"a":\n\n  tru}', "line 3 column 3 (char 9)"),
        (b"\xef\xbb\xbf{}", "line 1 column 1 (char 0)"),  # a BOM is not JSON text
        (b'{"a":"\xe9"}', "line 1 column 7 (byte 6)"),
        # brackets in a string do not nest
        (b'["' + b"[" * 70 + b'\\"",' + b"[" * 5000 + b"]" * 5001, "line 1 column 140 (char 139)"),
        (b"[" * 5000 + b"]" * 5000, "line 1 column 65 (char 64)"),
    ],
)
def test_malformed_bodies_say_where(raw: bytes, where: str) -> None:
    with pytest.raises(MalformedBodyError) as raised:
        parse_body(raw)
    assert raised.value.where == where
