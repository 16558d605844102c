"""Ports: the Protocols the core is written against, and `Stores`, the bundle a use case gets.

`stores` holds the entity stores, `content` the stories and cards, `dispatch` the slots and
atomic steps with the edges that act on the world, `schedules` the firing side of schedules,
`metrics` where counts and timings go. Adapters implement them; edges compose them (one
composition root per deployment shape: jobsched/adapters/aws/wiring.py, local/runtime.py).
"""

from dataclasses import dataclass, field, replace

from jobsched.models.idempotency import IdempotencyClaim, IdempotencyRecord
from jobsched.ports.artifacts import ArtifactReader, NoArtifacts
from jobsched.ports.content import ContentStore
from jobsched.ports.dispatch import (
    DispatchStore,
    GroupNotifier,
    Kicker,
    Launcher,
    LogReader,
    NoGate,
    NoIndexer,
    NoKicker,
    NoLauncher,
    NoLogs,
    NoNotifier,
    NoProbe,
    NoTaskStopper,
    OutputGate,
    OutputIndexer,
    RunProbe,
    TaskStopper,
)
from jobsched.ports.metrics import MetricsSink, NoMetrics
from jobsched.ports.schedules import NoScheduleSync, ScheduleSync
from jobsched.ports.stores import (
    Direction,
    GroupStore,
    JobFilter,
    JobStore,
    KeyStore,
    NewJobs,
    Page,
    QueuePage,
    QueueStore,
    RunFilter,
    RunStore,
    ScheduleStore,
    TemplateStore,
    every_item,
)

__all__ = [
    "ArtifactReader",
    "ContentStore",
    "Direction",
    "DispatchStore",
    "GroupNotifier",
    "GroupStore",
    "IdempotencyClaim",
    "IdempotencyRecord",
    "JobFilter",
    "JobStore",
    "KeyStore",
    "Kicker",
    "Launcher",
    "LogReader",
    "MetricsSink",
    "NewJobs",
    "NoArtifacts",
    "NoGate",
    "NoIndexer",
    "NoKicker",
    "NoLauncher",
    "NoLogs",
    "NoMetrics",
    "NoNotifier",
    "NoProbe",
    "NoScheduleSync",
    "NoTaskStopper",
    "OutputGate",
    "OutputIndexer",
    "Page",
    "QueuePage",
    "QueueStore",
    "RunFilter",
    "RunProbe",
    "RunStore",
    "ScheduleStore",
    "ScheduleSync",
    "Stores",
    "TaskStopper",
    "TemplateStore",
    "every_item",
]


@dataclass(frozen=True)
class Stores:
    """The ports a use case may need: the stores, the edges of dispatch that act on the world
    (waking the dispatcher, stopping a task, reading logs and artifacts, telling a group's
    webhook that it ended), and the one that makes the firing side of schedules (EventBridge
    Scheduler) match our schedule records."""

    templates: TemplateStore
    jobs: JobStore
    queue: QueueStore
    runs: RunStore
    groups: GroupStore
    keys: KeyStore
    dispatch: DispatchStore
    schedules: ScheduleStore
    content: ContentStore
    kicker: Kicker = field(default_factory=NoKicker)
    tasks: TaskStopper = field(default_factory=NoTaskStopper)
    logs: LogReader = field(default_factory=NoLogs)
    artifacts: ArtifactReader = field(default_factory=NoArtifacts)
    schedule_sync: ScheduleSync = field(default_factory=NoScheduleSync)
    notifier: GroupNotifier = field(default_factory=NoNotifier)
    launcher: Launcher = field(default_factory=NoLauncher)
    probe: RunProbe = field(default_factory=NoProbe)
    indexer: OutputIndexer = field(default_factory=NoIndexer)
    gate: OutputGate = field(default_factory=NoGate)
    metrics: MetricsSink = field(default_factory=NoMetrics)

    def with_edges(
        self,
        kicker: Kicker,
        tasks: TaskStopper,
        logs: LogReader | None = None,
        schedule_sync: ScheduleSync | None = None,
    ) -> "Stores":
        return replace(
            self,
            kicker=kicker,
            tasks=tasks,
            logs=logs or self.logs,
            schedule_sync=schedule_sync or self.schedule_sync,
        )

    def with_launcher(self, launcher: Launcher) -> "Stores":
        return replace(self, launcher=launcher)

    def with_probe(self, probe: RunProbe) -> "Stores":
        return replace(self, probe=probe)

    def with_indexer(self, indexer: OutputIndexer) -> "Stores":
        return replace(self, indexer=indexer)

    def with_gate(self, gate: OutputGate) -> "Stores":
        return replace(self, gate=gate)

    def with_notifier(self, notifier: GroupNotifier) -> "Stores":
        return replace(self, notifier=notifier)

    def with_schedule_sync(self, schedule_sync: ScheduleSync) -> "Stores":
        return replace(self, schedule_sync=schedule_sync)

    def with_artifacts(self, artifacts: ArtifactReader) -> "Stores":
        return replace(self, artifacts=artifacts)

    def with_metrics(self, metrics: MetricsSink) -> "Stores":
        return replace(self, metrics=metrics)
