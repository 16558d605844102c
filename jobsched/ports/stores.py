"""The entity stores: what the use cases read and write, and the values they exchange. The
DynamoDB adapters are the production ones."""

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Literal, Protocol, TypeVar

from jobsched.models import (
    ApiKey,
    GroupStatus,
    Hold,
    Job,
    JobGroup,
    JobRun,
    JobStatus,
    JobTemplate,
    LastRun,
    QueueEntry,
    QueueState,
    RunStatus,
    Schedule,
    WebhookResult,
)
from jobsched.models.idempotency import IdempotencyClaim, IdempotencyRecord
from jobsched.models.usage import Usage, UsageTotals
from jobsched.ranks import QueueRank

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def every_item(
    list_page: Callable[[int, str | None], Page[T]], page_size: int = 100
) -> Iterator[T]:
    """Every item of a paged list, page by page (`list_page(limit, cursor)`)."""
    cursor: str | None = None
    while True:
        page = list_page(page_size, cursor)
        yield from page.items
        cursor = page.next_cursor
        if cursor is None:
            return


@dataclass(frozen=True)
class JobFilter:
    status: JobStatus | None = None
    template_id: str | None = None
    schedule_id: str | None = None
    group_id: str | None = None


@dataclass(frozen=True)
class RunFilter:
    status: RunStatus | None = None
    job_id: str | None = None
    template_id: str | None = None
    schedule_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class NewJobs:
    """Jobs to write at once with their ranks; optionally the group they form."""

    jobs: list[Job]
    templates: dict[str, int]  # template id -> the version the jobs were made from
    group: JobGroup | None = None  # a new group these jobs form
    join_group: str | None = None  # an existing, still queued group they join
    group_size: int | None = None  # the size the joined group had when read (a race guard)
    idempotency: IdempotencyClaim | None = None


Direction = Literal["previous", "next"]
# A page of the queue view: (1-based position, entry) pairs and the next cursor.
QueuePage = tuple[list[tuple[int, QueueEntry]], str | None]


class TemplateStore(Protocol):
    def create(self, template: JobTemplate) -> None: ...
    def get(self, template_id: str) -> JobTemplate: ...
    def get_cached(self, template_id: str) -> JobTemplate: ...
    def forget(self, template_id: str) -> None: ...
    def list_page(self, limit: int, cursor: str | None) -> Page[JobTemplate]: ...
    def replace(self, template: JobTemplate, expected_version: int) -> None:
        """Write a new version over `expected_version` and keep it among the versions."""
        ...

    def archive(self, template_id: str) -> JobTemplate: ...
    def restore(self, template_id: str) -> JobTemplate:
        """Un-archive; a conflict when the template is not archived."""
        ...

    def get_version(self, template_id: str, version: int) -> JobTemplate:
        """One version as it was saved (immutable, so cached without expiry)."""
        ...

    def list_versions(self, template_id: str, limit: int, cursor: str | None) -> Page[JobTemplate]:
        """Newest first."""
        ...


class JobStore(Protocol):
    def get(self, job_id: str) -> Job: ...
    def list_page(self, filters: JobFilter, limit: int, cursor: str | None) -> Page[Job]: ...
    def insert(self, new: NewJobs) -> None: ...
    def cancel(self, job_id: str) -> Job:
        """QUEUED or HELD -> CANCELLED, its queue place gone, in one transaction."""
        ...

    def hold(self, job_id: str, hold: Hold) -> Job:
        """QUEUED -> HELD in one transaction: the job keeps its rank and stays in the queue's
        listing, and leaves what `QueueStore.dispatch_head` reads. Conflict unless queued."""
        ...

    def release(self, job_id: str) -> Job:
        """HELD -> QUEUED at the place it kept, in one transaction. Conflict unless held."""
        ...

    def rerank(self, ranks: list[QueueRank]) -> None: ...
    def count(self, status: JobStatus) -> int: ...
    def find_idempotency(self, key: str) -> IdempotencyRecord | None:
        """The live record of an Idempotency-Key of any create (an expired one is absent)."""
        ...

    def lineage(self, root_id: str, limit: int) -> list[Job]:
        """The reruns whose `lineage_root` is `root_id` (not the root itself), oldest first,
        at most `limit`."""
        ...


class QueueStore(Protocol):
    """Reads of the queue order; every one is strongly consistent."""

    def last_in_band(self, band: str) -> QueueRank | None: ...
    def first_in_band(self, band: str) -> QueueRank | None: ...
    def head(self, limit: int) -> list[QueueRank]: ...
    def dispatch_head(self, limit: int) -> list[QueueEntry]:
        """The first units that can be dispatched: held jobs are not among them, and cost the
        read nothing however many there are."""
        ...

    def reservations(self) -> list[QueueEntry]: ...
    def neighbour(self, rank: QueueRank, direction: Direction, skip: str) -> QueueRank | None: ...
    def rank_of(self, job_id: str) -> QueueRank | None: ...
    def position_of(self, rank: QueueRank) -> int: ...
    def positions_of(self, ranks: Sequence[QueueRank]) -> list[int]: ...
    def page(self, limit: int, cursor: str | None) -> QueuePage: ...
    def entries(self) -> Iterator[QueueEntry]: ...
    def state(self) -> QueueState: ...
    def set_state(self, state: QueueState) -> QueueState: ...


class RunStore(Protocol):
    def put(self, run: JobRun) -> None: ...
    def get(self, run_id: str) -> JobRun: ...
    def list_page(self, filters: RunFilter, limit: int, cursor: str | None) -> Page[JobRun]: ...
    def count(self, status: RunStatus) -> int: ...
    def keep_outputs(
        self, run_id: str, log_path: str | None, artifacts: list[str], usage: Usage | None = None
    ) -> bool:
        """A run ended elsewhere (a cancel) before its worker's end was seen: keep the log,
        artifacts and usage the worker left on it, and count that usage in the ledger (once:
        not if the run has usage already). Only an ended run that has no log yet; else False."""
        ...

    def usage_sums(self, scope: str, since: datetime, until: datetime) -> dict[str, UsageTotals]:
        """The usage ledger: each template's (or schedule's, by `scope`) totals over the UTC
        hours from `since`'s to `until`'s, both included."""
        ...


class GroupStore(Protocol):
    def get(self, group_id: str) -> JobGroup: ...
    def list_page(self, limit: int, cursor: str | None) -> Page[JobGroup]: ...
    def set_status(self, group: JobGroup) -> None: ...
    def hold(self, group_id: str, hold: Hold, statuses: Collection[GroupStatus]) -> bool:
        """Mark the group held (a later hold's mark replaces it) while its status is one of
        `statuses`; False when it is not. A parallel group is not started while marked."""
        ...

    def release(self, group_id: str) -> None:
        """Clear the group's held mark (none: nothing to do)."""
        ...

    def record_webhook(self, group_id: str, result: WebhookResult) -> None:
        """What became of the group's one webhook (after claim_notification won)."""
        ...

    def claim_notification(self, group_id: str, at: datetime) -> bool:
        """Mark an ended group's webhook as sent at `at`, unless it is marked already: True
        for the one caller that set the mark (it sends), False for every other, and for a group
        that has not ended or does not exist."""
        ...


class ScheduleStore(Protocol):
    """Schedule records. Every write but `record_fire` is conditional on the version read."""

    def create(self, schedule: Schedule, idempotency: IdempotencyClaim | None = None) -> None:
        """A new record; with `idempotency`, the key is recorded in the same transaction
        (IdempotencyKeyTakenError when it is taken)."""
        ...

    def get(self, schedule_id: str) -> Schedule: ...
    def find(self, schedule_id: str) -> Schedule | None: ...
    def list_page(
        self, template_id: str | None, limit: int, cursor: str | None
    ) -> Page[Schedule]: ...
    def replace(self, schedule: Schedule, expected_version: int) -> None:
        """Write every field but last_run and fired_through (a fire's, kept as they are) over
        `expected_version`."""
        ...

    def clear_pending(self, schedule_id: str, version: int) -> bool:
        """Drop the pending-sync marker if the record is still `version`; False if it is not."""
        ...

    def delete(
        self, schedule_id: str, expected_version: int, release_key: str | None = None
    ) -> None:
        """With `release_key`, that Idempotency-Key's record goes in the same transaction
        (a create rolled back: the key may be used again)."""
        ...

    def record_fire(self, schedule_id: str, last_run: LastRun) -> None:
        """Set last_run, whatever the version; a deleted schedule is not an error."""
        ...

    def advance_fired_through(self, schedule_id: str, through: datetime) -> None:
        """Set fired_through to `through` unless it holds a later time already, whatever the
        version; a deleted schedule is not an error."""
        ...

    def pending(self) -> list[Schedule]:
        """Every record that carries a pending-sync marker (what drift repair looks at)."""
        ...


class KeyStore(Protocol):
    def put(self, key: ApiKey) -> None: ...
    def get(self, key_id: str) -> ApiKey | None: ...
    def list_all(self) -> list[ApiKey]: ...
    def revoke(self, key_id: str) -> ApiKey: ...
