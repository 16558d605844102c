"""What a workload receives besides its params, and how it reports bad params."""

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worker.events import EventLog
from worker.providers import OfflineProvider, Provider
from worker.usage import MeteredProvider, UsageMeter


class InvalidParams(ValueError):  # noqa: N818 (reads as what it is, like ValueError)
    """Raised by a workload whose params cannot be used; the worker exits 2, not 1."""


@dataclass(frozen=True)
class WorkloadContext:
    output_dir: Path  # everything written here is kept as an artifact
    stop: threading.Event  # set on SIGTERM/SIGINT or when the run is ended elsewhere: poll it
    events: EventLog
    unit_id: str = ""  # the run (or reservation) id: a default seed that a rerun repeats
    provider: Provider = field(default_factory=OfflineProvider)  # JOBSCHED_MODEL_PROVIDER's
    usage: UsageMeter = field(default_factory=UsageMeter)  # what the provider's calls used

    def __post_init__(self) -> None:
        # Metered here, not by whoever builds the context: no workload can call a model uncounted.
        metered = MeteredProvider(self.provider, self.usage, self.events)
        object.__setattr__(self, "provider", metered)  # frozen: set once, at construction

    def log(self, event: str, /, **fields: Any) -> None:
        """Log an event line (with the unit's ids) on the worker's stdout."""
        self.events.emit(event, **fields)
