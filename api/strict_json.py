"""Request bodies read as strict JSON: what a client sends can be stored as it was sent.

Python's json takes NaN and Infinity, lone surrogates ("\\ud800") and numbers DynamoDB cannot
hold (1e-200, 2**200); each became a 500, or a null, after something was written. Here they are
refused first: a body that cannot be read is `Malformed body`, a value that cannot be stored is
a field problem. Both are 422 (docs/decisions.md, "Bad input").
"""

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jobsched.constants import MAX_JSON_DEPTH
from jobsched.errors import FieldProblem

# A DynamoDB number: 38 significant digits, magnitude 1E-130 up to 9.99...E+125.
MAX_DIGITS = 38
MIN_MAGNITUDE = Decimal("1E-130")
MAX_MAGNITUDE = Decimal("1E+126")  # exclusive
MAX_PROBLEMS = 20  # a body full of bad values answers with the first few


class MalformedBodyError(ValueError):
    """The body is not JSON text; `where` says where the reading stopped."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


@dataclass(frozen=True)
class _Unstorable:
    """A number read from the body that no store can hold; the walk names its field."""

    reason: str


def _magnitude_problem(value: Decimal) -> str | None:
    _, digits, _ = value.as_tuple()
    significant = "".join(map(str, digits)).strip("0")
    if len(significant) > MAX_DIGITS:
        return f"has {len(significant)} significant digits; at most {MAX_DIGITS} are stored"
    if value and not MIN_MAGNITUDE <= abs(value) < MAX_MAGNITUDE:
        return "is out of the stored range: 0, or a magnitude from 1E-130 to 9.99E+125"
    return None


def _read_int(text: str) -> int | _Unstorable:
    if len(text) > MAX_DIGITS + 126:  # surely out of range; int() of it would be slow
        return _Unstorable("is out of the stored range: 0, or a magnitude from 1E-130 to 9.99E+125")
    problem = _magnitude_problem(Decimal(text))
    return _Unstorable(problem) if problem else int(text)


def _read_float(text: str) -> float | _Unstorable:
    problem = _magnitude_problem(Decimal(text))
    return _Unstorable(problem) if problem else float(text)


def _read_constant(name: str) -> _Unstorable:
    return _Unstorable(f"is {name}, which JSON does not have (nor do the stores)")


def _is_text(value: str) -> bool:
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, from a "\ud800" escape
        return False
    return True


def _printable(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


def _position(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line} column {column} (char {offset})"


def _too_deep_at(text: str) -> int:
    """Where the nesting first passes MAX_JSON_DEPTH (only asked when the parser gave up)."""
    depth, in_string, escaped = 0, False, False
    for offset, char in enumerate(text):
        if escaped:
            escaped = False
        elif in_string:
            escaped = char == "\\"
            in_string = char != '"'
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return offset
        elif char in "]}":
            depth -= 1
    return len(text)


def parse_body(raw: bytes) -> Any:
    """The body as JSON, or MalformedBodyError. Unstorable numbers are left as markers for
    `unstorable_values` to name; call both before using the value."""
    try:
        text = raw.decode("utf-8")  # JSON text is UTF-8 (RFC 8259 section 8.1)
    except UnicodeDecodeError as exc:
        where = _position(raw[: exc.start].decode("utf-8"), exc.start)
        raise MalformedBodyError(
            where.replace("char", "byte"), f"is not UTF-8 (byte 0x{raw[exc.start]:02x})"
        ) from exc
    try:
        return json.loads(
            text, parse_int=_read_int, parse_float=_read_float, parse_constant=_read_constant
        )
    except json.JSONDecodeError as exc:
        raise MalformedBodyError(_position(text, exc.pos), exc.msg) from exc
    except RecursionError as exc:
        where = _position(text, _too_deep_at(text))
        raise MalformedBodyError(where, f"nests deeper than {MAX_JSON_DEPTH} levels") from exc


def unstorable_values(body: Any) -> list[FieldProblem]:
    """Strings that are not UTF-8 text and numbers no store holds, by field (`params.message`);
    the whole body is `body`. Walked without recursion: the parser bounds the depth, not us."""
    problems: list[FieldProblem] = []
    # (path, value, whether its key is text): popped in the document's order
    stack: list[tuple[tuple[str, ...], Any, bool]] = [((), body, True)]
    while stack and len(problems) < MAX_PROBLEMS:
        path, value, key_is_text = stack.pop()
        field = ".".join(path) or "body"
        if not key_is_text:
            problems.append(FieldProblem(field, "is a key that is not UTF-8 text"))
        if isinstance(value, str) and not _is_text(value):
            problems.append(FieldProblem(field, "is not UTF-8 text: it holds a lone surrogate"))
        elif isinstance(value, _Unstorable):
            problems.append(FieldProblem(field, value.reason))
        elif isinstance(value, dict):
            stack.extend(
                ((*path, _printable(key)), child, _is_text(key))
                for key, child in reversed(value.items())
            )
        elif isinstance(value, list):
            stack.extend(
                ((*path, str(index)), child, True)
                for index, child in reversed(list(enumerate(value)))
            )
    return problems
