"""Run history queries."""

import posixpath
from urllib.parse import unquote, urlsplit

from jobsched.errors import ContentTooLargeError, NotFoundError, PermissionDeniedError
from jobsched.models import JobRun
from jobsched.ports import Page, RunFilter, Stores
from jobsched.ports.artifacts import (
    ArtifactRefusedError,
    ArtifactTooLargeError,
    UnreadableArtifactError,
)


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


def run_artifact(stores: Stores, run_id: str, index: int) -> tuple[str, bytes]:
    """The run's artifact at `index` (its place in the run's `artifacts`): its file name and
    its bytes, read whole up to the reader's bound."""
    run = stores.runs.get(run_id)  # 404 for an unknown run
    if not 0 <= index < len(run.artifacts):
        count = len(run.artifacts)
        raise NotFoundError(f"run {run_id} has no artifact {index} (it has {count})")
    uri = run.artifacts[index]
    return artifact_name(uri), read_artifact(stores, uri, f"artifact {index}")


def read_artifact(stores: Stores, uri: str, label: str) -> bytes:
    """The artifact's bytes, up to the reader's bound; the reader's refusals as domain errors
    (413 too large, 403 outside what this deployment serves, 404 unreadable), said of `label`."""
    try:
        return stores.artifacts.read(uri)
    except ArtifactTooLargeError as exc:
        raise ContentTooLargeError(f"{label}: {exc}") from exc
    except ArtifactRefusedError as exc:
        raise PermissionDeniedError(f"{label} is not served: {exc}") from exc
    except UnreadableArtifactError as exc:
        raise NotFoundError(f"{label}: {exc}") from exc


def artifact_name(uri: str) -> str:
    """The last segment of the URI's path (file:// paths are percent-encoded, s3:// keys not)."""
    parts = urlsplit(uri)
    path = unquote(parts.path) if parts.scheme == "file" else uri.partition("://")[2]
    return posixpath.basename(path.rstrip("/")) or "artifact"
