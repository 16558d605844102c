"""Run history queries."""

from jobsched.models import JobRun
from jobsched.ports import Page, RunFilter, Stores


def list_runs(stores: Stores, filters: RunFilter, limit: int, cursor: str | None) -> Page[JobRun]:
    return stores.runs.list_page(filters, limit, cursor)


def runs_of_job(stores: Stores, job_id: str, limit: int, cursor: str | None) -> Page[JobRun]:
    stores.jobs.get(job_id)  # 404 for an unknown job rather than an empty list
    return stores.runs.list_page(RunFilter(job_id=job_id), limit, cursor)


def run_logs(
    stores: Stores, run_id: str, cursor: str | None, limit: int
) -> tuple[list[str], str | None]:
    """The run's log lines from `cursor` on, and the cursor to follow with.

    The executor reports a run's log path when the run ends. Until then the reader is given the
    run's id, from which it finds the log of a running unit (locally the path is derived from
    the id: `<data_dir>/runs/<run id>/log.jsonl`).
    """
    run = stores.runs.get(run_id)  # 404 for an unknown run
    return stores.logs.read(run.log_path or run.run_id, cursor, limit)


def reservation_logs(
    stores: Stores, reservation_id: str, cursor: str | None, limit: int
) -> tuple[list[str], str | None]:
    """A reservation's log, read as a run's is (its unit id names its log while it runs)."""
    reservation = stores.dispatch.reservation(reservation_id)  # 404 for an unknown one
    return stores.logs.read(reservation.log_path or reservation.reservation_id, cursor, limit)
