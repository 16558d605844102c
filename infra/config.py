"""What a deployment may choose through CDK context (`cdk deploy -c slots=2`), read and checked
once, with the defaults in cdk.json. A bad value fails synthesis with the key and the reason.

Settings the processes read at run time come from these as environment variables (see
`Data.settings_environment`), so the stack is the one place a deployment is configured.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

from aws_cdk import Aspects, IAspect, Stack
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct
from jsii import implements

from infra import constants
from jobsched.settings import Settings

SLOTS_KEY: Final = "slots"
TASK_CPU_KEY: Final = "task_cpu"
TASK_MEMORY_KEY: Final = "task_memory_mib"
LOG_RETENTION_KEY: Final = "log_retention_days"
HISTORY_RETENTION_KEY: Final = "history_retention_days"
MODEL_PROVIDER_KEY: Final = "model_provider"
MODEL_KEYS_SECRET_KEY: Final = "model_keys_secret_arn"  # noqa: S105 - a context key name
MODEL_PROVIDERS: Final = ("offline", "litellm")
TABLE_DELETION_PROTECTION_KEY: Final = "table_deletion_protection"
# Reserved concurrency (Concurrency below).
RESERVE_CONCURRENCY_KEY: Final = "reserve_concurrency"
STEP_CONCURRENCY_KEY: Final = "step_concurrency"
FIRE_CONCURRENCY_KEY: Final = "fire_concurrency"
API_CONCURRENCY_KEY: Final = "api_concurrency"
ACCOUNT_CONCURRENCY_KEY: Final = "account_concurrency"
_SECRET_ARN: Final = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$")

# Fargate's task sizes: cpu units -> the memory (MiB) each allows.
FARGATE_SIZES: Final = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}
# The values CloudWatch Logs accepts for a log group's retention.
LOG_RETENTION_DAYS: Final = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip


class ContextError(ValueError):
    """A context value the app cannot deploy."""


@dataclass(frozen=True)
class Concurrency:
    """Reserved concurrency: what each function may run at once and is sure to get.

    Direct API calls hold an API Lambda for up to 28 s, so a burst could take the account's whole
    concurrency and throttle the dispatcher. The dispatcher's functions therefore reserve what
    they need, and the API's reservation is also its bound. Lambda refuses a reservation that
    leaves less than 100 of the account's concurrency unreserved, which is checked here against
    `account` (the account's quota, as the deployer states it); `reserve=False` deploys without
    any reservation (an account whose quota is still the new-account 10).
    """

    reserve: bool = True
    step: int = constants.DISPATCH_STEP_CONCURRENCY  # each step function; shared by the Maps
    fire: int = constants.DEFAULT_FIRE_CONCURRENCY
    api: int = constants.DEFAULT_API_CONCURRENCY
    account: int = constants.DEFAULT_ACCOUNT_CONCURRENCY

    def __post_init__(self) -> None:
        for key, value in (
            (STEP_CONCURRENCY_KEY, self.step),
            (FIRE_CONCURRENCY_KEY, self.fire),
            (API_CONCURRENCY_KEY, self.api),
            (ACCOUNT_CONCURRENCY_KEY, self.account),
        ):
            if value < 1:
                raise ContextError(f"{key}={value}: must be at least 1")
        unreserved = self.account - self.total
        if self.reserve and unreserved < constants.LAMBDA_MIN_UNRESERVED_CONCURRENCY:
            raise ContextError(
                f"the functions reserve {self.total} concurrent executions, which would leave "
                f"{unreserved} of the account's {self.account} ({ACCOUNT_CONCURRENCY_KEY}) "
                f"unreserved; Lambda keeps at least {constants.LAMBDA_MIN_UNRESERVED_CONCURRENCY}. "
                f"Lower {STEP_CONCURRENCY_KEY}, {FIRE_CONCURRENCY_KEY} or {API_CONCURRENCY_KEY}, "
                f"raise the account's quota (and {ACCOUNT_CONCURRENCY_KEY}), or deploy with "
                f"{RESERVE_CONCURRENCY_KEY}=false"
            )

    @property
    def sizes(self) -> dict[str, int]:
        """Each function's reservation by role (`step` counts for each step function)."""
        return {
            "step": self.step,
            "sweeper": constants.SWEEPER_CONCURRENCY,
            "fire": self.fire,
            "repair": constants.REPAIR_CONCURRENCY,
            "webhook": constants.WEBHOOK_CONCURRENCY,
            "api": self.api,
            "seed": constants.SEED_CONCURRENCY,
        }

    @property
    def total(self) -> int:
        sizes = self.sizes
        return sum(sizes.values()) + (constants.DISPATCH_STEP_FUNCTIONS - 1) * sizes["step"]

    def reserved(self, role: str) -> int | None:
        """The reservation of a function of `role` (a key of `sizes`); None when opted out."""
        return self.sizes[role] if self.reserve else None

    @classmethod
    def from_context(cls, get: Callable[[str], Any], slots: int) -> "Concurrency":
        # By default at least one step execution per slot: each running unit has at most one
        # step invocation in flight per running job (DeployConfig.group_width).
        step_default = max(constants.DISPATCH_STEP_CONCURRENCY, slots)
        positive, what = (lambda v: v >= 1), "a positive number of concurrent executions"
        return cls(
            reserve=_flag(get(RESERVE_CONCURRENCY_KEY), RESERVE_CONCURRENCY_KEY, True),
            step=_int(
                get(STEP_CONCURRENCY_KEY), STEP_CONCURRENCY_KEY, step_default, positive, what
            ),
            fire=_int(
                get(FIRE_CONCURRENCY_KEY), FIRE_CONCURRENCY_KEY,
                constants.DEFAULT_FIRE_CONCURRENCY, positive, what,
            ),
            api=_int(
                get(API_CONCURRENCY_KEY), API_CONCURRENCY_KEY,
                constants.DEFAULT_API_CONCURRENCY, positive, what,
            ),
            account=_int(
                get(ACCOUNT_CONCURRENCY_KEY), ACCOUNT_CONCURRENCY_KEY,
                constants.DEFAULT_ACCOUNT_CONCURRENCY, positive, what,
            ),
        )  # fmt: skip


@dataclass(frozen=True)
class DeployConfig:
    slots: int = 1
    task_cpu: int = constants.TASK_CPU
    task_memory_mib: int = constants.TASK_MEMORY_MIB
    log_retention_days: int | None = None  # None: by stage (a week for dev, else 90 days)
    history_retention_days: int | None = None  # None: runs are kept for ever
    model_provider: str = "offline"  # the workloads' model provider: offline or litellm
    model_keys_secret_arn: str | None = None  # a Secrets Manager secret of provider keys
    table_deletion_protection: bool = False  # DynamoDB deletion protection (not on dev stages)
    concurrency: Concurrency = Concurrency()

    @property
    def step_concurrency(self) -> int:
        """What each dispatch step function may run at once: its reserved concurrency."""
        return self.concurrency.step

    @classmethod
    def from_context(cls, scope: Construct) -> "DeployConfig":
        def get(key: str) -> Any:
            return scope.node.try_get_context(key)

        config = cls(
            slots=_int(get(SLOTS_KEY), SLOTS_KEY, 1, lambda v: 1 <= v <= 100, "1 to 100"),
            task_cpu=_int(
                get(TASK_CPU_KEY), TASK_CPU_KEY, constants.TASK_CPU, FARGATE_SIZES.__contains__,
                f"one of Fargate's cpu units {sorted(FARGATE_SIZES)}",
            ),
            task_memory_mib=_int(
                get(TASK_MEMORY_KEY), TASK_MEMORY_KEY, constants.TASK_MEMORY_MIB, lambda v: v > 0,
                "a positive number of MiB",
            ),
            log_retention_days=_optional_int(
                get(LOG_RETENTION_KEY), LOG_RETENTION_KEY, LOG_RETENTION_DAYS.__contains__,
                f"one of CloudWatch's retention periods {LOG_RETENTION_DAYS}",
            ),
            history_retention_days=_optional_int(
                get(HISTORY_RETENTION_KEY), HISTORY_RETENTION_KEY, lambda v: 1 <= v <= 36_500,
                "1 to 36500 days, or null to keep runs",
            ),
            model_provider=_choice(get(MODEL_PROVIDER_KEY), MODEL_PROVIDER_KEY, MODEL_PROVIDERS),
            model_keys_secret_arn=_secret_arn(get(MODEL_KEYS_SECRET_KEY)),
            table_deletion_protection=_flag(
                get(TABLE_DELETION_PROTECTION_KEY), TABLE_DELETION_PROTECTION_KEY, False
            ),
        )  # fmt: skip
        config = replace(config, concurrency=Concurrency.from_context(get, config.slots))
        allowed = FARGATE_SIZES[config.task_cpu]
        if config.task_memory_mib not in allowed:
            raise ContextError(
                f"{TASK_MEMORY_KEY}={config.task_memory_mib}: Fargate allows {allowed[0]}-"
                f"{allowed[-1]} MiB (in its steps) with {TASK_CPU_KEY}={config.task_cpu}"
            )
        return config

    @property
    def group_width(self) -> int:
        """The most jobs of a parallel group that run at once (its Map's concurrency): every
        slot may run a group, and each running job has at most one step Lambda invocation in
        flight, so the slots share the step functions' concurrency."""
        return max(1, self.step_concurrency // self.slots)

    def settings_environment(self) -> dict[str, str]:
        """What every function's Settings reads of this configuration."""
        environment = {"JOBSCHED_SLOTS": str(self.slots)}
        if self.history_retention_days is not None:
            environment["JOBSCHED_RUN_RETENTION_DAYS"] = str(self.history_retention_days)
        return environment

    def apply(self, stack: Stack) -> None:
        """Stack-wide choices applied over every construct (log retention)."""
        if self.log_retention_days is not None:
            Aspects.of(stack).add(LogRetention(self.log_retention_days))


def _int(value: Any, key: str, default: int, valid: Callable[[int], bool], what: str) -> int:
    if value is None:
        return default
    parsed = _parse(value, key, what)
    if not valid(parsed):
        raise ContextError(f"{key}={value!r}: must be {what}")
    return parsed


def _optional_int(value: Any, key: str, valid: Callable[[int], bool], what: str) -> int | None:
    if value is None or value == "null":
        return None
    parsed = _parse(value, key, what)
    if not valid(parsed):
        raise ContextError(f"{key}={value!r}: must be {what}")
    return parsed


def _flag(value: Any, key: str, default: bool) -> bool:
    if value is None or value == "null":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ContextError(f"{key}={value!r}: must be true or false")


def _choice(value: Any, key: str, choices: tuple[str, ...]) -> str:
    if value is None:
        return choices[0]
    if value not in choices:
        raise ContextError(f"{key}={value!r}: must be one of {', '.join(choices)}")
    return str(value)


def _secret_arn(value: Any) -> str | None:
    if value is None or value in ("", "null"):
        return None
    if not isinstance(value, str) or not _SECRET_ARN.fullmatch(value):
        raise ContextError(f"{MODEL_KEYS_SECRET_KEY}={value!r}: must be a Secrets Manager ARN")
    return value


def _parse(value: Any, key: str, what: str) -> int:
    # `-c key=value` gives a string; cdk.json gives a number.
    if isinstance(value, bool):
        raise ContextError(f"{key}={value!r}: must be {what}")
    try:
        return int(str(value).strip())
    except ValueError as exc:
        raise ContextError(f"{key}={value!r}: must be {what}") from exc


@implements(IAspect)
class LogRetention:
    """Every log group of the stack keeps its events `days` days (the context's choice)."""

    def __init__(self, days: int) -> None:
        self.days = days

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, logs.CfnLogGroup):
            node.retention_in_days = self.days


# --- the API's choices ---------------------------------------------------------------------

# Account-level limits of an HTTP API stage (requests per second, burst).
MAX_THROTTLE_RATE = 10_000
MAX_THROTTLE_BURST = 5_000
_CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate/[\w-]+$")
_LEGACY_SUNSET_DEFAULT: datetime = Settings.model_fields["legacy_sunset_at"].default


class ApiContextError(ContextError):
    """A context value of the API the app cannot deploy."""


@dataclass(frozen=True)
class ApiConfig:
    """The API's deployment choices, from CDK context (defaults in cdk.json and constants)."""

    throttle_rate: float = constants.DEFAULT_API_THROTTLE_RATE
    throttle_burst: int = constants.DEFAULT_API_THROTTLE_BURST
    domain_name: str | None = None
    certificate_arn: str | None = None
    use_scheduler: bool = constants.DEFAULT_USE_SCHEDULER
    legacy_sunset_at: datetime = _LEGACY_SUNSET_DEFAULT

    def __post_init__(self) -> None:
        if not 0 < self.throttle_rate <= MAX_THROTTLE_RATE:
            raise ApiContextError(
                f"{constants.API_THROTTLE_RATE_CONTEXT_KEY}={self.throttle_rate}: "
                f"must be above 0 and at most {MAX_THROTTLE_RATE} requests per second"
            )
        if not 1 <= self.throttle_burst <= MAX_THROTTLE_BURST:
            raise ApiContextError(
                f"{constants.API_THROTTLE_BURST_CONTEXT_KEY}={self.throttle_burst}: "
                f"must be 1 to {MAX_THROTTLE_BURST} requests"
            )
        if (self.domain_name is None) != (self.certificate_arn is None):
            raise ApiContextError(
                f"a custom domain needs both {constants.API_DOMAIN_NAME_CONTEXT_KEY} and "
                f"{constants.API_CERTIFICATE_ARN_CONTEXT_KEY}"
            )
        if self.certificate_arn is not None and not _CERTIFICATE_ARN.fullmatch(
            self.certificate_arn
        ):
            raise ApiContextError(
                f"{constants.API_CERTIFICATE_ARN_CONTEXT_KEY}={self.certificate_arn!r}: "
                "must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)"
            )
        if self.legacy_sunset_at.tzinfo is None:
            raise ApiContextError(
                f"{constants.LEGACY_SUNSET_AT_CONTEXT_KEY}: give a time zone, e.g. "
                "2027-12-01T00:00:00+00:00"
            )

    @property
    def certificate_region(self) -> str | None:
        match = _CERTIFICATE_ARN.fullmatch(self.certificate_arn or "")
        return match.group(1) if match else None

    @classmethod
    def from_context(cls, scope: Construct) -> "ApiConfig":
        """`-c key=value` gives strings, cdk.json JSON values: both are accepted."""

        def get(key: str) -> Any:
            value = scope.node.try_get_context(key)
            return None if value in (None, "", "null") else value

        sunset = get(constants.LEGACY_SUNSET_AT_CONTEXT_KEY)
        return cls(
            throttle_rate=_number(
                get(constants.API_THROTTLE_RATE_CONTEXT_KEY),
                constants.API_THROTTLE_RATE_CONTEXT_KEY,
                constants.DEFAULT_API_THROTTLE_RATE,
            ),
            throttle_burst=int(
                _number(
                    get(constants.API_THROTTLE_BURST_CONTEXT_KEY),
                    constants.API_THROTTLE_BURST_CONTEXT_KEY,
                    constants.DEFAULT_API_THROTTLE_BURST,
                    integer=True,
                )
            ),
            domain_name=_optional_str(get(constants.API_DOMAIN_NAME_CONTEXT_KEY)),
            certificate_arn=_optional_str(get(constants.API_CERTIFICATE_ARN_CONTEXT_KEY)),
            use_scheduler=_bool(
                get(constants.USE_SCHEDULER_CONTEXT_KEY),
                constants.USE_SCHEDULER_CONTEXT_KEY,
                constants.DEFAULT_USE_SCHEDULER,
            ),
            legacy_sunset_at=(_LEGACY_SUNSET_DEFAULT if sunset is None else _datetime(sunset)),
        )


def _number(value: Any, key: str, default: float, *, integer: bool = False) -> float:
    if value is None:
        return default
    what = "an integer" if integer else "a number"
    if isinstance(value, bool):
        raise ApiContextError(f"{key}={value!r}: must be {what}")
    try:
        parsed = float(str(value).strip())
    except ValueError as exc:
        raise ApiContextError(f"{key}={value!r}: must be {what}") from exc
    if integer and not parsed.is_integer():
        raise ApiContextError(f"{key}={value!r}: must be {what}")
    return parsed


def _bool(value: Any, key: str, default: bool) -> bool:
    try:
        return _flag(value, key, default)
    except ContextError as exc:
        raise ApiContextError(str(exc)) from exc


def _optional_str(value: Any) -> str | None:
    return (str(value).strip() or None) if value is not None else None


def _datetime(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise ApiContextError(
            f"{constants.LEGACY_SUNSET_AT_CONTEXT_KEY}={value!r}: must be an ISO 8601 time, "
            "e.g. 2027-12-01T00:00:00+00:00"
        ) from exc
