"""Concurrency keys without a store: what a template may declare, and the keys a job's params
resolve to (what the claim acquires and the ETA counts)."""

import pytest
from pydantic import ValidationError

from jobsched.dispatch.concurrency import check_concurrency, concurrency_keys
from jobsched.errors import ValidationFailedError
from jobsched.jobs.templates import TemplateCreate
from jobsched.models import JobTemplate
from jobsched.models.concurrency import MAX_VALUE_CHARS, ConcurrencyLimit

SCHEMA = {"type": "object", "properties": {"customer": {}, "region": {}, "spec": {}}}


def _template(*limits: tuple[str, int]) -> JobTemplate:
    return JobTemplate(
        template_id="report",
        name="Report",
        workload="echo",
        params_schema=SCHEMA,
        concurrency=[ConcurrencyLimit(key=key, limit=limit) for key, limit in limits],
    )


def test_keys_resolve_to_template_and_param_values_in_order() -> None:
    template = _template(("template", 1), ("params.customer", 2))
    keys = concurrency_keys(template, {"customer": "acme"})
    assert [(k.key, k.value, k.limit, k.counter) for k in keys] == [
        ("template", "report", 1, "report:template=report"),
        ("params.customer", "acme", 2, "report:params.customer=acme"),
    ]


def test_a_missing_or_null_param_does_not_apply() -> None:
    template = _template(("params.customer", 2))
    assert concurrency_keys(template, {}) == []
    assert concurrency_keys(template, {"customer": None}) == []


def test_values_are_canonical_and_long_ones_counted_by_digest() -> None:
    template = _template(("params.spec", 1))
    one = concurrency_keys(template, {"spec": {"a": 1, "b": [True, 2.5]}})
    other = concurrency_keys(template, {"spec": {"b": [True, 2.5], "a": 1}})
    assert one[0].counter == other[0].counter == 'report:params.spec={"a":1,"b":[true,2.5]}'
    long = concurrency_keys(template, {"spec": "x" * (MAX_VALUE_CHARS + 1)})[0]
    assert long.value.startswith("sha256:")
    assert len(long.counter) < 2 * MAX_VALUE_CHARS


def test_no_limits_no_keys() -> None:
    assert concurrency_keys(_template(), {"customer": "acme"}) == []


@pytest.mark.parametrize(
    ("limits", "field", "reason"),
    [
        ((("params.nobody", 1),), "concurrency.0.key", "names no declared param"),
        ((("template", 1), ("template", 2)), "concurrency.1.key", "declared twice"),
        (
            (("template", 1), ("params.customer", 1), ("params.region", 1), ("params.spec", 1)),
            "concurrency",
            "at most 3",
        ),
    ],
)
def test_a_template_is_refused_a_key_it_cannot_hold(
    limits: tuple[tuple[str, int], ...], field: str, reason: str
) -> None:
    with pytest.raises(ValidationFailedError) as refused:
        check_concurrency(_template(*limits))
    assert refused.value.problems[0].field == field
    assert reason in refused.value.problems[0].message


def test_a_param_declared_only_by_its_default_may_be_a_key() -> None:
    template = _template(("params.tenant", 1)).model_copy(update={"default_params": {"tenant": 1}})
    check_concurrency(template)


@pytest.mark.parametrize(
    "limit",
    [{"key": "template", "limit": 0}, {"key": "params", "limit": 1}, {"key": "x", "limit": 1}],
)
def test_the_request_refuses_a_bad_limit_or_key(limit: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        TemplateCreate.model_validate(
            {"template_id": "t", "name": "T", "workload": "echo", "concurrency": [limit]}
        )
