"""ETAs of queued jobs, reservations and running units, from what the stores hold now: the
slots' holders, the pending reservations, a page of the queue, and cached run durations.

A page is estimated from itself: the jobs ahead of it are counted (its first position) but not
read, and drawn from the page's own mix of durations. A job waiting for a spent budget starts
no earlier than the budget's period turns, and so do the jobs ahead of it that the same budget
holds (the caller says which budgets are spent: one job's read does). Nothing here writes.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from jobsched.foresight.durations import DurationStats, duration_stats
from jobsched.foresight.simulate import (
    Ahead,
    Durations,
    Estimate,
    Key,
    RunningUnit,
    Segment,
    WaitingUnit,
    estimate,
)
from jobsched.jobs.budget_waits import BudgetWait
from jobsched.models import (
    GroupMode,
    Hold,
    Job,
    JobRun,
    JobStatus,
    QueueEntry,
    QueueState,
    Reservation,
    ReservationStatus,
    SlotLease,
    UnitKind,
)
from jobsched.ports import Stores
from jobsched.ranks import QueueRank

READ_AHEAD = 100  # a single job's ETA reads the queue's head up to this many places


class EtaState:
    ESTIMATED = "estimated"  # queued: when it should start and finish
    RUNNING = "running"  # started: when it should finish
    PAUSED = "paused"  # the queue is paused: no estimate until it resumes
    HELD = "held"  # held: it starts only once released
    BUDGET = "budget"  # a spent budget holds it: it starts no earlier than the period turns
    UNKNOWN = "unknown"  # it waits on something that does not end in the replay


@dataclass(frozen=True)
class Eta:
    state: str
    start_p50: datetime | None = None
    start_p90: datetime | None = None
    finish_p50: datetime | None = None
    finish_p90: datetime | None = None
    reason: str | None = None  # why there is no estimate, or why it starts that late
    basis: str | None = None  # the durations drawn: history | pooled | default
    unread_ahead: int = 0  # jobs ahead counted but not read (drawn from the page's mix)


@dataclass(frozen=True)
class Unit:
    """A dispatch unit of the replay and the queued jobs (or reservation) it stands for."""

    waiting: WaitingUnit
    ids: tuple[str, ...]
    basis: str
    hold: Hold | None = None
    budget: BudgetWait | None = None  # the spent budgets holding it back


@dataclass
class Context:
    """What every estimate of one request shares."""

    stores: Stores
    slots: int
    now: float = field(default_factory=time.time)
    queue_state: QueueState | None = None  # read once, when first needed, unless given
    budget: BudgetWait | None = None  # budgets known to be spent now (one job's read)

    @property
    def stats(self) -> DurationStats:
        return duration_stats(self.stores)

    @property
    def state(self) -> QueueState:
        if self.queue_state is None:
            self.queue_state = self.stores.queue.state()
        return self.queue_state

    def at(self, seconds: float | None) -> datetime | None:
        if seconds is None:
            return None
        return datetime.fromtimestamp(self.now, UTC) + timedelta(seconds=seconds)


def queue_etas(
    stores: Stores,
    slots: int,
    entries: Sequence[tuple[int, QueueEntry]],
    reservations: Sequence[QueueEntry] | None = None,
    state: QueueState | None = None,
) -> dict[str, Eta]:
    """The ETA of each job on a page of the queue and of each pending reservation, by job or
    reservation id. The reservations and the queue's state are read unless the caller has
    them already."""
    context = Context(stores, slots, queue_state=state)
    queued = [entry for _, entry in entries]
    first = entries[0][0] if entries else 1
    if reservations is None:
        reservations = stores.queue.reservations()
    return estimate_order(context, reservations, queued, unread=first - 1)


def entry_eta(
    stores: Stores,
    slots: int,
    entry: QueueEntry,
    position: int | None = None,
    budget: BudgetWait | None = None,
) -> Eta:
    """One queued job's or pending reservation's ETA: the head up to it is read (READ_AHEAD
    places at most; the rest ahead is counted and drawn from the head's mix). `position`: the
    job's place, when the caller counted it already; `budget`: the spent budgets holding it."""
    context = Context(stores, slots, budget=budget)
    reservations = stores.queue.reservations()
    if entry.kind == UnitKind.RESERVATION:
        ids = [reservation.job_id for reservation in reservations]
        ahead = reservations[: ids.index(entry.job_id) + 1] if entry.job_id in ids else [entry]
        return estimate_order(context, ahead, [])[entry.job_id]
    if position is None:
        position = stores.queue.position_of(QueueRank.parse(entry.rank))
    head, _ = stores.queue.page(min(position, READ_AHEAD), None)
    read = [queued for _, queued in head if queued.job_id != entry.job_id]
    unread = max(0, position - 1 - len(read))
    return estimate_order(context, reservations, [*read, entry], unread, split=len(read))[
        entry.job_id
    ]


def estimate_order(
    context: Context,
    reservations: Sequence[QueueEntry],
    queued: Sequence[QueueEntry],
    unread: int = 0,
    split: int = 0,
) -> dict[str, Eta]:
    """ETAs for the reservations, then `queued` in order, with `unread` jobs not read between
    the first `split` of `queued` and the rest."""
    first = _units(context, reservations)
    before, after = _units(context, queued[:split]), _units(context, queued[split:])
    segments: list[Segment] = [[u.waiting for u in first], [u.waiting for u in before]]
    if unread:
        segments.append(Ahead(unread, _mix(context, queued)))
    segments.append([u.waiting for u in after])
    units = [*first, *before, *after]
    state = context.state
    if state.paused:
        return _each_job(units, lambda _: Eta(EtaState.PAUSED, reason=_paused(state)))
    keyed = any(unit.waiting.keys for unit in units)
    estimates = estimate(context.slots, running_units(context, keyed), segments)
    return _each_job(
        units, lambda unit: _eta_of(context, unit, estimates[unit.waiting.unit_id], unread)
    )


def running_eta(stores: Stores, unit_id: str, template_id: str, started_at: datetime) -> Eta:
    """A started unit's finish, from how long it has run against its template's history."""
    context = Context(stores, 1)
    durations = context.stats.of(template_id)
    elapsed = max(0.0, context.now - started_at.timestamp())
    estimated = estimate(1, [RunningUnit(unit_id, elapsed, durations)], [])[unit_id]
    return Eta(
        EtaState.RUNNING,
        start_p50=started_at,
        start_p90=started_at,
        finish_p50=context.at(estimated.finish_p50),
        finish_p90=context.at(estimated.finish_p90),
        basis=durations.basis,
    )


def _paused(state: QueueState) -> str:
    return "the queue is paused" + (f": {state.note}" if state.note else "")


def held_eta(hold: Hold | None) -> Eta:
    """A held job's: no start until it is released; the reason says who held it and why."""
    reason = "held: it starts only once released"
    if hold is not None and (hold.held_by_name or hold.held_by):
        reason += f" (held by {hold.held_by_name or hold.held_by}"
        reason += f": {hold.note})" if hold.note else ")"
    elif hold is not None and hold.note:
        reason += f" ({hold.note})"
    return Eta(EtaState.HELD, reason=reason)


def _eta_of(context: Context, unit: Unit, estimated: Estimate, unread: int) -> Eta:
    if unit.waiting.held:
        return held_eta(unit.hold)
    if estimated.start_p50 is None:
        reason = "it waits behind a held job of its group"
        return Eta(EtaState.UNKNOWN, reason=reason)
    return Eta(
        EtaState.BUDGET if unit.budget else EtaState.ESTIMATED,
        start_p50=context.at(estimated.start_p50),
        start_p90=context.at(estimated.start_p90),
        finish_p50=context.at(estimated.finish_p50),
        finish_p90=context.at(estimated.finish_p90),
        reason=unit.budget.reason if unit.budget else None,
        basis=unit.basis,
        unread_ahead=unread,
    )


def _each_job(units: Sequence[Unit], eta: Callable[[Unit], Eta]) -> dict[str, Eta]:
    return {job_id: eta(unit) for unit in units for job_id in unit.ids}


def _units(context: Context, entries: Sequence[QueueEntry]) -> list[Unit]:
    """The dispatch units of these places: a parallel group's jobs are one unit (they start
    together under one slot), the rest one each."""
    units: list[Unit] = []
    groups: dict[str, int] = {}
    for entry in entries:
        durations = context.stats.of(entry.template_id)
        parallel = entry.group_mode == GroupMode.PARALLEL and entry.group_id
        if parallel and entry.group_id in groups:
            index = groups[entry.group_id]
            unit = units[index]
            # The first place's hold stands for the group's: a group is held as a whole.
            waiting = replace(unit.waiting, parts=(*unit.waiting.parts, durations))
            units[index] = Unit(waiting, (*unit.ids, entry.job_id), unit.basis, unit.hold)
            continue
        if parallel and entry.group_id:
            groups[entry.group_id] = len(units)
        budget = _budget_of(context, entry)
        waiting = _waiting(context, entry, durations, budget)
        units.append(Unit(waiting, (entry.job_id,), durations.basis, entry.hold, budget))
    return units


def _budget_of(context: Context, entry: QueueEntry) -> BudgetWait | None:
    """The spent budgets that hold this place back: the claim holds a job (not a direct call,
    nor a parallel group's job) to its template's and its schedule's."""
    if context.budget is None or entry.kind == UnitKind.RESERVATION:
        return None
    if entry.group_mode == GroupMode.PARALLEL:
        return None
    return context.budget.of(entry.template_id, entry.schedule_id)


def _waiting(
    context: Context, entry: QueueEntry, durations: Durations, budget: BudgetWait | None
) -> WaitingUnit:
    parallel = entry.group_mode == GroupMode.PARALLEL and entry.group_id
    sequential = entry.group_mode == GroupMode.SEQUENTIAL and entry.group_id
    ready = max(entry.not_before or 0.0, budget.resumes_at.timestamp() if budget else 0.0)
    return WaitingUnit(
        unit_id=(entry.group_id or entry.job_id) if parallel else entry.job_id,
        parts=(durations,),
        not_before=max(0.0, ready - context.now),
        sequence=entry.group_id if sequential else None,
        held=entry.hold is not None,
        keys=tuple(Key(key.counter, key.limit) for key in entry.concurrency_keys),
    )


def _mix(context: Context, entries: Sequence[QueueEntry]) -> Durations:
    """The durations of the jobs read, pooled: what the unread ones ahead are drawn from."""
    samples = [
        sample
        for template_id in sorted({entry.template_id for entry in entries})
        for sample in context.stats.of(template_id).samples
    ]
    if not samples:
        return context.stats.pooled()
    return Durations(tuple(sorted(samples)), "pooled")


def running_units(context: Context, keyed: bool = False) -> list[RunningUnit]:
    """What holds the slots now, each with how long it has run (one read of the slots, one
    of each holder; and, when a waiting job has concurrency keys, one of each running job for
    the keys it holds)."""
    leases = context.stores.dispatch.slots()
    units = [_slot_unit(context, lease, keyed) for lease in leases]
    return [unit for unit in units if unit is not None]


def _slot_unit(context: Context, lease: SlotLease, keyed: bool) -> RunningUnit | None:
    if not lease.holder:
        return None
    stores = context.stores
    group_id: str | None = None
    keys: tuple[Key, ...] = ()
    if lease.kind == UnitKind.RESERVATION:
        reservation = stores.dispatch.reservation(lease.holder)
        template_id, started_at = reservation.template_id, reservation.started_at
    elif lease.kind == UnitKind.GROUP:
        group = stores.groups.get(lease.holder)
        if not group.job_ids:
            return None
        template_id = stores.jobs.get(group.job_ids[0]).template_id
        started_at = group.started_at
    else:
        run = stores.runs.get(lease.holder)
        template_id, started_at, group_id = run.template_id, run.started_at, run.group_id
        if keyed:
            held = context.stores.jobs.get(run.job_id).concurrency_keys
            keys = tuple(Key(key.counter, key.limit) for key in held)
    started = (started_at or lease.taken_at or datetime.fromtimestamp(context.now, UTC)).timestamp()
    return RunningUnit(
        lease.holder,
        max(0.0, context.now - started),
        context.stats.of(template_id),
        keys=keys,
        group_id=group_id,
    )


def job_eta(
    stores: Stores,
    slots: int,
    job: Job,
    run: JobRun | None,
    position: int | None = None,
    budget: BudgetWait | None = None,
) -> Eta | None:
    """A job's ETA while it waits or runs; None once it ended. `position`: its queue place,
    when the caller counted it already (a job's view does); `budget`: the spent budgets that
    hold it (jobs.budget_waits), which it starts no earlier than."""
    if job.status == JobStatus.RUNNING and run is not None:
        return running_eta(stores, run.run_id, run.template_id, run.started_at)
    if job.status == JobStatus.HELD:
        return held_eta(job.hold)
    if job.status != JobStatus.QUEUED:
        return None
    entry = stores.dispatch.entry(job.job_id)
    return entry_eta(stores, slots, entry, position, budget) if entry is not None else None


def reservation_eta(stores: Stores, slots: int, reservation: Reservation) -> Eta | None:
    if reservation.status == ReservationStatus.RUNNING and reservation.started_at:
        return running_eta(
            stores, reservation.reservation_id, reservation.template_id, reservation.started_at
        )
    if reservation.status != ReservationStatus.PENDING:
        return None
    entry = stores.dispatch.entry(reservation.reservation_id)
    return entry_eta(stores, slots, entry) if entry is not None else None
