"""ETAs as people read them: `in 4m` for a p50, or why there is none (held, paused...)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from local.cli.output import ago

if TYPE_CHECKING:
    from jobsched_client.models import EtaOut

# What an ETA without a time says instead (EtaOut.state).
NO_TIME = {"paused": "paused", "held": "held", "unknown": "unknown"}


def soon(moment: datetime | None, now: datetime | None = None) -> str:
    """`in 4m`; a p50 already past (the replay's start is late) reads `now`, not `3s ago`."""
    if moment is None:
        return "-"
    if moment <= (now or datetime.now(UTC)):
        return "now"
    return ago(moment, now)


def start_of(eta: EtaOut | None) -> str:
    if eta is None:
        return "-"
    if eta.state == "running":
        return "running"
    if eta.start_p50 is None:
        return NO_TIME.get(eta.state, "-")
    return soon(eta.start_p50)


def finish_of(eta: EtaOut | None) -> str:
    if eta is None:
        return "-"
    if eta.finish_p50 is None:
        return NO_TIME.get(eta.state, "-")
    return soon(eta.finish_p50)


def phrase(eta: EtaOut | None) -> str | None:
    """`starts ~in 4m`, `finishes ~in 2m`, `no estimate: the queue is paused`; None without
    an ETA (the job ended)."""
    if eta is None:
        return None
    if eta.state == "running":
        return f"finishes ~{soon(eta.finish_p50)}" if eta.finish_p50 else "running"
    if eta.state == "budget" and eta.start_p50 is not None:
        return f"starts ~{soon(eta.start_p50)}, once a spent budget turns"
    if eta.start_p50 is not None:
        return f"starts ~{soon(eta.start_p50)}"
    return f"no estimate: {eta.reason or eta.state}"


def spans(eta: EtaOut | None) -> str:
    """Both estimates, p50 and p90, for a job's details."""
    if eta is None:
        return "-"
    if eta.start_p50 is None and eta.finish_p50 is None:
        return eta.reason or eta.state  # the reason names the state already
    parts = []
    if eta.state != "running" and eta.start_p50 is not None:
        parts.append(f"start {soon(eta.start_p50)} (p90 {soon(eta.start_p90)})")
    if eta.finish_p50 is not None:
        parts.append(f"finish {soon(eta.finish_p50)} (p90 {soon(eta.finish_p90)})")
    basis = f"; from {eta.basis} durations" if eta.basis else ""
    return ", ".join(parts) + basis
