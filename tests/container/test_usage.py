"""What a unit's model calls used: the meter's totals by model, the `model_call` and `usage`
events (once per run, whatever its outcome, before the artifacts), and `__USAGE__` in the
result transaction."""

import io
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from worker import transact
from worker.context import WorkloadContext
from worker.events import EventLog
from worker.providers import Completion, CompletionRequest, OfflineProvider, ProviderError
from worker.usage import UsageMeter

from tests.support.file_contract import DEFAULT_MODEL, expected_id
from tests.support.usage_contract import NO_USAGE, USAGE_KEYS, check_usage, the_usage
from tests.support.worker_harness import UNIT_ID, Exited, run_worker, unit_env, worker_env


def summed_calls(done: Exited) -> dict[str, Any]:
    """The totals as the run's `model_call` events add up (their costs all priced here)."""
    calls = done.named("model_call")
    assert all(call["cost_usd"] is not None for call in calls)
    return {
        "calls": len(calls),
        "prompt_tokens": sum(call["prompt_tokens"] for call in calls),
        "completion_tokens": sum(call["completion_tokens"] for call in calls),
        "cost_usd": sum(call["cost_usd"] for call in calls),
        "unpriced_calls": 0,
    }


def request(model: str = "m") -> CompletionRequest:
    return CompletionRequest(system="Be brief.", prompt="Topic: kelp", model=model, seed="1")


# -- the meter --------------------------------------------------------------------------------


def test_the_meter_sums_per_model_and_keeps_unpriced_calls_apart() -> None:
    meter = UsageMeter()
    meter.record(Completion("", "openai/b", prompt_tokens=10, completion_tokens=5, cost_usd=0.25))
    meter.record(Completion("", "gemini/a", prompt_tokens=7, completion_tokens=3, cost_usd=None))
    meter.record(Completion("", "openai/b", prompt_tokens=1, completion_tokens=2, cost_usd=0.5))
    meter.record(Completion("", "gemini/a", prompt_tokens=2, completion_tokens=1, cost_usd=0.125))

    usage = meter.totals()

    assert usage == {
        "calls": 4,
        "prompt_tokens": 20,
        "completion_tokens": 11,
        "cost_usd": 0.875,  # the priced calls only
        "unpriced_calls": 1,
        "by_model": [
            {
                "model": "gemini/a",
                "calls": 2,
                "prompt_tokens": 9,
                "completion_tokens": 4,
                "cost_usd": 0.125,
                "unpriced_calls": 1,
            },
            {
                "model": "openai/b",
                "calls": 2,
                "prompt_tokens": 11,
                "completion_tokens": 7,
                "cost_usd": 0.75,
                "unpriced_calls": 0,
            },
        ],
    }
    check_usage(dict(usage))


def test_a_meter_that_saw_no_call_reports_zeros() -> None:
    assert UsageMeter().totals() == NO_USAGE


def test_the_meter_sums_costs_without_drift() -> None:
    meter = UsageMeter()
    for _ in range(10):
        meter.record(Completion("", "m", cost_usd=0.1))

    assert meter.totals()["cost_usd"] == 1.0  # a running float sum gives 0.9999999999999999


def test_the_meter_counts_every_call_of_concurrent_threads() -> None:
    meter = UsageMeter()
    threads, calls = 8, 500
    start = threading.Barrier(threads)

    def feed(index: int) -> None:
        start.wait()
        for _ in range(calls):
            meter.record(Completion("", f"model-{index % 2}", 3, 2, cost_usd=None))

    workers = [threading.Thread(target=feed, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    usage = meter.totals()
    assert (usage["calls"], usage["unpriced_calls"]) == (threads * calls, threads * calls)
    assert (usage["prompt_tokens"], usage["completion_tokens"]) == (3 * 4000, 2 * 4000)
    assert [entry["calls"] for entry in usage["by_model"]] == [2000, 2000]


# -- the context's metered provider -----------------------------------------------------------


class Failing:
    """A provider whose model answers unusably (spent set) or not at all."""

    def __init__(self, spent: Completion | None) -> None:
        self.spent = spent

    @property
    def name(self) -> str:
        return "failing"

    def complete(self, request: CompletionRequest) -> Completion:
        raise ProviderError("the model's reply holds no JSON object", spent=self.spent)


def context(tmp_path: Path, provider: Any = None) -> tuple[WorkloadContext, io.StringIO]:
    stream = io.StringIO()
    events = EventLog(UNIT_ID, "job-1", stream=stream)
    if provider is None:
        return WorkloadContext(tmp_path, threading.Event(), events), stream
    return WorkloadContext(tmp_path, threading.Event(), events, provider=provider), stream


def logged(stream: io.StringIO, name: str) -> list[dict[str, Any]]:
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [event for event in events if event["event"] == name]


def test_every_call_through_the_context_is_metered_and_logged(tmp_path: Path) -> None:
    ctx, stream = context(tmp_path)

    answer = ctx.provider.complete(request("gemini/x"))

    assert ctx.provider.name == "offline"
    assert answer == OfflineProvider().complete(request("gemini/x"))
    (call,) = logged(stream, "model_call")
    assert call["model"] == "gemini/x"
    assert (call["prompt_tokens"], call["completion_tokens"]) == (
        answer.prompt_tokens,
        answer.completion_tokens,
    )
    assert call["cost_usd"] == 0.0
    assert call["unit_id"] == UNIT_ID
    assert ctx.usage.totals()["calls"] == 1


def test_an_unusable_answer_is_counted_as_paid_and_an_error_is_not(tmp_path: Path) -> None:
    spent = Completion("", "gemini/x", prompt_tokens=40, completion_tokens=9, cost_usd=None)
    paid, paid_log = context(tmp_path, Failing(spent))
    unanswered, unanswered_log = context(tmp_path, Failing(None))

    for ctx in (paid, unanswered):
        with pytest.raises(ProviderError, match="no JSON object"):
            ctx.provider.complete(request("gemini/x"))

    assert paid.usage.totals()["by_model"] == [
        {
            "model": "gemini/x",
            "calls": 1,
            "prompt_tokens": 40,
            "completion_tokens": 9,
            "cost_usd": 0.0,
            "unpriced_calls": 1,
        }
    ]
    assert logged(paid_log, "model_call")[0]["cost_usd"] is None  # null: unpriced
    assert unanswered.usage.totals() == NO_USAGE
    assert logged(unanswered_log, "model_call") == []


# -- the result transaction -------------------------------------------------------------------


def test_the_result_transaction_holds_the_usage_as_compact_json() -> None:
    meter = UsageMeter()
    meter.record(
        Completion("", "gpt-4o-mini", prompt_tokens=12, completion_tokens=30, cost_usd=2e-5)
    )
    usage = meter.totals()
    template = {"TransactItems": [{"Update": {"Values": {":usage": {"S": transact.USAGE}}}}]}

    values = transact.result_values(1_800_000_000, 0, ["file:///out/a.txt"], usage)
    filled = transact.fill(template, values)["TransactItems"][0]["Update"]["Values"][":usage"]

    assert json.loads(filled["S"]) == usage
    assert filled["S"] == json.dumps(usage, separators=(",", ":"))
    assert " " not in filled["S"]


# -- the worker's usage event -----------------------------------------------------------------


def test_a_run_logs_each_model_call_and_its_totals_once(tmp_path: Path) -> None:
    done = run_worker(unit_env("story_generation", tmp_path, max_stories=3, topic="kelp"))

    assert done.code == 0, done.events
    usage = the_usage(done)
    assert {name: usage[name] for name in USAGE_KEYS} == summed_calls(done)
    assert usage["calls"] == 3
    assert usage["prompt_tokens"] > 0
    assert usage["completion_tokens"] > 0
    assert usage["cost_usd"] == 0.0  # offline: free, and priced
    assert usage["by_model"] == [{"model": DEFAULT_MODEL, **{n: usage[n] for n in USAGE_KEYS}}]
    assert [e["model"] for e in done.named("model_call")] == [DEFAULT_MODEL] * 3
    again = run_worker(
        unit_env("story_generation", tmp_path / "again", max_stories=3, topic="kelp")
    )
    assert the_usage(again) == usage  # offline counts are reproducible


def test_a_run_without_model_calls_reports_zero_usage(tmp_path: Path) -> None:
    done = run_worker(unit_env("echo", tmp_path))

    assert done.code == 0
    assert the_usage(done) == NO_USAGE
    assert done.named("model_call") == []


def test_a_failed_run_reports_what_it_used_before_failing(tmp_path: Path) -> None:
    # The first story's file cannot be written over a directory: the run fails after one call.
    (tmp_path / "stories" / f"{expected_id('sty_', UNIT_ID, 0)}.json").mkdir(parents=True)

    done = run_worker(unit_env("story_generation", tmp_path, max_stories=3))

    assert done.code == 1
    assert done.names().index("error") < done.names().index("usage")
    usage = the_usage(done)
    assert usage["calls"] == 1
    assert {name: usage[name] for name in USAGE_KEYS} == summed_calls(done)


def test_a_unit_started_wrongly_reports_zero_usage() -> None:
    done = run_worker(worker_env(JOBSCHED_WORKLOAD="no_such_workload"))

    assert done.code == 2
    assert the_usage(done) == NO_USAGE


class _Recorder:
    """A TransactWriter that keeps what it was sent."""

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def transact_write_items(self, **request: Any) -> None:
        self.sent.append(request["TransactItems"])


def test_each_heartbeat_says_what_the_run_used_so_far() -> None:
    from worker.heartbeat import Heartbeat

    template = {
        "TransactItems": [
            {
                "Update": {
                    "ExpressionAttributeValues": {
                        ":hb": {"N": transact.NOW},
                        ":so_far": {"S": transact.USAGE},
                    }
                }
            }
        ]
    }
    meter = UsageMeter()
    recorder = _Recorder()
    log = EventLog(UNIT_ID, "", io.StringIO())
    beat = Heartbeat(lambda: recorder, template, 30, log, threading.Event(), usage=meter.totals)

    assert beat.beat()
    meter.record(
        Completion(text="x", model="m", prompt_tokens=30, completion_tokens=12, cost_usd=0.5)
    )
    assert beat.beat()

    so_far = [
        json.loads(items[0]["Update"]["ExpressionAttributeValues"][":so_far"]["S"])
        for items in recorder.sent
    ]
    assert [(u["calls"], u["prompt_tokens"], u["completion_tokens"]) for u in so_far] == [
        (0, 0, 0),
        (1, 30, 12),
    ]
    assert so_far[1]["cost_usd"] == 0.5
