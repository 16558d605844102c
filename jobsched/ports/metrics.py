"""The metrics port: what the core counts and times, and where it goes.

The core names its metrics and calls a `MetricsSink`; it knows nothing of CloudWatch. The Lambda
functions plug in a Powertools (EMF) sink (functions/metrics.py); everything else keeps
`NoMetrics`. The names are shared with the alarms and the dashboard (infra/constructs/
monitoring.py), so they live here, once.

Every metric carries one dimension only, the service (`jobsched-<stage>`, from the functions'
POWERTOOLS_SERVICE_NAME): each dimension combination is a custom metric that costs money, and an
alarm cannot add up a metric over a dimension's values. Which template failed is in the runs
table (GET /runs?status=failed), not in CloudWatch. See docs/decisions.md, "Monitoring".
"""

from datetime import datetime
from typing import Final, Protocol

from jobsched.models.usage import Usage

NAMESPACE: Final = "jobsched"

# A unit that ran a task (a job's run, or a direct call's reservation) ended, as recorded by the
# dispatcher (its finish, and the sweeper's recovery of a lost unit, which ends it failed).
RUNS_COMPLETED: Final = "RunsCompleted"
RUNS_FAILED: Final = "RunsFailed"
RUN_DURATION: Final = "RunDuration"  # seconds from the run's start to its recorded end
# From a job's creation (a reservation's) to its first run's start; retries are not counted, as
# their wait includes the failed attempt and the backoff.
QUEUE_WAIT: Final = "QueueWait"
# The sweeper's, every minute: queued jobs, and units whose lease expired (no heartbeat for
# three periods: the worker or the dispatcher was lost), which it then recovered.
QUEUE_DEPTH: Final = "QueueDepth"
RUNS_RECOVERED: Final = "RunsRecovered"
# What the model calls of an ended run used, as its worker reported (jobsched/models/usage.py):
# tokens, and US$ of the calls the provider could price.
PROMPT_TOKENS: Final = "PromptTokens"
COMPLETION_TOKENS: Final = "CompletionTokens"
MODEL_COST: Final = "ModelCostUSD"


class MetricsSink(Protocol):
    """Where metrics go. Calls must never raise into the caller: a metric is not worth a failed
    dispatch step. Dimensions beyond the sink's own (the service) cost money: keep them few."""

    def count(self, name: str, value: float = 1, **dimensions: str) -> None: ...
    def seconds(self, name: str, value: float, **dimensions: str) -> None: ...


class NoMetrics:
    """For processes that report nothing (the API, the local runtime, the tests of the rest)."""

    def count(self, name: str, value: float = 1, **dimensions: str) -> None:
        return None

    def seconds(self, name: str, value: float, **dimensions: str) -> None:
        return None


def run_started(sink: MetricsSink, queued_at: datetime, started_at: datetime) -> None:
    sink.seconds(QUEUE_WAIT, _between(queued_at, started_at))


def run_ended(
    sink: MetricsSink, succeeded: bool, started_at: datetime | None, finished_at: datetime
) -> None:
    sink.count(RUNS_COMPLETED if succeeded else RUNS_FAILED)
    if started_at is not None:
        sink.seconds(RUN_DURATION, _between(started_at, finished_at))


def usage_recorded(sink: MetricsSink, usage: Usage) -> None:
    sink.count(PROMPT_TOKENS, usage.prompt_tokens)
    sink.count(COMPLETION_TOKENS, usage.completion_tokens)
    sink.count(MODEL_COST, usage.cost_usd)


def _between(start: datetime, end: datetime) -> float:
    # Clocks of different hosts wrote the two: never report a negative time.
    return max(0.0, (end - start).total_seconds())
