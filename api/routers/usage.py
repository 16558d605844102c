"""/usage: what runs' model calls used, by template or by schedule, over a time range."""

from fastapi import APIRouter

from api.deps import CanRead, StoresDep
from api.schemas import UsageGroupOut, UsageReportOut, UsageTotalsOut
from jobsched.jobs.usage import UsageBy, usage_report
from jobsched.models.instants import TimeFromJson

router = APIRouter(prefix="/usage", tags=["usage"])


@router.get("", dependencies=[CanRead])
def get_usage(
    stores: StoresDep,
    by: UsageBy = UsageBy.TEMPLATE,
    since: TimeFromJson | None = None,
    until: TimeFromJson | None = None,
) -> UsageReportOut:
    """Tokens and US$ of the runs that ended from `since` (default: 24 hours ago) to `until`
    (default: now), per template or per schedule (`by`), and in total. The ledger counts by
    the UTC hour a run ended in: the range is widened to the whole hours it touches, as
    `since` and `until` in the answer say. A range is at most 400 days."""
    report = usage_report(stores, by, since, until)
    return UsageReportOut(
        by=report.by.value,
        since=report.since,
        until=report.until,
        groups=[
            UsageGroupOut(id=group_id, **UsageTotalsOut.of(totals).model_dump())
            for group_id, totals in report.groups.items()
        ],
        total=UsageTotalsOut.of(report.total),
    )
