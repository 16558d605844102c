"""Writing a schedule to our table and to EventBridge Scheduler so that the two never stay apart.

There is no transaction across the two services, so every change goes in three steps:

1. write our record with a pending-sync marker (conditional on the version read);
2. write the EventBridge schedule (the ScheduleSync port);
3. clear the marker.

When step 2 fails, step 1 is undone at once: a new record is deleted, a changed one restored.
Whatever is left marked (the process died between the steps, or the undo failed too) is found
by `repair_drift`, which makes EventBridge match the record. The undo itself leaves a marker on
a restored record, because a call that failed on a timeout may still have taken effect.
"""

import logging
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from jobsched.constants import SYNC_REPAIR_AFTER_SECONDS
from jobsched.errors import ConflictError, DomainError, NotFoundError, UnavailableError
from jobsched.models import PendingSync, Schedule, SyncAction, utcnow
from jobsched.ports import IdempotencyClaim, Stores
from jobsched.ports.schedules import ScheduleSync

logger = logging.getLogger(__name__)

SyncCall = Callable[[ScheduleSync, Schedule], None]


def put(sync: ScheduleSync, schedule: Schedule) -> None:
    """Make the EventBridge schedule match the record, whether it exists or not."""
    try:
        sync.update(schedule)
    except NotFoundError:
        sync.create(schedule)


def put_state(sync: ScheduleSync, schedule: Schedule) -> None:
    try:
        sync.set_state(schedule)
    except NotFoundError:
        sync.create(schedule)


def create_new(sync: ScheduleSync, schedule: Schedule) -> None:
    try:
        sync.create(schedule)
    except ConflictError:  # left over from an earlier attempt with this id: take it over
        sync.update(schedule)


def _failure(exc: Exception, what: str) -> DomainError:
    """The error the client sees: the port's own domain error, or a 503 for anything else."""
    if isinstance(exc, DomainError):
        return exc
    logger.error("schedule sync failed unexpectedly: %s", what, exc_info=exc)
    return UnavailableError(f"{what}: the scheduler service failed; retry shortly")


def settle(stores: Stores, schedule: Schedule) -> Schedule:
    """Step 3. A marker that cannot be cleared is harmless: repair applies the record again."""
    try:
        cleared = stores.schedules.clear_pending(schedule.schedule_id, schedule.version)
    except DomainError:
        logger.warning("schedule %s: pending-sync marker left for repair", schedule.schedule_id)
        return schedule
    return schedule.model_copy(update={"pending_sync": None}) if cleared else schedule


def insert(
    stores: Stores, schedule: Schedule, idempotency: IdempotencyClaim | None = None
) -> Schedule:
    """A new schedule: record (with its Idempotency-Key), then EventBridge; on failure neither
    exists, and the key is free again (the client was told the create failed)."""
    marked = schedule.model_copy(update={"pending_sync": PendingSync()})
    stores.schedules.create(marked, idempotency)
    try:
        create_new(stores.schedule_sync, marked)
    except Exception as exc:
        key = idempotency.key if idempotency else None
        raise _roll_back_insert(stores, marked, exc, key) from exc
    return settle(stores, marked)


def _roll_back_insert(
    stores: Stores, marked: Schedule, exc: Exception, key: str | None
) -> DomainError:
    schedule_id = marked.schedule_id
    error = _failure(exc, f"schedule {schedule_id!r} was not created")
    try:
        stores.schedules.delete(schedule_id, marked.version, release_key=key)
    except DomainError:
        logger.exception("schedule %s: rollback failed; repair will apply it", schedule_id)
        return UnavailableError(
            f"schedule {schedule_id!r} was stored but not yet applied; it will be applied "
            f"within minutes (GET /schedules/{schedule_id} shows it), or delete it"
        )
    try:  # the failed call may have taken effect (a timeout): leave no orphan behind
        stores.schedule_sync.delete(schedule_id)
    except Exception:
        logger.exception("schedule %s: its EventBridge schedule may be left over", schedule_id)
    return error


def change(stores: Stores, current: Schedule, updated: Schedule, call: SyncCall) -> Schedule:
    """A changed schedule (`updated` has the next version): record, then EventBridge; on
    failure the record is restored and the client told to retry."""
    marked = updated.model_copy(update={"pending_sync": PendingSync()})
    stores.schedules.replace(marked, expected_version=current.version)
    try:
        call(stores.schedule_sync, marked)
    except Exception as exc:
        raise _restore(stores, current, marked, exc) from exc
    return settle(stores, marked)


def _restore(stores: Stores, current: Schedule, marked: Schedule, exc: Exception) -> DomainError:
    schedule_id = current.schedule_id
    error = _failure(exc, f"schedule {schedule_id!r} was not changed")
    # A new version (never an old number again), marked: the failed call may have applied.
    restored = current.model_copy(
        update={
            "version": marked.version + 1,
            "updated_at": utcnow(),
            "pending_sync": PendingSync(),
        }
    )
    try:
        stores.schedules.replace(restored, expected_version=marked.version)
    except DomainError:
        logger.exception("schedule %s: restore failed; repair will apply the change", schedule_id)
        return UnavailableError(
            f"schedule {schedule_id!r}: the change was stored but not yet applied; it will be "
            "applied within minutes"
        )
    return error


def remove(stores: Stores, current: Schedule) -> None:
    """EventBridge first, then the record: a schedule is never left firing without a record.
    The record is marked first, so a crash between the two leaves work for the repair."""
    marked = current.model_copy(
        update={
            "version": current.version + 1,
            "updated_at": utcnow(),
            "pending_sync": PendingSync(action=SyncAction.DELETE),
        }
    )
    stores.schedules.replace(marked, expected_version=current.version)
    try:
        stores.schedule_sync.delete(current.schedule_id)
    except Exception as exc:
        raise _restore(stores, current, marked, exc) from exc
    try:
        stores.schedules.delete(current.schedule_id, marked.version)
    except DomainError:
        # The EventBridge schedule is gone and the record reads as deleted; repair finishes.
        logger.warning("schedule %s: record left for repair to delete", current.schedule_id)


@dataclass
class RepairReport:
    applied: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def repair_drift(
    stores: Stores,
    sync: ScheduleSync | None = None,
    older_than: timedelta = timedelta(seconds=SYNC_REPAIR_AFTER_SECONDS),
    now: datetime | None = None,
) -> RepairReport:
    """Re-apply every record whose pending-sync marker is older than `older_than` (a younger
    one may belong to a request still in flight; pass timedelta(0) for all). Failures are
    reported and tried again on the next run."""
    sync = sync or stores.schedule_sync
    cutoff = (now or utcnow()) - older_than
    report = RepairReport()
    for schedule in stores.schedules.pending():
        assert schedule.pending_sync is not None
        if schedule.pending_sync.since > cutoff:
            continue
        try:
            _repair_one(stores, sync, schedule, report)
        except Exception:  # one failure must not stop the others
            logger.exception("schedule %s: repair failed; next run retries", schedule.schedule_id)
            report.failed.append(schedule.schedule_id)
    return report


def _repair_one(
    stores: Stores, sync: ScheduleSync, schedule: Schedule, report: RepairReport
) -> None:
    assert schedule.pending_sync is not None
    if schedule.pending_sync.action == SyncAction.DELETE:
        sync.delete(schedule.schedule_id)
        with suppress(NotFoundError):  # finished meanwhile
            stores.schedules.delete(schedule.schedule_id, schedule.version)
        report.deleted.append(schedule.schedule_id)
        return
    put(sync, schedule)
    # False when the record changed meanwhile: its writer applies (or marks) the newer version.
    stores.schedules.clear_pending(schedule.schedule_id, schedule.version)
    report.applied.append(schedule.schedule_id)
