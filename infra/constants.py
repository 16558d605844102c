"""Names and stage rules of the CDK app, in one place."""

import re
from dataclasses import dataclass
from typing import Final

APP_NAME: Final = "jobsched"
DEFAULT_STAGE: Final = "dev"

# Context keys (defaults in cdk.json; override with `cdk synth -c stage=prod`).
STAGE_CONTEXT_KEY: Final = "stage"
# Monitoring (infra/constructs/monitoring.py): who the alarm topic emails (unset: nobody; subscribe
# to the topic yourself), and how many failed runs in five minutes raise the failed-runs alarm.
ALARM_EMAIL_CONTEXT_KEY: Final = "alarm_email"
FAILED_RUNS_ALARM_THRESHOLD_CONTEXT_KEY: Final = "failed_runs_alarm_threshold"
DEFAULT_FAILED_RUNS_ALARM_THRESHOLD: Final = 3

# A stage names the stack and prefixes every physical name, so keep it short and DNS-safe.
STAGE_PATTERN: Final = re.compile(r"^[a-z][a-z0-9-]{0,19}$")

# Throwaway stages: their data may be destroyed with the stack. Every other stage (prod,
# staging, anything new) keeps its tables, so a typo in a stage name fails safe.
DEV_STAGE: Final = "dev"
DEV_STAGE_PREFIX: Final = "dev-"  # personal stacks, e.g. dev-alice


def validate_stage(stage: str) -> str:
    if not STAGE_PATTERN.fullmatch(stage):
        raise ValueError(
            f"stage {stage!r} must be 1-20 lowercase letters, digits or hyphens, "
            "starting with a letter"
        )
    return stage


def is_dev_stage(stage: str) -> bool:
    return stage == DEV_STAGE or stage.startswith(DEV_STAGE_PREFIX)


def stack_name(stage: str) -> str:
    return f"{APP_NAME}-{stage}"


def table_prefix(stage: str) -> str:
    """The `JOBSCHED_TABLE_PREFIX` of a stage's processes."""
    return f"{APP_NAME}-{stage}"


def table_name(stage: str, entity: str) -> str:
    # Mirrors jobsched.settings.Settings.table() (`<prefix>-<entity>`); a test keeps the two equal.
    # Not computed with Settings itself: that reads JOBSCHED_* from the synthesising shell's
    # environment, which must never rename a deployed table.
    return f"{table_prefix(stage)}-{entity}"


def settings_env_var(entity: str) -> str:
    """The environment variable that overrides one table name (Settings field `<entity>_table`)."""
    return f"JOBSCHED_{entity.upper()}_TABLE"


def pascal(entity: str) -> str:
    return "".join(part.capitalize() for part in entity.split("_"))


# Logical ids of stateful resources and outputs are pinned (not derived from the construct
# tree), so refactoring constructs never replaces a table or renames an output.
def table_logical_id(entity: str) -> str:
    """e.g. `JobsTable`."""
    return f"{pascal(entity)}Table"


def output_id(entity: str) -> str:
    """Logical id of the CfnOutput holding a table's name, e.g. `JobsTableName`."""
    return f"{pascal(entity)}TableName"


# --- execution and dispatch ----------------------------------------------------------------

# A dispatcher execution hands over to a fresh one after running this many tasks (a parallel
# group counts its jobs), so its history stays far below Step Functions' 25,000 events.
DISPATCH_LOOPS_PER_EXECUTION: Final = 100
SWEEP_RATE_MINUTES: Final = 1
# The concurrent executions each dispatcher step Lambda may have by default: what it reserves
# (infra.config.Concurrency; context `step_concurrency`, at least one per slot). A parallel
# group's Map runs at most that many jobs at once, shared among the slots
# (DeployConfig.group_width), so one step never has more invocations in flight than it may run.
DISPATCH_STEP_CONCURRENCY: Final = 10


@dataclass(frozen=True)
class Backoff:
    """A state's Retry: the first wait, its growth, the cap of one wait, and how many retries.
    Waits are drawn with FULL jitter (0 to the bound), so parallel iterations spread out."""

    interval_seconds: int
    rate: float
    max_delay_seconds: int
    retries: int  # MaxAttempts: retries after the first attempt

    def waits(self) -> list[float]:
        """The bound of each wait, as Step Functions computes it."""
        return [
            min(self.interval_seconds * self.rate**n, self.max_delay_seconds)
            for n in range(self.retries)
        ]


# A throttled step Lambda (or a busy store): 1 + 2 + 4 + 8 + 16 + 20 s at most.
STEP_RETRY: Final = Backoff(interval_seconds=1, rate=2.0, max_delay_seconds=20, retries=6)
# A task ECS could not place (throttled, the Fargate vCPU quota, no capacity): up to 5 + 10 + 20
# + 40 + 80 + 120 = 275 s, well inside the claim's startup lease (600 s, which must also cover
# the image pull), so the sweeper never takes a unit that is still being placed.
RUN_TASK_RETRY: Final = Backoff(interval_seconds=5, rate=2.0, max_delay_seconds=120, retries=6)
# A hand-over's StartExecution (throttled, too many open executions): 2 + 4 + 8 + 16 + 30 s.
HAND_OVER_RETRY: Final = Backoff(interval_seconds=2, rate=2.0, max_delay_seconds=30, retries=5)

# The task definition's size; each template's cpu/memory override it per task.
TASK_CPU: Final = 1024
TASK_MEMORY_MIB: Final = 2048


def state_machine_name(stage: str) -> str:
    # Fixed, so its ARN is known without a reference to the resource: the state machine's own
    # role (hand-over) and the Lambdas (kick) name it without a dependency cycle.
    return f"{APP_NAME}-{stage}-dispatcher"


# Reserved concurrency of the other functions (infra.config.Concurrency; context keys there; the
# step functions reserve DISPATCH_STEP_CONCURRENCY each). The defaults reserve 159 of a
# default account's 1,000, well clear of the 100 Lambda keeps unreserved.
DEFAULT_FIRE_CONCURRENCY: Final = 10  # schedule fires due at the same minute
DEFAULT_API_CONCURRENCY: Final = 100  # the API's bound: at least its throttle burst
DEFAULT_ACCOUNT_CONCURRENCY: Final = 1000  # Lambda's default regional quota
LAMBDA_MIN_UNRESERVED_CONCURRENCY: Final = 100
DISPATCH_STEP_FUNCTIONS: Final = 4  # Claim, Finish, ClaimGroupJob, FinishGroupJob
SWEEPER_CONCURRENCY: Final = 2  # one run a minute, and room for an operator's manual one
REPAIR_CONCURRENCY: Final = 1  # one run every few minutes; a second would repeat it
WEBHOOK_CONCURRENCY: Final = 5  # asynchronous: a burst of ended groups waits in Lambda's queue
SEED_CONCURRENCY: Final = 1  # once per deploy


# --- schedules ------------------------------------------------------------------------------

# How often the drift repair re-applies schedule records whose EventBridge write was left
# unfinished (jobsched.schedules.writes.repair_drift; it skips markers younger than a minute).
SCHEDULE_REPAIR_RATE_MINUTES: Final = 5
# Undeliverable fires wait this long in the dead-letter queue (SQS's maximum).
SCHEDULE_DLQ_RETENTION_DAYS: Final = 14


def schedule_group_name(stage: str) -> str:
    """The EventBridge Scheduler group of a stage's schedules (`JOBSCHED_SCHEDULE_GROUP`);
    1-64 of [0-9a-zA-Z-_.], which a valid stage keeps to."""
    return f"{APP_NAME}-{stage}"


# --- the API --------------------------------------------------------------------------------

# Context keys of the API (defaults in cdk.json and here; `-c key=value` gives strings).
API_THROTTLE_RATE_CONTEXT_KEY: Final = "api_throttle_rate"
API_THROTTLE_BURST_CONTEXT_KEY: Final = "api_throttle_burst"
API_DOMAIN_NAME_CONTEXT_KEY: Final = "api_domain_name"
API_CERTIFICATE_ARN_CONTEXT_KEY: Final = "api_certificate_arn"
USE_SCHEDULER_CONTEXT_KEY: Final = "use_scheduler"
LEGACY_SUNSET_AT_CONTEXT_KEY: Final = "legacy_sunset_at"
# Requests per second (steady) and burst of the API's stage, for every client together.
DEFAULT_API_THROTTLE_RATE: Final = 50
DEFAULT_API_THROTTLE_BURST: Final = 100
DEFAULT_USE_SCHEDULER: Final = True
# API Gateway ends an integration at 30 s; the direct APIs wait up to 28 s before their 202.
API_TIMEOUT_SECONDS: Final = 29
API_MEMORY_MB: Final = 1024  # Lambda's CPU grows with memory: FastAPI's import is CPU-bound
SEED_TIMEOUT_SECONDS: Final = 60
