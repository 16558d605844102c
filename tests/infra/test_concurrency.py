"""Reserved concurrency: the dispatcher's functions keep what they need whatever the API's
traffic, the API is bounded, and what the account cannot give fails synthesis, not the deploy."""

from typing import Any

import pytest
from aws_cdk import App

from infra import checkov, constants
from infra.build import build_app
from infra.config import Concurrency, ContextError, DeployConfig
from infra.constructs.api import ApiContextError
from infra.constructs.dispatcher import STEP_HANDLERS
from tests.support.synth import Synth

FUNCTION = "AWS::Lambda::Function"


def config(**context: Any) -> DeployConfig:
    return DeployConfig.from_context(App(context=context))


def reservations(synth: Synth) -> dict[str, int | None]:
    """Our functions' ReservedConcurrentExecutions, by handler."""
    return {
        resource["Properties"]["Handler"]: resource["Properties"].get(
            "ReservedConcurrentExecutions"
        )
        for resource in synth.resources(FUNCTION).values()
        if resource["Properties"]["Handler"].startswith(("functions.", "api."))
    }


@pytest.fixture(scope="module")
def reserved(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    app, stack = build_app(outdir=str(tmp_path_factory.mktemp("reserved")))  # cdk.json's
    return Synth.of(app, stack)


@pytest.fixture(scope="module")
def unreserved(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    app, stack = build_app(
        {"stage": "dev-small", "reserve_concurrency": "false"},
        outdir=str(tmp_path_factory.mktemp("unreserved")),
    )
    return Synth.of(app, stack)


def test_every_function_of_ours_reserves_its_share(reserved: Synth) -> None:
    steps = {handler: constants.DISPATCH_STEP_CONCURRENCY for handler in STEP_HANDLERS.values()}
    assert reservations(reserved) == {
        **steps,
        "functions.sweeper.handler": 2,
        "functions.schedule_fire.handler": 10,
        "functions.schedule_repair.handler": 1,
        "functions.webhook.handler": 5,
        "api.handler.handler": 100,
        "functions.seed.handler": 1,
    }
    concurrency = reserved.stack.config.concurrency
    assert sum(v or 0 for v in reservations(reserved).values()) == concurrency.total == 159
    # What a default account (1,000) keeps unreserved, over Lambda's minimum of 100.
    assert concurrency.account - concurrency.total >= constants.LAMBDA_MIN_UNRESERVED_CONCURRENCY
    assert len(STEP_HANDLERS) == constants.DISPATCH_STEP_FUNCTIONS


def test_the_step_concurrency_is_the_named_value_the_group_width_shares(
    reserved: Synth,
) -> None:
    assert reserved.stack.config.step_concurrency == constants.DISPATCH_STEP_CONCURRENCY
    assert config(slots=30).step_concurrency == 30  # at least one per slot
    assert config(slots=2, step_concurrency="24").step_concurrency == 24
    assert config(slots=2, step_concurrency="24").group_width == 12


def test_opting_out_reserves_nothing_and_says_why(unreserved: Synth) -> None:
    assert set(reservations(unreserved).values()) == {None}
    for resource in unreserved.resources(FUNCTION).values():
        skips = {s["id"]: s["comment"] for s in resource["Metadata"]["checkov"]["skip"]}
        assert skips[checkov.CONCURRENCY]


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"step_concurrency": 0}, "step_concurrency=0: must be a positive number"),
        ({"api_concurrency": "lots"}, "api_concurrency='lots'"),
        ({"reserve_concurrency": "maybe"}, "reserve_concurrency='maybe': must be true or false"),
        # A new account's quota: 10 concurrent executions.
        ({"account_concurrency": 10}, "would leave -149 of the account's 10"),
        ({"step_concurrency": 200}, "reserve 919 concurrent executions, which would leave 81"),
    ],
)
def test_what_the_account_cannot_give_fails_with_its_key(
    context: dict[str, Any], message: str
) -> None:
    with pytest.raises(ContextError, match=message.replace("(", r"\(")):
        config(**context)


def test_the_fix_is_named_when_the_account_is_too_small() -> None:
    with pytest.raises(ContextError, match="reserve_concurrency=false"):
        Concurrency(account=200)
    assert Concurrency(account=10, reserve=False).reserved("api") is None


def test_the_api_bound_holds_a_burst_the_stage_lets_through(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with pytest.raises(ApiContextError, match="api_concurrency=50: must be at least"):
        build_app({"api_concurrency": 50}, outdir=str(tmp_path_factory.mktemp("bound")))
