"""What a template must hold to be saved: anything else would make every one of its jobs fail
later (at RunTask, in the worker, or at enqueue) instead of the template's author now."""

from jobsched.dispatch.budgets import check_budgets
from jobsched.dispatch.concurrency import check_concurrency
from jobsched.errors import FieldProblem, ValidationFailedError
from jobsched.models import JobTemplate
from jobsched.models.gates import JsonSchemaCheck
from jobsched.params import check_defaults, check_schema, check_size
from jobsched.worker_contract import WORKLOADS


def _steps(low: int, high: int, step: int) -> frozenset[int]:
    return frozenset(range(low, high + 1, step))


# Fargate's task sizes: CPU units -> the memory (MiB) it accepts with them (the ECS developer
# guide, "Task CPU and memory"). RunTask refuses any other pair.
FARGATE_MEMORY: dict[int, frozenset[int]] = {
    256: frozenset({512, 1024, 2048}),
    512: _steps(1024, 4096, 1024),
    1024: _steps(2048, 8192, 1024),
    2048: _steps(4096, 16384, 1024),
    4096: _steps(8192, 30720, 1024),
    8192: _steps(16384, 61440, 4096),
    16384: _steps(32768, 122880, 8192),
}


def check_workload(workload: str) -> None:
    if workload not in WORKLOADS:
        known = ", ".join(sorted(WORKLOADS))
        raise ValidationFailedError.on(
            "workload", f"{workload!r} is not a workload the job image runs (one of: {known})"
        )


def check_task_size(cpu: int, memory: int) -> None:
    accepted = FARGATE_MEMORY.get(cpu)
    if accepted is not None and memory in accepted:
        return
    if accepted is None:
        why = f"Fargate takes cpu {', '.join(str(units) for units in FARGATE_MEMORY)}"
    else:
        sizes = sorted(accepted)
        if len(sizes) <= 3:
            listed = ", ".join(str(size) for size in sizes)
        else:
            listed = f"{sizes[0]} to {sizes[-1]} in steps of {sizes[1] - sizes[0]}"
        why = f"with cpu {cpu}, Fargate takes memory {listed} (MiB)"
    message = f"cpu {cpu} with memory {memory} is not a Fargate task size: {why}"
    raise ValidationFailedError(
        message, [FieldProblem("cpu", message), FieldProblem("memory", message)]
    )


def check_template(template: JobTemplate) -> None:
    """Everything a template is checked for at create and at every change."""
    check_workload(template.workload)
    check_task_size(template.cpu, template.memory)
    check_schema(template.params_schema)
    check_size(template.default_params, "default_params")
    check_defaults(template.params_schema, template.default_params)
    check_concurrency(template)
    check_gates(template)
    check_budgets(template.budgets)


def check_gates(template: JobTemplate) -> None:
    """A json_schema check's schema is valid JSON Schema that RE2 can run, as params_schema
    is: a bad one would reject every run instead of failing its author now."""
    for index, check in enumerate(template.checks):
        if isinstance(check, JsonSchemaCheck):
            where = f"checks.{index}.schema"
            check_size(check.json_schema, where)
            check_schema(check.json_schema, where)
