"""Schemathesis against the whole API, in process, on the SQLite store (issue 12).

Every operation, with a fixed seed (`derandomize`) and a bounded number of examples, must give
no 5xx, answer with bodies, headers and statuses the OpenAPI document states, list its methods
in `Allow`, answer 405 to methods it does not take, and accept every request its schema calls
valid, but for the few rules no JSON schema can state (ACCEPTED_REFUSALS below).

Reproduce a failure: the report prints a curl line to replay. The examples are the same each
run (derandomize, no example database); what the store holds when a case runs depends on the
operations run before it in that worker, so a failure is replayed surest from its curl line.
"""

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from jobsched.adapters.sqlite import build_stores, open_database
from jobsched.jobs.keys import mint_key
from jobsched.jobs.seed import seed_default_templates
from jobsched.models import Scope
from jobsched.settings import Settings, get_settings

MAX_EXAMPLES = 8  # per operation: the whole file well under 3 minutes on two busy cores

# The refusals of schema-valid requests that no JSON schema can state, by `errors[].field`:
# each is a rule about state, or about a grammar or a schema the schema cannot name.
ACCEPTED_REFUSALS = {
    "cursor",  # a cursor this API issued for this list
    "params",  # valid for the template's own params_schema
    "workload",  # a workload the job image runs
    "expression",  # a schedule expression's grammar (cron, rate, at)
    "timezone",  # a zone the server's tz database has (an enum would pin one tzdata release)
    "webhook_url",  # a webhook URL that can be reached (a public https host)
    "job_type",  # the legacy job_type naming the same template as _scheduler's fields
    "concurrency",  # a key naming a param the template declares, each key once
    "checks",  # a glob's grammar, min <= max, a bound at least, a schema valid as JSON Schema
    "budgets",  # a limit at least (tokens or usd), a period once per time zone, a known zone
}
# A number a store cannot hold (api.strict_json) in a free-form value (params, a legacy
# trigger's body): no schema names those fields. Typed numbers state it (threshold's minimum).
UNSTORABLE = ("is out of the stored range", "has ")
TYPED_NUMBERS = {"threshold"}
# Pydantic's refusals of an integral float (`1.0`) for an integer field: JSON Schema counts it
# an integer, the API takes integer literals only (docs/decisions.md, "Bad input").
NOT_AN_INT = ("Input should be a valid integer", "priority must be a level name or an integer")
# Rules across the path and the body, or between fields, that the schema does not state:
RELATIVE_TO_ITSELF = "a job cannot be placed relative to itself"  # move's before/after = job_id
LEGACY_JOB_TYPE = "name the job type (or template_id)"  # a legacy batch job's type
BETWEEN_FIELDS = (
    " is before start_at (",  # a schedule's end_at after its start_at
    " name different templates",  # a legacy job's job_type and template_id agree
    "is before since",  # a time range's until is not before its since (runs, usage)
    "days before until",  # a usage range of at most 400 days
)


def _value_at(body: Any, field: str) -> Any:
    for part in field.split("."):
        if isinstance(body, dict) and part in body:
            body = body[part]
        elif isinstance(body, list) and part.isdigit() and int(part) < len(body):
            body = body[int(part)]
        else:
            return None
    return body


def _accepted(field: str, message: str, body: Any) -> bool:
    top = field.split(".", 1)[0]
    if top in ACCEPTED_REFUSALS or message in (RELATIVE_TO_ITSELF, LEGACY_JOB_TYPE):
        return True
    if any(rule in message for rule in BETWEEN_FIELDS):
        return True
    if message.startswith(UNSTORABLE) and top not in TYPED_NUMBERS:
        return True
    value = _value_at(body, field)
    return (
        any(text in message for text in NOT_AN_INT)
        and isinstance(value, float)
        and value.is_integer()
    )


def accepts_what_the_schema_can_state(ctx: Any, response: Any, case: Any) -> bool | None:
    """positive_data_acceptance, but a 422 problem is allowed when every field it names is
    refused by a rule no schema can state (404 and 409 are accepted already)."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if response.status_code != 422:
            raise
        errors = response.json().get("errors") or []
        body = case.body if isinstance(case.body, dict) else None
        if errors and all(_accepted(e["field"], e["message"], body) for e in errors):
            return None
        raise


def _api() -> tuple[Any, str]:
    """The app on a SQLite store with the default templates, and an all-scopes key.

    Built at import: schemathesis parametrizes from the schema at collection (its fixture
    loader does not run under this pytest), so the store lives in a temporary directory
    removed at exit."""
    data = Path(_DATA.name)
    config = Settings(table_prefix="fuzz", aws_endpoint_url=None, data_dir=str(data))
    stores = build_stores(config, open_database(data, config))
    seed_default_templates(stores)
    key = mint_key(stores.keys, "fuzz", [Scope.READ, Scope.WRITE, Scope.ADMIN])
    return create_app(stores=stores, public_docs=True), key.secret


_DATA = tempfile.TemporaryDirectory(prefix="jobsched-fuzz-")
APP, TOKEN = _api()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(autouse=True)
def no_direct_wait(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The direct calls answer 202 at once: nothing runs the slot they reserve here."""
    monkeypatch.setenv("JOBSCHED_DIRECT_WAIT_SECONDS", "0")
    monkeypatch.setenv("JOBSCHED_DIRECT_MAX_WAIT_SECONDS", "0")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,  # the same examples every run, not the ones a past failure saved
    suppress_health_check=list(HealthCheck),
)
def test_every_operation(case: Any) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKEN}"},
        # Every check, positive_data_acceptance as refined above: nothing valid is refused,
        # nothing the schema calls invalid is taken (negative_data_rejection), nothing fails.
        excluded_checks=[positive_data_acceptance],
        additional_checks=[accepts_what_the_schema_can_state],
    )
