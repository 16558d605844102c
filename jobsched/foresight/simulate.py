"""When will each unit start and finish: a Monte Carlo replay of the dispatcher over the queue.

Pure: the caller says what runs (with its elapsed time), what waits in dispatch order, and each
unit's duration distribution; every trial draws the durations and replays the dispatcher's own
rule on the slots (the first eligible unit in order takes a free slot; a unit is eligible once
its retry's backoff is over, its sequential group's previous job ended and its concurrency keys
have room). The quantiles over the trials are the estimates. Trials are seeded, so the same
queue gets the same answer.
"""

import hashlib
import heapq
import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

TRIALS = 200
DIRECT_DRAWS = 30  # beyond this many unread jobs ahead, their total is drawn as one normal


@dataclass(frozen=True)
class Durations:
    """A template's recent run durations in seconds (sorted), and where they came from."""

    samples: tuple[float, ...]
    basis: str  # "history": the template's own runs; "pooled": all templates'; "default"

    def __post_init__(self) -> None:
        if not self.samples:
            raise ValueError("a duration distribution needs at least one sample")

    def draw(self, u: float) -> float:
        """The sample at `u` (uniform in [0, 1))."""
        return self.samples[min(len(self.samples) - 1, int(u * len(self.samples)))]

    def replica(self, rng: random.Random) -> "Durations":
        """The history resampled (a bootstrap): each trial draws from its own replica, so the
        estimates widen by what fifty runs cannot say of the next ones."""
        return Durations(tuple(rng.choices(self.samples, k=len(self.samples))), self.basis)

    def remaining(self, u: float, elapsed: float) -> float:
        """What is left of a run that has lasted `elapsed`: a duration drawn among the runs that
        lasted longer. A run past all of its history is taken to be near its end: a tenth of its
        elapsed time, at most (a long run's own age is the only evidence left)."""
        longer = [d for d in self.samples if d > elapsed]
        if longer:
            return longer[min(len(longer) - 1, int(u * len(longer)))] - elapsed
        return 0.1 * u * elapsed

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples)

    @property
    def stdev(self) -> float:
        return statistics.pstdev(self.samples)


@dataclass(frozen=True)
class Key:
    """A concurrency key's value and its limit: at most `limit` units holding it run at once."""

    value: str
    limit: int


@dataclass(frozen=True)
class RunningUnit:
    unit_id: str
    elapsed: float
    durations: Durations
    keys: tuple[Key, ...] = ()
    group_id: str | None = None  # a sequential group's job: its next job waits for its end


@dataclass(frozen=True)
class WaitingUnit:
    """A queued unit. A parallel group is one unit of several jobs (`parts`), which ends with
    its longest job."""

    unit_id: str
    parts: tuple[Durations, ...]
    not_before: float = 0.0  # seconds from now: a retry's backoff
    keys: tuple[Key, ...] = ()
    sequence: str | None = None  # a sequential group: its jobs start one after the other
    held: bool = False


@dataclass(frozen=True)
class Ahead:
    """Queued jobs ahead of the ones read, known by their count alone: drawn from `durations`."""

    count: int
    durations: Durations


@dataclass(frozen=True)
class Estimate:
    """Seconds from now. None where the unit does not start within the replay (held, or
    waiting on something that does not end)."""

    start_p50: float | None
    start_p90: float | None
    finish_p50: float | None
    finish_p90: float | None


@dataclass
class _Trial:
    """One replay. Each unit's draw is keyed by the trial and the unit's id, not by the order of
    draws, so two orders of the same queue (a preview's now and after) draw the same duration
    for the same job: what differs between their ETAs is the change."""

    seed: int
    index: int
    slots: list[float]  # a heap of the times each slot frees up
    replicas: dict[int, Durations] = field(default_factory=dict)
    key_ends: dict[str, list[float]] = field(default_factory=dict)
    sequence_ready: dict[str, float] = field(default_factory=dict)
    starts: dict[str, float] = field(default_factory=dict)
    finishes: dict[str, float] = field(default_factory=dict)

    def key_room_at(self, unit: WaitingUnit, t: float) -> float:
        """The earliest time from `t` on at which every key of `unit` has room."""
        at, moved = t, bool(unit.keys)
        while moved:  # waiting for one key may meet another's next holder
            moved = False
            for key in unit.keys:
                ends = sorted(end for end in self.key_ends.get(key.value, []) if end > at)
                if len(ends) >= key.limit:
                    at, moved = ends[len(ends) - key.limit], True
        return at

    def durations(self, durations: Durations) -> Durations:
        """This trial's replica of `durations` (by identity: one per distribution)."""
        key = hash(durations.samples)  # floats hash alike in every process
        replica = self.replicas.get(key)
        if replica is None:
            rng = random.Random(self._hashed(f"replica:{key}"))  # noqa: S311 (not a secret)
            replica = self.replicas[key] = durations.replica(rng)
        return replica

    def u(self, key: str) -> float:
        """A uniform draw in [0, 1) for `key` in this trial."""
        return self._hashed(key) / 2**64

    def _hashed(self, key: str) -> int:
        digest = hashlib.blake2b(f"{self.seed}:{self.index}:{key}".encode(), digest_size=8)
        return int.from_bytes(digest.digest(), "big")

    def hold_keys(self, keys: Sequence[Key], until: float) -> None:
        for key in keys:
            self.key_ends.setdefault(key.value, []).append(until)


Segment = Sequence[WaitingUnit] | Ahead


def estimate(
    slots: int,
    running: Sequence[RunningUnit],
    waiting: Sequence[Segment],
    trials: int = TRIALS,
    seed: int = 0,
) -> dict[str, Estimate]:
    """Estimates for every running and waiting unit, by unit id. `waiting` is the queue in
    dispatch order, in segments: units read, or a count of jobs between them not read (each
    segment is dispatched before the next; within one, a blocked unit is passed over)."""
    results = [_replay(_Trial(seed, index, []), slots, running, waiting) for index in range(trials)]
    ids = [unit.unit_id for unit in running]
    ids += [unit.unit_id for part in waiting if not isinstance(part, Ahead) for unit in part]
    return {unit_id: _quantiles(results, unit_id) for unit_id in ids}


def _replay(
    trial: _Trial, slots: int, running: Sequence[RunningUnit], waiting: Sequence[Segment]
) -> _Trial:
    _start(trial, slots, running)
    for segment in waiting:
        if not trial.slots:
            break
        if isinstance(segment, Ahead):
            if segment.count:
                _pass_ahead(trial, segment)
        else:
            _dispatch(trial, segment)
    return trial


def _start(trial: _Trial, slots: int, running: Sequence[RunningUnit]) -> None:
    for unit in running:
        end = trial.durations(unit.durations).remaining(trial.u(unit.unit_id), unit.elapsed)
        trial.slots.append(end)
        trial.starts[unit.unit_id] = -unit.elapsed
        trial.finishes[unit.unit_id] = end
        trial.hold_keys(unit.keys, end)
        if unit.group_id:
            trial.sequence_ready[unit.group_id] = end
    trial.slots += [0.0] * max(0, slots - len(trial.slots))
    heapq.heapify(trial.slots)


def _dispatch(trial: _Trial, waiting: Sequence[WaitingUnit]) -> None:
    pending = _unheld(waiting)
    while pending:
        free = heapq.heappop(trial.slots)
        chosen, wake = _first_eligible(trial, pending, free)
        if chosen is None:
            if wake is None:
                heapq.heappush(trial.slots, free)
                return  # what is left waits on units that never start here
            heapq.heappush(trial.slots, wake)  # the same slot, free again once one is ready
            continue
        pending.remove(chosen)
        end = free + max(
            trial.durations(part).draw(trial.u(f"{chosen.unit_id}:{index}"))
            for index, part in enumerate(chosen.parts)
        )
        trial.starts[chosen.unit_id] = free
        trial.finishes[chosen.unit_id] = end
        trial.hold_keys(chosen.keys, end)
        if chosen.sequence:
            trial.sequence_ready[chosen.sequence] = end
        heapq.heappush(trial.slots, end)


def _unheld(waiting: Sequence[WaitingUnit]) -> list[WaitingUnit]:
    """The units that may start: a held job keeps its place, so the later jobs of its
    sequential group wait behind it too."""
    stuck: set[str] = set()
    pending = []
    for unit in waiting:
        if unit.held or (unit.sequence and unit.sequence in stuck):
            if unit.sequence:
                stuck.add(unit.sequence)
            continue
        pending.append(unit)
    return pending


def _pass_ahead(trial: _Trial, ahead: Ahead) -> None:
    """Run the unread jobs ahead through the slots: one by one when few, else their total work
    drawn at once (a sum of many durations is near normal) and spread over the slots."""
    if ahead.count <= DIRECT_DRAWS:
        for index in range(ahead.count):
            free = heapq.heappop(trial.slots)
            draw = trial.durations(ahead.durations).draw(trial.u(f"ahead:{index}"))
            heapq.heappush(trial.slots, free + draw)
        return
    replica = trial.durations(ahead.durations)
    mean = ahead.count * replica.mean
    spread = math.sqrt(ahead.count) * replica.stdev
    normal = statistics.NormalDist(mean, spread) if spread > 0 else None
    total = normal.inv_cdf(min(max(trial.u("ahead"), 1e-9), 1 - 1e-9)) if normal else mean
    share = max(0.0, total) / len(trial.slots)
    trial.slots = [free + share for free in trial.slots]
    heapq.heapify(trial.slots)


def _first_eligible(
    trial: _Trial, pending: list[WaitingUnit], free: float
) -> tuple[WaitingUnit | None, float | None]:
    """The first unit that can start at `free`, else None and the earliest time one could."""
    wake: float | None = None
    seen: set[str] = set()
    for unit in pending:
        if unit.sequence:
            if unit.sequence in seen:
                continue  # its group's earlier job waits still: it runs first
            seen.add(unit.sequence)
        ready = max(unit.not_before, trial.sequence_ready.get(unit.sequence or "", 0.0))
        ready = trial.key_room_at(unit, max(free, ready))
        if ready <= free:
            return unit, None
        wake = ready if wake is None else min(wake, ready)
    return None, wake


def _quantiles(results: Sequence[_Trial], unit_id: str) -> Estimate:
    starts = [trial.starts[unit_id] for trial in results if unit_id in trial.starts]
    finishes = [trial.finishes[unit_id] for trial in results if unit_id in trial.finishes]
    if len(starts) < len(results):  # it does not start in every replay: no honest estimate
        return Estimate(None, None, None, None)
    return Estimate(
        start_p50=_quantile(starts, 0.5),
        start_p90=_quantile(starts, 0.9),
        finish_p50=_quantile(finishes, 0.5),
        finish_p90=_quantile(finishes, 0.9),
    )


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return ordered[index]
