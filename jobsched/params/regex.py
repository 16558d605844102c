"""JSON Schema's regular expressions run by RE2, a linear-time engine.

jsonschema evaluates `pattern`, `patternProperties` and `additionalProperties` (which skips the
names `patternProperties` matched) with Python's `re`, which backtracks: `^(a+)+$` against
`"a" * 30 + "!"` takes minutes and holds the process. RE2 matches in time linear in the input,
and refuses what needs backtracking (backreferences, lookarounds), so a template's patterns are
compiled by RE2 when it is saved and a pattern it refuses is a 422 there.

`unevaluatedProperties` also tests `patternProperties` inside jsonschema, with `re`; a schema
that has both is refused at save rather than evaluated by a backtracking engine.
"""

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

# Keywords whose values are data, not schemas: a "pattern" inside them is not a regex.
DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})


class PatternRefusedError(ValueError):
    """RE2 cannot compile this pattern; the message says why."""


@lru_cache(maxsize=512)
def compiled(pattern: str) -> Any:
    import re2  # lazy: only a schema with a pattern pays for it

    options = re2.Options()
    options.log_errors = False  # the error is raised to the caller, not printed on stderr
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "not a regular expression"
        if isinstance(reason, bytes):
            reason = reason.decode(errors="replace")
        raise PatternRefusedError(str(reason)) from exc


def search(pattern: str, text: str) -> bool:
    return compiled(pattern).search(text) is not None


def schema_patterns(schema: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every (where, pattern) of a schema: `pattern` values and `patternProperties` names.

    Walked without recursion, so a deeply nested schema cannot exhaust the stack."""
    stack: list[tuple[Any, str]] = [(schema, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, list):
            stack.extend((item, f"{where}.{index}") for index, item in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            here = f"{where}.{key}" if where else key
            if key == "pattern" and isinstance(value, str):
                yield here, value
            elif key == "patternProperties" and isinstance(value, dict):
                yield from ((f"{here}.{name}", name) for name in value)
            if key not in DATA_KEYWORDS:
                stack.append((value, here))


def mixes_unevaluated_with_patterns(schema: Any) -> bool:
    """True when the schema has both `unevaluatedProperties` and `patternProperties`."""
    found: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            found |= node.keys() & {"unevaluatedProperties", "patternProperties"}
            stack.extend(value for key, value in node.items() if key not in DATA_KEYWORDS)
    return len(found) == 2


# --- the keywords, as jsonschema's own (jsonschema/_keywords.py) with RE2 in place of `re` ----


def pattern(validator: Any, regex: str, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and not search(regex, instance):
        yield ValidationError(f"{instance!r} does not match {regex!r}")


def pattern_properties(
    validator: Any, patterns: dict[str, Any], instance: Any, schema: dict[str, Any]
) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for regex, subschema in patterns.items():
        for name, value in instance.items():
            if search(regex, name):
                yield from validator.descend(value, subschema, path=name, schema_path=regex)


def additional_properties(
    validator: Any, additional: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extras = [
        name
        for name in instance
        if name not in properties and not any(search(regex, name) for regex in patterns)
    ]
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        if "patternProperties" in schema:
            verb = "does" if len(extras) == 1 else "do"
            joined = ", ".join(repr(extra) for extra in sorted(extras))
            listed = ", ".join(repr(each) for each in sorted(patterns))
            yield ValidationError(f"{joined} {verb} not match any of the regexes: {listed}")
        else:
            names = ", ".join(repr(extra) for extra in sorted(extras, key=str))
            verb = "was" if len(extras) == 1 else "were"
            yield ValidationError(
                f"Additional properties are not allowed ({names} {verb} unexpected)"
            )


@lru_cache(maxsize=1)
def validator_class() -> Any:
    """Draft 2020-12 with the three regex keywords evaluated by RE2."""
    from jsonschema import Draft202012Validator, validators

    return validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator,
        validators={
            "pattern": pattern,
            "patternProperties": pattern_properties,
            "additionalProperties": additional_properties,
        },
    )
