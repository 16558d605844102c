"""Queue ranks: sortable strings that hold priority then position.

A rank is `<band><frac>#<job_id>`:
- band: three digits, `101 - priority`, so higher priorities sort first;
- frac: a fractional index (base 62), so a job fits between any two neighbours by writing
  only its own rank, whatever the queue length;
- job_id: breaks the rare tie of two concurrent inserts at the same place; ids are ULIDs,
  so ties resolve in creation order.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from fractional_indexing import generate_key_between, generate_n_keys_between

from jobsched.constants import PRIORITY_IMMEDIATE

BAND_WIDTH = 3
SEPARATOR = "#"  # sorts below every base-62 digit, so a shorter frac sorts first
DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Appends take the time as a fractional index whose integer part starts with "z" (27 digits in
# all): it sorts after every key fractional indexing makes between existing ones, so an append
# needs no read of the band's last job.
APPEND_HEAD = "z"
APPEND_WIDTH = 26
# Pending reservations (direct API calls) sit in the queue's partition ahead of every job: their
# band sorts below "000" (immediate). Job ranks start at JOBS_START.
RESERVATION_BAND = "!!!"
JOBS_START = "0"


def band_of(priority: int) -> str:
    return f"{PRIORITY_IMMEDIATE - priority:0{BAND_WIDTH}d}"


def priority_of_band(band: str) -> int:
    return PRIORITY_IMMEDIATE - int(band)


@dataclass(frozen=True, order=True)
class QueueRank:
    band: str
    frac: str
    job_id: str

    @property
    def key(self) -> str:
        return f"{self.band}{self.frac}{SEPARATOR}{self.job_id}"

    @property
    def priority(self) -> int:
        if self.is_reservation:
            return PRIORITY_IMMEDIATE
        return priority_of_band(self.band)

    @property
    def is_reservation(self) -> bool:
        return self.band == RESERVATION_BAND

    @classmethod
    def parse(cls, key: str) -> "QueueRank":
        head, _, job_id = key.partition(SEPARATOR)
        return cls(head[:BAND_WIDTH], head[BAND_WIDTH:], job_id)


def frac_between(lo: str | None, hi: str | None) -> str:
    """A fractional index strictly between lo and hi, or equal to lo when the two tie."""
    if lo is not None and hi is not None and lo >= hi:
        return lo  # concurrent inserts gave two neighbours one frac; the job id orders them
    key: str = generate_key_between(lo, hi)
    return key


def append_frac(moment: datetime, offset: int = 0) -> str:
    """The frac of a job appended at `moment` (plus `offset` microseconds, for a batch)."""
    micros = int(moment.timestamp() * 1_000_000) + offset
    digits = ""
    while micros:
        micros, digit = divmod(micros, len(DIGITS))
        digits = DIGITS[digit] + digits
    return APPEND_HEAD + digits.rjust(APPEND_WIDTH, "0")


def rank_at_end(band: str, job_id: str, moment: datetime) -> QueueRank:
    """The end of `band` now: later than every job placed there before (up to clock skew)."""
    return QueueRank(band, append_frac(moment), job_id)


def ranks_at_end(band: str, job_ids: list[str], moment: datetime) -> list[QueueRank]:
    """Consecutive places at the end of `band`, in the given order."""
    return [QueueRank(band, append_frac(moment, i), job_id) for i, job_id in enumerate(job_ids)]


def rank_after(last_in_band: QueueRank | None, band: str, job_id: str) -> QueueRank:
    """The rank at the end of `band`, given the band's current last job (if any)."""
    lo = last_in_band.frac if last_in_band and last_in_band.band == band else None
    return QueueRank(band, frac_between(lo, None), job_id)


def ranks_after(last_in_band: QueueRank | None, band: str, job_ids: list[str]) -> list[QueueRank]:
    """Consecutive ranks at the end of `band` for several jobs, in the given order."""
    lo = last_in_band.frac if last_in_band and last_in_band.band == band else None
    fracs: list[str] = generate_n_keys_between(lo, None, len(job_ids))
    return [QueueRank(band, frac, job_id) for frac, job_id in zip(fracs, job_ids, strict=True)]


# Which neighbour the caller placed the job against: the one it lands in front of ("next"),
# or the one it lands behind ("previous").
Anchor = Literal["next", "previous"]


def rank_between(
    own_band: str,
    before: QueueRank | None,
    after: QueueRank | None,
    job_id: str,
    anchor: Anchor,
) -> QueueRank:
    """The rank of a job placed between two neighbours.

    The job keeps its own priority band when that band fits between the neighbours; otherwise
    it takes the band of the anchor, the neighbour it was placed against (a move to "position 3"
    or "before X" anchors on the next job, "after X" on the previous one, X).
    """
    fits = (before is None or before.band <= own_band) and (after is None or own_band <= after.band)
    if fits:
        band = own_band
    elif (anchor == "next" and after is not None) or before is None:
        assert after is not None  # `fits` holds when both neighbours are None
        band = after.band
    else:
        band = before.band
    lo = before.frac if before and before.band == band else None
    hi = after.frac if after and after.band == band else None
    return QueueRank(band, frac_between(lo, hi), job_id)
