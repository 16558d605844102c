"""One settings model, read once from the environment and cached."""

import os
from datetime import UTC, datetime
from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from jobsched.constants import DEFAULT_CATCH_UP_MAX_FIRES


class Settings(BaseSettings):
    """Configuration of every process (API, Lambdas, local runtime, CLI).

    Table names default to `<table_prefix>-<entity>` so one prefix separates stages.
    """

    model_config = SettingsConfigDict(env_prefix="JOBSCHED_", extra="ignore")

    table_prefix: str = "jobsched"
    jobs_table: str | None = None
    runs_table: str | None = None
    groups_table: str | None = None
    templates_table: str | None = None
    schedules_table: str | None = None
    lock_table: str | None = None
    keys_table: str | None = None
    content_table: str | None = None

    aws_region: str = Field(
        default="us-east-1",
        validation_alias=AliasChoices("JOBSCHED_AWS_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
    )
    # Where AWS is reached, so the same code talks to AWS, moto or LocalStack; every AWS client
    # we build is given `client_endpoint_url`.
    aws_endpoint_url: str | None = Field(
        default=None, validation_alias=AliasChoices("JOBSCHED_AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL")
    )

    slots: int = Field(default=1, ge=1, le=100)
    # How the dashboard's pages hear of changes where the server can stream (the local runtime):
    # "sse", or "poll" as behind API Gateway. Lambda always polls: its responses are buffered.
    ui_live: Literal["sse", "poll"] = "sse"
    # Dispatch: until a worker's first heartbeat the claim's lease counts (image pull, task
    # start); afterwards each heartbeat extends it by three periods.
    startup_lease_seconds: float = Field(default=600.0, gt=0)
    heartbeat_seconds: float = Field(default=30.0, gt=0)
    # The most jobs of a parallel group that run at once whatever its max_parallel (on AWS: the
    # Map's width, fitted by the CDK app to what the step Lambdas can run); None: no limit.
    group_width: int | None = Field(default=None, ge=1)
    sweep_seconds: float = Field(default=60.0, gt=0)

    # The AWS execution path (set by the CDK app on the Lambdas).
    state_machine_arn: str | None = None
    cluster: str | None = None
    task_definition: str | None = None
    container_name: str = "worker"
    subnets: list[str] = Field(default_factory=list)
    security_groups: list[str] = Field(default_factory=list)
    assign_public_ip: bool = True
    artifacts_bucket: str | None = None
    log_group: str | None = None
    log_stream_prefix: str = "job"
    # Schedules on AWS: one EventBridge Scheduler schedule per Schedule, in this group, invoking
    # the schedule-fire Lambda with this role; events that cannot be delivered go to the DLQ.
    # Without a target ARN nothing is written to EventBridge (the local ticker fires instead).
    schedule_group: str = "jobsched"
    schedule_target_arn: str | None = None
    schedule_role_arn: str | None = None
    schedule_dlq_arn: str | None = None
    # The most missed fires a schedule with catch_up "all" starts in one catch-up pass (local
    # ticker and AWS repair alike); the older ones are recorded as skipped runs.
    catch_up_max_fires: int = Field(default=DEFAULT_CATCH_UP_MAX_FIRES, ge=1, le=1000)

    # The legacy job API (/jobs/*, /api/v1/jobs/*). On, legacy triggers create scheduler jobs
    # at priority `immediate` (spec "Coexistence Strategy", phase 2). Off, the old behaviour:
    # the job starts at once outside the queue (its own ECS task, or a local worker process).
    use_scheduler: bool = Field(
        default=True,
        validation_alias=AliasChoices("JOBSCHED_USE_SCHEDULER", "USE_SCHEDULER"),
    )
    # The direct APIs (POST /story/generate, /research/run) wait this long for their outcome,
    # then answer 202 with where to poll; `Prefer: wait=N` may ask for up to the maximum.
    # Both stay under API Gateway's 30 s cut-off; the local runtime may raise them.
    direct_wait_seconds: float = Field(default=25.0, ge=0, le=3600)
    direct_max_wait_seconds: float = Field(default=28.0, ge=0, le=3600)
    direct_retry_after_seconds: int = Field(default=5, ge=1, le=3600)
    # The wait counts from the request's arrival (API Gateway's timeEpoch), less this margin
    # kept to read the outcome and answer, so that a cold start cannot push the answer past 30 s.
    direct_answer_margin_seconds: float = Field(default=1.0, ge=0, le=60)

    # Deprecation (RFC 9745), Sunset (RFC 8594) and Link headers of every legacy response.
    legacy_deprecated_at: datetime = datetime(2026, 11, 28, tzinfo=UTC)
    legacy_sunset_at: datetime = datetime(2027, 12, 1, tzinfo=UTC)
    legacy_migration_url: str = "/docs/migration.md"

    # Stories and research cards: two items whose estimated Jaccard similarity (bottom-k MinHash
    # of 3-word shingles) reaches this are near duplicates (docs/decisions.md: why 0.5).
    dedup_threshold: float = Field(default=0.5, gt=0, le=1)

    # Run history: an ended run (completed, failed, skipped) is deleted by DynamoDB's TTL this
    # many days after it ended; unset keeps runs for ever. A running run never expires.
    run_retention_days: int | None = Field(default=None, ge=1, le=36_500)

    # The local runtime and the CLI: which store (`sqlite`: <data_dir>/jobsched.db, the
    # embedded default; `dynamodb`: the tables, as on AWS, also implied by AWS_ENDPOINT_URL),
    # and where the database, run logs and outputs are kept.
    store: Literal["sqlite", "dynamodb"] = "sqlite"
    data_dir: str = ".jobsched"
    # How often the local runtime saves its tables to <data_dir>/state.json (and at stop).
    local_snapshot_seconds: float = Field(default=5.0, gt=0)
    # The largest request body the API reads (413 past it): 1 MiB holds any valid request (a
    # template's params_schema is the largest), and API Gateway itself stops at 10 MB.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Serve /docs and /openapi.json without a key (the local runtime turns this on).
    public_docs: bool = False
    log_level: str = "INFO"

    # Webhooks: the HMAC key of their signatures (never logged; without it none is sent), and
    # whether they may go to loopback, private, link-local or reserved addresses (tests only).
    webhook_secret: SecretStr | None = None
    webhook_allow_private: bool = False
    # On AWS: the Secrets Manager secret whose string is the HMAC key (read by the webhook
    # Lambda when webhook_secret is unset), and the Lambda the dispatch Lambdas invoke
    # asynchronously for each group they end (the CDK app sets both).
    webhook_secret_arn: str | None = None
    webhook_function: str | None = None

    @property
    def webhooks_signed(self) -> bool:
        """A signing key is configured here, or (on AWS) the webhook Lambda has the stack's."""
        return any((self.webhook_secret, self.webhook_secret_arn, self.webhook_function))

    @property
    def client_endpoint_url(self) -> str | None:
        """The endpoint_url our boto3 clients are given: None when it is the environment's own
        AWS_ENDPOINT_URL. boto3 then reads it itself, so a per-service AWS_ENDPOINT_URL_<SERVICE>
        (_DYNAMODB, _SFN, _SCHEDULER, ...) wins for its service as the SDKs document; an
        endpoint_url passed to boto3 would override both."""
        if self.aws_endpoint_url == os.environ.get("AWS_ENDPOINT_URL"):
            return None
        return self.aws_endpoint_url

    def table(self, entity: str) -> str:
        explicit: str | None = getattr(self, f"{entity}_table")
        return explicit or f"{self.table_prefix}-{entity}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
