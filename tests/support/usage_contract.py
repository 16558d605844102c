"""The worker's `usage` event and `__USAGE__` value, checked against their contract
(container/README.md): shared by the tests that run the worker with either provider."""

from typing import Any

from tests.support.worker_harness import Exited

USAGE_KEYS = ["calls", "prompt_tokens", "completion_tokens", "cost_usd", "unpriced_calls"]
NO_USAGE = {
    "calls": 0,
    "prompt_tokens": 0,
    "completion_tokens": 0,
    "cost_usd": 0.0,
    "unpriced_calls": 0,
    "by_model": [],
}


def check_usage(usage: dict[str, Any]) -> None:
    """The exact shape the server reads: the five totals, then by_model sorted by model."""
    assert list(usage) == [*USAGE_KEYS, "by_model"]
    for entry in [usage, *usage["by_model"]]:
        for name in ("calls", "prompt_tokens", "completion_tokens", "unpriced_calls"):
            assert type(entry[name]) is int
            assert entry[name] >= 0
        assert type(entry["cost_usd"]) is float
    for entry in usage["by_model"]:
        assert list(entry) == ["model", *USAGE_KEYS]
        assert isinstance(entry["model"], str)
    models = [entry["model"] for entry in usage["by_model"]]
    assert models == sorted(models)
    for name in ("calls", "prompt_tokens", "completion_tokens", "unpriced_calls"):
        assert usage[name] == sum(entry[name] for entry in usage["by_model"])


def the_usage(done: Exited) -> dict[str, Any]:
    """The run's one `usage` event's totals, checked to come before the artifacts."""
    (event,) = done.named("usage")
    names = done.names()
    if "artifacts" in names:
        assert names.index("usage") < names.index("artifacts")
    assert names.index("usage") < names.index("finished")
    usage: dict[str, Any] = event["usage"]
    check_usage(usage)
    return usage
