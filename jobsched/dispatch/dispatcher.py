"""claim_next and finish: the dispatch protocol.

A unit (one job, a parallel group, or a reservation) runs while it holds a slot. Claiming is one
transaction that takes the slot and starts the unit, so a unit is never claimed twice. A
finishing unit hands its slot straight to the next unit in the same transaction, which is why a
busy queue costs one query and one write per job (see docs/decisions.md, "Dispatch").
"""

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from jobsched.dispatch import retry
from jobsched.dispatch.budgets import BudgetBook, template_holds
from jobsched.dispatch.concurrency import release_of
from jobsched.dispatch.template_version import template_of
from jobsched.errors import ConflictError, NotFoundError
from jobsched.ids import new_id
from jobsched.models import (
    GroupMode,
    GroupStatus,
    Job,
    JobGroup,
    JobRun,
    JobStatus,
    OnFailure,
    QueueEntry,
    ReservationStatus,
    RunStatus,
    UnitKind,
    utcnow,
)
from jobsched.models.budgets import BudgetHold
from jobsched.models.steps import (
    AcquireKeys,
    ChargeBudget,
    CheckNotPaused,
    CheckSlotHolder,
    CountGroupJob,
    EndGroup,
    EndJob,
    EndReservation,
    EndRun,
    GroupTurn,
    ReleaseKeys,
    ReleaseSlot,
    RequeueJob,
    StartGroup,
    StartJob,
    StartReservation,
    Step,
    StepFailedError,
    TakeSlot,
)
from jobsched.models.units import Claim, Outcome
from jobsched.ports import Stores, metrics
from jobsched.ports.dispatch import DispatchStore
from jobsched.ranks import QueueRank, band_of, frac_between

logger = logging.getLogger(__name__)
HEAD_WINDOW = 10  # queue places read per claim: enough to pass retries waiting their turn


@dataclass(frozen=True)
class DispatchConfig:
    slots: int = 1
    # Until the worker's first heartbeat (image pull, task start), the claim's own lease counts.
    startup_lease_seconds: float = 600.0
    # A worker's heartbeat extends its lease by three periods (container/worker/heartbeat.py).
    heartbeat_seconds: float = 30.0

    @property
    def heartbeat_lease_seconds(self) -> float:
        return 3 * self.heartbeat_seconds


def slot_name(index: int) -> str:
    return f"{index:03d}"


def free_slots(dispatch: DispatchStore, slots: int) -> list[str]:
    """The configured slots no unit holds (one strongly consistent read of the slots). A held
    slot whose lease ran out is the sweeper's to recover, not free."""
    held = {lease.slot for lease in dispatch.slots() if lease.holder}
    return [name for name in map(slot_name, range(slots)) if name not in held]


class Dispatcher:
    def __init__(
        self,
        stores: Stores,
        dispatch: DispatchStore,
        config: DispatchConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.stores = stores
        self.dispatch = dispatch
        self.config = config or DispatchConfig()
        self.clock = clock
        self.wake_at: float | None = None  # the earliest time a waiting retry becomes eligible
        # Units being finished, by id: when they started, for the duration reported once their
        # end commits. Keyed, as a parallel group's jobs finish on one dispatcher at once.
        self._started: dict[str, datetime] = {}
        self.budgets = BudgetBook(stores)

    # --- claiming -------------------------------------------------------------------------

    def claim(self) -> Claim | None:
        """Take a free slot and the next unit; None when every slot is busy or nothing waits."""
        for slot in free_slots(self.dispatch, self.config.slots):
            claim, slot_lost = self._take_next(slot, expected_holder=None, finishing=[])
            if not slot_lost:
                return claim
        return None

    def finish(self, claim: Claim, outcome: Outcome, claim_next: bool = True) -> Claim | None:
        """End `claim`'s unit with `outcome` and, in the same transaction, hand its slot to the
        next unit (or free it). Returns the next claim."""
        with self._timing(claim):
            return self._finish(claim, outcome, claim_next)

    def _finish(self, claim: Claim, outcome: Outcome, claim_next: bool) -> Claim | None:
        outcome = indexed(self.stores, claim, outcome)
        finishing = self._finishing_steps(claim, outcome)
        if not claim_next:
            self._commit_finishing(finishing, ReleaseSlot(claim.slot, claim.holder))
            groups_ended(self.stores, finishing)
            return None
        next_claim, _ = self._take_next(claim.slot, claim.holder, finishing)
        groups_ended(self.stores, finishing)
        self._note_retries(finishing)
        self._wake_for_keys(finishing, next_claim)
        return next_claim

    def _wake_for_keys(self, finishing: Sequence[Step], next_claim: Claim | None) -> None:
        """A freed key may let in a unit that an idle slot passed over. When this slot's next
        unit took the freed place (the usual case: the next job of the same key), nothing is
        left to wake; else wake the dispatcher, whose other slots take it (the kick reads the
        slots first on AWS, and starts nothing when none is free)."""
        if self.config.slots == 1:
            return
        released = _counters_of([step for step in finishing if isinstance(step, ReleaseKeys)])
        job = next_claim.job if next_claim else None
        taken = {key.counter for key in job.concurrency_keys} if job else set()
        if released - taken:
            self.stores.kicker.kick()

    def _note_retries(self, finishing: Sequence[Step]) -> None:
        """The head read before this finish could not see the retry it queued: wake for it."""
        for step in finishing:
            if isinstance(step, RequeueJob):
                self._wake_no_later_than(step.not_before)

    def _wake_no_later_than(self, at: float) -> None:
        self.wake_at = min(self.wake_at or at, at)

    def release(self, slot: str, holder: str) -> None:
        self._commit_finishing([], ReleaseSlot(slot, holder))

    def _take_next(
        self, slot: str, expected_holder: str | None, finishing: list[Step]
    ) -> tuple[Claim | None, bool]:
        """(claim, slot_lost). Tries the queue's first eligible units in order."""
        now = self.clock()
        self.wake_at = None
        passed = _PassedOver()
        head = self.stores.queue.dispatch_head(HEAD_WINDOW)
        for entry in head:
            if passed.blocked(entry):  # it would fail as the entry before it did: no write
                continue
            planned = self._plan(entry, slot, expected_holder, now, passed)
            if planned is None:
                continue
            steps, claim = planned
            if finishing and _shared_items(finishing, steps):
                # One transaction cannot touch an item twice: record the end first.
                self._commit_finishing(finishing, None)
                finishing = []
            failed = self._try_commit(finishing, steps)
            if failed is None:
                return self._loaded(claim), False
            if failed.step in finishing:
                finishing = self._ended_elsewhere(finishing)  # nothing more to record
                failed = self._try_commit(finishing, steps)
                if failed is None:
                    return self._loaded(claim), False
            stop = self._after_failure(failed.step, slot, expected_holder, finishing)
            if stop is not None:
                return None, stop
            passed.note(failed.step)
        if expected_holder is None:
            return None, False
        return self._release_idle(slot, expected_holder, finishing, head, now), False

    def _release_idle(
        self, slot: str, holder: str, finishing: list[Step], head: list[QueueEntry], now: float
    ) -> Claim | None:
        """Nothing to take: record the end and free the slot, unless work came in meanwhile."""
        self._commit_finishing(finishing, ReleaseSlot(slot, holder))
        return self.claim() if self._arrived_since(head, now) else None

    def _arrived_since(self, head: list[QueueEntry], now: float) -> bool:
        """Whether work came in after `head` was read and before this slot was released. An
        enqueue kicks only when it sees a free slot (adapters/aws/kicker.py): one that saw this
        slot still held counts on this finish to take its work, so the head is read once more
        after the release (strongly consistent: the enqueue committed before its slot read)."""
        seen = {entry.job_id for entry in head}
        return any(
            entry.job_id not in seen and (entry.not_before is None or entry.not_before <= now)
            for entry in self.stores.queue.dispatch_head(HEAD_WINDOW)
        )

    def _ended_elsewhere(self, finishing: list[Step]) -> list[Step]:
        """The unit was ended elsewhere (a cancel, the sweeper) before this finish: nothing
        more is recorded but what its worker left, its log and artifacts, which a run ended
        from outside could not know."""
        for step in finishing:
            if isinstance(step, EndRun) and (step.log_path or step.artifacts or step.usage):
                try:
                    kept = self.stores.runs.keep_outputs(
                        step.run_id, step.log_path, step.artifacts, step.usage
                    )
                    if kept and step.usage is not None:
                        metrics.usage_recorded(self.stores.metrics, step.usage)
                except Exception:  # the outputs are for people; the slot must move on
                    logger.warning("could not keep the outputs of %s", step.run_id, exc_info=True)
        return []

    def _try_commit(self, finishing: list[Step], steps: list[Step]) -> StepFailedError | None:
        try:
            self._commit([*finishing, *steps])
        except StepFailedError as failed:
            return failed
        return None

    def _commit(self, steps: list[Step]) -> None:
        """Commit `steps` (or raise StepFailedError), then report the runs they started and
        ended: only a commit that succeeded is reported."""
        self.dispatch.commit(steps)
        for step in steps:
            if isinstance(step, StartJob) and step.run.attempt == 1:
                metrics.run_started(self.stores.metrics, step.entry.created_at, step.run.started_at)
            elif isinstance(step, StartReservation):
                metrics.run_started(self.stores.metrics, step.entry.created_at, step.started_at)
            elif isinstance(step, EndRun):
                self._run_ended(step.run_id, step.status == RunStatus.COMPLETED, step.finished_at)
                if step.usage is not None:
                    metrics.usage_recorded(self.stores.metrics, step.usage)
            elif isinstance(step, EndReservation):
                succeeded = step.status == ReservationStatus.COMPLETED
                self._run_ended(step.reservation_id, succeeded, step.finished_at)
                if step.usage is not None:
                    metrics.usage_recorded(self.stores.metrics, step.usage)

    def _run_ended(self, unit_id: str, succeeded: bool, finished_at: datetime) -> None:
        started = self._started.get(unit_id)
        metrics.run_ended(self.stores.metrics, succeeded, started, finished_at)

    @contextmanager
    def _timing(self, claim: Claim) -> Iterator[None]:
        """While `claim` finishes: its start, for the duration of its run."""
        unit = claim.run or claim.reservation
        if unit is not None and unit.started_at is not None:
            self._started[claim.unit_id] = unit.started_at
        try:
            yield
        finally:
            self._started.pop(claim.unit_id, None)

    def _after_failure(
        self, step: Step, slot: str, expected_holder: str | None, finishing: list[Step]
    ) -> bool | None:
        """True: the slot is lost; False: stop (paused); None: try the next unit."""
        if isinstance(step, ChargeBudget):  # the job waits for the period to turn
            self._wake_no_later_than(step.hold.resets_at.timestamp())
        if isinstance(step, TakeSlot):
            self._commit_finishing(finishing, None)  # the sweeper took the slot; keep the outcome
            return True
        if isinstance(step, CheckNotPaused):
            if expected_holder is not None:
                self._commit_finishing(finishing, ReleaseSlot(slot, expected_holder))
            return False
        return None

    def _commit_finishing(self, finishing: list[Step], release: ReleaseSlot | None) -> None:
        steps: list[Step] = [*finishing, *([release] if release else [])]
        while steps:
            try:
                self._commit(steps)
                return
            except StepFailedError as failed:
                if failed.step in finishing:
                    finishing = self._ended_elsewhere(finishing)
                    steps = [release] if release else []
                else:
                    return  # the slot moved on already (the sweeper released it)

    def _plan(
        self,
        entry: QueueEntry,
        slot: str,
        expected_holder: str | None,
        now: float,
        passed: "_PassedOver",
    ) -> tuple[list[Step], Claim] | None:
        if entry.not_before is not None and entry.not_before > now:
            self._wake_no_later_than(entry.not_before)
            return None
        if entry.group_id in passed.groups:
            return None
        lease = now + self.config.startup_lease_seconds
        if entry.kind == UnitKind.RESERVATION:
            return self._plan_reservation(entry, slot, expected_holder, now, lease)
        if entry.group_mode == GroupMode.PARALLEL and entry.group_id:
            return self._plan_group(entry.group_id, slot, expected_holder, now, lease)
        return self._plan_job(entry, slot, expected_holder, now, lease, passed)

    def _take(
        self, slot: str, holder: str, kind: UnitKind, lease: float, expected: str | None
    ) -> list[Step]:
        return [TakeSlot(slot, holder, kind, lease, expected), CheckNotPaused()]

    def _plan_job(
        self,
        entry: QueueEntry,
        slot: str,
        expected: str | None,
        now: float,
        lease: float,
        passed: "_PassedOver",
    ) -> tuple[list[Step], Claim] | None:
        run = _new_run(entry, slot)
        # The period is the dispatcher's clock's (a test's moves; in service it is time.time).
        holds = self.budgets.holds(
            entry.template_id, entry.schedule_id, datetime.fromtimestamp(now, UTC)
        )
        spent = [hold for hold in holds if hold.counter in passed.spent]
        if spent:  # a budget this pass found spent: it would fail as it did, so no write
            self._wake_no_later_than(min(hold.resets_at.timestamp() for hold in spent))
            return None
        if holds:
            run = run.model_copy(update={"budget_holds": holds})
        steps = [*self._take(slot, run.run_id, UnitKind.JOB, lease, expected)]
        steps.append(StartJob(entry, run))
        if entry.concurrency_keys:  # a job with no keys claims as it always did
            steps.append(AcquireKeys(run.run_id, tuple(entry.concurrency_keys)))
        steps += [ChargeBudget(run.run_id, hold) for hold in holds]
        if entry.group_mode == GroupMode.SEQUENTIAL and entry.group_id:
            steps.append(GroupTurn(entry.group_id, entry.group_index or 0, run.started_at))
        claim = Claim(
            slot=slot,
            kind=UnitKind.JOB,
            unit_id=run.run_id,
            holder=run.run_id,
            lease_until=lease,
            job=_running_job(entry, run),
            run=run,
        )
        return steps, claim

    def _plan_reservation(
        self, entry: QueueEntry, slot: str, expected: str | None, now: float, lease: float
    ) -> tuple[list[Step], Claim]:
        steps = self._take(slot, entry.job_id, UnitKind.RESERVATION, lease, expected)
        steps.append(StartReservation(entry, slot, utcnow()))
        claim = Claim(
            slot=slot,
            kind=UnitKind.RESERVATION,
            unit_id=entry.job_id,
            holder=entry.job_id,
            lease_until=lease,
        )
        return steps, claim

    def _plan_group(
        self, group_id: str, slot: str, expected: str | None, now: float, lease: float
    ) -> tuple[list[Step], Claim]:
        steps = self._take(slot, group_id, UnitKind.GROUP, lease, expected)
        steps.append(StartGroup(group_id, utcnow()))
        claim = Claim(
            slot=slot, kind=UnitKind.GROUP, unit_id=group_id, holder=group_id, lease_until=lease
        )
        return steps, claim

    def _loaded(self, claim: Claim) -> Claim:
        """Fill in what the executor needs that the claim's steps did not carry."""
        if claim.kind == UnitKind.RESERVATION:
            reservation = self.dispatch.reservation(claim.unit_id)
            template = self.stores.templates.get_cached(reservation.template_id)
            return claim.model_copy(update={"reservation": reservation, "template": template})
        if claim.kind == UnitKind.GROUP:
            group = self.stores.groups.get(claim.unit_id)
            return claim.model_copy(update={"group": group})
        assert claim.job is not None
        template = template_of(self.stores, claim.job.template_id, claim.job.template_version)
        return claim.model_copy(update={"template": template})

    # --- the jobs of a parallel group -----------------------------------------------------

    def claim_group_job(self, group_claim: Claim, job_id: str) -> Claim | None:
        """Start one of a running parallel group's jobs under the group's slot; None when the
        job is no longer queued (cancelled)."""
        entry = self.dispatch.entry(job_id)
        if entry is None:
            return None
        run = _new_run(entry, group_claim.slot)
        try:
            self._commit(
                [CheckSlotHolder(group_claim.slot, group_claim.unit_id), StartJob(entry, run)]
            )
        except StepFailedError:
            return None
        return Claim(
            slot=group_claim.slot,
            kind=UnitKind.JOB,
            unit_id=run.run_id,
            holder=group_claim.unit_id,
            lease_until=group_claim.lease_until,
            job=_running_job(entry, run),
            run=run,
            template=template_of(self.stores, entry.template_id, entry.template_version),
        )

    def finish_group_job(self, claim: Claim, outcome: Outcome) -> None:
        """End one job of a parallel group; the group's slot stays with the group."""
        assert claim.run is not None
        assert claim.run.group_id is not None
        outcome = indexed(self.stores, claim, outcome)
        steps = self._end_run_steps(claim, outcome, retry_allowed=False)
        steps.append(CountGroupJob(claim.run.group_id, outcome.succeeded))
        with self._timing(claim):
            self._commit_finishing(steps, None)

    # --- finishing ------------------------------------------------------------------------

    def _finishing_steps(self, claim: Claim, outcome: Outcome) -> list[Step]:
        now = utcnow()
        if claim.kind == UnitKind.RESERVATION:
            status = ReservationStatus.COMPLETED if outcome.succeeded else ReservationStatus.FAILED
            return [
                EndReservation(
                    claim.unit_id,
                    status,
                    now,
                    exit_code=outcome.exit_code,
                    error=outcome.reason,
                    artifacts=outcome.artifacts,
                    log_path=outcome.log_path,
                    result=outcome.result,
                    usage=outcome.usage,
                    template_id=claim.template.template_id if claim.template else "",
                    budgets=_reservation_budgets(claim, datetime.fromtimestamp(self.clock(), UTC)),
                )
            ]
        if claim.kind == UnitKind.GROUP:
            group = self.stores.groups.get(claim.unit_id)
            return [EndGroup(group.group_id, _group_status(group), now)]
        steps = self._end_run_steps(claim, outcome, retry_allowed=True)
        assert claim.job is not None
        if claim.job.group_mode == GroupMode.SEQUENTIAL and claim.job.group_id:
            steps += self._sequential_steps(claim.job, outcome, retried=_retried(steps))
        return steps

    def _end_run_steps(self, claim: Claim, outcome: Outcome, retry_allowed: bool) -> list[Step]:
        assert claim.run is not None
        assert claim.job is not None
        now = utcnow()
        steps: list[Step] = [EndRun.of(claim.run.run_id, outcome, now, claim.run)]
        steps += release_of(claim.run.run_id, claim.job.concurrency_keys)  # ended or requeued
        template = claim.template
        if retry_allowed and outcome.was_interrupted:
            # Not the job's failure: the next attempt has this one's number, and no backoff.
            unspent = claim.job.model_copy(update={"attempt": claim.run.attempt - 1})
            rank = self._front_of_band(band_of(claim.job.priority), claim.job)
            steps.append(RequeueJob(unspent, claim.run.run_id, rank, self.clock()))
        elif (
            retry_allowed
            and template is not None
            and not outcome.succeeded
            and retry.should_retry(template.retry, claim.run.attempt, outcome.error)
        ):
            wait = retry.backoff_seconds(template.retry, claim.run.attempt)
            rank = self._front_of_band(band_of(claim.job.priority), claim.job)
            steps.append(RequeueJob(claim.job, claim.run.run_id, rank, self.clock() + wait))
        else:
            steps.append(EndJob(claim.job.job_id, claim.run.run_id, now))
        return steps

    def _front_of_band(self, band: str, job: Job) -> QueueRank:
        """A retried job goes back to the front of its priority band."""
        first = self.stores.queue.first_in_band(band)
        return QueueRank(band, frac_between(None, first.frac if first else None), job.job_id)

    def _sequential_steps(self, job: Job, outcome: Outcome, retried: bool) -> list[Step]:
        """The turn passes on when the job is done (not when it waits for a retry)."""
        assert job.group_id is not None
        if retried:
            return []
        group = self.stores.groups.get(job.group_id)
        return sequential_steps(group, job, outcome.succeeded)


def indexed(stores: Stores, claim: Claim, outcome: Outcome) -> Outcome:
    """The outcome with its outputs checked against its template's quality gates, then what
    they held indexed (stories, research cards), so a direct call's reservation ends with its
    result. Before the end is recorded: a failure here leaves the unit to be finished again,
    and checking or indexing again is harmless. A rejected run's outputs are not indexed:
    they would be what later runs' near-duplicates are measured against."""
    verdict = stores.gate.check(claim, outcome)
    if verdict is not None and not verdict.passed:
        return outcome.rejected(verdict)
    if not outcome.artifacts:
        return outcome
    result = stores.indexer.index(claim, outcome)
    return outcome if result is None else replace(outcome, result=result)


def cancel_running(stores: Stores, job: Job) -> None:
    """End the run as failed ("cancelled") and the job as cancelled, then stop its task.

    The slot moves on when the dispatcher sees the task end: its finish finds the run ended and
    records nothing more. Raises StepFailedError when the run ended meanwhile.
    """
    if job.status != JobStatus.RUNNING or job.last_run_id is None:
        raise ConflictError(f"job {job.job_id!r} is {job.status} with no run to stop")
    end_running_job(stores, job, Outcome.cancelled(), JobStatus.CANCELLED)
    stores.tasks.stop(job.last_run_id, "cancelled")


def end_running_job(
    stores: Stores,
    job: Job,
    outcome: Outcome,
    job_status: JobStatus = JobStatus.FINISHED,
    started_at: datetime | None = None,
) -> None:
    """End a running job's run with `outcome` from outside its dispatcher (cancel, monitor):
    no retry; a group's counts and turn move on. Raises StepFailedError when the run ended
    meanwhile. The slot, if the job holds one, moves on when its dispatcher sees the task end
    (its finish then finds the run ended), or when the sweeper finds the lease expired."""
    assert job.last_run_id is not None
    now = utcnow()
    steps: list[Step] = [
        EndRun.of(job.last_run_id, outcome, now, job, _budgets_of(stores, job.last_run_id)),
        *release_of(job.last_run_id, job.concurrency_keys),
        EndJob(job.job_id, job.last_run_id, now, job_status),
    ]
    if job.group_id:
        group = stores.groups.get(job.group_id)
        if group.mode == GroupMode.SEQUENTIAL:
            steps += sequential_steps(group, job, succeeded=outcome.succeeded)
        else:
            steps.append(CountGroupJob(job.group_id, succeeded=outcome.succeeded))
    stores.dispatch.commit(steps)
    if started_at is not None:  # counted: a run found lost (a cancel is the user's wish)
        metrics.run_ended(stores.metrics, outcome.succeeded, started_at, now)
    groups_ended(stores, steps)
    if job.outside_queue and job.group_id:
        end_group_if_done(stores, job.group_id)


def end_group_if_done(stores: Stores, group_id: str) -> None:
    """A group whose jobs run outside the queue has no unit that ends it: the finisher of its
    last job does. Every finisher may try; the step's condition (the group still open) lets
    exactly one succeed."""
    group = stores.groups.get(group_id)
    if group.status != GroupStatus.RUNNING or group.completed + group.failed < len(group.job_ids):
        return
    step = EndGroup(group_id, _group_status(group), utcnow())
    try:
        stores.dispatch.commit([step])
    except StepFailedError:
        return  # another finisher ended it
    groups_ended(stores, [step])


def groups_ended(stores: Stores, steps: Sequence[Step]) -> None:
    """After steps that may end groups: cancel what a stopped sequential group left, and tell
    each ended group's webhook (the notifier sends at most once per group)."""
    cancel_stopped_groups(stores, steps)
    for step in steps:
        if isinstance(step, EndGroup):
            stores.notifier.group_ended(step.group_id)


def cancel_stopped_groups(stores: Stores, steps: Sequence[Step]) -> None:
    """A sequential group that stopped on a failure cancels the jobs that did not get a turn."""
    for step in steps:
        if not isinstance(step, EndGroup) or step.status == GroupStatus.COMPLETED:
            continue
        group = stores.groups.get(step.group_id)
        if group.mode != GroupMode.SEQUENTIAL:
            continue
        for job_id in group.job_ids[group.next_index :]:
            try:
                stores.jobs.cancel(job_id)
            except (ConflictError, NotFoundError):
                continue  # ran, or was cancelled, already


def sequential_steps(group: JobGroup, job: Job, succeeded: bool) -> list[Step]:
    """A sequential group's job ended for good: count it, pass the turn on, and end the group
    after its last job, or after a failure when the group stops on failure."""
    steps: list[Step] = [CountGroupJob(group.group_id, succeeded, job.group_index)]
    done = (job.group_index or 0) + 1 >= len(group.job_ids)
    stop = not succeeded and group.on_failure == OnFailure.STOP
    if done or stop:
        counted = group.model_copy(
            update={
                "completed": group.completed + (1 if succeeded else 0),
                "failed": group.failed + (0 if succeeded else 1),
            }
        )
        steps.append(EndGroup(group.group_id, _group_status(counted), utcnow()))
    return steps


def _shared_items(finishing: Sequence[Step], steps: Sequence[Step]) -> bool:
    """Whether the finish and the next claim touch one item (a group, a key's counter). A
    budget's counter is not one: a store makes its settle and its charge one update."""
    return bool(
        _groups_of(finishing) & _groups_of(steps) or _counters_of(finishing) & _counters_of(steps)
    )


@dataclass
class _PassedOver:
    """What one pass over the head learnt from failed steps, to pass over later entries."""

    groups: set[str] = field(default_factory=set)  # parallel groups running elsewhere already
    full: list[dict[str, int]] = field(default_factory=list)  # failed keys: counter -> limit
    spent: set[str] = field(default_factory=set)  # budget counters whose charge failed

    def note(self, step: Step) -> None:
        if isinstance(step, StartGroup):
            self.groups.add(step.group_id)
        elif isinstance(step, ChargeBudget):  # the job keeps its place until the period turns
            self.spent.add(step.hold.counter)
        elif isinstance(step, AcquireKeys):  # passed over; the job keeps its place
            self.full.append({key.counter: key.limit for key in step.keys})

    def blocked(self, entry: QueueEntry) -> bool:
        """Whether the entry holds every key of a set that failed, at no higher limit, so it
        must fail too (one key of that set is full). A job of another template version may
        allow more on the same counter."""
        limits = {key.counter: key.limit for key in entry.concurrency_keys}
        return any(
            all(counter in limits and limits[counter] <= limit for counter, limit in keys.items())
            for keys in self.full
        )


def _counters_of(steps: Sequence[Step]) -> set[str]:
    counters: set[str] = set()
    for step in steps:
        if isinstance(step, ReleaseKeys):
            counters.update(step.counters)
        elif isinstance(step, AcquireKeys):
            counters.update(key.counter for key in step.keys)
    return counters


def _groups_of(steps: Sequence[Step]) -> set[str]:
    groups = set()
    for step in steps:
        if isinstance(step, CountGroupJob | EndGroup | StartGroup | GroupTurn):
            groups.add(step.group_id)
        elif isinstance(step, StartJob) and step.entry.group_id:
            groups.add(step.entry.group_id)
    return groups


def _budgets_of(stores: Stores, run_id: str) -> list[BudgetHold]:
    """The budgets a run's claim charged, for an end recorded from outside its dispatcher."""
    try:
        return stores.runs.get(run_id).budget_holds
    except NotFoundError:
        return []


def _reservation_budgets(claim: Claim, now: datetime) -> tuple[str, ...]:
    """A direct call is not held by its template's budgets (its caller waits on it), but what
    it used counts against them: their counters of the period it ended in."""
    if claim.template is None:
        return ()
    return tuple(hold.counter for hold in template_holds(claim.template, now))


def _retried(steps: Sequence[Step]) -> bool:
    return any(isinstance(step, RequeueJob) for step in steps)


def _new_run(entry: QueueEntry, slot: str) -> JobRun:
    return JobRun(
        run_id=new_id("run"),
        job_id=entry.job_id,
        template_id=entry.template_id,
        template_version=entry.template_version,
        schedule_id=entry.schedule_id,
        group_id=entry.group_id,
        attempt=entry.attempt + 1,
        slot=slot,
    )


def _running_job(entry: QueueEntry, run: JobRun) -> Job:
    return Job(
        job_id=entry.job_id,
        template_id=entry.template_id,
        template_version=entry.template_version,
        schedule_id=entry.schedule_id,
        group_id=entry.group_id,
        group_mode=entry.group_mode,
        group_index=entry.group_index,
        params=entry.params,
        priority=entry.priority,
        status=JobStatus.RUNNING,
        concurrency_keys=entry.concurrency_keys,
        rank=entry.rank,
        attempt=run.attempt,
        last_run_id=run.run_id,
        created_at=entry.created_at,
    )


def _group_status(group: JobGroup) -> GroupStatus:
    if group.failed == 0 and group.completed > 0:
        return GroupStatus.COMPLETED
    if group.completed == 0:
        return GroupStatus.FAILED
    return GroupStatus.PARTIAL
