"""What runs' model calls used, added up (GET /usage, /queue/stats): read from the usage
ledger, whose buckets are UTC hours, so a range is widened to the whole hours it touches."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from jobsched.errors import ValidationFailedError
from jobsched.models import utcnow
from jobsched.models.usage import UsageScope, UsageTotals
from jobsched.ports import Stores

MAX_USAGE_DAYS = 400  # a range's length: bounds the buckets one answer adds up
DEFAULT_USAGE_HOURS = 24
HOUR = timedelta(hours=1)


class UsageBy(StrEnum):
    TEMPLATE = UsageScope.TEMPLATE
    SCHEDULE = UsageScope.SCHEDULE


@dataclass(frozen=True)
class UsageReport:
    by: UsageBy
    since: datetime  # the first hour added up, from its start
    until: datetime  # the end of the last hour added up (exclusive)
    groups: dict[str, UsageTotals]  # by template (or schedule) id, in id order
    total: UsageTotals


def _hour_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def usage_report(
    stores: Stores, by: UsageBy, since: datetime | None = None, until: datetime | None = None
) -> UsageReport:
    """Each template's (or schedule's) usage from `since` (default: 24 hours ago) to `until`
    (default: now), widened to whole UTC hours."""
    until = until or utcnow()
    since = since or until - timedelta(hours=DEFAULT_USAGE_HOURS)
    for name, moment in (("since", since), ("until", until)):
        if moment.tzinfo is None:
            raise ValidationFailedError.on(name, "needs a time zone, e.g. 2026-01-18T10:00:00Z")
    if since > until:
        raise ValidationFailedError.on("until", "is before since")
    if until - since > timedelta(days=MAX_USAGE_DAYS):
        raise ValidationFailedError.on("since", f"is more than {MAX_USAGE_DAYS} days before until")
    groups = stores.runs.usage_sums(by.value, since, until)
    total = UsageTotals()
    for totals in groups.values():
        total = total.plus(totals)
    return UsageReport(by, _hour_start(since), _hour_start(until) + HOUR, groups, total)


def last_day_usage(stores: Stores) -> UsageTotals:
    """Every template's usage over the last 24 hours (whole hours): /queue/stats' figure."""
    return usage_report(stores, UsageBy.TEMPLATE).total
