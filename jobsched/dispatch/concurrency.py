"""Concurrency keys: which limits a job is held to, and what a template may declare.

A template declares `concurrency: [{key, limit}]`; a job's keys are resolved once, at enqueue,
from the version it is enqueued against, and kept on the job and its queue place. The claim
then acquires them in its own transaction (steps.AcquireKeys: a counter per key value holding
the run ids that hold it, with the condition "fewer than limit"), and every path that ends or
requeues the run releases them by run id (steps.ReleaseKeys), so a release retried, or two
enders racing, never frees a place twice. See docs/decisions.md, "Concurrency keys".
"""

import json
from typing import Any

from jobsched.errors import FieldProblem, ValidationFailedError
from jobsched.models import JobTemplate
from jobsched.models.concurrency import MAX_KEYS, PARAMS_PREFIX, TEMPLATE_KEY, KeyHold
from jobsched.models.steps import ReleaseKeys


def concurrency_keys(template: JobTemplate, params: dict[str, Any]) -> list[KeyHold]:
    """The (key, value, limit) a job of `template` with `params` is held to, in the template's
    order. A `params.<name>` key whose param is absent or null does not apply to the job."""
    keys = []
    for limit in template.concurrency:
        if limit.key == TEMPLATE_KEY:
            value = template.template_id
        else:
            param = params.get(limit.key.removeprefix(PARAMS_PREFIX))
            if param is None:
                continue
            value = canonical(param)
        keys.append(KeyHold.of(template.template_id, limit.key, value, limit.limit))
    return keys


def canonical(value: Any) -> str:
    """A param's value as counter text: a string as it is, anything else as compact JSON with
    sorted keys (so {"a":1,"b":2} and {"b":2,"a":1} count together)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def release_of(run_id: str, keys: list[KeyHold]) -> list[ReleaseKeys]:
    """The step that frees `keys` for `run_id`; none when the job holds no key."""
    return [ReleaseKeys(run_id, tuple(key.counter for key in keys))] if keys else []


def check_concurrency(template: JobTemplate) -> None:
    """At most MAX_KEYS keys, each once, each `params.<name>` naming a declared param."""
    limits = template.concurrency
    if len(limits) > MAX_KEYS:
        raise ValidationFailedError.on(
            "concurrency",
            f"declares {len(limits)} keys; at most {MAX_KEYS} (each costs the claim one write)",
        )
    declared = set(template.params_schema.get("properties", {})) | set(template.default_params)
    problems = []
    seen: set[str] = set()
    for index, limit in enumerate(limits):
        where = f"concurrency.{index}.key"
        if limit.key in seen:
            problems.append(FieldProblem(where, f"{limit.key!r} is declared twice"))
        seen.add(limit.key)
        name = limit.key.removeprefix(PARAMS_PREFIX)
        if limit.key != TEMPLATE_KEY and name not in declared:
            problems.append(
                FieldProblem(
                    where,
                    f"{limit.key!r} names no declared param: {name!r} is neither in "
                    "params_schema.properties nor in default_params",
                )
            )
    if problems:
        first = problems[0]
        raise ValidationFailedError(f"{first.field}: {first.message}", problems)
