"""The template rules that need no store: Fargate's task sizes, a schema's regexes."""

import pytest

from jobsched.errors import ValidationFailedError
from jobsched.jobs.template_rules import FARGATE_MEMORY, check_task_size
from jobsched.params import validate_params
from jobsched.params.regex import schema_patterns


@pytest.mark.parametrize(
    ("cpu", "memory"),
    [
        (256, 512),
        (256, 2048),
        (512, 4096),
        (1024, 8192),
        (2048, 16384),
        (4096, 30720),
        (8192, 61440),
        (8192, 20480),
        (16384, 122880),
        (16384, 40960),
    ],
)
def test_fargate_sizes_are_accepted(cpu: int, memory: int) -> None:
    check_task_size(cpu, memory)


@pytest.mark.parametrize(
    ("cpu", "memory"),
    [
        (256, 4096),
        (256, 1536),
        (512, 512),
        (1024, 9216),
        (4096, 31744),
        (8192, 17408),
        (16384, 36864),
        (300, 1024),
        (32768, 65536),
    ],
)
def test_other_pairs_are_refused_on_both_fields(cpu: int, memory: int) -> None:
    with pytest.raises(ValidationFailedError) as raised:
        check_task_size(cpu, memory)

    assert [p.field for p in raised.value.problems] == ["cpu", "memory"]


def test_the_table_is_fargates() -> None:
    assert sorted(FARGATE_MEMORY) == [256, 512, 1024, 2048, 4096, 8192, 16384]
    assert len(FARGATE_MEMORY[4096]) == 23  # 8 to 30 GB
    assert min(FARGATE_MEMORY[16384]) == 32768


def test_every_regex_of_a_schema_is_found_and_no_data() -> None:
    schema = {
        "properties": {
            "pattern": {"type": "string", "pattern": "^p"},  # a property named "pattern"
            "tags": {"items": {"pattern": "^t"}},
        },
        "patternProperties": {"^x-": {}},
        "anyOf": [{"pattern": "^a"}],
        "default": {"pattern": "(a)\\1"},
    }

    found = set(schema_patterns(schema))

    assert found == {
        ("properties.pattern.pattern", "^p"),
        ("properties.tags.items.pattern", "^t"),
        ("patternProperties.^x-", "^x-"),
        ("anyOf.0.pattern", "^a"),
    }


def test_a_catastrophic_pattern_is_answered() -> None:
    schema = {"properties": {"s": {"type": "string", "pattern": "^(a|aa)+$"}}}

    with pytest.raises(ValidationFailedError):
        validate_params(schema, {"s": "a" * 60 + "b"})
    validate_params(schema, {"s": "a" * 60})
