"""Run history queries."""

from jobsched.models import JobRun
from jobsched.ports import Page, RunFilter, Stores


def list_runs(stores: Stores, filters: RunFilter, limit: int, cursor: str | None) -> Page[JobRun]:
    return stores.runs.list_page(filters, limit, cursor)


def runs_of_job(stores: Stores, job_id: str, limit: int, cursor: str | None) -> Page[JobRun]:
    stores.jobs.get(job_id)  # 404 for an unknown job rather than an empty list
    return stores.runs.list_page(RunFilter(job_id=job_id), limit, cursor)
